"""Property: a dialer's stream delivered with retries, stale resends and impossible events in between
ends in exactly the controller a clean delivery builds; refusals change nothing; the ledger never
goes over its limit; every decision is the one the clean delivery gets."""

from __future__ import annotations

import pickle

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialer.core.floor import AgentState, Floor
from dialer.live import CampaignConfig, LiveCampaign, Rejected
from dialer.live.wire import event_from_dict

CONFIG = CampaignConfig(mode="predictive", abandon_limit=0.05, lines=8, horizon=30.0)


def state(c: LiveCampaign) -> bytes:
    return pickle.dumps(c._controller)


def record_script(data) -> list[tuple[list[dict], float]]:
    """Drive a campaign as a correct dialer would (hypothesis draws the world); return its batches."""
    c = LiveCampaign(CONFIG)
    mirror = Floor()  # the dialer's own book of its floor
    n = 0
    batch: list[dict] = []

    def emit(tp: str, t: float, **kw) -> None:
        nonlocal n
        n += 1
        e = {"id": f"e{n}", "type": tp, "time": t, **kw}
        mirror.apply(event_from_dict(e)[1])
        batch.append(e)

    script: list[tuple[list[dict], float]] = []
    agents = [f"a{i}" for i in range(data.draw(st.integers(1, 4), label="agents"))]
    t = 0.0
    for a in agents:
        emit("AgentLoggedIn", t, agent=a)
    calls = 0
    ringing: list[int] = []
    waiting: list[int] = []
    talking: list[int] = []
    for _ in range(data.draw(st.integers(3, 40), label="steps")):
        d = c.submit(batch, decide_at=t).decision
        script.append((batch, t))
        batch = []
        for agent in d.reserve:
            calls += 1
            emit("DialPlaced", t, call=calls, lead=calls, agent=agent)
            ringing.append(calls)
        for _ in range(d.unreserved):
            calls += 1
            emit("DialPlaced", t, call=calls, lead=calls, agent=None)
            ringing.append(calls)
        t += data.draw(st.floats(0.5, 10.0), label="dt")
        wrapping = [a for a in agents if mirror.agent_state(a) is AgentState.WRAP]
        moves = (["ring"] if ringing else []) + (["end"] if talking else []) + (["ready"] if wrapping else [])
        moves += ["abandon"] if waiting else []
        if not moves:
            continue
        move = data.draw(st.sampled_from(moves), label="move")
        if move == "ring":
            call = ringing.pop(data.draw(st.integers(0, len(ringing) - 1), label="which"))
            outcome = data.draw(st.sampled_from(["human", "machine", "no_answer", "busy"]), label="outcome")
            if outcome in ("no_answer", "busy"):
                emit("CallFailed", t, call=call, reason=outcome)
            elif outcome == "machine":
                emit("CallAnswered", t, call=call, human=False)
            else:
                emit("CallAnswered", t, call=call, human=True)
                info = mirror.call_info(call)
                agent = info.agent if info.reserved else next(mirror.idle_agents(), None)
                if agent is None:
                    waiting.append(call)  # no agent free: abandoned later unless one frees up
                else:
                    emit("CallConnected", t, call=call, agent=agent)
                    talking.append(call)
        elif move == "end":
            emit("CallEnded", t, call=talking.pop(0))
        elif move == "ready":
            emit("AgentReady", t, agent=wrapping[0])
            if waiting:
                call = waiting.pop(0)
                emit("CallConnected", t, call=call, agent=wrapping[0])
                talking.append(call)
        else:
            emit("CallAbandoned", t, call=waiting.pop(0))
    script.append((batch, t))
    return script


@pytest.mark.slow  # about 20 s on a busy 2-core machine
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_retries_and_impossible_events_change_nothing_and_the_ledger_holds(data):
    script = record_script(data)
    clean = LiveCampaign(CONFIG)
    clean_decisions = [clean.submit(batch, decide_at=t).decision for batch, t in script]

    c = LiveCampaign(CONFIG)
    decisions = []
    applied = 0
    for i, (batch, t) in enumerate(script):
        for _ in range(data.draw(st.integers(0, 2), label="lost answers")):  # sent, answer lost, sent again
            applied += c.submit(batch).applied
        if i and data.draw(st.booleans(), label="stale resend"):
            old, _ = script[data.draw(st.integers(0, i - 1), label="old batch")]
            assert c.submit(old).applied == 0
        if i and data.draw(st.booleans(), label="impossible"):  # (a0 is logged in from the first batch on)
            bad = data.draw(st.sampled_from([
                {"id": "x1", "type": "CallAnswered", "time": t, "call": 10**6, "human": True},
                {"id": "x2", "type": "AgentLoggedIn", "time": t, "agent": "a0"},
                {"id": "x3", "type": "CallEnded", "time": t, "call": 10**6},
                {"id": "x4", "type": "DialPlaced", "time": t - 1000.0, "call": 10**6, "lead": 1, "agent": None},
            ]), label="bad event")
            before = state(c)
            try:
                c.submit([bad])
            except Rejected:
                assert state(c) == before
            else:  # only possible if it happened to fit: it must then be a state change the clean run never saw
                raise AssertionError(f"{bad} was accepted")
        b = c.submit(batch, decide_at=t)
        applied += b.applied
        decisions.append(b.decision)
        for iv in c.ledger(t)["intervals"]:
            assert not iv["over"], iv
    assert decisions == clean_decisions
    assert state(c) == state(clean)
    assert applied == sum(len(b) for b, _ in script)
