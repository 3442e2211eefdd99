"""The store's group commit: requests written together in one transaction, and a failure in a group
stays the failing request's own (the others are committed)."""

from __future__ import annotations

import threading

from dialer.live.store import Store, _Write


def rows(campaign: str, seq: int, ev_id: str) -> list[dict]:
    return [{"campaign": campaign, "seq": seq, "kind": "event", "event_id": f'"{ev_id}"', "body": "{}"}]


def test_a_group_with_a_bad_request_commits_the_others_and_fails_only_that_one(tmp_path):
    with Store(tmp_path / "g.sqlite") as st:
        st.append("a", 1, [("event", "e1", {"type": "x"})])
        group = [_Write(rows("b", 1, "f1")), _Write(rows("a", 1, "e9")), _Write(rows("c", 1, "g1"))]  # a/1 exists
        st._commit(group)
        assert all(w.done for w in group)
        assert [w.error is None for w in group] == [True, False, True]
        assert "UNIQUE" in group[1].error
        assert [e[0] for e in st.entries("b")] == [1] and [e[0] for e in st.entries("c")] == [1]
        assert [e[2] for e in st.entries("a")] == ["e1"]


def test_concurrent_appends_are_all_committed_once_and_in_order(tmp_path):
    with Store(tmp_path / "g.sqlite", sqlite_sync="normal") as st:
        def feed(name: str) -> None:
            for seq in range(1, 41):
                st.append(name, seq, [("event", f"{name}-{seq}", {"n": seq})])

        threads = [threading.Thread(target=feed, args=(f"c{i}",)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for i in range(6):
            assert [(s, ev_id) for s, _, ev_id, _ in st.entries(f"c{i}")] == [(s, f"c{i}-{s}") for s in range(1, 41)]
