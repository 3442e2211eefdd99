"""The units the whole project counts in: seconds in an hour and a day, the default day, a rate for people.

Owns: `HOUR` and `DAY` (seconds), `day_of(t)` (the default accounting day:
whole days of 86,400 s from t = 0, the key the core's floor and ledger use
when nobody gives them a calendar) and `pct(x)` (a rate as people read it).
Must not know about: anything of ours (a base module: every layer may
import it). Times are floats in seconds everywhere inside the project.

    day_of(2 * DAY + 5.0)   # -> 2
    pct(0.04)               # -> "4.00 %"
    pct(None)               # -> "—"
"""

from __future__ import annotations

HOUR = 3600.0
DAY = 86400.0


def day_of(t: float) -> int:
    """The default accounting day of time `t`: whole days of `DAY` seconds from t = 0."""
    return int(t // 86400.0)  # DAY as a literal: this is called for every event


def pct(x: float | None, digits: int = 2) -> str:
    """A rate as a percentage for people ("4.00 %"); None as a dash."""
    return "—" if x is None else f"{100 * x:.{digits}f} %"
