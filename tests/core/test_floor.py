"""The floor's state tables are its transitions: every allowed (state, event) moves as the table says,
every other is refused naming the event and the state, and changes nothing.

Agent "ann" (and a call "c") is brought into each state by the events of its
life cycle, then offered each kind of event; the whole floor is compared
before and after, as h11's state tests do. The counts pacers read are
checked against the agents' and calls' states after every step.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from dialer.core import events
from dialer.core import floor as floor_module
from dialer.core.events import FailReason, Outcome
from dialer.core.floor import AGENT_TRANSITIONS, CALL_TRANSITIONS, MACHINE_ANSWER, AgentState, CallState, Floor
from dialer.errors import ProtocolError

from core_helpers import snapshot

A, C = AgentState, CallState
AGENTS = ("ann", "bob")
CALLS = ("c", "r", "u")
T = 10.0  # when the event under test happens (every setup is earlier)


def consistent(f: Floor) -> None:
    """The counts pacers read agree with the states of the agents and calls."""
    state = {a: f.agent_state(a) for a in AGENTS}
    assert f.idle == sum(s is A.IDLE for s in state.values()) == len(list(f.idle_agents()))
    assert set(f.idle_agents()) == {a for a, s in state.items() if s is A.IDLE}
    assert f.idle_committed == sum(s is A.IDLE and not f.agent_leaving(a) for a, s in state.items())
    assert f.reserved_agents == sum(s is A.RESERVED for s in state.values())
    assert f.talking == sum(s is A.TALKING for s in state.values())
    assert f.wrapping == sum(s is A.WRAP for s in state.values())
    assert f.paused == sum(s is A.PAUSED for s in state.values())
    assert f.logged_in == sum(s is not A.OUT for s in state.values())
    calls = [i for i in (f.call_info(c) for c in CALLS) if i is not None]
    assert f.calls_active == len(calls)
    assert f.ringing_unreserved == sum(i.state is C.RINGING and not i.reserved for i in calls)
    assert f.ringing_reserved == sum(i.state is C.RINGING and i.reserved for i in calls)
    assert f.live_waiting == sum(i.state is C.LIVE and not i.reserved for i in calls)
    for i in calls:  # an agent reserved for or talking on a call is in the state that says so
        if i.reserved and i.state is not C.TALKING:
            assert state[i.agent] is A.RESERVED
        if i.state is C.TALKING:
            assert state[i.agent] is A.TALKING


def floor_with(*script: events.Event) -> Floor:
    f = Floor()
    for ev in script:
        f.apply(ev)
    consistent(f)
    return f


def login(name: str, t: float = 0.0) -> events.Event:
    return events.AgentLoggedIn(time=t, agent=name)


# --- the agent table ------------------------------------------------------------------------------

#: the events that bring ann into each state; a person waits on the unreserved call "u" (for a connect)
AGENT_SETUPS = {
    "out (never in)": (A.OUT, []),
    "out (logged out)": (A.OUT, [login("ann"), events.AgentLoggedOut(time=1.0, agent="ann")]),
    "idle": (A.IDLE, [login("ann")]),
    "reserved": (A.RESERVED, [login("ann"), events.DialPlaced(time=1.0, call="r", lead="Lr", agent="ann"),
                              events.CallAnswered(time=2.0, call="r", human=True)]),
    "talking": (A.TALKING, [login("ann"), events.DialPlaced(time=1.0, call="r", lead="Lr", agent="ann"),
                            events.CallAnswered(time=2.0, call="r", human=True),
                            events.CallConnected(time=3.0, call="r", agent="ann")]),
    "wrap": (A.WRAP, [login("ann"), events.DialPlaced(time=1.0, call="r", lead="Lr", agent="ann"),
                      events.CallAnswered(time=2.0, call="r", human=True),
                      events.CallConnected(time=3.0, call="r", agent="ann"), events.CallEnded(time=4.0, call="r")]),
    "paused": (A.PAUSED, [login("ann"), events.AgentPaused(time=1.0, agent="ann")]),
}
WAITING = [events.DialPlaced(time=0.0, call="u", lead="Lu"), events.CallAnswered(time=0.0, call="u", human=True)]


def agent_event(kind: type[events.Event], state: AgentState) -> events.Event:
    """An event of `kind` about ann, whose call side fits (so only ann's state decides)."""
    if kind is events.DialPlaced:
        return events.DialPlaced(time=T, call="c", lead="Lc", agent="ann")
    if kind is events.CallConnected:  # ann's own call when she is reserved, else the waiting one
        return events.CallConnected(time=T, call="r" if state is A.RESERVED else "u", agent="ann")
    return kind(time=T, agent="ann")  # type: ignore[call-arg]


AGENT_KINDS = (events.AgentLoggedIn, events.AgentReady, events.AgentPaused, events.AgentLoggedOut,
               events.AgentLeaving, events.DialPlaced, events.CallConnected)


@pytest.mark.parametrize("kind", AGENT_KINDS, ids=lambda k: k.__name__)
@pytest.mark.parametrize("setup", list(AGENT_SETUPS))
def test_an_agent_moves_as_the_table_says_or_the_event_is_refused(setup, kind):
    state, script = AGENT_SETUPS[setup]
    f = floor_with(*WAITING, *script)
    assert f.agent_state("ann") is state
    ev = agent_event(kind, state)
    to = AGENT_TRANSITIONS.get((state, kind))
    if to is None:
        before = snapshot(f)
        named = "is not logged in" if state is A.OUT else f"does not fit agent 'ann' in state '{state.value}'"
        with pytest.raises(ProtocolError, match=rf"^{kind.__name__}\b.*{named}$"):
            f.apply(ev)
        assert snapshot(f) == before  # refused: nothing changed
    else:
        f.apply(ev)
        assert f.agent_state("ann") is to
        assert f.now == T
        consistent(f)


def test_the_agent_table_is_the_life_cycle():
    f = Floor()
    seen = []
    for ev in [login("ann"), events.AgentPaused(time=0.0, agent="ann"), events.AgentReady(time=0.0, agent="ann"),
               events.DialPlaced(time=0.0, call="c1", lead="L1", agent="ann"),
               events.CallFailed(time=0.0, call="c1", reason=FailReason.BUSY),
               events.DialPlaced(time=0.0, call="c2", lead="L2", agent="ann"),
               events.CallAnswered(time=0.0, call="c2", human=False),
               events.DialPlaced(time=0.0, call="c3", lead="L3", agent="ann"),
               events.CallAnswered(time=0.0, call="c3", human=True), events.CallAbandoned(time=0.0, call="c3"),
               events.DialPlaced(time=0.0, call="c4", lead="L4", agent="ann"),
               events.CallAnswered(time=0.0, call="c4", human=True),
               events.CallConnected(time=0.0, call="c4", agent="ann"), events.CallEnded(time=0.0, call="c4"),
               events.AgentReady(time=0.0, agent="ann"), events.AgentLoggedOut(time=0.0, agent="ann")]:
        f.apply(ev)
        seen.append(f.agent_state("ann").value)
    assert seen == ["idle", "paused", "idle", "reserved", "idle", "reserved", "idle", "reserved", "reserved",
                    "idle", "reserved", "reserved", "talking", "wrap", "idle", "out"]


def test_leaving_keeps_the_state_and_is_announced_once():
    f = floor_with(login("ann"), login("bob"))
    assert f.idle_committed == 2
    f.apply(events.AgentLeaving(time=1.0, agent="ann"))
    assert f.agent_state("ann") is A.IDLE and f.agent_leaving("ann") and f.idle_committed == 1
    before = snapshot(f)
    with pytest.raises(ProtocolError, match=r"^AgentLeaving: agent 'ann' is already leaving$"):
        f.apply(events.AgentLeaving(time=2.0, agent="ann"))
    assert snapshot(f) == before
    f.apply(events.AgentLoggedOut(time=3.0, agent="ann"))
    f.apply(login("ann", 4.0))
    assert not f.agent_leaving("ann") and f.idle_committed == 2  # a new session commits again
    consistent(f)


# --- the call table -------------------------------------------------------------------------------

ANSWERED = events.CallAnswered  # the human answer's key; a machine's is MACHINE_ANSWER


def call_setup(state: CallState, reserved: bool) -> list[events.Event]:
    """The events that bring call "c" (reserved for ann, or not) into `state`; ann and bob are logged in."""
    script = [login("ann"), login("bob")]
    if state is C.NEW:
        return script
    script.append(events.DialPlaced(time=1.0, call="c", lead="Lc", agent="ann" if reserved else None))
    if state is C.RINGING:
        return script
    script.append(events.CallAnswered(time=2.0, call="c", human=True))
    if state is C.LIVE:
        return script
    return script + [events.CallConnected(time=3.0, call="c", agent="ann")]


CALL_KINDS = {
    "DialPlaced": lambda reserved: events.DialPlaced(time=T, call="c", lead="Lc", agent="ann" if reserved else None),
    "CallFailed": lambda reserved: events.CallFailed(time=T, call="c", reason=FailReason.NO_ANSWER),
    "CallAnswered(human)": lambda reserved: events.CallAnswered(time=T, call="c", human=True),
    "CallAnswered(machine)": lambda reserved: events.CallAnswered(time=T, call="c", human=False),
    "CallConnected": lambda reserved: events.CallConnected(time=T, call="c", agent="ann"),
    "CallAbandoned": lambda reserved: events.CallAbandoned(time=T, call="c"),
    "CallEnded": lambda reserved: events.CallEnded(time=T, call="c"),
}


def key_of(ev: events.Event):
    return MACHINE_ANSWER if isinstance(ev, events.CallAnswered) and not ev.human else type(ev)


@pytest.mark.parametrize("reserved", [False, True], ids=["unreserved", "reserved"])
@pytest.mark.parametrize("kind", list(CALL_KINDS))
@pytest.mark.parametrize("state", list(CallState), ids=lambda s: s.value)
def test_a_call_moves_as_the_table_says_or_the_event_is_refused(state, kind, reserved):
    f = floor_with(*call_setup(state, reserved))
    assert f.call_state("c") is state
    ann = f.agent_state("ann")
    ev = CALL_KINDS[kind](reserved)
    key = key_of(ev)
    if (state, key) not in CALL_TRANSITIONS:
        before = snapshot(f)
        name = type(ev).__name__
        if state is C.NEW:
            named = rf"^{name}: unknown call 'c' \(never placed, or already over\)$"
        elif name == "DialPlaced":
            named = rf"^DialPlaced: call 'c' is already in progress, in state '{state.value}'$"
        else:
            named = rf"^{name} does not fit call 'c' in state '{state.value}'$"
        with pytest.raises(ProtocolError, match=named):
            f.apply(ev)
        assert snapshot(f) == before  # refused: nothing changed
        return
    out = f.apply(ev)
    to = CALL_TRANSITIONS[(state, key)]
    assert f.call_state("c") is (C.NEW if to is None else to)  # over: the floor forgets the call
    assert (out is None) == (to is not None)  # an outcome exactly when the call ends
    concerns_ann = reserved or key is events.CallConnected or state is C.TALKING
    if concerns_ann:  # the agent the call is reserved for, put through to or talking on moves by its table
        assert f.agent_state("ann") is AGENT_TRANSITIONS[(ann, key)]
    else:
        assert f.agent_state("ann") is ann
    assert f.agent_state("bob") is A.IDLE
    consistent(f)


def test_a_reserved_call_may_only_go_to_its_agent_and_an_agent_only_to_its_call():
    f = floor_with(login("ann"), login("bob"), events.DialPlaced(time=1.0, call="c", lead="Lc", agent="ann"),
                   events.DialPlaced(time=1.0, call="u", lead="Lu"),
                   events.CallAnswered(time=2.0, call="c", human=True),
                   events.CallAnswered(time=2.0, call="u", human=True))
    before = snapshot(f)
    with pytest.raises(ProtocolError, match=r"^CallConnected: call 'c' is reserved for agent 'ann', not 'bob'$"):
        f.apply(events.CallConnected(time=3.0, call="c", agent="bob"))
    with pytest.raises(ProtocolError, match=r"^CallConnected: agent 'ann' is reserved for call 'c', not 'u'$"):
        f.apply(events.CallConnected(time=3.0, call="u", agent="ann"))
    assert snapshot(f) == before


# --- what the moves keep ------------------------------------------------------------------------


def test_every_move_keeps_the_days_time_sums():
    f = Floor()
    script = [
        login("ann", 0.0),
        events.DialPlaced(time=10.0, call=1, lead="L1", agent="ann"),  # idle -> reserved: the ready period goes on
        events.CallFailed(time=30.0, call=1, reason=FailReason.BUSY),  # reserved -> idle
        events.DialPlaced(time=40.0, call=2, lead="L2", agent="ann"),
        events.CallAnswered(time=45.0, call=2, human=True),
        events.CallConnected(time=46.0, call=2, agent="ann"),  # ready since 0: 46 s, one period
        events.CallEnded(time=100.0, call=2),  # 54 s of talk
        events.AgentReady(time=130.0, agent="ann"),  # 30 s of wrap-up
        events.AgentPaused(time=140.0, agent="ann"),  # the ready period 130-140 ends without a call
        events.AgentReady(time=150.0, agent="ann"),
        events.DialPlaced(time=155.0, call=3, lead="L3"),
        events.CallAnswered(time=160.0, call=3, human=True),
        events.CallConnected(time=162.0, call=3, agent="ann"),  # ready since 150: 12 s; waited 2 s
        events.CallEnded(time=170.0, call=3),
        events.AgentReady(time=171.0, agent="ann"),
        events.AgentLoggedOut(time=200.0, agent="ann"),
    ]
    outcomes = [f.apply(ev) for ev in script]
    assert [o for o in outcomes if o is not None] == [Outcome.BUSY, Outcome.TRANSFERRED, Outcome.TRANSFERRED]
    s = f.days[0]
    assert (s.logged_in_time, s.talk_time, s.wrap_time) == (200.0, 54.0 + 8.0, 30.0 + 1.0)
    assert (s.idle_time_before_connect, s.idle_periods) == (46.0 + 12.0, 2)
    assert s.connect_wait == 1.0 + 2.0
    assert (s.attempted, s.reserved_dials, s.busy, s.answered, s.connected, s.transferred) == (3, 2, 1, 2, 2, 2)
    assert f.logged_in == 0 and f.calls_active == 0


def test_idle_agents_are_offered_longest_idle_first():
    f = floor_with(login("ann", 0.0), login("bob", 1.0))
    assert list(f.idle_agents()) == ["ann", "bob"]
    f.apply(events.DialPlaced(time=2.0, call=1, lead="L1", agent="ann"))
    f.apply(events.CallFailed(time=3.0, call=1, reason=FailReason.NO_ANSWER))
    assert list(f.idle_agents()) == ["bob", "ann"]  # ann is idle again, since 3 s


def test_unknown_and_late_events_are_refused_and_change_nothing():
    f = floor_with(login("ann", 5.0))
    before = snapshot(f)

    class Strange(events.Event):
        pass

    with pytest.raises(ProtocolError, match=r"^unknown event type 'Strange'$"):
        f.apply(Strange(time=6.0))
    with pytest.raises(ProtocolError, match=r"^AgentPaused at time 4\.0 is earlier than the last event \(5\.0\)$"):
        f.apply(events.AgentPaused(time=4.0, agent="ann"))
    assert snapshot(f) == before


def test_the_tables_refuse_under_python_O_too():
    """No assert does the work: the refusal and the moves are the same with assertions off."""
    code = (
        "from dialer.core import Floor, events\n"
        "from dialer.errors import ProtocolError\n"
        "f = Floor()\n"
        "f.apply(events.AgentLoggedIn(time=0.0, agent='ann'))\n"
        "f.apply(events.DialPlaced(time=1.0, call=1, lead='L', agent='ann'))\n"
        "try:\n"
        "    f.apply(events.AgentPaused(time=2.0, agent='ann'))\n"
        "except ProtocolError as e:\n"
        "    print(e)\n"
        "print(f.agent_state('ann').value, f.reserved_agents, f.paused)\n"
    )
    out = subprocess.run([sys.executable, "-O", "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["AgentPaused does not fit agent 'ann' in state 'reserved'", "reserved 1 0"]


# --- the fast paths -------------------------------------------------------------------------------
#
# The commonest moves are written out in their handlers (floor.FAST_PATHS names the states each is taken
# in, read from the tables). Every event in every state, taken the fast way where there is one and the
# general way (the rows and `_move`) always, must leave the floor the same, refuse alike, and return
# the same outcome.

LEAVING = events.AgentLeaving(time=5.0, agent="ann")
SCENES = {
    **{f"ann {setup}{' leaving' * leaving}, {kind.__name__}": ([*WAITING, *script, *[LEAVING] * leaving],
                                                              agent_event(kind, state))
       for setup, (state, script) in AGENT_SETUPS.items() for leaving in (False, state is not A.OUT)
       for kind in AGENT_KINDS},
    **{f"call {state.value} {'reserved' if reserved else 'unreserved'}{' ann leaving' * leaving}, {kind}":
       ([*call_setup(state, reserved), *[LEAVING] * leaving], make(reserved))
       for state in CallState for reserved in (False, True) for leaving in (False, True)
       for kind, make in CALL_KINDS.items()},
}
#: the scenes a fast path takes (the others go the general way, fast paths on or off)
FAST = [name for name in SCENES if any(name.endswith(tail) for tail in (
    "ann idle, DialPlaced", "ann idle leaving, DialPlaced", "ann wrap, AgentReady", "ann wrap leaving, AgentReady",
    "ann idle, CallConnected", "ann idle leaving, CallConnected",
    "ann reserved, CallConnected", "ann reserved leaving, CallConnected"))
    or any(name.startswith(head) and name.endswith(tail) for head, tail in (
        ("call new ", "DialPlaced"), ("call ringing ", "CallFailed"), ("call ringing ", "CallAnswered(human)"),
        ("call live unreserved", "CallConnected"), ("call live reserved", "CallConnected"),
        ("call talking ", "CallEnded")))]


def applied(f: Floor, ev: events.Event) -> tuple[str, object]:
    try:
        return "applied", f.apply(ev)
    except ProtocolError as e:
        return "refused", str(e)


@pytest.fixture
def moves(monkeypatch):
    """Counts the calls of `Floor._move` (the general way's move)."""
    made = []
    general = Floor._move

    def counted(self, *args):
        made.append(args)
        return general(self, *args)

    monkeypatch.setattr(Floor, "_move", counted)
    return made


def the_general_way(monkeypatch) -> None:
    """Every fast path off: no agent or call is ever in the state it is taken in."""
    for name in floor_module.FAST_PATHS:
        monkeypatch.setattr(floor_module, name, floor_module._NEVER)


def test_the_fast_paths_are_on_with_the_tables_as_they_are():
    assert {name: getattr(floor_module, name) is not floor_module._NEVER for name in floor_module.FAST_PATHS} == \
        dict.fromkeys(floor_module.FAST_PATHS, True)


@pytest.mark.parametrize("scene", list(SCENES))
def test_a_fast_path_leaves_the_floor_as_the_tables_general_way_does(scene, monkeypatch, moves):
    script, ev = SCENES[scene]
    fast, general = floor_with(*script), floor_with(*script)
    assert snapshot(fast) == snapshot(general)
    del moves[:]
    fast_result = applied(fast, ev)
    fast_moves = len(moves)
    with monkeypatch.context() as m:
        the_general_way(m)
        general_result = applied(general, ev)
    general_moves = len(moves) - fast_moves
    assert fast_result == general_result
    assert snapshot(fast) == snapshot(general)
    if fast_result[0] == "applied":
        assert general_moves == 1  # the general way: one `_move`
        assert (fast_moves == 0) == (scene in FAST)  # the fast way makes its moves itself
        consistent(fast)
    else:
        assert scene not in FAST
