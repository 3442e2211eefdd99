"""Nothing can wedge a campaign (issue 19, item 3): implausible times refused, ids required, campaigns
closed and created again; over HTTP on real servers, and in process."""

from __future__ import annotations

import signal

import httpx
import pytest

from dialer.errors import ConfigError
from dialer.live import LiveCampaign, Rejected
from live_auth import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
T0 = 1764061200  # 2025-11-25 09:00 UTC, in seconds
MS = T0 * 1000  # the same instant in milliseconds


def ev(i, tp, t, **kw):
    return {"id": f"w{i}", "type": tp, "time": t, **kw}


@pytest.fixture
def http(live_server):
    with httpx.Client(base_url=live_server.url, headers=AUTH, timeout=30) as c:
        yield c


def snapshot(http, name):
    c = http.get(f"/campaigns/{name}").json()
    return c["seq"], http.get(f"/campaigns/{name}/stats").json(), http.get(f"/campaigns/{name}/ledger").json()


def test_a_timestamp_in_milliseconds_no_longer_wedges_a_campaign(http):
    """Today the event in milliseconds was accepted, and every later event and decision got 409 ("older
    than the ids this campaign remembers", "decide_at must be at or after ...") for good."""
    assert http.put("/campaigns/wedge-ms", json={"mode": "power"}).status_code == 201
    r = http.post("/campaigns/wedge-ms/events", json={"events": [ev(1, "AgentLoggedIn", T0, agent="ann"),
                                                                   ev(2, "AgentLoggedIn", T0, agent="bob")]})
    assert r.status_code == 200
    before = snapshot(http, "wedge-ms")
    r = http.post("/campaigns/wedge-ms/events", json={"events": [ev(3, "AgentPaused", MS, agent="ann")]})
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == (
        "events[0] (id 'w3'): time must be at most 100,000,000,000 (seconds since the campaign's origin; the "
        f"campaign's clock is at {T0}; a time in milliseconds?), got {MS}")
    assert (r.json()["applied"], r.json()["index"], r.json()["event_id"]) == (0, 0, "w3")
    assert snapshot(http, "wedge-ms") == before  # as if it had not been sent
    # a time far ahead of the campaign's clock (here 100 days) is refused too, naming the clock
    r = http.post("/campaigns/wedge-ms/events", json={"events": [ev(3, "AgentPaused", T0 + 100 * 86400, agent="ann")]})
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == (
        "events[0] (id 'w3'): time must be at most 7,776,000 s ahead of the campaign's clock (its last event or "
        f"decision, at {T0}; a time in milliseconds?), got {T0 + 100 * 86400}")
    assert snapshot(http, "wedge-ms") == before
    # the same for a question
    for now, status in [(MS, 422), (T0 + 100 * 86400, 422)]:
        r = http.post("/campaigns/wedge-ms/decide", json={"now": now})
        assert r.status_code == status and r.json()["detail"].startswith("decide_at must be at most "), r.text
    assert snapshot(http, "wedge-ms") == before
    # and the campaign goes on: the event with its time corrected (same id), then a decision
    r = http.post("/campaigns/wedge-ms/events", json={"events": [ev(3, "AgentPaused", T0 + 1, agent="ann")]})
    assert r.status_code == 200 and r.json()["applied"] == 1, r.text
    r = http.post("/campaigns/wedge-ms/decide", json={"now": T0 + 2, "events": [ev(4, "AgentReady", T0 + 2, agent="ann")]})
    assert r.status_code == 200 and r.json()["decision"]["reserve"] == ["bob", "ann"], r.text


def test_a_first_time_in_milliseconds_is_refused_too(http):
    """With no clock yet (no event, no decision), only the absolute bound can tell milliseconds."""
    assert http.put("/campaigns/wedge-first", json={"mode": "adaptive"}).status_code == 201
    r = http.post("/campaigns/wedge-first/decide", json={"now": MS})
    assert r.status_code == 422 and r.json()["detail"].startswith("decide_at must be at most 100,000,000,000"), r.text
    # (the adaptive baseline steps its one-second loop up to `now`: at 1e16 and beyond a float no longer
    # counts seconds, and that loop never ended, holding the campaign for good)
    r = http.post("/campaigns/wedge-first/decide", json={"now": 1e300})
    assert r.status_code == 422, r.text
    r = http.post("/campaigns/wedge-first/decide", json={"now": T0, "events": [ev(1, "AgentLoggedIn", T0, agent="ann")]})
    assert r.status_code == 200 and r.json()["decision"]["dials"] >= 1, r.text


def test_a_negative_time_is_422_naming_it(http):
    """Today an event at time -5 was accepted."""
    assert http.put("/campaigns/wedge-neg", json={"mode": "power"}).status_code == 201
    r = http.post("/campaigns/wedge-neg/events", json={"events": [ev(1, "AgentLoggedIn", -5, agent="ann")]})
    assert r.status_code == 422 and r.json()["detail"] == (
        "events[0] (id 'w1'): time must be at least 0 (seconds since the campaign's origin), got -5"), r.text
    r = http.post("/campaigns/wedge-neg/decide", json={"now": -1.5})
    assert r.status_code == 422 and r.json()["detail"] == (
        "decide_at must be at least 0 (seconds since the campaign's origin), got -1.5"), r.text
    assert http.get("/campaigns/wedge-neg").json()["seq"] == 0


def test_every_event_needs_an_id_over_http(http):
    """Today an event without an id was accepted (and a retried batch was counted twice)."""
    assert http.put("/campaigns/wedge-ids", json={"mode": "power"}).status_code == 201
    batch = [ev(1, "AgentLoggedIn", 0.0, agent="ann"), {"type": "AgentLoggedIn", "time": 0.0, "agent": "bob"}]
    r = http.post("/campaigns/wedge-ids/events", json={"events": batch})
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == ("events[1].id must be given: the dialer's own id of the event, a string or a whole "
                                  "number, so that a retry is applied once")
    assert (r.json()["index"], r.json()["applied"]) == (1, 1)  # the events before it stay applied, as always
    r = http.post("/campaigns/wedge-ids/decide", json={"now": 1.0, "events": [{**batch[1], "id": None}]})
    assert r.status_code == 422 and r.json()["detail"] == (
        "events[0].id must be the dialer's own id of the event, a string or a whole number, got None"), r.text


def test_a_batch_posted_twice_is_counted_once(http):
    """Today the same batch without ids, posted twice (a retry after a timeout), counted `attempted` twice."""
    assert http.put("/campaigns/wedge-twice", json={"mode": "power"}).status_code == 201
    call = [{"type": "AgentLoggedIn", "time": 0.0, "agent": "ann"},
            {"type": "DialPlaced", "time": 1.0, "call": 1, "lead": 7, "agent": "ann"},
            {"type": "CallFailed", "time": 2.0, "call": 1, "reason": "busy"}]
    for _ in range(2):
        assert http.post("/campaigns/wedge-twice/events", json={"events": call}).status_code == 422
    assert http.get("/campaigns/wedge-twice/stats").json()["days"] == []
    with_ids = [{**e, "id": f"t{i}"} for i, e in enumerate(call)]
    assert http.post("/campaigns/wedge-twice/events", json={"events": with_ids}).json()["applied"] == 3
    r = http.post("/campaigns/wedge-twice/events", json={"events": with_ids}).json()
    assert (r["applied"], r["duplicates"]) == (0, ["t0", "t1", "t2"])
    (day,) = http.get("/campaigns/wedge-twice/stats").json()["days"]
    assert (day["counts"]["attempted"], day["counts"]["busy"]) == (1, 1)


def test_a_time_past_the_calendar_is_refused_not_a_500(http):
    """A campaign with a timezone could not place a time past the year 9999 on its calendar: the
    event (and /hours or /ledger at such a time, or before the year 1) was a 500. An event's time is
    now at most 1e11 s (422); a read may ask any time its calendar can place (else 409)."""
    cfg = {"mode": "power", "preset": "NO", "timezone": "Europe/Oslo", "caller_id": "+4722334455"}
    assert http.put("/campaigns/wedge-tz", json=cfg).status_code == 201
    r = http.post("/campaigns/wedge-tz/events", json={"events": [ev(1, "AgentLoggedIn", 1e15, agent="ann")]})
    assert r.status_code == 422 and "time must be at most 100,000,000,000 " in r.text, r.text
    for route, now in [("hours", 1e15), ("ledger", 1e15), ("hours", -1e15), ("ledger", -1e15)]:
        r = http.get(f"/campaigns/wedge-tz/{route}", params={"now": now})
        assert r.status_code == 409 and "now must be within the campaign's calendar" in r.text, (route, r.text)
    assert http.get("/campaigns/wedge-tz").json()["seq"] == 0


# --- in process -------------------------------------------------------------------------------------------


def test_in_process_a_dict_needs_its_id_and_a_core_event_does_not():
    from dialer.core.events import AgentLoggedIn

    c = LiveCampaign(mode="power")
    with pytest.raises(Rejected, match=r"^events\[0\]\.id must be given: ") as err:
        c.handle({"type": "AgentLoggedIn", "time": 0.0, "agent": "ann"})
    assert isinstance(err.value.cause, ConfigError) and c.seq == 0
    assert c.submit([AgentLoggedIn(time=0.0, agent="ann")]).applied == 1  # a core event: no retry to tell apart
    assert c.decide(0.5).reserve == ("ann",)


def test_max_skew_is_a_setting():
    c = LiveCampaign(mode="power", max_skew=60)
    c.handle(ev(1, "AgentLoggedIn", 100.0, agent="ann"))
    with pytest.raises(Rejected, match=r"time must be at most 60 s ahead of the campaign's clock .* at 100.0; .*got 161.0$"):
        c.handle(ev(2, "AgentPaused", 161.0, agent="ann"))
    assert c.submit([ev(2, "AgentPaused", 160.0, agent="ann")]).applied == 1
    with pytest.raises(ConfigError, match=r"^max_skew must be a positive number of seconds, got 0$"):
        LiveCampaign(mode="power", max_skew=0)


def test_a_closed_campaign_refuses_everything_and_its_journal_was_flushed():
    from dialer.live import Closed

    rows = []

    class Memory:
        def append(self, campaign, first_seq, entries):
            rows.extend(entries)

    c = LiveCampaign(mode="power", journal=Memory())
    c.handle(ev(1, "AgentLoggedIn", 0.0, agent="ann"))
    c.decide(1.0)  # a decision alone waits for the next commit (Rule 2) ...
    archived = []
    assert c.close(archived.append) == 2 and archived == [2]
    assert [kind for kind, _, _ in rows] == ["event", "decide"]  # ... and closing wrote it first
    for ask in (lambda: c.decide(2.0), lambda: c.handle(ev(2, "AgentPaused", 2.0, agent="ann")), c.close):
        with pytest.raises(Closed, match=r"^campaign 'campaign' was closed$"):
            ask()


def test_a_failed_archive_leaves_the_campaign_open():
    c = LiveCampaign(mode="power")

    def refuse(seq):
        raise OSError("disk full")

    with pytest.raises(OSError):
        c.close(refuse)
    assert not c.closed and c.handle(ev(1, "AgentLoggedIn", 0.0, agent="ann")).applied == 1


# --- closing a campaign: DELETE, on a real `dialer serve` and its store -------------------------------------------


@pytest.mark.slow  # two server start-ups: about 10 s
def test_a_closed_campaign_is_archived_and_its_name_can_be_created_again(start_server, tmp_path):
    """Today no route could recover a wedged campaign. DELETE archives its journal (kept in the store:
    nothing already stored is lost), the name is free again, and a restart does not bring it back."""
    from dialer.live.store import Store

    store = str(tmp_path / "close.sqlite")
    proc, url = start_server(store, TOKEN, "--max-skew", "3600")
    abandon = [ev(1, "AgentLoggedIn", 0.0, agent="ann"), ev(2, "DialPlaced", 1.0, call=1, lead=5),
               ev(3, "CallAnswered", 2.0, call=1, human=True), ev(4, "CallAbandoned", 3.0, call=1)]
    with httpx.Client(base_url=url, headers=AUTH, timeout=30) as c:
        assert c.put("/campaigns/sales", json={"mode": "predictive"}).status_code == 201
        assert c.post("/campaigns/sales/events", json={"events": abandon}).json()["applied"] == 4
        r = c.post("/campaigns/sales/events", json={"events": [ev(5, "AgentPaused", 3604.0, agent="ann")]})
        assert r.status_code == 422 and "at most 3,600 s ahead of the campaign's clock" in r.json()["detail"]
        assert c.post("/campaigns/sales/decide", json={"now": 4.0}).status_code == 200  # queued (Rule 2)
        r = c.delete("/campaigns/sales")
        assert r.status_code == 200, r.text
        closed = r.json()
        assert (closed["name"], closed["archived_as"], closed["seq"]) == ("sales", "sales", 5)
        assert closed["closed_at"].endswith("+00:00")
        assert c.delete("/campaigns/sales").status_code == 404
        assert c.get("/campaigns/sales").status_code == 404
        assert c.post("/campaigns/sales/events", json={"events": abandon}).status_code == 404
        # the name again, afresh, with another configuration: its ids, floor and statistics start empty
        r = c.put("/campaigns/sales", json={"mode": "power"})
        assert r.status_code == 201 and r.json()["seq"] == 0
        r = c.post("/campaigns/sales/events", json={"events": abandon[:1]}).json()
        assert (r["applied"], r["duplicates"]) == (1, [])
        (day,) = c.get("/campaigns/sales/stats").json()["days"]
        assert (day["counts"]["attempted"], day["counts"]["abandoned"]) == (0, 0)
        # ... but the number abandoned under the closed campaign is the call centre's to remember (norm 4.6.3)
        assert c.get("/campaigns/sales/leads/5").json()["must_reserve"] is True
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)

    proc, url = start_server(store)
    with httpx.Client(base_url=url, headers=AUTH, timeout=30) as c:
        (only,) = c.get("/campaigns").json()["campaigns"]  # the closed one did not come back
        assert (only["name"], only["config"]["mode"], only["seq"]) == ("sales", "power", 1)
        closed = c.delete("/campaigns/sales").json()
        assert (closed["archived_as"], closed["seq"]) == ("sales#2", 1)
        assert c.put("/campaigns/sales", json={}).status_code == 201
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)

    with Store(store) as st:  # everything recorded is still there
        assert [(a["key"], a["name"], a["seq"], a["config"]["mode"]) for a in st.archived()] == [
            ("sales", "sales", 5, "predictive"), ("sales#2", "sales", 1, "power")]
        assert [kind for _, kind, _, _ in st.entries("sales")] == ["event"] * 4 + ["decide"]
        assert [key for key, _ in st.campaigns()] == ["sales#3"]
        # the archived journal replays: its statistics (norm 4.3) and redial guard are all there
        old = LiveCampaign.restore("sales", __import__("dialer").CampaignConfig(mode="predictive"), st.entries("sales"))
        (day,) = old.stats().values()
        assert (day.attempted, day.abandoned) == (1, 1) and old.lead_dict(5)["must_reserve"]
