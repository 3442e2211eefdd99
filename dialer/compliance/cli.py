"""The compliance commands: calling hours, do-not-call registers, the statistics store, the audit.

    dialer hours [--preset NO] [--date YYYY-MM-DD] [--days N] [--presets FILE]
    dialer dnc import national|internal FILE [--store URL] [--strict]
    dialer dnc wash LEADS.csv --out WASHED.csv [--store URL] [--call-uncertain]
    dialer stats export --campaign NAME [--from DATE] [--to DATE] [--store URL] [--csv PATH]
    dialer stats retain [--store URL] [--today DATE] [--months 12] --yes
    dialer audit --campaign NAME --from DATE --to DATE [--store URL] [--html PATH] [--preset NO]

Owns: parsing these flags and printing; every error a user can cause is one
line (`dialer: error: ...`, exit 2).
Must not know about: how rules are decided (`dialer.core`), how rows are kept
(`dialer.compliance.store`). Registers itself with `dialer.cli`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

from dialer import cli
from dialer.errors import ConfigError  # noqa: F401  (raised by the commands below)


def _command(name: str, help: str, arguments: cli.Arguments) -> Any:
    """`cli.command`, also into the copy of `dialer.cli` that `python -m dialer.cli` runs as __main__."""
    hosts = [cli]
    main = sys.modules.get("__main__")
    if main is not None and main is not cli and getattr(getattr(main, "__spec__", None), "name", "") == "dialer.cli":
        hosts.append(main)

    def deco(run: cli.Runner) -> cli.Runner:
        for host in hosts:
            host.command(name, help, arguments)(run)
        return run

    return deco


def iso_date(text: str) -> dt.date:
    """argparse type: a calendar date YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a date YYYY-MM-DD, got {text!r}") from None


def _positive_days(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= 3660:
        raise argparse.ArgumentTypeError(f"must be a whole number of days from 1 to 3660, got {text!r}")
    return n


# --- dialer hours ------------------------------------------------------------------------------


def _hours_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", default="NO", help="jurisdiction preset (default NO)")
    p.add_argument("--date", type=iso_date, help="the date, YYYY-MM-DD (default: today in the preset's time zone)")
    p.add_argument("--days", type=_positive_days, default=1, help="print this many days from --date (default 1)")
    p.add_argument("--presets", metavar="FILE", help="a presets TOML file of your own (default: the packaged one)")


@_command("hours", "the calling window of a date under a preset, or 'closed' and why", _hours_args)
def run_hours(args: argparse.Namespace) -> int:
    from dialer.compliance.presets import get_preset
    from dialer.core.calendar import CallingCalendar

    preset = get_preset(args.preset, args.presets)
    cal = CallingCalendar(preset)
    date = args.date or dt.datetime.now(preset.tz).date()
    for i in range(args.days):
        d = date + dt.timedelta(days=i)
        print(f"{d.isoformat()} {d:%A}: {cal.day(d)}")
    return 0
