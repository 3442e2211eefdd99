"""A restarted service takes the Predictive pacer's solved policies from the disk cache: the
restore replays the day's decisions without solving them again, and decides exactly the same."""

from __future__ import annotations

from dialer import policy_cache
from dialer.live.service import Service
from dialer.live.store import Store


def feed(c, agents=8, rounds=30):
    """Agents log in; each round a decision, its dials placed, and the oldest dials beyond six ring out."""
    c.submit([{"id": f"in{i}", "type": "AgentLoggedIn", "time": 0.0, "agent": f"a{i}"} for i in range(agents)])
    ringing: list[int] = []
    call, t = 0, 10.0
    for _ in range(rounds):
        batch = []
        for _ in range(c.decide(t).unreserved):
            call += 1
            ringing.append(call)
            batch.append({"id": f"d{call}", "type": "DialPlaced", "time": t, "call": call, "lead": call})
        while len(ringing) > 6:
            k = ringing.pop(0)
            batch.append({"id": f"f{k}", "type": "CallFailed", "time": t + 1.0, "call": k, "reason": "no_answer"})
        c.submit(batch)
        t += 2.0
    return t


def test_a_restore_solves_nothing_the_cache_holds(tmp_path, monkeypatch):
    monkeypatch.setenv("DIALER_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "live.sqlite"
    # waiting for solves: the same decisions whatever the worker's speed (the restore compares them)
    config = {"mode": "predictive", "pacer": {"settle": 0.0}, "wait_for_solves": True}
    with Store(path) as store:
        svc = Service(store)  # each Service has its solver and worker, as a new process would
        live, _ = svc.create("p", config)
        t = feed(live)
        state = (live.floor_dict(), live.ledger_dict(t), live.seq)
        first = live.decide(t)  # a decision alone: not flushed (Rule 2 of campaign.py), so not replayed
        assert svc.solver.solved, "the day solved no policy: the test would prove nothing"
        svc.shutdown()  # saves what it solved to the disk cache
    assert policy_cache.location().exists()

    with Store(path) as store:
        again = Service(store)  # reads the disk cache before it replays the journal
        back = again.get("p")
        assert again.solver.solved == 0 and again.solver.policies()  # every policy the replay needed was on disk
        assert (back.floor_dict(), back.ledger_dict(t), back.seq) == state
        assert back.decide(t) == first
        again.shutdown()

    with Store(path) as store:  # and with the cache off the same state is rebuilt, by solving
        cold = Service(store, policy_cache=False)
        restored = cold.get("p")
        assert cold.solver.solved and (restored.floor_dict(), restored.ledger_dict(t)) == state[:2]
        cold.shutdown()
