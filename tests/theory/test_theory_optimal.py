"""The optimal-pacing bound: against Power, fixed ratios, the full LP and a simulation of its own policy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dialer.theory import optimal_pacing, progressive, ratio_dialing
from dialer.theory import optimal as om

FLOOR_20 = dict(agents=20, handle_time=200.0, ring_time=17.0, live_prob=0.25)


def test_reference_floor_gain_over_power():
    """20 agents, 25 % live, handle 200 s, ring 17 s, limit 5 %: about 21 % over Power."""
    r = optimal_pacing(**FLOOR_20, abandon_limit=0.05)
    power = progressive(200.0, 17.0, 0.25)
    gain = r.connects_per_agent_hour / power.connects_per_agent_hour - 1.0
    print(
        f"\noptimal bound, 20 agents: {r.connects_per_agent_hour:.4f} connects/agent-hour "
        f"vs Power {power.connects_per_agent_hour:.4f} (+{100 * gain:.2f} %), occupancy {r.occupancy:.4f}, "
        f"policy {r.policy}, randomised {r.randomised_state} p={r.randomised_dial_prob:.4f}"
    )
    assert 0.19 < gain < 0.24
    assert r.gain_over_power == pytest.approx(gain)
    assert r.power_connects_per_agent_hour == pytest.approx(power.connects_per_agent_hour)
    assert r.abandon_rate == pytest.approx(0.05, abs=1e-9)
    assert 0.85 < r.occupancy < 0.95


@pytest.mark.parametrize("agents, h, ring, p", [(1, 200.0, 17.0, 0.25), (7, 120.0, 25.0, 0.4), (20, 200.0, 17.0, 0.25)])
def test_limit_zero_is_power(agents, h, ring, p):
    r = optimal_pacing(agents, h, ring, p, 0.0)
    power = progressive(h, ring, p, failed_ring_time=ring)
    assert r.connects_per_agent_hour == pytest.approx(power.connects_per_agent_hour, rel=1e-12)
    assert r.occupancy == pytest.approx(power.occupancy, rel=1e-12)
    assert r.abandon_rate == 0.0
    assert r.policy == tuple(range(agents, -1, -1))


@pytest.mark.parametrize("agents, h, ring, p", [(2, 100.0, 20.0, 0.3), (4, 200.0, 17.0, 0.25)])
def test_lp_confirms_power_is_optimal_at_limit_zero(agents, h, ring, p):
    lp = om.solve_lp(agents, h, ring, p, 0.0, max_in_flight=agents + 12)
    power = progressive(h, ring, p)
    assert lp.connects_per_agent_hour == pytest.approx(power.connects_per_agent_hour, rel=1e-7)


SMALL_FLOORS = [
    (1, 200.0, 17.0, 0.25, 0.05),
    (2, 100.0, 20.0, 0.3, 0.1),
    (3, 100.0, 10.0, 0.1, 0.05),
    (4, 200.0, 17.0, 0.25, 0.05),
    (5, 60.0, 30.0, 0.5, 0.02),
    (4, 50.0, 40.0, 1.0, 0.05),
]


@pytest.mark.parametrize("floor", SMALL_FLOORS)
def test_lagrangian_method_equals_the_full_lp(floor):
    r = optimal_pacing(*floor)
    lp = om.solve_lp(*floor, max_in_flight=r.policy[0] + 15)
    assert r.connects_per_agent_hour == pytest.approx(lp.connects_per_agent_hour, rel=1e-7)
    assert r.occupancy == pytest.approx(lp.occupancy, rel=1e-6)
    assert r.abandon_rate == pytest.approx(lp.abandon_rate, abs=1e-8)
    # The LP's actions where it spends time agree with the reported policy ...
    n = floor[0]
    for (b, d), x in lp.time_in_state.items():
        if x > 1e-6 and (b, d) != r.randomised_state:
            assert d >= r.policy[b], ((b, d), r.policy)
    for (b, d), y in lp.dial_rate_in_state.items():
        if y > 1e-6 and (b, d) != r.randomised_state:
            assert d < r.policy[b], ((b, d), r.policy)
    # ... and so does its randomisation: the share of entries into the state that dial once more.
    if r.randomised_state is not None:
        s = r.randomised_state
        q = s[1] / floor[2] + s[0] / floor[1]
        x, y = lp.time_in_state.get(s, 0.0), lp.dial_rate_in_state.get(s, 0.0)
        assert r.randomised_dial_prob == pytest.approx(y / (x * q + y), abs=1e-5)
    assert len(r.policy) == n + 1


@pytest.mark.parametrize("limit", [0.01, 0.05, 0.1])
def test_bound_beats_every_safe_fixed_ratio(limit):
    for agents in (5, 20):
        r = optimal_pacing(agents, 200.0, 17.0, 0.25, limit)
        assert r.abandon_rate <= limit + 1e-9
        for ratio in np.arange(1.0, 5.01, 0.25):
            fixed = ratio_dialing(agents, 200.0, 17.0, 0.25, ratio)
            if fixed.abandon_rate <= limit:
                assert r.connects_per_agent_hour >= fixed.connects_per_agent_hour - 1e-9


def test_bound_grows_with_the_limit():
    limits = [0.0, 0.005, 0.01, 0.03, 0.05, 0.1, 0.2]
    rows = [optimal_pacing(8, 150.0, 20.0, 0.3, limit) for limit in limits]
    cph = [r.connects_per_agent_hour for r in rows]
    assert cph == sorted(cph)
    assert len(set(cph)) == len(cph)
    for r, limit in zip(rows, limits):
        assert r.abandon_rate <= limit + 1e-9
    shadow = [r.multiplier for r in rows[1:]]
    assert shadow == sorted(shadow, reverse=True)  # each extra abandon is worth less


def test_policies_have_the_threshold_form():
    """Every state at or above K(b) waits, every state below dials (on the whole grid)."""
    solver = om._Solver(12, 200.0, 17.0, 0.25, 0.05)
    _, ev_hi, ev_lo = om._kelley(solver)
    for ev in (ev_hi, ev_lo):
        k = solver.grid.thresholds(ev)
        assert np.array_equal(ev.wait, solver.grid.d >= k[solver.grid.b - solver.grid.low])
        assert list(k) == sorted(k, reverse=True)


def test_a_wider_cap_changes_nothing():
    solver = om._Solver(12, 200.0, 17.0, 0.25, 0.05)
    eta, ev_hi, ev_lo = om._kelley(solver)
    wide = om._Solver(12, 200.0, 17.0, 0.25, 0.05)
    wide.regrid(wide.grid.hi + 60, wide.wait)
    eta_w, wide_hi, wide_lo = om._kelley(wide)
    assert eta_w == pytest.approx(eta, rel=1e-9)
    assert np.allclose(wide_hi.gain[:4], ev_hi.gain[:4], rtol=1e-10)
    assert np.allclose(wide_lo.gain[:4], ev_lo.gain[:4], rtol=1e-10)
    assert wide.grid.size > solver.grid.size


def test_cutting_improbable_rows_changes_nothing():
    """optimal_pacing cuts rows of negligible probability; solving with every row agrees."""
    floor = (40, 200.0, 17.0, 0.25, 0.05)
    assert om._first_row(40) > 0
    cut = optimal_pacing(*floor)
    full = om._optimal(*floor, low=0)
    assert cut.connects_per_agent_hour == pytest.approx(full.connects_per_agent_hour, rel=1e-11)
    assert cut.occupancy == pytest.approx(full.occupancy, rel=1e-11)
    assert cut.policy == full.policy
    assert cut.randomised_state == full.randomised_state
    assert cut.randomised_dial_prob == pytest.approx(full.randomised_dial_prob, abs=1e-8)


def simulate_policy(r, events, batches, warmup, rng):
    """Gillespie simulation of the floor driven by the reported policy and its randomisation.

    Returns one row per batch of events: (abandoned / live answers, occupancy).
    """
    n, h, ring, p = r.agents, r.handle_time, r.ring_time, r.live_prob
    b, d = 0, 0
    u = rng.random((warmup + events, 3))
    rows, per = [], events // batches
    connects = abandons = 0
    span = busy = 0.0
    for i in range(warmup + events):
        if i >= warmup and (i - warmup) % per == 0 and i > warmup:
            rows.append((abandons / (connects + abandons), busy / span / n))
            connects = abandons = 0
            span = busy = 0.0
        d = max(d, r.policy[b])  # top up after every event
        if (b, d) == r.randomised_state and u[i, 2] < r.randomised_dial_prob:
            d += 1
        total = d / ring + b / h
        dt = -math.log(1.0 - u[i, 0]) / total
        x = u[i, 1] * total
        if i >= warmup:
            span += dt
            busy += b * dt
        if x < b / h:
            b -= 1
        else:
            live = (x - b / h) / (d / ring) < p  # which dial ended does not matter, only if it was live
            d -= 1
            if live and i >= warmup:
                if b < n:
                    connects += 1
                else:
                    abandons += 1
            if live and b < n:
                b += 1
    rows.append((abandons / (connects + abandons), busy / span / n))
    return np.array(rows)


def test_simulating_the_reported_policy_reaches_the_bound():
    r = optimal_pacing(4, 200.0, 17.0, 0.25, 0.05)
    assert r.randomised_state is not None
    data = simulate_policy(r, events=400_000, batches=20, warmup=5_000, rng=np.random.default_rng(11))
    mean = data.mean(axis=0)
    se = data.std(axis=0, ddof=1) / math.sqrt(len(data))
    for m, s, e in zip(mean, se, (r.abandon_rate, r.occupancy)):
        assert abs(m - e) < 4.0 * s, (m, e, s)


def test_no_live_answers_nothing_to_gain():
    r = optimal_pacing(5, 200.0, 17.0, 0.0, 0.05)
    assert r.connects_per_agent_hour == 0.0
    assert r.policy == (5, 4, 3, 2, 1, 0)


# --- under an exposure cap (the dialer's abandon envelope leaves room for K uncovered dials) -----------


CAPPED = [
    (4, 200.0, 17.0, 0.25, 0.05, 1),
    (5, 200.0, 17.0, 0.25, 0.05, 2),
    (10, 200.0, 25.0, 0.25, 0.03, 5),
    (20, 200.0, 17.0, 0.08, 0.05, 15),
    (20, 200.0, 17.0, 0.08, 0.05, 25),
    (20, 200.0, 25.6, 0.08, 0.02, 40),
]


@pytest.mark.parametrize("floor", CAPPED)
def test_a_capped_optimum_equals_the_full_lp_on_the_capped_triangle(floor):
    """d <= agents - b + K is the LP's own triangle with max_in_flight = agents + K."""
    *args, cap = floor
    r = optimal_pacing(*args, max_exposure=cap)
    lp = om.solve_lp(*args, max_in_flight=args[0] + cap)
    assert r.connects_per_agent_hour == pytest.approx(lp.connects_per_agent_hour, rel=1e-7)
    assert r.occupancy == pytest.approx(lp.occupancy, rel=1e-7)
    assert r.abandon_rate <= args[4] + 1e-9
    assert all(k <= args[0] - b + cap for b, k in enumerate(r.policy))


def test_an_exposure_cap_of_zero_is_power_and_a_wide_cap_is_the_bound():
    power = optimal_pacing(20, 200.0, 17.0, 0.08, 0.0)
    assert optimal_pacing(20, 200.0, 17.0, 0.08, 0.05, max_exposure=0).occupancy == pytest.approx(power.occupancy)
    free = optimal_pacing(10, 200.0, 17.0, 0.25, 0.05)
    wide = optimal_pacing(10, 200.0, 17.0, 0.25, 0.05, max_exposure=max(k - (10 - b) for b, k in enumerate(free.policy)) + 5)
    assert wide.occupancy == pytest.approx(free.occupancy, rel=1e-6)


def test_the_capped_optimum_grows_with_the_cap_and_a_small_cap_leaves_the_limit_unspent():
    rows = [optimal_pacing(20, 200.0, 25.6, 0.08, 0.05, max_exposure=k) for k in (0, 2, 5, 10, 20, 40)]
    occ = [r.occupancy for r in rows]
    assert occ == sorted(occ) and len(set(occ)) == len(occ)
    assert rows[1].abandon_rate < 0.01 and rows[1].multiplier == 0.0  # nothing to trade: fill the cap
    assert rows[-1].abandon_rate == pytest.approx(0.05, abs=1e-9)
    assert occ[-1] < optimal_pacing(20, 200.0, 25.6, 0.08, 0.05).occupancy


def test_a_bad_exposure_cap_is_refused_with_its_name():
    from dialer.errors import ConfigError

    for bad_cap in (-1, 2.5, "3", True):
        with pytest.raises(ConfigError, match="max_exposure"):
            optimal_pacing(5, 200.0, 17.0, 0.25, 0.05, max_exposure=bad_cap)
