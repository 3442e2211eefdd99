"""Shared helpers for the simulator tests: an event recorder to pass as `observer`."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Hashable

import pytest

from dialer.core.events import (
    CallAbandoned,
    CallAnswered,
    CallEnded,
    CallFailed,
    DialPlaced,
    Event,
    Outcome,
)

DAY = 86400.0


@dataclass
class Recorder:
    """Counts, per campaign and per day of the dial, how each call ended, from the events alone.

    Independent of `DailyStats`: a test can compare the engine's tallies with it.
    """

    dials: list[tuple[str, DialPlaced]] = field(default_factory=list)
    # (campaign, call) -> day of the dial
    _day: dict[tuple[str, Hashable], int] = field(default_factory=dict)
    # (campaign, day) -> Counter of outcome names, plus "attempted", "answered", "connected"
    counts: dict[tuple[str, int], Counter] = field(default_factory=lambda: defaultdict(Counter))
    ended: set[tuple[str, Hashable]] = field(default_factory=set)
    abandons: list[CallAbandoned] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def __call__(self, campaign: str, ev: Event) -> None:
        if isinstance(ev, DialPlaced):
            key = (campaign, ev.call)
            if key in self._day:
                self.problems.append(f"call {ev.call!r} placed twice")
            day = int(ev.time // DAY)
            self._day[key] = day
            self.dials.append((campaign, ev))
            self.counts[(campaign, day)]["attempted"] += 1
            return
        call = getattr(ev, "call", None)
        if call is None:
            return  # an agent event
        key = (campaign, call)
        if key not in self._day:
            self.problems.append(f"{type(ev).__name__} for call {call!r} that was never placed")
            return
        c = self.counts[(campaign, self._day[key])]
        outcome: str | None = None
        if isinstance(ev, CallAnswered):
            c["answered"] += 1
            if ev.human:
                c["connected"] += 1
            else:
                outcome = Outcome.MACHINE.value
        elif isinstance(ev, CallFailed):
            outcome = ev.reason.value
        elif isinstance(ev, CallAbandoned):
            outcome = Outcome.ABANDONED.value
            self.abandons.append(ev)
        elif isinstance(ev, CallEnded):
            outcome = Outcome.TRANSFERRED.value
        if outcome is not None:
            if key in self.ended:
                self.problems.append(f"call {call!r} ended twice")
            self.ended.add(key)
            c[outcome] += 1

    def unfinished(self) -> list[tuple[str, Hashable]]:
        return [k for k in self._day if k not in self.ended]


@pytest.fixture(scope="session")
def make_recorder() -> type[Recorder]:
    """The Recorder class (session scoped, so Hypothesis tests can build one per example)."""
    return Recorder
