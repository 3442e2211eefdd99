"""Online estimators: fed synthetic event streams, they converge to the truth and track drift.

Tolerances are sized from the sample (a few standard errors of the
effective sample behind the estimate), not numbers that happened to pass.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dialer.core.estimators import (
    DecayedMoments,
    DecayedRatio,
    EstimatorConfig,
    FloorEstimates,
    HourProfile,
)
from dialer.core import events
from dialer.core.events import FailReason
from dialer.errors import ConfigError


def feed_dials(est: FloorEstimates, rng, *, start: float, end: float, rate: float, live, ring_live, ring_other, call0=0):
    """Dials at `rate` per second from `start` to `end`; `live(t)` the chance of a live answer.

    Returns the next call id. Outcomes are fed in time order.
    """
    t = start
    pending = []
    call = call0
    while t < end:
        est.observe(events.DialPlaced(time=t, call=call, lead=call))
        if rng.random() < live(t):
            pending.append((t + ring_live(rng), call, True))
        else:
            pending.append((t + ring_other(rng), call, False))
        call += 1
        t += rng.exponential(1.0 / rate)
        pending.sort()
        while pending and pending[0][0] <= t:
            te, c, human = pending.pop(0)
            _outcome(est, te, c, human)
    for te, c, human in sorted(pending):
        _outcome(est, te, c, human)
    return call


def _outcome(est, t, call, human):
    if human:
        est.observe(events.CallAnswered(time=t, call=call, human=True))
        est.observe(events.CallAbandoned(time=t + 1.0, call=call))
    else:
        est.observe(events.CallFailed(time=t, call=call, reason=FailReason.NO_ANSWER))


def test_priors_before_any_event():
    est = FloorEstimates(EstimatorConfig(live_prob=0.3, ring_time=25.0, handle_time=240.0, wrap_share=0.25))
    assert est.live_prob(0.0) == pytest.approx(0.3)
    assert est.ring_time(0.0) == pytest.approx(25.0)
    assert est.talk_time(0.0) == pytest.approx(180.0)
    assert est.wrap_time(0.0) == pytest.approx(60.0)
    assert est.handle_time(0.0) == pytest.approx(240.0)
    assert est.live_weight(0.0) == 0.0


def test_live_prob_converges_to_the_truth():
    rng = np.random.default_rng(1)
    est = FloorEstimates(EstimatorConfig(live_prob=0.5, half_life=1800.0))
    feed_dials(
        est, rng, start=0.0, end=7200.0, rate=0.5, live=lambda t: 0.2,
        ring_live=lambda r: r.lognormal(math.log(15.0), 0.3), ring_other=lambda r: 30.0,
    )
    t = est.last_time
    n = est.live_weight(t) + est.config.prior_weight
    se = math.sqrt(0.2 * 0.8 / n)
    # the prior (0.5 for 30 pseudo-dials) pulls by prior_weight * 0.3 / n; allow it plus 4 standard errors
    assert abs(est.live_prob(t) - 0.2) < 4 * se + 30 * 0.3 / n
    assert est.ring_live(t) == pytest.approx(15.0 * math.exp(0.045), rel=0.05)
    assert est.ring_other(t) == pytest.approx(30.0, rel=0.05)
    p = est.live_prob(t)
    assert est.ring_time(t) == pytest.approx(p * est.ring_live(t) + (1 - p) * est.ring_other(t))


def test_step_change_is_tracked_within_an_hour():
    """The answer rate halves at t = 2 h; one hour later the estimate is within 15 % of the new rate.

    With a half-life of 20 minutes, an hour is three half-lives: 1/8 of the
    old level is left, 12.5 % of the new rate, plus the noise of ~2,600
    effective dials (sd about 2 % of the rate at 1 dial/s).
    """
    rng = np.random.default_rng(7)
    est = FloorEstimates(EstimatorConfig(live_prob=0.25, half_life=1200.0, hour_profile=False))
    live = lambda t: 0.3 if t < 7200.0 else 0.15  # noqa: E731
    call = feed_dials(est, rng, start=0.0, end=7200.0, rate=1.0, live=live,
                      ring_live=lambda r: 15.0, ring_other=lambda r: 20.0)
    assert est.live_prob(7200.0) == pytest.approx(0.3, rel=0.1)
    feed_dials(est, rng, start=7200.0, end=3 * 3600.0, rate=1.0, live=live,
               ring_live=lambda r: 15.0, ring_other=lambda r: 20.0, call0=call)
    assert abs(est.live_prob(3 * 3600.0) / 0.15 - 1.0) < 0.15 + 3 * 0.02


def test_decayed_ratio_is_exact_on_a_deterministic_stream():
    """One dial a second, every tenth live, then every twentieth: the half-life arithmetic, exactly."""
    r = DecayedRatio(prior=0.1, prior_weight=1e-9, half_life=600.0)
    for i in range(36000):
        r.add(float(i), 1.0 if i % 10 == 0 else 0.0)
    assert r.value(35999.0) == pytest.approx(0.1, rel=0.02)
    for i in range(36000, 36000 + 1800):  # three half-lives at 0.05
        r.add(float(i), 1.0 if i % 20 == 0 else 0.0)
    # 1/8 of the weight is the old 0.1, 7/8 the new 0.05
    assert r.value(36000 + 1799.0) == pytest.approx(0.05 * 7 / 8 + 0.1 / 8, rel=0.03)


def test_estimate_drifts_back_to_the_prior_without_data():
    r = DecayedRatio(prior=0.25, prior_weight=30.0, half_life=1200.0)
    for i in range(1000):
        r.add(float(i), 0.0)
    assert r.value(1000.0) < 0.05
    assert r.value(1000.0 + 20 * 1200.0) == pytest.approx(0.25, abs=1e-3)


def test_decayed_moments_mean_and_variance():
    rng = np.random.default_rng(3)
    m = DecayedMoments(prior_mean=100.0, prior_weight=1.0, half_life=1e9)
    xs = rng.gamma(4.0, 50.0, 20000)
    for i, x in enumerate(xs):
        m.add(float(i), float(x))
    se = math.sqrt(4 * 50.0**2 / len(xs))
    assert abs(m.mean(len(xs)) - 200.0) < 4 * se
    assert m.variance(len(xs)) == pytest.approx(4 * 50.0**2, rel=0.05)


def test_talk_wrap_and_free_prob_from_agent_events():
    rng = np.random.default_rng(11)
    est = FloorEstimates(EstimatorConfig(handle_time=100.0, half_life=1e7))
    t = 0.0
    talk_k, talk_theta, wrap_mean = 3.0, 50.0, 30.0
    for call in range(4000):
        agent = call % 10
        est.observe(events.DialPlaced(time=t, call=call, lead=call))
        est.observe(events.CallAnswered(time=t + 10.0, call=call, human=True))
        est.observe(events.CallConnected(time=t + 10.0, call=call, agent=agent))
        talk = rng.gamma(talk_k, talk_theta)
        wrap = rng.exponential(wrap_mean)
        est.observe(events.CallEnded(time=t + 10.0 + talk, call=call))
        est.observe(events.AgentReady(time=t + 10.0 + talk + wrap, agent=agent))
        t += 10.0 + talk + wrap + 1.0
    assert est.talk_time(t) == pytest.approx(150.0, rel=0.03)
    assert est.wrap_time(t) == pytest.approx(30.0, rel=0.06)
    assert est.handle_time(t) == pytest.approx(180.0, rel=0.03)
    # the gamma fit: a fresh handle is rarely over in 10 s, an old one soon is
    assert est.free_prob(0.0, 10.0, t) < 0.02
    assert est.free_prob(400.0, 60.0, t) > est.free_prob(100.0, 60.0, t)
    assert est.free_prob(50.0, 1e6, t) == pytest.approx(1.0)
    assert est.free_prob(50.0, 0.0, t) == 0.0
    # two agents busy now: the sum of their chances
    est.observe(events.DialPlaced(time=t, call="x", lead="x"))
    est.observe(events.CallAnswered(time=t, call="x", human=True))
    est.observe(events.CallConnected(time=t, call="x", agent="ann"))
    est.observe(events.DialPlaced(time=t, call="y", lead="y"))
    est.observe(events.CallAnswered(time=t, call="y", human=True))
    est.observe(events.CallConnected(time=t, call="y", agent="bob"))
    now = t + 120.0
    assert est.expected_free_within(now, 30.0) == pytest.approx(2 * est.free_prob(120.0, 30.0, now))


def test_hour_profile_learns_over_days():
    """Evening hours answer twice as well as the rest; from day two the estimate knows it at once."""
    prof = HourProfile(shrink=10.0)
    for day in range(2):
        for h in range(9, 21):
            p = 0.4 if h >= 17 else 0.2
            for i in range(1000):
                prof.add(day * 86400.0 + h * 3600.0 + i, 1.0 if (i % 100) < p * 100 else 0.0)
    assert prof.factor(18) / prof.factor(10) == pytest.approx(2.0, rel=0.03)
    assert prof.factor(3) == pytest.approx(1.0)


def test_hour_aware_estimate_jumps_at_a_known_hour():
    rng = np.random.default_rng(5)
    est = FloorEstimates(EstimatorConfig(live_prob=0.25, half_life=1500.0))
    live = lambda t: 0.4 if (t % 86400.0) >= 17 * 3600.0 else 0.2  # noqa: E731
    call = 0
    for day in range(3):
        base = day * 86400.0
        call = feed_dials(est, rng, start=base + 9 * 3600.0, end=base + 21 * 3600.0, rate=0.5, live=live,
                          ring_live=lambda r: 15.0, ring_other=lambda r: 25.0, call0=call)
    # day four, 16:59: the level has been learnt at 0.2; at 17:00 the profile doubles it at once
    base = 3 * 86400.0
    call = feed_dials(est, rng, start=base + 9 * 3600.0, end=base + 17 * 3600.0 - 60.0, rate=0.5, live=live,
                      ring_live=lambda r: 15.0, ring_other=lambda r: 25.0, call0=call)
    before = est.live_prob(base + 17 * 3600.0 - 30.0)
    after = est.live_prob(base + 17 * 3600.0 + 1.0)
    assert before == pytest.approx(0.2, rel=0.15)
    assert after / before == pytest.approx(2.0, rel=0.1)


def _step_stream(change_z: float, minutes_after: float) -> FloorEstimates:
    """Two hours at 12 % live answers, then 30 % (unannounced) for `minutes_after` minutes; 0.7 dials a second."""
    rng = np.random.default_rng(21)
    est = FloorEstimates(EstimatorConfig(live_prob=0.25, half_life=1500.0, hour_profile=False, change_z=change_z))
    live = lambda t: 0.12 if t < 7200.0 else 0.30  # noqa: E731
    feed_dials(est, rng, start=0.0, end=7200.0 + 60.0 * minutes_after, rate=0.7, live=live,
               ring_live=lambda r: 15.0, ring_other=lambda r: 25.0)
    return est


def test_a_step_of_the_live_rate_is_trusted_within_minutes():
    """The long memory (half-life 25 min) follows a step from 12 % to 30 % by 1 - 2^(-t / 25 min): 43 % of
    the step after 20 minutes. The rate of the last minutes (half-life 25 / 6 min, ~250 effective dials)
    is 5 standard errors of their difference off within about 5 minutes, half the step behind it, and the
    long memory restarts from the recent dials: most of the step is in the estimate by 20 minutes."""
    slow = _step_stream(0.0, 20.0)
    fast = _step_stream(5.0, 20.0)
    t = 7200.0 + 1200.0
    covered = lambda est: (est.live_prob(t) - 0.12) / 0.18  # noqa: E731
    # the long memory alone: 0.43 of the step, its noise (~7,000 effective dials) 0.04 of it
    assert slow.changes == 0 and covered(slow) < 0.55
    assert fast.changes >= 1 and covered(fast) > 0.65
    # before the step neither had seen a change
    assert _step_stream(5.0, 0.0).changes == 0


def test_a_steady_live_rate_is_not_taken_for_a_change():
    rng = np.random.default_rng(22)
    est = FloorEstimates(EstimatorConfig(live_prob=0.25, half_life=1500.0, hour_profile=False))
    feed_dials(est, rng, start=0.0, end=8 * 3600.0, rate=0.7, live=lambda t: 0.25,
               ring_live=lambda r: 15.0, ring_other=lambda r: 25.0)
    assert est.changes == 0
    assert est.live_prob(8 * 3600.0) == pytest.approx(0.25, rel=0.12)


@pytest.mark.parametrize(
    "field, value",
    [("live_prob", 1.0), ("live_prob", 0.0), ("ring_time", -1.0), ("half_life", 0), ("wrap_share", 1.0), ("prior_weight", True),
     ("change_z", -1.0)],
)
def test_config_names_a_bad_field(field, value):
    with pytest.raises(ConfigError, match=f"^{field} must be"):
        EstimatorConfig(**{field: value})
