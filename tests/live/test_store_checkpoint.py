"""The store's own checkpointer: SQLite's automatic checkpoint is off, the thread's checkpoints copy the
WAL into the database and start it over, and nothing committed is lost or reordered on the way."""

from __future__ import annotations

import os
import sqlite3
import threading

import dialer.live.store as store_mod
from dialer.live.store import Store


def test_automatic_checkpoints_are_off_on_the_stores_connections(tmp_path):
    with Store(tmp_path / "s.sqlite") as st:
        raw = st.engine.raw_connection()
        try:
            assert raw.cursor().execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        finally:
            raw.close()
        assert st._checkpointer is not None


def test_checkpoints_restart_the_wal_and_keep_every_committed_entry_in_order(tmp_path, monkeypatch):
    monkeypatch.setattr(store_mod, "RESTART_PAGES", 50)
    path = tmp_path / "s.sqlite"
    with Store(path, sqlite_sync="normal") as st:
        def feed(name: str) -> None:
            for seq in range(1, 301):
                st.append(name, seq, [("event", f"{name}-{seq}", {"n": seq, "pad": "x" * 200})])
                if seq % 50 == 0:
                    st._checkpointer.checkpoint()  # as the thread does, here racing the other writers

        threads = [threading.Thread(target=feed, args=(f"c{i}",)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert st._checkpointer.restarts > 0
        wal = os.path.getsize(str(path) + "-wal")
        for i in range(3):
            assert [(s, ev) for s, _, ev, _ in st.entries(f"c{i}")] == [(s, f"c{i}-{s}") for s in range(1, 301)]
    # 900 commits write at least 900 pages (4 KiB frames) into the WAL: it was started over on the way
    assert wal < 900 * 4096
    # reopened by plain sqlite3 (the database file alone after the close's final checkpoint): all there
    with sqlite3.connect(path) as c:
        assert c.execute("SELECT count(*) FROM live_journal").fetchone()[0] == 900


def test_the_thread_checkpoints_after_enough_commits(tmp_path, monkeypatch):
    monkeypatch.setattr(store_mod, "CHECKPOINT_COMMITS", 5)
    with Store(tmp_path / "s.sqlite", sqlite_sync="normal") as st:
        for seq in range(1, 21):
            st.append("a", seq, [("event", f"e{seq}", {"n": seq})])
        ck = st._checkpointer
        for _ in range(200):
            if ck.checkpoints:
                break
            threading.Event().wait(0.01)
        assert ck.checkpoints >= 1 and ck.failures == 0


def test_the_checkpoint_counters_are_prometheus_metrics(tmp_path, monkeypatch):
    from prometheus_client.parser import text_string_to_metric_families

    from dialer.live.metrics import render_metrics
    from dialer.live.service import Service

    with Store(tmp_path / "s.sqlite", sqlite_sync="normal") as st:
        svc = Service(st)
        svc.get(svc.create("a", {"mode": "power"})[0].name).decide(0.0, [
            {"id": "e1", "type": "AgentLoggedIn", "time": 0.0, "agent": "ann"}])
        st._checkpointer.checkpoint()
        text = render_metrics(svc.all(), st.checkpoint_counts())
    found = {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples}
    assert found["dialer_store_checkpoints_total"] >= 1
    assert found["dialer_store_checkpoint_failures_total"] == 0 and "dialer_store_wal_restarts_total" in found
