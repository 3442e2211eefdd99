"""The largest fixed ratio that keeps the abandon limit on the scenario's own floor, verified by simulation.

Owns: `verify_ratio` (the search: simulated days of the scenario with one
campaign dialling a fixed ratio, the envelope off, over a grid of ratios),
`VerifiedRatio` (what it found, with its days, its stated confidence and its
worst day), `break_bound` (what 0 of N days over says at a confidence) and
`worth_predictive` (the small-team rule: is Predictive worth it over Power).
Must not know about: the command line, printing, where runs are computed
(dialer.plan.execute does that, with its cache).

The days of every ratio use the same seeds (common random numbers); a ratio
is dropped at its first day over the limit, its most dangerous days first
(those worst at the nearest ratio already simulated), and the ratios are
found by galloping from the Markovian estimate, then bisecting on the grid.

    from dialer.sim.scenario import default
    sc = default(); verify_ratio(sc, sc.campaigns[0], days=60, estimate=3.4).ratio   # e.g. 3.1
"""

from __future__ import annotations

import copy
import math
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable, ContextManager

from dialer.checks import check
from dialer.errors import ConfigError, bad
from dialer.limits import REPLICATIONS
from dialer.plan.execute import Backend, RunCache, Session, run_tasks
from dialer.plan.runs import make_task

#: the ratio grid (the Markovian estimate's too)
STEP = 0.05
#: simulated days by default, and the confidence stated with them
DAYS = 60
CONFIDENCE = 0.95
#: the lowest ratio tried: below one dial per idle agent a fixed ratio is worse than Power
LOWEST = 1.0
#: the highest ratio tried (a floor that keeps the limit above it is not dialling a live list)
HIGHEST = 100.0
#: the small-team rule: Predictive is not worth it when its gain over Power at best is under this share
#: of the agents' time, or under the spread of a day's utilisation (`SPREAD_SDS` standard deviations)
MIN_GAIN = 0.10
SPREAD_SDS = 2.0


def break_bound(days: int, over: int = 0, confidence: float = CONFIDENCE) -> float:
    """The upper `confidence` bound of the per-day probability of breaking the limit, with `over` of
    `days` days over (Clopper-Pearson; with none over it is 1 - (1 - confidence) ** (1 / days))."""
    from scipy import stats

    if days <= 0:
        return 1.0
    if over >= days:
        return 1.0
    return float(stats.beta.ppf(confidence, over + 1, days - over))


@dataclass(frozen=True)
class Trial:
    """One ratio on the days simulated for it: `over` days over the limit among `days`."""

    ratio: float
    days: int
    over: int
    worst: float  # the worst day's abandon rate
    abandon_rate: float  # abandoned / established over those days
    rates: tuple[float, ...]  # each run's worst day, by seed (NaN: not simulated)

    @property
    def safe(self) -> bool:
        return self.over == 0


@dataclass
class VerifiedRatio:
    """What `verify_ratio` found. `ratio` None: even the lowest ratio broke the limit."""

    campaign: str
    ratio: float | None
    days: int  # campaign-days simulated at `ratio`
    confidence: float
    break_bound: float  # the per-day probability of breaking is below this, at `confidence`
    abandon_rate: float | None  # over the days at `ratio`
    worst_day_abandon_rate: float | None
    utilization: float | None  # mean of the days
    utilization_sd: float | None  # between days
    connects_per_agent_hour: float | None
    dials_per_agent_hour: float | None
    first_over: Trial | None  # the lowest ratio tried that broke the limit
    estimate: float | None
    seeds: tuple[int, int]  # first and last seed
    runs: int
    trials: list[Trial] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        fo = self.first_over
        return {
            "campaign": self.campaign,
            "ratio": self.ratio,
            "days": self.days,
            "days_over": 0,
            "confidence": self.confidence,
            "break_probability_below": self.break_bound,
            "abandon_rate": self.abandon_rate,
            "worst_day_abandon_rate": self.worst_day_abandon_rate,
            "utilization": self.utilization,
            "utilization_sd": self.utilization_sd,
            "connects_per_agent_hour": self.connects_per_agent_hour,
            "dials_per_agent_hour": self.dials_per_agent_hour,
            "first_over": None if fo is None else {"ratio": fo.ratio, "days": fo.days, "days_over": fo.over,
                                                   "worst_day_abandon_rate": fo.worst},
            "estimate": self.estimate,
            "seeds": list(self.seeds),
            "runs": self.runs,
            "ratios_tried": [{"ratio": t.ratio, "days": t.days, "days_over": t.over} for t in self.trials],
        }


def ratio_scenario(data: dict[str, Any], campaign: str, ratio: float) -> dict[str, Any]:
    """The scenario (plain data) with `campaign` dialling `ratio` x idle agents, the envelope off."""
    d = copy.deepcopy(data)
    c = next(c for c in d["campaigns"] if c["name"] == campaign)
    c.update(mode="fixed-ratio", pacer={"ratio": ratio}, envelope=False)
    return d


def _grid(k: int) -> float:
    return round(k * STEP, 10)


class _Search:
    """The days of the ratios tried, by seed; runs sent to the backend in batches."""

    def __init__(self, scenario: Any, campaign: str, runs: int, seed: int, batch: int, run: Callable) -> None:
        self.data = scenario.model_dump(mode="json")
        self.campaign = campaign
        self.seeds = list(range(seed, seed + runs))
        self.batch = batch
        self.run = run
        self.results: dict[int, dict[int, list[dict[str, Any]]]] = {}  # grid index -> seed -> day rows
        self.trials: dict[int, Trial] = {}

    def _order(self, k: int) -> list[int]:
        """Seeds, the most dangerous first: the worst days at the nearest ratio already simulated."""
        if not self.results:
            return list(self.seeds)
        near = min(self.results, key=lambda j: (abs(j - k), -j))
        worst = {s: max((r["abandon_rate"] for r in rows), default=0.0) for s, rows in self.results[near].items()}
        return sorted(self.seeds, key=lambda s: (-worst.get(s, -1.0), s))

    def trial(self, k: int, step: Callable[[str, str], ContextManager[Any]] | None) -> Trial:
        if k in self.trials:
            return self.trials[k]
        ratio = _grid(k)
        order = self._order(k)
        done: dict[int, list[dict[str, Any]]] = {}
        words = (f"simulating ratio {ratio:g} on up to {len(order)} runs",
                 f"simulated ratio {ratio:g}")
        with (step(*words) if step else nullcontext()) as say:
            for i in range(0, len(order), self.batch):
                seeds = order[i:i + self.batch]
                tasks = [make_task(ratio_scenario(self.data, self.campaign, ratio), s, trace=None) for s in seeds]
                for s, out in zip(seeds, self.run(tasks)):
                    done[s] = [r for r in out["days"] if r["campaign"] == self.campaign]
                if any(r["over_limit"] for rows in done.values() for r in rows):
                    break
                if callable(say):
                    say(f"simulating ratio {ratio:g}: {len(done)} of {len(order)} runs, no day over the limit yet")
        self.results[k] = done
        rows = [r for s in self.seeds if s in done for r in done[s]]
        if not rows:
            raise ConfigError(f"campaign {self.campaign!r}: the study's calendar must have an open day to "
                              "simulate, got none")
        connected = sum(r["connected"] for r in rows)
        t = Trial(
            ratio=ratio,
            days=len(rows),
            over=sum(1 for r in rows if r["over_limit"]),
            worst=max(r["abandon_rate"] for r in rows),
            abandon_rate=sum(r["abandoned"] for r in rows) / connected if connected else 0.0,
            rates=tuple(max((r["abandon_rate"] for r in done[s]), default=0.0) if s in done else math.nan
                        for s in self.seeds),
        )
        self.trials[k] = t
        return t

    def rows(self, k: int) -> list[dict[str, Any]]:
        return [r for s in self.seeds for r in self.results[k].get(s, [])]


def verify_ratio(
    scenario: Any,
    campaign: Any,
    *,
    days: int = DAYS,
    seed: int = 0,
    estimate: float | None = None,
    confidence: float = CONFIDENCE,
    backend: Backend = Backend("serial"),
    cache: RunCache | None = None,
    session: Session | None = None,
    step: Callable[[str, str], ContextManager[Any]] | None = None,
) -> VerifiedRatio:
    """The largest ratio on the grid (steps of `STEP`) with no day over the campaign's limit in `days`
    simulated campaign-days (runs of the scenario with seeds seed, seed + 1, ...; a run of a study of
    several days gives several), the campaign dialling that fixed ratio with the envelope off.

    `estimate` (default 2) is where the search starts. `step(doing, done)` is a context manager each
    ratio's simulation runs in (a progress line); if it gives a function, that is told how far the
    ratio's runs have gone. Deterministic: the same scenario and seeds give the
    same answer, on any backend.
    """
    check("--days", days, REPLICATIONS)
    if not 0.0 < confidence < 1.0:
        raise bad("confidence", confidence, "between 0 and 1")
    data_days = _open_days(scenario)
    runs = max(1, math.ceil(days / data_days))
    batch = 1 if (session.backend if session else backend).kind == "serial" else 2 * (
        (session.backend if session else backend).workers)
    cache = cache or RunCache(None)

    def run(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results, _ = run_tasks(tasks, backend=backend, cache=cache, session=session)
        return results

    own_session = None
    if session is None and backend.kind != "serial":
        own_session = session = Session(backend)
    try:
        search = _Search(scenario, campaign.name, runs, seed, batch, run)
        lo_k, hi_k = round(LOWEST / STEP), round(HIGHEST / STEP)
        k = min(hi_k, max(lo_k, round((estimate if estimate else 2.0) / STEP)))
        safe_k: int | None = None
        broke_k: int | None = None
        if search.trial(k, step).safe:
            safe_k, jump = k, 2
            while True:
                nk = min(hi_k, safe_k + jump)
                if nk == safe_k:
                    break
                if search.trial(nk, step).safe:
                    safe_k, jump = nk, 2 * jump
                else:
                    broke_k = nk
                    break
        else:
            broke_k, jump = k, 2
            while broke_k > lo_k:
                nk = max(lo_k, broke_k - jump)
                if search.trial(nk, step).safe:
                    safe_k = nk
                    break
                broke_k, jump = nk, 2 * jump
        if safe_k is not None and broke_k is not None:
            while broke_k - safe_k > 1:
                mid = (safe_k + broke_k) // 2
                if search.trial(mid, step).safe:
                    safe_k = mid
                else:
                    broke_k = mid
    finally:
        if own_session is not None:
            own_session.close()
    first_over = None if broke_k is None else search.trials[broke_k]
    tried = [search.trials[j] for j in sorted(search.trials)]
    seeds = (seed, seed + runs - 1)
    if safe_k is None:
        return VerifiedRatio(campaign.name, None, 0, confidence, 1.0, None, None, None, None, None, None,
                             first_over, estimate, seeds, runs, tried)
    t = search.trials[safe_k]
    rows = search.rows(safe_k)
    util = [r["agent_utilization"] for r in rows]
    hours = sum(r["logged_in_hours"] for r in rows)
    mean_u = sum(util) / len(util)
    sd_u = math.sqrt(sum((u - mean_u) ** 2 for u in util) / (len(util) - 1)) if len(util) > 1 else math.nan
    return VerifiedRatio(
        campaign=campaign.name,
        ratio=t.ratio,
        days=t.days,
        confidence=confidence,
        break_bound=break_bound(t.days, 0, confidence),
        abandon_rate=t.abandon_rate,
        worst_day_abandon_rate=t.worst,
        utilization=mean_u,
        utilization_sd=sd_u,
        connects_per_agent_hour=sum(r["connected"] for r in rows) / hours if hours else 0.0,
        dials_per_agent_hour=sum(r["attempted"] for r in rows) / hours if hours else 0.0,
        first_over=first_over,
        estimate=estimate,
        seeds=seeds,
        runs=runs,
        trials=tried,
    )


def _open_days(scenario: Any) -> int:
    """Calendar days a run of the scenario simulates (closed days of a preset still count: a guess
    from above, so a run gives at most this many campaign-days; the days counted are the real ones)."""
    return max(1, int(scenario.study.days))


def worth_predictive(gain: float, spread: float | None, *, min_gain: float = MIN_GAIN) -> dict[str, Any]:
    """The small-team rule: is Predictive worth it over Power on this floor?

    `gain`: the utilisation Predictive can add over Power at best (the optimal-pacing bound's, e.g.
    0.08 for 0.08 of the agents' time); `spread`: `SPREAD_SDS` standard deviations of a day's
    utilisation between simulated days (None: not measured). Not worth it when the gain is under
    `min_gain`, or under the spread (a planner could not tell a Predictive day from a Power day by
    its utilisation): Power then gives nearly as much with no abandoned call at all.
    """
    rule = (f"Predictive is worth it over Power when it can add at least {100 * min_gain:.0f} points of "
            f"agent utilisation and more than the day-to-day spread ({SPREAD_SDS:g} sd of a day's utilisation)")
    at_most = f"at most +{100 * gain:.1f} points of utilisation over Power"
    if gain < min_gain:
        verdict, why = False, f"{at_most}, under {100 * min_gain:.0f}"
    elif spread is not None and spread > gain:
        verdict, why = False, f"{at_most}, less than the day-to-day spread of ±{100 * spread:.1f} points"
    else:
        verdict = True
        why = f"{at_most}, over {100 * min_gain:.0f}"
        why += "" if spread is None else f" and over the day-to-day spread of ±{100 * spread:.1f} points"
    return {"worth_it": verdict, "gain": gain, "spread": spread, "min_gain": min_gain, "rule": rule, "why": why}
