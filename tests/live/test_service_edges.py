"""The service's edges (issue 19, item 4): the auth scheme, 404s, liveness and readiness, on real servers."""

from __future__ import annotations

import os

import httpx
import pytest

from live_auth import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.mark.parametrize("value", [f"bearer {TOKEN}", f"BEARER {TOKEN}", f"BeArEr {TOKEN}", f"Bearer  {TOKEN}"])
def test_the_auth_scheme_is_case_insensitive(live_server, value):
    """RFC 9110, 11.1: the scheme is case-insensitive (today `bearer T` was a 401)."""
    r = httpx.get(f"{live_server.url}/healthz", headers={"Authorization": value}, timeout=30)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("value", [f"bearer {TOKEN.upper()}", f"bearer{TOKEN}", f"Basic {TOKEN}", "bearer",
                                   f"bearer {TOKEN}x", f"x{TOKEN}", ""])
def test_the_token_itself_is_exact(live_server, value):
    r = httpx.get(f"{live_server.url}/healthz", headers={"Authorization": value}, timeout=30)
    assert r.status_code == 401 and r.json() == {"detail": "missing or bad bearer token"}


def test_a_404_names_only_the_campaign_asked_for(live_server):
    """Today the 404 listed every campaign's name (to anyone with the token, but still: not asked)."""
    with httpx.Client(base_url=live_server.url, headers=AUTH, timeout=30) as c:
        for name in ("edge-secret-a", "edge-secret-b"):
            assert c.put(f"/campaigns/{name}", json={"mode": "power"}).status_code in (200, 201)
        for method, path in [("GET", "/campaigns/nope"), ("GET", "/campaigns/nope/stats"),
                             ("POST", "/campaigns/nope/events")]:
            r = c.request(method, path, json={"events": []})
            assert r.status_code == 404 and r.json() == {"detail": "campaign 'nope' does not exist"}, r.text


def test_readiness_is_a_round_trip_to_a_sqlite_store(start_server, tmp_path):
    """/healthz says the process is alive; /readyz that the store file can be opened and read."""
    store = tmp_path / "ready.sqlite"
    _proc, url = start_server(str(store))
    with httpx.Client(base_url=url, headers=AUTH, timeout=30) as c:
        assert c.get("/readyz").json() == {"status": "ready", "store": f"sqlite:///{store}"}
        os.rename(store, tmp_path / "elsewhere.sqlite")  # the file is gone from where the store is
        r = c.get("/readyz")
        assert r.status_code == 503, r.text
        assert r.json()["detail"].startswith(f"store 'sqlite:///{store}' cannot be reached: unable to open")
        assert c.get("/healthz").status_code == 200  # alive all the same
        os.rename(tmp_path / "elsewhere.sqlite", store)
        assert c.get("/readyz").status_code == 200


@pytest.mark.slow  # a PostgreSQL server of its own, stopped and started: about 5 s
def test_readiness_is_503_while_postgresql_is_down(start_server, own_postgres):
    """Today /healthz said ok while PostgreSQL was down and posts got 503."""
    db = own_postgres.server.new_database()
    _proc, url = start_server(db)
    event = {"id": "r1", "type": "AgentLoggedIn", "time": 0.0, "agent": "ann"}
    with httpx.Client(base_url=url, headers=AUTH, timeout=30) as c:
        assert c.put("/campaigns/ready", json={"mode": "power"}).status_code == 201
        assert c.get("/readyz").status_code == 200
        own_postgres.stop()
        r = c.get("/readyz")
        assert r.status_code == 503 and r.json()["detail"].startswith("store 'postgresql+psycopg://"), r.text
        assert "cannot be reached" in r.json()["detail"]
        assert c.get("/healthz").status_code == 200  # liveness: the process answers
        assert c.post("/campaigns/ready/events", json={"events": [event]}).status_code == 503
        own_postgres.start()
        assert c.get("/readyz").status_code == 200
        r = c.post("/campaigns/ready/events", json={"events": [event]})
        assert r.status_code == 200 and r.json()["applied"] == 1, r.text
