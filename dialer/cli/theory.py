"""The `dialer theory` and `dialer erlang` commands: instant answers from queueing theory.

Owns: reducing a scenario's campaign to the means the closed forms take
(`campaign_means`), and the two commands that print what `dialer.theory`
says, as tables and as tidy JSON rows that carry their inputs:

    dialer theory [SCENARIO] [--json PATH] [--day] [--quick | --days N --seed S [--serial | --workers N] ...]
    dialer erlang b --servers N --load A [--target P]
    dialer erlang c --rate L --handle H [--servers N] [--within T] [--target SL]
    dialer erlang a --rate L --handle H --patience P [--servers N] [--within T] [--target SL]

Must not know about: how anything is computed (that is `dialer.theory`, and
`dialer.plan.safe_ratio` for the ratio verified by simulation), the
simulator's engine. It registers itself with `dialer.cli`'s `command`
decorator; every error a user can cause is a `ConfigError` (or an argparse
error) that names the flag or field and the bad value, printed in one line.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.console import Console
from rich.table import Table

from dialer.checks import Real, Whole, non_negative, positive
from dialer.cli import common as cli, plan as plan_cli, progress
from dialer.limits import MAX_SERVERS, REPLICATIONS
from dialer.plan import analytic
from dialer.plan.safe_ratio import DAYS
from dialer.errors import ConfigError, bad
from dialer.units import HOUR, pct


# --- registering with dialer.cli -------------------------------------------------------------




# --- argument types (argparse prefixes the flag: "argument --servers: must be ...") ------------


positive_seconds = cli.typed(positive("number of seconds"))
nonneg_seconds = cli.typed(non_negative("number of seconds"))
positive_erlangs = cli.typed(Real(0, MAX_SERVERS, closed="right", noun="number of Erlangs"))
_CALLS_PER_HOUR = positive("number of calls per hour")
_servers_from_0 = cli.typed(Whole(0, MAX_SERVERS), int)
_servers_from_1 = cli.typed(Whole(1, MAX_SERVERS), int)


_PER = {"s": 1.0, "sec": 1.0, "min": 60.0, "h": HOUR, "hour": HOUR}


def rate_per_second(text: str) -> float:
    """Arrivals per hour by default; '2/min', '0.05/s' and '120/h' say their unit. Returns per second."""
    number, _, unit = text.partition("/")
    per = _PER.get(unit.strip().lower()) if "/" in text else HOUR
    if per is None:
        raise argparse.ArgumentTypeError(f"unit must be /s, /min or /h, got {text!r}")
    try:
        x = float(number)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a number of calls per hour (or with a unit: '2/min', '0.05/s'), got {text!r}"
        ) from None
    if not _CALLS_PER_HOUR.accepts(x):
        raise argparse.ArgumentTypeError(f"must be {_CALLS_PER_HOUR}, got {text!r}")
    return x / per


def _clock(secs: float) -> str:
    h, m = divmod(int(round(secs / 60.0)), 60)
    return f"{h:02d}:{m:02d}"


def _write_json(path: str | None, data: dict[str, Any]) -> None:
    if path:
        cli.write_text(path, json.dumps(data, indent=2) + "\n")


# --- dialer theory -------------------------------------------------------------------------------


def _theory_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", nargs="?", help="scenario TOML file (default: the embedded default scenario)")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    p.add_argument("--day", action="store_true",
                   help="also estimate the best day under the per-day promise (envelope_day; a few seconds)")
    p.add_argument("--quick", action="store_true",
                   help="the instant answer only: the largest fixed ratio is the Markovian quick estimate, "
                        "not verified by simulation")
    p.add_argument("--days", type=cli.typed(REPLICATIONS, int), default=DAYS,
                   help=f"simulated days that verify the largest fixed ratio (default {DAYS})")
    p.add_argument("--seed", type=cli.whole(0), default=0,
                   help="first seed of the simulated days (default 0; the days use seed, seed+1, ...)")
    plan_cli._backend_args(p)


def print_theory(data: dict[str, Any], console: Console) -> None:
    for c in data["campaigns"]:
        m = c["inputs"]
        title = f"{data['scenario']} — campaign {c['name']!r} ({c['mode']}): queueing theory from the means"
        if "rows" not in c:
            console.print(f"{title}\n  {c['note']}")
            continue
        t = Table(title=title)
        for col in ("pacing", "setting", "abandon rate", "utilization", "connects/agent-h", "dials/agent-h",
                    "vs Power", "lines (mean)"):
            t.add_column(col, justify="left" if col in ("pacing", "setting") else "right")
        for row in c["rows"]:
            g = row["gain_over_power"]
            worst = row.get("worst_day_abandon_rate")
            t.add_row(
                row["model"],
                row["setting"],
                pct(row["abandon_rate"]) + ("" if worst is None else f" (worst day {pct(worst)})"),
                pct(row["occupancy"]),
                f"{row['connects_per_agent_hour']:.2f}",
                f"{row['dials_per_agent_hour']:.2f}",
                "—" if g is None or row["model"] == "power" else f"{100 * g:+.1f} %",
                f"{row['lines_in_use']:.1f}",
            )
        console.print(t)
        failed = m["failed_ring_time"]
        console.print(
            f"  means over {m['window'][0]}-{m['window'][1]}: {m['agents']} agents (mean logged in "
            f"{m['agents_mean']:.2f}), live answers {pct(m['live_prob'])}, handle {m['handle_time']:.1f} s "
            f"(talk {m['talk_time']:.1f} + wrap {m['wrap_time']:.1f}), ring to a live answer "
            f"{m['ring_time']:.1f} s, failed attempt {'—' if failed is None else f'{failed:.1f} s'}, "
            f"any dial {m['dial_time']:.1f} s; abandon limit {pct(m['abandon_limit'])}"
        )
        _print_ratio(c, console)
        w = c["predictive_worth_it"]
        console.print(f"  Predictive {'is' if w['worth_it'] else 'is not'} worth it over Power here: {w['why']} "
                      f"({w['rule']})")
        pol = c["optimal_policy"]
        keep = " ".join(str(k) for k in pol["dials_in_flight_by_busy_agents"])
        rs = pol["randomised_state"]
        rand = (
            f"; at {rs[0]} busy with {rs[1]} in flight it dials one more with probability "
            f"{pol['randomised_dial_prob']:.3f}"
            if rs is not None
            else ""
        )
        console.print(f"  optimal policy, dials in flight to keep with 0, 1, ..., {m['agents']} busy: {keep}{rand}")
        for row in c["rows"]:
            if "kept_share" in row:
                console.print(
                    f"  optimal, day: a day that starts with no budget and keeps the limit at every moment keeps "
                    f"{100 * row['kept_share']:.0f} % of the bound's gain over Power (dialer.theory.envelope_day: "
                    "a fluid estimate in the pacer's favour)"
                )
                if row.get("hour_by_hour"):
                    console.print(
                        f"  optimal, day is computed hour by hour (this floor's answers move through the day): "
                        f"utilisation {100 * row['occupancy']:.1f} %, against {100 * row['averaged_occupancy']:.1f} % "
                        "if every hour had the window's average"
                    )
        if m["lines"] is not None:
            over = [r["model"] for r in c["rows"] if r["lines_in_use"] > m["lines"]]
            if over:
                console.print(
                    f"  warning: {', '.join(over)} would need more than the campaign's {m['lines']} lines "
                    "on average; these figures ignore the cap"
                )
    console.print(f"  [dim]{data['approximation']}[/dim]")


def _print_ratio(c: dict[str, Any], console: Console) -> None:
    """The lines under the table about the largest fixed ratio: quick estimate, verified, or neither."""
    est = next(r for r in c["rows"] if r["model"] == "fixed-ratio, estimate")
    v = c.get("verified_ratio")
    limit = pct(c["inputs"]["abandon_limit"])
    if v is None:
        console.print(f"  the largest fixed ratio {est['ratio']:g} is the quick estimate (Markovian, from the means; "
                      "--quick): not verified by simulation, it can break the limit on a real floor")
        return
    fo = v["first_refused"]
    seeds = _seeds(v["seeds"])
    if v["ratio"] is None:
        console.print(f"  no fixed ratio from 1 up is safe on this floor ({v['runs']} simulated runs a ratio, "
                      f"{seeds}; {fo['ratio']:g}: {fo['why']}): dial Power or Predictive "
                      f"(the quick estimate said {est['ratio']:g})")
        return
    tb = v["tolerance"]
    in_days = round(1 / (1 - v["coverage"]))
    widened = ("" if tb["factor"] == tb["base_factor"] else
               f", widened from {tb['base_factor']:.2f} as the days lean towards the limit")
    console.print(
        f"  fixed ratio verified: dial at most {v['ratio']:g} x idle agents. On {v['days']} simulated days of this "
        f"floor (fixed ratio, envelope off, {seeds}) no day went over {limit}: mean {pct(v['abandon_rate'])}, "
        f"sd {pct(tb['sd'])}, worst day {pct(v['worst_day_abandon_rate'])}. From that spread, with "
        f"{100 * v['confidence']:g} % confidence {100 * v['coverage']:g} % of days stay under {pct(tb['bound'])} "
        f"(a normal tolerance bound, k = {tb['factor']:.2f}{widened}, on the square root of each day's abandons "
        f"against its own limit): a day over {limit} at most about once in {in_days:,} working days"
        + (" (four years of weekdays)" if in_days == 1000 else "") + ", on a floor like the one simulated."
    )
    row = next((r for r in c["rows"] if r["model"] == "fixed-ratio, verified"), None)
    if row is not None and row["gain_over_power"] is not None and row["gain_over_power"] <= 0:
        console.print(f"  at {v['ratio']:g} a fixed ratio connects no more than Power, which never abandons: "
                      "dial Power (or Predictive) rather than this ratio")
    for h in v["holdout"]:
        seen = f"{h['days']} held-out days the search never saw ({_seeds(h['seeds'])})"
        if h["days_over"]:
            console.print(f"  {h['ratio']:g} broke {limit} on {h['days_over']} of {seen}: stepped down")
        else:
            console.print(f"  checked on {seen}: none over {limit}, worst {pct(h['worst_day_abandon_rate'])}")
    if fo is not None:
        bound = "" if fo["tolerance_bound"] is None else f", bound {pct(fo['tolerance_bound'])}"
        console.print(f"  {fo['ratio']:g} was refused ({fo['why']}; worst day {pct(fo['worst_day_abandon_rate'])}"
                      f"{bound}). The quick estimate (Markovian) says {est['ratio']:g}.")
    else:
        console.print(f"  The quick estimate (Markovian) says {est['ratio']:g}.")


def _seeds(first_last: list[int]) -> str:
    first, last = first_last
    return f"seed {first}" if first == last else f"seeds {first}-{last}"


def run_theory(args: argparse.Namespace) -> int:
    from dialer.plan.execute import Session
    from dialer.plan.safe_ratio import verify_ratio

    sc = cli.load_scenario(args.scenario)
    backend, cache = plan_cli._backend(args)
    campaigns = []
    what = f"the bounds{' and the best day' if args.day else ''} of campaign"
    with progress.watching() as shown, Session(backend) as session:
        for c in sc.campaigns:
            verified = None
            if not args.quick:
                est = analytic.campaign_theory(sc, c)
                if "rows" in est:
                    ratio = next(r for r in est["rows"] if r["model"] == "fixed-ratio, estimate")["ratio"]
                    verified = verify_ratio(sc, c, days=args.days, seed=args.seed, estimate=ratio, session=session,
                                            cache=cache, step=shown.step)
            with shown.step(f"computing {what} {c.name!r}", f"computed {what} {c.name!r}"):
                campaigns.append(analytic.campaign_theory(sc, c, day=args.day, verified=verified))
    data = {
        "scenario": sc.study.name,
        "approximation": analytic.APPROXIMATION,
        "campaigns": campaigns,
    }
    print_theory(data, cli.console())
    _write_json(args.json, data)
    return 0


# --- dialer erlang ---------------------------------------------------------------------------------


def _erlang_args(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="model", required=True, metavar="{b,c,a}", parser_class=type(p))
    b = sub.add_parser("b", help="Erlang B: blocking of a loss system (trunk lines, no queue)",
                       description="Erlang B (M/G/n/n): the share of calls that find every server busy.")
    b.add_argument("--load", type=positive_erlangs, required=True, help="offered load in Erlangs (calls/s x hold s)")
    b.add_argument("--servers", type=_servers_from_0, help=f"servers (lines or agents), at most {MAX_SERVERS}")
    b.add_argument("--target", type=cli.fraction,
                   help=f"blocking to reach, e.g. 1%%: prints the servers needed (at most {MAX_SERVERS})")
    b.add_argument("--json", metavar="PATH", help="also write the rows as JSON")
    for name, text in (
        ("c", "Erlang C (M/M/n): waiting, service level, occupancy; infinitely patient callers"),
        ("a", "Erlang A (M/M/n+M): as Erlang C with callers who hang up after an exponential patience"),
    ):
        q = sub.add_parser(name, help=text, description=text)
        q.add_argument("--rate", type=rate_per_second, required=True,
                       help="arrivals per hour (or with a unit: '2/min', '0.05/s')")
        q.add_argument("--handle", type=positive_seconds, required=True, help="mean handle time (talk + wrap), seconds")
        if name == "a":
            q.add_argument("--patience", type=positive_seconds, required=True, help="mean patience, seconds")
        q.add_argument("--servers", type=_servers_from_1, help=f"agents, at most {MAX_SERVERS}")
        q.add_argument("--within", type=nonneg_seconds, default=20.0, help="service-level time, seconds (default 20)")
        q.add_argument("--target", type=cli.fraction,
                       help=f"service level to reach within --within, e.g. 80%%: prints the agents needed "
                            f"(at most {MAX_SERVERS})")
        q.add_argument("--json", metavar="PATH", help="also write the rows as JSON")


def _servers_for_blocking(load: float, target: float) -> int:
    """Smallest n with Erlang B(n, load) <= target (B falls with n): gallop, then bisect; at most MAX_SERVERS."""
    from dialer.theory import erlang_b
    from dialer.theory.calculators import first_true

    if erlang_b(0, load) <= target:
        return 0
    if erlang_b(MAX_SERVERS, load) > target:
        raise bad("--target", target, f"reachable with at most {MAX_SERVERS} servers at an offered load of "
                                      f"{load:g} Erlangs (blocking there: {pct(erlang_b(MAX_SERVERS, load), 3)})")
    lo, hi = 0, 1
    while erlang_b(hi, load) > target:
        lo, hi = hi, min(2 * hi, MAX_SERVERS)
    return first_true(lambda n: erlang_b(n, load) <= target, lo, hi)


def _rows_to_show(given: int | None, required: int | None, lowest: int) -> list[int]:
    """The given number of servers, and two either side of the required one."""
    ns = set() if given is None else {given}
    if required is not None:
        ns.update(range(max(lowest, required - 2), required + 3))
    return sorted(ns)


def _erlang_b(args: argparse.Namespace, console: Console) -> dict[str, Any]:
    from dialer.theory import erlang_b

    if args.servers is None and args.target is None:
        raise ConfigError("--servers or --target must be given, got neither")
    required = None if args.target is None else _servers_for_blocking(args.load, args.target)
    ns = _rows_to_show(args.servers, required, lowest=0)
    rows = []
    for n in ns:
        blocking = erlang_b(n, args.load)
        rows.append({"servers": n, "offered_load": args.load, "blocking": blocking,
                     "carried_load": args.load * (1.0 - blocking), "lost_load": args.load * blocking})
    t = Table(title=f"Erlang B — offered load {args.load:g} Erlangs")
    for col in ("servers", "blocking", "carried Erlangs", "lost Erlangs", ""):
        t.add_column(col, justify="right" if col else "left")
    for row in rows:
        mark = _marks(row["servers"], args.servers, required)
        t.add_row(str(row["servers"]), pct(row["blocking"], 3), f"{row['carried_load']:.3f}",
                  f"{row['lost_load']:.3f}", mark)
    console.print(t)
    if required is not None:
        console.print(f"  {required} servers keep blocking at or below {pct(args.target)}")
    return {"model": "erlang-b", "inputs": {"offered_load": args.load, "servers": args.servers, "target": args.target},
            "required_servers": required, "rows": rows}


def _marks(n: int, given: int | None, required: int | None) -> str:
    marks = []
    if n == required:
        marks.append("◀ required")
    if n == given:
        marks.append("◀ given")
    return " ".join(marks)


def _erlang_ca(args: argparse.Namespace, console: Console) -> dict[str, Any]:
    from dialer.theory import erlang_a, erlang_table, required_agents

    lam, h, within = args.rate, args.handle, args.within
    theta = 1.0 / args.patience if args.model == "a" else 0.0
    load = lam * h
    if args.servers is None and args.target is None:
        raise ConfigError("--servers or --target must be given, got neither")
    if load > MAX_SERVERS:
        raise bad("--rate", f"{lam * HOUR:g}/h", f"small enough that the offered load (--rate x --handle, "
                                                   f"{load:.4g} Erlangs) is at most {MAX_SERVERS}")
    if args.model == "c" and args.servers is not None and args.servers <= load:
        raise bad(
            "--servers",
            args.servers,
            f"more than the offered load of {load:.4g} Erlangs (--rate x --handle) for Erlang C to be stable "
            "(or use 'dialer erlang a' with --patience)",
        )
    required = None
    if args.target is not None:
        try:
            required = required_agents(lam, h, args.target, within, theta)
        except ConfigError:  # the search gave up at MAX_SERVERS agents
            raise bad("--target", args.target, f"reachable with at most {MAX_SERVERS} agents at an offered load of "
                                               f"{load:.4g} Erlangs") from None
    ns = _rows_to_show(args.servers, required, lowest=1)
    rows = erlang_table(lam, h, within, ns, theta)
    for row in rows:
        row["mean_wait_of_waiting"] = row["mean_wait"] / row["p_wait"] if row["p_wait"] > 0 else 0.0
        if args.model == "a":
            row["waited_within"] = erlang_a(lam, 1.0 / h, row["agents"], theta).service_level(within)
    name = "Erlang C" if args.model == "c" else f"Erlang A (mean patience {args.patience:g} s)"
    t = Table(title=f"{name} — {lam * HOUR:g} calls/h, handle {h:g} s, load {load:.3f} Erlangs")
    cols = ["agents", "occupancy", "P(wait)", "mean wait s", "wait if waiting s"]
    if args.model == "a":
        cols += ["P(abandon)", f"answered ≤ {within:g} s", f"waited ≤ {within:g} s"]
    else:
        cols += [f"answered ≤ {within:g} s"]
    for col in cols + [""]:
        t.add_column(col, justify="right" if col else "left")
    for row in rows:
        cells = [str(row["agents"]), pct(row["occupancy"]), pct(row["p_wait"]), f"{row['mean_wait']:.2f}",
                 f"{row['mean_wait_of_waiting']:.2f}"]
        if args.model == "a":
            cells += [pct(row["p_abandon"]), pct(row["service_level"]), pct(row["waited_within"])]
        else:
            cells += [pct(row["service_level"])]
        t.add_row(*cells, _marks(row["agents"], args.servers, required))
    console.print(t)
    if required is not None:
        console.print(f"  {required} agents answer at least {pct(args.target)} of calls within {within:g} s")
    if args.model == "a":
        console.print(
            f"  answered ≤ {within:g} s counts only calls answered in time (the staffing target); "
            f"waited ≤ {within:g} s also counts callers who hung up within {within:g} s"
        )
    inputs = {"arrival_rate": lam, "calls_per_hour": lam * HOUR, "handle_time": h, "offered_load": load,
              "within": within, "servers": args.servers, "target": args.target}
    if args.model == "a":
        inputs["patience"] = args.patience
    return {"model": f"erlang-{args.model}", "inputs": inputs, "required_agents": required, "rows": rows}


def run_erlang(args: argparse.Namespace) -> int:
    console = cli.console()
    data = _erlang_b(args, console) if args.model == "b" else _erlang_ca(args, console)
    _write_json(args.json, data)
    return 0


#: the commands of this module, for `dialer.cli`: (name, help, add arguments, run)
COMMANDS = (
    cli.Command("theory", "the analytic picture of each campaign from its means (Power, fixed ratio, optimal bound)", _theory_args, run_theory),
    cli.Command("erlang", "classic call-centre calculators: Erlang B, C and A, service level, agents needed", _erlang_args, run_erlang),
)
