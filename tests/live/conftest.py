"""Fixtures of the live tests: a real service on a loopback socket, in a thread or in a subprocess.

`live_server` (one per test module: tests use distinct campaign names): uvicorn serving `create_app` in a thread of the test process,
on a real socket bound to 127.0.0.1 (port chosen by the kernel) before the
thread starts, so the first request simply waits in the backlog; store in
`tmp_path`. `start_server(...)`: `dialer serve` as a subprocess (what the
crash test kills); `start_module_server(...)` one that lives for the module. Its readiness is polled on /healthz in a bounded loop;
the pause between polls is a `Popen.wait` with a short timeout, which also
notices a server that exited.

`postgres_server` is the compliance suite's fixture (a real PostgreSQL
started for the session), loaded from tests/compliance/conftest.py;
`own_postgres` a PostgreSQL server of the test's own, which it may stop and
start (`PostgresCluster`).
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx
import pytest

_spec = importlib.util.spec_from_file_location(
    "_compliance_conftest", Path(__file__).resolve().parent.parent / "compliance" / "conftest.py"
)
_compliance = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
sys.modules[_spec.name] = _compliance  # type: ignore[union-attr]  # dataclasses look their module up
_spec.loader.exec_module(_compliance)  # type: ignore[union-attr]
postgres_server = _compliance.postgres_server
PostgresCluster = _compliance.PostgresCluster

from live_auth import TOKEN  # noqa: E402  (the tests import it from there)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ThreadServer:
    url: str
    service: object
    server: object
    thread: threading.Thread


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    import uvicorn

    from dialer.live.app import create_app
    from dialer.live.serve import bind
    from dialer.live.service import Service
    from dialer.live.store import Store

    store = Store(tmp_path_factory.mktemp("live") / "live.sqlite", sqlite_sync="normal")
    service = Service(store)
    sock = bind("127.0.0.1", 0)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(create_app(service, TOKEN), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    # the socket already listens: the first request waits in its backlog until uvicorn accepts it
    r = httpx.get(f"{url}/healthz", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30.0)
    assert r.status_code == 200, r.text
    try:
        yield ThreadServer(url, service, server, thread)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        store.close()
        sock.close()


def wait_ready(url: str, token: str | None, *, alive, proc: subprocess.Popen, attempts: int = 300) -> None:
    """Poll GET /healthz until it answers 200; fail after `attempts` polls (about 15 s) or if the server died."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    for _ in range(attempts):
        if not alive():
            out = proc.stderr.read() if proc.stderr else ""
            raise AssertionError(f"the server exited before it was ready: {out}")
        try:
            if httpx.get(f"{url}/healthz", headers=headers, timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        try:
            proc.wait(timeout=0.05)  # the pause between polls; returns at once if the server exited
        except subprocess.TimeoutExpired:
            pass
    raise AssertionError(f"{url} not ready after {attempts} polls")


def serve_command(port: int, store: str, token: str | None = TOKEN, *extra: str) -> list[str]:
    cmd = [sys.executable, "-m", "dialer.cli", "serve", "--port", str(port), "--store", store]
    if token:
        cmd += ["--token", token]
    return cmd + list(extra)


class Servers:
    """`dialer serve` subprocesses: call with (store, token, *extra flags) -> (process, url); `close` kills them."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def __call__(self, store: str, token: str | None = TOKEN, *extra: str) -> tuple[subprocess.Popen, str]:
        for _ in range(5):  # the port was free a moment ago; another process may take it first
            port = free_port()
            proc = subprocess.Popen(serve_command(port, store, token, *extra), stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True, env={**os.environ, "DIALER_TOKEN": ""})
            self.procs.append(proc)
            url = f"http://127.0.0.1:{port}"
            try:
                wait_ready(url, token, alive=lambda: proc.poll() is None, proc=proc)
                return proc, url
            except AssertionError as err:
                if "cannot listen" not in str(err):
                    raise
        raise AssertionError("no free port after 5 tries")

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait(timeout=30)
            if p.stderr:
                p.stderr.close()


@pytest.fixture
def start_server() -> Iterator[Servers]:
    """Start `dialer serve` subprocesses (killed at the end of the test); returns (process, url)."""
    servers = Servers()
    yield servers
    servers.close()


@pytest.fixture(scope="module")
def start_module_server() -> Iterator[Servers]:
    """The same, killed at the end of the test module (for a server several tests share)."""
    servers = Servers()
    yield servers
    servers.close()


@pytest.fixture
def own_postgres() -> Iterator["PostgresCluster"]:
    """A PostgreSQL server of this test's own, started; the test may stop and start it."""
    cluster = PostgresCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        cluster.remove()
