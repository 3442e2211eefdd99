"""A live campaign's policies are solved off the decision path, in a real worker process, and kept on disk."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from dialer import policy_cache
from dialer.core.solver import PacingSolver
from dialer.live import CampaignConfig, LiveCampaign
from dialer.live.warmer import Warmer, neighbours
from dialer.live.worker import Worker, WorkerDied


def feed(c: LiveCampaign, agents: int = 6, rounds: int = 12) -> float:
    """Agents log in and take calls (budget for the envelope), then a few dials ring."""
    c.submit([{"id": f"in{i}", "type": "AgentLoggedIn", "time": 0.0, "agent": f"a{i}"} for i in range(agents)])
    t = 1.0
    for n in range(rounds):
        a = f"a{n % agents}"
        c.submit([
            {"id": f"d{n}", "type": "DialPlaced", "time": t, "call": f"c{n}", "lead": f"l{n}", "agent": a},
            {"id": f"h{n}", "type": "CallAnswered", "time": t + 5, "call": f"c{n}", "human": True},
            {"id": f"k{n}", "type": "CallConnected", "time": t + 5, "call": f"c{n}", "agent": a},
            {"id": f"e{n}", "type": "CallEnded", "time": t + 60, "call": f"c{n}"},
            {"id": f"r{n}", "type": "AgentReady", "time": t + 70, "agent": a},
        ])
        t += 71.0
    return t


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DIALER_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_a_campaign_never_solves_on_its_own_thread_and_then_decides_as_a_waiting_one(cache):
    solver = PacingSolver(wait=False)  # the theory's functions: solved in a child process
    warmer = Warmer(solver)
    try:
        config = CampaignConfig(mode="predictive", pacer={"settle": 0.0})
        live = LiveCampaign(config, solver=solver)
        t = feed(live)
        first = live.decide(t)  # nothing solved yet: Power with the agents pooled, and the points asked for
        assert first.unreserved == 6 and first.reserve == ()
        assert warmer.settle(timeout=300)
        assert solver.solved >= 8  # the corners around the floor, and their neighbours, delivered by the worker
        waiting = LiveCampaign(CampaignConfig(mode="predictive", pacer={"settle": 0.0}, wait_for_solves=True),
                               solver=PacingSolver())
        feed(waiting)
        assert live.decide(t) == waiting.decide(t)  # once solved, the very decision a waiting campaign makes
    finally:
        warmer.close()
    # what was solved went to the disk cache (from the worker): a new warmer starts with it
    assert policy_cache.location().exists()
    again = PacingSolver(wait=False)
    later = Warmer(again)
    try:
        assert again.policies() and set(solver.policies()) <= set(again.policies())
    finally:
        later.close()


def test_a_worker_that_dies_is_replaced(cache):
    w = Worker()
    try:
        assert w.submit(pow, 2, 10).result(timeout=60) == 1024
        proc = w._proc  # (the reader thread forgets it once it notices the death)
        os.kill(proc.pid, signal.SIGKILL)  # type: ignore[union-attr]
        proc.wait()  # type: ignore[union-attr]
        fut = w.submit(pow, 3, 3)
        try:
            assert fut.result(timeout=60) == 27
        except WorkerDied:  # sent to the dead one before the reader noticed: the next call gets a new one
            assert w.submit(pow, 3, 3).result(timeout=60) == 27
    finally:
        w.close()


def test_large_calls_and_replies_in_flight_together_do_not_deadlock():
    """Found by benchmarks/decisions.py (the warmer sends the whole cache to be saved, a day plan comes back):
    `submit` held the lock while its write waited for the child to read, the reader needed that lock to hand
    over a reply, and the child, writing that reply, read nothing more: all three waited for ever (and
    `close`, which takes the lock too, with them)."""
    w = Worker()
    big = b"x" * 1_000_000  # each way far more than a pipe holds (64 KiB)
    futures: list = []
    sender = threading.Thread(target=lambda: futures.extend(w.submit(bytes, big) for _ in range(20)), daemon=True)
    sender.start()
    sender.join(timeout=120)
    try:
        assert not sender.is_alive(), "submit never returned: the pipes are deadlocked"
        assert [len(f.result(timeout=120)) for f in futures] == [len(big)] * 20
    finally:
        proc = w._proc
        if sender.is_alive() and proc is not None:  # unblock the old code's threads so the test can end
            proc.kill()
        w.close(wait=False)


def test_an_exception_in_the_worker_reaches_the_caller():
    w = Worker()
    try:
        with pytest.raises(ValueError):
            w.submit(int, "not a number").result(timeout=60)
    finally:
        w.close()


def test_neighbours_stay_on_the_lattice():
    assert sorted(neighbours("policy", (1, 0, -3, 1, 0.1))) == [(1, -1, -3, 1, 0.1), (1, 0, -4, 1, 0.1),
                                                                (1, 0, -3, 2, 0.1), (1, 0, -2, 1, 0.1),
                                                                (2, 0, -3, 1, 0.1)]
    plans = neighbours("plan", (5, -10, -20, 0.05, 720, 0.1))
    assert (5, -12, -20, 0.05, 720, 0.1) in plans and (4, -10, -20, 0.05, 720, 0.1) in plans and len(plans) == 6


def test_a_waiting_solver_cannot_be_warmed():
    with pytest.raises(ValueError, match="does not wait"):
        Warmer(PacingSolver())
