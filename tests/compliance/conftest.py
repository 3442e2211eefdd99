"""Fixtures of the compliance tests: a real PostgreSQL server for the session, and store URLs.

`postgres_server` runs `initdb` into a fresh directory, starts `postgres` on
a free loopback port with `pg_ctl -w` (which returns once the server accepts
connections: no sleeping), and stops it at the end of the session. PostgreSQL
refuses to run as root; when the tests run as root the server runs as the
`postgres` user if there is one (the Debian package creates it), else as
`nobody`, through `runuser` (or `setpriv`). The binaries are looked up on
PATH, in /usr/local/bin and in /usr/lib/postgresql/*/bin; if there are none
the tests that need them fail with a message saying how to install them
(`.ci/run` does it with apt). `PostgresCluster` is that server on its own
data directory, for a test that must stop and start one (the live service's
readiness test).

`store_url` is parametrised: every test that takes it runs against an
SQLite file and against a fresh database on the PostgreSQL server.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

SEARCH = ["/usr/local/bin", *sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]


def _find(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for d in SEARCH:
        p = Path(d) / name
        if p.exists():
            return str(p)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_user() -> tuple[list[str], str | None]:
    """The command prefix that runs a program as an unprivileged user when we are root."""
    if os.geteuid() != 0:
        return [], None
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        if shutil.which("runuser"):
            return ["runuser", "-u", user, "--"], user
        if shutil.which("setpriv"):
            pw = pwd.getpwnam(user)
            return ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups"], user
    raise RuntimeError("running as root, and no user (postgres, nobody) or no runuser/setpriv to run PostgreSQL as")


@dataclass
class PostgresServer:
    host: str
    port: int
    user: str
    _counter: Iterator[int]

    def new_database(self) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        import psycopg

        name = f"dialer_test_{os.getpid()}_{next(self._counter)}"
        with psycopg.connect(host=self.host, port=self.port, user=self.user, dbname="postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{name}"


class PostgresCluster:
    """A fresh data directory (`initdb`) and the server on it, which `start` and `stop` run and end."""

    def __init__(self) -> None:
        initdb, self.pg_ctl = _find("initdb"), _find("pg_ctl")
        if initdb is None or self.pg_ctl is None:
            pytest.fail(
                "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH, /usr/local/bin or "
                "/usr/lib/postgresql/*/bin: install them (apt-get install postgresql; .ci/run does)"
            )
        self.prefix, user = _as_user()
        self.root = Path(tempfile.mkdtemp(prefix="dialer-pg-"))  # under /tmp: reachable by the server's user
        self.data, self.log = self.root / "data", self.root / "server.log"
        if user is not None:
            pw = pwd.getpwnam(user)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self.env = {**os.environ, "LC_ALL": "C", "HOME": str(self.root)}
        self.port = 0
        self.server: PostgresServer | None = None
        subprocess.run(
            [*self.prefix, initdb, "-D", str(self.data), "--auth=trust", "-U", "dialer", "-E", "UTF8", "--no-sync"],
            check=True, capture_output=True, env=self.env, cwd=self.root,
        )

    def _pg_ctl(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*self.prefix, self.pg_ctl, "-D", str(self.data), *args],
                              capture_output=True, text=True, env=self.env, cwd=self.root)

    def start(self) -> PostgresServer:
        """Start the server (on its former port if it ran before) once it accepts connections."""
        for _ in range(1 if self.port else 5):  # a free port a moment ago may be taken since
            port = self.port or _free_port()
            opts = f"-p {port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=16MB"
            proc = self._pg_ctl("-o", opts, "-l", str(self.log), "-w", "-t", "60", "start")
            if proc.returncode == 0:
                self.port = port
                if self.server is None:
                    self.server = PostgresServer("127.0.0.1", port, "dialer", itertools.count())
                return self.server
        text = self.log.read_text(errors="replace") if self.log.exists() else proc.stderr
        self.remove()
        pytest.fail(f"PostgreSQL did not start: {text[-2000:]}")

    def stop(self) -> None:
        """Stop the server at once (its clients' connections are cut)."""
        self._pg_ctl("-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    cluster = PostgresCluster()
    server = cluster.start()
    try:
        yield server
    finally:
        cluster.stop()
        cluster.remove()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_database()
