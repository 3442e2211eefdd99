"""The controller: its configuration, `handle` (the floor's moves, the ledger's counts), and the
questions a dialer asks (`decide`, `pick`, `releasable`), on small scripts fed by hand.

The abandon envelope's worked examples are in test_envelope.py, its property in
test_envelope_property.py; picking's rules in test_picker.py.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

import pytest

from dialer.core import (
    Controller,
    Decision,
    Dial,
    FailReason,
    FixedRatio,
    Floor,
    Interval,
    Ledger,
    Outcome,
    Power,
    Tally,
    events,
)
from dialer.core.decision import NO_DIALS
from dialer.errors import ConfigError, ProtocolError

from core_helpers import Greedy, Wants, snapshot

DAY = 86400.0


def login(c: Controller, t: float, *agents: str) -> None:
    for a in agents:
        c.handle(events.AgentLoggedIn(time=t, agent=a))


# --- configuration ---------------------------------------------------------------


def test_the_default_is_five_percent_per_day_and_old_calls_still_work():
    c = Controller(Power())
    assert [(iv.name, iv.limit) for iv in c.ledger.intervals] == [("day", Fraction(1, 20))]
    c.handle(events.AgentLoggedIn(time=0.0, agent="ann"))
    assert c.decide(0.0) == Decision(reserve=("ann",), unreserved=0)


@pytest.mark.parametrize(
    ("limit", "intervals"),
    [
        (0.03, [("day", Fraction(3, 100))]),
        ("0.05", [("day", Fraction(1, 20))]),
        (Interval.campaign(0.05), [("campaign", Fraction(1, 20))]),
        (
            [Interval.day(0.05), Interval.rolling(0.03, window=DAY)],
            [("day", Fraction(1, 20)), ("rolling 86400s", Fraction(3, 100))],
        ),
    ],
)
def test_abandon_limit_takes_a_rate_intervals_or_a_ledger(limit, intervals):
    c = Controller(Greedy(), abandon_limit=limit)
    assert [(iv.name, iv.limit) for iv in c.ledger.intervals] == intervals
    ledger = Ledger([Interval.day(0.04)])
    assert Controller(Greedy(), abandon_limit=ledger).ledger is ledger


def test_no_ledger_means_no_envelope_pacer():
    c = Controller(FixedRatio(), abandon_limit=None)
    assert c.ledger is None and c.headroom(0.0) == math.inf
    with pytest.raises(ConfigError, match=r"^abandon_limit must be a limit .* mode 'greedy-test' .*, got None$"):
        c.set_pacer(Greedy())
    with pytest.raises(ConfigError, match=r"^abandon_limit must be a limit"):
        Controller(Greedy(), abandon_limit=None)


def test_bad_abandon_limit_and_horizon_are_named():
    with pytest.raises(ConfigError, match=r"^abandon_limit must be a rate between 0 and 1, such as 0\.05, got 5$"):
        Controller(Power(), abandon_limit=5)
    with pytest.raises(ConfigError, match=r"^horizon must be a positive number of seconds .*, got -1"):
        Controller(Power(), horizon=-1)
    with pytest.raises(
        ConfigError, match=r"^horizon must be less than half the shortest rolling window \(100 s\), got 60"
    ):
        Controller(Power(), abandon_limit=Interval.rolling(0.05, window=100.0), horizon=60.0)


@pytest.mark.parametrize("lines", [0, -1, 2.5, True, "3"])
def test_bad_lines_are_named(lines):
    with pytest.raises(ConfigError, match=rf"^lines must be a whole number >= 1 \(or None: no cap\), got {lines!r}$"):
        Controller(Power(), lines=lines)


# --- handle ----------------------------------------------------------------------

SCRIPT = [
    events.AgentLoggedIn(time=0.0, agent="ann"),
    events.AgentLoggedIn(time=0.0, agent="bob"),
    events.DialPlaced(time=1.0, call=1, lead="L1", agent="ann"),
    events.DialPlaced(time=1.0, call=2, lead="L2"),
    events.DialPlaced(time=1.0, call=3, lead="L3"),
    events.CallFailed(time=5.0, call=1, reason=FailReason.BUSY),
    events.CallAnswered(time=6.0, call=2, human=True),
    events.CallAnswered(time=6.0, call=3, human=False),
    events.CallConnected(time=7.0, call=2, agent="bob"),
    events.AgentLeaving(time=8.0, agent="ann"),
    events.CallEnded(time=60.0, call=2),
    events.AgentLoggedOut(time=61.0, agent="ann"),
    events.AgentReady(time=70.0, agent="bob"),
]


def test_handle_moves_the_floor_as_floor_apply_does_and_returns_the_outcomes():
    c, f = Controller(FixedRatio()), Floor()
    outcomes = [c.handle(ev) for ev in SCRIPT]
    assert outcomes == [f.apply(ev) for ev in SCRIPT]
    assert [o for o in outcomes if o is not None] == [Outcome.BUSY, Outcome.MACHINE, Outcome.TRANSFERRED]
    assert snapshot(c.floor) == snapshot(f)
    assert c.stats == f.days and c.floor.now == 70.0


#: a day under the envelope that breaks promises: an abandon while bob is idle, a dial resolved late
BREAKING = [
    events.AgentLoggedIn(time=0.0, agent="ann"),
    events.AgentLoggedIn(time=0.0, agent="bob"),
    events.DialPlaced(time=1.0, call=1, lead="L1"),
    events.DialPlaced(time=1.0, call=2, lead="L2", agent="ann"),
    events.DialPlaced(time=1.0, call=3, lead="L3"),
    events.CallAnswered(time=2.0, call=1, human=True),
    events.CallAbandoned(time=3.0, call=1),
    events.AgentPaused(time=4.0, agent="bob"),
    events.CallFailed(time=200.0, call=2, reason=FailReason.NO_ANSWER),
    events.CallFailed(time=200.0, call=3, reason=FailReason.BUSY),
    events.AgentReady(time=201.0, agent="bob"),
    events.AgentLeaving(time=202.0, agent="ann"),
    events.AgentLoggedOut(time=203.0, agent="ann"),
]


@pytest.mark.parametrize("script", [SCRIPT, BREAKING], ids=["script", "breaking"])
def test_each_type_handler_is_handle_for_its_events(script):
    """`handlers()` (the simulator's way in) does for each event what `handle` does, refusals included."""
    by_handle, by_type = (Controller(FixedRatio(), abandon_limit=0.05, envelope=True) for _ in range(2))
    handlers = by_type.handlers()
    assert set(handlers) == set(events.EVENT_TYPES.values())
    for ev in script:
        assert by_handle.handle(ev) == handlers[type(ev)](ev)
        assert snapshot(by_handle) == snapshot(by_type)
    assert by_handle.promise_breaks == by_type.promise_breaks
    assert list(by_handle.breaks) == list(by_type.breaks)
    if script is BREAKING:
        assert by_type.promise_breaks["abandoned_with_idle_agent"] == 1 and by_type.promise_breaks["resolved_late"] == 2
    late, unfit = events.AgentReady(time=0.0, agent="bob"), events.CallEnded(time=300.0, call=99)
    for bad in (late, unfit):
        with pytest.raises(ProtocolError) as want:
            by_handle.handle(bad)
        with pytest.raises(ProtocolError, match=f"^{re.escape(str(want.value))}$"):
            handlers[type(bad)](bad)
    assert snapshot(by_handle) == snapshot(by_type)


def test_handle_counts_what_the_ledger_needs():
    c = Controller(FixedRatio(), abandon_limit=0.05)
    for ev in SCRIPT:
        c.handle(ev)
    # established: the one call put through; the busy reserved dial and the machine are nothing to it
    assert c.ledger.tally("day", 0) == Tally(abandoned=0, established=1)
    assert c.exposure() == 0


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (events.AgentReady(time=0.5, agent="ann"), r"^AgentReady at time 0\.5 is earlier than the last event \(1\.0\)$"),
        (events.CallEnded(time=2.0, call=9), r"^CallEnded: unknown call 9 \(never placed, or already over\)$"),
        (events.AgentPaused(time=2.0, agent="ann"), r"^AgentPaused does not fit agent 'ann' in state 'reserved'$"),
    ],
)
def test_handle_refuses_as_the_floor_does_and_changes_nothing(bad, message):
    c = Controller(Power(), abandon_limit=0.05)
    for ev in SCRIPT[:4]:
        c.handle(ev)
    before, decision = snapshot(c), c.decide(1.0)
    with pytest.raises(ProtocolError, match=message):
        c.handle(bad)
    assert snapshot(c) == before and c.decide(1.0) == decision


def test_an_event_of_no_known_type_is_refused():
    class Strange(events.Event):
        pass

    c = Controller(Power())
    with pytest.raises(ProtocolError, match=r"^unknown event type 'Strange'$"):
        c.handle(Strange(time=0.0))


# --- decide ----------------------------------------------------------------------


def test_power_reserves_the_longest_idle_agent_first_and_nothing_is_a_value():
    c = Controller(Power())
    assert c.decide(0.0) is NO_DIALS  # nobody logged in
    login(c, 0.0, "ann")
    login(c, 1.0, "bob")
    assert c.decide(1.0) == Decision(reserve=("ann", "bob"))
    c.handle(events.DialPlaced(time=2.0, call=1, lead="L1", agent="ann"))
    assert c.decide(2.0) == Decision(reserve=("bob",))


@pytest.mark.parametrize(
    ("reserved", "unreserved", "lines", "expected"),
    [
        (5, 0, None, Decision(reserve=("ann", "bob"))),  # no more reserved than idle agents
        (-3, -2, None, NO_DIALS),  # a negative ask is none
        (1, 10, 4, Decision(reserve=("ann",), unreserved=3)),  # 4 free lines, the reserved dial first
        (2, 3, 1, Decision(reserve=("ann",))),  # 1 free line: one reserved dial
    ],
)
def test_decide_caps_a_plan_by_idle_agents_and_free_lines(reserved, unreserved, lines, expected):
    c = Controller(Wants(reserved=reserved, unreserved=unreserved), abandon_limit=1, lines=lines)
    login(c, 0.0, "ann", "bob")
    assert c.decide(0.0) == expected


def test_a_full_trunk_leaves_no_line_and_a_wake_up_is_passed_on():
    c = Controller(Wants(unreserved=5, wake_at=30.0), abandon_limit=1, lines=2)
    login(c, 0.0, "ann")
    c.handle(events.DialPlaced(time=1.0, call=1, lead="L1"))
    c.handle(events.DialPlaced(time=1.0, call=2, lead="L2"))
    assert c.decide(1.0) == Decision(wake_at=30.0)  # no line free: no dial, but the wake-up stands


# --- pick and releasable ---------------------------------------------------------


def test_pick_takes_now_first_and_spends_the_decision_on_the_leads_in_order():
    c = Controller(Power())
    login(c, 0.0, "ann", "bob")
    d = c.decide(1.0)
    p = c.pick(1.0, d, ["L1", "L2", "L3"])
    assert p.decision == d and p.dials == (Dial("L1", "ann"), Dial("L2", "bob"))
    assert c.pick(1.0, d, ["L1", "L2", "L3"]) == p  # picking changes nothing


def test_releasable_is_the_committed_idle_agents_while_nothing_is_exposed():
    c = Controller(Greedy(), abandon_limit=0.05)
    login(c, 0.0, "ann", "bob", "cid")
    assert c.releasable(0.0) == 3  # nothing in flight: any of them may pause
    c.handle(events.AgentLeaving(time=1.0, agent="cid"))
    assert c.releasable(1.0) == 2  # cid no longer covers: he needs no leave
    c.handle(events.DialPlaced(time=2.0, call=1, lead="L1"))
    c.handle(events.DialPlaced(time=2.0, call=2, lead="L2"))
    assert c.exposure() == 0 and c.headroom(2.0) == 0
    assert c.releasable(2.0) == 0  # two calls in flight, two committed agents, no budget: both must stay


# --- promises the dialer breaks ------------------------------------------------------


def budgeted(pacer, **kw) -> tuple[Controller, float]:
    """ann and bob logged in, 60 calls put through to ann (budget for three exposed dials)."""
    c = Controller(pacer, **kw)
    login(c, 0.0, "ann", "bob")
    from core_helpers import put_through

    return c, put_through(c, 0.0, 60, "ann", "h")


def test_an_abandon_while_an_agent_is_idle_is_applied_counted_and_holds_the_day_to_power():
    c, t = budgeted(Wants(unreserved=2))
    assert c.decide(t) == Decision(reserve=(), unreserved=2)
    c.handle(events.DialPlaced(time=t, call="x", lead="x"))
    c.handle(events.CallAnswered(time=t + 5, call="x", human=True))
    assert c.handle(events.CallAbandoned(time=t + 6, call="x")) is Outcome.ABANDONED  # applied: it happened
    assert c.promise_breaks["abandoned_with_idle_agent"] == 1 and sum(c.promise_breaks.values()) == 1
    assert list(c.breaks) == [(t + 6, "abandoned_with_idle_agent", "x")]
    assert c.dialing_as_power
    # the rest of the day: reserved dials only (the envelope's worst case assumed the promise) ...
    assert c.decide(t + 7) == Decision(reserve=("bob", "ann"), unreserved=0)  # longest idle first
    # ... and the next day as before
    assert c.decide(DAY + 1.0) == Decision(reserve=(), unreserved=2)


def test_an_abandoned_reserved_call_and_a_late_resolution_are_counted():
    c, t = budgeted(Wants(unreserved=1), horizon=30.0, after_break="count")
    c.handle(events.DialPlaced(time=t, call="r", lead="r", agent="bob"))
    c.handle(events.CallAnswered(time=t + 1, call="r", human=True))
    c.handle(events.CallAbandoned(time=t + 2, call="r"))
    c.handle(events.DialPlaced(time=t + 3, call="s", lead="s"))
    c.handle(events.CallFailed(time=t + 40, call="s", reason=FailReason.NO_ANSWER))  # 37 s > 30 s
    assert c.promise_breaks["abandoned_reserved"] == 1 and c.promise_breaks["resolved_late"] == 1
    assert not c.dialing_as_power  # only counted, as asked


def test_a_pause_or_a_dial_the_envelope_had_no_room_for_is_counted():
    c = Controller(Wants(unreserved=1))  # no budget at all: each idle agent covers one dial
    login(c, 0.0, "ann")
    c.handle(events.DialPlaced(time=1.0, call="a", lead="a"))  # covered by ann: allowed
    assert not any(c.promise_breaks.values()) and c.releasable(1.0) == 0
    c.handle(events.DialPlaced(time=2.0, call="b", lead="b"))  # nobody covers it
    c.handle(events.AgentPaused(time=3.0, agent="ann"))  # ann stops covering "a" with nothing releasable
    assert c.promise_breaks["dialled_beyond_envelope"] == 1 and c.promise_breaks["released_without_room"] == 1


def test_a_dialer_that_keeps_its_promises_breaks_none():
    c, t = budgeted(Wants(unreserved=2))
    for k in range(2):
        c.handle(events.DialPlaced(time=t, call=f"d{k}", lead=f"d{k}"))
    c.handle(events.CallAnswered(time=t + 5, call="d0", human=True))
    c.handle(events.CallConnected(time=t + 5, call="d0", agent="ann"))
    c.handle(events.CallFailed(time=t + 20, call="d1", reason=FailReason.BUSY))
    assert not any(c.promise_breaks.values()) and not c.dialing_as_power


@pytest.mark.parametrize("forced, expected", [(None, False), (True, True), (False, False)])
def test_the_envelope_may_be_forced_on_any_pacer(forced, expected):
    c = Controller(FixedRatio(ratio=3.0), envelope=forced)
    assert c.uses_envelope is expected
    login(c, 0.0, "ann")
    assert c.decide(0.0).unreserved == (1 if expected else 3)  # capped: ann covers one dial, no budget yet
