"""Staffing search: the smallest floor that works through a list in time, abandon limit held.

Owns: what "enough agents" means (in at least `confidence` of the
replications, `finish` of the leads finished within the calendar and no
campaign-day over the abandon limit), the starting bracket from queueing
theory, and the monotone search (gallop, then bisect) over the number of
agents, each point judged on replications with common seeds.
Must not know about: printing, files, where runs execute (dialer.plan.execute).

    result = staff_search(scenario.default(), leads=40000, within=5, confidence=0.9)
    result                     # per mode: the agents needed, and every point tried

The definitions in full, why common seeds make bisection sound, and where
the bracket starts: docs/design.md, "Planning".
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any, Callable

from dialer import limits
from dialer.checks import check
from dialer.errors import bad
from dialer.plan.execute import Backend, RunCache, Session, run_tasks
from dialer.plan.runs import make_task
from dialer.plan.study import floor_size, set_agents
from dialer.theory.calculators import first_true

#: the largest floor the search tries: the largest agent group a scenario may have
MAX_AGENTS = limits.MAX_AGENTS


@dataclass
class ModeSearch:
    mode: str
    start: int  # theory's estimate
    required: int | None  # None: not found up to MAX_AGENTS
    points: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class StaffResult:
    scenario: dict[str, Any]  # with the leads and the calendar asked for
    campaign: str
    leads: int
    days: int
    confidence: float
    finish: float
    replications: int
    seed: int
    searches: list[ModeSearch]
    computed: int = 0
    cached: int = 0

    def rows(self) -> list[dict[str, Any]]:
        return [p for s in self.searches for p in sorted(s.points, key=lambda r: r["agents"])]


def wilson(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (95 % by default)."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half)))


def expected_attempts(campaign: Any, probs: dict[str, float]) -> float:
    """Mean dials per lead: a lead is dialled again after an outcome whose retry delay is not false,
    up to max_attempts (abandons are rare and ignored here)."""
    r = campaign.retry
    q = 0.0
    for outcome, key in (("no_answer", "no_answer_prob"), ("busy", "busy_prob"), ("machine", "machine_prob")):
        if getattr(r, outcome) is not False:
            q += probs[key]
    return sum(q**k for k in range(r.max_attempts))


def theory_start(scenario: Any, campaign_name: str, mode: str) -> int:
    """Agents theory says the list needs over the calendar (at least 1)."""
    from dialer.theory import campaign_picture, progressive
    from dialer.plan.analytic import campaign_means, overlap

    camp = next(c for c in scenario.campaigns if c.name == campaign_name)
    m = campaign_means(scenario, camp)
    if m["handle_time"] <= 0 or m["live_prob"] <= 0:
        return 1
    dials = camp.leads * expected_attempts(camp, m)
    pw = progressive(m["handle_time"], m["ring_time"], m["live_prob"], m["failed_ring_time"] or m["ring_time"])
    per_agent_hour = pw.dials_per_agent_hour
    groups = scenario.agents_of(campaign_name)
    largest = max(g.count for g in groups)
    window = tuple(scenario.study.hours)
    hours_per_n = sum(g.count / largest * overlap(scenario.shift_of(g), window) for g in groups) / 3600.0
    hours = hours_per_n * scenario.study.days
    if hours <= 0:
        return 1
    n = max(1, math.ceil(dials / (per_agent_hour * hours)))
    if mode != "power":
        try:
            opt = campaign_picture(n, m["handle_time"], m["dial_time"], m["live_prob"], m["abandon_limit"])["optimal"]
            if opt["dials_per_agent_hour"] > 0:
                n = max(1, math.ceil(dials / (opt["dials_per_agent_hour"] * hours)))
        except (ValueError, ArithmeticError):  # theory out of its range: Power's estimate will do
            pass
    return min(n, MAX_AGENTS)


def _with_mode(data: dict[str, Any], campaign: str, mode: str) -> dict[str, Any]:
    d = copy.deepcopy(data)
    c = next(c for c in d["campaigns"] if c["name"] == campaign)
    if c["mode"] != mode:
        c["mode"] = mode
        c["pacer"] = {}
    return d


def staff_search(
    scenario: Any,
    *,
    leads: int,
    within: int,
    confidence: float = 0.9,
    replications: int = 10,
    seed: int = 0,
    modes: tuple[str, ...] = ("power", "predictive"),
    campaign: str | None = None,
    finish: float = 0.99,
    backend: Backend = Backend("serial"),
    cache: RunCache | None = None,
    progress: Callable[[str], None] | None = None,
) -> StaffResult:
    from dialer.core.modes import PACERS
    from dialer.sim.scenario import from_dict

    check("--leads", leads, limits.LEADS)
    check("--within", within, limits.DAYS)
    check("--replications", replications, limits.REPLICATIONS)
    if not 0 < confidence < 1:
        raise bad("--confidence", confidence, "a fraction strictly between 0 and 1")
    if not 0 < finish <= 1:
        raise bad("--finish", finish, "a fraction in (0, 1]")
    for m in modes:
        if m not in PACERS:
            raise bad("--modes", m, f"one of {', '.join(PACERS)}")
    names = [c.name for c in scenario.campaigns]
    name = campaign or names[0]
    if name not in names:
        raise bad("--campaign", name, f"a campaign of the scenario ({', '.join(names)})")
    data = scenario.model_dump(mode="json")
    next(c for c in data["campaigns"] if c["name"] == name)["leads"] = leads
    data["study"]["days"] = within
    from_dict(data, source="staffing scenario")  # the leads and days asked for are checked here
    if floor_size(data, name) == 0:
        raise bad("--campaign", name, "a campaign with at least one agent group")
    need = math.ceil(confidence * replications - 1e-9)
    result = StaffResult(data, name, leads, within, confidence, finish, replications, seed, [])
    with Session(backend) as session:
        for mode in modes:
            mdata = _with_mode(data, name, mode)
            start = theory_start(from_dict(mdata, source=f"mode {mode!r}"), name, mode)
            search = ModeSearch(mode, start, None)
            tried: dict[int, bool] = {}

            def enough(n: int) -> bool:
                if n in tried:
                    return tried[n]
                d = copy.deepcopy(mdata)
                set_agents(d, name, n)
                dump = from_dict(d, source=f"mode {mode!r}, {n} agents").model_dump(mode="json")
                tasks = [make_task(dump, seed + r) for r in range(replications)]
                res, stats = run_tasks(tasks, backend=backend, cache=cache, session=session)
                result.computed += stats.computed
                result.cached += stats.cached
                rows = [next(c for c in out["campaigns"] if c["campaign"] == name) for out in res]
                ok = [r["leads_finished_share"] >= finish - 1e-12 and r["violation_days"] == 0 for r in rows]
                k = sum(ok)
                lo, hi = wilson(k, replications)
                search.points.append({
                    "mode": mode, "agents": n, "replications": replications, "successes": k,
                    "success": k / replications, "success_low": lo, "success_high": hi,
                    "enough": k >= need,
                    "finished_share": sum(r["leads_finished_share"] for r in rows) / replications,
                    "violation_replications": sum(r["violation_days"] > 0 for r in rows),
                    "max_day_abandon_rate": max(r["max_day_abandon_rate"] for r in rows),
                    "abandon_rate": sum(r["abandon_rate"] for r in rows) / replications,
                    "connects_per_agent_hour": sum(r["connects_per_agent_hour"] for r in rows) / replications,
                    "agent_utilization": sum(r["agent_utilization"] for r in rows) / replications,
                    "theory_start": start,
                })
                tried[n] = k >= need
                if progress:
                    progress(f"{mode}: {n} agents, {k}/{replications} replications succeed")
                return tried[n]

            def score(n: int) -> float:
                return next(p["finished_share"] for p in search.points if p["agents"] == n)

            search.required = _smallest(enough, start, score)
            result.searches.append(search)
    return result


def _smallest(enough: Callable[[int], bool], start: int, score: Callable[[int], float]) -> int | None:
    """Smallest n >= 1 with enough(n), for a monotone `enough`: gallop from `start`, then bisect.

    None when more agents stop helping: two doublings in a row that raise `score` (the
    share of leads finished) by less than 0.2 points, or MAX_AGENTS reached. That happens
    when the calendar, not the floor, is the limit (retry delays longer than what is left).
    """
    step = max(1, round(0.15 * start))
    if enough(start):
        hi, lo = start, None
        while lo is None:
            probe = max(1, hi - step)
            if probe == hi:
                return hi  # enough with a single agent
            if enough(probe):
                hi, step = probe, step * 2
            else:
                lo = probe
    else:
        lo, hi = start, None
        flat = 0
        while hi is None:
            probe = min(MAX_AGENTS, lo + step)
            if enough(probe):
                hi = probe
            elif probe >= MAX_AGENTS:
                return None
            else:
                flat = flat + 1 if score(probe) - score(lo) < 0.002 else 0
                if flat >= 2:
                    return None
                lo, step = probe, step * 2
    return first_true(enough, lo, hi)


def staff_json(result: StaffResult) -> dict[str, Any]:
    return {
        "campaign": result.campaign,
        "leads": result.leads,
        "within_days": result.days,
        "confidence": result.confidence,
        "finish": result.finish,
        "replications": result.replications,
        "seeds": [result.seed, result.seed + result.replications - 1],
        "modes": {
            s.mode: {"required_agents": s.required, "theory_start": s.start,
                     "points": sorted(s.points, key=lambda r: r["agents"])}
            for s in result.searches
        },
    }
