"""The day under the abandon envelope (a fluid estimate): between Power and the long-run bound, and shaped like a day."""

from __future__ import annotations

import pytest

from dialer.errors import ConfigError
from dialer.theory import day_plan, envelope_day, optimal_pacing

SMALL = dict(agents=5, handle_time=200.0, ring_time=24.0, live_prob=0.25, abandon_limit=0.05)


@pytest.fixture(scope="module")
def day():
    return envelope_day(**SMALL, hours=12.0)


def test_a_day_under_the_promise_lies_between_power_and_the_long_run_bound(day):
    free = optimal_pacing(**SMALL)
    power = optimal_pacing(**{**SMALL, "abandon_limit": 0.0})
    assert day.stationary_occupancy == pytest.approx(free.occupancy)
    assert day.power_occupancy == pytest.approx(power.occupancy)
    assert power.occupancy < day.occupancy < free.occupancy
    assert 0.0 < day.kept_share < 1.0
    assert day.abandon_rate <= 0.05 + 1e-9  # the day's promise, kept at its end


def test_the_day_starts_as_power_and_builds_its_budget(day):
    first, *rest = day.path
    assert first.time == 0.0 and first.budget == 0.0 and first.exposure_cap == 0
    assert first.occupancy == pytest.approx(day.power_occupancy)
    assert all(p.budget >= 0.0 for p in day.path)
    assert max(p.exposure_cap for p in rest) > 0
    assert max(p.occupancy for p in rest) > first.occupancy


def test_the_ramp_of_a_long_day_weighs_less():
    short = envelope_day(**SMALL, hours=3.0)
    long = envelope_day(**SMALL, hours=24.0)
    assert short.kept_share < long.kept_share


def test_budget_carried_in_makes_the_day_better_and_can_beat_the_long_run_bound():
    """A campaign-to-date interval may start the day with budget left: the day can spend it."""
    days = [envelope_day(**SMALL, hours=6.0, start_budget=b) for b in (0.0, 2.0, 50.0)]
    occ = [d.occupancy for d in days]
    assert occ == sorted(occ) and occ[0] < occ[1]
    assert days[-1].occupancy > days[-1].stationary_occupancy  # abandons above the limit, paid from the carry


def test_limit_zero_is_power():
    d = envelope_day(**{**SMALL, "abandon_limit": 0.0})
    assert d.occupancy == pytest.approx(d.power_occupancy) and d.abandon_rate == 0.0 and d.kept_share == 1.0


def test_fewer_live_answers_keep_less_of_the_gain():
    """With 8 % live answers a dial is exposed longer per connect: the ramp is longer (scenario (d))."""
    rich = envelope_day(20, 200.0, 24.0, 0.25, 0.05)
    poor = envelope_day(20, 200.0, 25.6, 0.08, 0.05)
    assert poor.kept_share < rich.kept_share
    assert 0.8 < poor.kept_share < 0.95


@pytest.mark.parametrize(
    "field, change",
    [("agents", 0), ("live_prob", 1.5), ("abandon_limit", 1.0), ("hours", 0.0), ("hours", 25.0), ("start_budget", -1.0),
     ("step", 0.0)],
)
def test_bad_arguments_are_refused_with_their_name(field, change):
    args = {**SMALL, "hours": 12.0, "start_budget": 0.0, "step": 60.0, field: change}
    with pytest.raises(ConfigError, match=field):
        envelope_day(**args)


# --- the plan of the day (what a pacer reads) ------------------------------------------------


@pytest.fixture(scope="module")
def plan():
    return day_plan(**SMALL, hours=12.0)


def test_the_plan_is_the_one_the_estimated_day_follows(day, plan):
    """Read at each sampled point of the day (time left, budget), the plan gives the rate the day ran at."""
    for p in day.path:
        assert plan.rate(12 * 3600.0 - p.time, p.budget) == p.abandon_rate


def test_the_plan_saves_budget_early_and_spends_it_late(plan):
    """With budget at hand, the plan runs below the limit in the morning and above it at the close."""
    rates = set(plan.rates)
    assert min(rates) == 0.0 and max(rates) == pytest.approx(0.25)
    budget = 2.0
    early, late = plan.rate(12 * 3600.0, budget), plan.rate(60.0, budget)
    assert early < 0.05 < late
    for b in (1.0, 2.0, 5.0):  # as the day runs out the same budget is spent faster
        by_time = [plan.rate(left, b) for left in (43200.0, 20000.0, 10000.0, 3600.0, 600.0, 60.0)]
        assert by_time == sorted(by_time)
    # more budget never means a lower rate at the close
    assert [plan.rate(60.0, b) for b in (0.0, 1.0, 2.0, 5.0)] == sorted(plan.rate(60.0, b) for b in (0.0, 1.0, 2.0, 5.0))
    # out of range reads are clamped: before the day, after it, no or negative budget, NaN
    assert plan.rate(1e9, budget) == early and plan.rate(-5.0, budget) == plan.rate(0.0, budget)
    assert plan.rate(60.0, -3.0) == plan.rate(60.0, 0.0) == plan.rate(60.0, float("nan"))


def test_a_plan_without_budget_to_gain_says_power():
    z = day_plan(**{**SMALL, "abandon_limit": 0.0})
    assert z.rate(3600.0, 10.0) == 0.0 and z.rate(0.0, 0.0) == 0.0


@pytest.mark.parametrize("field, change", [("agents", 0), ("live_prob", -0.1), ("hours", 25.0), ("step", -1.0)])
def test_bad_plan_arguments_are_refused_with_their_name(field, change):
    args = {**SMALL, "hours": 12.0, "step": 60.0, field: change}
    with pytest.raises(ConfigError, match=field):
        day_plan(**args)


# --- a floor whose figures move through the day ------------------------------------------------


def test_a_day_of_identical_parts_is_the_flat_day():
    flat = envelope_day(**SMALL, hours=3.0)
    parts = envelope_day(**{**SMALL, "live_prob": [0.25] * 3, "ring_time": (24.0, 24.0, 24.0)}, hours=3.0)
    assert parts.occupancy == flat.occupancy and parts.path == flat.path
    assert parts.live_prob == (0.25, 0.25, 0.25) and parts.ring_time == (24.0, 24.0, 24.0)


def test_the_order_of_the_hours_matters_under_the_promise():
    """The long-run bound averages the hours whatever their order; a day under the promise builds its budget
    from the calls it connects, so a morning that answers less costs it more: rising < falling."""
    rising = envelope_day(**{**SMALL, "live_prob": [0.10, 0.20, 0.30]}, hours=3.0)
    falling = envelope_day(**{**SMALL, "live_prob": [0.30, 0.20, 0.10]}, hours=3.0)
    free = [optimal_pacing(**{**SMALL, "live_prob": p}) for p in (0.10, 0.20, 0.30)]
    power = [optimal_pacing(**{**SMALL, "live_prob": p, "abandon_limit": 0.0}) for p in (0.10, 0.20, 0.30)]
    for day in (rising, falling):
        assert day.stationary_occupancy == pytest.approx(sum(f.occupancy for f in free) / 3)
        assert day.power_occupancy == pytest.approx(sum(p.occupancy for p in power) / 3)
        assert day.power_occupancy < day.occupancy < day.stationary_occupancy
        assert day.abandon_rate <= 0.05 + 1e-9
    assert rising.occupancy < falling.occupancy
    # each hour runs on its own floor: the first point of the rising day is the 10 % floor's Power
    assert rising.path[0].occupancy == pytest.approx(power[0].occupancy)


@pytest.mark.parametrize(
    "change, field",
    [({"live_prob": [0.2, 0.3], "ring_time": [24.0] * 3}, "live_prob"), ({"live_prob": []}, "live_prob"),
     ({"ring_time": []}, "ring_time"), ({"live_prob": [0.2, 1.5]}, "live_prob"), ({"ring_time": [24.0, -1.0]}, "ring_time")],
)
def test_bad_parts_of_the_day_are_refused_with_their_name(change, field):
    with pytest.raises(ConfigError, match=field):
        envelope_day(**{**SMALL, **change}, hours=2.0)
