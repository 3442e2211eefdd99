"""Events: every type is listed once, checks its values, and the simulator's unchecked constructors build equal ones."""

from __future__ import annotations

import pytest

from dialer.core import events
from dialer.core.events import FailReason
from dialer.errors import ProtocolError


def test_every_event_type_is_listed_by_name_in_order_of_the_life_cycles():
    assert list(events.EVENT_TYPES) == [
        "AgentLoggedIn", "AgentReady", "AgentPaused", "AgentLeaving", "AgentLoggedOut",
        "DialPlaced", "CallAnswered", "CallFailed", "CallConnected", "CallAbandoned", "CallEnded",
    ]
    assert all(getattr(events, name) is cls for name, cls in events.EVENT_TYPES.items())
    assert set(events.EVENT_TYPES) <= set(events.__all__)


@pytest.mark.parametrize(
    ("unchecked", "args", "checked"),
    [
        (events.unchecked_dial_placed, (1.5, 7, "L", None), events.DialPlaced(time=1.5, call=7, lead="L")),
        (events.unchecked_dial_placed, (1.5, 7, "L", "ann"), events.DialPlaced(time=1.5, call=7, lead="L", agent="ann")),
        (events.unchecked_call_answered, (2.0, 7, False), events.CallAnswered(time=2.0, call=7, human=False)),
        (events.unchecked_call_failed, (2.0, 7, FailReason.BUSY), events.CallFailed(time=2.0, call=7, reason="busy")),
        (events.unchecked_call_connected, (3.0, 7, "ann"), events.CallConnected(time=3.0, call=7, agent="ann")),
        (events.unchecked_call_abandoned, (4.0, 7), events.CallAbandoned(time=4.0, call=7)),
        (events.unchecked_call_ended, (5.0, 7), events.CallEnded(time=5.0, call=7)),
        (events.unchecked_agent_ready, (6.0, "ann"), events.AgentReady(time=6.0, agent="ann")),
    ],
    ids=lambda x: getattr(x, "__name__", None),
)
def test_an_unchecked_constructor_builds_the_same_event_as_the_class(unchecked, args, checked):
    ev = unchecked(*args)
    assert type(ev) is type(checked)
    assert ev == checked and hash(ev) == hash(checked)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: events.CallAnswered(time=float("nan"), call=1, human=True),
         r"^CallAnswered\.time must be a finite number of seconds, got nan$"),
        (lambda: events.CallAnswered(time=1.0, call=1, human=1),
         r"^CallAnswered\.human must be true or false, got 1$"),
        (lambda: events.CallFailed(time="1", call=1, reason="busy"),
         r"^CallFailed\.time must be a finite number of seconds, got '1'$"),
        (lambda: events.CallFailed(time=1.0, call=1, reason="gone"),
         r"^CallFailed\.reason must be one of no_answer, busy, invalid, got 'gone'$"),
        (lambda: events.AgentReady(time=True, agent="ann"),
         r"^AgentReady\.time must be a finite number of seconds, got True$"),
    ],
)
def test_a_bad_value_is_refused_naming_the_field_and_the_value(make, message):
    with pytest.raises(ProtocolError, match=message):
        make()
