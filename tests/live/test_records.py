"""The compliance record of a live day: `dialer serve --store URL` keeps norm 4.3's daily statistics and
the dial log beside its journal, in the same database `dialer audit` reads, written in the transaction
of the journal entries they come from (nothing acknowledged lost, nothing counted twice). A live day
driven over HTTP keeps the same rows as the simulated day; its audit checks every dial. SQLite and the
real PostgreSQL server the suite starts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dialer.compliance.audit import build_audit, text_lines
from dialer.compliance.registers import import_register
from dialer.compliance.store import COUNTS, Store as Records
from dialer.emulate import emulate
from dialer.errors import DialerError
from dialer.live.service import Service
from dialer.live.store import Store
from dialer.rules.dnc import Hasher
from dialer.rules.presets import get_preset
from dialer.sim import load, simulate
from dialer.sim.compliance import DialLog, record

from live_auth import TOKEN
from served import Served

TINY = Path(__file__).parent / "data" / "tiny.toml"  # 3 agents, 40 minutes
H = Hasher(b"records test secret 0123")
NO = {"mode": "power", "preset": "NO", "timezone": "Europe/Oslo", "caller_id": "+4722334455"}
NORM = [n for n in COUNTS if n != "complaints"]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'live.sqlite'}"
    return request.getfixturevalue("postgres_server").new_database()


@pytest.fixture
def served(url):
    s = Served(url, H, screening=True)  # as dialer serve with the secret: registers screened at dial time
    yield s
    s.close()


def tiny_under_no():
    sc = load(TINY)
    c = sc.campaigns[0].model_copy(update={"caller_id": "+4722334455", "mode": "predictive", "pacer": {}})
    return sc.model_copy(update={"study": sc.study.model_copy(update={"preset": "NO"}), "campaigns": [c]})


def counts(row) -> dict[str, int]:
    return {n: getattr(row, n) for n in NORM}


def test_a_live_day_over_http_keeps_the_rows_of_the_simulated_day(served, url, tmp_path):
    sc = tiny_under_no()
    national = tmp_path / "national.csv"
    national.write_text("phone\n+4798765432\n")  # washed this month: the day is not dialled with a stale register
    with Records(url) as st:
        import_register(st, H, national, "national", dt.datetime(2026, 11, 2, 8, tzinfo=dt.timezone.utc))
    expected = simulate(sc, seed=5)
    (day,) = expected.campaigns[0].days
    log = DialLog(sc)
    simulated = simulate(sc, seed=5, observer=log)
    got = emulate(sc, served.url, seed=5, token=TOKEN, prefix="live")
    assert got.to_json() == expected.to_json() == simulated.to_json()
    with Records(url) as st:  # the simulated day beside it, as `dialer simulate --store` records it
        record(st, sc, simulated, log.rows())
    with Records(url, readonly=True) as st:
        (live,) = st.days("live-sales")
        (sim,) = st.days("sales")
        assert (live.day, live.simulated, sim.day, sim.simulated) == (day.date, False, day.date, True)
        assert counts(live) == counts(sim) == {n: getattr(day.stats, n) for n in NORM}
        assert day.stats.attempted > 50 and day.stats.reserved_dials < day.stats.attempted  # it dialled ahead
        dials = st.dials("live-sales")
        assert len(dials) == day.stats.attempted and len(log.rows()) == day.stats.attempted
        assert all(d.number_hash and d.outcome and not d.simulated for d in dials)  # every number hashed, every call over
        assert sum(d.reserved for d in dials) == day.stats.reserved_dials
        assert sorted(d.outcome for d in dials) == sorted(d.outcome for d in st.dials("sales"))
        assert len({d.number_hash for d in dials}) == len({(d.number_hash) for d in dials})
        info = st.info("live-sales")
        assert (info.source, info.preset, info.timezone, info.caller_id) == ("live", "NO", "Europe/Oslo", "+4722334455")
        audit = build_audit(st, get_preset("NO"), "live-sales", day.date, day.date)
    assert audit.live.dials == audit.live.numbered == day.stats.attempted and audit.flags == []
    text = "\n".join(text_lines(audit))
    assert f"live: {day.stats.attempted:,} dials checked against hours and registers" in text
    assert "caller ID: +4722334455 (declared by the live campaign, norm 4.4.2)" in text
    assert "registers screened at dial time: on" in text


def test_a_retried_batch_is_counted_once_and_outcomes_follow_their_dials(served, url):
    import httpx

    t = dt.datetime(2026, 11, 24, 10, tzinfo=dt.timezone.utc).timestamp()
    http = httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert http.put("/campaigns/retry", json=NO).status_code == 201
    first = [{"id": 1, "type": "AgentLoggedIn", "time": t, "agent": "ann"},
             {"id": 2, "type": "DialPlaced", "time": t + 1, "call": 1, "lead": "912 34 567", "agent": "ann"},
             {"id": 3, "type": "CallAnswered", "time": t + 9, "call": 1, "human": True}]
    for _ in range(3):  # the answer was lost: the dialer sends the batch again, twice
        assert http.post("/campaigns/retry/events", json={"events": first}).status_code == 200
    with Records(url, readonly=True) as st:
        (row,) = st.days("retry")
        assert counts(row) == {"attempted": 1, "answered": 1, "connected": 1, "transferred": 0, "abandoned": 0}
        (dial,) = st.dials("retry")
        assert (dial.outcome, dial.reserved, dial.number_hash) == (None, True, H.number("+4791234567"))
    later = [{"id": 4, "type": "CallConnected", "time": t + 9.5, "call": 1, "agent": "ann"},
             {"id": 5, "type": "CallEnded", "time": t + 99, "call": 1}]
    assert http.post("/campaigns/retry/events", json={"events": later}).status_code == 200
    with Records(url, readonly=True) as st:
        assert counts(st.days("retry")[0])["transferred"] == 1
        assert st.dials("retry")[0].outcome == "transferred"  # the outcome reaches the dial of an earlier batch
    http.close()


def test_records_are_committed_with_their_journal_entries_or_not_at_all(url):
    store = Store(url, sqlite_sync="normal")
    try:
        service = Service(store, hasher=H, policy_cache=False)
        c, _ = service.create("atomic", NO)
        t = dt.datetime(2026, 11, 24, 10, tzinfo=dt.timezone.utc).timestamp()
        c.submit([{"id": 1, "type": "AgentLoggedIn", "time": t, "agent": "ann"},
                  {"id": 2, "type": "DialPlaced", "time": t + 1, "call": 1, "lead": "+4790000001", "agent": "ann"}])
        # someone else's row where the campaign's next entry goes: the next journal write fails
        from dialer.live.store import journal

        with store.engine.begin() as conn:
            conn.execute(journal.insert().values(campaign="atomic", seq=c.seq + 1, kind="decide", event_id=None,
                                                 body='{"now": 0}'))
        with pytest.raises(DialerError, match="the store refused the batch"):
            c.submit([{"id": 3, "type": "CallFailed", "time": t + 20, "call": 1, "reason": "busy"},
                      {"id": 4, "type": "DialPlaced", "time": t + 21, "call": 2, "lead": "+4790000002", "agent": "ann"}])
        with Records(url, readonly=True) as st:
            assert counts(st.days("atomic")[0])["attempted"] == 1  # the refused batch added nothing
            assert [(d.journal_seq, d.outcome) for d in st.dials("atomic")] == [(2, None)]
        service.shutdown()
    finally:
        store.close()


def test_a_restart_keeps_following_the_calls_in_flight(url):
    t = dt.datetime(2026, 11, 24, 10, tzinfo=dt.timezone.utc).timestamp()
    store = Store(url, sqlite_sync="normal")
    service = Service(store, hasher=H, policy_cache=False)
    c, _ = service.create("restart", NO)
    c.submit([{"id": 1, "type": "AgentLoggedIn", "time": t, "agent": "ann"},
              {"id": 2, "type": "DialPlaced", "time": t + 1, "call": 7, "lead": "+4790000001", "agent": None}])
    service.shutdown()
    store.close()
    store = Store(url, sqlite_sync="normal")  # the process restarts: the campaign is replayed, the records kept
    service = Service(store, hasher=H, policy_cache=False)
    service.get("restart").submit([{"id": 3, "type": "CallAnswered", "time": t + 5, "call": 7, "human": True},
                                   {"id": 4, "type": "CallAbandoned", "time": t + 8, "call": 7}])
    service.shutdown()
    store.close()
    with Records(url, readonly=True) as st:
        assert counts(st.days("restart")[0]) == {"attempted": 1, "answered": 1, "connected": 1, "transferred": 0,
                                                 "abandoned": 1}
        assert [(d.outcome, d.reserved) for d in st.dials("restart")] == [("abandoned", False)]


def test_the_dialers_broken_promises_are_recorded_for_the_audit(url):
    t = dt.datetime(2026, 11, 24, 10, tzinfo=dt.timezone.utc).timestamp()
    store = Store(url, sqlite_sync="normal")
    service = Service(store, hasher=H, policy_cache=False)
    c, _ = service.create("broken", NO)
    # a reserved call abandoned: its agent was waiting for it (applied, since it happened, and counted)
    c.submit([{"id": 1, "type": "AgentLoggedIn", "time": t, "agent": "ann"},
              {"id": 2, "type": "DialPlaced", "time": t + 1, "call": 1, "lead": "+4790000001", "agent": "ann"},
              {"id": 3, "type": "CallAnswered", "time": t + 5, "call": 1, "human": True},
              {"id": 4, "type": "CallAbandoned", "time": t + 7, "call": 1}])
    assert c.promise_breaks()["counts"]["abandoned_reserved"] == 1
    service.shutdown()
    store.close()
    day = dt.date(2026, 11, 24)
    with Records(url, readonly=True) as st:
        audit = build_audit(st, get_preset("NO"), "broken", day, day)
    assert audit.promise_breaks == {"abandoned_reserved": 1}
    assert "broken promises of the dialer (live days; integration guide, 'What your dialer promises in return'): " \
           "abandoned_reserved 1" in "\n".join(text_lines(audit))
