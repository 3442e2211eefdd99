"""The largest fixed ratio that keeps the abandon limit on the scenario's own floor, verified by simulation.

Owns: `verify_ratio` (the search: simulated days of the scenario with one
campaign dialling a fixed ratio, the envelope off, over a grid of ratios),
`day_bound` (the normal tolerance bound of the days' abandons against the
limit: with `CONFIDENCE`, a share `COVERAGE` of days stays under it), `VerifiedRatio`
(what the search found: its days, the bound, the check on held-out days),
`break_bound` (what 0 of N days over says) and `worth_predictive` (the
small-team rule). Must not know about: the command line, printing, where
runs are computed (dialer.plan.execute does that, with its cache).

A ratio is safe when none of its N days is over the limit and its bound is
within it. The search gallops from the Markovian estimate, then steps by the
line through the bounds already measured (common seeds for every ratio; a
ratio is dropped at its first day over, most dangerous days first); the ratio
found is checked on held-out days and stepped down while one of them is over.

    from dialer.sim.scenario import default
    sc = default(); verify_ratio(sc, sc.campaigns[0], days=60, estimate=3.45).ratio   # e.g. 3.2
"""

from __future__ import annotations

import copy
import math
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable, ContextManager, Sequence

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
#: the share of days the tolerance bound covers: one working day in 1,000 (about four years) may be over it
COVERAGE = 0.999
#: held-out days checked at the ratio found, as a share of the search's days (at least `MIN_HOLDOUT`)
HOLDOUT_SHARE = 1 / 3
MIN_HOLDOUT = 5
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


def tolerance_factor(n: int, coverage: float = COVERAGE, confidence: float = CONFIDENCE) -> float:
    """k of the one-sided normal tolerance bound mean + k sd of `n` values: with `confidence`, a share
    `coverage` of the population lies under it (k = t'_{confidence}(n - 1, z_coverage sqrt n) / sqrt n,
    the noncentral t)."""
    from scipy import stats

    if n < 2:
        return math.inf
    root = math.sqrt(n)
    return float(stats.nct.ppf(confidence, n - 1, stats.norm.ppf(coverage) * root) / root)


def _moments(xs: Sequence[float]) -> tuple[float, float, float]:
    """Mean, sample sd and sample skewness (adjusted Fisher-Pearson; 0 when the values do not vary)."""
    n = len(xs)
    mean = sum(xs) / n
    m2 = sum((x - mean) ** 2 for x in xs) / n
    m3 = sum((x - mean) ** 3 for x in xs) / n
    sd = math.sqrt(m2 * n / (n - 1)) if n > 1 else math.nan
    skew = 0.0 if m2 <= 0 or n < 3 else m3 / m2 ** 1.5 * math.sqrt(n * (n - 1)) / (n - 2)
    return mean, sd, skew


#: added to a count under the square root (Anscombe): sqrt(count + 3/8) has sd near 1/2 for a Poisson count
ANSCOMBE = 3.0 / 8.0


@dataclass(frozen=True)
class DayBound:
    """The tolerance bound of some days' abandons, and what it rests on.

    Each day's margin is sqrt(limit x connected + 3/8) - sqrt(abandoned + 3/8): how far its abandons
    are from its own limit on the scale where a count's scatter is even (Anscombe's square root); a
    day is over the limit exactly when its margin is negative. `low`: the margins' lower tolerance
    bound (with `confidence`, a share `coverage` of days has a larger margin); `bound`: that margin
    as an abandon rate on a day of the mean connects (`low` >= 0 exactly when `bound` <= the limit).
    """

    bound: float
    low: float
    coverage: float
    confidence: float
    factor: float  # the tolerance factor used (`base_factor`, larger when the margins lean left)
    base_factor: float
    days: int
    mean: float  # of the days' abandon rates
    sd: float
    skew: float  # of the rates (> 0: a long right tail)
    margin_mean: float
    margin_sd: float
    margin_skew: float  # of the margins (< 0: a long tail towards the limit)
    rate_bound: float  # the normal tolerance bound of the rates themselves, for comparison


def day_bound(
    abandoned: Sequence[float],
    connected: Sequence[float],
    limit: float,
    coverage: float = COVERAGE,
    confidence: float = CONFIDENCE,
) -> DayBound:
    """The one-sided normal tolerance bound of days' abandons against the limit (`DayBound`).

    Days with nothing connected cannot break the limit and are left out; at least 2 must remain.
    When the margins lean towards the limit (skewness under minus two standard errors, sqrt(6 / n))
    the factor grows by the Cornish-Fisher term (z^2 - 1) |skew| / 6 of the coverage's normal
    quantile z. The days are taken as independent draws of one floor.
    """
    days = [(float(a), float(c)) for a, c in zip(abandoned, connected) if c > 0]
    n = len(days)
    if n < 2:
        raise bad("days with a call connected", n, "at least 2 for a tolerance bound")
    base = tolerance_factor(n, coverage, confidence)
    margins = [math.sqrt(limit * c + ANSCOMBE) - math.sqrt(a + ANSCOMBE) for a, c in days]
    mm, msd, mskew = _moments(margins)
    k = base
    if mskew < -2.0 * math.sqrt(6.0 / n):
        from scipy import stats

        z = float(stats.norm.ppf(coverage))
        k = base + (z * z - 1.0) * -mskew / 6.0
    low = mm - k * msd
    c_mean = sum(c for _, c in days) / n
    top = math.sqrt(limit * c_mean + ANSCOMBE) - low
    bound = (max(0.0, top) ** 2 - ANSCOMBE) / c_mean if top > 0 else 0.0
    rates = [a / c for a, c in days]
    mean, sd, skew = _moments(rates)
    return DayBound(max(0.0, bound), low, coverage, confidence, k, base, n, mean, sd, skew, mm, msd, mskew,
                    mean + base * sd)


@dataclass(frozen=True)
class Trial:
    """One ratio on the days simulated for it: `over` days over the limit among `days`; `bound` its
    days' tolerance bound (None: a day over stopped the ratio before all its days were simulated)."""

    ratio: float
    days: int
    over: int
    worst: float  # the worst day's abandon rate
    abandon_rate: float  # abandoned / established over those days
    rates: tuple[float, ...]  # each run's worst day, by seed (NaN: not simulated)
    limit: float  # the campaign's abandon limit
    bound: DayBound | None = None

    @property
    def safe(self) -> bool:
        """No day over the limit, and the days' tolerance bound within it."""
        return self.over == 0 and self.bound is not None and self.bound.low >= 0.0

    @property
    def why(self) -> str:
        """Why the ratio is refused ("" when it is safe)."""
        if self.over:
            return f"{self.over} of the {self.days} days simulated over the limit"
        if self.bound is not None and not self.safe:
            return "its days' tolerance bound over the limit"
        return ""

    def as_dict(self) -> dict[str, Any]:
        b = self.bound
        return {"ratio": self.ratio, "days": self.days, "days_over": self.over, "worst_day_abandon_rate": self.worst,
                "tolerance_bound": None if b is None else b.bound, "safe": self.safe}


@dataclass(frozen=True)
class Holdout:
    """The ratio found, on days the search never used: seeds `seeds`, `over` of `days` over the limit."""

    ratio: float
    days: int
    over: int
    worst: float | None
    abandon_rate: float | None
    seeds: tuple[int, int]


@dataclass
class VerifiedRatio:
    """What `verify_ratio` found. `ratio` None: even the lowest ratio was refused."""

    campaign: str
    ratio: float | None
    days: int  # campaign-days simulated at `ratio` by the search
    confidence: float
    coverage: float
    break_bound: float  # the per-day probability of breaking is below this, at `confidence` (0 of `days` over)
    tolerance: DayBound | None  # the bound of the days at `ratio`
    abandon_rate: float | None  # over the days at `ratio`
    worst_day_abandon_rate: float | None
    utilization: float | None  # mean of the days
    utilization_sd: float | None  # between days
    connects_per_agent_hour: float | None
    dials_per_agent_hour: float | None
    first_refused: Trial | None  # the ratio one step above the one found (or the lowest tried, when none was safe)
    estimate: float | None
    seeds: tuple[int, int]  # first and last seed of the search
    runs: int
    limit: float
    holdout: list[Holdout] = field(default_factory=list)  # every ratio checked on the held-out days, last = `ratio`
    trials: list[Trial] = field(default_factory=list)

    @property
    def stepped_down(self) -> list[float]:
        """Ratios the search found safe that broke the limit on a held-out day."""
        return [h.ratio for h in self.holdout if h.over]

    def as_dict(self) -> dict[str, Any]:
        fo, tb = self.first_refused, self.tolerance
        return {
            "campaign": self.campaign,
            "ratio": self.ratio,
            "abandon_limit": self.limit,
            "days": self.days,
            "days_over": 0,
            "confidence": self.confidence,
            "coverage": self.coverage,
            "tolerance_bound": None if tb is None else tb.bound,
            "tolerance": None if tb is None else {k: getattr(tb, k) for k in tb.__dataclass_fields__},
            "break_probability_below": self.break_bound,
            "abandon_rate": self.abandon_rate,
            "worst_day_abandon_rate": self.worst_day_abandon_rate,
            "utilization": self.utilization,
            "utilization_sd": self.utilization_sd,
            "connects_per_agent_hour": self.connects_per_agent_hour,
            "dials_per_agent_hour": self.dials_per_agent_hour,
            "first_refused": None if fo is None else {**fo.as_dict(), "why": fo.why or "a held-out day over the limit"},
            "holdout": [{"ratio": h.ratio, "days": h.days, "days_over": h.over, "worst_day_abandon_rate": h.worst,
                         "abandon_rate": h.abandon_rate, "seeds": list(h.seeds)} for h in self.holdout],
            "stepped_down_from": self.stepped_down,
            "estimate": self.estimate,
            "seeds": list(self.seeds),
            "runs": self.runs,
            "ratios_tried": [t.as_dict() for t in self.trials],
        }


def ratio_scenario(data: dict[str, Any], campaign: str, ratio: float) -> dict[str, Any]:
    """The scenario (plain data) with `campaign` dialling `ratio` x idle agents, the envelope off."""
    d = copy.deepcopy(data)
    c = next(c for c in d["campaigns"] if c["name"] == campaign)
    c.update(mode="fixed-ratio", pacer={"ratio": ratio}, envelope=False)
    return d


def _grid(k: int) -> float:
    return round(k * STEP, 10)


Step = Callable[[str, str], ContextManager[Any]]


class _Days:
    """The days of the ratios tried on one set of seeds; runs sent to the backend in batches, a ratio
    dropped at its first day over."""

    def __init__(self, data: dict[str, Any], campaign: str, seeds: list[int], batch: int, run: Callable,
                 what: str) -> None:
        self.data = data
        self.campaign = campaign
        self.seeds = seeds
        self.batch = batch
        self.run = run
        self.what = what
        self.results: dict[int, dict[int, list[dict[str, Any]]]] = {}  # grid index -> seed -> day rows

    def _order(self, k: int) -> list[int]:
        """Seeds, the most dangerous first: the worst days at the nearest ratio already simulated."""
        if not self.results:
            return list(self.seeds)
        near = min(self.results, key=lambda j: (abs(j - k), -j))
        worst = {s: max((r["abandon_rate"] for r in rows), default=0.0) for s, rows in self.results[near].items()}
        return sorted(self.seeds, key=lambda s: (-worst.get(s, -1.0), s))

    def simulate(self, k: int, step: Step | None) -> dict[int, list[dict[str, Any]]]:
        if k in self.results:
            return self.results[k]
        ratio = _grid(k)
        order = self._order(k)
        done: dict[int, list[dict[str, Any]]] = {}
        words = (f"simulating ratio {ratio:g} on up to {len(order)} {self.what}", f"simulated ratio {ratio:g} ({self.what})")
        with (step(*words) if step else nullcontext()) as say:
            for i in range(0, len(order), self.batch):
                seeds = order[i:i + self.batch]
                tasks = [make_task(ratio_scenario(self.data, self.campaign, ratio), s, trace=None) for s in seeds]
                for s, out in zip(seeds, self.run(tasks)):
                    done[s] = [r for r in out["days"] if r["campaign"] == self.campaign]
                if any(r["over_limit"] for rows in done.values() for r in rows):
                    break
                if callable(say):
                    say(f"simulating ratio {ratio:g}: {len(done)} of {len(order)} {self.what}, no day over the limit yet")
        self.results[k] = done
        return done

    def rows(self, k: int) -> list[dict[str, Any]]:
        return [r for s in self.seeds for r in self.results[k].get(s, [])]


class _Search(_Days):
    """The search's days, and each ratio's `Trial`."""

    def __init__(self, *args: Any, coverage: float, confidence: float) -> None:
        super().__init__(*args)
        self.coverage = coverage
        self.confidence = confidence
        self.trials: dict[int, Trial] = {}

    def trial(self, k: int, step: Step | None) -> Trial:
        if k in self.trials:
            return self.trials[k]
        done = self.simulate(k, step)
        rows = self.rows(k)
        if not rows:
            raise ConfigError(f"campaign {self.campaign!r}: the study's calendar must have an open day to "
                              "simulate, got none")
        connected = sum(r["connected"] for r in rows)
        over = sum(1 for r in rows if r["over_limit"])
        complete = len(done) == len(self.seeds)
        t = Trial(
            ratio=_grid(k),
            days=len(rows),
            over=over,
            worst=max(r["abandon_rate"] for r in rows),
            abandon_rate=sum(r["abandoned"] for r in rows) / connected if connected else 0.0,
            rates=tuple(max((r["abandon_rate"] for r in done[s]), default=0.0) if s in done else math.nan
                        for s in self.seeds),
            limit=float(rows[0]["abandon_limit"]),
            bound=day_bound([r["abandoned"] for r in rows], [r["connected"] for r in rows], float(rows[0]["abandon_limit"]),
                            self.coverage, self.confidence)
            if complete and over == 0 and sum(r["connected"] > 0 for r in rows) >= 2 else None,
        )
        self.trials[k] = t
        return t


def _next(search: _Search, lo: int | None, hi: int | None, jump: int, lo_k: int, hi_k: int) -> int:
    """The next grid index to try, strictly between `lo` (safe) and `hi` (refused), or beyond the one
    known when the other is not: where the least-squares line through the margins' bounds measured
    crosses 0 (rounded down; from one side, a step past it), at most `jump` steps beyond the side
    known; halfway when there is no line."""
    measured = [(k, -t.bound.low) for k, t in search.trials.items() if t.bound is not None]
    guess: float | None = None
    if len(measured) >= 2:  # the least-squares line: a bound scatters from one ratio to the next
        mk = sum(k for k, _ in measured) / len(measured)
        mb = sum(b for _, b in measured) / len(measured)
        sxx = sum((k - mk) ** 2 for k, _ in measured)
        slope = sum((k - mk) * (b - mb) for k, b in measured) / sxx
        if slope > 0:
            guess = mk - mb / slope
    if lo is not None and hi is not None:
        if guess is None:
            return (lo + hi) // 2
        return min(hi - 1, max(lo + 1, math.floor(guess + 1e-9)))
    # one side known: aim a step past the crossing, so that the next ratio is likely on the other side
    if lo is not None:  # every ratio tried was safe: up
        far = min(hi_k, lo + jump)
        return far if guess is None else min(far, max(lo + 1, math.ceil(guess - 1e-9)))
    assert hi is not None  # every ratio tried was refused: down
    far = max(lo_k, hi - jump)
    return far if guess is None else max(far, min(hi - 1, math.floor(guess + 1e-9) - 1))


def verify_ratio(
    scenario: Any,
    campaign: Any,
    *,
    days: int = DAYS,
    seed: int = 0,
    estimate: float | None = None,
    confidence: float = CONFIDENCE,
    coverage: float = COVERAGE,
    holdout: int | None = None,
    backend: Backend = Backend("serial"),
    cache: RunCache | None = None,
    session: Session | None = None,
    step: Step | None = None,
) -> VerifiedRatio:
    """The largest ratio on the grid (steps of `STEP`) that is safe on `days` simulated campaign-days
    (runs of the scenario with seeds seed, seed + 1, ...; a run of a study of several days gives
    several), the campaign dialling that fixed ratio with the envelope off: no day over the limit, and
    the days' tolerance bound (`day_bound`: with `confidence`, a share `coverage` of days under it)
    within it; the next ratio up refused. The ratio is then run on `holdout` more days (default a third
    of `days`, at least `MIN_HOLDOUT`; the seeds after the search's) and stepped down the grid while
    any of them is over the limit (each step down safe on the search's days too).

    `estimate` (default 2) is where the search starts. `step(doing, done)` is a context manager each
    ratio's simulation runs in (a progress line); if it gives a function, that is told how far the
    ratio's runs have gone. Deterministic: the same scenario and seeds give the same answer, on any
    backend.
    """
    check("--days", days, REPLICATIONS)
    if days < 2:
        raise bad("--days", days, "at least 2 (a tolerance bound needs the spread of the days)")
    if not 0.0 < confidence < 1.0:
        raise bad("confidence", confidence, "between 0 and 1")
    if not 0.0 < coverage < 1.0:
        raise bad("coverage", coverage, "between 0 and 1")
    data_days = _open_days(scenario)
    runs = max(1, math.ceil(days / data_days))
    held = max(MIN_HOLDOUT, math.ceil(days * HOLDOUT_SHARE)) if holdout is None else holdout
    if held < 0:
        raise bad("holdout", held, "a whole number >= 0")
    held_runs = math.ceil(held / data_days)
    kind = session.backend if session else backend
    batch = 1 if kind.kind == "serial" else 2 * kind.workers
    cache = cache or RunCache(None)

    def run(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results, _ = run_tasks(tasks, backend=backend, cache=cache, session=session)
        return results

    data = scenario.model_dump(mode="json")
    own_session = None
    if session is None and backend.kind != "serial":
        own_session = session = Session(backend)
    try:
        unit = "days" if data_days == 1 else "runs"  # what the progress line counts: one run per seed
        search = _Search(data, campaign.name, list(range(seed, seed + runs)), batch, run, unit,
                         coverage=coverage, confidence=confidence)
        checks = _Days(data, campaign.name, list(range(seed + runs, seed + runs + held_runs)), batch, run,
                       f"held-out {unit}")
        lo_k, hi_k = round(LOWEST / STEP), round(HIGHEST / STEP)
        k = min(hi_k, max(lo_k, round((estimate if estimate else 2.0) / STEP)))
        safe_k: int | None = None
        refused_k: int | None = None
        jump = 1
        while True:
            if search.trial(k, step).safe:
                safe_k = k if safe_k is None else max(safe_k, k)
            else:
                refused_k = k if refused_k is None else min(refused_k, k)
            if safe_k is not None and refused_k is not None and refused_k - safe_k <= 1:
                break
            if refused_k == lo_k and safe_k is None or safe_k == hi_k and refused_k is None:
                break
            if safe_k is None or refused_k is None:
                jump *= 2
            k = _next(search, safe_k, refused_k, jump, lo_k, hi_k)
        held_out: list[Holdout] = []
        while safe_k is not None and held_runs:
            rows = [r for s in checks.seeds for r in checks.simulate(safe_k, step).get(s, [])]
            connected = sum(r["connected"] for r in rows)
            over = sum(1 for r in rows if r["over_limit"])
            held_out.append(Holdout(_grid(safe_k), len(rows), over, max((r["abandon_rate"] for r in rows), default=None),
                                    sum(r["abandoned"] for r in rows) / connected if connected else None,
                                    (checks.seeds[0], checks.seeds[-1])))
            if not over:
                break
            refused_k, safe_k = safe_k, None
            for j in range(refused_k - 1, lo_k - 1, -1):  # down to the next ratio safe on the search's days
                if search.trial(j, step).safe:
                    safe_k = j
                    break
    finally:
        if own_session is not None:
            own_session.close()
    first_refused = None if refused_k is None else search.trials[refused_k]
    tried = [search.trials[j] for j in sorted(search.trials)]
    seeds = (seed, seed + runs - 1)
    limit = next(iter(search.trials.values())).limit
    if safe_k is None:
        return VerifiedRatio(campaign.name, None, 0, confidence, coverage, 1.0, None, None, None, None, None, None,
                             None, first_refused, estimate, seeds, runs, limit, held_out, tried)
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
        coverage=coverage,
        break_bound=break_bound(t.days, 0, confidence),
        tolerance=t.bound,
        abandon_rate=t.abandon_rate,
        worst_day_abandon_rate=t.worst,
        utilization=mean_u,
        utilization_sd=sd_u,
        connects_per_agent_hour=sum(r["connected"] for r in rows) / hours if hours else 0.0,
        dials_per_agent_hour=sum(r["attempted"] for r in rows) / hours if hours else 0.0,
        first_refused=first_refused,
        estimate=estimate,
        seeds=seeds,
        runs=runs,
        limit=limit,
        holdout=held_out,
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
