"""The redial guard (norm 4.6.3), on its own and inside the floor: by the number, shared, for ever."""

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
from dialer.core.guards import AbandonedNumbers
from dialer.rules.phone import number_key
from dialer.errors import ConfigError, ProtocolError

from core_helpers import snapshot

H72 = 259200.0


def abandon(c: Controller, call: int, lead: str, t: float) -> None:
    c.handle(events.DialPlaced(time=t, call=call, lead=lead))
    c.handle(events.CallAnswered(time=t + 1, call=call, human=True))
    assert c.handle(events.CallAbandoned(time=t + 2, call=call)) is Outcome.ABANDONED


def test_guard_alone_remembers_abandons_for_ever():
    g = RedialGuard()
    assert not g.must_reserve(0.0, "L")
    g.admit(0.0, "L", False)
    assert g.in_flight("L")
    g.ended(10.0, "L", Outcome.ABANDONED)
    assert not g.in_flight("L")
    assert g.must_reserve(10.0, "L") and g.must_reserve(1e12, "L")
    assert g.flagged(11.0) == {"L"}
    g.check_dial(11.0, "L", reserved=True)  # a reserved redial is fine
    g.admit(11.0, "L", True)
    g.ended(20.0, "L", Outcome.NO_ANSWER)
    assert g.must_reserve(21.0, "L")  # an unanswered redial proves nothing
    g.admit(21.0, "L", True)
    g.ended(30.0, "L", Outcome.TRANSFERRED)
    assert g.must_reserve(31.0, "L")  # norm 4.6.3: *any* later call, a successful one included


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
        match=r"^DialPlaced: number '\+4790000001' was abandoned before and may only be dialled "
        r"with an agent reserved \(norm 4\.6\.3\)$",
    ):
        c.handle(events.DialPlaced(time=10.0 * H72, call=2, lead="+4790000001"))
    assert snapshot(c) == before  # rejected: nothing changed
    # reserved: allowed; and a transfer does not clear the flag (norm 4.6.3: any later call)
    c.handle(events.DialPlaced(time=10.0 * H72, call=2, lead="+4790000001", agent="ann"))
    c.handle(events.CallAnswered(time=10.0 * H72 + 1, call=2, human=True))
    c.handle(events.CallConnected(time=10.0 * H72 + 1, call=2, agent="ann"))
    assert c.handle(events.CallEnded(time=10.0 * H72 + 60, call=2)) is Outcome.TRANSFERRED
    assert c.floor.must_reserve_lead(10.0 * H72 + 61, "+4790000001")
    with pytest.raises(ProtocolError, match=r"may only be dialled with an agent reserved \(norm 4\.6\.3\)$"):
        c.handle(events.DialPlaced(time=10.0 * H72 + 61, call=3, lead="+4790000001"))


def test_uk_lockout_allows_unreserved_redials_after_72_hours():
    c = Controller(FixedRatio(), redial_lockout=H72)
    abandon(c, 1, "L", 0.0)  # abandoned at t = 2
    assert c.floor.must_reserve_lead(2.0 + H72 - 0.001, "L")
    assert not c.floor.must_reserve_lead(2.0 + H72, "L")
    with pytest.raises(ProtocolError, match=r"number 'L' .* with an agent reserved until t=259202\.0 \(norm 4\.6\.3\)"):
        c.handle(events.DialPlaced(time=1000.0, call=2, lead="L"))
    c.handle(events.DialPlaced(time=2.0 + H72, call=2, lead="L"))
    c.handle(events.CallFailed(time=2.0 + H72 + 20, call=2, reason=FailReason.NO_ANSWER))
    # abandoned again: the lockout starts again from the new abandon
    abandon(c, 3, "L", 3 * H72)
    assert c.floor.must_reserve_lead(4 * H72, "L")
    assert not c.floor.must_reserve_lead(4 * H72 + 2, "L")


def test_spellings_of_one_number_are_one_number_and_campaigns_share_the_memory():
    numbers = AbandonedNumbers()
    seen = numbers.keys()  # a live view, kept
    assert not seen
    heard = []
    numbers.on_abandon = lambda key, at: heard.append((key, at))
    key = number_key()
    sales = Controller(FixedRatio(), guard=RedialGuard(numbers=numbers, key=key), after_break="count")
    # another campaign whose times count from an hour later on the shared clock
    care = Controller(FixedRatio(), guard=RedialGuard(numbers=numbers, key=key, offset=3600.0))
    sales.handle(events.AgentLoggedIn(time=0.0, agent="ann"))
    abandon(sales, 1, "912 34 567", 0.0)
    assert heard == [("+4791234567", 2.0)]
    assert list(seen) == ["+4791234567"]  # the view kept before shows the abandon
    for spelling in ("91234567", "+47 912 34 567", "0047-91234567"):
        assert sales.floor.must_reserve_lead(10.0, spelling) and care.floor.must_reserve_lead(10.0, spelling)
    with pytest.raises(ProtocolError, match="may only be dialled with an agent reserved"):
        care.handle(events.DialPlaced(time=10.0, call=1, lead="+47 912 34 567"))
    # a lead id of the dialer's own, with the number in `phone`: the rule follows the number
    with pytest.raises(ProtocolError, match="may only be dialled with an agent reserved"):
        care.handle(events.DialPlaced(time=10.0, call=1, lead="crm-17", phone="91234567"))
    care.handle(events.DialPlaced(time=10.0, call=1, lead="crm-18", phone="+4790000002"))
    assert care.floor.lead_in_flight("900 00 002")  # in flight by its number, whatever the spelling
    with pytest.raises(ProtocolError, match="already being dialled"):
        care.handle(events.DialPlaced(time=11.0, call=2, lead="+47 900 00 002"))


def test_a_lockout_counts_on_the_shared_clock():
    numbers = AbandonedNumbers({"L": 1000.0})  # abandoned at 1,000 s on the shared clock
    early = RedialGuard(numbers=numbers, lockout=100.0, offset=0.0)
    late = RedialGuard(numbers=numbers, lockout=100.0, offset=50.0)  # its t = 0 is the shared 50
    assert early.must_reserve(1099.0, "L") and not early.must_reserve(1100.0, "L")
    assert late.must_reserve(1049.0, "L") and not late.must_reserve(1050.0, "L")
    assert late.flagged(1049.0) == {"L"} and late.flagged(1050.0) == frozenset()


def test_a_lead_is_never_dialled_twice_at_once():
    c = Controller(FixedRatio())
    c.handle(events.AgentLoggedIn(time=0.0, agent="ann"))
    c.handle(events.DialPlaced(time=0.0, call=1, lead="L"))
    assert c.floor.lead_in_flight("L")
    before = snapshot(c)
    with pytest.raises(ProtocolError, match=r"^DialPlaced: number 'L' is already being dialled$"):
        c.handle(events.DialPlaced(time=1.0, call=2, lead="L"))
    with pytest.raises(ProtocolError, match=r"^DialPlaced: number 'L' is already being dialled$"):
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
