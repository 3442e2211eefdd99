"""Jurisdiction presets: the dialing rules of one market, checked and held as plain values.

Owns: `Preset` (abandon limit and accounting intervals, connect limit, ring
timeout, the repeat-call rule after an abandon, the do-not-call re-wash
period, the weekly calling hours and the public-holiday country) and
`preset_from_dict`, which turns one table of a presets file (already parsed,
see `dialer.rules.presets` for reading files) into a `Preset`, raising a
`ConfigError` that names the key and the bad value.

Rule 1: a preset is data. Nothing here decides whether a given instant is
open (that is `dialer.rules.calendar`) or paces a call (the controller); this
module only says what the rules are, and builds the ledger's `Interval`s.
Rule 2: no file, clock, database or SimPy. The caller reads the TOML.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dialer.checks import Flag, OrNone, check, is_number, non_negative, positive
from dialer.core.ledger import Interval, as_rate, month_key
from dialer.errors import ConfigError, bad
from dialer.units import DAY


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_GROUPS = {"weekdays": WEEKDAYS[:5], "weekends": WEEKDAYS[5:]}

#: keys a preset table may carry (besides [hours])
KEYS = (
    "title",
    "sources",
    "timezone",
    "holidays",
    "holiday_subdiv",
    "abandon_limit",
    "intervals",
    "connect_limit",
    "ring_timeout",
    "redial_after_abandon",
    "dnc_rewash",
    "closed_on_holidays",
    "caller_id",
    "hours",
)

Hours = tuple[float, float]  # seconds after local midnight: opens, closes


@dataclass(frozen=True, slots=True)
class IntervalRule:
    """One accounting interval of the abandon limit: "day", "month", "campaign" or "rolling" (with seconds)."""

    kind: str
    seconds: float | None = None

    def __str__(self) -> str:
        return f"rolling {_format_span(self.seconds)}" if self.kind == "rolling" else self.kind


@dataclass(frozen=True, slots=True)
class Preset:
    """The rules of one market. Build with `preset_from_dict`; every field is already checked.

    `hours`: one entry per weekday, Monday first: (opens, closes) in seconds
    after local midnight, or None when closed all day. `hours` None as a
    whole means the preset has no calling-hours rule (every instant is open
    unless a holiday closes it). `redial_lockout`: seconds after an abandon
    during which the number may only be redialled with an agent reserved;
    None with `redial_rule == "forever"` means for ever (norm 4.6.3).
    `dnc_rewash`: "month" or a number of days. `caller_id`: a campaign must
    declare the number it shows to the called party (norm 4.4.2).
    """

    name: str
    title: str
    sources: str
    timezone: str
    holidays: str
    holiday_subdiv: str | None
    abandon_limit: Fraction
    intervals: tuple[IntervalRule, ...]
    connect_limit: float
    ring_timeout: float | None
    redial_rule: str  # "forever" | "lockout" | "none"
    redial_lockout: float | None
    dnc_rewash: str | int
    hours: tuple[Hours | None, ...] | None
    closed_on_holidays: bool
    caller_id: bool = False  # a campaign must declare the number it shows to the called party

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def hours_on(self, weekday: int) -> Hours | None:
        """The calling window of a weekday (0 = Monday) in seconds after midnight; None: closed.

        A preset without an hours rule is open all day, every day.
        """
        if self.hours is None:
            return (0.0, DAY)
        return self.hours[weekday]

    def ledger_intervals(self, origin: dt.datetime, limit: Fraction | None = None) -> list[Interval]:
        """The ledger's intervals for a campaign whose time 0 is the aware datetime `origin`.

        Each at `limit` (default: the preset's own abandon limit; a campaign
        may hold itself to less). "day" is keyed by the controller's own day
        function; "month" reads the calendar month in `origin`'s time zone.
        """
        rate = self.abandon_limit if limit is None else limit
        out = []
        for rule in self.intervals:
            if rule.kind == "day":
                out.append(Interval.day(rate))
            elif rule.kind == "campaign":
                out.append(Interval.campaign(rate))
            elif rule.kind == "month":
                out.append(Interval.calendar("month", rate, key=month_key(origin)))
            elif rule.kind == "rolling":
                out.append(Interval.rolling(rate, window=float(rule.seconds or 0.0)))
            else:  # pragma: no cover - preset_from_dict admits no other kind
                raise AssertionError(rule.kind)
        return out

    def describe(self) -> dict[str, Any]:
        """Plain values for reports: the preset as a user would write it back."""
        hours: dict[str, Any] | None = None
        if self.hours is not None:
            hours = {
                day: ("closed" if h is None else [_format_clock(h[0]), _format_clock(h[1])])
                for day, h in zip(WEEKDAYS, self.hours)
            }
        return {
            "name": self.name,
            "title": self.title,
            "timezone": self.timezone,
            "holidays": self.holidays,
            "abandon_limit": float(self.abandon_limit),
            "intervals": [str(r) for r in self.intervals],
            "connect_limit": self.connect_limit,
            "ring_timeout": self.ring_timeout,
            "redial_after_abandon": (
                _format_span(self.redial_lockout) if self.redial_rule == "lockout" else self.redial_rule
            ),
            "dnc_rewash": self.dnc_rewash if self.dnc_rewash == "month" else f"{self.dnc_rewash}d",
            "closed_on_holidays": self.closed_on_holidays,
            "caller_id": self.caller_id,
            "hours": hours,
        }


# --- parsing ----------------------------------------------------------------------------------

_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": DAY}
_SPAN_SECONDS = positive("duration")
_SECONDS = non_negative("number of seconds")
_SECONDS_OR_NONE = OrNone(_SECONDS)


def parse_span(field: str, value: Any) -> float:
    """A positive duration: seconds as a number, or text such as "72h", "30d", "90s", "15m"."""
    if is_number(value):
        secs = float(check(field, value, _SPAN_SECONDS))
    elif isinstance(value, str) and (m := _SPAN.match(value)):
        secs = float(m.group(1)) * _UNIT[m.group(2)]
        if not _SPAN_SECONDS.accepts(secs):  # "0h", or more digits than a float holds
            raise bad(field, value, str(_SPAN_SECONDS))
    else:
        raise bad(field, value, 'a duration such as "72h", "30d" or a number of seconds')
    return secs


def _format_span(secs: float | None) -> str:
    if secs is None:
        return "forever"
    for unit, size in (("d", DAY), ("h", 3600.0), ("m", 60.0)):
        if unit == "d" and secs < 7 * DAY:
            continue  # "72h" reads better than "3d"
        if secs >= size and secs % size == 0:
            return f"{int(secs // size)}{unit}"
    return f"{secs:g}s"


def parse_clock(field: str, value: Any) -> float:
    """"HH:MM" -> seconds after midnight; "24:00" is allowed as a closing time."""
    m = re.match(r"^(\d{1,2}):(\d{2})$", value) if isinstance(value, str) else None
    if m is None or int(m.group(2)) >= 60 or int(m.group(1)) * 60 + int(m.group(2)) > 24 * 60:
        raise bad(field, value, 'a time of day "HH:MM"')
    return float(int(m.group(1)) * 3600 + int(m.group(2)) * 60)


def _format_clock(secs: float) -> str:
    h, m = divmod(int(secs) // 60, 60)
    return f"{h:02d}:{m:02d}"


def _seconds(field: str, value: Any, *, optional: bool = False) -> float | None:
    secs = check(field, value, _SECONDS_OR_NONE if optional else _SECONDS)
    return None if secs is None else float(secs)


def _text(field: str, value: Any, default: str = "") -> str:
    if value is None:
        return default
    if not isinstance(value, str):
        raise bad(field, value, "text")
    return value


def _day_window(field: str, value: Any) -> Hours | None:
    if value == "closed" or value is False:
        return None
    if not (isinstance(value, (list, tuple)) and len(value) == 2):
        raise bad(field, value, '["HH:MM", "HH:MM"] or "closed"')
    opens, closes = parse_clock(field, value[0]), parse_clock(field, value[1])
    if closes <= opens:
        raise bad(field, value, "a window that closes after it opens (the same day)")
    return (opens, closes)


def _hours(name: str, value: Any) -> tuple[Hours | None, ...] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise bad(f"{name}.hours", value, "a table of day names or groups (weekdays, weekends)")
    days: dict[str, Hours | None] = {}
    for key in ("weekdays", "weekends"):  # groups first: a named day wins over its group
        if key in value:
            w = _day_window(f"{name}.hours.{key}", value[key])
            for d in _GROUPS[key]:
                days[d] = w
    for key, v in value.items():
        if key in _GROUPS:
            continue
        if key not in WEEKDAYS:
            raise bad(f"{name}.hours", key, f"one of weekdays, weekends, {', '.join(WEEKDAYS)}")
        days[key] = _day_window(f"{name}.hours.{key}", v)
    return tuple(days.get(d) for d in WEEKDAYS)


def _intervals(name: str, value: Any) -> tuple[IntervalRule, ...]:
    field = f"{name}.intervals"
    if value is None:
        value = ["day"]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise bad(field, value, 'a non-empty list such as ["day"] or ["day", "rolling 30d"]')
    out: list[IntervalRule] = []
    for item in value:
        if item in ("day", "month", "campaign"):
            out.append(IntervalRule(item))
        elif isinstance(item, str) and item.startswith("rolling "):
            out.append(IntervalRule("rolling", parse_span(field, item[len("rolling ") :])))
        else:
            raise bad(field, item, 'one of "day", "month", "campaign", "rolling DURATION" (e.g. "rolling 30d")')
    if len(set(out)) != len(out):
        raise bad(field, value, "a list without repeats")
    return tuple(out)


def _redial(name: str, value: Any) -> tuple[str, float | None]:
    if value is None or value == "forever":
        return "forever", None
    if value == "none":
        return "none", None
    return "lockout", parse_span(f"{name}.redial_after_abandon", value)


def _rewash(name: str, value: Any) -> str | int:
    field = f"{name}.dnc_rewash"
    if value is None or value == "month":
        return "month"
    secs = parse_span(field, value)
    if secs % DAY:
        raise bad(field, value, 'whole days such as "28d", or "month"')
    return int(secs // DAY)


def _holiday_country(name: str, code: Any, subdiv: Any) -> tuple[str, str | None]:
    code = _text(f"{name}.holidays", code)
    subdiv = None if subdiv is None else _text(f"{name}.holiday_subdiv", subdiv)
    if not code:
        if subdiv:
            raise bad(f"{name}.holiday_subdiv", subdiv, "left out when no holidays country is given")
        return "", None
    import holidays  # pure data: the public-holiday rules of each country

    supported = holidays.list_supported_countries()
    if code not in supported:
        raise bad(f"{name}.holidays", code, 'a country code of the holidays package such as "NO", or ""')
    if subdiv is not None and subdiv not in supported[code]:
        raise bad(f"{name}.holiday_subdiv", subdiv, f"one of {', '.join(supported[code]) or '(none)'}")
    return code, subdiv


def preset_from_dict(name: str, data: Any) -> Preset:
    """Check one preset table (as parsed from TOML) and build the `Preset`."""
    if not isinstance(data, Mapping):
        raise bad(name, data, "a table of preset keys")
    for key in data:
        if key not in KEYS:
            raise ConfigError(f"{name}: unknown key (check the spelling), got {key!r}; known: {', '.join(KEYS)}")
    tzname = _text(f"{name}.timezone", data.get("timezone"), "UTC")
    try:
        ZoneInfo(tzname)
    except (ZoneInfoNotFoundError, ValueError):
        raise bad(f"{name}.timezone", tzname, "an IANA time zone such as 'Europe/Oslo'") from None
    country, subdiv = _holiday_country(name, data.get("holidays", ""), data.get("holiday_subdiv"))
    closed_on_holidays = data.get("closed_on_holidays", bool(country))
    check(f"{name}.closed_on_holidays", closed_on_holidays, Flag())
    if closed_on_holidays and not country:
        raise bad(f"{name}.closed_on_holidays", True, "false when no holidays country is given")
    if "abandon_limit" not in data:
        raise ConfigError(f"{name}.abandon_limit: missing (required)")
    limit = as_rate(data["abandon_limit"], f"{name}.abandon_limit")
    rule, lockout = _redial(name, data.get("redial_after_abandon"))
    caller_id = check(f"{name}.caller_id", data.get("caller_id", False), Flag())
    ring = _seconds(f"{name}.ring_timeout", data.get("ring_timeout"), optional=True)
    if ring is not None and ring <= 0:
        raise bad(f"{name}.ring_timeout", ring, "a positive number of seconds")
    return Preset(
        name=name,
        title=_text(f"{name}.title", data.get("title"), name),
        sources=_text(f"{name}.sources", data.get("sources")),
        timezone=tzname,
        holidays=country,
        holiday_subdiv=subdiv,
        abandon_limit=limit,
        intervals=_intervals(name, data.get("intervals")),
        connect_limit=float(_seconds(f"{name}.connect_limit", data.get("connect_limit", 2.0)) or 0.0),
        ring_timeout=ring,
        redial_rule=rule,
        redial_lockout=lockout,
        dnc_rewash=_rewash(name, data.get("dnc_rewash")),
        hours=_hours(name, data.get("hours")),
        closed_on_holidays=closed_on_holidays,
        caller_id=bool(caller_id),
    )


def presets_from_dict(data: Any, *, source: str = "presets") -> dict[str, Preset]:
    """Every table of a parsed presets file, by name."""
    if not isinstance(data, Mapping) or not data:
        raise bad(source, data, "a TOML file with one table per preset, such as [NO]")
    out = {}
    for name, table in data.items():
        try:
            out[name] = preset_from_dict(name, table)
        except ConfigError as err:
            raise ConfigError(f"{source}: {err}") from None
    return out
