"""The sans-IO pacing controller of one campaign: feed it events, ask it for decisions.

Owns: the `Controller` (a floor, a pacer, the line cap, the abandon ledger):
it applies events, asks the pacer for a plan, caps the plan by free lines
and, for a pacer with ``uses_envelope``, by the abandon envelope, and
returns the `Decision`. The simulator, the live service and the tests all
drive this one class.
Rule 1: the controller never reads a clock, sleeps, draws a random number or
does I/O; `now` and every event's time are arguments.
Rule 2: it must not import SimPy, HTTP frameworks, databases or plotting.

    c = Controller(Power())
    c.handle(AgentLoggedIn(time=0.0, agent="ann"))
    d = c.decide(0.0)            # Decision(reserve=("ann",), unreserved=0)
    c.handle(DialPlaced(time=0.0, call=1, lead="+4790000001", agent="ann"))

A rejected event raises `ProtocolError` and changes nothing. How the envelope
caps a decision, and what the dialer must do for the limit to hold:
docs/design.md, "The abandon envelope".
"""

from __future__ import annotations

import math
from fractions import Fraction
from itertools import islice
from typing import Any, Callable, Hashable, Iterable, Sequence

from dialer.checks import OrNone, Whole, check, positive
from dialer.core.events import (
    CallAbandoned,
    CallAnswered,
    CallConnected,
    CallFailed,
    DialPlaced,
    Event,
    Outcome,
)
from dialer.core.floor import Floor
from dialer.core.guards import RedialGuard
from dialer.core.ledger import Headroom, Interval, Ledger, as_rate
from dialer.core.decision import NO_DIALS, Decision, new_decision
from dialer.core.pacers import NOTHING, Pacer
from dialer.core.picker import Picks, pick_leads
from dialer.errors import bad


#: Norm 4.6.2: 5 % per campaign; the interval defaults to the day (norm 4.3 counts per day).
DEFAULT_ABANDON_LIMIT = Fraction(1, 20)
#: the trunk lines of a campaign, and the longest a dial may take to be resolved
LINES = OrNone(Whole(1), meaning="no cap")
HORIZON = positive("number of seconds", hint="ring timeout + connect limit")

# events after which a call may no longer be abandoned, or is counted as established
_RESOLVING = frozenset((CallFailed, CallAnswered, CallConnected, CallAbandoned))


class Controller:
    """Pacing controller for one campaign.

    `lines`: trunk lines available to the campaign (every ringing, waiting or
    talking call holds one); None for no cap. `day_of`: maps a time in seconds
    to the key of its accounting day (default: whole 86,400 s days from 0).

    `abandon_limit`: what the ledger enforces. A rate (0.05, "0.05",
    Fraction(1, 20): that limit per day, the default), an `Interval`, a list
    of them (every one enforced, the strictest wins), a ready `Ledger`, or
    None for no ledger at all (then no envelope pacer may be used).
    `horizon`: the longest a dial may take to be resolved, in seconds (ring
    timeout + connect limit); rolling windows look that far ahead.
    `redial_lockout`: seconds after an abandon during which a lead may only be
    dialled reserved (None: forever, norm 4.6.3; UK: 259200.0).
    """

    def __init__(
        self,
        pacer: Pacer,
        *,
        lines: int | None = None,
        day_of: Callable[[float], Hashable] | None = None,
        abandon_limit: Any = DEFAULT_ABANDON_LIMIT,
        horizon: float = 60.0,
        redial_lockout: float | None = None,
    ) -> None:
        self.lines = check("lines", lines, LINES)
        self.horizon = float(check("horizon", horizon, HORIZON))
        guard = RedialGuard(lockout=redial_lockout)
        self.floor = Floor(day_of=day_of, guard=guard) if day_of is not None else Floor(guard=guard)
        self._appliers = self.floor.handlers()
        # the controller owns its floor, and on the hot path reads two of its tables without a
        # Python call: the record of a call in progress, the idle agents in order
        self._call_record = self.floor._calls.get
        self._idle_order = self.floor._idle
        self._reserve_one: dict[Hashable, Decision] = {}  # agent -> Decision(reserve=(agent,)), made once
        self.ledger: Ledger | None = _make_ledger(abandon_limit, self.floor.day_of)
        if self.ledger is not None:
            w = self.ledger.shortest_window
            if w is not None and not w > 2 * self.horizon:
                raise bad("horizon", horizon, f"less than half the shortest rolling window ({w:g} s)")
        _check_envelope(pacer, self.ledger)
        self.pacer = pacer
        pacer.check_params()

    @property
    def pacer(self) -> Pacer:
        return self._pacer

    @pacer.setter
    def pacer(self, pacer: Pacer) -> None:
        self._pacer = pacer
        self._envelope = pacer.uses_envelope
        # the pacer's `observe`, or None when it is the base class's (learns nothing: skip the call)
        self._observe = None if type(pacer).observe is Pacer.observe else pacer.observe

    # --- feeding events ----------------------------------------------------

    def handle(self, event: Event) -> Outcome | None:
        """Apply one event; returns the outcome if a call ended with it."""
        floor = self.floor
        tp = type(event)
        try:
            apply = self._appliers[tp]
        except KeyError:
            floor.apply(event)  # raises ProtocolError: an unknown type
            raise AssertionError(f"{event!r} should have been refused") from None  # pragma: no cover
        t = event.time
        if t < floor.now:
            floor.apply(event)  # raises ProtocolError: earlier than the last event
            raise AssertionError(f"{event!r} should have been refused")  # pragma: no cover
        # what Floor.apply does, without the second dispatch: the handler raises, changing
        # nothing, if the event does not fit
        if tp in _RESOLVING and self.ledger is not None:
            if not floor.ringing_unreserved and (tp is CallFailed or tp is CallAnswered):
                # only a ringing call fails or is answered, and no ringing call is unreserved: this
                # one is reserved, and a reserved call that fails or is answered is nothing to the
                # ledger (never open; established only once connected)
                out = apply(event)
                floor.now = t
                if self._observe is not None:
                    self._observe(event, floor)
                return out
            # the call's record, taken before: a call that ends is gone from the floor after
            call = self._call_record(event.call)  # type: ignore[attr-defined]
            out = apply(event)
            floor.now = t
            if call is not None and not (call.reserved and (tp is CallFailed or tp is CallAnswered)):
                _account(self.ledger, event, tp, call.placed_at, call.reserved)  # (a reserved call that
                # fails or meets a machine changes nothing: it was never open, never established)
        else:
            out = apply(event)
            floor.now = t
            if tp is DialPlaced and event.agent is None and self.ledger is not None:  # type: ignore[attr-defined]
                self.ledger.open_call(t)
        if self._observe is not None:
            self._observe(event, floor)
        return out

    def set_pacer(self, pacer: Pacer) -> None:
        """Switch dialing mode; the floor, its tallies, the ledger and the memory of abandoned leads stay."""
        pacer.check_params()
        _check_envelope(pacer, self.ledger)
        self.pacer = pacer

    # --- asking for decisions ----------------------------------------------

    def decide(self, now: float) -> Decision:
        """How many dials to place now, and which idle agents to reserve for them."""
        floor = self.floor
        pacer = self._pacer
        plan = pacer.plan(now, floor)
        if plan is NOTHING:
            return NO_DIALS
        reserved = plan.reserved
        idle = floor.idle
        if reserved > idle:
            reserved = idle
        elif reserved < 0:
            reserved = 0
        unreserved = plan.unreserved
        if unreserved < 0:
            unreserved = 0
        lines = self.lines
        if lines is not None:
            free = lines - floor.calls_active
            if reserved + unreserved > free:  # (else every line asked for is free: nothing to cap)
                if free < 0:
                    free = 0
                if reserved > free:
                    reserved = free
                if unreserved > free - reserved:
                    unreserved = free - reserved
        if self._envelope and (reserved or unreserved):
            agents, unreserved = self._within_envelope(now, reserved, unreserved)
        elif reserved == 1:
            agent = next(iter(self._idle_order))
            if unreserved == 0 and plan.wake_at is None:
                # the commonest decision of all (an agent came free: one dial for it) is a value, made once
                try:
                    return self._reserve_one[agent]
                except KeyError:
                    if len(self._reserve_one) >= 4096:  # agents come and go in a long-lived service
                        self._reserve_one.clear()
                    d = self._reserve_one[agent] = Decision(reserve=(agent,))
                    return d
            agents = (agent,)
        else:
            agents = tuple(islice(floor.idle_agents(), reserved)) if reserved else ()
        if not agents and unreserved == 0 and plan.wake_at is None:
            return NO_DIALS
        return new_decision(agents, unreserved, plan.wake_at)

    def _within_envelope(self, now: float, reserved: int, unreserved: int) -> tuple[tuple[Hashable, ...], int]:
        """Cap a plan so that the exposure stays within the headroom (docs/design.md, "How the controller caps a decision")."""
        floor = self.floor
        slack = self._slack(now)
        agents: list[Hashable] = []
        stopped = 0  # committed agents reserved now: they stop covering
        if reserved:
            for a in floor.idle_agents():  # longest idle first; committed agents only while slack lasts
                if floor.agent_leaving(a):
                    agents.append(a)
                elif slack > 0:
                    agents.append(a)
                    slack -= 1
                    stopped += 1
                else:
                    continue
                if len(agents) == reserved:
                    break
        if unreserved:
            room = self._dial_room(now, stopped)
            if unreserved > room:
                unreserved = max(int(room), 0)
        return tuple(agents), unreserved

    def _dial_room(self, now: float, stopped: int) -> Headroom:
        """New unreserved dials the ledger allows now, once `stopped` committed idle agents stop covering."""
        if self.ledger is None:
            return math.inf
        f = self.floor
        pooled = f.pooled
        return self.ledger.dial_room(now, self.horizon, pooled, pooled - f.idle_committed + stopped)

    def pick(self, now: float, decision: Decision, leads: Iterable[Hashable], *,
             screen: "Callable[[Hashable], str | None] | None" = None) -> Picks:
        """Spend `decision` (just given by `decide(now)`) on the dialer's candidate `leads`, in their order.

        `dialer.core.picker.pick_leads` with this controller's envelope as the
        room for swaps (a lead abandoned before taking an idle agent in place
        of an unreserved dial). Changes nothing.
        """
        return pick_leads(now, decision, leads, self.floor, screen=screen, room=self._swap_room(now, decision))

    def _swap_room(self, now: float, decision: Decision) -> Callable[[Sequence[Hashable]], int]:
        """For `pick_leads`: swapped agents -> the most unreserved dials the envelope allows beside them."""
        floor = self.floor
        u = decision.unreserved
        if not self._envelope or self.ledger is None:
            return lambda swapped: u - len(swapped)
        reserved = sum(1 for a in decision.reserve if not floor.agent_leaving(a))

        def room(swapped: Sequence[Hashable]) -> int:
            r = self._dial_room(now, reserved + sum(1 for a in swapped if not floor.agent_leaving(a)))
            return u - len(swapped) if r >= u - len(swapped) else int(r)

        return room

    # --- the abandon envelope ------------------------------------------------

    def exposure(self) -> int:
        """Unreserved calls in flight that would meet no committed idle agent if all were answered now."""
        f = self.floor
        return max(0, f.pooled - f.idle_committed)

    def headroom(self, now: float) -> Headroom:
        """The largest exposure the ledger allows now with the calls in flight (math.inf without a ledger;
        negative: already over)."""
        if self.ledger is None:
            return math.inf
        f = self.floor
        return self.ledger.headroom(now, self.horizon, f.pooled)

    def _slack(self, now: float) -> Headroom:
        """How many committed idle agents may stop covering now (0 if the exposure is at or over the headroom)."""
        f = self.floor
        raw = f.pooled - f.idle_committed  # may be negative: spare agents
        return max(0, max(self.headroom(now), 0) - raw)

    def releasable(self, now: float) -> int:
        """How many committed idle agents may stop covering now (pause, log out, announce leaving,
        or take a reserved dial outside `decide`) without the exposure leaving the headroom.

        A dialer holds an agent's pause until this is positive; an agent who
        announced leaving (AgentLeaving) may always go.
        """
        return int(min(self.floor.idle_committed, self._slack(now)))

    @property
    def stats(self):
        """Daily tallies: {day key: DailyStats}."""
        return self.floor.days





def _make_ledger(limit: Any, day_of: Callable[[float], Hashable]) -> Ledger | None:
    if limit is None or isinstance(limit, Ledger):
        return limit
    if isinstance(limit, Interval):
        return Ledger([limit], day_of=day_of)
    if isinstance(limit, (list, tuple)):
        return Ledger(limit, day_of=day_of)
    return Ledger([Interval.day(as_rate(limit, "abandon_limit"))], day_of=day_of)


def _check_envelope(pacer: Pacer, ledger: Ledger | None) -> None:
    if pacer.uses_envelope and ledger is None:
        raise bad(
            "abandon_limit",
            None,
            f"a limit (a rate, Interval(s) or a Ledger): pacer mode {pacer.mode!r} paces inside the abandon envelope",
        )


def _account(ledger: Ledger, ev: Event, tp: type, placed_at: float, reserved: bool) -> None:
    """Tell the ledger what an applied event resolving a call (of type `tp`) means for the budget."""
    if tp is CallConnected:
        ledger.count(placed_at, abandoned=False, at=ev.time)
    elif tp is CallAbandoned:
        ledger.count(placed_at, abandoned=True, at=ev.time)
    elif tp is CallAnswered and ev.human:  # type: ignore[attr-defined]
        return  # a live answer waiting for an agent: still exposed
    if not reserved:
        ledger.close_call(placed_at)
