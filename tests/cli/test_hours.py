"""`dialer hours`: the window or `closed` and why, exit 0; a bad preset or date is one line and exit 2."""

from __future__ import annotations

import subprocess
import sys

import pytest


from cli_helpers import run

#: the `dialer` console script, run in a fresh process
DIALER = [sys.executable, "-c", "import sys; from dialer.cli import main; sys.exit(main(sys.argv[1:]))"]


@pytest.mark.parametrize(
    "date, expected",
    [
        ("2026-05-15", "2026-05-15 Friday: 09:00-21:00 Europe/Oslo"),
        ("2026-05-16", "2026-05-16 Saturday: closed: weekend (Saturday)"),
        ("2026-05-14", "2026-05-14 Thursday: closed: holiday: Ascension Day (Kristi himmelfartsdag)"),
        ("2026-05-17", "2026-05-17 Sunday: closed: holiday: Constitution Day (Grunnlovsdag); weekend (Sunday)"),
        ("2028-06-05", "2028-06-05 Monday: closed: holiday: Pentecost Monday (Andre pinsedag)"),
        ("2030-04-22", "2030-04-22 Monday: closed: holiday: Easter Monday (Andre påskedag)"),
    ],
)
def test_hours_prints_window_or_closed(date: str, expected: str, capsys) -> None:
    assert run(["hours", "--preset", "NO", "--date", date]) == 0
    assert capsys.readouterr().out.strip() == expected


def test_several_days(capsys) -> None:
    assert run(["hours", "--date", "2026-12-24", "--days", "5"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == [
        "09:00-21:00 Europe/Oslo",
        "closed: holiday: Christmas Day (Første juledag)",
        "closed: holiday: Second Day of Christmas (Andre juledag); weekend (Saturday)",
        "closed: weekend (Sunday)",
        "09:00-21:00 Europe/Oslo",
    ]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["hours", "--preset", "XX", "--date", "2026-01-01"], "dialer: error: preset must be one of NO, UK, US, CA, got 'XX'"),
        (["hours", "--date", "2026-02-30"], "dialer: error: argument --date: must be a date YYYY-MM-DD, got '2026-02-30'"),
        (["hours", "--date", "tomorrow"], "dialer: error: argument --date: must be a date YYYY-MM-DD, got 'tomorrow'"),
    ],
)
def test_bad_input_is_one_line_exit_2(argv: list[str], message: str) -> None:
    proc = subprocess.run([*DIALER, *argv], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip() == message
    assert proc.stdout == ""
