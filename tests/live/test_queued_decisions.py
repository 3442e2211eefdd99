"""Rule 2 of dialer.live.campaign: a decision alone is queued for the next commit, never an event; a
crash that loses queued decisions never breaks the abandon limit and counts every acknowledged event
once (the store always holds a prefix of the campaign's entries)."""

from __future__ import annotations

import signal

import httpx
import pytest
from live_auth import TOKEN

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialer_world import DialerWorld

from dialer.live import CampaignConfig, LiveCampaign
from dialer.live.campaign import MAX_QUEUED


class Journal:
    """The committed entries, in a list; each `append` is one commit."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, str, object, dict]] = []
        self.commits: list[list[str]] = []  # kinds per commit

    def append(self, campaign, first_seq, entries):
        assert first_seq == len(self.rows) + 1  # a prefix, no gap
        for i, (kind, ev_id, body) in enumerate(entries):
            self.rows.append((first_seq + i, kind, ev_id, body))
        self.commits.append([kind for kind, _, _ in entries])


def login(i, agent, t=0.0):
    return {"id": f"in{i}", "type": "AgentLoggedIn", "time": t, "agent": agent}


def test_a_decision_alone_waits_for_the_next_commit_and_is_written_ahead_of_it():
    j = Journal()
    c = LiveCampaign(CampaignConfig(mode="power"), name="x", journal=j)
    c.submit([login(1, "ann")])
    assert j.commits == [["event"]]
    c.decide(1.0)
    c.decide(2.0)
    assert j.commits == [["event"]] and c.seq == 3  # queued, counted in seq
    c.submit([login(2, "bob", 2.0)])
    assert j.commits == [["event"], ["decide", "decide", "event"]] and c.seq == len(j.rows) == 4
    assert [r[0] for r in j.rows] == [1, 2, 3, 4]


def test_events_a_decision_with_events_or_leads_and_a_change_of_mode_are_committed_before_the_answer():
    j = Journal()
    c = LiveCampaign(CampaignConfig(mode="power"), name="x", journal=j)
    c.decide(0.0, [login(1, "ann")])
    assert j.commits[-1] == ["event", "decide"]
    c.decide(0.0, [login(1, "ann")])  # the event again: a duplicate, so a decision alone: queued
    assert len(j.commits) == 1
    c.pick(1.0, ["L1"])
    assert j.commits[-1] == ["decide", "decide"]  # the queued one first, then the record of the picks
    c.decide(2.0)
    c.configure(mode="fixed-ratio", pacer={"ratio": 1.5})
    assert j.commits[-1] == ["decide", "configure"]


def test_flush_writes_the_queue_and_a_long_queue_is_written_at_once():
    j = Journal()
    c = LiveCampaign(CampaignConfig(mode="power"), name="x", journal=j)
    for k in range(MAX_QUEUED):
        c.decide(float(k))
    assert j.commits == []
    c.decide(float(MAX_QUEUED))
    assert j.commits == [["decide"] * (MAX_QUEUED + 1)]
    c.decide(1000.0)
    c.flush()
    assert j.commits[-1] == ["decide"] and c.seq == len(j.rows)
    c.flush()  # nothing queued: no commit
    assert len(j.commits) == 2


def test_without_a_journal_nothing_is_queued():
    c = LiveCampaign(CampaignConfig(mode="power"))
    c.decide(0.0)
    c.decide(1.0)
    assert c.seq == 2 and c._queued == []


# predictive: the envelope caps it (the limit must hold); adaptive: it learns from being asked (a crash
# changes its learning, never what the events counted)
CONFIG = {"predictive": CampaignConfig(mode="predictive", abandon_limit=0.05, lines=8, horizon=30.0),
          "adaptive": CampaignConfig(mode="adaptive", abandon_limit=0.05, lines=8, horizon=30.0)}


@pytest.mark.slow
@pytest.mark.parametrize("mode", sorted(CONFIG))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_crashes_that_lose_queued_decisions_keep_the_limit_and_count_every_acknowledged_event_once(mode, data):
    """A dialer posts its events (committed before the answer), then asks a decision alone (queued) and
    places its dials; the service crashes at drawn moments and is rebuilt from what was committed."""
    cfg = CONFIG[mode]
    j = Journal()
    c = LiveCampaign(cfg, name="x", journal=j)
    world = DialerWorld(data)  # the dialer's floor, its own book of it, and the events it queues
    acknowledged: list[dict] = []

    def post() -> None:
        pending = world.take()
        b = c.submit(pending)
        assert b.applied == len(pending)
        acknowledged.extend(pending)

    t = 0.0
    for _ in range(data.draw(st.integers(3, 40), label="steps")):
        post()
        for _ in range(data.draw(st.integers(1, 3), label="questions")):  # the dialer's tick asks again
            d = c.decide(t)
            t += data.draw(st.sampled_from([0.0, 0.1]), label="tick")
        if data.draw(st.booleans(), label="crash"):  # kill -9: the queued decisions are lost
            before = (c.floor_dict(), c.stats(), c.ledger_dict(t))
            c = LiveCampaign.restore("x", cfg, list(j.rows), journal=j)
            assert (c.floor_dict(), c.stats(), c.ledger_dict(t)) == before  # events alone make all of these
        world.place(d, t)  # the dialer places what the (maybe lost) decision said
        post()
        for iv in c.ledger_dict(t)["intervals"]:
            assert not (c.uses_envelope and iv["over"]), iv  # the adaptive baseline promises no limit
        t += data.draw(st.floats(0.5, 10.0), label="dt")
        world.move(t)
    post()
    for iv in c.ledger_dict(t)["intervals"]:
        assert not (c.uses_envelope and iv["over"]), iv
    # every acknowledged event is in the store once, in order, and the rebuilt campaign counts each once
    stored = [body for _, kind, _, body in j.rows if kind == "event"]
    assert [e["id"] for e in stored] == [e["id"] for e in acknowledged]
    clean = LiveCampaign(cfg)
    clean.submit(acknowledged)
    final = LiveCampaign.restore("x", cfg, list(j.rows))
    assert (final.floor_dict(), final.stats(), final.ledger_dict(t)) == (clean.floor_dict(), clean.stats(), clean.ledger_dict(t))


@pytest.mark.slow  # two server start-ups
def test_dialer_serve_writes_the_queued_decisions_when_it_stops(start_server, tmp_path):
    store = str(tmp_path / "q.sqlite")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    proc, url = start_server(store)
    with httpx.Client(base_url=url, headers=auth, timeout=30) as http:
        assert http.put("/campaigns/q", json={"mode": "adaptive"}).status_code == 201
        assert http.post("/campaigns/q/events", json={"events": [login(1, "ann")]}).status_code == 200
        for t in (1.0, 2.0, 3.0):  # decisions alone: queued
            assert http.post("/campaigns/q/decide", json={"now": t}).status_code == 200
        assert http.get("/campaigns/q").json()["seq"] == 4
    proc.send_signal(signal.SIGTERM)  # a graceful stop writes the queue (uvicorn then ends by the signal)
    proc.wait(timeout=30)
    _, url = start_server(store)
    with httpx.Client(base_url=url, headers=auth, timeout=30) as http:
        assert http.get("/campaigns/q").json()["seq"] == 4
        assert http.post("/campaigns/q/decide", json={"now": 2.5}).status_code == 409  # 3.0 was journaled
