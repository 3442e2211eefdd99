"""Events of the call and agent life cycle: what a dialer tells the controller.

Owns: the event types, each a frozen keyword-only dataclass that validates
itself when constructed, and the small enums they carry.

Rule 1: an event is a fact that happened at `time` (seconds, float, supplied
by whoever feeds the controller). It never reads a clock.
Rule 2: this module knows nothing of SimPy, HTTP, databases or the controller's
state; whether an event *fits* the state is the controller's business.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from dataclasses import dataclass
from typing import Callable, Hashable, TypeVar

from dialer.checks import REFUSED, Flag, Real, check, refusal
from dialer.errors import ProtocolError

AgentId = Hashable
CallId = Hashable
LeadId = Hashable
E = TypeVar("E", bound="Event")


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
    if _TIME.convert(t) is REFUSED:
        raise refusal(f"{name}.time", t, _TIME, ProtocolError)


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
    """A dial to `lead` started; `agent` is the agent reserved for it, or None.

    `phone`: the number dialled, when the `lead` is an id of the dialer's own
    and not the number itself (None: the lead is the number). The redial rule
    of norm 4.6.3 is about the number, whatever the lead's id.
    """

    call: CallId
    lead: LeadId
    agent: AgentId | None = None
    phone: str | None = None

    def __post_init__(self) -> None:
        Event.__post_init__(self)  # the time
        if self.phone is not None and (type(self.phone) is not str or not self.phone):
            raise refusal("DialPlaced.phone", self.phone, "a phone number as text (or null: the lead is the number)",
                          ProtocolError)


@dataclass(frozen=True, kw_only=True, slots=True)
class CallAnswered(Event):
    """The dial was answered, by a person (`human=True`) or by a machine."""

    call: CallId
    human: bool

    def __post_init__(self) -> None:
        Event.__post_init__(self)  # the time
        if type(self.human) is not bool:
            check("CallAnswered.human", self.human, _FLAG, error=ProtocolError)


@dataclass(frozen=True, kw_only=True, slots=True)
class CallFailed(Event):
    """The dial ended unanswered: no answer before the ring timeout, busy, or invalid number."""

    call: CallId
    reason: FailReason

    def __post_init__(self) -> None:
        Event.__post_init__(self)  # the time
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


def _unchecked(cls: type[E], *fields: str) -> Callable[..., E]:
    """A constructor of `cls` taking `time` and then `fields`, positionally, that checks nothing.

    It writes the slots through their descriptors (a frozen dataclass refuses
    plain assignment), one call a field, written out for one, two and three
    fields: a loop over the fields would take twice as long.
    """
    new = object.__new__
    set_time = Event.time.__set__  # type: ignore[attr-defined]
    setters = [getattr(cls, name).__set__ for name in fields]
    if len(setters) == 1:
        (a,) = setters

        def make(time, x):  # type: ignore[no-untyped-def]
            ev = new(cls)
            set_time(ev, time)
            a(ev, x)
            return ev

    elif len(setters) == 2:
        a, b = setters

        def make(time, x, y):  # type: ignore[no-untyped-def]
            ev = new(cls)
            set_time(ev, time)
            a(ev, x)
            b(ev, y)
            return ev

    else:
        a, b, c = setters

        def make(time, x, y, z):  # type: ignore[no-untyped-def]
            ev = new(cls)
            set_time(ev, time)
            a(ev, x)
            b(ev, y)
            c(ev, z)
            return ev

    rest = [(getattr(cls, f.name).__set__, f.default) for f in dataclasses.fields(cls)
            if f.name != "time" and f.name not in fields]
    if len(rest) == 1 and len(setters) == 3:  # DialPlaced, its phone left out: written out too (a hot path)
        (d, default), = rest

        def make(time, x, y, z):  # type: ignore[no-untyped-def]
            ev = new(cls)
            set_time(ev, time)
            a(ev, x)
            b(ev, y)
            c(ev, z)
            d(ev, default)
            return ev

    elif rest:  # any other field left out takes its default
        made = make

        def make(*args):  # type: ignore[no-untyped-def]
            ev = made(*args)
            for put, value in rest:
                put(ev, value)
            return ev

    make.__name__ = make.__qualname__ = f"unchecked_{cls.__name__}"
    return make


unchecked_dial_placed: Callable[[float, CallId, LeadId, AgentId | None], DialPlaced] = _unchecked(
    DialPlaced, "call", "lead", "agent"
)
unchecked_call_answered: Callable[[float, CallId, bool], CallAnswered] = _unchecked(CallAnswered, "call", "human")
unchecked_call_failed: Callable[[float, CallId, FailReason], CallFailed] = _unchecked(CallFailed, "call", "reason")
unchecked_call_connected: Callable[[float, CallId, AgentId], CallConnected] = _unchecked(
    CallConnected, "call", "agent"
)
unchecked_call_abandoned: Callable[[float, CallId], CallAbandoned] = _unchecked(CallAbandoned, "call")
unchecked_call_ended: Callable[[float, CallId], CallEnded] = _unchecked(CallEnded, "call")
unchecked_agent_ready: Callable[[float, AgentId], AgentReady] = _unchecked(AgentReady, "agent")

#: every event type by name: the classes above, each a direct subclass of `Event`, in their order
EVENT_TYPES: dict[str, type[Event]] = {cls.__name__: cls for cls in Event.__subclasses__()}

__all__ = ["AgentId", "CallId", "LeadId", "FailReason", "Outcome", "Event", *EVENT_TYPES, "EVENT_TYPES"]
