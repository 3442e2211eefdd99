"""A restarted service takes the Predictive pacer's solved policies from the disk cache: the
restore replays the day's decisions without solving them again, and decides exactly the same."""

from __future__ import annotations

from dialer.core.solver import PacingSolver
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
    config = {"mode": "predictive", "pacer": {"settle": 0.0}}
    first_solver = PacingSolver()  # each Service below solves with a solver of its own, as a new process would
    with Store(path) as store:
        svc = Service(store, solver=first_solver)
        live, _ = svc.create("p", config)
        t = feed(live)
        state = (live.floor(), live.ledger(t), live.seq)
        first = live.decide(t)  # a decision alone: not flushed (Rule 2 of campaign.py), so not replayed
        assert first_solver.solved, "the day solved no policy: the test would prove nothing"
        assert svc.save_policies() >= 1

    warm = PacingSolver()  # a new process: nothing solved yet
    with Store(path) as store:
        back = Service(store, solver=warm).get("p")
        assert warm.solved == 0 and warm.policies()  # every policy the replay needed came from the disk cache
        assert (back.floor(), back.ledger(t), back.seq) == state
        assert back.decide(t) == first

    cold = PacingSolver()  # and with the cache off the same state is rebuilt, by solving
    with Store(path) as store:
        again = Service(store, policy_cache=False, solver=cold).get("p")
        assert cold.solved and (again.floor(), again.ledger(t)) == state[:2]
