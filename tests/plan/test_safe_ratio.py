"""The largest fixed ratio offered as within the limit holds on its own floor, and the small-team rule.

The floors are the issue's: lognormal talk, a 2 s connect limit, ring times
that depend on the outcome, where the Markovian quick estimate is not
pessimistic. Their calling window is cut to two hours so that a search over
20 days takes seconds; a shorter day scatters more, which only makes the
test harder for the ratio offered. The tolerance bound is tested on days
made up for it: days that all keep the limit but scatter widely are refused.
"""

from __future__ import annotations


import pytest
from scipy import stats

from dialer.errors import ConfigError
from dialer.plan.analytic import campaign_theory
from dialer.plan.execute import run_tasks
from dialer.plan.runs import make_task
from dialer.plan.safe_ratio import (
    MIN_GAIN,
    Trial,
    break_bound,
    day_bound,
    ratio_scenario,
    tolerance_factor,
    verify_ratio,
    worth_predictive,
)
from dialer.sim import scenario as scn


def floor(agents: int, live: float, talk: float, ring: float | None = None, hours: tuple[str, str] = ("09:00", "11:00"),
          wrap: float | None = None) -> scn.Scenario:
    """The default floor with `agents` all day, a flat live-answer rate, lognormal talk (the default's
    shape), a lognormal ring of mean `ring` to an answer, a 2 s connect limit (`wrap` 0: no wrap-up)."""
    d = scn.default().model_dump(mode="json")
    c = d["campaigns"][0]
    d["agents"] = [{"name": "all", "count": agents}]
    d["study"]["hours"] = list(hours)
    c["outcomes"]["live"] = live
    c["outcomes"]["hours"] = {}
    c["durations"]["talk"] = {"dist": "lognormal", "mean": talk, "sd": talk * 120 / 170}
    if ring is not None:
        c["durations"]["ring"] = {"dist": "lognormal", "mean": ring, "sd": 8.0}
    if wrap is not None:
        c["durations"]["wrap"] = wrap
    c["connect_limit"] = 2.0
    c["leads"] = 1500 * agents
    c["lines"] = None
    return scn.from_dict(d)


def estimate(sc: scn.Scenario) -> float:
    rows = campaign_theory(sc, sc.campaigns[0])["rows"]
    return next(r for r in rows if r["model"] == "fixed-ratio, estimate")["ratio"]


def fresh_days(sc: scn.Scenario, ratio: float, seeds: range) -> list[dict]:
    data = sc.model_dump(mode="json")
    tasks = [make_task(ratio_scenario(data, "sales", ratio), s, trace=None) for s in seeds]
    results, _ = run_tasks(tasks)
    return [d for r in results for d in r["days"]]


def test_break_bound_is_the_clopper_pearson_bound():
    # with none over: 1 - (1 - confidence) ** (1 / N)
    for n in (1, 20, 60, 200):
        assert break_bound(n) == pytest.approx(1 - 0.05 ** (1 / n), rel=1e-9)
    assert break_bound(60, 0, 0.99) == pytest.approx(1 - 0.01 ** (1 / 60), rel=1e-9)
    assert break_bound(60, 2) == pytest.approx(stats.beta.ppf(0.95, 3, 58))
    assert break_bound(5, 5) == 1.0


def test_the_tolerance_factor_is_the_noncentral_t_one():
    # the published one-sided factor for 20 values, 99 % of the population, 95 % confidence (NIST/SEMATECH 7.2.6.3)
    assert tolerance_factor(20, 0.99, 0.95) == pytest.approx(3.295, abs=1e-3)
    assert tolerance_factor(60) == pytest.approx(3.695, abs=1e-3)  # the default: 99.9 % of days at 95 %
    assert tolerance_factor(20) > tolerance_factor(60) > stats.norm.ppf(0.999)  # fewer days, a wider bound
    assert tolerance_factor(1) == float("inf")


def spread(mean: float, sd: float, n: int = 60) -> list[float]:
    """`n` values with exactly this mean and sample sd (evenly spread normal scores)."""
    z = [stats.norm.ppf((i + 0.5) / n) for i in range(n)]
    zm = sum(z) / n
    zs = (sum((x - zm) ** 2 for x in z) / (n - 1)) ** 0.5
    return [mean + sd * (x - zm) / zs for x in z]


def test_days_just_under_the_limit_with_a_wide_spread_are_refused():
    # 60 days of 2,000 connects, 80 abandons on average (4 %), every one under the 100 the limit allows
    wide = spread(80.0, 8.0)  # the worst 99 (4.96 %): the 0-of-N rule took it
    assert max(wide) < 100
    b = day_bound(wide, [2000] * 60, 0.05)
    assert b.low < 0 and b.bound > 0.05 and b.factor == pytest.approx(tolerance_factor(60))
    assert b.rate_bound > 0.05  # the rates' own normal bound says the same here
    t = Trial(ratio=3.0, days=60, over=0, worst=max(wide) / 2000, abandon_rate=0.04, rates=(), limit=0.05, bound=b)
    assert not t.safe and "tolerance bound" in t.why
    narrow = spread(80.0, 2.0)  # the same mean, days close together: safe
    nb = day_bound(narrow, [2000] * 60, 0.05)
    assert nb.low > 0 and nb.bound < 0.05
    assert Trial(3.0, 60, 0, max(narrow) / 2000, 0.04, (), 0.05, nb).safe
    assert not Trial(3.0, 60, 1, 0.051, 0.04, (), 0.05, nb).safe  # a day over is refused whatever the bound
    # fewer days, a wider bound: the narrow days are refused on 3 of them
    assert day_bound(narrow[::20], [2000] * 3, 0.05).low < 0


def test_a_margin_of_zero_is_a_day_on_the_limit():
    # the bound is the margins' lower bound as a rate on the mean day: a margin of 0 is the limit itself
    b = day_bound([50.0, 50.0, 50.0], [1000, 1000, 1000], 0.05)
    assert b.margin_sd == 0 and b.low == pytest.approx(0.0, abs=1e-12) and b.bound == pytest.approx(0.05)
    assert day_bound([0, 0, 3, 0], [0, 400, 400, 400], 0.05).days == 3  # a day with nothing connected is left out
    with pytest.raises(ConfigError, match="at least 2"):
        day_bound([0, 1], [0, 400], 0.05)


def test_days_leaning_towards_the_limit_get_a_larger_factor():
    # a few days far out towards the limit: the margins lean left, and the factor grows (Cornish-Fisher)
    heavy = [40 + i % 5 for i in range(54)] + [75, 80, 85, 90, 95, 98]
    b = day_bound(heavy, [2000] * 60, 0.05)
    assert b.margin_skew < -2 * (6 / 60) ** 0.5 and b.skew > 0
    z = stats.norm.ppf(0.999)
    assert b.factor == pytest.approx(b.base_factor + (z * z - 1) * -b.margin_skew / 6)
    assert b.low < 0 and b.rate_bound < 0.05  # refused, where the rates' own normal bound would have passed them
    even = day_bound(spread(60.0, 4.0), [2000] * 60, 0.05)
    assert even.factor == even.base_factor and even.low > 0


@pytest.mark.slow
@pytest.mark.parametrize(
    "agents, live, talk, ring, wrap",
    [(10, 0.15, 130.0, 20.0, None), (50, 0.35, 300.0, None, None), (50, 0.35, 300.0, None, 0.0)],
    ids=["10 agents 15 % live", "50 agents 35 % live", "50 agents no wrap-up"],
)
def test_the_verified_ratio_keeps_the_limit_on_fresh_days(agents, live, talk, ring, wrap):
    sc = floor(agents, live, talk, ring, wrap=wrap)
    quick = estimate(sc)
    v = verify_ratio(sc, sc.campaigns[0], days=20, seed=0, estimate=quick)
    assert v.ratio is not None and v.days == 20 and v.seeds == (0, 19)
    assert v.worst_day_abandon_rate <= 0.05 and v.tolerance.bound <= 0.05
    assert v.tolerance.factor == pytest.approx(tolerance_factor(20))
    assert v.first_refused.ratio == pytest.approx(v.ratio + 0.05)  # the largest on the grid: the next one refused
    assert not v.first_refused.safe and not v.stepped_down
    (h,) = v.holdout  # checked on 7 days the search never saw (seeds 20-26), none over
    assert (h.ratio, h.days, h.over, h.seeds) == (v.ratio, 7, 0, (20, 26))
    # the 0-of-N rule's choice on the same days was higher: some ratio above had no day over, refused by its bound
    assert any(t.over == 0 and not t.safe and t.ratio > v.ratio for t in v.trials)

    days = fresh_days(sc, v.ratio, range(1000, 1060))  # seeds neither the search nor the check saw
    assert len(days) == 60
    assert not any(d["over_limit"] for d in days), max(d["abandon_rate"] for d in days)


@pytest.mark.slow
def test_the_quick_estimate_breaks_where_the_verified_ratio_holds():
    """The Markovian estimate on the 50-agent floor breaks the limit on fresh days (the issue's finding):
    the test above could fail."""
    sc = floor(50, 0.35, 300.0)
    days = fresh_days(sc, estimate(sc), range(1000, 1020))
    assert sum(d["over_limit"] for d in days) >= 2, [d["abandon_rate"] for d in days]


def test_the_search_stops_a_ratio_at_its_first_day_over_and_is_deterministic():
    sc = floor(3, 0.25, 170.0, hours=("09:00", "10:00"))
    a = verify_ratio(sc, sc.campaigns[0], days=12, seed=3, estimate=3.0)
    b = verify_ratio(sc, sc.campaigns[0], days=12, seed=3, estimate=3.0)
    assert a.as_dict() == b.as_dict()
    assert a.seeds == (3, 14)
    broken = [t for t in a.trials if t.over]
    assert broken and all(t.over == 1 and t.bound is None for t in broken)  # a ratio ends at its first day over
    assert all(t.days == 12 and t.bound is not None for t in a.trials if t.safe)
    assert a.ratio is not None and max(t.ratio for t in a.trials if t.safe) == a.ratio
    assert a.first_refused.ratio == pytest.approx(a.ratio + 0.05) and not a.first_refused.safe
    assert [h.seeds for h in a.holdout] == [(15, 19)]  # the default check: a third of the days, at least 5


def test_a_ratio_over_the_limit_on_a_held_out_day_is_stepped_down():
    # a loose bound (60 % of days at 95 %) on 8 days of an hour lets through ratios the held-out days break
    sc = floor(10, 0.15, 130.0, 20.0, hours=("09:00", "10:00"))
    v = verify_ratio(sc, sc.campaigns[0], days=8, seed=4, estimate=3.0, coverage=0.6, holdout=8)
    assert [(h.ratio, h.over > 0) for h in v.holdout] == [(3.65, True), (3.5, True), (3.4, False)]
    assert v.stepped_down == [3.65, 3.5] and v.ratio == 3.4
    assert all(h.seeds == (12, 19) for h in v.holdout)  # the seeds after the search's 4-11
    safe = {t.ratio for t in v.trials if t.safe}
    assert {3.65, 3.5, 3.4} <= safe and not safe & {3.55, 3.6}  # each step down: the next ratio safe on the search
    assert v.first_refused.ratio == 3.5 and v.as_dict()["first_refused"]["why"] == "a held-out day over the limit"


def test_days_must_be_enough_for_a_spread():
    sc = floor(3, 0.25, 170.0, hours=("09:00", "10:00"))
    with pytest.raises(ConfigError, match=r"--days must be at least 2 .*, got 1"):
        verify_ratio(sc, sc.campaigns[0], days=1)


def test_the_small_team_rule():
    assert worth_predictive(0.05, None)["worth_it"] is False
    assert worth_predictive(0.20, None)["worth_it"] is True
    assert worth_predictive(0.20, 0.25)["worth_it"] is False  # the days scatter more than the gain
    w = worth_predictive(0.20, 0.01)
    assert w["worth_it"] is True and "+20.0 points" in w["why"] and "±1.0 points" in w["why"]
    assert f"{100 * MIN_GAIN:.0f} points" in w["rule"]
