"""A campaign switches mode mid-day: the floor, the ledger, the tallies and the redial memory stay.

Power -> Predictive -> FixedRatio -> Adaptive -> Power on one Controller, fed
by hand; after every switch the day's ledger is what it was, the envelope
still binds an envelope pacer, and a lead abandoned under one mode is still
dialled only reserved under the next.
"""

from __future__ import annotations

from dialer.core import Controller
from dialer.core import events
from dialer.core.ledger import Tally
from dialer.core.modes import make_pacer

from core_helpers import put_through

#: calls reserved for their agent, answered after 5 s, ended at 60 s, the agent ready at 70 s
RESERVED = dict(reserved=True, answer=5.0, end=60.0, ready=70.0)


def test_switching_mode_keeps_the_ledger_tallies_and_redial_memory():
    c = Controller(make_pacer("power"), abandon_limit=0.05)
    for a in ("ann", "bob", "cid"):
        c.handle(events.AgentLoggedIn(time=0.0, agent=a))
    t = put_through(c, 1.0, 39, "ann", "p", **RESERVED)
    # one abandoned call, dialled unreserved by a FixedRatio spell
    c.set_pacer(make_pacer("fixed-ratio", {"ratio": 2.0}))
    c.handle(events.DialPlaced(time=t, call="lost", lead="L1"))
    c.handle(events.CallAnswered(time=t + 4.0, call="lost", human=True))
    c.handle(events.CallAbandoned(time=t + 6.0, call="lost"))
    before = c.ledger.tally("day", 0)
    assert before == Tally(abandoned=1, established=40)
    stats_before = c.floor.days[0]
    assert (stats_before.connected, stats_before.abandoned) == (40, 1)

    for mode, params in (("predictive", {"settle": 0.0}), ("fixed-ratio", {"ratio": 1.5}), ("adaptive", {}), ("power", {})):
        c.set_pacer(make_pacer(mode, params))
        assert c.pacer.mode == mode
        assert c.ledger.tally("day", 0) == before  # nothing counted twice, nothing forgotten
        assert c.floor.days[0] is stats_before
        assert c.floor.must_reserve_lead(t + 10.0, "L1")  # norm 4.6.3 survives the switch
        assert not c.floor.must_reserve_lead(t + 10.0, "L2")
        d = c.decide(t + 10.0)
        assert d.dials <= 3 + 10  # 3 idle agents; never more than the lines allow
        if c.pacer.uses_envelope:
            # A = 1, C = 40: room for floor((0.05 * 40 - 1) / 0.95) = 1 uncovered dial beyond the 3 idle agents
            assert d.unreserved <= 3 + 1
            assert c.headroom(t + 10.0) == 1


def test_a_pacer_switched_in_learns_from_the_events_after_the_switch():
    c = Controller(make_pacer("power"), abandon_limit=0.05)
    c.handle(events.AgentLoggedIn(time=0.0, agent="ann"))
    t = put_through(c, 1.0, 5, "ann", "p", **RESERVED)
    pred = make_pacer("predictive", {"settle": 0.0, "live_prob": 0.25})
    c.set_pacer(pred)
    n0 = pred.estimates.live_answers
    # ten dials, every one answered by a person: the pacer sees them
    put_through(c, t, 10, "ann", "q", **RESERVED)
    assert pred.estimates.live_answers == n0 + 10
    assert pred.estimates.live_prob(t + 800.0) > 0.25
