"""The abandon ledger of one campaign: abandoned and established calls per accounting interval.

Owns: `Interval` (an accounting interval and its limit: calendar day, any
calendar key such as the month, campaign-to-date, rolling window of W
seconds), `Ledger` (the counts of every interval, and how many unreserved
calls may be exposed now: `headroom`, `dial_room`) and the snapshot it
reports (`IntervalState`).
Rule 1: rates are compared exactly. A limit is a `Fraction` built from its
decimal text (``Fraction(str(0.05)) == 1/20``); counts are integers; no
float ever decides whether a call may be placed.
Rule 2: no clock, no SimPy, no I/O. Times are arguments; the ledger is told
what happened by the controller and knows nothing of agents, pacers or leads.

    ledger = Ledger([Interval.day("0.05")])
    ledger.dial_room(0.0, 60.0, pooled=0, uncovered=-3)   # 3: idle agents cover them, no budget yet

The invariant A + k <= r (C + m), why it cannot be broken, what is counted
where, and what a rolling window can do: docs/design.md, "The abandon envelope".
"""

from __future__ import annotations

import math
from bisect import bisect_right, insort
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from numbers import Rational
from typing import Any, Callable, Hashable, Iterable

from dialer.checks import OneOf, check, positive
from dialer.errors import bad
from dialer.units import day_of as _day_of

#: The kinds of interval; "day" is a calendar interval keyed by the ledger's `day_of`.
KINDS = ("day", "calendar", "campaign", "rolling")

Headroom = int | float  # an int, or math.inf when the limit is 1
_KIND = OneOf(*KINDS)
_WINDOW = positive("number of seconds")


def as_rate(value: Any, field_name: str = "limit") -> Fraction:
    """An exact rate in [0, 1] from a number, a Fraction or a decimal string ("0.05", "1/20")."""
    if isinstance(value, bool):
        raise bad(field_name, value, "a rate between 0 and 1, such as 0.05")
    if isinstance(value, Rational):
        r = Fraction(value)
    elif isinstance(value, (int, float, str)) or hasattr(value, "as_integer_ratio"):
        try:
            r = Fraction(str(value).strip())
        except (ValueError, ZeroDivisionError):
            raise bad(field_name, value, "a rate between 0 and 1, such as 0.05") from None
    else:
        raise bad(field_name, value, "a rate between 0 and 1, such as 0.05")
    if not 0 <= r <= 1:
        raise bad(field_name, value, "a rate between 0 and 1, such as 0.05")
    return r


def room(limit: Fraction, abandoned: int, established: int) -> Headroom:
    """Largest k with abandoned + k <= limit * (established + k), exactly (may be negative)."""
    p, q = limit.numerator, limit.denominator
    if p == q:
        return math.inf
    return (p * established - q * abandoned) // (q - p)


def _cap(p: int, q: int, abandoned: int, established: int, pooled: int) -> Headroom:
    """Largest k with A + k <= r (C + max(k, m)) for r = p/q < 1: the exposure allowed with m calls of the pool.

    Up to m the exposure comes from the pool (all m answered: m established);
    beyond m it would come from new calls (each one established too), which
    is `room`.
    """
    r = (p * established - q * abandoned) // (q - p)
    if r >= pooled:
        return r
    return (p * (established + pooled) - q * abandoned) // q


def month_key(origin: datetime) -> Callable[[float], tuple[int, int]]:
    """Key function for calendar months: t seconds after the time-zone-aware `origin` -> (year, month).

    The month is read in `origin`'s time zone (give it a `zoneinfo.ZoneInfo`).
    """
    if not isinstance(origin, datetime) or origin.tzinfo is None:
        raise bad("origin", origin, "a datetime with a time zone (zoneinfo.ZoneInfo)")
    tz = origin.tzinfo
    start = origin.astimezone(timezone.utc)  # add seconds in UTC: daylight saving shifts stay right

    def key(t: float) -> tuple[int, int]:
        d = (start + timedelta(seconds=t)).astimezone(tz)
        return (d.year, d.month)

    return key


# --- interval specs ---------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Interval:
    """One accounting interval and its limit (norm 4.6.2: per campaign and time interval).

    Build with `Interval.day`, `Interval.campaign`, `Interval.rolling` or
    `Interval.calendar`; a preset is a list of these (the strictest wins).
    """

    kind: str
    limit: Fraction
    name: str = ""
    window: float | None = None  # rolling: seconds
    key: Callable[[float], Hashable] | None = None  # calendar: time -> key

    def __post_init__(self) -> None:
        check("interval.kind", self.kind, _KIND)
        object.__setattr__(self, "limit", as_rate(self.limit, f"{self.name or self.kind}.limit"))
        if self.kind == "rolling":
            w = check(f"{self.name or 'rolling'}.window", self.window, _WINDOW)
            object.__setattr__(self, "window", float(w))
        elif self.window is not None:
            raise bad(f"{self.name or self.kind}.window", self.window, "None (only rolling intervals have one)")
        if self.kind == "calendar" and not callable(self.key):
            raise bad(f"{self.name or 'calendar'}.key", self.key, "a function from seconds to a key")
        if self.kind != "calendar" and self.key is not None:
            raise bad(f"{self.name or self.kind}.key", self.key, "None (only calendar intervals have one)")
        if not self.name:
            name = f"rolling {self.window:g}s" if self.kind == "rolling" else self.kind
            object.__setattr__(self, "name", name)

    @classmethod
    def day(cls, limit: Any = Fraction(1, 20)) -> "Interval":
        """Calendar day, keyed by the ledger's `day_of` (the default interval, Norway)."""
        return cls(kind="day", limit=limit)

    @classmethod
    def campaign(cls, limit: Any) -> "Interval":
        """Campaign-to-date: every call of the campaign."""
        return cls(kind="campaign", limit=limit)

    @classmethod
    def rolling(cls, limit: Any, *, window: float, name: str = "") -> "Interval":
        """Rolling window of `window` seconds (24 h: 86400.0; 30 days: 2592000.0)."""
        return cls(kind="rolling", limit=limit, window=window, name=name)

    @classmethod
    def calendar(cls, name: str, limit: Any, *, key: Callable[[float], Hashable]) -> "Interval":
        """Any calendar interval given by a key function, e.g. ``calendar("month", 0.05, key=month_key(origin))``."""
        return cls(kind="calendar", limit=limit, key=key, name=name)


# --- per-interval state -------------------------------------------------------


@dataclass(slots=True)
class Tally:
    """Abandoned and established calls of one interval key."""

    abandoned: int = 0
    established: int = 0


@dataclass(slots=True)
class _Times:
    """Sorted placement times, with a moving start (expired entries are skipped, then dropped)."""

    times: list[float] = field(default_factory=list)
    start: int = 0

    def add(self, t: float) -> None:
        insort(self.times, t, lo=self.start)

    def count_after(self, t: float) -> int:
        """How many entries are > t."""
        return len(self.times) - bisect_right(self.times, t, lo=self.start)

    def expire(self, t: float) -> None:
        """Forget entries <= t."""
        self.start = bisect_right(self.times, t, lo=self.start)
        if self.start > 1024 and self.start * 2 > len(self.times):
            del self.times[: self.start]
            self.start = 0

    def live(self) -> list[float]:
        return self.times[self.start :]


@dataclass(slots=True)
class _Keyed:
    """A calendar-like interval (day, calendar key, campaign): a tally per key, open calls per key."""

    key: Callable[[float], Hashable]
    tallies: dict[Hashable, Tally] = field(default_factory=dict)
    open: dict[Hashable, int] = field(default_factory=dict)

    def counts(self, key: Hashable) -> tuple[int, int]:
        """(abandoned, established) at `key`, (0, 0) if nothing was counted there."""
        t = self.tallies.get(key)
        return (t.abandoned, t.established) if t is not None else (0, 0)

    def tally(self, key: Hashable) -> Tally:
        t = self.tallies.get(key)
        if t is None:
            t = self.tallies[key] = Tally()
        return t


@dataclass(slots=True)
class _Rolling:
    window: float
    established: _Times = field(default_factory=_Times)  # abandoned calls included
    abandoned: _Times = field(default_factory=_Times)


def _campaign_key(t: float) -> str:
    return "campaign"


# --- snapshot -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IntervalState:
    """One interval as of `now`: its counts, exact rate and limit, and the headroom it alone allows."""

    name: str
    kind: str
    key: Hashable  # calendar key, "campaign", or (now - window, now] for rolling
    abandoned: int
    established: int
    limit: Fraction
    headroom: Headroom
    peak_if_idle: Fraction | None = None  # rolling only: highest rate if no further call resolves

    @property
    def rate(self) -> Fraction:
        return Fraction(self.abandoned, self.established) if self.established else Fraction(0)

    @property
    def over(self) -> bool:
        """True if the interval is above its limit (exactly compared)."""
        return self.abandoned > self.limit * self.established

    def as_dict(self) -> dict[str, Any]:
        """Plain numbers for reports and JSON (rates as floats, headroom None when unbounded)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "key": self.key,
            "abandoned": self.abandoned,
            "established": self.established,
            "rate": float(self.rate),
            "limit": float(self.limit),
            "headroom": None if self.headroom == math.inf else self.headroom,
            "over": self.over,
            "peak_if_idle": None if self.peak_if_idle is None else float(self.peak_if_idle),
        }


# --- the ledger -----------------------------------------------------------------


class Ledger:
    """Abandon accounting of one campaign over several intervals at once; the strictest wins.

    Fed by the controller: `open_call` when an unreserved dial is placed,
    `close_call` when it can no longer be abandoned (failed, machine,
    connected or abandoned), `count` when a live answer is resolved (reserved
    or not). Asked: `headroom(now, horizon)`, `snapshot(now, horizon)`.
    """

    def __init__(
        self,
        intervals: Iterable[Interval] = (Interval.day(),),
        *,
        day_of: Callable[[float], Hashable] = _day_of,
    ) -> None:
        self.intervals: tuple[Interval, ...] = tuple(intervals)
        if not self.intervals:
            raise bad("abandon_limit", list(self.intervals), "at least one interval (or None for no ledger)")
        for iv in self.intervals:
            if not isinstance(iv, Interval):
                raise bad("abandon_limit", iv, "Interval objects (Interval.day, .campaign, .rolling, .calendar)")
        names = [iv.name for iv in self.intervals]
        for name in names:
            if names.count(name) > 1:
                raise bad("interval.name", name, "unique within a ledger")
        self.day_of = day_of
        self._keyed: list[tuple[Interval, _Keyed]] = []
        self._rolling: list[tuple[Interval, _Rolling]] = []
        for iv in self.intervals:
            if iv.kind == "rolling":
                self._rolling.append((iv, _Rolling(iv.window)))  # type: ignore[arg-type]
            else:
                key = {"day": day_of, "campaign": _campaign_key}.get(iv.kind, iv.key)
                self._keyed.append((iv, _Keyed(key)))  # type: ignore[arg-type]

    @property
    def shortest_window(self) -> float | None:
        """The shortest rolling window in seconds (None if there is none)."""
        return min((r.window for _, r in self._rolling), default=None)

    # --- being told --------------------------------------------------------------

    def open_call(self, placed_at: float) -> None:
        """An unreserved dial was placed at `placed_at`: it may yet be abandoned."""
        for _, s in self._keyed:
            k = s.key(placed_at)
            s.open[k] = s.open.get(k, 0) + 1

    def close_call(self, placed_at: float) -> None:
        """The unreserved call placed at `placed_at` can no longer be abandoned (it ended or connected)."""
        for _, s in self._keyed:
            k = s.key(placed_at)
            n = s.open.get(k, 0) - 1
            if n > 0:
                s.open[k] = n
            else:
                s.open.pop(k, None)

    def count(self, placed_at: float, *, abandoned: bool, at: float) -> None:
        """A live answer to the call placed at `placed_at` was resolved at `at`: put through, or abandoned."""
        for _, s in self._keyed:
            t = s.tally(s.key(placed_at))
            t.established += 1
            if abandoned:
                t.abandoned += 1
        for _, r in self._rolling:
            r.established.add(placed_at)
            if abandoned:
                r.abandoned.add(placed_at)
            # keep a full extra window so that questions about any now >= at - window stay exact
            r.established.expire(at - 2 * r.window)
            r.abandoned.expire(at - 2 * r.window)

    # --- being asked -------------------------------------------------------------

    def headroom(self, now: float, horizon: float = 0.0, pooled: int = 0) -> Headroom:
        """The largest exposure allowed now, over every interval (negative: already over).

        `horizon`: the longest a dial placed now may take to be resolved.
        `pooled`: unreserved calls in flight (ringing or waiting for an agent).
        """
        best: Headroom = math.inf
        for iv, s in self._keyed:
            h = self._keyed_headroom(iv, s, now)
            if h < best:
                best = h
        for iv, r in self._rolling:
            h = self._rolling_headroom(iv, r, now, horizon, pooled)
            if h < best:
                best = h
        return best

    def _keyed_headroom(self, iv: Interval, s: _Keyed, now: float) -> Headroom:
        lim = iv.limit
        p, q = lim.numerator, lim.denominator
        if p == q:
            return math.inf
        k0 = s.key(now)
        best = _cap(p, q, *s.counts(k0), s.open.get(k0, 0))
        for k, m in s.open.items():
            if k != k0:
                h = self._other_key_cap(p, q, s, k, m)
                if h < best:
                    best = h
        return best

    def _rolling_headroom(self, iv: Interval, r: _Rolling, now: float, horizon: float, pooled: int) -> Headroom:
        lim = iv.limit
        p, q = lim.numerator, lim.denominator
        if p == q:
            return math.inf
        return _cap(p, q, *self._rolling_counts(r, now, horizon), pooled)

    def dial_room(self, now: float, horizon: float, pooled: int, uncovered: int) -> Headroom:
        """How many new unreserved dials may be placed now (at least the idle agents to spare, -`uncovered`).

        `pooled`: unreserved calls in flight; `uncovered`: pooled minus the
        committed idle agents that will still be idle (negative: agents to
        spare). A new dial adds one to the pool (one more established call in
        the worst case) and one to the exposure once no agent is spare.
        """
        best: Headroom = math.inf
        for iv, s in self._keyed:
            lim = iv.limit
            p, q = lim.numerator, lim.denominator
            if p == q:
                continue
            k0 = s.key(now)
            a, c = s.counts(k0)
            m0 = s.open.get(k0, 0)
            # the new dials join this key: A + min(k + x, m0 + x) <= r (C + m0 + x)
            x = max((p * (c + m0) - q * (a + uncovered)) // (q - p), (p * c - q * a) // (q - p) - m0)
            if x < best:
                best = x
            for k, m in s.open.items():
                if k != k0:
                    x = self._other_key_cap(p, q, s, k, m) - uncovered
                    if x < best:
                        best = x
        for iv, r in self._rolling:
            lim = iv.limit
            p, q = lim.numerator, lim.denominator
            if p == q:
                continue
            a, c = self._rolling_counts(r, now, horizon)
            x = (p * (c + pooled) - q * (a + uncovered)) // (q - p)
            if x < best:
                best = x
        return max(best, -uncovered)

    @staticmethod
    def _other_key_cap(p: int, q: int, s: _Keyed, key: Hashable, pooled: int) -> Headroom:
        """An earlier key with `pooled` calls still open: no new call joins it, so only those can be abandoned in it."""
        a, c = s.counts(key)
        if q * (a + pooled) <= p * (c + pooled):
            return math.inf
        return (p * (c + pooled) - q * a) // q

    @staticmethod
    def _rolling_counts(r: _Rolling, now: float, horizon: float) -> tuple[int, int]:
        a = r.abandoned.count_after(now - r.window)  # every abandon that may still be in the window
        c = r.established.count_after(now + horizon - r.window)  # only those still in it at now + horizon
        return a, c

    def tally(self, name: str, key: Hashable) -> Tally:
        """A copy of the counts of a calendar-like interval at `key` (e.g. a past day)."""
        for iv, s in self._keyed:
            if iv.name == name:
                t = s.tallies.get(key, Tally())
                return Tally(t.abandoned, t.established)
        raise bad("interval", name, f"one of {', '.join(iv.name for iv, _ in self._keyed)}")

    def history(self, name: str) -> dict[Hashable, Tally]:
        """Every key of a calendar-like interval with its counts (a day report, a month report)."""
        for iv, s in self._keyed:
            if iv.name == name:
                return {k: Tally(t.abandoned, t.established) for k, t in s.tallies.items()}
        raise bad("interval", name, f"one of {', '.join(iv.name for iv, _ in self._keyed)}")

    def snapshot(self, now: float, horizon: float = 0.0, pooled: int = 0) -> tuple[IntervalState, ...]:
        """Every interval as of `now`, in configuration order (O(calls in a rolling window): for reports).

        `pooled`: unreserved calls in flight, as for `headroom`.
        """
        out: list[IntervalState] = []
        for iv in self.intervals:
            out.append(self._state(iv, now, horizon, pooled))
        return tuple(out)

    def _state(self, iv: Interval, now: float, horizon: float, pooled: int) -> IntervalState:
        for jv, s in self._keyed:
            if jv is iv:
                key = s.key(now)
                t = s.tallies.get(key, Tally())
                h = self._keyed_headroom(iv, s, now)
                return IntervalState(iv.name, iv.kind, key, t.abandoned, t.established, iv.limit, h)
        for jv, r in self._rolling:
            if jv is iv:
                lo = now - r.window
                a = r.abandoned.count_after(lo)
                c = r.established.count_after(lo)
                h = self._rolling_headroom(iv, r, now, horizon, pooled)
                return IntervalState(
                    iv.name, iv.kind, (lo, now), a, c, iv.limit, h, peak_if_idle=self.peak_if_idle(now, iv.name)
                )
        raise AssertionError(f"interval {iv.name!r} has no state")  # pragma: no cover

    def peak_if_idle(self, now: float, name: str) -> Fraction:
        """Rolling window `name`: the highest rate it reaches from `now` on if no further call resolves.

        Entries leave the window in order of placement; the rate is read after
        each departure. O(calls in the window): for reports, not for pacing.
        """
        for iv, r in self._rolling:
            if iv.name == name:
                break
        else:
            raise bad("interval", name, f"one of {', '.join(iv.name for iv, _ in self._rolling)}")
        lo = now - r.window
        est = [t for t in r.established.live() if t > lo]
        abd = [t for t in r.abandoned.live() if t > lo]
        c, a = len(est), len(abd)
        peak = Fraction(a, c) if c else Fraction(0)
        i = j = 0
        while i < len(est):
            t = est[i]
            while i < len(est) and est[i] == t:
                i += 1
                c -= 1
            while j < len(abd) and abd[j] <= t:
                j += 1
                a -= 1
            if c and Fraction(a, c) > peak:
                peak = Fraction(a, c)
        return peak

    def __repr__(self) -> str:
        return f"Ledger({', '.join(f'{iv.name} {iv.limit}' for iv in self.intervals)})"
