"""Property: a dialer's stream delivered with retries, stale resends and impossible events in between
ends in exactly the controller a clean delivery builds; refusals change nothing; the ledger never
goes over its limit; every decision is the one the clean delivery gets."""

from __future__ import annotations

import pickle

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialer_world import DialerWorld

from dialer.live import CampaignConfig, LiveCampaign, Rejected

# waiting for solves: the decisions compared below must not depend on how fast a background solve lands
CONFIG = CampaignConfig(mode="predictive", abandon_limit=0.05, lines=8, horizon=30.0, wait_for_solves=True)


def state(c: LiveCampaign) -> bytes:
    return pickle.dumps(c._controller)


def record_script(data) -> list[tuple[list[dict], float]]:
    """Drive a campaign as a correct dialer would (hypothesis draws the world); return its batches."""
    c = LiveCampaign(CONFIG)
    world = DialerWorld(data)
    script: list[tuple[list[dict], float]] = []
    t = 0.0
    for _ in range(data.draw(st.integers(3, 40), label="steps")):
        batch = world.take()
        d = c.submit(batch, decide_at=t).decision
        script.append((batch, t))
        world.place(d, t)
        t += data.draw(st.floats(0.5, 10.0), label="dt")
        world.move(t)
    script.append((world.take(), t))
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
        for iv in c.ledger_dict(t)["intervals"]:
            assert not iv["over"], iv
    assert decisions == clean_decisions
    assert state(c) == state(clean)
    assert applied == sum(len(b) for b, _ in script)
