"""The sans-IO pacing controller of one campaign: feed it events, ask it for decisions.

Owns: the `Controller` (a floor, a pacer, the line cap) and the `Decision` it
returns. The simulator, the live service and the tests all drive this one class.

Rule 1: the controller never reads a clock, sleeps, draws a random number or
does I/O; `now` and every event's time are arguments.
Rule 2: it must not import SimPy, HTTP frameworks, databases or plotting.

    c = Controller(Power())
    c.handle(AgentLoggedIn(time=0.0, agent="ann"))
    d = c.decide(0.0)            # Decision(reserve=("ann",), unreserved=0)
    c.handle(DialPlaced(time=0.0, call=1, lead="+4790000001", agent="ann"))

A rejected event raises `ProtocolError` and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import Callable, Hashable, Iterable

from dialer.core.events import Event, Outcome
from dialer.core.floor import Floor
from dialer.core.pacers import Pacer
from dialer.errors import bad


@dataclass(frozen=True, slots=True)
class Decision:
    """What to dial now: one reserved dial per agent in `reserve`, plus `unreserved` dials.

    `wake_at`: ask again at this time even if no event arrives (None: only on events).
    A decision with no dials is a value, not an exception.
    """

    reserve: tuple[Hashable, ...] = ()
    unreserved: int = 0
    wake_at: float | None = None

    @property
    def dials(self) -> int:
        return len(self.reserve) + self.unreserved


class Controller:
    """Pacing controller for one campaign.

    `lines`: trunk lines available to the campaign (every ringing, waiting or
    talking call holds one); None for no cap. `day_of`: maps a time in seconds
    to the key of its accounting day (default: whole 86,400 s days from 0).
    """

    def __init__(
        self,
        pacer: Pacer,
        *,
        lines: int | None = None,
        day_of: Callable[[float], Hashable] | None = None,
    ) -> None:
        if lines is not None and (not isinstance(lines, int) or isinstance(lines, bool) or lines < 1):
            raise bad("lines", lines, "a whole number of at least 1 (or None for no cap)")
        self.lines = lines
        self.floor = Floor(day_of=day_of) if day_of is not None else Floor()
        self.pacer = pacer
        pacer.check_params()

    # --- feeding events ----------------------------------------------------

    def handle(self, event: Event) -> Outcome | None:
        """Apply one event; returns the outcome if a call ended with it."""
        out = self.floor.apply(event)
        self.pacer.observe(event, self.floor)
        return out

    def handle_all(self, events: Iterable[Event]) -> None:
        for ev in events:
            self.handle(ev)

    def set_pacer(self, pacer: Pacer) -> None:
        """Switch dialing mode; the floor, its tallies and its memory of abandoned leads stay."""
        pacer.check_params()
        self.pacer = pacer

    # --- asking for decisions ----------------------------------------------

    def free_lines(self) -> int | None:
        if self.lines is None:
            return None
        return max(0, self.lines - self.floor.calls_active)

    def decide(self, now: float) -> Decision:
        """How many dials to place now, and which idle agents to reserve for them."""
        floor = self.floor
        plan = self.pacer.plan(floor, now)
        reserved = min(max(plan.reserved, 0), floor.idle)
        unreserved = max(plan.unreserved, 0)
        free = self.free_lines()
        if free is not None:
            reserved = min(reserved, free)
            unreserved = min(unreserved, free - reserved)
        if reserved == 0 and unreserved == 0 and plan.wake_at is None:
            return _NO_DIALS
        agents = tuple(islice(floor.idle_agents(), reserved)) if reserved else ()
        return Decision(reserve=agents, unreserved=unreserved, wake_at=plan.wake_at)

    @property
    def stats(self):
        """Daily tallies: {day key: DailyStats}."""
        return self.floor.days


_NO_DIALS = Decision()
