"""Snapshots of an open campaign's state (issue 18 item 7): `dialer serve` keeps one every
`--snapshot-every` journal entries; a restart starts from the newest one this build reads and replays the
entries after it, and ends where a replay of the whole journal ends; `dialer stats retain --yes` deletes
an open campaign's entries before the cut only up to that snapshot. A snapshot of another format is
never half-read: the whole journal is replayed while it reaches back to entry 1, else the service refuses
to start, naming the campaign and both formats. A crash between a snapshot and the trim loses nothing.
SQLite and the real PostgreSQL server the suite starts."""

from __future__ import annotations

import datetime as dt
import logging
import pickle
import signal
import subprocess
import sys
import types
from collections import deque
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from dialer.cli import main
from dialer.compliance.store import retention_cutoff
from dialer.core.guards import AbandonedNumbers
from dialer.emulate import emulate
from dialer.live.campaign import LiveCampaign, StoreError
from dialer.live.config import CampaignConfig
from dialer.live.service import Service
from dialer.live.snapshot import FORMAT, SnapshotError, dumps, loads
from dialer.live.store import Store, journal, retain_journals, snapshots
from dialer.rules.dnc import Hasher
from dialer.rules.phone import number_key
from dialer.sim import load

from live_auth import TOKEN
from served import Served

TINY = Path(__file__).parent / "data" / "tiny.toml"  # 3 agents, 40 minutes
H = Hasher(b"snapshot test secret 0123")
T = dt.datetime(2025, 6, 3, 10, tzinfo=dt.timezone.utc).timestamp()  # older than any retention cut from today
CUT = retention_cutoff(dt.date.today())


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'live.sqlite'}"
    return request.getfixturevalue("postgres_server").new_database()


class Discard:
    """A journal that keeps nothing (but, like the store, asks for the compliance records)."""

    keeps_records = True

    def append(self, *args: object) -> None:
        pass


def replayed(service: Service, store: Store, name: str) -> LiveCampaign:
    """The campaign as a replay of its whole journal rebuilds it, with the service's collaborators."""
    (config,) = [cfg for key, cfg in store.campaigns() if key == name]
    return LiveCampaign.restore(name, CampaignConfig.from_dict(config), store.entries(name), journal=Discard(),
                                solver=service.solver, numbers=AbandonedNumbers(store.redial_flags()),
                                number_key=service.number_key, hasher=service.hasher)


def state(c: LiveCampaign) -> bytes:
    return c.snapshot()[1]


def differences(a: bytes, b: bytes) -> list[str]:
    """Where two snapshots' states differ: every attribute of every object they hold compared, in order
    (the bytes themselves differ when one state shares a string where the other holds two equal ones)."""
    refs = {k: object() for k in ("day_of", "number_key", "numbers", "day_plan")}
    out: list[str] = []
    seen: set[tuple[int, int]] = set()

    def walk(x: object, y: object, path: str) -> None:
        if (id(x), id(y)) in seen:
            return
        seen.add((id(x), id(y)))
        if type(x) is not type(y):
            out.append(f"{path}: {type(x).__name__} != {type(y).__name__}")
        elif isinstance(x, types.BuiltinMethodType):  # a controller's handle on its floor's table, made again
            pass
        elif hasattr(x, "bit_generator"):  # a numpy random generator: where its draws stand
            walk(x.bit_generator.state, y.bit_generator.state, f"{path}.state")  # type: ignore[attr-defined]
        elif isinstance(x, dict):
            if list(x) != list(y):  # type: ignore[arg-type]
                out.append(f"{path}: keys differ")
            else:
                for k in x:
                    walk(x[k], y[k], f"{path}[{k!r}]")  # type: ignore[index]
        elif isinstance(x, (list, tuple, deque)):
            if len(x) != len(y):  # type: ignore[arg-type]
                out.append(f"{path}: {len(x)} items != {len(y)}")  # type: ignore[arg-type]
            else:
                for i, (u, v) in enumerate(zip(x, y)):  # type: ignore[call-overload]
                    walk(u, v, f"{path}[{i}]")
        elif hasattr(x, "__dict__") or hasattr(type(x), "__slots__"):
            for name in [*getattr(x, "__dict__", {}), *getattr(type(x), "__slots__", ())]:
                walk(getattr(x, name, None), getattr(y, name, None), f"{path}.{name}")
        elif x != y and not (x != x and y != y):  # (NaN equals NaN here)
            out.append(f"{path}: {x!r} != {y!r}")

    walk(loads(a, refs), loads(b, refs), "")
    return out


def views(c: LiveCampaign) -> tuple:
    return (c.seq, c.floor_dict(), c.ledger_dict(), c.stats(), c.timeline(), c.promise_breaks(), c.flags())


def retain(url: str, capsys: pytest.CaptureFixture, *args: str) -> str:
    """`dialer stats retain --store URL ...` (the command's own code, in this process): what it printed."""
    assert main(["stats", "retain", "--store", url, *args]) == 0
    return capsys.readouterr().out


def trim(url: str) -> list[dict]:
    """`dialer stats retain --yes` on the journals, in this process: what it did to each open campaign."""
    report = retain_journals(url, dt.datetime.combine(CUT, dt.time(0), tzinfo=dt.timezone.utc), delete=True)
    assert report is not None
    return report["covered"]


def kept(store: Store, key: str) -> list[tuple[int, str]]:
    with store.engine.connect() as c:
        return [tuple(r) for r in c.execute(sa.select(journal.c.seq, journal.c.body)
                                             .where(journal.c.campaign == key).order_by(journal.c.seq))]


def next_events(c: LiveCampaign, t: float) -> list:
    """What the campaign answers to a few more minutes: agents back, dials, decisions with candidates."""
    out = []
    for k in range(4):
        b = c.submit([{"id": f"next-{k}-in", "type": "AgentLoggedIn", "time": t + 60 * k, "agent": f"extra{k}"}],
                     decide_at=t + 60 * k + 1, leads=[f"+47 4000 00{k}{j}" for j in range(6)])
        out.append((b.decision, b.picks))
        for j, dial in enumerate(b.picks.dials[:2]):
            c.submit([{"id": f"next-{k}-{j}", "type": "DialPlaced", "time": t + 60 * k + 2, "call": f"n{k}-{j}",
                       "lead": dial.lead, "agent": dial.agent}])
        out.append(c.ledger_dict())
    return out


def test_a_live_day_restored_from_its_snapshot_and_trimmed_behind_it_ends_as_the_whole_replay(url, capsys):
    sc = load(TINY)
    c0 = sc.campaigns[0].model_copy(update={"caller_id": "+4722334455", "mode": "predictive", "pacer": {}})
    sc = sc.model_copy(update={"study": sc.study.model_copy(update={"preset": "NO", "start": dt.date(2025, 6, 3)}),
                               "campaigns": [c0]})
    served = Served(url, H, snapshot_every=100)
    try:
        emulate(sc, served.url, seed=3, token=TOKEN, prefix="snap")
    finally:
        served.close()  # as a crash would leave it: no snapshot at shutdown
    name = "snap-sales"
    with Store(url) as store:
        snaps = store.snapshots(name)
        total = sum(1 for _ in store.entries(name))
        newest = snaps[0][0]
        assert [s[1] for s in snaps] == [FORMAT, FORMAT] and 200 <= newest < total  # entries after it
        service = Service(store, hasher=H, policy_cache=False)
        from_snapshot = service.get(name)
        whole = replayed(service, store, name)
        assert differences(state(from_snapshot), state(whole)) == []  # the same state, every attribute
        assert differences(snaps[0][2], state(whole))  # (and the comparison sees a state that moved on)
        assert views(from_snapshot) == views(whole)
        service.shutdown()
        tail = kept(store, name)[newest:]
    assert all(d not in snaps[0][2] for d in (b"4790", b"4791", b"4792"))  # no phone number in clear

    out = retain(url, capsys)  # the day is older than the cut: what its snapshot covers may go
    assert f"open campaign {name!r}: would delete {newest} of its {total} journal entries before {CUT} (up to its " \
           f"snapshot at entry {newest}), and 1 older snapshots; {total - newest} entries kept: no snapshot covers " \
           "them" in out
    with Store(url) as store:
        assert sum(1 for _ in store.entries(name)) == total  # only said
    out = retain(url, capsys, "--yes")
    assert f"open campaign {name!r}: deleted {newest} of its {total} journal entries" in out
    with Store(url) as store:
        assert kept(store, name) == tail  # the entries after the snapshot: every one, unchanged
        assert [s[0] for s in store.snapshots(name)] == [newest]  # the newest kept, the older one gone
        service = Service(store, hasher=H, policy_cache=False)
        restarted = service.get(name)
        assert differences(state(restarted), state(whole)) == []
        t = restarted.clock + 60
        got = next_events(restarted, t)
        assert sum(len(picks.dials) for _, picks in got[::2]) >= 4  # it dials
        assert got == next_events(whole, t)  # the same decisions for what comes next
        service.shutdown()


def ev(i, tp, t, **kw):
    return {"id": f"e{i}", "type": tp, "time": T + t, **kw}


#: a small day of a Power campaign: a number abandoned early, a dial in flight at the end
DAY = [ev(1, "AgentLoggedIn", 0, agent="ann"), ev(2, "AgentLoggedIn", 0, agent="bob"),
       ev(3, "DialPlaced", 1, call=1, lead="912 34 567", agent="ann"), ev(4, "CallAnswered", 2, call=1, human=True),
       ev(5, "CallAbandoned", 3, call=1), ev(6, "AgentLoggedIn", 4, agent="cy"),
       ev(7, "DialPlaced", 5, call=2, lead="L7", phone="+47 900 00 001", agent="bob"),
       ev(8, "CallFailed", 9, call=2, reason="busy"),
       ev(9, "DialPlaced", 10, call=3, lead="+4741234567", agent="ann")]


def small_day(store: Store, **kw) -> None:
    service = Service(store, policy_cache=False, snapshot_every=4, **kw)
    c, _ = service.create("small", {"mode": "power"})
    for e in DAY:
        c.submit([e])
    service.shutdown()  # (no snapshot at shutdown: the last one is at entry 8, entry 9 after it)


def set_format(store: Store, fmt: int) -> None:
    with store.engine.begin() as c:
        c.execute(snapshots.update().values(format=fmt))


def test_a_snapshot_of_another_format_is_never_read_while_the_whole_journal_is_there(url, caplog):
    with Store(url) as store:
        small_day(store)
        assert [s[0] for s in store.snapshots("small")] == [8, 4]
        set_format(store, FORMAT + 1)  # as a later build would write them
        with caplog.at_level(logging.WARNING, logger="dialer.live.service"):
            service = Service(store, policy_cache=False)
        assert caplog.messages == [
            f"dialer: campaign 'small': the snapshot at entry 8 has format {FORMAT + 1}, while this build reads "
            f"format {FORMAT}; the snapshot at entry 4 has format {FORMAT + 1}, while this build reads format "
            f"{FORMAT}: replaying its whole journal instead"]
        small = service.get("small")
        assert differences(state(small), state(replayed(service, store, "small"))) == []
        assert small.lead_dict("+47 912 34 567", T + 20)["must_reserve"]
        service.shutdown()
        caplog.clear()
        with store.engine.begin() as c:  # the right format, bytes that are not a snapshot
            c.execute(snapshots.update().values(format=FORMAT, state=b"\x80\x05not a snapshot"))
        with caplog.at_level(logging.WARNING, logger="dialer.live.service"):
            service = Service(store, policy_cache=False)
        assert caplog.messages[0].startswith("dialer: campaign 'small': the snapshot at entry 8 cannot be read (")
        assert service.get("small").floor_dict()["ringing_reserved"] == 1
        service.shutdown()


def test_a_journal_trimmed_behind_a_snapshot_of_another_format_is_refused(url):
    with Store(url) as store:
        small_day(store)
    assert trim(url) == [{"key": "small", "old": 9, "covered": 8, "snapshot": 8, "snapshots": 1}]
    with Store(url) as store:
        assert [s for s, *_ in kept(store, "small")] == [9]
        set_format(store, FORMAT + 1)
    refusal = (f"campaign 'small' cannot be restored: its journal was deleted up to entry 8, and its snapshot "
               f"there has format {FORMAT + 1}, while this build reads format {FORMAT} (start the build that "
               "wrote it; never this one from an empty state)")
    with Store(url) as store:
        with pytest.raises(StoreError) as err:
            Service(store, policy_cache=False)
        assert str(err.value) == refusal
    if url.startswith("sqlite"):  # `dialer serve` says it in one line (the same line on PostgreSQL)
        p = subprocess.run([sys.executable, "-m", "dialer.cli", "serve", "--port", "0", "--store", url],
                           capture_output=True, text=True, timeout=120)
        assert (p.returncode, p.stderr) == (2, f"dialer: error: {refusal}\n")


def test_a_crash_between_a_snapshot_and_the_trim_loses_nothing(url, start_server):
    proc, base = start_server(url, TOKEN, "--snapshot-every", "4")
    http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert http.put("/campaigns/small", json={"mode": "power"}).status_code == 201
    for e in DAY:
        assert http.post("/campaigns/small/events", json={"events": [e]}).status_code == 200, e
    http.close()
    proc.kill()  # kill -9: no shutdown, no flush of the abandoned numbers but the snapshots'
    proc.wait(timeout=30)
    with Store(url) as store:
        assert [s[0] for s in store.snapshots("small")] == [8, 4]
        service = Service(store, policy_cache=False)
        whole = state(service.get("small"))
        service.shutdown()
    assert trim(url)[0]["covered"] == 8
    with Store(url) as store:
        assert [s for s, *_ in kept(store, "small")] == [9]
        service = Service(store, policy_cache=False)
        small = service.get("small")
        assert differences(state(small), whole) == []
        # the number abandoned in what was deleted: still only with an agent reserved, here and elsewhere
        assert small.lead_dict("912 34 567", T + 20)["must_reserve"]
        other, _ = service.create("other", {"mode": "power"})
        assert other.lead_dict("+4791234567", T + 20)["must_reserve"]
        assert small.floor_dict()["ringing_reserved"] == 1
        small.submit([ev(10, "CallFailed", 12, call=3, reason="no_answer")])  # the call in flight, known
        service.shutdown()
    # `dialer serve` starts on the trimmed journal, and keeps a snapshot when it stops (SIGTERM)
    proc, base = start_server(url, TOKEN, "--snapshot-every", "4")
    http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    r = http.post("/campaigns/small/events", json={"events": [ev(11, "AgentPaused", 13, agent="bob")]})
    assert (r.status_code, r.json()["seq"]) == (200, 11)
    http.close()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) in (0, -signal.SIGTERM)
    with Store(url) as store:
        assert [s[0] for s in store.snapshots("small")] == [11, 8]


@pytest.mark.parametrize("config", [
    {"mode": "power"},
    {"mode": "fixed-ratio"},
    {"mode": "adaptive", "intervals": [{"kind": "day", "limit": 0.05}, {"kind": "campaign", "limit": 0.05},
                                       {"kind": "rolling", "limit": 0.05, "window": 3600}]},
    {"mode": "poisson", "preset": "UK", "timezone": "Europe/London"},  # its random draws go on alike
    {"mode": "predictive", "preset": "US", "timezone": "America/Chicago", "wait_for_solves": True},
], ids=lambda c: c["mode"])
def test_every_mode_goes_on_from_its_snapshot_as_it_would_have(config):
    secret = b"a register secret, 32 bytes long"
    key = number_key(Hasher(secret))
    c = LiveCampaign(name="s", number_key=key, numbers=AbandonedNumbers(), **config)
    c.submit([ev(1, "AgentLoggedIn", 0, agent="ann"), ev(2, "AgentLoggedIn", 0, agent="bob"),
              ev(3, "DialPlaced", 1, call=1, lead="912 34 567", agent=None),
              ev(4, "CallAnswered", 2, call=1, human=True), ev(5, "CallConnected", 3, call=1, agent="ann")])
    for k in range(5):
        c.decide(T + 5 + 30 * k)
    seq, blob = c.snapshot()
    assert secret not in blob and b"91234567" not in blob  # no key, no number in clear
    d = LiveCampaign.restore("s", c.initial, [], snapshot=(seq, blob), number_key=key, numbers=AbandonedNumbers())
    assert differences(state(d), blob) == []
    assert [d.decide(T + 400 + k) for k in range(20)] == [c.decide(T + 400 + k) for k in range(20)]
    assert d.lead_dict("+47 912 34 567")["in_flight"] and d.seq == c.seq


def test_a_snapshot_loads_only_the_projects_own_classes():
    class Evil:
        def __reduce__(self):
            return (subprocess.call, (["true"],))

    with pytest.raises(SnapshotError, match="a snapshot holds only the project's own classes, got subprocess.call"):
        loads(pickle.dumps(Evil(), protocol=5), {})
    with pytest.raises(SnapshotError, match="a snapshot never holds a number key or a hasher"):
        dumps({"key": number_key(H)}, {})


def test_a_collaborator_is_written_by_name_and_must_be_given_back():
    numbers = AbandonedNumbers()
    blob = dumps({"guard": [numbers, numbers]}, {"numbers": numbers})
    other = AbandonedNumbers()
    again = loads(blob, {"numbers": other})
    assert again["guard"][0] is other and again["guard"][1] is other  # the reader's own, not a copy
    with pytest.raises(SnapshotError, match="names a collaborator this restore does not give: 'numbers'"):
        loads(blob, {})
    with pytest.raises(SnapshotError, match="collaborators must be objects, not plain values: day"):
        dumps({"day": 3}, {"day": 3})
