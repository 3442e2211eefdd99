"""One simulation run as a unit of work: a task in, tidy rows out, a key for the cache.

Owns: the task (a scenario dump plus a seed, plain JSON, so it travels to a
Dask worker on another machine and hashes the same everywhere), `execute`
(the function every backend runs), the rows a run yields (one per campaign,
one per campaign-day), the statistics those rows carry, and the cache key:
a hash of the task and of the simulator's code.

Must not know about: where a task runs (serially, on a local cluster, on a
remote scheduler: dialer.plan.execute), variations and sweeps
(dialer.plan.study), printing and files. A task's result is plain JSON data,
so it is cached, shipped and compared exactly: floats survive JSON
round-trips bit for bit.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from pathlib import Path
from typing import Any

#: the statistics of one campaign over one run, in the order tables print them
RUN_STATISTICS = (
    "attempted",
    "answered",
    "connected",
    "transferred",
    "abandoned",
    "no_answer",
    "busy",
    "invalid",
    "machine",
    "abandon_rate",
    "max_day_abandon_rate",
    "violation_days",
    "live_rate",
    "agent_utilization",
    "connects_per_agent_hour",
    "mean_idle_between_calls",
    "mean_abandon_silence",
    "logged_in_hours",
    "leads_dialled",
    "leads_transferred",
    "leads_exhausted",
    "leads_pending_retry",
    "leads_never_dialled",
    "leads_finished_share",
)

#: the range of each statistic (confidence intervals are clipped to it)
BOUNDS = {
    s: ((0.0, 1.0) if s.endswith(("_rate", "_share", "utilization")) else (0.0, math.inf)) for s in RUN_STATISTICS
}

#: the statistics of one campaign-day
DAY_STATISTICS = (
    "attempted",
    "connected",
    "transferred",
    "abandoned",
    "abandon_rate",
    "agent_utilization",
    "connects_per_agent_hour",
    "logged_in_hours",
)


def make_task(scenario_dump: dict[str, Any], seed: int, trace: float | None = None) -> dict[str, Any]:
    """A run: the scenario as plain data (`Scenario.model_dump(mode='json')`), the seed, and
    the trace interval in seconds (None: no trace)."""
    return {"scenario": scenario_dump, "seed": int(seed), "trace": trace}


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """A hash of the code a run depends on (core, rules, sim, theory, this module) and the package version.

    Editing the engine or a pacer changes it, so cached runs of the old code are never reused.
    """
    from dialer._version import __version__

    root = Path(__file__).resolve().parents[1]  # the dialer package
    h = hashlib.sha256(__version__.encode())
    files = sorted(
        p for sub in ("core", "rules", "sim", "theory") for p in (root / sub).rglob("*.py")
    ) + [Path(__file__), root / "errors.py"]
    for p in files:
        h.update(str(p.relative_to(root)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def task_key(task: dict[str, Any]) -> str:
    """The cache key of a run: sha256 of the task (canonical JSON) and the code version."""
    text = json.dumps({"task": task, "code": code_version()}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _campaign_row(c: Any) -> dict[str, Any]:
    t = c.totals
    rep = t.report()
    row: dict[str, Any] = {"campaign": c.name, "mode": c.mode, "abandon_limit": c.abandon_limit, "days": len(c.days)}
    for k in RUN_STATISTICS:
        if k in rep:
            row[k] = rep[k]
    row["max_day_abandon_rate"] = max((d.stats.abandon_rate for d in c.days), default=0.0)
    row["violation_days"] = c.violation_days
    row["live_rate"] = t.connected / t.attempted if t.attempted else 0.0
    lv = c.leads
    row["leads_total"] = lv.total
    row["leads_dialled"] = lv.dialled
    row["leads_transferred"] = lv.transferred
    row["leads_exhausted"] = lv.exhausted
    row["leads_pending_retry"] = lv.pending_retry
    row["leads_never_dialled"] = lv.never_dialled
    row["leads_finished_share"] = (lv.transferred + lv.exhausted) / lv.total if lv.total else 1.0
    return row


def _day_rows(c: Any) -> list[dict[str, Any]]:
    rows = []
    for i, d in enumerate(c.days):
        rep = d.stats.report()
        row: dict[str, Any] = {"campaign": c.name, "mode": c.mode, "day": i, "date": d.date.isoformat()}
        for k in DAY_STATISTICS:
            row[k] = rep[k]
        row["abandon_limit"] = c.abandon_limit
        row["over_limit"] = bool(d.stats.abandoned > c.abandon_limit * d.stats.connected)
        rows.append(row)
    return rows


def execute(task: dict[str, Any]) -> dict[str, Any]:
    """Run one task: {"campaigns": [row per campaign], "days": [row per campaign-day], "trace": [...]}.

    Runs anywhere the package is installed (a Dask worker included); the same
    task gives the same result, bit for bit.
    """
    from dialer.sim.scenario import from_dict
    from dialer.sim.trace import simulate_traced

    scenario = from_dict(task["scenario"], source="task")
    result, trace, _ = simulate_traced(scenario, task["seed"], interval=task.get("trace"))
    out: dict[str, Any] = {
        "campaigns": [_campaign_row(c) for c in result.campaigns],
        "days": [r for c in result.campaigns for r in _day_rows(c)],
    }
    if trace is not None:
        out["trace"] = trace.rows
    return out
