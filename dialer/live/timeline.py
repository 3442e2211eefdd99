"""A campaign's day so far, minute by minute: what the supervisor's board draws.

Owns: `Timeline`, one sample per wall-clock minute of the campaign's current
accounting day (the day's abandoned and connected calls, norm 4.3; the
envelope's headroom; lines in use and agents available, whose ratio is the
dial level; agents busy and logged in), each filed as its minute closes:
just before the campaign applies the first event of a later minute. A journal
replay applies the same events, so it rebuilds the same samples. A minute
with no event gets no sample (nothing changed in it); a new day starts empty.
Must not know about: HTTP, the store, the controller. What a sample holds is
the campaign's business (`LiveCampaign._sample`); the timeline files it.

    tl = Timeline(offset=0.0, day_of=lambda t: int(t // 86400))
    if tl.due(t):                      # t opens a later minute than the last event's
        tl.advance(t, sample)          # `sample`: the state as the last event's minute closed
"""

from __future__ import annotations

import math
from typing import Any, Callable, Hashable

#: the fields of a sample, in order
FIELDS = ("abandoned", "connected", "headroom", "lines", "available", "busy", "logged_in")
Sample = tuple[Any, ...]


class Timeline:
    """Per-minute samples of one accounting day. `offset`: Unix seconds of the campaign's time 0
    (minutes are wall-clock minutes); `day_of`: the campaign's accounting day of a time."""

    __slots__ = ("offset", "day_of", "day", "open_minute", "points")

    def __init__(self, *, offset: float, day_of: Callable[[float], Hashable]) -> None:
        self.offset = offset
        self.day_of = day_of
        self.day: Hashable = None  # the day the samples belong to
        self.open_minute: int | None = None  # the minute of the last event applied
        self.points: dict[int, Sample] = {}  # minute -> the state as it closed

    def minute_of(self, t: float) -> int:
        return math.floor((t + self.offset) / 60.0)

    def start(self, minute: int) -> float:
        """The campaign's time at which `minute` begins."""
        return minute * 60.0 - self.offset

    def due(self, t: float) -> bool:
        """True if an event at `t` opens a minute later than the last event's."""
        return self.minute_of(t) != self.open_minute

    def advance(self, t: float, sample: Sample | None) -> None:
        """The first event of `t`'s minute was applied: file `sample` under the minute that closed,
        and open `t`'s (a new accounting day starts with no sample)."""
        if self.open_minute is not None and sample is not None:
            self.points[self.open_minute] = sample
        self.open_minute = self.minute_of(t)
        day = self.day_of(t)
        if day != self.day:
            self.day = day
            self.points = {}

    def rows(self) -> list[tuple[float, Sample]]:
        """(start of the minute in the campaign's seconds, sample), in time order."""
        return [(self.start(m), s) for m, s in sorted(self.points.items())]
