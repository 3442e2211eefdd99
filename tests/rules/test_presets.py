"""Presets are data: the packaged file's values, a user's own file, and one-line errors for bad tables."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from dialer.rules.presets import get_preset, load_presets, packaged_text
from dialer.core.ledger import Interval
from dialer.rules.preset import preset_from_dict
from dialer.errors import ConfigError


def test_packaged_values_follow_rules_md() -> None:
    p = load_presets()
    no, uk, us, ca = p["NO"], p["UK"], p["US"], p["CA"]
    assert no.abandon_limit == Fraction(1, 20) and [str(i) for i in no.intervals] == ["day"]
    assert no.redial_rule == "forever" and no.redial_lockout is None
    assert no.dnc_rewash == "month" and no.timezone == "Europe/Oslo" and no.holidays == "NO"
    assert no.hours_on(0) == (9 * 3600.0, 21 * 3600.0) and no.hours_on(5) is None and no.hours_on(6) is None
    assert uk.abandon_limit == Fraction(3, 100) and uk.redial_lockout == 72 * 3600.0 and uk.dnc_rewash == 28
    assert uk.hours is None and uk.ring_timeout == 15.0
    assert us.abandon_limit == Fraction(3, 100) and [str(i) for i in us.intervals] == ["rolling 30d"]
    assert us.intervals[0].seconds == 30 * 86400.0 and us.hours_on(6) == (8 * 3600.0, 21 * 3600.0)
    assert ca.abandon_limit == Fraction(1, 20) and [str(i) for i in ca.intervals] == ["month"]
    assert ca.hours_on(4) == (9 * 3600.0, 21.5 * 3600.0) and ca.hours_on(5) == (10 * 3600.0, 18 * 3600.0)


def test_ledger_intervals_are_built_from_the_preset() -> None:
    import datetime as dt

    origin = dt.datetime(2026, 1, 5, tzinfo=get_preset("NO").tz)
    ivs = get_preset("US").ledger_intervals(origin)
    assert len(ivs) == 1 and ivs[0].kind == "rolling" and ivs[0].window == 30 * 86400.0
    assert all(isinstance(i, Interval) for i in get_preset("CA").ledger_intervals(origin))
    assert get_preset("NO").ledger_intervals(origin)[0].kind == "day"


def test_a_users_own_file(tmp_path: Path) -> None:
    f = tmp_path / "mine.toml"
    f.write_text(packaged_text() + '\n[NO-EVENING]\ntimezone = "Europe/Oslo"\nholidays = "NO"\n'
                 'abandon_limit = 0.03\nintervals = ["day", "campaign"]\n'
                 '[NO-EVENING.hours]\nweekdays = ["16:00", "21:00"]\nfriday = "closed"\n', encoding="utf-8")
    p = get_preset("NO-EVENING", f)
    assert p.abandon_limit == Fraction(3, 100) and p.closed_on_holidays
    assert p.hours_on(0) == (16 * 3600.0, 21 * 3600.0) and p.hours_on(4) is None and p.hours_on(5) is None


@pytest.mark.parametrize(
    "table, message",
    [
        ({"abandon_limit": 1.5}, r"X.abandon_limit must be a rate between 0 and 1, such as 0.05, got 1.5"),
        ({}, r"X.abandon_limit: missing"),
        ({"abandon_limit": 0.05, "timezone": "Mars/Olympus"}, r"X.timezone must be an IANA time zone.*'Mars/Olympus'"),
        ({"abandon_limit": 0.05, "holidays": "XX"}, r"X.holidays must be a country code.*got 'XX'"),
        ({"abandon_limit": 0.05, "intervals": ["weekly"]}, r"X.intervals must be one of .*got 'weekly'"),
        ({"abandon_limit": 0.05, "hours": {"weekdays": ["21:00", "09:00"]}}, r"X.hours.weekdays must be a window"),
        ({"abandon_limit": 0.05, "hours": {"funday": "closed"}}, r"X.hours must be one of .*got 'funday'"),
        ({"abandon_limit": 0.05, "hours": {"monday": ["9", "21:00"]}}, r"X.hours.monday must be a time of day"),
        ({"abandon_limit": 0.05, "redial_after_abandon": "soon"}, r"X.redial_after_abandon must be a duration"),
        ({"abandon_limit": 0.05, "dnc_rewash": "36h"}, r"X.dnc_rewash must be whole days"),
        ({"abandon_limit": 0.05, "limit": 0.05}, r"X: unknown key .*'limit'"),
    ],
)
def test_bad_tables_give_one_line(table: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        preset_from_dict("X", table)
    assert "\n" not in str(err.value)


def test_unknown_preset_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"preset must be one of NO, UK, US, CA, got 'SE'"):
        get_preset("SE")


def test_missing_or_malformed_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_presets(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[NO\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="malformed TOML"):
        load_presets(bad)
