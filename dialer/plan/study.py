"""Studies: replications of one scenario, or a sweep of variations of it, as tidy tables.

Owns: the study-file format (TOML), turning a variation ("agents = 12,
mode = 'predictive'") into a checked scenario, expanding grids and lists,
the seeds of the replications, and `run_study`, which sends every run to a
backend (dialer.plan.execute) and returns tidy rows that carry their inputs
and their outputs together, plus their means with 95 % confidence intervals.
Must not know about: printing, plots, files other than the study file.

    [sweep]
    name = "agents and mode"
    scenario = "default"          # or a path relative to this file; or an inline [scenario] table
    replications = 5              # seeds seed, seed+1, ...: the same for every variation
    [grid]                        # every combination; [[variations]] and [shifts.NAME] also exist
    agents = [10, 15, 20]
    mode = ["power", "predictive"]

Every key, commented: simulations/sweep_agents.toml. The keys a variation
may set are `VARIATION_KEYS`.
"""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from dialer import limits
from dialer.checks import Either, OneOf, Real, Whole, check, positive
from dialer.errors import ConfigError, bad
from dialer.files import load_toml
from dialer.plan.execute import Backend, RunCache, RunStats, Session, run_tasks
from dialer.plan.runs import BOUNDS, RUN_STATISTICS, make_task
from dialer.plan.stats import summarise

#: what a variation may change, and what it means
VARIATION_KEYS = {
    "agents": "agents on the campaign's floor: the largest agent group gets this count, others scale with it",
    "mode": "dialing mode of the campaign (power, fixed-ratio, adaptive, predictive, ...)",
    "target": "target abandon rate of the predictive pacer (pacer parameter 'target'); other modes ignore it",
    "live": "live-answer rate; hourly overrides scale by the same factor",
    "talk": "mean talk time, seconds; the distribution keeps its shape (sd scales with the mean)",
    "leads": "numbers in the list",
    "shift": "name of a shift plan of the study file ([shifts.NAME]) replacing the campaign's agent groups",
    "days": "calendar days simulated",
}

#: the input columns every row carries (the effective value in the run's scenario)
INPUT_COLUMNS = ("variation", "agents", "mode", "target", "live", "talk_time", "leads", "days", "shift")


@dataclass(frozen=True)
class Variation:
    label: str
    changes: dict[str, Any]


@dataclass
class Study:
    name: str
    base: dict[str, Any]  # scenario as plain data
    variations: list[Variation]
    replications: int = 10
    seed: int = 0
    campaign: str | None = None
    trace: float | None = 60.0
    shifts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    source: str = "study"
    sweep: bool = False


# --- building a study ----------------------------------------------------------------------


#: what the [sweep] table's values and a variation's changes must be
_REPLICATIONS = limits.REPLICATIONS
_SEED = Whole(0)
_TRACE = Either(positive("number of seconds"), OneOf(False, says="false"))
_AGENTS = limits.AGENTS
_TARGET = Real(0, 1, closed="neither", noun="rate")
_LIVE = Real(0, 1, closed="right", noun="probability")
_TALK = positive("number of seconds")


def _check_replications(value: Any, where: str) -> int:
    return check(where, value, _REPLICATIONS)


def _check_seed(value: Any, where: str) -> int:
    return check(where, value, _SEED)


def from_scenario(scenario: Any, *, replications: int, seed: int = 0, trace: float | None = 60.0,
                  source: str = "scenario") -> Study:
    """A study of one scenario: `replications` seeds, no variation.

    The trace interval is widened to whole minutes if the trace would keep more
    than `limits.MAX_TRACE_SAMPLES` samples (a year of 24-hour days).
    """
    _check_replications(replications, "--replications")
    _check_seed(seed, "--seed")
    if trace is not None:
        per_second = _trace_samples([scenario], 1.0)  # samples of a 1 s trace, roughly
        needed = per_second / limits.MAX_TRACE_SAMPLES
        if needed > trace:
            trace = 60.0 * math.ceil(needed / 60.0)
    study = Study(
        name=scenario.study.name,
        base=scenario.model_dump(mode="json"),
        variations=[Variation("base", {})],
        replications=replications,
        seed=seed,
        trace=trace,
        source=source,
    )
    check_size(study, "--replications", scenarios=[scenario])
    return study


def _span(scenario: Any, campaign: Any) -> float:
    """Seconds of a day in which the campaign's floor may be sampled: the calling window and every shift."""
    spans = [scenario.study.hours] + [scenario.shift_of(g) for g in scenario.agents_of(campaign.name)]
    return min(86400.0, max(e for _, e in spans) - min(s for s, _ in spans))


def _trace_samples(scenarios: list[Any], trace: float | None) -> int:
    """At most how many samples the trace of these variations' first replications keeps."""
    if trace is None:
        return 0
    return sum(sc.study.days * sum(math.ceil(_span(sc, c) / trace) + 1 for c in sc.campaigns) for sc in scenarios)


def check_size(study: Study, field: str = "replications", *, scenarios: list[Any] | None = None,
               trace_field: str = "trace") -> None:
    """Refuse a study whose results would not fit in memory, before anything runs.

    At most `limits.MAX_RUNS` runs, `limits.MAX_CAMPAIGN_DAYS` campaign-days
    (the rows it keeps) and `limits.MAX_TRACE_SAMPLES` trace samples. The
    message names `field` (the flag or key that set the replications) or
    `trace_field`, and says the largest value that fits.
    """
    scs = scenarios if scenarios is not None else [scenario_of(study, v) for v in study.variations]
    reps, n = study.replications, len(scs)
    if n * reps > limits.MAX_RUNS:
        raise bad(field, reps, f"at most {limits.MAX_RUNS // n} for {n} variation(s) "
                                f"(a study runs at most {limits.MAX_RUNS} simulations)")
    per_rep = sum(sc.study.days * len(sc.campaigns) for sc in scs)
    if per_rep * reps > limits.MAX_CAMPAIGN_DAYS:
        most = limits.MAX_CAMPAIGN_DAYS // per_rep
        if most == 0:
            raise bad(f"{study.source}: variations", n, f"fewer, or shorter: one replication of them all is "
                      f"{per_rep} campaign-days, and a study keeps at most {limits.MAX_CAMPAIGN_DAYS}")
        raise bad(field, reps, f"at most {most} for this study ({per_rep} campaign-days per replication; a study "
                                f"keeps at most {limits.MAX_CAMPAIGN_DAYS})")
    samples = _trace_samples(scs, study.trace)
    if samples > limits.MAX_TRACE_SAMPLES:
        least = study.trace * samples / limits.MAX_TRACE_SAMPLES  # type: ignore[operator]
        raise bad(trace_field, study.trace, f"false, or at least {60 * math.ceil(least / 60):g} seconds for "
                  f"this study (its trace keeps at most {limits.MAX_TRACE_SAMPLES} samples)")


def is_study_file(data: dict[str, Any]) -> bool:
    return "sweep" in data


def load_text(path: str | Path) -> dict[str, Any]:
    """The table of a study or scenario file (one ConfigError line if it cannot be read or parsed)."""
    return load_toml(path)


def load(path: str | Path, *, replications: int | None = None, seed: int | None = None) -> Study:
    """A study file (with a [sweep] table) or a plain scenario file; flags override the file."""
    from dialer.sim import scenario as sc

    p = Path(path)
    data = load_text(p)
    src = str(p)
    if not is_study_file(data):
        s = sc.from_dict(data, source=src)
        return from_scenario(s, replications=replications or 10, seed=seed or 0, source=src)
    return parse_study(data, source=src, base_dir=p.parent, replications=replications, seed=seed)


def parse_study(
    data: dict[str, Any],
    *,
    source: str = "study",
    base_dir: Path = Path("."),
    replications: int | None = None,
    seed: int | None = None,
) -> Study:
    from dialer.sim import scenario as sc

    unknown = set(data) - {"sweep", "scenario", "grid", "variations", "shifts"}
    if unknown:
        raise ConfigError(f"{source}: unknown table (check the spelling), got {sorted(unknown)[0]!r}")
    sweep = data.get("sweep")
    if not isinstance(sweep, dict):
        raise ConfigError(f"{source}: sweep must be a table, got {sweep!r}")
    allowed = {"name", "scenario", "campaign", "replications", "seed", "trace"}
    for k in sweep:
        if k not in allowed:
            raise ConfigError(f"{source}: sweep.{k}: unknown key (one of {', '.join(sorted(allowed))}), got {k!r}")
    # the base scenario
    if "scenario" in data and "scenario" in sweep:
        raise ConfigError(f"{source}: sweep.scenario and a [scenario] table both given, got both")
    if isinstance(data.get("scenario"), dict):
        base = sc.from_dict(data["scenario"], source=f"{source}: scenario")
    else:
        ref = sweep.get("scenario", "default")
        if not isinstance(ref, str):
            raise ConfigError(f"{source}: sweep.scenario must be a path or 'default', got {ref!r}")
        if ref == "default":
            base = sc.default()
        else:
            path = Path(ref) if Path(ref).is_absolute() else base_dir / ref
            base = sc.load(path)
    base_data = base.model_dump(mode="json")
    names = [c["name"] for c in base_data["campaigns"]]
    campaign = sweep.get("campaign")
    if campaign is not None and campaign not in names:
        raise ConfigError(f"{source}: sweep.campaign must name a campaign ({', '.join(names)}), got {campaign!r}")
    reps = replications if replications is not None else _check_replications(
        sweep.get("replications", 10), f"{source}: sweep.replications")
    _check_replications(reps, "--replications")
    sd = seed if seed is not None else _check_seed(sweep.get("seed", 0), f"{source}: sweep.seed")
    trace = check(f"{source}: sweep.trace", sweep.get("trace", 60.0), _TRACE)
    if trace is False:
        trace = None
    # shift plans
    shifts_raw = data.get("shifts", {})
    if not isinstance(shifts_raw, dict):
        raise ConfigError(f"{source}: shifts must be a table of shift plans, got {shifts_raw!r}")
    shifts: dict[str, list[dict[str, Any]]] = {}
    for name, plan in shifts_raw.items():
        groups = plan.get("agents") if isinstance(plan, dict) else None
        if not isinstance(groups, list) or not groups or not all(isinstance(g, dict) for g in groups):
            raise ConfigError(f"{source}: shifts.{name}.agents must be a list of agent groups, got {groups!r}")
        shifts[name] = groups
    # variations
    grid = data.get("grid", {})
    if not isinstance(grid, dict):
        raise ConfigError(f"{source}: grid must be a table of lists, got {grid!r}")
    for k, v in grid.items():
        _check_key(k, f"{source}: grid.{k}")
        if not isinstance(v, list) or not v:
            raise ConfigError(f"{source}: grid.{k} must be a non-empty list of values, got {v!r}")
    listed = data.get("variations", [{}])
    if not isinstance(listed, list) or not all(isinstance(v, dict) for v in listed):
        raise ConfigError(f"{source}: variations must be a list of tables, got {listed!r}")
    for i, v in enumerate(listed):
        for k in v:
            if k != "label":
                _check_key(k, f"{source}: variations[{i}].{k}")
    keys = list(grid)
    variations = []
    labels = []
    for v in listed or [{}]:
        for combo in itertools.product(*(grid[k] for k in keys)):
            changes = {k: x for k, x in v.items() if k != "label"}
            changes.update(zip(keys, combo))
            given = str(v["label"]) if "label" in v else None
            variations.append(Variation(_label(given, changes, keys), changes))
            labels.append((given, keys))
    study = Study(
        name=str(sweep.get("name", base.study.name)),
        base=base_data,
        variations=variations,
        replications=reps,
        seed=sd,
        campaign=campaign,
        trace=None if trace is None else float(trace),
        shifts=shifts,
        source=source,
        sweep=True,
    )
    # every variation is checked before anything runs; a target means nothing outside predictive
    # mode, so `mode = power` crossed with three targets is one variation, not three
    kept: list[Variation] = []
    seen: set[str] = set()
    for var, (label_given, grid_keys) in zip(study.variations, labels):
        sc = scenario_of(study, var)
        if "target" in var.changes and _swept(study, sc).mode != "predictive":
            changes = {k: x for k, x in var.changes.items() if k != "target"}
            var = Variation(_label(label_given, changes, grid_keys), changes)
        if var.label not in seen:
            seen.add(var.label)
            kept.append(var)
    study.variations = kept
    check_size(study, "--replications" if replications is not None else f"{source}: sweep.replications",
               trace_field=f"{source}: sweep.trace")
    return study


def _label(given: str | None, changes: dict[str, Any], grid_keys: list[str]) -> str:
    parts = [given] if given is not None else []
    parts += [f"{k}={x}" for k, x in changes.items() if given is None or k in grid_keys]
    return ", ".join(parts) or "base"


def _swept(study: Study, scenario: Any) -> Any:
    if study.campaign is None:
        return scenario.campaigns[0]
    return next(c for c in scenario.campaigns if c.name == study.campaign)


def _check_key(key: str, where: str) -> None:
    if key not in VARIATION_KEYS:
        raise ConfigError(f"{where}: unknown variation key (one of {', '.join(VARIATION_KEYS)}), got {key!r}")


# --- applying a variation -------------------------------------------------------------------


def _campaign_index(data: dict[str, Any], campaign: str | None) -> int:
    names = [c["name"] for c in data["campaigns"]]
    return 0 if campaign is None else names.index(campaign)


def _groups_of(data: dict[str, Any], name: str) -> list[dict[str, Any]]:
    first = data["campaigns"][0]["name"]
    return [g for g in data["agents"] if (g.get("campaign") or first) == name]


def set_agents(data: dict[str, Any], campaign: str, n: int) -> None:
    """The campaign's largest agent group gets `n` agents; the others scale with it (at least 1)."""
    groups = _groups_of(data, campaign)
    if not groups:
        raise ConfigError(f"agents: campaign {campaign!r} has no agent group to scale, got {n!r}")
    largest = max(g["count"] for g in groups)
    for g in groups:
        g["count"] = n if g["count"] == largest else max(1, int(math.floor(g["count"] * n / largest + 0.5)))


def floor_size(data: dict[str, Any], campaign: str) -> int:
    """The number `set_agents` sets: the size of the campaign's largest agent group."""
    return max((g["count"] for g in _groups_of(data, campaign)), default=0)


def _scale_dist(spec: dict[str, Any], mean: float, where: str) -> dict[str, Any]:
    from dialer.sim.scenario import _parse_dist

    old = _parse_dist(spec).mean
    if not old > 0:
        raise ConfigError(f"{where}: the base distribution has mean 0 and cannot be scaled, got {spec!r}")
    f = mean / old
    out = dict(spec)
    for k in ("mean", "sd", "value", "low", "high"):
        if k in out:
            out[k] = out[k] * f
    if "samples" in out:
        out["samples"] = [x * f for x in out["samples"]]
    return out


def apply(study: Study, changes: dict[str, Any], where: str = "variation") -> dict[str, Any]:
    """The scenario data of `study.base` with `changes` applied (not yet checked)."""
    data = copy.deepcopy(study.base)
    ci = _campaign_index(data, study.campaign)
    camp = data["campaigns"][ci]
    name = camp["name"]
    if "shift" in changes:
        plan = changes["shift"]
        if plan not in study.shifts:
            raise ConfigError(
                f"{where}.shift must name a shift plan ({', '.join(study.shifts) or 'none defined'}), got {plan!r}"
            )
        first = data["campaigns"][0]["name"]
        others = [g for g in data["agents"] if (g.get("campaign") or first) != name]
        data["agents"] = others + [{**g, "campaign": name} for g in copy.deepcopy(study.shifts[plan])]
    if "agents" in changes:
        set_agents(data, name, check(f"{where}.agents", changes["agents"], _AGENTS))
    if "mode" in changes and changes["mode"] != camp["mode"]:
        camp["mode"] = changes["mode"]
        camp["pacer"] = {}
    if "target" in changes:
        t = check(f"{where}.target", changes["target"], _TARGET)
        if camp["mode"] == "predictive":
            camp["pacer"] = {**camp["pacer"], "target": float(t)}
    if "live" in changes:
        p = check(f"{where}.live", changes["live"], _LIVE)
        out = camp["outcomes"]
        f = p / out["live"] if out["live"] > 0 else None
        out["live"] = float(p)
        for hour in out.get("hours", {}).values():
            if "live" in hour:
                hour["live"] = float(p) if f is None else hour["live"] * f
    if "talk" in changes:
        m = check(f"{where}.talk", changes["talk"], _TALK)
        camp["durations"]["talk"] = _scale_dist(camp["durations"]["talk"], float(m), f"{where}.talk")
    if "leads" in changes:
        camp["leads"] = changes["leads"]
    if "days" in changes:
        data["study"]["days"] = changes["days"]
    return data


def scenario_of(study: Study, var: Variation) -> Any:
    """The checked scenario of a variation; errors name the study file and the variation."""
    from dialer.sim.scenario import from_dict

    where = f"{study.source}: variation {var.label!r}"
    return from_dict(apply(study, var.changes, where), source=where)


def inputs_of(study: Study, var: Variation, scenario: Any) -> dict[str, Any]:
    """The effective inputs of a variation, as the columns every row carries."""
    camp = _swept(study, scenario)
    data = scenario.model_dump(mode="json")
    return {
        "variation": var.label,
        "agents": floor_size(data, camp.name),
        "mode": camp.mode,
        "target": camp.pacer.get("target", 0.04) if camp.mode == "predictive" else None,
        "live": camp.outcomes.live,
        "talk_time": camp.durations.talk.mean,
        "leads": camp.leads,
        "days": scenario.study.days,
        "shift": var.changes.get("shift", "base"),
    }


# --- running -----------------------------------------------------------------------------


@dataclass
class StudyResult:
    study: Study
    runs: list[dict[str, Any]]  # one per variation x replication x campaign
    days: list[dict[str, Any]]  # one per variation x replication x campaign x day
    trace: list[dict[str, Any]]  # samples of each variation's first replication
    summary: list[dict[str, Any]]  # one per variation x campaign x statistic
    stats: RunStats
    scenarios: dict[str, dict[str, Any]]  # variation label -> scenario data


def run_study(
    study: Study,
    *,
    backend: Backend = Backend("serial"),
    cache: RunCache | None = None,
    progress: Callable[[int, int], None] | None = None,
    session: Session | None = None,
) -> StudyResult:
    """Every variation x replication; the seeds are `seed + r` for every variation (common random numbers).

    A study too large to keep in memory is refused before anything runs (`check_size`).
    """
    check_size(study)
    plans = []
    tasks = []
    scenarios: dict[str, dict[str, Any]] = {}
    for var in study.variations:
        sc = scenario_of(study, var)
        dump = sc.model_dump(mode="json")
        scenarios[var.label] = dump
        inputs = inputs_of(study, var, sc)
        for r in range(study.replications):
            seed = study.seed + r
            plans.append((inputs, r, seed))
            tasks.append(make_task(dump, seed, study.trace if r == 0 else None))
    results, stats = run_tasks(tasks, backend=backend, cache=cache, progress=progress, session=session)
    runs, days, trace = [], [], []
    for (inputs, r, seed), res in zip(plans, results):
        head = {**inputs, "replication": r, "seed": seed}
        runs += [{**head, **row} for row in res["campaigns"]]
        days += [{**head, **row} for row in res["days"]]
        trace += [{**head, **row} for row in res.get("trace", [])]
    by = list(INPUT_COLUMNS) + ["campaign", "abandon_limit"]
    summary = summarise(runs, by, RUN_STATISTICS, bounds=BOUNDS)
    return StudyResult(study, runs, days, trace, summary, stats, scenarios)


def json_summary(result: StudyResult) -> dict[str, Any]:
    """The JSON of `dialer study --json`: per variation, per campaign, each statistic as
    {"mean", "ci_low", "ci_high", "sd", "n"}. A plain study has one variation, "base"."""

    def clean(x: float) -> float | None:
        return None if isinstance(x, float) and math.isnan(x) else x

    variations: dict[str, dict[str, Any]] = {}
    for row in result.summary:
        v = variations.setdefault(
            row["variation"],
            {"label": row["variation"], "inputs": {k: row[k] for k in INPUT_COLUMNS if k != "variation"},
             "campaigns": {}},
        )
        v["campaigns"].setdefault(row["campaign"], {})[row["statistic"]] = {
            "mean": clean(row["mean"]), "ci_low": clean(row["ci_low"]), "ci_high": clean(row["ci_high"]),
            "sd": clean(row["sd"]), "n": row["n"],
        }
    s = result.study
    out: dict[str, Any] = {
        "study": s.name,
        "source": s.source,
        "replications": s.replications,
        "seeds": [s.seed, s.seed + s.replications - 1],
        "confidence": 0.95,
        "interval": "Student t over independent replications",
    }
    vs = list(variations.values())
    if not s.sweep and len(vs) == 1:
        out["campaigns"] = vs[0]["campaigns"]
    else:
        out["variations"] = vs
    return out
