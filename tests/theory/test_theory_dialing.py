"""Open-loop, Power and fixed-ratio dialing against independent computations."""

from __future__ import annotations

import heapq
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.theory import erlang_b, erlang_c, poisson_dialing, progressive, ratio_dialing
from dialer.theory.dialing import round_half_up

# --------------------------------------------------------------------------- open loop


@pytest.mark.parametrize(
    "agents, dial_rate, live_prob, handle", [(10, 0.1, 0.25, 200.0), (3, 0.05, 0.4, 90.0), (50, 1.0, 0.2, 240.0)]
)
def test_grace_zero_is_erlang_b(agents, dial_rate, live_prob, handle):
    r = poisson_dialing(agents, dial_rate, live_prob, handle)
    b = erlang_b(agents, dial_rate * live_prob * handle)
    assert r.abandon_rate == pytest.approx(b, rel=1e-14)
    assert r.live_rate == pytest.approx(dial_rate * live_prob)
    assert r.connect_rate == pytest.approx(dial_rate * live_prob * (1 - b))
    assert r.occupancy == pytest.approx(dial_rate * live_prob * handle * (1 - b) / agents)
    assert r.connects_per_agent_hour == pytest.approx(3600 * r.connect_rate / agents)
    assert r.mean_wait == 0.0


def test_grace_limits_are_erlang_b_and_erlang_c():
    n, rate, p, h = 10, 0.19, 0.25, 200.0  # 9.5 Erlangs of live answers
    tiny = poisson_dialing(n, rate, p, h, grace=1e-9)
    assert tiny.abandon_rate == pytest.approx(erlang_b(n, rate * p * h), rel=1e-6)
    huge = poisson_dialing(n, rate, p, h, grace=1e7)
    c = erlang_c(n, rate * p * h)
    assert huge.abandon_rate < 1e-12
    assert huge.p_wait == pytest.approx(c, rel=1e-9)
    assert huge.mean_wait == pytest.approx(c / (n / h - rate * p), rel=1e-9)


def test_grace_helps_and_the_abandon_rate_falls_with_it():
    rates = [poisson_dialing(10, 0.2, 0.25, 200.0, grace=g).abandon_rate for g in (0.0, 1.0, 2.0, 5.0, 30.0)]
    assert rates == sorted(rates, reverse=True)


def simulate_mmnd(n, lam, mu, grace, arrivals, rng):
    """FIFO M/M/n+D by the servers' free times: an arrival is served by the earliest free
    server if that frees within `grace` of its arrival; otherwise it leaves at `grace`."""
    free = [0.0] * n
    heapq.heapify(free)
    t = 0.0
    gaps = rng.exponential(1.0 / lam, arrivals)
    services = rng.exponential(1.0 / mu, arrivals)
    abandoned = np.zeros(arrivals, dtype=bool)
    waits = np.zeros(arrivals)
    for i in range(arrivals):
        t += gaps[i]
        start = max(t, free[0])
        if start - t <= grace:
            heapq.heapreplace(free, start + services[i])
            waits[i] = start - t
        else:
            abandoned[i] = True
            waits[i] = grace
    return abandoned, waits


@pytest.mark.parametrize("n, lam, h, grace", [(5, 0.05, 100.0, 10.0), (3, 0.05, 60.0, 30.0)])
def test_grace_against_simulation(n, lam, h, grace):
    rng = np.random.default_rng(20240611)
    arrivals, warmup, batches = 120_000, 2_000, 20
    abandoned, waits = simulate_mmnd(n, lam, 1.0 / h, grace, arrivals + warmup, rng)
    abandoned, waits = abandoned[warmup:], waits[warmup:]
    r = poisson_dialing(n, lam, 1.0, h, grace=grace)
    for sample, theory in ((abandoned.astype(float), r.abandon_rate), (waits, r.mean_wait)):
        means = sample.reshape(batches, -1).mean(axis=1)
        se = means.std(ddof=1) / math.sqrt(batches)
        assert abs(means.mean() - theory) < 4.0 * se, (means.mean(), theory, se)


# --------------------------------------------------------------------------- power


def test_progressive_is_the_renewal_reward_formula():
    r = progressive(200.0, 17.0, 0.25, failed_ring_time=30.0)
    cycle = 0.25 * (17.0 + 200.0) + 0.75 * 30.0  # = 76.75 s
    assert r.cycle_time == pytest.approx(cycle)
    assert r.occupancy == pytest.approx(0.25 * 200.0 / cycle)
    assert r.connects_per_agent_hour == pytest.approx(3600 * 0.25 / cycle)
    assert r.dials_per_agent_hour == pytest.approx(3600 / cycle)
    assert r.abandon_rate == 0.0
    same = progressive(200.0, 17.0, 0.25)
    assert same.failed_ring_time == 17.0
    assert same.occupancy == pytest.approx(50.0 / 67.0)


def test_progressive_against_a_simulated_agent():
    rng = np.random.default_rng(7)
    cycles = 200_000
    live = rng.random(cycles) < 0.3
    ring = np.where(live, rng.exponential(20.0, cycles), rng.gamma(2.0, 12.5, cycles))  # failed: mean 25
    handle = np.where(live, rng.exponential(150.0, cycles), 0.0)
    r = progressive(150.0, 20.0, 0.3, failed_ring_time=25.0)
    assert handle.sum() / (ring + handle).sum() == pytest.approx(r.occupancy, rel=0.01)


# --------------------------------------------------------------------------- fixed ratio


def ratio_chain_by_exploration(n, h, ring, p, ratio):
    """Independent fixed-ratio chain: explore states from (0, T(0)) by the rules, solve densely."""

    def top_up(b, d):
        return b, max(d, math.floor(ratio * (n - b) + 0.5))

    def moves(b, d):
        out = []
        if d > 0:
            if b < n:
                out.append((top_up(b + 1, d - 1), d * p / ring, "connect"))
                out.append((top_up(b, d - 1), d * (1 - p) / ring, "fail"))
            else:
                out.append((top_up(b, d - 1), d * p / ring, "abandon"))
                out.append((top_up(b, d - 1), d * (1 - p) / ring, "fail"))
        if b > 0:
            out.append((top_up(b - 1, d), b / h, "end"))
        return out

    start = top_up(0, 0)
    index, frontier = {start: 0}, [start]
    while frontier:
        s = frontier.pop()
        for t, _, _ in moves(*s):
            if t not in index:
                index[t] = len(index)
                frontier.append(t)
    size = len(index)
    q = np.zeros((size, size))
    for s, i in index.items():
        for t, rate, _ in moves(*s):
            q[i, index[t]] += rate
    np.fill_diagonal(q, 0.0)
    np.fill_diagonal(q, -q.sum(axis=1))
    a = np.vstack([q.T[:-1], np.ones(size)])
    rhs = np.zeros(size)
    rhs[-1] = 1.0
    pi = np.linalg.solve(a, rhs)
    rates = {"connect": 0.0, "abandon": 0.0}
    busy = 0.0
    for s, i in index.items():
        busy += pi[i] * s[0]
        for _, rate, kind in moves(*s):
            if kind in rates:
                rates[kind] += pi[i] * rate
    return rates["abandon"] / (rates["abandon"] + rates["connect"]), busy / n, 3600 * rates["connect"] / n


@pytest.mark.parametrize(
    "n, h, ring, p, ratio",
    [(2, 100.0, 20.0, 0.3, 1.5), (3, 200.0, 17.0, 0.25, 2.5), (4, 60.0, 30.0, 0.6, 1.2), (5, 150.0, 15.0, 0.2, 3.3)],
)
def test_ratio_dialing_against_an_independent_chain(n, h, ring, p, ratio):
    abandon, occupancy, cph = ratio_chain_by_exploration(n, h, ring, p, ratio)
    r = ratio_dialing(n, h, ring, p, ratio)
    assert r.abandon_rate == pytest.approx(abandon, rel=1e-9, abs=1e-14)
    assert r.occupancy == pytest.approx(occupancy, rel=1e-9)
    assert r.connects_per_agent_hour == pytest.approx(cph, rel=1e-9)


@pytest.mark.parametrize("n", [1, 4, 20])
def test_ratio_one_never_abandons_and_is_power(n):
    r = ratio_dialing(n, 200.0, 17.0, 0.25, 1.0)
    power = progressive(200.0, 17.0, 0.25)
    assert r.abandon_rate == 0.0
    assert r.occupancy == pytest.approx(power.occupancy, rel=1e-10)
    assert r.connects_per_agent_hour == pytest.approx(power.connects_per_agent_hour, rel=1e-10)
    assert r.dials_per_agent_hour == pytest.approx(power.dials_per_agent_hour, rel=1e-10)


def test_ratio_abandon_and_occupancy_grow_with_the_ratio():
    rows = [ratio_dialing(10, 200.0, 17.0, 0.25, k) for k in np.arange(1.0, 6.01, 0.25)]
    abandons = [r.abandon_rate for r in rows]
    occupancy = [r.occupancy for r in rows]
    assert abandons == sorted(abandons)
    assert occupancy == sorted(occupancy)


def test_ratio_below_one_half_with_one_agent_never_dials():
    r = ratio_dialing(1, 200.0, 17.0, 0.25, 0.4)
    assert (r.occupancy, r.abandon_rate, r.dials_per_agent_hour) == (0.0, 0.0, 0.0)


def test_round_half_up_matches_the_pacer_rule():
    assert [round_half_up(x) for x in (0.5, 1.5, 2.5, 2.49, -0.5)] == [1, 2, 3, 2, 0]


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 8),
    h=st.floats(10.0, 500.0),
    ring=st.floats(2.0, 60.0),
    p=st.floats(0.0, 1.0),
    ratio=st.floats(0.0, 6.0),
)
def test_ratio_dialing_figures_are_sane(n, h, ring, p, ratio):
    r = ratio_dialing(n, h, ring, p, ratio)
    assert 0.0 <= r.abandon_rate <= 1.0
    assert 0.0 <= r.occupancy <= 1.0 + 1e-12
    # Flow balance: connects per second = handles ending per second = E[busy] / h.
    assert r.connects_per_agent_hour == pytest.approx(3600 * r.occupancy / h, rel=1e-7, abs=1e-9)
