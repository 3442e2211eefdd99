"""The simulator against probability theory: outcome frequencies, renewal-reward, FixedRatio.

Every band is a confidence interval computed from the sample at hand (exact
binomial intervals, or a t-interval on a ratio estimator across seeds), with a
Bonferroni correction when one test makes several checks. Seeds are fixed, so
a run is reproducible; the levels say how rarely an honest simulator would
fail with some other seed.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
from scipy import stats

from dialer.core.events import CallAbandoned, CallAnswered, DialPlaced
from dialer.sim import conservation_errors, simulate
from dialer.sim.scenario import from_dict

DAY = 86400.0


def binomial_ci(k: int, n: int, level: float) -> tuple[float, float]:
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="exact")
    return ci.low, ci.high


def one_campaign(campaign: dict, agents: list[dict], hours=("09:00", "21:00"), days: int = 1) -> dict:
    return {
        "study": {"name": "theory", "days": days, "hours": list(hours)},
        "agents": agents,
        "campaigns": [{"name": "c", **campaign}],
    }


# --- outcome frequencies ------------------------------------------------------------------

P = {"live": 0.25, "machine": 0.10, "busy": 0.05, "invalid": 0.03}
P_NO_ANSWER = 1.0 - sum(P.values())


def test_outcome_fractions_lie_in_binomial_bands():
    sc = from_dict(
        one_campaign(
            {"mode": "power", "leads": 60_000, "outcomes": dict(P), "retry": {"max_attempts": 1}},
            [{"count": 20}],
        )
    )
    (day,) = simulate(sc, seed=2026).campaigns[0].days
    s = day.stats
    assert conservation_errors(s) == []
    n = s.attempted
    assert n > 10_000
    observed = {
        "live": s.connected,
        "machine": s.machine,
        "busy": s.busy,
        "invalid": s.invalid,
        "no_answer": s.no_answer,
    }
    expected = {**P, "no_answer": P_NO_ANSWER}
    level = 1 - 0.001 / len(expected)  # Bonferroni: the five checks together at 0.999
    for name, k in observed.items():
        low, high = binomial_ci(k, n, level)
        assert low <= expected[name] <= high, (name, k, n, expected[name], (low, high))
    # and jointly: a chi-square goodness-of-fit test on the five counts
    counts = np.array([observed[k] for k in expected])
    p = stats.chisquare(counts, n * np.array(list(expected.values()))).pvalue
    assert p > 0.001


def test_an_hour_override_applies_to_dials_placed_in_that_hour():
    base_live, hour15_live = 0.25, 0.6
    sc = from_dict(
        one_campaign(
            {
                "mode": "power",
                "leads": 30_000,
                "outcomes": {**P, "hours": {"15": {"live": hour15_live}}},
                "retry": {"max_attempts": 1},
            },
            [{"count": 50}],
            hours=("12:00", "18:00"),
        )
    )
    hour_of: dict = {}
    dials: Counter = Counter()
    live: Counter = Counter()
    machine: Counter = Counter()

    def watch(_campaign, ev):
        if isinstance(ev, DialPlaced):
            h = int(ev.time % DAY // 3600)
            hour_of[ev.call] = h
            dials[h == 15] += 1
        elif isinstance(ev, CallAnswered):
            (live if ev.human else machine)[hour_of[ev.call] == 15] += 1

    simulate(sc, seed=15, observer=watch)
    assert dials[True] > 1000 and dials[False] > 5000
    level = 1 - 0.001 / 4
    for in_15, p_live in ((True, hour15_live), (False, base_live)):
        low, high = binomial_ci(live[in_15], dials[in_15], level)
        assert low <= p_live <= high, (in_15, live[in_15], dials[in_15], (low, high))
        # the override names only `live`: machine answers keep their base rate
        low, high = binomial_ci(machine[in_15], dials[in_15], level)
        assert low <= P["machine"] <= high, (in_15, machine[in_15], dials[in_15], (low, high))


# --- renewal-reward: one Power agent ----------------------------------------------------------

RR = {"live": 0.3, "machine": 0.1, "busy": 0.05, "invalid": 0.03}
RR_NO_ANSWER = 1.0 - sum(RR.values())
RING, NO_ANSWER, BUSY, INVALID, TALK, WRAP = 17.0, 30.0, 5.5, 2.5, 120.0, 30.0


def test_renewal_reward_occupancy_and_rates_of_a_power_agent():
    """One Power agent never waits: the next dial is placed the instant it is free.

    Each cycle is one dial: E[cycle] = p_live (ring + talk + wrap) + p_machine ring +
    p_busy busy + p_invalid invalid + p_no_answer no_answer; the agent is occupied
    p_live (talk + wrap) of it. The shift ends with the cycle in progress at the
    close, a stopping time, so by Wald's identity E[total occupied] / E[total logged
    in] is exactly the renewal-reward ratio; likewise dials and transfers per second
    logged in. Each is estimated by a ratio of sums over seeds, with a delta-method
    t-interval.
    """
    e_cycle = (
        RR["live"] * (RING + TALK + WRAP)
        + RR["machine"] * RING
        + RR["busy"] * BUSY
        + RR["invalid"] * INVALID
        + RR_NO_ANSWER * NO_ANSWER
    )
    theory = {
        "occupancy": RR["live"] * (TALK + WRAP) / e_cycle,
        "dials_per_second": 1.0 / e_cycle,
        "transfers_per_second": RR["live"] / e_cycle,
    }
    sc = from_dict(
        one_campaign(
            {
                "mode": "power",
                "leads": 5000,
                "outcomes": dict(RR),
                "durations": {
                    "ring": {"dist": "lognormal", "mean": RING, "sd": 8},
                    "no_answer": NO_ANSWER,
                    "busy": {"dist": "uniform", "low": 3, "high": 8},
                    "invalid": {"dist": "uniform", "low": 1, "high": 4},
                    "talk": {"dist": "exponential", "mean": TALK},
                    "wrap": {"dist": "gamma", "mean": WRAP, "sd": 10},
                },
                "retry": {"max_attempts": 1},
            },
            [{"count": 1}],
        )
    )
    assert sc.campaigns[0].durations.busy.mean == BUSY
    assert sc.campaigns[0].durations.invalid.mean == INVALID
    rows = []
    for seed in range(40):
        (day,) = simulate(sc, seed=seed).campaigns[0].days
        s = day.stats
        assert conservation_errors(s) == []
        assert s.attempted < 5000  # never ran out of leads
        rows.append((s.talk_time + s.wrap_time, s.attempted, s.transferred, s.logged_in_time))
    x = np.array(rows)
    y = x[:, 3]
    # the agent is logged in from the open to the end of the cycle in progress at the close
    assert np.all(y >= 12 * 3600.0) and np.all(y < 12 * 3600.0 + 3600.0)
    n = len(y)
    level = 1 - 0.01 / len(theory)  # 99 % for the three intervals together
    t = stats.t.ppf(1 - (1 - level) / 2, n - 1)
    for col, name in enumerate(theory):
        num = x[:, col]
        r = num.sum() / y.sum()
        resid = num - r * y
        se = math.sqrt(resid.var(ddof=1) / n) / y.mean()
        assert abs(r - theory[name]) <= t * se, (name, r, theory[name], se)


# --- FixedRatio -------------------------------------------------------------------------------


def fixed_ratio(ratio: float, agents: list[dict], live: float, hours=("09:00", "21:00"), leads=40_000) -> dict:
    return one_campaign(
        {
            "mode": "fixed-ratio",
            "pacer": {"ratio": ratio},
            "leads": leads,
            "outcomes": {"live": live},
            "retry": {"max_attempts": 1},
        },
        agents,
        hours=hours,
    )


def test_a_high_fixed_ratio_clearly_abandons():
    sc = from_dict(fixed_ratio(3.0, [{"count": 10}], live=0.3))
    (day,) = simulate(sc, seed=4).campaigns[0].days
    s = day.stats
    assert conservation_errors(s) == []
    low, _ = binomial_ci(s.abandoned, s.connected, 0.999)
    assert low > 0.02, (s.abandoned, s.connected)


def test_ratio_one_with_one_agent_never_abandons_while_the_agent_is_there():
    """One agent, one dial at a time, placed only while the agent is idle: every live
    answer finds the agent. The shift outlasts the calling window by ten minutes so
    the last dials (placed before the close) are all answered before the log-out."""
    sc = from_dict(fixed_ratio(1.0, [{"count": 1, "shift": ["09:00", "21:10"]}], live=0.6))
    connected = 0
    for seed in range(10):
        (day,) = simulate(sc, seed=seed).campaigns[0].days
        assert day.stats.abandoned == 0, seed
        connected += day.stats.connected
    assert connected > 1500


def test_ratio_one_abandons_only_calls_answered_after_the_agent_logged_out():
    """With the shift ending at the close, a FixedRatio dial placed in the last seconds may be
    answered after its only agent logged out (FixedRatio counts an agent who announced
    leaving as idle): the only way ratio 1 with one agent can abandon."""
    sc = from_dict(fixed_ratio(1.0, [{"count": 1}], live=0.6, hours=("09:00", "10:00"), leads=2000))
    close = 10 * 3600.0
    for seed in range(100):
        abandons: list[float] = []
        simulate(sc, seed=seed, observer=lambda c, ev: isinstance(ev, CallAbandoned) and abandons.append(ev.time))
        assert all(t >= close for t in abandons), (seed, abandons)
