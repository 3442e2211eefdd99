"""The controller keeps an envelope pacer inside the abandon budget: worked examples.

The property test over arbitrary event sequences is in test_envelope_property.py.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from dialer.core import (
    AgentState,
    Controller,
    Decision,
    FailReason,
    FixedRatio,
    Interval,
    Tally,
)
from dialer.core import events
from dialer.errors import ProtocolError

from core_helpers import Greedy, snapshot

DAY = 86400.0


class Calls:
    """Numbers calls and leads for a test."""

    def __init__(self, c: Controller) -> None:
        self.c = c
        self.n = 0

    def dial(self, t: float, agent=None) -> int:
        self.n += 1
        self.c.handle(events.DialPlaced(time=t, call=self.n, lead=f"lead-{self.n}", agent=agent))
        return self.n

    def connect(self, t: float, agent) -> None:
        """A whole successful call on `agent`: dial, answer, connect, end (agent left in wrap-up)."""
        call = self.dial(t, agent)
        self.c.handle(events.CallAnswered(time=t, call=call, human=True))
        self.c.handle(events.CallConnected(time=t, call=call, agent=agent))
        self.c.handle(events.CallEnded(time=t, call=call))


def login(c: Controller, t: float, *agents: str) -> None:
    for a in agents:
        c.handle(events.AgentLoggedIn(time=t, agent=a))


def connects(c: Controller, t: float, n: int) -> None:
    """n successful reserved calls on a spare agent 'z' (it ends in wrap-up, covering nothing)."""
    calls = Calls(c)
    calls.n = 10_000 + len(c.floor.days) * 1000 + sum(s.attempted for s in c.floor.days.values())
    state = c.floor.agent_state("z")
    if state is AgentState.OUT:
        c.handle(events.AgentLoggedIn(time=t, agent="z"))
    elif state is AgentState.PAUSED:
        c.handle(events.AgentReady(time=t, agent="z"))
    for _ in range(n):
        calls.connect(t, "z")
        c.handle(events.AgentReady(time=t, agent="z"))
    c.handle(events.AgentPaused(time=t, agent="z"))


# --- a pacer outside the envelope -------------------------------------------------


def test_naive_pacers_are_not_capped_but_still_counted():
    c = Controller(FixedRatio(ratio=3.0))
    login(c, 0.0, "ann", "bob")
    assert c.decide(0.0) == Decision(unreserved=6)  # far beyond a headroom of 0
    assert c.headroom(0.0) == 0
    for i in range(6):
        c.handle(events.DialPlaced(time=0.0, call=i, lead=i))
    assert c.exposure() == 4
    for i in range(3):
        c.handle(events.CallAnswered(time=1.0, call=i, human=True))
    c.handle(events.CallConnected(time=1.0, call=0, agent="ann"))
    c.handle(events.CallAbandoned(time=5.0, call=1))
    assert c.ledger.tally("day", 0) == Tally(abandoned=1, established=2)
    assert c.headroom(5.0) == (2 - 20) // 19  # over the limit: negative


# --- the cap ----------------------------------------------------------------------


def test_with_no_budget_only_covered_dials_are_placed():
    c = Controller(Greedy())
    login(c, 0.0, "ann", "bob", "cid")
    assert c.headroom(0.0) == 0
    d = c.decide(0.0)
    assert d == Decision(unreserved=3)  # one per committed idle agent: k stays 0
    for i in range(3):
        c.handle(events.DialPlaced(time=0.0, call=i, lead=i))
    assert c.exposure() == 0
    assert c.decide(0.0) == Decision()


def test_budget_grows_with_connects_one_exposure_per_nineteen_established():
    """The worst case counts the call the idle agent would take: 18 connects + 1 covered = 19 established."""
    c = Controller(Greedy())
    login(c, 0.0, "ann")
    connects(c, 0.0, 17)
    assert c.decide(1.0) == Decision(unreserved=1)  # ann's call only: 1 abandon in 19 would be 5.3 %
    connects(c, 1.0, 1)
    # 2 dials: if both are answered ann takes one (19 established) and one is abandoned: 1 / 20
    assert c.decide(2.0) == Decision(unreserved=2)
    connects(c, 2.0, 19)
    assert c.decide(3.0) == Decision(unreserved=3)  # 37 + 1 + 2 = 40 established, 2 abandoned


def _brute_dial_room(limit: Fraction, abandoned: int, established: int, pooled: int, idle: int) -> int:
    """The most new dials such that no number of answers among the pool can put the day over the limit."""
    x = max(0, idle - pooled)  # covered dials: never abandoned
    while True:
        m = pooled + x + 1
        if any(abandoned + max(0, j - idle) > limit * (established + j) for j in range(m + 1)):
            return x
        x += 1


@pytest.mark.parametrize("limit", [Fraction(1, 20), Fraction(1, 3), Fraction(0)])
def test_decide_places_exactly_as_many_dials_as_the_worst_answers_allow(limit):
    """Against a brute force over every number of answers: the cap is exact, neither bold nor timid."""
    for agents in (1, 2, 5):
        for pooled in (0, 1, 3, 7):
            for est in (0, 5, 18, 19, 40, 77):
                for ab in (0, 1, 2):
                    if ab > limit * est:
                        continue
                    c = Controller(Greedy(), abandon_limit=limit)
                    login(c, 0.0, *[f"a{i}" for i in range(agents)])
                    connects(c, 0.0, est - ab)
                    calls = Calls(c)
                    calls.n = 50_000
                    for _ in range(ab):  # abandoned calls: answered with every agent of the test busy elsewhere
                        c.ledger.count(0.0, abandoned=True, at=0.0)
                    for _ in range(pooled):
                        calls.dial(0.0)
                    want = _brute_dial_room(limit, ab, est, pooled, agents)
                    got = c.decide(0.5).unreserved
                    assert got == want, (limit, agents, pooled, est, ab, got, want)


def test_an_abandon_spends_exactly_one_unit_and_the_limit_holds():
    c = Controller(Greedy())
    login(c, 0.0, "ann")
    connects(c, 0.0, 19)
    calls = Calls(c)
    d = c.decide(1.0)
    assert d.unreserved == 2  # 1 covered by ann, 1 exposed
    a, b = calls.dial(1.0), calls.dial(1.0)
    assert c.exposure() == 1 and c.headroom(1.0) == 1
    c.handle(events.CallAnswered(time=5.0, call=a, human=True))
    c.handle(events.CallAnswered(time=5.0, call=b, human=True))
    c.handle(events.CallConnected(time=5.0, call=a, agent="ann"))
    c.handle(events.CallAbandoned(time=7.0, call=b))
    assert c.ledger.tally("day", 0) == Tally(abandoned=1, established=21)  # 4.8 %
    assert c.exposure() == 0 and c.headroom(7.0) == 0


def test_reserved_dials_take_their_agent_out_of_the_cover():
    c = Controller(Greedy(reserved=2))
    login(c, 0.0, "ann", "bob")
    # two unreserved dials in flight, covered by ann and bob; no budget
    c.set_pacer(Greedy())
    assert c.decide(0.0) == Decision(unreserved=2)
    calls = Calls(c)
    calls.dial(0.0), calls.dial(0.0)
    # now a pacer wants two reserved dials: each would leave one unreserved call uncovered
    c.set_pacer(Greedy(reserved=2))
    assert c.decide(0.0) == Decision()
    assert c.releasable(0.0) == 0


def test_an_agent_who_announced_leaving_may_be_reserved_freely():
    c = Controller(Greedy(reserved=2))
    login(c, 0.0, "ann", "bob")
    c.handle(events.AgentLeaving(time=0.0, agent="ann"))
    # ann covers nothing anyway; bob covers one unreserved dial or takes a reserved one, not both
    assert c.decide(0.0) == Decision(reserve=("ann", "bob"), unreserved=0)
    c.set_pacer(Greedy(reserved=1))
    assert c.decide(0.0) == Decision(reserve=("ann",), unreserved=1)


def test_releasable_lets_a_dialer_hold_a_pause_until_it_is_safe():
    c = Controller(Greedy())
    login(c, 0.0, "ann", "bob")
    assert c.releasable(0.0) == 2  # no budget, but nothing in flight either
    calls = Calls(c)
    a, _ = calls.dial(0.0), calls.dial(0.0)  # covered by ann and bob
    assert c.exposure() == 0 and c.releasable(0.0) == 0
    connects(c, 0.0, 19)
    assert c.headroom(1.0) == 1 and c.releasable(1.0) == 1
    c.handle(events.AgentPaused(time=1.0, agent="bob"))
    assert c.exposure() == 1 and c.releasable(1.0) == 0  # ann must stay
    c.handle(events.CallFailed(time=20.0, call=a, reason=FailReason.NO_ANSWER))
    assert c.exposure() == 0 and c.releasable(20.0) == 1


def test_with_nothing_in_flight_an_idle_agent_may_always_pause():
    c = Controller(Greedy())
    login(c, 0.0, "ann")
    # raw exposure is -1 (a spare agent): pausing ann leaves k = 0 <= headroom 0
    assert c.releasable(0.0) == 1


def test_zero_limit_never_exposes_a_call():
    c = Controller(Greedy(), abandon_limit=0)
    login(c, 0.0, "ann", "bob")
    connects(c, 0.0, 500)
    assert c.decide(1.0) == Decision(unreserved=2)


def test_a_limit_of_one_leaves_only_lines_to_cap():
    c = Controller(Greedy(), abandon_limit=1, lines=7)
    login(c, 0.0, "ann")
    assert c.decide(0.0) == Decision(unreserved=7)


def test_a_dial_before_midnight_spends_yesterdays_budget_and_its_exposure_stays_there():
    c = Controller(Greedy(), day_of=lambda t: int(t // 1000.0), horizon=30.0)
    login(c, 0.0, "ann")
    connects(c, 0.0, 38)  # day 0: headroom 2
    calls = Calls(c)
    assert c.decide(995.0).unreserved == 3  # 2 exposed + 1 covered, placed in day 0
    ids = [calls.dial(995.0) for _ in range(3)]
    assert c.exposure() == 2
    # after midnight day 1 is empty (headroom 0) and day 0's calls are still open
    assert c.headroom(1001.0) == 0 and c.decide(1001.0) == Decision()
    for i in ids:
        c.handle(events.CallAnswered(time=1005.0, call=i, human=True))
    c.handle(events.CallConnected(time=1005.0, call=ids[0], agent="ann"))
    c.handle(events.CallAbandoned(time=1010.0, call=ids[1]))
    c.handle(events.CallAbandoned(time=1010.0, call=ids[2]))
    assert c.ledger.tally("day", 0) == Tally(abandoned=2, established=41)  # 4.9 %: counted where placed
    assert c.ledger.tally("day", 1) == Tally(0, 0)
    assert c.stats[0].abandoned == 2 and c.stats[0].connected == 41


def test_rolling_window_caps_with_the_horizon_in_view():
    c = Controller(Greedy(), abandon_limit=Interval.rolling(0.05, window=1000.0), horizon=40.0)
    login(c, 0.0, "ann")
    connects(c, 0.0, 19)
    assert c.decide(900.0).unreserved == 2
    assert c.decide(961.0).unreserved == 1  # by 1001 those 19 connects have left the window


# --- rejected events ----------------------------------------------------------------


def test_a_rejected_event_changes_nothing():
    c = Controller(Greedy(), abandon_limit=[Interval.day(0.05), Interval.rolling(0.1, window=500.0)])
    login(c, 0.0, "ann", "bob")
    connects(c, 0.0, 40)
    calls = Calls(c)
    a, b = calls.dial(1.0), calls.dial(1.0)
    c.handle(events.CallAnswered(time=2.0, call=a, human=True))
    c.handle(events.CallAnswered(time=2.0, call=b, human=True))
    c.handle(events.CallConnected(time=2.0, call=a, agent="ann"))
    before = snapshot(c)
    decision = c.decide(3.0)
    bad_events = [
        events.CallConnected(time=3.0, call=b, agent="ann"),  # ann is talking
        events.CallConnected(time=3.0, call=999, agent="bob"),  # unknown call
        events.CallEnded(time=3.0, call=b),  # b is waiting, not talking
        events.CallAbandoned(time=1.0, call=b),  # earlier than the last event
        events.DialPlaced(time=3.0, call=a, lead="new"),  # call id in progress
        events.AgentLoggedIn(time=3.0, agent="bob"),  # already in
    ]
    for ev in bad_events:
        with pytest.raises(ProtocolError):
            c.handle(ev)
        assert snapshot(c) == before, ev
        assert c.decide(3.0) == decision


def test_yesterdays_open_exposure_caps_todays_dials():
    """Just after midnight, today's budget may be larger than what yesterday's open calls may still spend."""
    c = Controller(Greedy(), abandon_limit=Fraction(1, 3), day_of=lambda t: int(t // 1000.0), horizon=30.0)
    login(c, 0.0, "ann", "bob")
    connects(c, 0.0, 2)  # day 0: 0/2
    calls = Calls(c)
    calls.n = 100
    # 2 covered by ann and bob, 2 exposed: all 4 answered gives 2 abandoned in 6 established
    assert c.decide(995.0) == Decision(unreserved=4)
    late = [calls.dial(995.0) for _ in range(4)]
    assert c.exposure() == 2
    connects(c, 1001.0, 4)  # day 1: 0/4, room for 2 exposed calls of its own
    assert c.ledger.headroom(1001.0) == 2  # ... and day 0's open calls may be 2 short of agents, no more
    assert c.decide(1001.0) == Decision()  # one more exposed call could be one of day 0's, abandoned
    # worst case, as it happens: ann and bob take one call each, the other two meet nobody
    for call in late:
        c.handle(events.CallAnswered(time=1010.0, call=call, human=True))
    c.handle(events.CallConnected(time=1010.0, call=late[0], agent="ann"))
    c.handle(events.CallConnected(time=1010.0, call=late[1], agent="bob"))
    c.handle(events.CallAbandoned(time=1018.0, call=late[2]))
    c.handle(events.CallAbandoned(time=1018.0, call=late[3]))
    assert c.ledger.tally("day", 0) == Tally(abandoned=2, established=6)  # 1/3: at the limit, not over
