"""The supervisor's board without a browser: its figures against the API's, the timeline rebuilt by
replay, the `paused` setting, the change notices, and the event stream read over a real socket."""

from __future__ import annotations

import asyncio
import json
import signal
import threading

import httpx
import pytest

from dialer import LiveCampaign
from dialer.core.decision import NO_DIALS
from dialer.errors import ConfigError
from dialer.live import CampaignConfig
from dialer.live.board import snapshot
from dialer.live.service import Changes
from dialer.live.timeline import FIELDS

from board_day import minute_of_calls
from live_auth import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
NO = {"mode": "predictive", "preset": "NO", "timezone": "Europe/Oslo", "caller_id": "+4722334455",
      "origin": "2026-11-24T00:00:00+01:00"}  # Tuesday 24 November 2026, local midnight
NINE = 9 * 3600.0  # 09:00 on that day, in the campaign's seconds


class ListJournal:
    def __init__(self) -> None:
        self.rows: list[tuple[int, str, object, dict]] = []

    def append(self, campaign, first_seq, entries):
        for i, (kind, ev_id, body) in enumerate(entries):
            self.rows.append((first_seq + i, kind, ev_id, json.loads(json.dumps(body))))


def login(t: float, *agents: str, prefix: str = "") -> list[dict]:
    return [{"id": f"{prefix}in-{a}", "type": "AgentLoggedIn", "time": t, "agent": a} for a in agents]


# --- the timeline ------------------------------------------------------------------------------


def test_a_minute_is_filed_as_it_closes_with_the_state_after_its_last_event():
    c = LiveCampaign(mode="power")
    c.submit(login(0.0, "ann", "bob"))
    c.submit([{"id": 1, "type": "DialPlaced", "time": 30.0, "call": 1, "lead": 7, "agent": None}])
    tl = c.timeline()
    assert (tl["rows"], tl["open"]) == ([], 0.0)  # minute 0 is still open
    assert dict(zip(FIELDS, tl["now"])) == {"abandoned": 0, "connected": 0, "headroom": 0, "lines": 1,
                                            "available": 2, "busy": 0, "logged_in": 2}
    c.submit([{"id": 2, "type": "CallAnswered", "time": 200.0, "call": 1, "human": True},
              {"id": 3, "type": "CallConnected", "time": 201.0, "call": 1, "agent": "ann"}])
    tl = c.timeline()
    # minute 0 closed with one line in use; minutes 1 and 2 had no event: no sample; minute 3 is open
    assert [(t, dict(zip(FIELDS, s))["lines"]) for t, s in tl["rows"]] == [(0.0, 1)]
    assert tl["open"] == 180.0
    assert dict(zip(FIELDS, tl["now"]))["busy"] == 1 and dict(zip(FIELDS, tl["now"]))["connected"] == 1


def test_a_refused_event_files_nothing_and_a_new_day_starts_empty():
    c = LiveCampaign(mode="power")
    c.submit(login(10.0, "ann"))
    with pytest.raises(Exception):
        c.submit([{"id": "x", "type": "AgentReady", "time": 130.0, "agent": "ann"}])  # ann is idle: refused
    assert c.timeline()["rows"] == [] and c.timeline()["open"] == 0.0
    c.submit([{"id": "p", "type": "AgentPaused", "time": 190.0, "agent": "ann"}])
    assert [t for t, _ in c.timeline()["rows"]] == [0.0]
    c.submit([{"id": "r", "type": "AgentReady", "time": 86400.0 + 5.0, "agent": "ann"}])  # the next day (t // 86400)
    tl = c.timeline()
    assert (tl["day"], tl["rows"], tl["open"]) == (1, [], 86400.0)


def test_the_timeline_is_rebuilt_by_replaying_the_journal():
    journal = ListJournal()
    cfg = CampaignConfig.from_dict(NO)
    c = LiveCampaign(cfg, name="day", journal=journal)
    c.submit(login(NINE, "ann"))
    for k in range(8):
        c.submit(minute_of_calls(k, NINE + 60.0), decide_at=NINE + 60.0 * (k + 1) + 59.0)
        with pytest.raises(Exception):  # a refused event at a new minute changes nothing, the timeline included
            c.submit([{"id": f"bad{k}", "type": "CallEnded", "time": NINE + 60.0 * (k + 2) + 0.5, "call": "nope"}])
    c.configure(mode="power")
    before = c.timeline()
    assert len(before["rows"]) == 8 and before["day"] == "2026-11-24"
    again = LiveCampaign.restore("day", cfg, journal.rows)
    assert again.timeline() == before
    assert snapshot(again) == snapshot(c)


# --- the snapshot against the API's own figures -------------------------------------------------------


@pytest.fixture
def http(live_server):
    with httpx.Client(base_url=live_server.url, headers=AUTH, timeout=30) as c:
        yield c


def _board(http, name):
    panels = {p["name"]: p for p in http.get("/board/state").json()["campaigns"]}
    return panels[name]


def test_the_panel_shows_the_apis_figures_for_the_same_instant(http):
    assert http.put("/campaigns/board-figures", json=NO).status_code == 201
    http.post("/campaigns/board-figures/events", json={"events": login(NINE, "ann", "bob", "cy", prefix="f")})
    http.post("/campaigns/board-figures/events",
              json={"events": [{"id": "fp", "type": "AgentPaused", "time": NINE + 1, "agent": "cy"},
                               {"id": "fl", "type": "AgentLeaving", "time": NINE + 2, "agent": "bob"}]})
    for k in range(7):
        r = http.post("/campaigns/board-figures/decide", json={"now": NINE + 60.0 * (k + 1) + 59.5,
                                                              "events": minute_of_calls(k, NINE + 60.0, prefix="f")})
        assert r.status_code == 200, r.text
    http.post("/campaigns/board-figures/events", json={"events": [
        {"id": "open1", "type": "DialPlaced", "time": NINE + 480.0, "call": "o1", "lead": "+4798000001", "agent": None},
        {"id": "open2", "type": "DialPlaced", "time": NINE + 480.5, "call": "o2", "lead": "+4798000002", "agent": None},
        {"id": "open3", "type": "CallAnswered", "time": NINE + 481.0, "call": "o2", "human": True}]})
    p = _board(http, "board-figures")
    clock = p["clock"]
    assert clock == NINE + 481.0
    stats = http.get("/campaigns/board-figures/stats").json()
    ledger = http.get("/campaigns/board-figures/ledger", params={"now": clock}).json()
    hours = http.get("/campaigns/board-figures/hours", params={"now": clock}).json()
    camp = http.get("/campaigns/board-figures").json()
    floor, today = stats["floor"], stats["days"][-1]
    assert today["day"] == p["today"]["day"] == "2026-11-24"
    assert p["local"]["text"] == "Tue 24 Nov 2026 09:08:01 CET"
    assert p["agents"] == {"logged_in": floor["logged_in"], "idle": floor["idle"], "reserved": floor["reserved_agents"],
                           "talking": floor["talking"], "wrapping": floor["wrapping"], "paused": floor["paused"],
                           "leaving": 1} == {"logged_in": 3, "idle": 2, "reserved": 0, "talking": 0, "wrapping": 0,
                                             "paused": 1, "leaving": 1}
    assert (p["calls"]["reserved"], p["calls"]["unreserved"], p["calls"]["waiting"]) == (
        floor["ringing_reserved"], floor["ringing_unreserved"], floor["live_waiting"]) == (0, 1, 1)
    assert p["calls"]["dial_level"] == floor["calls_active"] / (floor["logged_in"] - floor["paused"]) == 1.0
    assert p["today"]["counts"] == {k: today["counts"][k] for k in p["today"]["counts"]}
    assert p["today"]["counts"]["abandoned"] == 2 and p["today"]["counts"]["transferred"] == 7
    assert p["today"]["abandon_rate"] == today["report"]["abandon_rate"] == 2 / 10
    assert p["today"]["connects_per_agent_hour"] == today["report"]["connects_per_agent_hour"]
    assert p["today"]["flags"] == today["flags"]
    # the envelope: the ledger's own intervals and headroom, and the worst case built on them
    assert [{k: v for k, v in iv.items() if k != "worst"} for iv in p["envelope"]["intervals"]] == ledger["intervals"]
    assert (p["envelope"]["exposure"], p["envelope"]["headroom"], p["envelope"]["releasable"]) == (
        ledger["exposure"], ledger["headroom"], ledger["releasable"])
    (day,) = p["envelope"]["intervals"]
    pooled = floor["ringing_unreserved"] + floor["live_waiting"]
    assert day["worst"] == {"abandoned": day["abandoned"] + ledger["exposure"],
                            "established": day["established"] + pooled,
                            "rate": (day["abandoned"] + ledger["exposure"]) / (day["established"] + pooled),
                            "spare": day["headroom"] - ledger["exposure"]}
    assert {k: v for k, v in p["hours"].items() if k != "next_opening_local"} == hours
    assert p["held_to"] == camp["held_to"] and p["config"]["paused"] is False is camp["config"]["paused"]
    assert p["promise_breaks"]["counts"] == {k: n for k, n in stats["promise_breaks"]["counts"].items() if n}
    assert p["guard"]["numbers"] == 2  # the two numbers abandoned today: redialled only with an agent (4.6.3)
    assert http.get("/campaigns/board-figures/leads/+4792000002").json()["must_reserve"] is True
    # the timeline: one sample per minute closed, and the minute open now with the day's figures
    now = p["timeline"]["now"]
    assert (now["abandoned"], now["connected"]) == (today["counts"]["abandoned"], today["counts"]["connected"])
    assert now["headroom"] == ledger["headroom"] and now["hm"] == "09:08"
    assert [pt["hm"] for pt in p["timeline"]["points"]] == ["09:00", *(f"09:0{k}" for k in range(1, 8))]


def test_a_closed_day_says_why_and_when_it_reopens(http):
    assert http.put("/campaigns/board-holiday", json=NO).status_code == 201
    christmas = 31 * 86400.0 + 10 * 3600.0  # Friday 25 December 2026, 10:00
    http.post("/campaigns/board-holiday/events", json={"events": login(christmas, "ann", prefix="h")})
    p = _board(http, "board-holiday")
    assert p["local"]["text"] == "Fri 25 Dec 2026 10:00:00 CET"
    hours = p["hours"]
    assert (hours["allowed"], hours["reason"]) == (False, "holiday: Christmas Day (Første juledag)")
    # Boxing Day is a holiday too, then a Sunday: Monday 28 December at 09:00
    assert hours["next_opening_local"]["text"] == "Mon 28 Dec 2026 09:00:00 CET"


def test_the_data_needs_the_token_and_the_page_has_no_data(live_server, http):
    http.put("/campaigns/board-secret", json={"mode": "power"})
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}):
        for path in ("/board/state", "/board/stream"):
            r = httpx.get(live_server.url + path, headers=headers, timeout=30)
            assert (r.status_code, r.json()) == (401, {"detail": "missing or bad bearer token"})
    for path in ("/", "/board", "/board/board.js", "/board/board.css"):
        r = httpx.get(live_server.url + path, timeout=30)
        assert r.status_code == 200 and "board-secret" not in r.text
    assert "text/html" in httpx.get(live_server.url + "/").headers["content-type"]
    assert httpx.post(live_server.url + "/board", timeout=30).status_code == 401  # only GET is public
    assert "/board/state" not in http.get("/openapi.json").json()["paths"]


# --- pausing new dials ---------------------------------------------------------------------------------------


def test_paused_decisions_dial_nothing_and_the_pause_is_journaled():
    journal = ListJournal()
    c = LiveCampaign(CampaignConfig(mode="power"), journal=journal)
    c.submit(login(0.0, "ann", "bob"))
    assert c.decide(1.0).dials == 2
    assert c.configure(paused=True).paused is True
    assert c.decide(2.0) is NO_DIALS
    assert c.pick(3.0, ["+4791111111"]).dials == ()
    again = LiveCampaign.restore("campaign", CampaignConfig(mode="power"), journal.rows)
    assert again.config.paused is True and again.decide(4.0) is NO_DIALS
    c.configure(paused=False)
    assert c.decide(5.0).dials == 2
    with pytest.raises(ConfigError, match=r"^paused must be true or false, got None$"):
        c.configure(paused=None)


def test_patch_pauses_and_resumes_and_get_shows_it(http):
    http.put("/campaigns/board-pause", json={"mode": "power"})
    http.post("/campaigns/board-pause/events", json={"events": login(0.0, "ann", prefix="bp")})
    r = http.patch("/campaigns/board-pause", json={"paused": True})
    assert r.status_code == 200 and r.json()["config"]["paused"] is True
    assert http.get("/campaigns/board-pause").json()["config"]["paused"] is True
    assert http.post("/campaigns/board-pause/decide", json={"now": 1.0}).json()["decision"]["dials"] == 0
    r = http.patch("/campaigns/board-pause", json={"paused": None})
    assert r.status_code == 422 and r.json()["detail"] == "paused must be true or false, got None"
    assert http.patch("/campaigns/board-pause", json={"paused": False}).json()["config"]["paused"] is False
    assert http.post("/campaigns/board-pause/decide", json={"now": 2.0}).json()["decision"]["dials"] == 1


# --- the change notices ------------------------------------------------------------------------------------


def test_a_waiting_stream_wakes_on_a_change_made_in_another_thread():
    changes = Changes()

    async def main():
        quiet = await changes.wait(0, 0.05)  # nothing changed: back after the timeout, same version
        thread = threading.Timer(0.05, changes.note, args=("sales",))
        thread.start()
        woke = await changes.wait(0, 30.0)
        thread.join()
        return quiet, woke

    assert asyncio.run(main()) == (0, 1)
    assert changes.since(0) == (1, ["sales"]) and changes.since(1) == (1, [])


def test_close_wakes_every_waiter_for_good():
    changes = Changes()

    async def main():
        waiter = asyncio.ensure_future(changes.wait(0, 30.0))
        await asyncio.sleep(0)
        threading.Thread(target=changes.close).start()
        return await waiter, await changes.wait(0, 30.0)

    assert asyncio.run(main()) == (0, 0)


# --- the stream --------------------------------------------------------------------------------------------


def frames(lines):
    """Server-sent events as (kind, id, data) from a stream's lines; a comment as ("comment", None, text)."""
    kind, ident, data = "message", None, []
    for line in lines:
        if line.startswith(":"):
            yield "comment", None, line[1:].strip()
        elif line == "":
            if data:
                yield kind, ident, json.loads("\n".join(data))
            kind, ident, data = "message", None, []
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                kind = value
            elif field == "id":
                ident = value
            elif field == "data":
                data.append(value)


def test_the_stream_sends_a_snapshot_then_what_changed(live_server, http):
    http.put("/campaigns/board-stream", json={"mode": "power"})
    http.post("/campaigns/board-stream/events", json={"events": login(0.0, "ann", prefix="s")})
    with httpx.stream("GET", live_server.url + "/board/stream", headers=AUTH, timeout=30) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        got = frames(r.iter_lines())
        kind, first_id, snap = next(got)
        assert kind == "snapshot" and int(first_id) == snap["version"]
        panel = {p["name"]: p for p in snap["campaigns"]}["board-stream"]
        assert panel["agents"]["idle"] == 1 and [pt["t"] for pt in panel["timeline"]["points"]] == []
        http.post("/campaigns/board-stream/events", json={"events": [
            {"id": "s2", "type": "AgentLoggedIn", "time": 70.0, "agent": "bob"},
            {"id": "s3", "type": "AgentPaused", "time": 130.0, "agent": "ann"}]})
        kind, ident, update = next(got)
        assert kind == "update" and int(ident) > int(first_id) and update["closed"] == []
        (panel,) = [p for p in update["campaigns"] if p["name"] == "board-stream"]
        assert (panel["agents"]["idle"], panel["agents"]["paused"], panel["seq"]) == (1, 1, 3)
        assert panel["timeline"]["after"] is None  # nothing of the timeline was sent before
        assert [pt["hm"] for pt in panel["timeline"]["points"]] == ["00:00", "00:01"]
        http.post("/campaigns/board-stream/events",
                  json={"events": [{"id": "s4", "type": "AgentReady", "time": 200.0, "agent": "ann"}]})
        kind, _, update = next(got)
        (panel,) = [p for p in update["campaigns"] if p["name"] == "board-stream"]
        assert panel["timeline"]["after"] == 60.0  # only the minutes the stream had not sent
        assert [pt["hm"] for pt in panel["timeline"]["points"]] == ["00:02"]
        http.delete("/campaigns/board-stream")
        kind, _, update = next(got)
        assert "board-stream" in update["closed"]


def test_a_reconnecting_client_gets_a_full_snapshot(live_server, http):
    http.put("/campaigns/board-resume", json={"mode": "power"})
    with httpx.stream("GET", live_server.url + "/board/stream", headers=AUTH, timeout=30) as r:
        got = frames(r.iter_lines())
        kind, ident, _ = next(got)
    http.post("/campaigns/board-resume/events", json={"events": login(0.0, "ann", prefix="r")})
    with httpx.stream("GET", live_server.url + "/board/stream", headers={**AUTH, "Last-Event-ID": ident},
                      timeout=30) as r:
        got = frames(r.iter_lines())
        kind, again, snap = next(got)
    assert kind == "snapshot" and int(again) > int(ident)
    assert {p["name"]: p for p in snap["campaigns"]}["board-resume"]["agents"]["idle"] == 1


def test_a_quiet_stream_sends_heartbeats(live_server, monkeypatch):
    from dialer.live import board_http

    monkeypatch.setattr(board_http, "HEARTBEAT", 0.05)
    with httpx.stream("GET", live_server.url + "/board/stream", headers=AUTH, timeout=30) as r:
        got = frames(r.iter_lines())
        assert next(got)[0] == "snapshot"
        assert next(got) == ("comment", None, "heartbeat")


def test_dialer_serve_stops_with_a_board_open(start_server, tmp_path):
    """uvicorn waits for open responses when it stops: the streams end first, so a SIGTERM stops it."""
    proc, url = start_server(str(tmp_path / "s.sqlite"))
    with httpx.stream("GET", url + "/board/stream", headers=AUTH, timeout=30) as r:
        got = frames(r.iter_lines())  # (held: a generator dropped would close the stream)
        assert next(got)[0] == "snapshot"
        proc.send_signal(signal.SIGTERM)
        # (uvicorn raises the signal again once it has shut down: the process ends by it)
        assert proc.wait(timeout=30) == -signal.SIGTERM
