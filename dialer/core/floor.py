"""The call floor as the controller sees it: agents, calls in flight, and their life cycles.

Owns: the agent and call state machines (tables of `(state, event type) ->
state`), the running counts pacers read (idle agents, dials in flight, ...), and the
daily tallies. The redial-after-abandon memory lives in a `RedialGuard`
(dialer.core.guards) that the floor consults before a dial and tells when a
call ends.
Rule 1: every event is checked against the tables *before* anything changes.
An event that does not fit raises `ProtocolError` naming the event and the
state, and leaves the floor exactly as it was.
Rule 2: no clock, no randomness, no I/O, no SimPy: time arrives inside events.

    floor = Floor()
    floor.apply(AgentLoggedIn(time=0.0, agent="ann"))     # floor.idle == 1
    floor.apply(AgentReady(time=1.0, agent="ann"))        # ProtocolError: ... in state 'idle'

The two life cycles, drawn: docs/design.md, "The call floor".
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Callable, Hashable, Iterator

from dialer.core import events
from dialer.core.events import Event, FailReason, Outcome
from dialer.core.guards import RedialGuard
from dialer.core.stats import DailyStats
from dialer.errors import ProtocolError
from dialer.units import DAY, day_of as _day_of


class AgentState(enum.Enum):
    # members are singletons: identity hashing is exact, and far cheaper than Enum's name hash
    __hash__ = object.__hash__

    OUT = "out"
    IDLE = "idle"
    RESERVED = "reserved"
    TALKING = "talking"
    WRAP = "wrap"
    PAUSED = "paused"


class CallState(enum.Enum):
    __hash__ = object.__hash__

    NEW = "new"
    RINGING = "ringing"
    LIVE = "live"  # a person answered, no agent yet
    TALKING = "talking"


# members as module constants: the hot paths below avoid Enum attribute look-ups
_A_OUT = AgentState.OUT
_A_IDLE = AgentState.IDLE
_A_RESERVED = AgentState.RESERVED
_A_TALKING = AgentState.TALKING
_A_WRAP = AgentState.WRAP
_A_PAUSED = AgentState.PAUSED
_C_NEW = CallState.NEW
_C_RINGING = CallState.RINGING
_C_LIVE = CallState.LIVE
_C_TALKING = CallState.TALKING

#: (agent state, event type) -> next agent state, for events that name or imply the agent.
AGENT_TRANSITIONS: dict[tuple[AgentState, type[Event]], AgentState] = {
    (_A_OUT, events.AgentLoggedIn): _A_IDLE,
    (_A_IDLE, events.AgentPaused): _A_PAUSED,
    (_A_PAUSED, events.AgentReady): _A_IDLE,
    (_A_WRAP, events.AgentReady): _A_IDLE,
    (_A_IDLE, events.AgentLoggedOut): _A_OUT,
    (_A_PAUSED, events.AgentLoggedOut): _A_OUT,
    (_A_IDLE, events.DialPlaced): _A_RESERVED,
    (_A_RESERVED, events.CallFailed): _A_IDLE,
    (_A_RESERVED, events.CallAnswered): _A_IDLE,  # machine answer releases the agent
    (_A_RESERVED, events.CallAbandoned): _A_IDLE,
    (_A_IDLE, events.CallConnected): _A_TALKING,
    (_A_RESERVED, events.CallConnected): _A_TALKING,
    (_A_TALKING, events.CallEnded): _A_WRAP,
}

#: (call state, event type) -> next call state; None means the call is over.
CALL_TRANSITIONS: dict[tuple[CallState, type[Event]], CallState | None] = {
    (_C_NEW, events.DialPlaced): _C_RINGING,
    (_C_RINGING, events.CallFailed): None,
    (_C_RINGING, events.CallAnswered): _C_LIVE,  # machine answers end the call: see _answered
    (_C_LIVE, events.CallConnected): _C_TALKING,
    (_C_LIVE, events.CallAbandoned): None,
    (_C_TALKING, events.CallEnded): None,
}



def _only(ev_type: type[Event]) -> tuple[CallState, CallState | None]:
    """The one call state an event of `ev_type` fits, and the state it leads to (from the table)."""
    ((state, nxt),) = [(st, n) for (st, tp), n in CALL_TRANSITIONS.items() if tp is ev_type]
    return state, nxt


# the hot handlers check a call's state against these, read once from CALL_TRANSITIONS
_, _PLACED_TO = _only(events.DialPlaced)
_FAILED_FROM, _ = _only(events.CallFailed)
_ANSWERED_FROM, _ANSWERED_TO = _only(events.CallAnswered)
_CONNECTED_FROM, _CONNECTED_TO = _only(events.CallConnected)
_ABANDONED_FROM, _ = _only(events.CallAbandoned)
_ENDED_FROM, _ = _only(events.CallEnded)

# the agent moves of the two hot call events, {state: next state}, read from AGENT_TRANSITIONS
_AGENT_ON_DIAL = {st: n for (st, tp), n in AGENT_TRANSITIONS.items() if tp is events.DialPlaced}
_AGENT_ON_CONNECT = {st: n for (st, tp), n in AGENT_TRANSITIONS.items() if tp is events.CallConnected}
# the hot handlers write these moves out (each keeps every count and time sum as _set_agent does):
# change them with the table
assert _AGENT_ON_DIAL == {_A_IDLE: _A_RESERVED}, "Floor._placed"
assert _AGENT_ON_CONNECT == {_A_IDLE: _A_TALKING, _A_RESERVED: _A_TALKING}, "Floor._connected"
assert AGENT_TRANSITIONS[(_A_TALKING, events.CallEnded)] is _A_WRAP, "Floor._ended"
assert AGENT_TRANSITIONS[(_A_WRAP, events.AgentReady)] is _A_IDLE, "Floor._ready"

_F_NO_ANSWER = FailReason.NO_ANSWER
_F_BUSY = FailReason.BUSY
_O_NO_ANSWER = Outcome.NO_ANSWER
_O_BUSY = Outcome.BUSY
_O_INVALID = Outcome.INVALID
_O_MACHINE = Outcome.MACHINE
_O_TRANSFERRED = Outcome.TRANSFERRED
_O_ABANDONED = Outcome.ABANDONED




@dataclass(frozen=True, slots=True)
class CallInfo:
    """A read-only view of one call in progress (for the controller and for reports)."""

    call: Hashable
    lead: Hashable
    state: CallState
    reserved: bool
    placed_at: float
    agent: Hashable | None


@dataclass(slots=True)
class _Agent:
    id: Hashable
    state: AgentState
    since: float  # time the current state began
    day: int  # day the agent's session is accounted to
    stats: DailyStats  # that day's tallies (kept at hand: the hot paths need no look-up)
    leaving: bool = False
    call: Hashable | None = None  # reserved-for or talking-on
    idle_since: float | None = None  # start of the current ready period


@dataclass(slots=True, init=False)  # made bare by _placed, which sets every field (the quickest way)
class _Call:
    id: Hashable
    lead: Hashable
    state: CallState
    stats: DailyStats  # the tallies of the day the call was placed
    agent: Hashable | None  # reserved agent, then the connected agent
    reserved: bool
    placed_at: float
    answered_at: float  # when a person answered (0.0 before)


class Floor:
    """Agents and calls of one campaign, kept consistent by the transition tables.

    Pacers read the counts below; only `apply` changes them.
    """

    def __init__(
        self,
        *,
        day_of: Callable[[float], Hashable] = _day_of,
        guard: RedialGuard | None = None,
    ) -> None:
        self._day_of = day_of
        self._agents: dict[Hashable, _Agent] = {}
        self._calls: dict[Hashable, _Call] = {}
        # idle agents in the order they became idle (dict as an ordered set)
        self._idle: dict[Hashable, None] = {}
        self._idle_leaving = 0
        self.idle = 0  # idle agents not reserved for any dial: len(self._idle), kept in step
        self.logged_in = 0
        self.reserved_agents = 0
        self.talking = 0
        self.wrapping = 0
        self.paused = 0
        self.ringing_unreserved = 0
        self.ringing_reserved = 0
        self.live_waiting = 0  # live answers waiting for an agent (unreserved)
        self.calls_active = 0  # every call holding a line: ringing, live, talking
        self.now = float("-inf")  # time of the last event applied
        # leads being dialled, and leads whose last call was abandoned (norm 4.6.3)
        self.guard = guard if guard is not None else RedialGuard()
        self.days: dict[Hashable, DailyStats] = {}
        self._day_stats: DailyStats | None = None  # the tallies of the current whole day (default day_of)
        self._day_until = -math.inf  # ... until this time (-inf: none kept, as with another day_of)

    @property
    def day_of(self) -> Callable[[float], Hashable]:
        """Maps a time to the key of its accounting day (default: whole 86,400 s days from 0)."""
        return self._day_of

    @day_of.setter
    def day_of(self, day_of: Callable[[float], Hashable]) -> None:
        self._day_of = day_of
        self._day_until = -math.inf  # the day's tallies kept at hand belong to the old key

    # --- counts pacers read --------------------------------------------------

    @property
    def idle_committed(self) -> int:
        """Idle agents who will stay to take a call that is answered soon."""
        return len(self._idle) - self._idle_leaving

    @property
    def busy(self) -> int:
        """Agents on a call or in wrap-up."""
        return self.talking + self.wrapping

    @property
    def pooled(self) -> int:
        """Unreserved calls in flight: ringing, or answered and waiting for an agent (the abandon
        envelope's pool: any idle agent takes whichever of them is answered)."""
        return self.ringing_unreserved + self.live_waiting

    @property
    def in_flight(self) -> int:
        """Dials placed and not yet answered or failed, reserved or not."""
        return self.ringing_unreserved + self.ringing_reserved

    def idle_agents(self) -> Iterator[Hashable]:
        """Idle, unreserved agents, longest idle first."""
        return iter(self._idle)

    def agent_state(self, agent: Hashable) -> AgentState:
        a = self._agents.get(agent)
        return a.state if a is not None else AgentState.OUT

    def call_state(self, call: Hashable) -> CallState:
        c = self._calls.get(call)
        return c.state if c is not None else CallState.NEW

    def lead_in_flight(self, lead: Hashable) -> bool:
        return self.guard.in_flight(lead)

    def must_reserve_lead(self, lead: Hashable, now: float) -> bool:
        """True if a dial of `lead` at `now` must have an agent reserved (norm 4.6.3)."""
        return self.guard.must_reserve(lead, now)

    @property
    def must_reserve(self) -> frozenset[Hashable]:
        """Leads that must be dialled with an agent reserved, as of the last event's time."""
        return self.guard.flagged(self.now)

    def agent_leaving(self, agent: Hashable) -> bool:
        """True if the agent announced leaving: it takes calls but covers no dial in flight."""
        a = self._agents.get(agent)
        return a is not None and a.leaving

    def call_info(self, call: Hashable) -> CallInfo | None:
        """The call in progress with this id, or None (never placed, or already over)."""
        c = self._calls.get(call)
        if c is None:
            return None
        return CallInfo(c.id, c.lead, c.state, c.reserved, c.placed_at, c.agent)

    def stats(self, day: Hashable) -> DailyStats:
        s = self.days.get(day)
        if s is None:
            s = self.days[day] = DailyStats()
        return s

    # --- applying events -----------------------------------------------------

    def apply(self, ev: Event) -> Outcome | None:
        """Apply one event; returns the outcome of a call that ended with it, else None."""
        handler = _HANDLERS.get(type(ev))
        if handler is None:
            raise ProtocolError(f"unknown event type {type(ev).__name__!r}")
        if ev.time < self.now:
            raise ProtocolError(
                f"{type(ev).__name__} at time {ev.time!r} is earlier than the last event ({self.now!r})"
            )
        out = handler(self, ev)
        self.now = ev.time
        return out

    def handlers(self) -> dict[type[Event], Callable[[Event], Outcome | None]]:
        """`apply`'s dispatch table, bound to this floor: {event type: handler}.

        For a caller that applies many events and does `apply`'s own two steps
        around a handler (the controller): refuse an event earlier than `now`
        first, set `now` to the event's time after. Everything else (the tables,
        Rule 1) is in the handlers.
        """
        return {tp: h.__get__(self) for tp, h in _HANDLERS.items()}  # type: ignore[attr-defined]

    def _agent(self, ev: Event, agent: Hashable) -> _Agent:
        a = self._agents.get(agent)
        if a is None or a.state is _A_OUT:
            raise ProtocolError(f"{type(ev).__name__}: agent {agent!r} is not logged in")
        return a

    def _call(self, ev: Event, call: Hashable) -> _Call:
        c = self._calls.get(call)
        if c is None:
            raise ProtocolError(f"{type(ev).__name__}: unknown call {call!r} (never placed, or already over)")
        return c

    @staticmethod
    def _agent_next(ev: Event, a: _Agent) -> AgentState:
        nxt = AGENT_TRANSITIONS.get((a.state, type(ev)))
        if nxt is None:
            raise ProtocolError(
                f"{type(ev).__name__} does not fit agent {a.id!r} in state {a.state.value!r}"
            )
        return nxt

    @staticmethod
    def _call_next(ev: Event, c: _Call) -> CallState | None:
        key = (c.state, type(ev))
        if key not in CALL_TRANSITIONS:
            raise ProtocolError(
                f"{type(ev).__name__} does not fit call {c.id!r} in state {c.state.value!r}"
            )
        return CALL_TRANSITIONS[key]

    def _set_agent(self, a: _Agent, new: AgentState, t: float) -> None:
        """Move an agent to `new`, keeping every count and the time sums right."""
        old = a.state
        if old is new:
            return
        s = a.stats
        elapsed = t - a.since
        if old is _A_IDLE:
            del self._idle[a.id]
            self.idle -= 1
            if a.leaving:
                self._idle_leaving -= 1
        elif old is _A_RESERVED:
            self.reserved_agents -= 1
        elif old is _A_TALKING:
            s.talk_time += elapsed
            self.talking -= 1
        elif old is _A_WRAP:
            s.wrap_time += elapsed
            self.wrapping -= 1
        elif old is _A_PAUSED:
            self.paused -= 1
        if old is not _A_OUT:
            s.logged_in_time += elapsed
        # ready periods: IDLE and RESERVED are waiting for a call
        if new is _A_IDLE:
            self._count_idle(a, t)
        elif new is _A_RESERVED:
            if a.idle_since is None:
                a.idle_since = t
            self.reserved_agents += 1
        elif new is _A_TALKING:
            if a.idle_since is not None:
                s.idle_time_before_connect += t - a.idle_since
                s.idle_periods += 1
                a.idle_since = None
            self.talking += 1
        else:
            a.idle_since = None
            if new is _A_WRAP:
                self.wrapping += 1
            elif new is _A_PAUSED:
                self.paused += 1
            elif new is _A_OUT:
                self.logged_in -= 1
                a.leaving = False
        a.state = new
        a.since = t

    def _count_idle(self, a: _Agent, t: float) -> None:
        """The counts of an agent becoming idle (its state is set by the caller): one place for
        `_set_agent` and the moves written out on the hot paths."""
        if a.idle_since is None:
            a.idle_since = t
        self._idle[a.id] = None
        self.idle += 1
        if a.leaving:
            self._idle_leaving += 1

    # -- agent events

    def _logged_in(self, ev: events.AgentLoggedIn) -> None:
        a = self._agents.get(ev.agent)
        if a is not None and a.state is not _A_OUT:
            raise ProtocolError(
                f"AgentLoggedIn does not fit agent {ev.agent!r} in state {a.state.value!r}"
            )
        day = self.day_of(ev.time)
        if a is None:
            a = self._agents[ev.agent] = _Agent(ev.agent, _A_OUT, ev.time, day, self.stats(day))
        a.day = day
        a.stats = self.stats(day)
        a.since = ev.time
        self.logged_in += 1
        self._set_agent(a, _A_IDLE, ev.time)

    def _ready(self, ev: events.AgentReady) -> None:
        a = self._agents.get(ev.agent)
        if a is None or a.state is not _A_WRAP:
            return self._agent_simple(ev)  # back from a pause, or refused
        # _set_agent(a, IDLE, t) written out for the end of a wrap-up
        t = ev.time
        s = a.stats
        elapsed = t - a.since
        s.wrap_time += elapsed
        self.wrapping -= 1
        s.logged_in_time += elapsed
        self._count_idle(a, t)
        a.state = _A_IDLE
        a.since = t

    def _agent_simple(self, ev: events.AgentReady | events.AgentPaused | events.AgentLoggedOut) -> None:
        a = self._agents.get(ev.agent)
        if a is None or a.state is _A_OUT:
            raise ProtocolError(f"{type(ev).__name__}: agent {ev.agent!r} is not logged in")
        nxt = AGENT_TRANSITIONS.get((a.state, type(ev)))
        if nxt is None:
            self._agent_next(ev, a)  # raises, naming the event and the state
        self._set_agent(a, nxt, ev.time)  # type: ignore[arg-type]

    def _leaving(self, ev: events.AgentLeaving) -> None:
        a = self._agent(ev, ev.agent)
        if a.leaving:
            raise ProtocolError(f"AgentLeaving: agent {ev.agent!r} is already leaving")
        a.leaving = True
        if a.state is _A_IDLE:
            self._idle_leaving += 1

    # -- call events
    #
    # Each handler first finds every record it needs and checks the event against
    # the tables (raising, with nothing changed, if it does not fit), then applies it.

    def _placed(self, ev: events.DialPlaced) -> None:
        call = ev.call
        if call in self._calls:
            raise ProtocolError(f"DialPlaced: call {call!r} is already in progress")
        agent = ev.agent
        t = ev.time
        lead = ev.lead
        if agent is not None:
            a = self._agents.get(agent)
            if a is None or a.state is not _A_IDLE:  # the one agent state a reserved dial fits (checked below)
                self._refuse_reserved_dial(ev, a)
        # the guard's check, then its memory of the lead in flight: the last check, nothing below refuses
        if t < self._day_until:
            self.guard.admit(lead, agent is not None, t)
            s = self._day_stats
        else:
            day = self._day_of(t)  # (a custom day_of may raise: before any change)
            self.guard.admit(lead, agent is not None, t)
            s = self._day_tally(day)
        c = self._calls[call] = _Call()
        c.id = call
        c.lead = lead
        c.state = _PLACED_TO
        c.stats = s
        c.agent = agent
        c.reserved = agent is not None
        c.placed_at = t
        c.answered_at = 0.0
        s.attempted += 1
        self.calls_active += 1
        if agent is None:
            self.ringing_unreserved += 1
        else:
            s.reserved_dials += 1
            self.ringing_reserved += 1
            a.call = call
            # _set_agent(a, RESERVED, t) written out for the one move the table allows here
            del self._idle[agent]
            self.idle -= 1
            if a.leaving:
                self._idle_leaving -= 1
            a.stats.logged_in_time += t - a.since
            if a.idle_since is None:
                a.idle_since = t
            self.reserved_agents += 1
            a.state = _A_RESERVED
            a.since = t

    def _refuse_reserved_dial(self, ev: events.DialPlaced, a: _Agent | None) -> None:
        """Raise for a reserved dial whose agent is not idle, naming the reason (the guard's first)."""
        self.guard.check_dial(ev.lead, reserved=True, now=ev.time)
        if a is None or a.state is _A_OUT:
            raise ProtocolError(f"DialPlaced: agent {ev.agent!r} is not logged in")
        self._agent_next(ev, a)  # raises, naming the event and the state
        raise AssertionError(f"{ev!r} should have been refused")  # pragma: no cover

    def _day_tally(self, day: Hashable) -> DailyStats:
        """The tallies of `day`; with the default whole days, kept at hand until the day ends."""
        s = self.stats(day)
        if self._day_of is _day_of:
            self._day_stats = s
            self._day_until = (day + 1) * DAY  # type: ignore[operator]  # events come in time order
        return s

    def _call_in(self, ev: Event, state: CallState) -> _Call:
        """The call `ev` is about, which must be in `state` (the one state the table lets `ev` meet)."""
        c = self._calls.get(ev.call)  # type: ignore[attr-defined]
        if c is None:
            self._call(ev, ev.call)  # type: ignore[attr-defined]  # raises
        if c.state is not state:  # type: ignore[union-attr]
            self._call_next(ev, c)  # type: ignore[arg-type]  # raises, naming the event and the state
        return c  # type: ignore[return-value]

    def _finish(self, c: _Call, outcome: Outcome, t: float) -> Outcome:
        del self._calls[c.id]
        self.calls_active -= 1
        self.guard.ended(c.lead, outcome, t)
        return outcome

    def _release_reserved(self, ev: Event, c: _Call) -> None:
        if c.agent is not None:
            a = self._agents[c.agent]
            if a.call == c.id and a.state is _A_RESERVED:
                a.call = None
                self._set_agent(a, _A_IDLE, ev.time)

    def _failed(self, ev: events.CallFailed) -> Outcome:
        c = self._calls.get(ev.call)
        if c is None or c.state is not _FAILED_FROM:
            c = self._call_in(ev, _FAILED_FROM)  # raises, naming the event and the state
        s = c.stats
        reason = ev.reason
        if reason is _F_NO_ANSWER:
            outcome = _O_NO_ANSWER
            s.no_answer += 1
        elif reason is _F_BUSY:
            outcome = _O_BUSY
            s.busy += 1
        else:
            outcome = _O_INVALID
            s.invalid += 1
        t = ev.time
        if c.reserved:
            self.ringing_reserved -= 1
            a = self._agents[c.agent]
            if a.call == c.id and a.state is _A_RESERVED:
                # _set_agent(a, IDLE, t) written out: the reserved agent is free again
                a.call = None
                self.reserved_agents -= 1
                a.stats.logged_in_time += t - a.since
                self._count_idle(a, t)
                a.state = _A_IDLE
                a.since = t
        else:
            self.ringing_unreserved -= 1
        del self._calls[c.id]
        self.calls_active -= 1
        self.guard.ended(c.lead, outcome, t)
        return outcome

    def _answered(self, ev: events.CallAnswered) -> Outcome | None:
        c = self._calls.get(ev.call)
        if c is None or c.state is not _ANSWERED_FROM:
            c = self._call_in(ev, _ANSWERED_FROM)  # raises, naming the event and the state
        s = c.stats
        s.answered += 1
        if c.reserved:
            self.ringing_reserved -= 1
        else:
            self.ringing_unreserved -= 1
        if not ev.human:
            s.machine += 1
            if c.reserved:
                self._release_reserved(ev, c)
            return self._finish(c, _O_MACHINE, ev.time)
        s.connected += 1
        c.state = _ANSWERED_TO  # type: ignore[assignment]
        c.answered_at = ev.time
        if not c.reserved:
            self.live_waiting += 1
        return None

    def _connected(self, ev: events.CallConnected) -> None:
        c = self._call_in(ev, _CONNECTED_FROM)
        agent = ev.agent
        a = self._agent(ev, agent)
        state = a.state
        if state is _A_RESERVED and a.call != c.id:
            raise ProtocolError(
                f"CallConnected: agent {agent!r} is reserved for call {a.call!r}, not {ev.call!r}"
            )
        if c.reserved and c.agent != agent:
            raise ProtocolError(
                f"CallConnected: call {ev.call!r} is reserved for agent {c.agent!r}, not {agent!r}"
            )
        if state is not _A_RESERVED and state is not _A_IDLE:
            self._agent_next(ev, a)  # raises
        t = ev.time
        if not c.reserved:
            self.live_waiting -= 1
        c.state = _CONNECTED_TO  # type: ignore[assignment]
        c.agent = agent
        a.call = c.id
        c.stats.connect_wait += t - c.answered_at
        # _set_agent(a, TALKING, t) written out for the two moves the table allows here
        s = a.stats
        elapsed = t - a.since
        if state is _A_RESERVED:
            self.reserved_agents -= 1
        else:
            del self._idle[a.id]
            self.idle -= 1
            if a.leaving:
                self._idle_leaving -= 1
        s.logged_in_time += elapsed
        if a.idle_since is not None:
            s.idle_time_before_connect += t - a.idle_since
            s.idle_periods += 1
            a.idle_since = None
        self.talking += 1
        a.state = _A_TALKING
        a.since = t

    def _abandoned(self, ev: events.CallAbandoned) -> Outcome:
        c = self._call_in(ev, _ABANDONED_FROM)
        if c.reserved:
            self._release_reserved(ev, c)
        else:
            self.live_waiting -= 1
        s = c.stats
        s.abandoned += 1
        s.abandon_silence += ev.time - c.answered_at
        return self._finish(c, _O_ABANDONED, ev.time)

    def _ended(self, ev: events.CallEnded) -> Outcome:
        c = self._call_in(ev, _ENDED_FROM)
        a = self._agents[c.agent]
        a.call = None
        t = ev.time
        if a.state is _A_TALKING:
            # _set_agent(a, WRAP, t) written out for the one move the table allows here
            s = a.stats
            elapsed = t - a.since
            s.talk_time += elapsed
            self.talking -= 1
            s.logged_in_time += elapsed
            a.idle_since = None
            self.wrapping += 1
            a.state = _A_WRAP
            a.since = t
        else:  # pragma: no cover - a talking call's agent is talking
            self._set_agent(a, _A_WRAP, t)
        c.stats.transferred += 1
        return self._finish(c, _O_TRANSFERRED, t)


_HANDLERS: dict[type[Event], Callable[[Floor, Event], Outcome | None]] = {
    events.AgentLoggedIn: Floor._logged_in,
    events.AgentReady: Floor._ready,
    events.AgentPaused: Floor._agent_simple,
    events.AgentLoggedOut: Floor._agent_simple,
    events.AgentLeaving: Floor._leaving,
    events.DialPlaced: Floor._placed,
    events.CallFailed: Floor._failed,
    events.CallAnswered: Floor._answered,
    events.CallConnected: Floor._connected,
    events.CallAbandoned: Floor._abandoned,
    events.CallEnded: Floor._ended,
}
