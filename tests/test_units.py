"""The project's units, defined once: the day and the hour in seconds, the default day, a rate for people."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import dialer.units
from dialer.core.floor import Floor
from dialer.core.ledger import Interval, Ledger
from dialer.units import DAY, HOUR, day_of, pct


def test_the_day_and_the_hour_in_seconds():
    assert (HOUR, DAY) == (3600.0, 86400.0) and DAY == 24 * HOUR


@pytest.mark.parametrize("t, day", [(0.0, 0), (DAY - 1e-6, 0), (DAY, 1), (2 * DAY + 5.0, 2), (-1.0, -1)])
def test_day_of_counts_whole_days_from_zero(t, day):
    assert day_of(t) == day and type(day_of(t)) is int


def test_the_floor_and_the_ledger_share_the_default_day():
    assert Floor().day_of is day_of
    assert Ledger([Interval.day(0.05)]).day_of is day_of


@pytest.mark.parametrize("x, digits, text", [(0.04, 2, "4.00 %"), (0.12345, 3, "12.345 %"), (1.0, 0, "100 %"),
                                             (None, 2, "—")])
def test_pct_is_a_rate_for_people(x, digits, text):
    assert pct(x, digits) == text


def test_units_imports_nothing_of_ours():
    tree = ast.parse(Path(dialer.units.__file__).read_text(encoding="utf-8"))
    assert not [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                and any((getattr(n, "module", None) or a.name).startswith("dialer") for a in n.names)]
