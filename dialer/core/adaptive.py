"""The Adaptive baseline: the dial-level rule most call centres run (VICIdial's ADAPT_* methods).

Owns: `Adaptive` (mode "adaptive"), a port of the *idea* of VICIdial's
adaptive dial methods, not of their code: the yardstick the Predictive pacer
must beat.
Rule 1: it knows nothing of the abandon envelope (``uses_envelope = False``):
like the original, it steers its dial level by the drops it has seen, so it
can and does end days over the limit. That is the point of a baseline.
Rule 2: no clock, no randomness, no I/O. It asks to be woken every second
(`Plan.wake_at`); its one-second samples are taken when it is asked at or
after each whole second.

    c = Controller(Adaptive(variant="hard", limit=0.05), abandon_limit=None)

The rule as kept here: docs/design.md, "The pacers"; what was kept of
VICIdial's and how it compares: BENCHMARKS.md.
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING, ClassVar

from dialer.checks import Constraint, OneOf, Real, Whole, positive
from dialer.core.events import CallAbandoned, DialPlaced
from dialer.core.pacers import Pacer, Plan, round_half_up

if TYPE_CHECKING:
    from dialer.core.events import Event
    from dialer.core.floor import Floor

VARIANTS = ("hard", "average")


class Adaptive(Pacer):
    """VICIdial-style adaptive dial level (ADAPT_HARD_LIMIT / ADAPT_AVERAGE), unreserved dials only."""

    mode = "adaptive"
    uses_envelope = False
    _constraints: ClassVar[dict[str, Constraint]] = {
        "variant": OneOf(*VARIANTS, quote=True),
        "limit": Real(0, 1, closed="neither", noun="rate"),
        "start_level": positive("dial level"),
        "min_level": positive("dial level"),
        "max_level": positive("dial level"),
        "period": Whole(1, noun="whole number of seconds"),
    }

    def __init__(
        self,
        *,
        variant: str = "hard",
        limit: float = 0.05,
        start_level: float = 1.0,
        min_level: float = 1.0,
        max_level: float = 3.0,
        period: int = 15,
    ) -> None:
        self.variant = variant
        self.limit = limit
        self.start_level = start_level
        self.min_level = min_level
        self.max_level = max_level
        self.period = period
        self.level: float | None = None  # the dial level DL (set on first use)
        self._next_tick: float | None = None
        self._ticks = 0
        self._samples: deque[tuple[int, int, int]] = deque()
        self._dials: deque[float] = deque()
        self._drops: deque[float] = deque()

    def check_params(self) -> None:
        super().check_params()
        if self.min_level > self.max_level:
            from dialer.errors import bad

            raise bad("pacer.min_level", self.min_level, f"at most max_level {self.max_level!r} (mode {self.mode!r})")

    # --- learning ---------------------------------------------------------------------

    def observe(self, event: "Event", floor: "Floor") -> None:
        tp = type(event)
        if tp is DialPlaced:
            self._dials.append(event.time)
        elif tp is CallAbandoned:
            self._drops.append(event.time)

    # --- the one-second loop -----------------------------------------------------------

    def _clamp(self, x: float) -> float:
        return min(max(x, self.min_level), self.max_level)

    def _sample(self, floor: "Floor") -> None:
        agents = floor.logged_in - floor.paused
        self._samples.append((floor.idle, floor.live_waiting, agents))
        if len(self._samples) > self.period:
            self._samples.popleft()

    def _adapt(self, floor: "Floor", t: float) -> None:
        assert self.level is not None
        n = len(self._samples)
        if n:
            ready = sum(s[0] for s in self._samples) / n
            waiting = sum(s[1] for s in self._samples) / n
            agents = sum(s[2] for s in self._samples) / n
            if agents > 0:
                self.level = self._clamp(self.level * (1.0 + (ready - waiting) / agents))
        # drops of the last minute
        while self._dials and self._dials[0] <= t - 60.0:
            self._dials.popleft()
        while self._drops and self._drops[0] <= t - 60.0:
            self._drops.popleft()
        if len(self._dials) > 20 and len(self._drops) > 0.5 * len(self._dials):
            self.level = self._clamp(self.level / 2.0)
        # drops since midnight
        s = floor.days.get(floor.day_of(t))
        if s is not None and s.attempted > 50 and s.abandoned > self.limit * s.connected:
            self.level = self.min_level if self.variant == "hard" else self._clamp(self.level / 2.0)

    def _tick(self, floor: "Floor", now: float) -> None:
        if self._next_tick is None or now - self._next_tick > 60.0:
            # first use, or woken after a long silence (a closed night): start the loop afresh
            self._next_tick = math.floor(now)
            self._samples.clear()
            self._ticks = 0
        while self._next_tick <= now:
            self._sample(floor)
            self._ticks += 1
            if self._ticks % self.period == 0:
                self._adapt(floor, self._next_tick)
            self._next_tick += 1.0

    def plan(self, now: float, floor: "Floor") -> Plan:
        if self.level is None:
            self.level = self._clamp(self.start_level)
        self._tick(floor, now)
        agents = floor.logged_in - floor.paused
        want = round_half_up(self.level * agents) - floor.calls_active if agents > 0 else 0
        return Plan(unreserved=max(want, 0), wake_at=self._next_tick)
