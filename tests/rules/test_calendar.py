"""The calling window under the presets: Norwegian public holidays 2025-2030 day by day, weekends,
hours at the edges, daylight saving, next opening, and the other markets' tables.

The expected holidays are written out here from the Easter dates (not taken
from the `holidays` package the calendar uses): a wrong package version or a
wrong country code fails these tests.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from dialer.rules.presets import get_preset, load_presets
from dialer.rules.calendar import CallingCalendar, Closed, Window

OSLO = ZoneInfo("Europe/Oslo")

EASTER = {
    2025: dt.date(2025, 4, 20),
    2026: dt.date(2026, 4, 5),
    2027: dt.date(2027, 3, 28),
    2028: dt.date(2028, 4, 16),
    2029: dt.date(2029, 4, 1),
    2030: dt.date(2030, 4, 21),
}


def norwegian_holidays(year: int) -> dict[dt.date, list[str]]:
    """Lov om helligdager + 1. og 17. mai: the days the norm (4.2 j) closes, with their English names."""
    e = EASTER[year]
    d = dt.timedelta
    days = [
        (dt.date(year, 1, 1), "New Year's Day"),
        (e - d(days=3), "Maundy Thursday"),
        (e - d(days=2), "Good Friday"),
        (e, "Easter Sunday"),
        (e + d(days=1), "Easter Monday"),
        (dt.date(year, 5, 1), "Labor Day"),
        (dt.date(year, 5, 17), "Constitution Day"),
        (e + d(days=39), "Ascension Day"),
        (e + d(days=49), "Pentecost"),
        (e + d(days=50), "Pentecost Monday"),
        (dt.date(year, 12, 25), "Christmas Day"),
        (dt.date(year, 12, 26), "Second Day of Christmas"),
    ]
    out: dict[dt.date, list[str]] = {}
    for day, name in days:
        out.setdefault(day, []).append(name)  # 17 May 2027 is also Whit Monday
    return out


@pytest.fixture(scope="module")
def no() -> CallingCalendar:
    return CallingCalendar(get_preset("NO"))


@pytest.mark.parametrize("year", sorted(EASTER))
def test_every_day_of_the_year_in_norway(no: CallingCalendar, year: int) -> None:
    expected = norwegian_holidays(year)
    day = dt.date(year, 1, 1)
    while day.year == year:
        w = no.day(day)
        if day in expected:
            assert isinstance(w, Closed), day
            assert w.holiday is not None, day
            assert sorted(w.holiday.split(" (")[0].split(" + ")) == sorted(expected[day]), (day, w.holiday)
        elif day.weekday() >= 5:
            assert isinstance(w, Closed) and w.holiday is None, day
            assert w.reasons == (f"weekend ({day:%A})",)
        else:
            assert isinstance(w, Window), (day, w)
            assert (w.opens.hour, w.opens.minute, w.closes.hour, w.closes.minute) == (9, 0, 21, 0)
            assert w.opens.tzinfo is OSLO or str(w.opens.tzinfo) == "Europe/Oslo"
        day += dt.timedelta(days=1)


def test_known_dates(no: CallingCalendar) -> None:
    assert str(no.day(dt.date(2026, 5, 17))) == (
        "closed: holiday: Constitution Day (Grunnlovsdag); weekend (Sunday)"
    )
    assert "Kristi himmelfartsdag" in str(no.day(dt.date(2027, 5, 6)))
    assert "Andre pinsedag" in str(no.day(dt.date(2028, 6, 5)))
    assert "Skjærtorsdag" in str(no.day(dt.date(2029, 3, 29)))
    # Christmas Eve and New Year's Eve are not public holidays in Norway: the law lets a centre call
    assert isinstance(no.day(dt.date(2025, 12, 24)), Window)
    assert isinstance(no.day(dt.date(2025, 12, 31)), Window)


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=OSLO)


def test_edges_of_the_window(no: CallingCalendar) -> None:
    assert not no.allowed(at(2026, 5, 15, 8, 59, 59))
    assert no.allowed(at(2026, 5, 15, 9, 0, 0))
    assert no.allowed(at(2026, 5, 15, 20, 59, 59))
    assert not no.allowed(at(2026, 5, 15, 21, 0, 0))  # no dial starts at the close
    assert not no.allowed(at(2026, 5, 14, 12, 0))  # Ascension Day
    assert no.reason_closed(at(2026, 5, 15, 21, 0)) == "after 21:00"
    assert no.reason_closed(at(2026, 5, 15, 7, 0)) == "before 09:00"
    assert no.reason_closed(at(2026, 5, 16, 12, 0)) == "weekend (Saturday)"
    assert no.reason_closed(at(2026, 5, 15, 12, 0)) is None


def test_instants_in_other_zones_are_read_in_oslo(no: CallingCalendar) -> None:
    utc = dt.timezone.utc
    # summer: Oslo is UTC+2, so 07:00 UTC is 09:00 local and 19:00 UTC is 21:00 local
    assert no.allowed(dt.datetime(2026, 6, 10, 7, 0, tzinfo=utc))
    assert not no.allowed(dt.datetime(2026, 6, 10, 6, 59, tzinfo=utc))
    assert not no.allowed(dt.datetime(2026, 6, 10, 19, 0, tzinfo=utc))
    # winter: UTC+1
    assert no.allowed(dt.datetime(2026, 1, 14, 19, 59, tzinfo=utc))
    assert not no.allowed(dt.datetime(2026, 1, 14, 20, 0, tzinfo=utc))


def test_daylight_saving_day_keeps_local_hours(no: CallingCalendar) -> None:
    w = no.day(dt.date(2026, 3, 30))  # the Monday after the spring change
    assert isinstance(w, Window)
    assert w.opens.utcoffset() == dt.timedelta(hours=2)
    assert (w.closes - w.opens) == dt.timedelta(hours=12)


def test_next_opening(no: CallingCalendar) -> None:
    # Friday 15 May 2026 at the close -> Saturday, Sunday (17 May) closed -> Monday 09:00
    assert no.next_opening(at(2026, 5, 15, 21, 0)) == at(2026, 5, 18, 9, 0)
    # inside the window: now
    assert no.next_opening(at(2026, 5, 15, 10, 30)) == at(2026, 5, 15, 10, 30)
    # before opening the same day
    assert no.next_opening(at(2026, 5, 15, 6, 0)) == at(2026, 5, 15, 9, 0)
    # Maundy Thursday 2026 evening -> Good Friday, Saturday, Easter Sunday, Easter Monday closed -> Tuesday
    assert no.next_opening(at(2026, 4, 1, 22, 0)) == at(2026, 4, 7, 9, 0)
    # Christmas 2026: Friday 25 and Saturday 26 closed, Sunday closed -> Monday 28
    assert no.next_opening(at(2026, 12, 24, 21, 0)) == at(2026, 12, 28, 9, 0)


def test_a_naive_instant_is_refused(no: CallingCalendar) -> None:
    with pytest.raises(ValueError, match=r"instant must be a datetime with a time zone, got datetime"):
        no.allowed(dt.datetime(2026, 5, 15, 12, 0))
    with pytest.raises(ValueError, match=r"date must be a calendar date"):
        no.day("2026-05-15")  # type: ignore[arg-type]


def test_other_markets() -> None:
    presets = load_presets()
    assert set(presets) == {"NO", "UK", "US", "CA"}
    ca = CallingCalendar(presets["CA"])
    sat = ca.day(dt.date(2026, 5, 16))
    assert isinstance(sat, Window) and (sat.opens.hour, sat.closes.hour) == (10, 18)
    wed = ca.day(dt.date(2026, 5, 13))
    assert isinstance(wed, Window) and (wed.closes.hour, wed.closes.minute) == (21, 30)
    us = CallingCalendar(presets["US"])
    assert isinstance(us.day(dt.date(2026, 12, 25)), Window)  # no federal holiday rule for telemarketing
    uk = CallingCalendar(presets["UK"])
    assert uk.allowed(dt.datetime(2026, 5, 16, 3, 0, tzinfo=ZoneInfo("Europe/London")))  # no hours rule


def test_the_dates_a_calendar_answers_for_are_the_years_the_holidays_package_knows():
    """Outside them every holiday is missing: 1 January 1900 was an open Monday. Such a date is refused."""
    from dialer.errors import ConfigError
    from dialer.rules.calendar import check_date, supported_dates

    cal = CallingCalendar(get_preset("NO"))
    assert cal.dates == supported_dates("NO") == (dt.date(1901, 1, 1), dt.date(2100, 12, 31))
    assert "New Year" in str(cal.day(dt.date(1901, 1, 1)))
    assert check_date("--date", dt.date(2100, 12, 31), "NO") == dt.date(2100, 12, 31)
    with pytest.raises(ConfigError, match=r"^--date must be a date from 1901-01-01 to 2100-12-31 \(the years whose "
                                          r"public holidays are known for NO\), got '1900-01-01'$"):
        check_date("--date", dt.date(1900, 1, 1), "NO")
    assert supported_dates() == (dt.date(1901, 1, 1), dt.date(2100, 12, 31))  # no country: the package's default
    assert supported_dates("SE")[0] == dt.date(1953, 1, 1)  # a country's own first year
