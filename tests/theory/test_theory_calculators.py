"""Planner calculators: service levels, staffing, the campaign picture."""

from __future__ import annotations

import math

import pytest

from dialer.theory import (
    campaign_picture,
    erlang_a,
    erlang_c,
    erlang_table,
    largest_safe_ratio,
    optimal_pacing,
    progressive,
    ratio_dialing,
    required_agents,
    service_level_a,
    service_level_c,
)


def test_service_level_c_is_the_erlang_c_formula():
    lam, mu, n, t = 1.0 / 20, 1.0 / 180, 10, 20.0
    expected = 1.0 - erlang_c(n, lam / mu) * math.exp(-(n * mu - lam) * t)
    assert service_level_c(n, lam, mu, t) == pytest.approx(expected, rel=1e-14)
    assert service_level_c(n, lam, mu, t) == pytest.approx(erlang_a(lam, mu, n, 0.0).service_level(t))


def test_service_level_a_is_answered_within():
    assert service_level_a(8, 0.05, 1 / 150, 1 / 60, 20.0) == erlang_a(0.05, 1 / 150, 8, 1 / 60).answered_within(20.0)


@pytest.mark.parametrize(
    "calls_per_hour, handle, target, within", [(100, 180.0, 0.8, 20.0), (360, 240.0, 0.9, 15.0), (20, 300.0, 0.8, 30.0)]
)
def test_required_agents_erlang_c_is_the_smallest_meeting_the_target(calls_per_hour, handle, target, within):
    lam = calls_per_hour / 3600.0
    n = required_agents(lam, handle, target, within)
    assert service_level_c(n, lam, 1 / handle, within) >= target
    if n - 1 > lam * handle:
        assert service_level_c(n - 1, lam, 1 / handle, within) < target


def test_required_agents_textbook_example():
    # 100 calls per hour of 3 minutes (5 Erlangs), 80 % within 20 s: 8 agents (SL 88 %; 7 give 74 %).
    assert required_agents(100 / 3600, 180.0, 0.8, 20.0) == 8


def test_required_agents_with_patience_needs_no_more_than_erlang_c():
    lam, handle, target, within = 300 / 3600, 240.0, 0.8, 20.0
    n_c = required_agents(lam, handle, target, within)
    n_a = required_agents(lam, handle, target, within, patience_rate=1 / 120)
    assert n_a <= n_c
    assert erlang_a(lam, 1 / handle, n_a, 1 / 120).answered_within(within) >= target
    assert erlang_a(lam, 1 / handle, n_a - 1, 1 / 120).answered_within(within) < target
    assert required_agents(0.0, handle, target, within) == 0


def test_erlang_table_rows_carry_inputs_and_outputs():
    rows = erlang_table(100 / 3600, 180.0, 20.0, range(4, 10))
    assert [r["agents"] for r in rows] == [6, 7, 8, 9]  # 4 and 5 agents are unstable for 5 Erlangs
    assert all(r["arrival_rate"] == 100 / 3600 and r["within"] == 20.0 for r in rows)
    levels = [r["service_level"] for r in rows]
    assert levels == sorted(levels)
    with_patience = erlang_table(100 / 3600, 180.0, 20.0, range(4, 6), patience_rate=1 / 60)
    assert [r["agents"] for r in with_patience] == [4, 5]
    assert all(r["p_abandon"] > 0 for r in with_patience)


@pytest.mark.parametrize("agents, limit", [(1, 0.0), (5, 0.0), (5, 0.05), (20, 0.05), (12, 0.02)])
def test_largest_safe_ratio_is_safe_and_the_next_step_is_not(agents, limit):
    ratio = largest_safe_ratio(agents, 200.0, 17.0, 0.25, limit)
    assert ratio_dialing(agents, 200.0, 17.0, 0.25, ratio).abandon_rate <= limit
    assert ratio_dialing(agents, 200.0, 17.0, 0.25, ratio + 0.05).abandon_rate > limit
    # the same answer from a far guess, above or below
    for guess in (1.0, 2.0, 9.0):
        assert largest_safe_ratio(agents, 200.0, 17.0, 0.25, limit, guess=guess) == ratio


def test_campaign_picture():
    pic = campaign_picture(20, 200.0, 17.0, 0.25, 0.05, failed_ring_time=25.0)
    power = progressive(200.0, 17.0, 0.25, failed_ring_time=25.0)
    assert pic["inputs"]["failed_ring_time"] == 25.0
    assert pic["power"]["connects_per_agent_hour"] == pytest.approx(power.connects_per_agent_hour)
    assert pic["power"]["occupancy"] == pytest.approx(power.occupancy)
    ratio = pic["ratio"]
    assert ratio["chosen"].startswith("largest safe ratio")
    assert ratio["within_limit"] and ratio["abandon_rate"] <= 0.05
    assert ratio["ratio"] == largest_safe_ratio(20, 200.0, 17.0, 0.25, 0.05)
    best = pic["optimal"]
    bound = optimal_pacing(20, 200.0, 17.0, 0.25, 0.05)
    assert best["connects_per_agent_hour"] == pytest.approx(bound.connects_per_agent_hour)
    assert best["connects_per_agent_hour"] >= ratio["connects_per_agent_hour"]
    assert best["policy"] == list(bound.policy)
    assert best["randomised_state"] == bound.randomised_state
    assert best["gain_over_power"] == pytest.approx(bound.gain_over_power)

    given = campaign_picture(20, 200.0, 17.0, 0.25, 0.05, ratio=3.5)
    assert given["ratio"]["chosen"] == "given"
    assert given["ratio"]["ratio"] == 3.5
    assert given["ratio"]["within_limit"] is (given["ratio"]["abandon_rate"] <= 0.05)


def _linear_required(lam, handle, target, within, theta=0.0):
    """The search as it was: one agent more at a time from the smallest stable floor (O(n^2) in all)."""
    from dialer.theory.erlang import _erlang_c

    mu, load = 1 / handle, lam * handle
    n = max(1, math.floor(load) + 1) if theta == 0.0 else 1
    while True:
        if theta == 0.0:
            sl = 1.0 - _erlang_c(n, load) * math.exp(-(n * mu - lam) * within)
        else:
            sl = erlang_a(lam, mu, n, theta).answered_within(within)
        if sl >= target:
            return n
        n += 1


def test_required_agents_gallops_and_bisects_to_the_same_answer_as_one_agent_at_a_time():
    """The search bisects (the service level grows with n): near the cap of 100,000 agents a one-by-one search
    of Erlang A took hours; the answer is the same as one agent at a time."""
    import random

    rng = random.Random(7)
    for _ in range(80):
        lam, handle = rng.uniform(0.001, 0.5), rng.uniform(10.0, 600.0)
        target, within = rng.uniform(0.05, 0.99), rng.uniform(0.0, 120.0)
        theta = rng.choice([0.0, rng.uniform(0.001, 0.5)])
        assert required_agents(lam, handle, target, within, theta) == _linear_required(lam, handle, target, within, theta)


def test_required_agents_gives_up_at_the_cap_of_every_server_count():
    from dialer.errors import ConfigError
    from dialer.limits import MAX_SERVERS

    with pytest.raises(ConfigError, match=f"at most {MAX_SERVERS} agents"):
        required_agents(MAX_SERVERS / 180.0, 180.0, 0.8, 20.0)  # a load of 100,000 Erlangs: 100,001 to be stable
    with pytest.raises(ConfigError, match=f"at most {MAX_SERVERS} agents"):
        required_agents(2 * MAX_SERVERS / 180.0, 180.0, 0.8, 20.0, patience_rate=1 / 60)  # 80 % of 200,000 Erlangs
