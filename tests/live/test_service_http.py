"""The HTTP service on a real loopback socket: token, campaigns, events applied once, 4xx that change nothing."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from live_auth import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def http(live_server):
    with httpx.Client(base_url=live_server.url, headers=AUTH, timeout=30) as c:
        yield c


def ev(i, tp, t, **kw):
    return {"id": f"e{i}", "type": tp, "time": t, **kw}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": TOKEN},
                                     {"Authorization": f"Basic {TOKEN}"}])
@pytest.mark.parametrize("method, path", [("GET", "/healthz"), ("GET", "/openapi.json"), ("GET", "/metrics"),
                                          ("PUT", "/campaigns/x"), ("POST", "/campaigns/x/events"),
                                          ("GET", "/campaigns/nope/stats"), ("GET", "/docs")])
def test_every_request_with_a_bad_token_is_refused(live_server, headers, method, path):
    r = httpx.request(method, live_server.url + path, headers=headers, json={"mode": "power"}, timeout=30)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert "x" not in live_server.service.names()


def test_health_and_openapi(http):
    assert http.get("/healthz").json()["status"] == "ok"
    schema = http.get("/openapi.json").json()
    paths = schema["paths"]
    for p in ("/campaigns/{name}", "/campaigns/{name}/events", "/campaigns/{name}/decide", "/campaigns/{name}/stats",
              "/campaigns/{name}/ledger", "/healthz", "/metrics"):
        assert p in paths, p
    assert "HTTPBearer" in schema["components"]["securitySchemes"]


def test_create_is_idempotent_and_a_different_configuration_conflicts(http):
    r = http.put("/campaigns/sales", json={"mode": "predictive", "lines": 10})
    assert r.status_code == 201 and r.json()["uses_envelope"] is True
    assert http.put("/campaigns/sales", json={"mode": "predictive", "lines": 10}).status_code == 200
    r = http.put("/campaigns/sales", json={"mode": "power"})
    assert r.status_code == 409 and "exists with another configuration" in r.json()["detail"]
    r = http.put("/campaigns/sales", json={"mode": "turbo"})
    assert r.status_code == 422 and r.json()["detail"].startswith("mode must be one of power, ")
    r = http.put("/campaigns/bad name", json={})
    assert r.status_code == 422 and r.json()["detail"].startswith("campaign must be 1 to 100 letters")
    r = http.put("/campaigns/x", json={"mode": "power", "colour": "red"})
    assert r.status_code == 422 and r.json()["detail"].startswith("colour: ")
    r = http.get("/campaigns/nope/stats")
    assert r.status_code == 404 and r.json()["detail"] == "campaign 'nope' does not exist"  # not the others' names


def test_events_once_decisions_stats_ledger_and_metrics(http, live_server):
    http.put("/campaigns/c1", json={"mode": "power"})
    batch = [ev(1, "AgentLoggedIn", 0.0, agent="ann"), ev(2, "AgentLoggedIn", 0.0, agent="bob")]
    assert http.post("/campaigns/c1/events", json={"events": batch}).json() == {"applied": 2, "duplicates": [], "seq": 2}
    r = http.post("/campaigns/c1/decide", json={"now": 1.0, "events": batch}).json()  # a retry of the batch
    assert (r["applied"], r["duplicates"]) == (0, ["e1", "e2"])
    assert r["decision"] == {"reserve": ["ann", "bob"], "unreserved": 0, "dials": 2, "wake_at": None}
    calls = [ev(3, "DialPlaced", 1.0, call=1, lead=100, agent="ann"), ev(4, "CallAnswered", 9.0, call=1, human=True),
             ev(5, "CallConnected", 9.0, call=1, agent="ann")]
    assert http.post("/campaigns/c1/events", json={"events": calls + calls}).json()["applied"] == 3
    stats = http.get("/campaigns/c1/stats").json()
    (day,) = stats["days"]
    assert day["day"] == 0 and day["counts"]["attempted"] == 1 and day["counts"]["connected"] == 1
    assert stats["floor"]["talking"] == 1
    ledger = http.get("/campaigns/c1/ledger", params={"now": 10.0}).json()
    assert ledger["intervals"][0]["name"] == "day" and ledger["intervals"][0]["limit"] == 0.05
    lead = http.get("/campaigns/c1/leads/100").json()
    assert lead == {"lead": 100, "must_reserve": False, "in_flight": True}
    text = http.get("/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    def of_c1(family):
        return [s for s in families[family].samples if s.labels["campaign"] == "c1"]

    assert [(s.name, s.value) for s in of_c1("dialer_events")] == [("dialer_events_total", 5)]
    assert [s.value for s in of_c1("dialer_duplicate_events")] == [5]
    agents = {s.labels["state"]: s.value for s in of_c1("dialer_agents")}
    assert agents["talking"] == 1 and agents["idle"] == 1


def test_an_impossible_event_gets_409_naming_it_and_changes_nothing(http):
    http.put("/campaigns/c2", json={"mode": "power"})
    http.post("/campaigns/c2/events", json={"events": [ev(1, "AgentLoggedIn", 0.0, agent="ann")]})
    before = http.get("/campaigns/c2/stats").json(), http.get("/campaigns/c2/ledger").json()
    batch = [ev(2, "AgentLoggedIn", 1.0, agent="bob"), ev(3, "CallAnswered", 2.0, call=77, human=True),
             ev(4, "AgentLoggedIn", 3.0, agent="cid")]
    r = http.post("/campaigns/c2/events", json={"events": batch})
    assert r.status_code == 409
    body = r.json()
    assert body["detail"] == "events[1] (id 'e3'): CallAnswered: unknown call 77 (never placed, or already over)"
    assert (body["index"], body["event_id"], body["applied"]) == (1, "e3", 1)
    stats = http.get("/campaigns/c2/stats").json()
    assert stats["floor"]["logged_in"] == 2  # ann, and bob before the refused event; not cid
    # the dialer fixes its stream and resends everything: bob is skipped, cid applied
    r = http.post("/campaigns/c2/events", json={"events": [batch[0], batch[2]]}).json()
    assert (r["applied"], r["duplicates"]) == (1, ["e2"])
    r = http.post("/campaigns/c2/events", json={"events": [ev(5, "AgentReady", 4.0, agent="ann")]})
    assert r.status_code == 409 and r.json()["detail"].endswith("AgentReady does not fit agent 'ann' in state 'idle'")
    r = http.post("/campaigns/c2/decide", json={"now": 0.5})
    assert r.status_code == 409 and "decide_at must be at or after the last event" in r.json()["detail"]
    assert before[1]["intervals"] == http.get("/campaigns/c2/ledger").json()["intervals"]


@pytest.mark.parametrize(
    "body, detail",
    [
        ({"events": [{"id": "x", "type": "Dial", "time": 0}]}, "events[0].type must be one of AgentLoggedIn"),
        ({"events": "AgentLoggedIn"}, "events: Input should be a valid list"),
        ({"events": [], "now": "soon"}, None),
        ({"evnets": []}, "evnets: Extra inputs are not permitted"),
        ('{"events": [{"id": "x", "type": "AgentReady", "time": 1e400, "agent": "a"}]}', "time must be a finite number"),
        ('{"events": [], "now": NaN}', "decide_at must be a finite number of seconds, got nan"),
    ],
)
def test_a_malformed_request_gets_422_naming_the_field(http, body, detail):
    http.put("/campaigns/c3", json={})
    path = "/campaigns/c3/decide" if "now" in body else "/campaigns/c3/events"
    if isinstance(body, str):  # what a JSON encoder would not write: 1e400 (infinite), NaN
        r = http.post(path, content=body.encode(), headers={"content-type": "application/json"})
    else:
        r = http.post(path, json=body)
    assert r.status_code == 422, r.text
    if detail:
        assert detail in r.json()["detail"]


def test_not_json_is_422(http):
    http.put("/campaigns/c4", json={})
    r = http.post("/campaigns/c4/events", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_patch_changes_the_mode_and_keeps_the_floor(http):
    http.put("/campaigns/c5", json={"mode": "power"})
    http.post("/campaigns/c5/events", json={"events": [ev(1, "AgentLoggedIn", 0.0, agent="a")]})
    r = http.patch("/campaigns/c5", json={"mode": "fixed-ratio", "pacer": {"ratio": 2.0}})
    assert r.status_code == 200 and r.json()["config"]["mode"] == "fixed-ratio"
    d = http.post("/campaigns/c5/decide", json={"now": 1.0}).json()["decision"]
    assert d["unreserved"] == 2 and d["reserve"] == []
    r = http.patch("/campaigns/c5", json={"pacer": {"ratio": -1}})
    assert r.status_code == 422 and "pacer.ratio must be a positive number" in r.json()["detail"]
    r = http.patch("/campaigns/c5", json={"abandon_limit": 0.5})
    assert r.status_code == 422
