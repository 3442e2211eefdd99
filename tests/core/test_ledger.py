"""The abandon ledger on its own: the headroom formula, exact rates, and each kind of interval."""

from __future__ import annotations

import math
from datetime import datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.core.ledger import Interval, Ledger, Tally, as_rate, month_key, room
from dialer.errors import ConfigError

DAY = 86400.0


def settle(ledger: Ledger, placed_at: float, *, connects: int = 0, abandons: int = 0, at: float | None = None):
    """Count `connects` put-through and `abandons` abandoned calls, all placed at `placed_at`."""
    at = placed_at if at is None else at
    for _ in range(connects):
        ledger.count(placed_at, abandoned=False, at=at)
    for _ in range(abandons):
        ledger.count(placed_at, abandoned=True, at=at)


# --- the formula -------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "abandoned", "established", "expected"),
    [
        ("0.05", 0, 0, 0),  # nothing established yet: not one call may be exposed
        ("0.05", 0, 18, 0),  # (0 + 1) / (18 + 1) = 5.26 % > 5 %
        ("0.05", 0, 19, 1),  # (0 + 1) / (19 + 1) = 5 % exactly: allowed
        ("0.05", 0, 38, 2),
        ("0.05", 1, 40, 1),  # (1 + 1) / 41 = 4.9 %; (1 + 2) / 42 = 7.1 %
        ("0.05", 1, 20, 0),  # at the limit exactly
        ("0.05", 2, 20, -2),  # over: 10 %
        ("1/3", 0, 3, 1),  # 1/4 <= 1/3 < 2/5
        ("1/3", 1, 3, 0),
        ("0.5", 0, 10, 10),
        ("0.57", 57, 100, 0),  # float 0.57 * 100 = 56.99999999999999 would call this over
        ("0", 0, 500, 0),  # r = 0: never any exposure
        ("0", 1, 500, -1),
    ],
)
def test_headroom_at_hand_computed_points(limit, abandoned, established, expected):
    assert room(as_rate(limit), abandoned, established) == expected


def test_a_limit_of_one_is_unbounded():
    assert room(Fraction(1), 5, 5) == math.inf


@settings(max_examples=300, derandomize=True)
@given(
    p=st.integers(0, 40),
    q=st.integers(1, 40),
    abandoned=st.integers(0, 60),
    established=st.integers(0, 400),
)
def test_headroom_is_the_largest_exposure_that_keeps_the_worst_case_within_the_limit(p, q, abandoned, established):
    if p >= q:
        return
    r = Fraction(p, q)
    abandoned = min(abandoned, established)
    h = room(r, abandoned, established)
    # the definition: A + k <= r (C + k), checked by brute force around h
    assert abandoned + h <= r * (established + h)
    assert not abandoned + h + 1 <= r * (established + h + 1)


def _worst_ok(r, tallies, pools, idle) -> bool:
    """Brute force: every key stays within r for every number of answers among every key's pool.

    The adversary answers j of a key's calls after j_other of the other keys' (which take idle
    agents first): the key's abandons are max(0, j - max(0, idle - j_other)).
    """
    for key, (a, c) in tallies.items():
        others = sum(m for k, m in pools.items() if k != key)
        for j in range(pools.get(key, 0) + 1):
            for j_other in range(others + 1):
                ab = max(0, j - max(0, idle - j_other))
                if a + ab > r * (c + j):
                    return False
    return True


@settings(max_examples=300, derandomize=True)
@given(
    limit=st.sampled_from([Fraction(1, 20), Fraction(1, 5), Fraction(1, 3), Fraction(0)]),
    today=st.tuples(st.integers(0, 3), st.integers(0, 50), st.integers(0, 4)),  # abandoned, established, open
    yesterday=st.tuples(st.integers(0, 3), st.integers(0, 50), st.integers(0, 4)),
    idle=st.integers(0, 5),
    stop=st.integers(0, 3),
)
def test_dial_room_and_headroom_are_the_exact_worst_case_over_every_answer(limit, today, yesterday, idle, stop):
    """Two keys of a day in play (calls still open from before midnight): `dial_room` is the most new
    dials (today's) and `headroom` the largest exposure that keep every key within its limit whatever
    is answered, against a brute force over the answers; a key already over is only given covered dials."""
    ledger = Ledger([Interval.day(limit)], day_of=lambda t: int(t // 1000.0))
    tallies, pools = {}, {}
    for key, (a, c, m) in ((0, yesterday), (1, today)):
        a = min(a, c)
        settle(ledger, 1000.0 * key + 1.0, connects=c - a, abandons=a, at=1000.0 * key + 1.0)
        for _ in range(m):
            ledger.open_call(1000.0 * key + 2.0)
        tallies[key], pools[key] = (a, c), m
    if any(a > limit * c for a, c in tallies.values()):
        return  # over already: the controller's covered dials only (tests/core/test_envelope.py)
    now = 1500.0
    pooled = sum(pools.values())
    idle_left = max(0, idle - stop)
    uncovered = pooled - idle_left
    x = ledger.dial_room(now, 0.0, pooled, uncovered)
    assert x >= -uncovered
    if _worst_ok(limit, tallies, pools, idle_left):
        assert x >= 0
        assert _worst_ok(limit, tallies, {0: pools[0], 1: pools[1] + x}, idle_left)
        assert not _worst_ok(limit, tallies, {0: pools[0], 1: pools[1] + x + 1}, idle_left)
    else:
        assert x < 0 or x == -uncovered
    # headroom: the largest exposure with the pool as it is (agents stopping covering), never bolder
    h = ledger.headroom(now, 0.0, pooled)
    if h != math.inf and h >= 0:
        assert _worst_ok(limit, tallies, pools, pooled - min(h, pooled))


def test_limits_are_exact_fractions_of_their_decimal_text():
    assert as_rate(0.05) == Fraction(1, 20)
    assert as_rate("0.05") == Fraction(1, 20)
    assert as_rate(Fraction(1, 3)) == Fraction(1, 3)
    assert Interval.day(0.1).limit == Fraction(1, 10)


@pytest.mark.parametrize("bad", [-0.01, 1.5, float("nan"), float("inf"), True, "five", None])
def test_a_bad_limit_names_the_field_and_the_value(bad):
    with pytest.raises(ConfigError, match=rf"^day\.limit must be a rate between 0 and 1, such as 0\.05, got {bad!r}"):
        Interval.day(bad)


def test_bad_interval_fields_are_named():
    with pytest.raises(ConfigError, match=r"^rolling\.window must be a positive number of seconds, got -5"):
        Interval.rolling(0.03, window=-5)
    with pytest.raises(
        ConfigError, match=r"^interval\.kind must be one of day, calendar, campaign, rolling, got 'week'"
    ):
        Interval(kind="week", limit=0.05)
    with pytest.raises(ConfigError, match=r"^month\.key must be a function"):
        Interval.calendar("month", 0.05, key=None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"^interval\.name must be unique within a ledger, got 'day'"):
        Ledger([Interval.day(0.05), Interval.day(0.03)])


# --- calendar day ------------------------------------------------------------


def test_the_day_counts_calls_where_they_were_placed_and_the_strictest_interval_wins():
    ledger = Ledger([Interval.day(0.05), Interval.campaign(Fraction(1, 10))])
    settle(ledger, 100.0, connects=19)
    assert ledger.headroom(200.0) == 1  # day: 19 // 19; campaign: 19 // 9 = 2
    settle(ledger, 200.0, abandons=1)
    assert ledger.headroom(300.0) == 0  # day at 1/20 exactly
    states = {s.name: s for s in ledger.snapshot(300.0)}
    assert (states["day"].abandoned, states["day"].established) == (1, 20)
    assert states["day"].rate == Fraction(1, 20) and not states["day"].over
    assert states["day"].key == 0
    assert states["campaign"].headroom == (20 - 10) // 9


def test_a_new_day_starts_empty_so_its_headroom_is_zero():
    ledger = Ledger([Interval.day(0.05)])
    settle(ledger, 1000.0, connects=100)
    assert ledger.headroom(DAY - 10.0, horizon=30.0) == 5  # a dial at 23:59:50 spends yesterday's budget
    assert ledger.headroom(DAY) == 0
    assert ledger.tally("day", 0) == Tally(0, 100)
    assert ledger.tally("day", 1) == Tally(0, 0)


def test_a_call_placed_before_midnight_and_resolved_after_counts_in_its_own_day():
    ledger = Ledger([Interval.day(0.05)])
    ledger.count(DAY - 5.0, abandoned=False, at=DAY + 10.0)
    assert ledger.history("day") == {0: Tally(0, 1)}


def test_open_calls_of_an_ended_day_keep_that_day_in_the_minimum():
    ledger = Ledger([Interval.day(0.05)])
    settle(ledger, 10.0, connects=60, abandons=3)  # yesterday: 3/63, headroom 0
    settle(ledger, DAY + 1.0, connects=400)  # today: plenty of room
    assert ledger.headroom(DAY + 5.0) == 21
    ledger.open_call(DAY - 2.0)  # an unreserved dial from yesterday is still ringing
    assert ledger.headroom(DAY + 5.0) == 0
    ledger.close_call(DAY - 2.0)
    assert ledger.headroom(DAY + 5.0) == 21


def test_a_custom_day_key_is_used_for_days():
    ledger = Ledger([Interval.day(0.5)], day_of=lambda t: int(t // 100.0))
    settle(ledger, 50.0, connects=2)
    assert ledger.headroom(99.0) == 2
    assert ledger.headroom(100.0) == 0


def test_months_follow_the_local_calendar():
    origin = datetime(2026, 3, 31, 23, 0, tzinfo=ZoneInfo("Europe/Oslo"))
    key = month_key(origin)
    assert key(0.0) == (2026, 3)
    assert key(3599.0) == (2026, 3)
    assert key(3600.0) == (2026, 4)
    ledger = Ledger([Interval.calendar("month", 0.05, key=key)])
    settle(ledger, 0.0, connects=40)
    assert ledger.headroom(100.0) == 2
    assert ledger.headroom(3600.0) == 0
    with pytest.raises(ConfigError, match=r"^origin must be a datetime with a time zone"):
        month_key(datetime(2026, 1, 1))


# --- campaign-to-date and zero limits ------------------------------------------


def test_a_zero_limit_never_allows_exposure():
    ledger = Ledger([Interval.campaign(0)])
    assert ledger.headroom(0.0) == 0
    settle(ledger, 0.0, connects=10_000)
    assert ledger.headroom(1.0) == 0


# --- rolling window ------------------------------------------------------------


def test_rolling_counts_only_connects_still_in_the_window_at_the_horizon():
    ledger = Ledger([Interval.rolling(0.05, window=1000.0)])
    settle(ledger, 10.0, connects=19)
    settle(ledger, 500.0, connects=19)
    assert ledger.headroom(900.0, horizon=50.0) == 2  # all 38 stay in (-50, 950]
    assert ledger.headroom(990.0, horizon=30.0) == 1  # by 1020 the first 19 have left
    assert ledger.headroom(990.0, horizon=0.0) == 2
    snap = ledger.snapshot(990.0, horizon=30.0)[0]
    assert (snap.abandoned, snap.established, snap.headroom) == (0, 38, 1)


def test_rolling_keeps_every_abandon_that_may_still_be_in_the_window():
    ledger = Ledger([Interval.rolling(Fraction(1, 3), window=100.0)])
    settle(ledger, 0.0, abandons=1)
    settle(ledger, 90.0, connects=8)
    # the abandon (placed at 0) is in (now - 100, now] until now = 100; as an established call it
    # only counts while it will still be there at now + horizon; room = (1 C - 3 A) // 2
    assert ledger.headroom(50.0, horizon=20.0) == (9 - 3 * 1) // 2
    assert ledger.headroom(99.0, horizon=20.0) == (8 - 3 * 1) // 2  # gone by 119 as a connect, not as an abandon
    assert ledger.headroom(100.0, horizon=20.0) == 8 // 2  # the abandon has left


def test_rolling_rate_can_rise_passively_and_the_snapshot_says_how_far():
    ledger = Ledger([Interval.rolling(0.05, window=1000.0)])
    settle(ledger, 0.0, connects=95)  # morning
    settle(ledger, 600.0, connects=0, abandons=5)  # afternoon: 5 / 100, at the limit
    state = ledger.snapshot(700.0)[0]
    assert state.rate == Fraction(5, 100) and not state.over
    assert state.peak_if_idle == Fraction(1)  # once the morning has left: 5 / 5
    assert ledger.snapshot(1001.0)[0].over  # and so it is, with no call at all


def test_rolling_forgets_old_calls_but_stays_exact():
    ledger = Ledger([Interval.rolling(0.5, window=10.0)])
    for i in range(5000):
        ledger.count(float(i), abandoned=(i % 3 == 0), at=float(i))
    state = ledger.snapshot(4999.0)[0]
    # (4989, 4999]: placements 4990..4999; abandons at multiples of 3: 4992, 4995, 4998
    assert (state.abandoned, state.established) == (3, 10)
    assert len(ledger._rolling[0][1].established.times) < 3000  # old entries were dropped


def test_snapshot_as_dict_is_plain_numbers():
    ledger = Ledger([Interval.day(0.05), Interval.campaign(1)])
    settle(ledger, 0.0, connects=19, abandons=1)
    d = {s.name: s.as_dict() for s in ledger.snapshot(1.0)}
    assert d["day"] == {
        "name": "day",
        "kind": "day",
        "key": 0,
        "abandoned": 1,
        "established": 20,
        "rate": 0.05,
        "limit": 0.05,
        "headroom": 0,
        "over": False,
        "peak_if_idle": None,
    }
    assert d["campaign"]["headroom"] is None  # unbounded
