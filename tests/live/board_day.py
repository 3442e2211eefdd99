"""A small day of events for the board's tests (tests/live/test_board*.py): one minute at a time."""

from __future__ import annotations


def minute_of_calls(k: int, t0: float, prefix: str = "") -> list[dict]:
    """Minute k of a small day for agent ann: a dial put through, a dial not answered, and every third
    minute a live answer abandoned while ann talks."""
    base = t0 + 60.0 * k
    a, b, c = (f"{prefix}{k}a", f"{prefix}{k}b", f"{prefix}{k}c")
    evs = [("DialPlaced", 1, {"call": a, "lead": f"+479000{k:04d}", "agent": None}),
           ("DialPlaced", 1.5, {"call": b, "lead": f"+479100{k:04d}", "agent": None}),
           ("CallFailed", 5, {"call": b, "reason": "no_answer"}),
           ("CallAnswered", 10, {"call": a, "human": True}),
           ("CallConnected", 11, {"call": a, "agent": "ann"}),
           ("CallEnded", 40, {"call": a}),
           ("AgentReady", 45, {"agent": "ann"})]
    if k % 3 == 2:
        evs += [("DialPlaced", 2, {"call": c, "lead": f"+479200{k:04d}", "agent": None}),
                ("CallAnswered", 12, {"call": c, "human": True}),
                ("CallAbandoned", 13, {"call": c})]
    evs.sort(key=lambda e: e[1])
    return [{"id": f"{prefix}{k}-{i}", "type": tp, "time": base + dt, **kw} for i, (tp, dt, kw) in enumerate(evs)]
