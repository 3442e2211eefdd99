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
from collections import deque
from fractions import Fraction
from functools import partial
from itertools import islice
from typing import Any, Callable, Hashable, Iterable, Sequence

from dialer.checks import Flag, OneOf, OrNone, Whole, check, positive
from dialer.core.events import (
    AgentLeaving,
    AgentLoggedOut,
    AgentPaused,
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

ENVELOPE = OrNone(Flag(), meaning="as the pacer says")
AFTER_BREAK = OneOf("power", "count")

# events after which a call may no longer be abandoned, or is counted as established
_RESOLVING = frozenset((CallFailed, CallAnswered, CallConnected, CallAbandoned))
# events by which a committed idle agent may stop covering the calls in flight (or a dial is placed)
_RELEASING = frozenset((AgentPaused, AgentLeaving, AgentLoggedOut, DialPlaced))

#: the promises a dialer makes (docs/design.md, "What the dialer must do"), as the kinds of their breaks
ABANDONED_WITH_IDLE_AGENT = "abandoned_with_idle_agent"  # a live answer abandoned while an agent was idle
ABANDONED_RESERVED = "abandoned_reserved"  # a reserved call abandoned (its agent was waiting for it)
RESOLVED_LATE = "resolved_late"  # a dial resolved later than `horizon` after it was placed
RELEASED_WITHOUT_ROOM = "released_without_room"  # a committed idle agent paused or left when none was releasable
RESERVED_WITHOUT_ROOM = "reserved_without_room"  # a reserved dial took a committed agent when none was releasable
DIALLED_BEYOND_ENVELOPE = "dialled_beyond_envelope"  # an unreserved dial the envelope had no room for
BREAKS = (ABANDONED_WITH_IDLE_AGENT, ABANDONED_RESERVED, RESOLVED_LATE, RELEASED_WITHOUT_ROOM,
          RESERVED_WITHOUT_ROOM, DIALLED_BEYOND_ENVELOPE)
class _NoDay:
    """No day is held to Power dialing: one object, itself again once unpickled (a copied controller
    tells it by identity too)."""

    def __reduce__(self) -> str:
        return "_NO_DAY"


_NO_DAY = _NoDay()
#: what a controller keeps at hand from its floor and pacer (made again when it is unpickled)
_AT_HAND = ("_on", "_call_record", "_idle_order", "_envelope", "_observe")


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
    dialled reserved (None: forever, norm 4.6.3; UK: 259200.0). `guard`: a
    ready `RedialGuard` instead (one sharing the call centre's memory of
    abandoned numbers, with a key function; its lockout is used).
    `envelope`: cap every decision by the abandon envelope whatever the
    pacer (True, as under a jurisdiction preset), never (False), or as the
    pacer says (None: `Pacer.uses_envelope`).

    Promise breaks: an event that breaks what the dialer promised
    (docs/design.md, "What the dialer must do") is applied, because it
    happened, and counted in `promise_breaks` by kind, with its instant in
    `breaks`; under the envelope the campaign then dials as Power (reserved
    dials only) for the rest of that accounting day, since the envelope's
    worst case assumed the promise (a dial resolved late undoes it only for a
    rolling window). `after_break="count"` only counts them (a test that
    stages an abandon by hand, say).
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
        guard: RedialGuard | None = None,
        envelope: bool | None = None,
        after_break: str = "power",
    ) -> None:
        self.lines = check("lines", lines, LINES)
        self.horizon = float(check("horizon", horizon, HORIZON))
        self._force_envelope = check("envelope", envelope, ENVELOPE)
        self.after_break = check("after_break", after_break, AFTER_BREAK)
        if guard is None:
            guard = RedialGuard(lockout=redial_lockout)
        elif redial_lockout is not None and redial_lockout != guard.lockout:
            raise bad("redial_lockout", redial_lockout, f"the guard's lockout ({guard.lockout!r}) when a guard is given")
        #: promise breaks by kind (see `BREAKS`), and the last ones with their instants
        self.promise_breaks: dict[str, int] = dict.fromkeys(BREAKS, 0)
        self.breaks: deque[tuple[float, str, Hashable]] = deque(maxlen=1000)
        self._safe_day: Hashable = _NO_DAY  # the accounting day a break sent to Power dialing
        self.floor = Floor(day_of=day_of, guard=guard) if day_of is not None else Floor(guard=guard)
        self._on = self._handlers()
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
        _check_envelope(pacer, self.ledger, self._force_envelope)
        self.pacer = pacer
        pacer.check_params()

    @property
    def uses_envelope(self) -> bool:
        """True if every decision is capped by the abandon envelope (then the dialer must hold pauses
        and log-outs until `releasable` > 0)."""
        return self._envelope

    @property
    def pacer(self) -> Pacer:
        return self._pacer

    @pacer.setter
    def pacer(self, pacer: Pacer) -> None:
        self._pacer = pacer
        forced = self._force_envelope
        self._envelope = pacer.uses_envelope if forced is None else forced
        # the pacer's `observe`, or None when it is the base class's (learns nothing: skip the call)
        self._observe = None if type(pacer).observe is Pacer.observe else pacer.observe

    def __getstate__(self) -> dict[str, Any]:
        # the memo of one-agent decisions is not state: two controllers that were fed the same events
        # pickle alike, whichever decisions they were asked for; the floor's handlers and tables kept at
        # hand for the hot path are made again from the floor and the pacer (`__setstate__`)
        state = self.__dict__.copy()
        state["_reserve_one"] = {}
        for name in _AT_HAND:
            del state[name]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        floor = self.floor
        self._on = self._handlers()  # (bound to this floor: after the fields are back)
        self._call_record = floor._calls.get
        self._idle_order = floor._idle
        self.pacer = self._pacer  # its `observe`, and whether it uses the envelope

    # --- feeding events ----------------------------------------------------

    def handle(self, event: Event) -> Outcome | None:
        """Apply one event; returns the outcome if a call ended with it."""
        try:
            on = self._on[type(event)]
        except KeyError:
            self.floor.apply(event)  # raises ProtocolError: an unknown type
            raise AssertionError(f"{event!r} should have been refused") from None  # pragma: no cover
        return on(event)

    def handlers(self) -> dict[type[Event], Callable[[Event], Outcome | None]]:
        """`handle` for each event type: {event type: handler}, each the same checks and effects as
        `handle` for events of its type, without the dispatch (for a caller that knows an event's type
        when it makes it, as the simulator does)."""
        return dict(self._on)

    def _handlers(self) -> dict[type[Event], Callable[[Event], Outcome | None]]:
        """`handle`'s dispatch table: each event type's floor handler, bound into what the controller
        does around it (`_on_*`, by what the event may mean to the ledger and the promises)."""
        on: dict[type[Event], Callable[[Event], Outcome | None]] = {}
        for tp, apply in self.floor.handlers().items():
            if tp is CallFailed or tp is CallAnswered:
                kind = self._on_ringing_end
            elif tp in _RESOLVING:
                kind = self._on_resolving
            elif tp is DialPlaced:
                kind = self._on_dial
            elif tp in _RELEASING:
                kind = self._on_releasing
            else:
                kind = self._on_plain
            on[tp] = partial(kind, apply)
        return on

    # What handle does around the floor's handler `apply` (Floor.apply's own two steps, without its
    # second dispatch): refuse an event earlier than the last, apply it (the handler raises, changing
    # nothing, if the event does not fit), move the floor's clock; then tell the ledger, count a broken
    # promise, let the pacer observe.

    def _late(self, event: Event) -> None:
        self.floor.apply(event)  # raises ProtocolError: earlier than the last event
        raise AssertionError(f"{event!r} should have been refused")  # pragma: no cover

    def _on_plain(self, apply: Callable[[Event], Outcome | None], event: Event) -> Outcome | None:
        """An event that is nothing to the ledger and breaks no promise (a log-in, a wrap-up's end, a
        call's end)."""
        floor = self.floor
        t = event.time
        if t < floor.now:
            self._late(event)
        out = apply(event)
        floor.now = t
        if self._observe is not None:
            self._observe(event, floor)
        return out

    def _on_dial(self, apply: Callable[[Event], Outcome | None], event: DialPlaced) -> Outcome | None:
        floor = self.floor
        t = event.time
        if t < floor.now:
            self._late(event)
        # (with no unreserved call in flight only an unreserved dial can break a promise here; the two
        # counts are floor.pooled's, read without the property's call on every dial)
        broke = (self._envelope and (floor.ringing_unreserved or floor.live_waiting or event.agent is None)
                 and self._releases_without_room(event, DialPlaced, t))
        out = apply(event)
        floor.now = t
        if event.agent is None and self.ledger is not None:
            self.ledger.open_call(t)
        if broke:
            self._broke(broke, t, event.agent or event.call)
        if self._observe is not None:
            self._observe(event, floor)
        return out

    def _on_releasing(self, apply: Callable[[Event], Outcome | None], event: Event) -> Outcome | None:
        """An agent's pause, announced leaving or log-out: a committed idle agent stops covering."""
        floor = self.floor
        t = event.time
        if t < floor.now:
            self._late(event)
        broke = (self._envelope and (floor.pooled or event.agent is None)  # type: ignore[attr-defined]
                 and self._releases_without_room(event, type(event), t))
        out = apply(event)
        floor.now = t
        if broke:
            self._broke(broke, t, event.agent or None)  # type: ignore[attr-defined]
        if self._observe is not None:
            self._observe(event, floor)
        return out

    def _on_ringing_end(self, apply: Callable[[Event], Outcome | None], event: Event) -> Outcome | None:
        """A call fails or is answered: with no unreserved call ringing, the call is reserved, and a
        reserved call that fails or is answered is nothing to the ledger (never open; established only
        once connected) and breaks no promise; else as any resolution."""
        floor = self.floor
        if floor.ringing_unreserved and self.ledger is not None:
            return self._on_resolving(apply, event)
        t = event.time
        if t < floor.now:
            self._late(event)
        out = apply(event)
        floor.now = t
        if self._observe is not None:
            self._observe(event, floor)
        return out

    def _on_resolving(self, apply: Callable[[Event], Outcome | None], event: Event) -> Outcome | None:
        """A call fails, is answered, connected or abandoned: what the ledger counts, and the promises
        a resolution can break."""
        floor = self.floor
        t = event.time
        if t < floor.now:
            self._late(event)
        ledger = self.ledger
        if ledger is None:
            out = apply(event)
            floor.now = t
            if self._observe is not None:
                self._observe(event, floor)
            return out
        tp = type(event)
        # the call's record, taken before: a call that ends is gone from the floor after
        call = self._call_record(event.call)  # type: ignore[attr-defined]
        idle = floor.idle
        out = apply(event)
        floor.now = t
        if call is not None:  # the promises a resolution can break (checked once it fitted)
            if tp is CallAbandoned and (call.reserved or idle):
                self._broke(ABANDONED_RESERVED if call.reserved else ABANDONED_WITH_IDLE_AGENT, t, call.id)
            if t - call.placed_at > self.horizon and tp is not CallAnswered:
                self._broke(RESOLVED_LATE, t, call.id)
            if not (call.reserved and (tp is CallFailed or tp is CallAnswered)):
                _account(ledger, event, tp, call.placed_at, call.reserved)  # (a reserved call that
                # fails or meets a machine changes nothing: it was never open, never established)
        if self._observe is not None:
            self._observe(event, floor)
        return out

    # --- promises -----------------------------------------------------------

    def _releases_without_room(self, event: Event, tp: type, t: float) -> str:
        """The promise `event` would break (before it is applied), or "": a committed idle agent that
        stops covering (pauses, leaves, logs out, or is reserved) when nothing was releasable, or an
        unreserved dial the envelope had no room for."""
        floor = self.floor
        if tp is DialPlaced:
            agent = event.agent  # type: ignore[attr-defined]
            if agent is None:
                return DIALLED_BEYOND_ENVELOPE if self._dial_room(t, 0) < 1 else ""
        else:
            agent = event.agent  # type: ignore[attr-defined]
        # (with no unreserved call in flight every committed idle agent is releasable: skip the sum)
        if floor.pooled and agent in self._idle_order and not floor.agent_leaving(agent) and self.releasable(t) <= 0:
            return RESERVED_WITHOUT_ROOM if tp is DialPlaced else RELEASED_WITHOUT_ROOM
        return ""

    def _broke(self, kind: str, t: float, who: Hashable) -> None:
        """Count a promise broken at `t`; under the envelope, dial as Power for the rest of the day when
        the break undoes the envelope's worst case (a late resolution does so only for a rolling window,
        which looks `horizon` ahead: a day or a month counts a call that is still open as open)."""
        self.promise_breaks[kind] += 1
        self.breaks.append((t, kind, who))
        if self.after_break == "power" and self._envelope and (
                kind != RESOLVED_LATE or (self.ledger and self.ledger.shortest_window is not None)):
            self._safe_day = self.floor.day_of(t)

    @property
    def dialing_as_power(self) -> bool:
        """True while a broken promise holds the campaign to reserved dials (until its day ends)."""
        return self._safe_day is not _NO_DAY and self.floor.day_of(max(self.floor.now, 0.0)) == self._safe_day

    def set_pacer(self, pacer: Pacer) -> None:
        """Switch dialing mode; the floor, its tallies, the ledger and the memory of abandoned leads stay."""
        pacer.check_params()
        _check_envelope(pacer, self.ledger, self._force_envelope)
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
        if self._safe_day is not _NO_DAY and self._envelope and floor.day_of(now) == self._safe_day:
            # a broken promise today: the envelope's worst case no longer holds, so reserved dials only
            reserved, plan = reserved + plan.unreserved, NOTHING
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
        if self._envelope and (unreserved or (reserved and (floor.ringing_unreserved or floor.live_waiting))):
            # (reserved dials alone with no unreserved call in flight, floor.pooled, expose nothing: every
            # idle agent may take one, as _within_envelope would find with a slack of at least the
            # committed agents)
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
             screen: "Callable[[Hashable], str | None] | None" = None,
             number_of: Callable[[Hashable], Hashable] | None = None) -> Picks:
        """Spend `decision` (just given by `decide(now)`) on the dialer's candidate `leads`, in their order.

        `dialer.core.picker.pick_leads` with this controller's envelope as the
        room for swaps (a lead abandoned before taking an idle agent in place
        of an unreserved dial). `number_of(lead)`: the lead's phone when the
        lead is not its number. Changes nothing.
        """
        return pick_leads(now, decision, leads, self.floor, screen=screen, room=self._swap_room(now, decision),
                          number_of=number_of)

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


def _check_envelope(pacer: Pacer, ledger: Ledger | None, forced: bool | None = None) -> None:
    if ledger is None and (forced or (forced is None and pacer.uses_envelope)):
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
