"""Fixtures of the compliance tests: a real PostgreSQL server for the session, and store URLs.

`postgres_server` runs `initdb` into a fresh directory, starts `postgres` on
a free loopback port with `pg_ctl -w` (which returns once the server accepts
connections: no sleeping), and stops it at the end of the session. PostgreSQL
refuses to run as root; when the tests run as root the server runs as the
`postgres` user if there is one (the Debian package creates it), else as
`nobody`, through `runuser` (or `setpriv`). The binaries are looked up on
PATH, in /usr/local/bin and in /usr/lib/postgresql/*/bin; if there are none
the tests that need them fail with a message saying how to install them
(`.ci/run` does it with apt).

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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    initdb, pg_ctl = _find("initdb"), _find("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.fail(
            "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH, /usr/local/bin or "
            "/usr/lib/postgresql/*/bin: install them (apt-get install postgresql; .ci/run does)"
        )
    prefix, user = _as_user()
    root = Path(tempfile.mkdtemp(prefix="dialer-pg-"))  # under /tmp: reachable by the server's user
    data, log = root / "data", root / "server.log"
    if user is not None:
        pw = pwd.getpwnam(user)
        os.chown(root, pw.pw_uid, pw.pw_gid)
    env = {**os.environ, "LC_ALL": "C", "HOME": str(root)}
    subprocess.run(
        [*prefix, initdb, "-D", str(data), "--auth=trust", "-U", "dialer", "-E", "UTF8", "--no-sync"],
        check=True, capture_output=True, env=env, cwd=root,
    )
    port, started = 0, False
    for _ in range(5):  # the port was free a moment ago; another process may have taken it since
        port = _free_port()
        opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=16MB"
        proc = subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-o", opts, "-l", str(log), "-w", "-t", "60", "start"],
            capture_output=True, text=True, env=env, cwd=root,
        )
        if proc.returncode == 0:
            started = True
            break
    if not started:
        text = log.read_text(errors="replace") if log.exists() else proc.stderr
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start: {text[-2000:]}")
    try:
        yield PostgresServer("127.0.0.1", port, "dialer", itertools.count())
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, env=env, cwd=root)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_database()
