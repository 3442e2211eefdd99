"""`dialer serve`: loopback by default, a token beyond it, one-line errors; the store on SQLite and PostgreSQL."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from dialer.cli import main
from dialer.errors import ConfigError
from dialer.live.campaign import LiveCampaign
from dialer.live.config import CampaignConfig
from dialer.live.serve import check_binding, is_loopback
from dialer.live.service import Service
from dialer.live.store import Store


def test_loopback_addresses():
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "10.0.0.1", "example.org"))


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10"])
def test_serving_beyond_loopback_needs_a_token(host, capsys, monkeypatch):
    monkeypatch.delenv("DIALER_TOKEN", raising=False)
    assert main(["serve", "--host", host, "--port", "0", "--store", "x.sqlite"]) == 2
    err = capsys.readouterr().err
    assert err == (f"dialer: error: --host {host!r} is not a loopback address: a bearer token is required "
                   "(--token or DIALER_TOKEN)\n")
    check_binding(host, "a-long-enough-token-1234")  # with one it is allowed


def test_a_short_token_is_refused():
    with pytest.raises(ConfigError, match=r"--token must be at least 16 characters, got '\*\*\*\*\*'"):
        check_binding("127.0.0.1", "abcde")


def test_a_port_in_use_is_one_line(tmp_path, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        assert main(["serve", "--port", str(port), "--store", str(tmp_path / "s.sqlite")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"dialer: error: --host '127.0.0.1' --port {port}: cannot listen (") and err.count("\n") == 1


def test_a_bad_store_is_one_line_from_the_real_command(tmp_path):
    r = subprocess.run([sys.executable, "-m", "dialer.cli", "serve", "--port", "0", "--store", "nosuchdb://x"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr.startswith("dialer: error: store must be a database URL") and r.stderr.count("\n") == 1
    r = subprocess.run([sys.executable, "-m", "dialer.cli", "serve", "--port", "99999"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "--port: must be a port number from 0 to 65535, got '99999'" in r.stderr


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'live.sqlite'}"
    return request.getfixturevalue("postgres_server").new_database()


def test_the_store_keeps_campaigns_and_journals_and_a_service_rebuilds_them(store_url):
    with Store(store_url) as st:
        svc = Service(st)
        c, created = svc.create("a", {"mode": "adaptive", "lines": 4})
        assert created
        svc.create("b", {"mode": "power"})
        c.submit([{"id": i, "type": "AgentLoggedIn", "time": 0.0, "agent": f"x{i}"} for i in range(3)], decide_at=1.0)
        c.submit([{"id": "3", "type": "AgentLoggedIn", "time": 2.0, "agent": "y"}], decide_at=2.0)  # "3" is not 3
        c.configure(mode="fixed-ratio", pacer={"ratio": 1.5})
        state = c.floor_dict(), c.config, c.seq
    with Store(store_url) as st:
        svc = Service(st)
        assert svc.names() == ["a", "b"]
        r = svc.get("a")
        assert (r.floor_dict(), r.config, r.seq) == state
        assert r.knows(2) and r.knows("3") and not r.knows(3)
        with pytest.raises(Exception, match="exists with another configuration"):
            svc.create("a", {"mode": "power"})
        assert svc.create("a", {"mode": "adaptive", "lines": 4}) == (r, False)  # as created: not a conflict
        assert st.count_events("a") == 4


def test_in_memory_sqlite_is_refused():
    with pytest.raises(ConfigError, match="an in-memory SQLite database would not survive a restart"):
        Store("sqlite://")


def test_live_campaign_is_exported_from_dialer():
    import dialer

    assert dialer.LiveCampaign is LiveCampaign and dialer.CampaignConfig is CampaignConfig
