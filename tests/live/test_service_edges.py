"""The service's edges (issue 19, item 4): the auth scheme, 404s, liveness and readiness, the request
body limit, one writer per store; on real servers (uvicorn on 127.0.0.1, `dialer serve` subprocesses,
SQLite files and a real PostgreSQL)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

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


# --- the request body limit ------------------------------------------------------------------------

LIMIT = 64 * 1024


def _response(sock: socket.socket) -> tuple[int, dict]:
    """Read one HTTP response (status and JSON body) until the server closes or the body is complete."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    headers = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:])
    length = int(headers[b"content-length"])
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, body
        body += chunk
    return int(head.split()[1]), {"json": json.loads(body), "connection": headers.get(b"connection")}


def _request_head(url: str, path: str, extra: str) -> tuple[socket.socket, bytes]:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: application/json\r\n{extra}\r\n").encode()
    return sock, head


@pytest.fixture(scope="module")
def small_limit_server(start_module_server, tmp_path_factory):
    """`dialer serve --max-body 64KiB` (a real subprocess: the flag is what is tested)."""
    store = tmp_path_factory.mktemp("limit") / "limit.sqlite"
    _proc, url = start_module_server(str(store), TOKEN, "--max-body", "64KiB")
    with httpx.Client(base_url=url, headers=AUTH, timeout=30) as c:
        assert c.put("/campaigns/limit", json={"mode": "power"}).status_code == 201
    return url


def test_a_body_at_the_limit_is_read_and_one_byte_more_is_413(small_limit_server):
    body = b'{"events": []}'
    with httpx.Client(base_url=small_limit_server, headers=AUTH, timeout=30) as c:
        exact = body + b" " * (LIMIT - len(body))  # JSON allows the spaces
        r = c.post("/campaigns/limit/events", content=exact, headers={"content-type": "application/json"})
        assert r.status_code == 200 and r.json()["applied"] == 0, r.text
        r = c.post("/campaigns/limit/events", content=exact + b" ", headers={"content-type": "application/json"})
        assert r.status_code == 413, r.text
        assert r.json() == {"detail": f"body must be at most {LIMIT} bytes (dialer serve --max-body), got {LIMIT + 1}"}


def test_a_huge_content_length_is_413_before_the_body_is_sent(small_limit_server):
    """Today a 250 MB body was read whole (peak 1.4 GB). Here not one byte of it is sent: the
    answer comes from the header alone, and the connection is closed."""
    sock, head = _request_head(small_limit_server, "/campaigns/limit/events", "Content-Length: 250000000\r\n")
    with sock:
        sock.sendall(head)
        status, got = _response(sock)
    assert status == 413 and got["connection"] == b"close"
    assert got["json"]["detail"] == f"body must be at most {LIMIT} bytes (dialer serve --max-body), got 250000000"


def test_a_chunked_body_is_refused_once_it_passes_the_limit(small_limit_server):
    """No Content-Length: the bytes are counted as they stream in; the 413 comes while the body is
    still unfinished (the last chunk is never sent)."""
    sock, head = _request_head(small_limit_server, "/campaigns/limit/events", "Transfer-Encoding: chunked\r\n")
    piece = b" " * 4096
    with sock:
        sock.sendall(head + b'e\r\n{"events": []}\r\n')
        for _ in range(LIMIT // len(piece) + 1):  # just past the limit, and no terminating chunk
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        status, got = _response(sock)
    assert status == 413 and got["connection"] == b"close"
    detail = got["json"]["detail"]
    assert detail.startswith(f"body must be at most {LIMIT} bytes (dialer serve --max-body), got ")
    assert LIMIT < int(detail.rsplit(" ", 1)[1]) <= LIMIT + 14 + len(piece)


def test_a_chunked_body_under_the_limit_is_applied(small_limit_server):
    events = [{"id": f"ch{i}", "type": "AgentLoggedIn", "time": 0.0, "agent": f"ch{i}"} for i in range(3)]

    def chunks():
        text = json.dumps({"events": events}).encode()
        yield text[:10]
        yield text[10:]

    with httpx.Client(base_url=small_limit_server, headers=AUTH, timeout=30) as c:
        r = c.post("/campaigns/limit/events", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 200 and r.json()["applied"] == 3, r.text


def test_max_body_must_be_a_size(capsys):
    from dialer.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["serve", "--max-body", "lots"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.endswith("argument --max-body: must be a size from 1KiB to 1024MiB (bytes, or KiB or MiB), got 'lots'")


# --- one writer per store ------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def live_store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'one.sqlite'}"
    return request.getfixturevalue("postgres_server").new_database()


def _serve_once(store: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "dialer.cli", "serve", "--port", "0", "--store", store, "--token", TOKEN]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env={**os.environ, "DIALER_TOKEN": ""})


@pytest.mark.slow  # three server start-ups per store: about 10 s
def test_a_second_service_on_the_same_store_refuses_to_start(start_server, live_store_url):
    """Today a second `dialer serve` on the same store started without complaint (the docs said one
    process per store). The lock goes with the process, kill -9 included."""
    proc, _url = start_server(live_store_url)
    second = _serve_once(live_store_url)
    assert second.returncode == 2 and second.stderr.count("\n") == 1, second.stderr
    shown = live_store_url.split("://", 1)[1]
    assert second.stderr.startswith("dialer: error: store '") and shown in second.stderr
    assert "is in use by another service (" in second.stderr
    assert second.stderr.endswith("); one service process per store\n")
    proc.kill()
    proc.wait(timeout=30)
    start_server(live_store_url)  # the lock went with the killed process


def test_one_store_object_per_store_in_process(live_store_url, tmp_path, request):
    from dialer.errors import ConfigError
    from dialer.live.store import Store

    with Store(live_store_url) as first:
        with pytest.raises(ConfigError, match=r"is in use by another service \("):
            Store(live_store_url)
        first.ping()
        # another file, or another database on the same PostgreSQL server, is another store
        other = (f"sqlite:///{tmp_path / 'other.sqlite'}" if first.sqlite
                 else request.getfixturevalue("postgres_server").new_database())
        with Store(other):
            pass
    with Store(live_store_url):  # closed: free again
        pass


def test_a_closed_postgresql_store_is_free_at_once(postgres_server):
    """Closing the store unlocks its advisory lock before the connection goes: the server drops a closed
    session's locks only once its backend has exited, so a store opened again at once (a restart, a
    test) was sometimes refused as in use (seen once under load)."""
    import sqlalchemy as sa

    from dialer.live.store import ADVISORY_KEY, Store

    url = postgres_server.new_database()
    watcher = sa.create_engine(url)
    # a bigint advisory key shows in pg_locks as its high and low 32 bits
    held = sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = :hi AND objid = :lo"
                   " AND objsubid = 1 AND granted")
    key = {"hi": (ADVISORY_KEY >> 32) & 0xFFFFFFFF, "lo": ADVISORY_KEY & 0xFFFFFFFF}
    try:
        for _ in range(10):
            with Store(url):
                with watcher.connect() as c:
                    assert c.execute(held, key).scalar() == 1
            with watcher.connect() as c:
                assert c.execute(held, key).scalar() == 0
    finally:
        watcher.dispose()
