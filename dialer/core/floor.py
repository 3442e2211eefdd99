"""The call floor as the controller sees it: agents, calls in flight, and their life cycles.

Owns: the agent and call state machines (tables of `(state, event type) ->
state`: a handler looks its moves up there and `Floor._move` makes them; the
commonest moves, read from the tables at import, are written out in their
handlers), the running counts pacers read (idle agents, dials in flight,
...), and the daily tallies. The redial-after-abandon memory lives in a
`RedialGuard` (dialer.core.guards) that the floor consults before a dial and
tells when a call ends.
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
from typing import Any, Callable, Hashable, Iterator

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


# the states as module constants: the handlers below avoid Enum attribute look-ups
_OUT, _IDLE, _RESERVED, _PAUSED = AgentState.OUT, AgentState.IDLE, AgentState.RESERVED, AgentState.PAUSED
_TALKING, _WRAP = AgentState.TALKING, AgentState.WRAP
_NEW, _RINGING, _LIVE, _C_TALKING = CallState.NEW, CallState.RINGING, CallState.LIVE, CallState.TALKING

#: A `CallAnswered` with ``human=False`` as the tables see it: the machine's answer ends the call.
MACHINE_ANSWER = (events.CallAnswered, "machine")

#: (agent state, event type) -> the agent's next state. The events that move an agent: its own
#: (AgentLoggedIn, ...), and a call's, for the agent the call names or is reserved for.
AGENT_TRANSITIONS: dict[tuple[AgentState, Any], AgentState] = {
    (_OUT, events.AgentLoggedIn): _IDLE,
    (_IDLE, events.AgentPaused): _PAUSED,
    (_PAUSED, events.AgentReady): _IDLE,
    (_WRAP, events.AgentReady): _IDLE,
    (_IDLE, events.AgentLoggedOut): _OUT,
    (_PAUSED, events.AgentLoggedOut): _OUT,
    # announced leaving, in any state but out: the agent takes calls still, but covers no dial in flight
    **{(state, events.AgentLeaving): state for state in (_IDLE, _RESERVED, _TALKING, _WRAP, _PAUSED)},
    (_IDLE, events.DialPlaced): _RESERVED,  # a dial with the agent reserved for it
    (_RESERVED, events.CallFailed): _IDLE,
    (_RESERVED, events.CallAnswered): _RESERVED,  # a person: the agent stays for the connect
    (_RESERVED, MACHINE_ANSWER): _IDLE,
    (_RESERVED, events.CallAbandoned): _IDLE,
    (_IDLE, events.CallConnected): _TALKING,
    (_RESERVED, events.CallConnected): _TALKING,
    (_TALKING, events.CallEnded): _WRAP,
}

#: (call state, event type) -> the call's next state; None: the call is over.
CALL_TRANSITIONS: dict[tuple[CallState, Any], CallState | None] = {
    (_NEW, events.DialPlaced): _RINGING,
    (_RINGING, events.CallFailed): None,
    (_RINGING, events.CallAnswered): _LIVE,
    (_RINGING, MACHINE_ANSWER): None,
    (_LIVE, events.CallConnected): _C_TALKING,
    (_LIVE, events.CallAbandoned): None,
    (_C_TALKING, events.CallEnded): None,
}


def _rows(table: dict[tuple[Any, Any], Any]) -> dict[Any, dict[Any, Any]]:
    """A transition table by event: {event type: {state: next state}} (a look-up with no tuple made)."""
    rows: dict[Any, dict[Any, Any]] = {}
    for (state, event), nxt in table.items():
        rows.setdefault(event, {})[state] = nxt
    return rows


_AGENT_ROWS = _rows(AGENT_TRANSITIONS)
_CALL_ROWS = _rows(CALL_TRANSITIONS)

_F_NO_ANSWER = FailReason.NO_ANSWER
_F_BUSY = FailReason.BUSY
_O_NO_ANSWER = Outcome.NO_ANSWER
_O_BUSY = Outcome.BUSY
_O_INVALID = Outcome.INVALID
_O_MACHINE = Outcome.MACHINE
_O_TRANSFERRED = Outcome.TRANSFERRED
_O_ABANDONED = Outcome.ABANDONED


def _refusal(ev: Event, what: str, ident: Hashable, state: AgentState | CallState) -> ProtocolError:
    """The one error for an event that does not fit an agent's or a call's state, naming both."""
    name = type(ev).__name__
    if state is _OUT:
        return ProtocolError(f"{name}: agent {ident!r} is not logged in")
    if state is _NEW:
        return ProtocolError(f"{name}: unknown call {ident!r} (never placed, or already over)")
    if what == "call" and name == "DialPlaced":
        return ProtocolError(f"DialPlaced: call {ident!r} is already in progress, in state {state.value!r}")
    return ProtocolError(f"{name} does not fit {what} {ident!r} in state {state.value!r}")


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
    number: Hashable  # what the redial rule is about: the phone dialled, or the lead when it is the number
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

    def lead_in_flight(self, number: Hashable) -> bool:
        """True if a dial of this number (a lead that is its number, or a phone) is in progress."""
        return self.guard.in_flight(number)

    def must_reserve_lead(self, now: float, number: Hashable) -> bool:
        """True if a dial of this number (a lead that is its number, or a phone) at `now` must have an
        agent reserved (norm 4.6.3)."""
        return self.guard.must_reserve(now, number)

    @property
    def must_reserve(self) -> frozenset[Hashable]:
        """The keys of the numbers that must be dialled with an agent reserved, as of the last event's time."""
        return self.guard.flagged(self.now)

    @property
    def leaving(self) -> int:
        """Logged-in agents who announced leaving (O(agents): for reports, not for pacing)."""
        return sum(1 for a in self._agents.values() if a.leaving and a.state is not _OUT)

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

    # --- the move ------------------------------------------------------------
    #
    # Each handler finds the call and the agent its event concerns and where the
    # tables take them, and makes its other checks; only then does it change
    # anything. The general way: a look-up in the handler's rows of the tables
    # (a miss raises `_refusal`, naming the event and the state), then `_move`.
    # The fast way, for the commonest state of each hot event: the move the rows
    # give in that state, written out in the handler (FAST PATHS, at the end of
    # the module, say which states the tables let each one take).

    def _move(self, t: float, a: _Agent | None, agent_to: AgentState | None,
              c: _Call | None, call_to: CallState | None, outcome: Outcome | None) -> Outcome | None:
        """Move agent `a` to `agent_to` and call `c` to `call_to` at `t` (either may be None: no such move).

        A call moved to None is over, with `outcome` (returned). Every count,
        time sum and ready period is kept right here, and in the fast paths
        that write out one of its moves.
        """
        if a is not None and agent_to is not a.state:
            old = a.state
            s = a.stats
            elapsed = t - a.since
            if old is _IDLE:
                del self._idle[a.id]
                self.idle -= 1
                if a.leaving:
                    self._idle_leaving -= 1
            elif old is _RESERVED:
                self.reserved_agents -= 1
            elif old is _TALKING:
                s.talk_time += elapsed
                self.talking -= 1
            elif old is _WRAP:
                s.wrap_time += elapsed
                self.wrapping -= 1
            elif old is _PAUSED:
                self.paused -= 1
            if old is _OUT:
                self.logged_in += 1
            else:
                s.logged_in_time += elapsed
            # ready periods: IDLE and RESERVED are waiting for a call
            if agent_to is _IDLE:
                if a.idle_since is None:
                    a.idle_since = t
                a.call = None
                self._idle[a.id] = None
                self.idle += 1
                if a.leaving:
                    self._idle_leaving += 1
            elif agent_to is _RESERVED:
                if a.idle_since is None:
                    a.idle_since = t
                a.call = c.id  # type: ignore[union-attr]
                self.reserved_agents += 1
            elif agent_to is _TALKING:
                if a.idle_since is not None:
                    s.idle_time_before_connect += t - a.idle_since
                    s.idle_periods += 1
                    a.idle_since = None
                a.call = c.id  # type: ignore[union-attr]
                self.talking += 1
            else:
                a.idle_since = None
                a.call = None
                if agent_to is _WRAP:
                    self.wrapping += 1
                elif agent_to is _PAUSED:
                    self.paused += 1
                else:  # out
                    self.logged_in -= 1
                    a.leaving = False
            a.state = agent_to  # type: ignore[assignment]
            a.since = t
        if c is None:
            return None
        if call_to is not None:
            c.state = call_to
            return None
        del self._calls[c.id]
        self.calls_active -= 1
        self.guard.ended(t, c.number, outcome)  # type: ignore[arg-type]
        return outcome

    def _agent_to(self, ev: Event, agent: Hashable, row: dict[AgentState, AgentState]) -> tuple[_Agent, AgentState]:
        """The agent `ev` names and where the table's `row` for the event takes it (raises on a miss)."""
        a = self._agents.get(agent)
        to = row.get(a.state) if a is not None else row.get(_OUT)
        if to is None:
            raise _refusal(ev, "agent", agent, a.state if a is not None else _OUT)
        return a, to  # type: ignore[return-value]  # (a None only for AgentLoggedIn: out)

    def _by_rows(self, ev: Event, c: _Call | None, call_row: dict[CallState, CallState | None], a: _Agent | None,
                 agent_row: dict[AgentState, AgentState]) -> tuple[AgentState | None, CallState | None]:
        """The general way for a call's event: where `call_row` takes call `c` and `agent_row` its agent
        `a` (None: no agent moves), or raise naming the event and the state (the call's first)."""
        if c is None or c.state not in call_row:
            raise _refusal(ev, "call", ev.call, _NEW if c is None else c.state)  # type: ignore[attr-defined]
        if a is None:
            return None, call_row[c.state]
        agent_to = agent_row.get(a.state)
        if agent_to is None:
            raise _refusal(ev, "agent", a.id, a.state)
        return agent_to, call_row[c.state]

    # -- agent events

    def _logged_in(self, ev: events.AgentLoggedIn) -> None:
        a, to = self._agent_to(ev, ev.agent, _AGENT_ON_LOGIN)
        t = ev.time
        day = self.day_of(t)  # (a custom day_of may raise: before any change)
        stats = self.stats(day)
        if a is None:
            a = self._agents[ev.agent] = _Agent(ev.agent, _OUT, t, day, stats)
        a.day = day
        a.stats = stats
        a.since = t
        self._move(t, a, to, None, None, None)

    def _agent_event(self, ev: events.AgentReady | events.AgentPaused | events.AgentLoggedOut) -> None:
        a, to = self._agent_to(ev, ev.agent, _AGENT_ROWS[type(ev)])
        self._move(ev.time, a, to, None, None, None)

    def _ready(self, ev: events.AgentReady) -> None:
        a = self._agents.get(ev.agent)
        if a is None or a.state is not _READY_WRAP:
            return self._agent_event(ev)  # the general way
        # FAST PATH: a wrap-up's end, WRAP -> IDLE
        t = ev.time
        s = a.stats
        elapsed = t - a.since
        s.wrap_time += elapsed
        self.wrapping -= 1
        s.logged_in_time += elapsed
        if a.idle_since is None:
            a.idle_since = t
        a.call = None
        self._idle[a.id] = None
        self.idle += 1
        if a.leaving:
            self._idle_leaving += 1
        a.state = _IDLE
        a.since = t
        return None

    def _leaving(self, ev: events.AgentLeaving) -> None:
        a, to = self._agent_to(ev, ev.agent, _AGENT_ON_LEAVING)
        if a.leaving:
            raise ProtocolError(f"AgentLeaving: agent {ev.agent!r} is already leaving")
        self._move(ev.time, a, to, None, None, None)  # (the table keeps the state)
        a.leaving = True
        if a.state is _IDLE:
            self._idle_leaving += 1

    # -- call events

    def _placed(self, ev: events.DialPlaced) -> None:
        call = ev.call
        agent = ev.agent
        if agent is None:
            a = None
            fast = _DIAL_NEW is _NEW and call not in self._calls  # (a new call has no record)
        else:
            a = self._agents.get(agent)
            fast = a is not None and a.state is _DIAL_IDLE and call not in self._calls
        t = ev.time
        lead = ev.lead
        number = lead if ev.phone is None else ev.phone
        if not fast:  # the general way
            c = self._calls.get(call)
            state = _NEW if c is None else c.state
            call_to = _CALL_ON_DIAL.get(state, _NEVER)
            if call_to is _NEVER:
                raise _refusal(ev, "call", call, state)
            agent_to = None
            if agent is not None:
                agent_to = _AGENT_ON_DIAL.get(_OUT if a is None else a.state)
                if a is None or agent_to is None:
                    self.guard.check_dial(t, number, reserved=True)  # the guard's refusal comes first
                    raise _refusal(ev, "agent", agent, _OUT if a is None else a.state)
        # the guard's check, then its memory of the number in flight: the last check, nothing below refuses
        if t < self._day_until:
            self.guard.admit(t, number, agent is not None)
            s = self._day_stats
        else:
            day = self._day_of(t)  # (a custom day_of may raise: before any change)
            self.guard.admit(t, number, agent is not None)
            s = self._day_tally(day)
        c = self._calls[call] = _Call()
        c.id = call
        c.lead = lead
        c.number = number
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
        if not fast:
            c.state = _NEW
            self._move(t, a, agent_to, c, call_to, None)  # type: ignore[arg-type]
            return
        # FAST PATH: the call NEW -> RINGING, and a reserved agent IDLE -> RESERVED
        c.state = _RINGING
        if a is not None:
            del self._idle[agent]
            self.idle -= 1
            if a.leaving:
                self._idle_leaving -= 1
            a.stats.logged_in_time += t - a.since
            if a.idle_since is None:
                a.idle_since = t
            a.call = call
            self.reserved_agents += 1
            a.state = _RESERVED
            a.since = t

    def _day_tally(self, day: Hashable) -> DailyStats:
        """The tallies of `day`; with the default whole days, kept at hand until the day ends."""
        s = self.stats(day)
        if self._day_of is _day_of:
            self._day_stats = s
            self._day_until = (day + 1) * DAY  # type: ignore[operator]  # events come in time order
        return s

    def _failed(self, ev: events.CallFailed) -> Outcome | None:
        c = self._calls.get(ev.call)
        if c is not None and c.reserved:
            a = self._agents[c.agent]
            fast = c.state is _FAIL_RINGING and a.state is _FAIL_RESERVED
        else:
            a = None
            fast = c is not None and c.state is _FAIL_RINGING
        if not fast:
            agent_to, call_to = self._by_rows(ev, c, _CALL_ON_FAIL, a, _AGENT_ON_FAIL)
        if c.reserved:  # type: ignore[union-attr]
            self.ringing_reserved -= 1
        else:
            self.ringing_unreserved -= 1
        s = c.stats  # type: ignore[union-attr]
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
        if not fast:
            return self._move(t, a, agent_to, c, call_to, outcome)  # type: ignore[arg-type]
        # FAST PATH: the call RINGING -> over, and a reserved agent RESERVED -> IDLE
        if a is not None:
            a.stats.logged_in_time += t - a.since
            if a.idle_since is None:
                a.idle_since = t
            a.call = None
            self._idle[a.id] = None
            self.idle += 1
            if a.leaving:
                self._idle_leaving += 1
            self.reserved_agents -= 1
            a.state = _IDLE
            a.since = t
        del self._calls[c.id]  # type: ignore[union-attr]
        self.calls_active -= 1
        self.guard.ended(t, c.number, outcome)  # type: ignore[union-attr]
        return outcome

    def _answered(self, ev: events.CallAnswered) -> Outcome | None:
        human = ev.human
        c = self._calls.get(ev.call)
        if c is not None and c.reserved:
            a = self._agents[c.agent]
            fast = human and c.state is _ANSWER_RINGING and a.state is _ANSWER_RESERVED
        else:
            a = None
            fast = human and c is not None and c.state is _ANSWER_RINGING
        if not fast:
            if human:
                agent_to, call_to = self._by_rows(ev, c, _CALL_ON_ANSWER, a, _AGENT_ON_ANSWER)
            else:
                agent_to, call_to = self._by_rows(ev, c, _CALL_ON_MACHINE, a, _AGENT_ON_MACHINE)
        if c.reserved:  # type: ignore[union-attr]
            self.ringing_reserved -= 1
        else:
            self.ringing_unreserved -= 1
        t = ev.time
        s = c.stats  # type: ignore[union-attr]
        s.answered += 1
        if human:
            s.connected += 1
            c.answered_at = t  # type: ignore[union-attr]
            if not c.reserved:  # type: ignore[union-attr]
                self.live_waiting += 1
        else:
            s.machine += 1
        if not fast:
            return self._move(t, a, agent_to, c, call_to, _O_MACHINE)  # type: ignore[arg-type]
        # FAST PATH: a person answers, the call RINGING -> LIVE (a reserved agent stays RESERVED)
        c.state = _LIVE  # type: ignore[union-attr]
        return None

    def _connected(self, ev: events.CallConnected) -> Outcome | None:
        c = self._calls.get(ev.call)
        agent = ev.agent
        a = self._agents.get(agent)
        state = a.state if a is not None else _OUT
        if c is not None and c.state is _CONNECT_LIVE:
            if state is _CONNECT_RESERVED and a.call == c.id:  # type: ignore[union-attr]
                # FAST PATH: the call LIVE -> TALKING, its reserved agent RESERVED -> TALKING (a
                # reserved agent's call is reserved for it: neither check below can refuse it)
                self.reserved_agents -= 1
            elif state is _CONNECT_IDLE and not c.reserved:
                # FAST PATH: the call LIVE -> TALKING, an idle agent IDLE -> TALKING
                del self._idle[agent]
                self.idle -= 1
                if a.leaving:  # type: ignore[union-attr]
                    self._idle_leaving -= 1
                self.live_waiting -= 1
            else:
                return self._connect_by_rows(ev, c, a, state)
            t = ev.time
            c.agent = agent
            s = c.stats
            s.connect_wait += t - c.answered_at
            c.state = _C_TALKING
            s = a.stats  # type: ignore[union-attr]
            s.logged_in_time += t - a.since  # type: ignore[union-attr]
            if a.idle_since is not None:  # type: ignore[union-attr]
                s.idle_time_before_connect += t - a.idle_since  # type: ignore[union-attr]
                s.idle_periods += 1
                a.idle_since = None  # type: ignore[union-attr]
            a.call = c.id  # type: ignore[union-attr]
            self.talking += 1
            a.state = _TALKING  # type: ignore[union-attr]
            a.since = t  # type: ignore[union-attr]
            return None
        return self._connect_by_rows(ev, c, a, state)

    def _connect_by_rows(self, ev: events.CallConnected, c: _Call | None, a: _Agent | None,
                         state: AgentState) -> Outcome | None:
        """`_connected` the general way."""
        if c is None or c.state not in _CALL_ON_CONNECT:
            raise _refusal(ev, "call", ev.call, _NEW if c is None else c.state)
        call_to = _CALL_ON_CONNECT[c.state]
        agent = ev.agent
        if state is _RESERVED and a.call != c.id:  # type: ignore[union-attr]
            raise ProtocolError(
                f"CallConnected: agent {agent!r} is reserved for call {a.call!r}, not {ev.call!r}"  # type: ignore[union-attr]
            )
        if c.reserved and c.agent != agent and state is not _OUT:
            raise ProtocolError(
                f"CallConnected: call {ev.call!r} is reserved for agent {c.agent!r}, not {agent!r}"
            )
        agent_to = _AGENT_ON_CONNECT.get(state)
        if agent_to is None:
            raise _refusal(ev, "agent", agent, state)
        t = ev.time
        if not c.reserved:
            self.live_waiting -= 1
        c.agent = agent
        c.stats.connect_wait += t - c.answered_at
        return self._move(t, a, agent_to, c, call_to, None)  # type: ignore[arg-type]

    def _abandoned(self, ev: events.CallAbandoned) -> Outcome | None:
        c = self._calls.get(ev.call)
        a = self._agents[c.agent] if c is not None and c.reserved else None
        agent_to, call_to = self._by_rows(ev, c, _CALL_ON_ABANDON, a, _AGENT_ON_ABANDON)
        if not c.reserved:  # type: ignore[union-attr]
            self.live_waiting -= 1
        t = ev.time
        s = c.stats  # type: ignore[union-attr]
        s.abandoned += 1
        s.abandon_silence += t - c.answered_at  # type: ignore[union-attr]
        return self._move(t, a, agent_to, c, call_to, _O_ABANDONED)  # type: ignore[arg-type]

    def _ended(self, ev: events.CallEnded) -> Outcome | None:
        c = self._calls.get(ev.call)
        if c is not None and c.state is _END_TALKING:
            a = self._agents[c.agent]
            if a.state is _END_AGENT_TALKING:
                # FAST PATH: the call TALKING -> over, its agent TALKING -> WRAP
                c.stats.transferred += 1
                t = ev.time
                s = a.stats
                elapsed = t - a.since
                s.talk_time += elapsed
                self.talking -= 1
                s.logged_in_time += elapsed
                a.idle_since = None
                a.call = None
                self.wrapping += 1
                a.state = _WRAP
                a.since = t
                del self._calls[c.id]
                self.calls_active -= 1
                self.guard.ended(t, c.number, _O_TRANSFERRED)
                return _O_TRANSFERRED
        # the general way
        if c is None or c.state not in _CALL_ON_END:
            raise _refusal(ev, "call", ev.call, _NEW if c is None else c.state)
        a = self._agents[c.agent]
        agent_to = _AGENT_ON_END.get(a.state)
        if agent_to is None:
            raise _refusal(ev, "agent", a.id, a.state)
        c.stats.transferred += 1
        return self._move(ev.time, a, agent_to, c, _CALL_ON_END[c.state], _O_TRANSFERRED)


# each handler's rows of the tables: {state: next state}
_AGENT_ON_LOGIN = _AGENT_ROWS[events.AgentLoggedIn]
_AGENT_ON_LEAVING = _AGENT_ROWS[events.AgentLeaving]
_AGENT_ON_READY = _AGENT_ROWS[events.AgentReady]
_AGENT_ON_DIAL = _AGENT_ROWS[events.DialPlaced]
_AGENT_ON_FAIL = _AGENT_ROWS[events.CallFailed]
_AGENT_ON_ANSWER = _AGENT_ROWS[events.CallAnswered]
_AGENT_ON_MACHINE = _AGENT_ROWS[MACHINE_ANSWER]
_AGENT_ON_CONNECT = _AGENT_ROWS[events.CallConnected]
_AGENT_ON_ABANDON = _AGENT_ROWS[events.CallAbandoned]
_AGENT_ON_END = _AGENT_ROWS[events.CallEnded]
_CALL_ON_DIAL = _CALL_ROWS[events.DialPlaced]
_CALL_ON_FAIL = _CALL_ROWS[events.CallFailed]
_CALL_ON_ANSWER = _CALL_ROWS[events.CallAnswered]
_CALL_ON_MACHINE = _CALL_ROWS[MACHINE_ANSWER]
_CALL_ON_CONNECT = _CALL_ROWS[events.CallConnected]
_CALL_ON_ABANDON = _CALL_ROWS[events.CallAbandoned]
_CALL_ON_END = _CALL_ROWS[events.CallEnded]

# --- FAST PATHS ---------------------------------------------------------------------------------
#
# The commonest moves of a day, written out in their handlers: a dial, reserved or not; its failure,
# reserved or not; a person's answer; a connect, of a reserved agent or an idle one; a call's end; a
# wrap-up's end. Each writes out the moves the rows give for one state of the call (and of its agent)
# and is taken only in that state, named below and read from the rows themselves: if the tables ever
# take the event elsewhere from there, the name is _NEVER (no record is ever in it) and the event
# goes the general way, its rows and `_move`. tests/core/test_floor.py applies every event in every
# state with the fast paths and without them, and finds the floors equal. Why they are kept (a day's
# instructions with and without them): BENCHMARKS.md, "The floor's tables as its transitions".

_NEVER = object()  # the state no agent or call is ever in


def _fast(*moves: tuple[dict[Any, Any], Any, Any]) -> Any:
    """The state a fast path is taken in: the first of `moves`' from-states if the rows make every one of
    `moves` ((row, from, to)), else _NEVER."""
    for row, frm, to in moves:
        if row.get(frm, _NEVER) is not to:
            return _NEVER
    return moves[0][1]


_DIAL_NEW = _fast((_CALL_ON_DIAL, _NEW, _RINGING))  # (a new call has no record: the handler's `c is None`)
_DIAL_IDLE = _fast((_AGENT_ON_DIAL, _IDLE, _RESERVED), (_CALL_ON_DIAL, _NEW, _RINGING))
_FAIL_RINGING = _fast((_CALL_ON_FAIL, _RINGING, None))
_FAIL_RESERVED = _fast((_AGENT_ON_FAIL, _RESERVED, _IDLE), (_CALL_ON_FAIL, _RINGING, None))
_ANSWER_RINGING = _fast((_CALL_ON_ANSWER, _RINGING, _LIVE))
_ANSWER_RESERVED = _fast((_AGENT_ON_ANSWER, _RESERVED, _RESERVED), (_CALL_ON_ANSWER, _RINGING, _LIVE))
_CONNECT_LIVE = _fast((_CALL_ON_CONNECT, _LIVE, _C_TALKING))
_CONNECT_RESERVED = _fast((_AGENT_ON_CONNECT, _RESERVED, _TALKING), (_CALL_ON_CONNECT, _LIVE, _C_TALKING))
_CONNECT_IDLE = _fast((_AGENT_ON_CONNECT, _IDLE, _TALKING), (_CALL_ON_CONNECT, _LIVE, _C_TALKING))
_END_TALKING = _fast((_CALL_ON_END, _C_TALKING, None), (_AGENT_ON_END, _TALKING, _WRAP))
_END_AGENT_TALKING = _fast((_AGENT_ON_END, _TALKING, _WRAP), (_CALL_ON_END, _C_TALKING, None))
_READY_WRAP = _fast((_AGENT_ON_READY, _WRAP, _IDLE))

#: the names of the states above, for the test that takes every event the general way too
FAST_PATHS = ("_DIAL_NEW", "_DIAL_IDLE", "_FAIL_RINGING", "_FAIL_RESERVED", "_ANSWER_RINGING", "_ANSWER_RESERVED",
              "_CONNECT_LIVE", "_CONNECT_RESERVED", "_CONNECT_IDLE", "_END_TALKING", "_END_AGENT_TALKING",
              "_READY_WRAP")

_HANDLERS: dict[type[Event], Callable[[Floor, Event], Outcome | None]] = {
    events.AgentLoggedIn: Floor._logged_in,
    events.AgentReady: Floor._ready,
    events.AgentPaused: Floor._agent_event,
    events.AgentLoggedOut: Floor._agent_event,
    events.AgentLeaving: Floor._leaving,
    events.DialPlaced: Floor._placed,
    events.CallFailed: Floor._failed,
    events.CallAnswered: Floor._answered,
    events.CallConnected: Floor._connected,
    events.CallAbandoned: Floor._abandoned,
    events.CallEnded: Floor._ended,
}
