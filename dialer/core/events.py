"""Events of the call and agent life cycle: what a dialer tells the controller.

Owns: the event types, each a frozen keyword-only dataclass that validates
itself when constructed, and the small enums they carry.

Rule 1: an event is a fact that happened at `time` (seconds, float, supplied
by whoever feeds the controller). It never reads a clock.
Rule 2: this module knows nothing of SimPy, HTTP, databases or the controller's
state; whether an event *fits* the state is the controller's business.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Hashable

from dialer.checks import Flag, Real, check
from dialer.errors import ProtocolError

AgentId = Hashable
CallId = Hashable
LeadId = Hashable


class FailReason(enum.Enum):
    __hash__ = object.__hash__  # singletons: identity hashing is exact and cheap

    """Why a dial ended without anyone answering."""

    NO_ANSWER = "no_answer"
    BUSY = "busy"
    INVALID = "invalid"


class Outcome(enum.Enum):
    __hash__ = object.__hash__  # singletons: identity hashing is exact and cheap

    """The final outcome of one dial; every dial ends in exactly one of these."""

    NO_ANSWER = "no_answer"
    BUSY = "busy"
    INVALID = "invalid"
    MACHINE = "machine"
    TRANSFERRED = "transferred"
    ABANDONED = "abandoned"


_INF = math.inf
_TIME = Real(noun="number of seconds")  # "a finite number of seconds"
_FLAG = Flag()


def _check_time(name: str, t: float) -> None:
    """The refusal of a time that is not a finite float (an int, or a finite real, passes)."""
    check(f"{name}.time", t, _TIME, error=ProtocolError)


@dataclass(frozen=True, kw_only=True, slots=True)
class Event:
    """Base of every event: something happened at `time` seconds."""

    time: float

    def __post_init__(self) -> None:
        t = self.time
        if type(t) is not float or not -_INF < t < _INF:  # the common case first: a finite float
            _check_time(type(self).__name__, t)


# --- agents -----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentLoggedIn(Event):
    """The agent logged in and is ready for calls."""

    agent: AgentId


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentReady(Event):
    """The agent finished wrap-up (or a pause) and is idle again."""

    agent: AgentId


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentPaused(Event):
    """An idle agent took a pause: takes no calls until AgentReady."""

    agent: AgentId


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentLeaving(Event):
    """The agent will log out soon: it still takes calls but covers no dial in flight.

    docs/design.md: "an agent who may pause or log out before the answer arrives
    covers nothing". A dialer sends this ahead of a shift's end.
    """

    agent: AgentId


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentLoggedOut(Event):
    """An idle (or paused) agent logged out."""

    agent: AgentId


# --- calls ------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class DialPlaced(Event):
    """A dial to `lead` started; `agent` is the agent reserved for it, or None."""

    call: CallId
    lead: LeadId
    agent: AgentId | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CallAnswered(Event):
    """The dial was answered, by a person (`human=True`) or by a machine."""

    call: CallId
    human: bool

    def __post_init__(self) -> None:
        t = self.time
        if type(t) is not float or not -_INF < t < _INF:
            _check_time("CallAnswered", t)
        if type(self.human) is not bool:
            check("CallAnswered.human", self.human, _FLAG, error=ProtocolError)


@dataclass(frozen=True, kw_only=True, slots=True)
class CallFailed(Event):
    """The dial ended unanswered: no answer before the ring timeout, busy, or invalid number."""

    call: CallId
    reason: FailReason

    def __post_init__(self) -> None:
        t = self.time
        if type(t) is not float or not -_INF < t < _INF:
            _check_time("CallFailed", t)
        if not isinstance(self.reason, FailReason):
            try:
                object.__setattr__(self, "reason", FailReason(self.reason))
            except ValueError:
                valid = ", ".join(r.value for r in FailReason)
                raise ProtocolError(
                    f"CallFailed.reason must be one of {valid}, got {self.reason!r}"
                ) from None


@dataclass(frozen=True, kw_only=True, slots=True)
class CallConnected(Event):
    """A live answer was put through to `agent` (a *transferred* call, norm 4.3)."""

    call: CallId
    agent: AgentId


@dataclass(frozen=True, kw_only=True, slots=True)
class CallAbandoned(Event):
    """A live answer met no agent within the connect limit (or the person hung up first)."""

    call: CallId


@dataclass(frozen=True, kw_only=True, slots=True)
class CallEnded(Event):
    """A connected conversation ended; the agent goes to wrap-up."""

    call: CallId


# --- unchecked constructors ---------------------------------------------------
#
# The same frozen events, built without the checks of `__post_init__`: for a
# sender whose values are right by construction, as the simulator's are (its
# times come from its own clock, its reasons from the enum). They skip only the
# validation of the values; the floor still checks that every event fits its
# state, and the controller's `handle` is the same. Anyone else (the live
# service, tests, an integrator) uses the classes, which check everything.

_new = object.__new__
_time = Event.time.__set__  # type: ignore[attr-defined]


def _slot(cls: type, name: str):  # the slot's setter: frozen dataclasses refuse plain assignment
    return getattr(cls, name).__set__


_dp_call, _dp_lead, _dp_agent = (_slot(DialPlaced, n) for n in ("call", "lead", "agent"))
_ca_call, _ca_human = _slot(CallAnswered, "call"), _slot(CallAnswered, "human")
_cf_call, _cf_reason = _slot(CallFailed, "call"), _slot(CallFailed, "reason")
_cc_call, _cc_agent = _slot(CallConnected, "call"), _slot(CallConnected, "agent")
_cab_call = _slot(CallAbandoned, "call")
_ce_call = _slot(CallEnded, "call")
_ar_agent = _slot(AgentReady, "agent")


def unchecked_dial_placed(time: float, call: CallId, lead: LeadId, agent: AgentId | None) -> DialPlaced:
    ev = _new(DialPlaced)
    _time(ev, time)
    _dp_call(ev, call)
    _dp_lead(ev, lead)
    _dp_agent(ev, agent)
    return ev


def unchecked_call_answered(time: float, call: CallId, human: bool) -> CallAnswered:
    ev = _new(CallAnswered)
    _time(ev, time)
    _ca_call(ev, call)
    _ca_human(ev, human)
    return ev


def unchecked_call_failed(time: float, call: CallId, reason: FailReason) -> CallFailed:
    ev = _new(CallFailed)
    _time(ev, time)
    _cf_call(ev, call)
    _cf_reason(ev, reason)
    return ev


def unchecked_call_connected(time: float, call: CallId, agent: AgentId) -> CallConnected:
    ev = _new(CallConnected)
    _time(ev, time)
    _cc_call(ev, call)
    _cc_agent(ev, agent)
    return ev


def unchecked_call_abandoned(time: float, call: CallId) -> CallAbandoned:
    ev = _new(CallAbandoned)
    _time(ev, time)
    _cab_call(ev, call)
    return ev


def unchecked_call_ended(time: float, call: CallId) -> CallEnded:
    ev = _new(CallEnded)
    _time(ev, time)
    _ce_call(ev, call)
    return ev


def unchecked_agent_ready(time: float, agent: AgentId) -> AgentReady:
    ev = _new(AgentReady)
    _time(ev, time)
    _ar_agent(ev, agent)
    return ev


EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        AgentLoggedIn,
        AgentReady,
        AgentPaused,
        AgentLeaving,
        AgentLoggedOut,
        DialPlaced,
        CallAnswered,
        CallFailed,
        CallConnected,
        CallAbandoned,
        CallEnded,
    )
}

__all__ = [
    "AgentId",
    "CallId",
    "LeadId",
    "FailReason",
    "Outcome",
    "Event",
    "AgentLoggedIn",
    "AgentReady",
    "AgentPaused",
    "AgentLeaving",
    "AgentLoggedOut",
    "DialPlaced",
    "CallAnswered",
    "CallFailed",
    "CallConnected",
    "CallAbandoned",
    "CallEnded",
    "EVENT_TYPES",
]
