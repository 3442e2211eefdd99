"""The planners' commands: `dialer study`, `dialer staff`, `dialer report`, `dialer fit`, `dialer calls`.

Owns: their arguments, progress bars, printed tables and the files they
write; registers them with `dialer.cli` (imported at the end of cli.py).

    dialer study [SCENARIO|STUDY] [--replications N] [--seed S] [--out DIR] [--json PATH]
                 [--serial | --scheduler tcp://HOST:PORT | --workers N] [--cache DIR | --no-cache]
    dialer staff [SCENARIO] --leads N --within DAYS [--confidence 0.9] [--replications R] ...
    dialer report RESULTS [--out report.html]
    dialer fit CALLS.csv [--out scenario.toml] [--plot PATH] [--base SCENARIO]
    dialer calls [SCENARIO] [--seed N] --out calls.csv

Must not know about: how anything is computed (dialer.plan.*). Every error
a user can cause is a one-line `ConfigError` naming the flag or field.
"""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path
from typing import Any, Callable

from rich.console import Console
from rich.table import Table

from dialer import limits
from dialer.cli import common as cli
from dialer.errors import ConfigError

_replications = cli.typed(limits.REPLICATIONS, int)

DEFAULT_CACHE = ".dialer-cache"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "study"


def _scheduler(text: str) -> str:
    if not re.fullmatch(r"[a-z]+://[^\s/]+", text):
        raise argparse.ArgumentTypeError(f"must be a scheduler address such as tcp://HOST:PORT, got {text!r}")
    return text


def _backend_args(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--serial", action="store_true", help="run every simulation in this process, one after another")
    g.add_argument("--scheduler", type=_scheduler, metavar="tcp://HOST:PORT",
                   help="send the runs to an existing Dask scheduler (its workers need dialer installed)")
    p.add_argument("--workers", type=cli.whole(1), default=2,
                   help="worker processes of the local Dask cluster started by default (default 2)")
    c = p.add_mutually_exclusive_group()
    c.add_argument("--cache", metavar="DIR", default=DEFAULT_CACHE,
                   help=f"finished runs are kept here and never recomputed (default {DEFAULT_CACHE})")
    c.add_argument("--no-cache", action="store_true", help="compute every run, keep nothing")


def _backend(args: argparse.Namespace):
    from dialer.plan.execute import Backend, RunCache

    if args.serial:
        backend = Backend("serial")
    elif args.scheduler:
        backend = Backend("scheduler", address=args.scheduler)
    else:
        backend = Backend("local", workers=args.workers)
    return backend, RunCache(None if args.no_cache else args.cache)


class _Bar:
    """A rich progress bar on a terminal; silent otherwise (files, pipes, tests)."""

    def __init__(self, console: Console, what: str) -> None:
        self.console = console
        self.what = what
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> Callable[[int, int], None]:
        if self.console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                      TimeRemainingColumn(), console=self.console, transient=True)
            self._progress.start()
            self._task = self._progress.add_task(self.what, total=None)
        return self.update

    def update(self, done: int, total: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=done, total=total)

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.stop()


def _fmt(x: float | None, pct: bool = False, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{100 * x:.{digits}f} %" if pct else f"{x:,.{digits}f}"


def _ci(row: dict[str, Any], pct: bool = False, digits: int = 2) -> str:
    if row["ci_low"] is None or math.isnan(row["ci_low"]):
        return "—"
    return f"[{_fmt(row['ci_low'], pct, digits)}, {_fmt(row['ci_high'], pct, digits)}]"


_PCT = {"abandon_rate", "max_day_abandon_rate", "live_rate", "agent_utilization", "leads_finished_share"}
_LABELS = {
    "abandon_rate": "abandon rate",
    "max_day_abandon_rate": "worst day's abandon rate",
    "violation_days": "days over the limit",
    "live_rate": "live answers per dial",
    "agent_utilization": "agent utilization",
    "connects_per_agent_hour": "connects per agent-hour",
    "mean_idle_between_calls": "idle s between calls",
    "mean_abandon_silence": "silence s of an abandon",
    "logged_in_hours": "agent-hours logged in",
    "leads_finished_share": "leads finished",
}


# --- dialer study ---------------------------------------------------------------------------


def _study_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", nargs="?", metavar="SCENARIO|STUDY",
                   help="a scenario file, or a study file with a [sweep] table (default: the embedded scenario)")
    p.add_argument("--replications", type=_replications,
                   help=f"seeds per variation (default 10, or the study file's; at most {limits.MAX_REPLICATIONS})")
    p.add_argument("--seed", type=cli.nonneg_int, help="first seed; replication r uses seed + r (default 0)")
    p.add_argument("--out", metavar="DIR", help="results directory (default results/<study name>)")
    p.add_argument("--json", metavar="PATH", help="also write the summary (mean and 95 %% CI per statistic) as JSON")
    p.add_argument("--no-plots", action="store_true", help="write no plots")
    _backend_args(p)


def print_study(result: Any, console: Console) -> None:
    s = result.study
    rows = result.summary
    variations = list(dict.fromkeys(r["variation"] for r in rows))
    campaigns = list(dict.fromkeys(r["campaign"] for r in rows))
    by = {(r["variation"], r["campaign"], r["statistic"]): r for r in rows}
    reps = f"{s.replications} replications (seeds {s.seed}..{s.seed + s.replications - 1})"
    if len(variations) == 1:
        v = variations[0]
        for c in campaigns:
            t = Table(title=f"{s.name} — campaign {c!r}: {reps}, mean and 95 % confidence interval")
            for col in ("statistic", "mean", "95 % CI", "sd"):
                t.add_column(col, justify="left" if col == "statistic" else "right")
            for stat in dict.fromkeys(r["statistic"] for r in rows):
                r = by[(v, c, stat)]
                pct = stat in _PCT
                t.add_row(_LABELS.get(stat, stat.replace("_", " ")), _fmt(r["mean"], pct), _ci(r, pct),
                          _fmt(r["sd"], pct))
            console.print(t)
        return
    cols = ("abandon_rate", "max_day_abandon_rate", "violation_days", "connects_per_agent_hour",
            "agent_utilization", "leads_finished_share")
    for c in campaigns:
        t = Table(title=f"{s.name} — campaign {c!r}: {len(variations)} variations x {reps}; mean [95 % CI]")
        t.add_column("variation")
        for col in cols:
            t.add_column(_LABELS[col], justify="right")
        for v in variations:
            cells = []
            for col in cols:
                r = by[(v, c, col)]
                pct = col in _PCT
                cells.append(f"{_fmt(r['mean'], pct)}\n{_ci(r, pct)}")
            t.add_row(v, *cells)
        console.print(t)


def run_study_command(args: argparse.Namespace) -> int:
    from dialer.plan import output, study
    from dialer.plan.runs import code_version

    if args.path is None:
        from dialer.sim import scenario as sc

        st = study.from_scenario(sc.default(), replications=args.replications or 10, seed=args.seed or 0,
                                 source="default scenario")
    else:
        st = study.load(args.path, replications=args.replications, seed=args.seed)
    backend, cache = _backend(args)
    console = cli.console()
    out = output.make_dir(args.out or Path("results") / _slug(st.name))
    n_runs = len(st.variations) * st.replications
    with _Bar(console, f"{st.name}: {n_runs} runs") as bar:
        result = study.run_study(st, backend=backend, cache=cache, progress=bar)
    print_study(result, console)
    manifest = {
        "kind": "study",
        "name": st.name,
        "source": st.source,
        "sweep": st.sweep,
        "replications": st.replications,
        "seed": st.seed,
        "campaign": st.campaign,
        "variations": [{"label": v.label, "changes": v.changes} for v in st.variations],
        "base": st.base,
        "scenarios": result.scenarios,
        "code_version": code_version(),
        "backend": backend.describe(),
        "computed": result.stats.computed,
        "cached": result.stats.cached,
    }
    paths = output.write_study(out, result, manifest)
    if not args.no_plots:
        paths += _study_plots(out, result)
    if args.json:
        output.write_json(Path(args.json), study.json_summary(result), "--json")
    console.print(
        f"  {result.stats.computed} runs computed {backend.describe()}, {result.stats.cached} taken from the cache; "
        f"results in {out}/ (CSV, Parquet, study.json{', plots/' if not args.no_plots else ''})"
    )
    return 0


def _study_plots(out: Path, result: Any) -> list[Path]:
    import pandas as pd

    from dialer.plan import plots

    trace = pd.DataFrame(result.trace) if result.trace else None
    summary = pd.DataFrame(result.summary)
    paths: list[Path] = []
    for name, fig in plots.study_figures(trace, summary).items():
        paths += plots.save(fig, out / "plots", name)
    return paths


# --- dialer staff ---------------------------------------------------------------------------


def _staff_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", nargs="?", help="scenario TOML file (default: the embedded default scenario)")
    p.add_argument("--leads", type=cli.typed(limits.LEADS, int), required=True,
                   help=f"numbers in the list to work through (at most {limits.MAX_LEADS})")
    p.add_argument("--within", type=cli.typed(limits.DAYS, int), required=True, metavar="DAYS",
                   help=f"calendar days from the scenario's start date (its hours and calendar rules apply; "
                        f"at most {limits.MAX_DAYS})")
    p.add_argument("--confidence", type=cli.fraction, default=0.9,
                   help="share of replications that must succeed (default 0.9)")
    p.add_argument("--replications", type=_replications, default=10,
                   help=f"seeds per number of agents (default 10, at most {limits.MAX_REPLICATIONS})")
    p.add_argument("--seed", type=cli.nonneg_int, default=0, help="first seed (default 0)")
    p.add_argument("--modes", default="power,predictive", help="modes to compare, comma-separated (default power,predictive)")
    p.add_argument("--campaign", help="the campaign to staff (default: the first)")
    p.add_argument("--finish", type=float, default=0.99,
                   help="share of leads that must be finished by the end of the calendar (default 0.99)")
    p.add_argument("--out", metavar="DIR", help="results directory (default results/staff-<scenario name>)")
    p.add_argument("--json", metavar="PATH", help="also write the search as JSON")
    _backend_args(p)


def run_staff_command(args: argparse.Namespace) -> int:
    from dialer.plan import output, plots, staff
    from dialer.plan.runs import code_version

    sc = cli.load_scenario(args.scenario)
    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    if not modes:
        raise ConfigError(f"--modes must name at least one mode, got {args.modes!r}")
    backend, cache = _backend(args)
    console = cli.console()
    out = output.make_dir(args.out or Path("results") / f"staff-{_slug(sc.study.name)}")
    with console.status("searching", spinner="dots") if console.is_terminal else _Quiet() as status:
        def progress(text: str) -> None:
            if console.is_terminal:
                status.update(text)

        result = staff.staff_search(
            sc, leads=args.leads, within=args.within, confidence=args.confidence, replications=args.replications,
            seed=args.seed, modes=modes, campaign=args.campaign, finish=args.finish, backend=backend, cache=cache,
            progress=progress,
        )
    print_staff(result, console)
    manifest = {
        "kind": "staff", "name": sc.study.name, "source": args.scenario or "default scenario",
        "campaign": result.campaign, "leads": result.leads, "within_days": result.days,
        "confidence": result.confidence, "finish": result.finish, "replications": result.replications,
        "seed": result.seed, "base": result.scenario, "code_version": code_version(),
        "backend": backend.describe(), "computed": result.computed, "cached": result.cached,
        "required": {s.mode: s.required for s in result.searches},
    }
    output.write_json(out / "manifest.json", manifest)
    output.write_table(out, "staff", result.rows())
    output.write_json(out / "staff.json", staff.staff_json(result))
    if args.json:
        output.write_json(Path(args.json), staff.staff_json(result), "--json")
    import pandas as pd

    plots.save(plots.staffing_curve(pd.DataFrame(result.rows()), result.confidence), out / "plots", "staffing_curve")
    console.print(f"  {result.computed} runs computed {backend.describe()}, {result.cached} taken from the cache; "
                  f"results in {out}/")
    return 0


class _Quiet:
    def __enter__(self) -> "_Quiet":
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def update(self, text: str) -> None:
        pass


def print_staff(result: Any, console: Console) -> None:
    t = Table(title=(
        f"Staffing campaign {result.campaign!r}: {result.leads:,} leads within {result.days} day(s), "
        f"{100 * result.finish:g} % finished and no day over the abandon limit in at least "
        f"{100 * result.confidence:g} % of {result.replications} replications"))
    for col in ("mode", "agents needed", "success there", "theory's start", "connects/agent-h", "worst day's abandon"):
        t.add_column(col, justify="left" if col == "mode" else "right")
    for s in result.searches:
        at = next((p for p in s.points if p["agents"] == s.required), None)
        t.add_row(
            s.mode,
            "not found" if s.required is None else str(s.required),
            "—" if at is None else f"{at['successes']}/{at['replications']}",
            str(s.start),
            "—" if at is None else f"{at['connects_per_agent_hour']:.2f}",
            "—" if at is None else _fmt(at["max_day_abandon_rate"], True),
        )
    console.print(t)
    for s in result.searches:
        tried = ", ".join(f"{p['agents']}: {p['successes']}/{p['replications']}"
                          for p in sorted(s.points, key=lambda p: p["agents"]))
        console.print(f"  {s.mode}, agents tried (successes): {tried}")
        if s.required is None:
            best = max(s.points, key=lambda p: p["finished_share"])
            console.print(
                f"  {s.mode}: more agents stopped helping (at best {100 * best['finished_share']:.1f} % of leads "
                f"finished): the calendar is the limit — retry delays outlast it. Lengthen --within or lower --finish."
            )


# --- dialer report ---------------------------------------------------------------------------


def _report_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("results", metavar="RESULTS", help="a results directory written by 'dialer study' or 'dialer staff'")
    p.add_argument("--out", metavar="FILE.html", help="the report (default RESULTS/report.html)")


def run_report_command(args: argparse.Namespace) -> int:
    from dialer.plan.output import Results
    from dialer.plan.report import build

    results = Results(args.results)
    path = Path(args.out) if args.out else results.dir / "report.html"
    text = build(results)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"--out {str(path)!r} cannot be written: {err.strerror or err}") from None
    cli.console().print(f"  report written to {path} ({len(text) // 1024} KiB, self-contained)")
    return 0


# --- dialer calls and dialer fit ------------------------------------------------------------------


def _calls_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", nargs="?", help="scenario TOML file (default: the embedded default scenario)")
    p.add_argument("--seed", type=cli.nonneg_int, default=0, help="random seed (default 0)")
    p.add_argument("--out", metavar="CALLS.csv", required=True, help="where to write one record per dial")


def run_calls_command(args: argparse.Namespace) -> int:
    from dialer.plan.fit import write_calls
    from dialer.sim.trace import simulate_traced

    sc = cli.load_scenario(args.scenario)
    _, _, log = simulate_traced(sc, args.seed, interval=None, calls=True)
    n = write_calls(args.out, log.records, sc)
    cli.console().print(f"  {n} call records written to {args.out}")
    return 0


def _fit_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("calls", metavar="CALLS.csv", help="call records: dial, answer, connect, end, outcome (+ optional)")
    p.add_argument("--out", metavar="SCENARIO.toml", default="fitted.toml", help="the fitted scenario (default fitted.toml)")
    p.add_argument("--base", metavar="SCENARIO", help="scenario giving what records cannot tell (default: embedded)")
    p.add_argument("--campaign", help="fit only the rows of this campaign")
    p.add_argument("--plot", metavar="PATH", help="figure of the fits, PNG and SVG (default: beside --out)")
    p.add_argument("--min-hour-dials", type=cli.whole(1), default=30,
                   help="dials an hour needs for its own outcome probabilities (default 30)")
    p.add_argument("--strict", action="store_true", help="stop at the first bad row instead of skipping it")


def run_fit_command(args: argparse.Namespace) -> int:
    from dialer.plan import fit, plots

    base = cli.load_scenario(args.base)
    records = fit.read_calls(args.calls, base.study.timezone, args.campaign)
    console = cli.console()
    if records.bad and args.strict:
        raise ConfigError(f"{args.calls}: {records.bad[0]}")
    for line in records.bad[:20]:
        console.print(f"  skipped {args.calls}: {line}", markup=False, soft_wrap=True)  # one line each, whatever its length
    if len(records.bad) > 20:
        console.print(f"  ... and {len(records.bad) - 20} more bad rows")
    result = fit.fit_records(records, base, min_hour_dials=args.min_hour_dials)
    out = Path(args.out)
    text = fit.to_toml(result.scenario, fit.header_lines(result, args.calls))
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"--out {str(out)!r} cannot be written: {err.strerror or err}") from None
    t = Table(title=f"Fitted from {result.used} calls ({len(records.bad)} bad rows skipped)")
    for col in ("duration", "samples", "chosen", "parameters", "KS statistic", "AIC by family"):
        t.add_column(col, justify="left" if col in ("duration", "chosen", "parameters", "AIC by family") else "right")
    for f in result.durations:
        params = "kept the base scenario's" if f.spec is None else ", ".join(
            f"{k}={v}" for k, v in f.spec.items() if k != "dist")
        aic = ", ".join(f"{k} {v:.0f}" for k, v in sorted(f.aic.items(), key=lambda kv: kv[1]))
        t.add_row(f.name, str(f.n), f.chosen or "—", params, "—" if f.ks is None else f"{f.ks:.4f}", aic or "—")
    console.print(t)
    p = result.probabilities
    console.print(f"  outcomes per dial: live {_fmt(p['live'], True)}, machine {_fmt(p['machine'], True)}, "
                  f"busy {_fmt(p['busy'], True)}, invalid {_fmt(p['invalid'], True)}; "
                  f"{len(result.hours)} hours with their own probabilities")
    for note in result.notes:
        console.print(f"  note: {note}", markup=False)
    plot_base = Path(args.plot) if args.plot else out.with_suffix("")
    plot_base = plot_base.with_suffix("") if plot_base.suffix in (".png", ".svg") else plot_base
    plots.save(fit.figure(result), plot_base.parent, plot_base.name + ("" if args.plot else "-fit"))
    console.print(f"  scenario written to {out}; figure {plot_base.parent / (plot_base.name + ('' if args.plot else '-fit'))}.png/.svg")
    return 0


#: the commands of this module, for `dialer.cli`: (name, help, add arguments, run)
COMMANDS = (
    cli.Command("study", "replications of a scenario, or a sweep of variations, with 95 % confidence intervals", _study_args, run_study_command),
    cli.Command("staff", "smallest number of agents that works through a list in time within the abandon limit", _staff_args, run_staff_command),
    cli.Command("report", "one self-contained HTML report of a study or staffing search, plots embedded", _report_args, run_report_command),
    cli.Command("calls", "simulate a study and write its call records (one row per dial) as CSV, for 'dialer fit'", _calls_args, run_calls_command),
    cli.Command("fit", "fit a scenario (outcomes by hour, duration distributions) to call records", _fit_args, run_fit_command),
)
