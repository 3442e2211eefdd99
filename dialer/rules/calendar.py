"""The calling window: may a campaign under a preset dial at this instant, and when may it next?

Owns: `CallingCalendar` (a `Preset`'s hours, time zone and public holidays
turned into answers), `Window` (the open hours of one date, as aware
datetimes), `Closed` (a date with no calling, and why) and the dates a
calendar can answer for (`supported_dates`, `check_date`: the years the
`holidays` package covers, 1901-2100 for Norway).
Rule 1: pure. Every question takes the date or the aware instant it is
about; nothing reads a clock. The `holidays` package computes the public
holidays (Easter-based days included) without I/O. A window closes at its
end (no dial starts at 21:00:00) and is read on the preset's wall clock, so
a daylight-saving day keeps 09:00-21:00 local.
Rule 2: knows nothing of campaigns, calls, pacers or the simulator.

    cal = CallingCalendar(preset_NO)
    cal.day(date(2026, 5, 14))     # Closed(date, reasons=("holiday: Ascension Day (Kristi himmelfartsdag)",))
    cal.allowed(datetime(2026, 5, 15, 20, 59, tzinfo=ZoneInfo("Europe/Oslo")))   # True
    cal.next_opening(datetime(2026, 5, 15, 21, 0, tzinfo=...))   # Monday 18 May 09:00
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from dialer.rules.preset import WEEKDAYS, Preset
from dialer.errors import bad
from dialer.units import DAY

#: how far `next_opening` looks ahead before it says "never"
SEARCH_DAYS = 800


@dataclass(frozen=True, slots=True)
class Window:
    """The calling window of one date: dialling is allowed in [opens, closes)."""

    date: dt.date
    opens: dt.datetime
    closes: dt.datetime

    @property
    def open(self) -> bool:
        return True

    def __str__(self) -> str:
        end = "24:00" if self.closes.date() > self.date else self.closes.strftime("%H:%M")
        return f"{self.opens:%H:%M}-{end} {self.opens.tzinfo}"


@dataclass(frozen=True, slots=True)
class Closed:
    """A date with no calling; `reasons` says why, in words (e.g. "weekend (Saturday)")."""

    date: dt.date
    reasons: tuple[str, ...]
    holiday: str | None = None

    @property
    def open(self) -> bool:
        return False

    def __str__(self) -> str:
        return "closed: " + "; ".join(self.reasons)


class CallingCalendar:
    """A preset's calling hours and public holidays, answered for any date or aware instant."""

    def __init__(self, preset: Preset) -> None:
        if not isinstance(preset, Preset):
            raise bad("preset", preset, "a Preset (dialer.rules.preset.preset_from_dict)")
        self.preset = preset
        self.tz = preset.tz
        self._holidays = _holiday_names(preset.holidays, preset.holiday_subdiv) if preset.closed_on_holidays else None
        #: the first and last date this calendar can answer for (`supported_dates`)
        self.dates = supported_dates(preset.holidays, preset.holiday_subdiv)

    # --- dates -----------------------------------------------------------------------

    def holiday(self, date: dt.date) -> str | None:
        """The public holiday on `date` ("Constitution Day (Grunnlovsdag)"), or None."""
        _check_date(date)
        if self._holidays is None:
            return None
        return self._holidays(date)

    def day(self, date: dt.date) -> Window | Closed:
        """The calling window of `date` (local to the preset), or why it is closed."""
        _check_date(date)
        reasons = []
        holiday = self.holiday(date)
        if holiday is not None:
            reasons.append(f"holiday: {holiday}")
        hours = self.preset.hours_on(date.weekday())
        if hours is None:
            name = WEEKDAYS[date.weekday()].capitalize()
            reasons.append(f"weekend ({name})" if date.weekday() >= 5 else f"no calling on {name}s")
        if reasons:
            return Closed(date, tuple(reasons), holiday)
        assert hours is not None
        return Window(date, self._at(date, hours[0]), self._at(date, hours[1]))

    def hours_seconds(self, date: dt.date) -> tuple[float, float] | None:
        """The window of `date` in wall-clock seconds after local midnight; None when closed."""
        if isinstance(self.day(date), Closed):
            return None
        return self.preset.hours_on(date.weekday())

    # --- instants --------------------------------------------------------------------

    def allowed(self, instant: dt.datetime) -> bool:
        """May a dial start at `instant` (an aware datetime)?"""
        return self.window_at(instant) is not None

    def window_at(self, instant: dt.datetime) -> Window | None:
        """The window `instant` falls in, or None if dialling is not allowed then."""
        local = self._local(instant)
        w = self.day(local.date())
        if isinstance(w, Window) and w.opens <= local < w.closes:
            return w
        return None

    def next_opening(self, instant: dt.datetime) -> dt.datetime | None:
        """The earliest moment at or after `instant` at which dialling is allowed (None: never, as far as
        `SEARCH_DAYS` days ahead)."""
        local = self._local(instant)
        date = local.date()
        for _ in range(SEARCH_DAYS):
            w = self.day(date)
            if isinstance(w, Window) and local < w.closes:
                return max(w.opens, local)
            date += dt.timedelta(days=1)
        return None

    def reason_closed(self, instant: dt.datetime) -> str | None:
        """None if dialling is allowed at `instant`, else why not (for audit reports)."""
        local = self._local(instant)
        w = self.day(local.date())
        if isinstance(w, Closed):
            return "; ".join(w.reasons)
        if local < w.opens:
            return f"before {w.opens:%H:%M}"
        if local >= w.closes:
            return f"after {w.closes:%H:%M}" if w.closes.date() == w.date else "after the close"
        return None

    # --- helpers -----------------------------------------------------------------------

    def _at(self, date: dt.date, secs: float) -> dt.datetime:
        base = dt.datetime.combine(date, dt.time(0), tzinfo=self.tz)
        if secs >= DAY:
            return dt.datetime.combine(date + dt.timedelta(days=1), dt.time(0), tzinfo=self.tz)
        h, rest = divmod(int(secs), 3600)
        return base.replace(hour=h, minute=rest // 60, second=rest % 60)

    def _local(self, instant: Any) -> dt.datetime:
        if not isinstance(instant, dt.datetime) or instant.tzinfo is None or instant.utcoffset() is None:
            raise bad("instant", instant, "a datetime with a time zone")
        return instant.astimezone(self.tz)

    def __repr__(self) -> str:
        return f"CallingCalendar({self.preset.name!r}, {self.preset.timezone})"


def supported_dates(country: str | None = None, subdiv: str | None = None) -> tuple[dt.date, dt.date]:
    """The first and last date whose public holidays the `holidays` package knows for `country`.

    Outside them a holiday is silently missing (Norway's 1 January 1900 would
    be an open Monday), so every date a user gives is checked against them
    (`check_date`). No country: the package's own default years.
    """
    first, last = _years(country or "", subdiv)
    return dt.date(first, 1, 1), dt.date(last, 12, 31)


def check_date(field: str, date: dt.date, country: str | None = None, subdiv: str | None = None,
               *, shown: Any = None) -> dt.date:
    """`date` if a calendar of `country` can answer for it, else a ConfigError naming `field` and the range.

    `shown`: the value as the user wrote it, for the message (default: the date in ISO form).
    """
    _check_date(date)
    first, last = supported_dates(country, subdiv)
    if not first <= date <= last:
        where = f" for {country}" if country else ""
        raise bad(field, date.isoformat() if shown is None else shown,
                  f"a date from {first} to {last} (the years whose public holidays are known{where})")
    return date


@lru_cache(maxsize=32)
def _years(country: str, subdiv: str | None) -> tuple[int, int]:
    import holidays

    if not country:
        return holidays.HolidayBase.start_year, holidays.HolidayBase.end_year
    table = holidays.country_holidays(country, subdiv=subdiv)
    return table.start_year, table.end_year


def _check_date(date: Any) -> None:
    if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
        raise bad("date", date, "a calendar date (datetime.date)")


@lru_cache(maxsize=32)
def _holiday_names(country: str, subdiv: str | None):
    """date -> "English name (local name)" or None, for one country's public holidays."""
    import holidays

    def table(language: str | None) -> Any:
        kwargs: dict[str, Any] = {"subdiv": subdiv}
        if language is not None:
            kwargs["language"] = language
        try:
            return holidays.country_holidays(country, **kwargs)
        except NotImplementedError:  # the language is not offered: the country's own names
            kwargs.pop("language", None)
            return holidays.country_holidays(country, **kwargs)

    english = table("en_US")
    cls = type(english)
    native_lang = getattr(cls, "default_language", None)
    native = table(native_lang) if native_lang and native_lang != "en_US" else None

    def name(date: dt.date) -> str | None:
        en = english.get_list(date)
        if not en:
            return None
        local = native.get_list(date) if native is not None else []
        text = " + ".join(en)
        return text if not local or local == en else f"{text} ({' + '.join(local)})"

    return name
