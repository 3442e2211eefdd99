"""The redial guard (norm 4.6.3), on its own and inside the floor."""

from __future__ import annotations


import pytest

from dialer.core import (
    Controller,
    FailReason,
    FixedRatio,
    Outcome,
    RedialGuard,
)
from dialer.core import events
from dialer.errors import ConfigError, ProtocolError

from core_helpers import snapshot

H72 = 259200.0


def abandon(c: Controller, call: int, lead: str, t: float) -> None:
    c.handle(events.DialPlaced(time=t, call=call, lead=lead))
    c.handle(events.CallAnswered(time=t + 1, call=call, human=True))
    assert c.handle(events.CallAbandoned(time=t + 2, call=call)) is Outcome.ABANDONED


def test_guard_alone_remembers_abandons_and_forgets_on_transfer():
    g = RedialGuard()
    assert not g.must_reserve(0.0, "L")
    g.dialled("L")
    assert g.in_flight("L")
    g.ended(10.0, "L", Outcome.ABANDONED)
    assert not g.in_flight("L")
    assert g.must_reserve(10.0, "L") and g.must_reserve(1e12, "L")
    assert g.flagged(11.0) == {"L"}
    g.check_dial(11.0, "L", reserved=True)  # a reserved redial is fine
    g.dialled("L")
    g.ended(20.0, "L", Outcome.NO_ANSWER)
    assert g.must_reserve(21.0, "L")  # an unanswered redial proves nothing
    g.dialled("L")
    g.ended(30.0, "L", Outcome.TRANSFERRED)
    assert not g.must_reserve(31.0, "L")


def test_norway_an_abandoned_lead_may_only_ever_be_redialled_reserved():
    c = Controller(FixedRatio())
    c.handle(events.AgentLoggedIn(time=0.0, agent="ann"))
    abandon(c, 1, "+4790000001", 0.0)
    assert c.floor.must_reserve_lead(10.0, "+4790000001")
    assert c.floor.must_reserve_lead(10.0 * H72, "+4790000001")
    assert c.floor.must_reserve == {"+4790000001"}
    before = snapshot(c)
    with pytest.raises(
        ProtocolError,
        match=r"^DialPlaced: lead '\+4790000001' was abandoned before and may only be dialled "
        r"with an agent reserved \(norm 4\.6\.3\)$",
    ):
        c.handle(events.DialPlaced(time=10.0 * H72, call=2, lead="+4790000001"))
    assert snapshot(c) == before  # rejected: nothing changed
    # reserved: allowed, and a transfer clears the flag
    c.handle(events.DialPlaced(time=10.0 * H72, call=2, lead="+4790000001", agent="ann"))
    c.handle(events.CallAnswered(time=10.0 * H72 + 1, call=2, human=True))
    c.handle(events.CallConnected(time=10.0 * H72 + 1, call=2, agent="ann"))
    assert c.floor.must_reserve_lead(10.0 * H72 + 2, "+4790000001")  # not yet: the call is not over
    assert c.handle(events.CallEnded(time=10.0 * H72 + 60, call=2)) is Outcome.TRANSFERRED
    assert not c.floor.must_reserve_lead(10.0 * H72 + 61, "+4790000001")
    c.handle(events.DialPlaced(time=10.0 * H72 + 61, call=3, lead="+4790000001"))


def test_uk_lockout_allows_unreserved_redials_after_72_hours():
    c = Controller(FixedRatio(), redial_lockout=H72)
    abandon(c, 1, "L", 0.0)  # abandoned at t = 2
    assert c.floor.must_reserve_lead(2.0 + H72 - 0.001, "L")
    assert not c.floor.must_reserve_lead(2.0 + H72, "L")
    with pytest.raises(ProtocolError, match=r"lead 'L' .* with an agent reserved until t=259202\.0 \(norm 4\.6\.3\)"):
        c.handle(events.DialPlaced(time=1000.0, call=2, lead="L"))
    c.handle(events.DialPlaced(time=2.0 + H72, call=2, lead="L"))
    c.handle(events.CallFailed(time=2.0 + H72 + 20, call=2, reason=FailReason.NO_ANSWER))
    # abandoned again: the lockout starts again from the new abandon
    abandon(c, 3, "L", 3 * H72)
    assert c.floor.must_reserve_lead(4 * H72, "L")
    assert not c.floor.must_reserve_lead(4 * H72 + 2, "L")


def test_lockout_flags_are_forgotten_once_over():
    g = RedialGuard(lockout=100.0)
    for i in range(10):
        g.dialled(i)
        g.ended(float(i), i, Outcome.ABANDONED)
    g.dialled("x")
    g.ended(1000.0, "x", Outcome.NO_ANSWER)
    assert g.abandoned_at == {}


def test_a_lead_is_never_dialled_twice_at_once():
    c = Controller(FixedRatio())
    c.handle(events.AgentLoggedIn(time=0.0, agent="ann"))
    c.handle(events.DialPlaced(time=0.0, call=1, lead="L"))
    assert c.floor.lead_in_flight("L")
    before = snapshot(c)
    with pytest.raises(ProtocolError, match=r"^DialPlaced: lead 'L' is already being dialled$"):
        c.handle(events.DialPlaced(time=1.0, call=2, lead="L"))
    with pytest.raises(ProtocolError, match=r"^DialPlaced: lead 'L' is already being dialled$"):
        c.handle(events.DialPlaced(time=1.0, call=2, lead="L", agent="ann"))
    assert snapshot(c) == before
    c.handle(events.CallFailed(time=5.0, call=1, reason=FailReason.BUSY))
    assert not c.floor.lead_in_flight("L")
    c.handle(events.DialPlaced(time=6.0, call=2, lead="L"))


@pytest.mark.parametrize("bad", [0, -1.0, float("inf"), "72h", True])
def test_a_bad_lockout_is_named(bad):
    message = rf"^redial_lockout must be a positive number of seconds \(or None: forever\), got {bad!r}$"
    with pytest.raises(ConfigError, match=message):
        Controller(FixedRatio(), redial_lockout=bad)
