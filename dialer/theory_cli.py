"""The `dialer theory` and `dialer erlang` commands: instant answers from queueing theory.

Owns: reducing a scenario's campaign to the means the closed forms take
(`campaign_means`), and the two commands that print what `dialer.theory`
says, as tables and as tidy JSON rows that carry their inputs:

    dialer theory [SCENARIO] [--json PATH]
    dialer erlang b --servers N --load A [--target P]
    dialer erlang c --rate L --handle H [--servers N] [--within T] [--target SL]
    dialer erlang a --rate L --handle H --patience P [--servers N] [--within T] [--target SL]

Must not know about: how anything is computed (that is `dialer.theory`), the
simulator's engine. It registers itself with `dialer.cli`'s `command`
decorator; every error a user can cause is a `ConfigError` (or an argparse
error) that names the flag or field and the bad value, printed in one line.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from rich.console import Console
from rich.table import Table

from dialer import cli
from dialer.errors import ConfigError, bad

HOUR = 3600.0

APPROXIMATION = (
    "Markovian approximation from the scenario's means: one pool of agents (the mean number logged in "
    "during the calling window), hourly answer probabilities averaged over the window, exponential ring "
    "and handle times with the scenario's means, every dial ringing the mean time to outcome of all dials "
    "for the fixed-ratio and optimal figures. Power's figures are exact for any durations "
    "(renewal-reward); the others are exact on a Markovian floor only. A live answer that finds no idle "
    "agent is abandoned at once (the connect limit counts as 0, so abandon figures lean pessimistic); "
    "trunk lines are not modelled (the last column says how many are held on average). Figures are long-run "
    "averages: single days scatter around them."
)


# --- registering with dialer.cli -------------------------------------------------------------


_command = cli.command


# --- argument types (argparse prefixes the flag: "argument --servers: must be ...") ------------


def _number(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return x


def positive_seconds(text: str) -> float:
    x = _number(text)
    if x <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return x


def nonneg_seconds(text: str) -> float:
    x = _number(text)
    if x < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more seconds, got {text!r}")
    return x


def positive_erlangs(text: str) -> float:
    x = _number(text)
    if x <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of Erlangs, got {text!r}")
    return x


_PER = {"s": 1.0, "sec": 1.0, "min": 60.0, "h": HOUR, "hour": HOUR}


def rate_per_second(text: str) -> float:
    """Arrivals per hour by default; '2/min', '0.05/s' and '120/h' say their unit. Returns per second."""
    number, _, unit = text.partition("/")
    per = _PER.get(unit.strip().lower()) if unit else HOUR
    if per is None:
        raise argparse.ArgumentTypeError(f"unit must be /s, /min or /h, got {text!r}")
    try:
        x = float(number)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a number of calls per hour (or with a unit: '2/min', '0.05/s'), got {text!r}"
        ) from None
    if not math.isfinite(x) or x <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of calls per hour, got {text!r}")
    return x / per


def _pct(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{100 * x:.{digits}f} %"


def _clock(secs: float) -> str:
    h, m = divmod(int(round(secs / 60.0)), 60)
    return f"{h:02d}:{m:02d}"


def _write_json(path: str | None, data: dict[str, Any]) -> None:
    if path:
        cli.write_text(path, json.dumps(data, indent=2) + "\n")


# --- dialer theory -------------------------------------------------------------------------------


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def campaign_means(scenario: Any, campaign: Any) -> dict[str, Any]:
    """The means of one campaign that the closed forms take, over the study's calling window.

    agents_mean: agents logged in on the campaign, time-weighted over the
    window (shifts clipped to it); agents: that rounded (at least 1 when any
    agent works in the window, else 0). Outcome probabilities: the hourly
    values in force, weighted by each hour's share of the window.
    handle_time = talk + wrap means; ring_time = the mean ring of a live
    answer; failed_ring_time = the probability-weighted mean time of a
    failed attempt (machine answers ring like live ones, busy and invalid
    tones, the no-answer timeout); dial_time = the probability-weighted mean
    time to outcome of all dials, the one ring time of the ratio and optimal
    models.
    """
    window = tuple(scenario.study.hours)
    span = window[1] - window[0]
    agent_seconds = sum(g.count * _overlap(scenario.shift_of(g), window) for g in scenario.agents_of(campaign.name))
    agents_mean = agent_seconds / span
    agents = 0 if agents_mean == 0 else max(1, int(math.floor(agents_mean + 0.5)))
    weighted = [0.0, 0.0, 0.0, 0.0]  # live, machine, busy, invalid: probability x seconds of the window
    for hour in range(24):
        secs = _overlap((hour * HOUR, (hour + 1) * HOUR), window)
        if secs > 0:
            for i, p in enumerate(campaign.outcomes.for_hour(hour)):
                weighted[i] += secs * p
    live, machine, busy, invalid = (x / span for x in weighted)
    no_answer = max(0.0, 1.0 - live - machine - busy - invalid)
    d = campaign.durations
    failed_total = machine * d.ring.mean + busy * d.busy.mean + invalid * d.invalid.mean + no_answer * d.no_answer.mean
    failed = failed_total / (1.0 - live) if live < 1.0 else None
    return {
        "window": [_clock(window[0]), _clock(window[1])],
        "agents_mean": agents_mean,
        "agents": agents,
        "live_prob": live,
        "machine_prob": machine,
        "busy_prob": busy,
        "invalid_prob": invalid,
        "no_answer_prob": no_answer,
        "talk_time": float(d.talk.mean),
        "wrap_time": float(d.wrap.mean),
        "handle_time": float(d.talk.mean + d.wrap.mean),
        "ring_time": float(d.ring.mean),
        "failed_ring_time": failed,
        "dial_time": live * d.ring.mean + failed_total,
        "abandon_limit": float(campaign.abandon_limit),
        "connect_limit": float(campaign.connect_limit),
        "lines": campaign.lines,
    }


def _lines_in_use(m: dict[str, Any], dials_per_agent_hour: float, occupancy: float) -> float:
    """Mean trunk lines held: dials in flight (Little: dial rate x time to outcome) plus calls in talk."""
    n = m["agents"]
    in_flight = dials_per_agent_hour * n / HOUR * m["dial_time"]
    talking = n * occupancy * (m["talk_time"] / m["handle_time"] if m["handle_time"] > 0 else 0.0)
    return in_flight + talking


def campaign_theory(scenario: Any, campaign: Any, day: bool = False) -> dict[str, Any]:
    """One campaign's analytic picture: its means, Power, fixed ratios, the optimal bound (a tidy dict).

    `day`: add the best day under the per-day promise (`envelope_day`, a
    fluid estimate that starts the calling window with no budget; seconds,
    not milliseconds).
    """
    from dialer.core.modes import make_pacer
    from dialer.theory import campaign_picture, poisson_dialing, ratio_dialing

    m = campaign_means(scenario, campaign)
    out: dict[str, Any] = {"name": campaign.name, "mode": campaign.mode, "inputs": m}
    if m["agents"] == 0:
        out["note"] = "no agent works on this campaign during the calling window"
        return out
    where = f"campaign {campaign.name!r}: "
    if m["handle_time"] <= 0:
        raise bad(where + "the mean of durations.talk + durations.wrap", m["handle_time"], "positive for the theory")
    if m["dial_time"] <= 0:
        raise bad(where + "the mean time to outcome of a dial", m["dial_time"], "positive for the theory")
    n, h, p, limit, ring = m["agents"], m["handle_time"], m["live_prob"], m["abandon_limit"], m["dial_time"]
    pic = campaign_picture(n, h, ring, p, limit)
    # Power needs no Markovian approximation: by renewal-reward its cycle on the real floor is
    # p (ring_time + h) + (1 - p) failed_ring_time = p h + dial_time, the very cycle of Power on the
    # one-ring-time floor of the other models. So campaign_picture's Power row is exact, and every
    # gain below compares like with like.
    pw = pic["power"]
    power_cph = pw["connects_per_agent_hour"]

    def gain(cph: float) -> float | None:
        return cph / power_cph - 1.0 if power_cph > 0 else None

    rows = [
        {
            "model": "power",
            "setting": "1 reserved dial per idle agent",
            "abandon_rate": 0.0,
            "occupancy": pw["occupancy"],
            "connects_per_agent_hour": power_cph,
            "dials_per_agent_hour": pw["dials_per_agent_hour"],
            "gain_over_power": 0.0 if power_cph > 0 else None,
            "lines_in_use": _lines_in_use(m, pw["dials_per_agent_hour"], pw["occupancy"]),
        }
    ]
    r = pic["ratio"]
    rows.append(
        {
            "model": "fixed-ratio",
            "setting": f"{r['ratio']:g} x idle agents, the largest within the limit",
            "ratio": r["ratio"],
            "abandon_rate": r["abandon_rate"],
            "occupancy": r["occupancy"],
            "connects_per_agent_hour": r["connects_per_agent_hour"],
            "dials_per_agent_hour": r["dials_per_agent_hour"],
            "gain_over_power": gain(r["connects_per_agent_hour"]),
            "lines_in_use": _lines_in_use(m, r["dials_per_agent_hour"], r["occupancy"]),
        }
    )
    params = make_pacer(campaign.mode, campaign.pacer).get_params()
    if campaign.mode == "fixed-ratio":
        own = ratio_dialing(n, h, ring, p, params["ratio"])
        rows.append(
            {
                "model": "fixed-ratio",
                "setting": f"{own.ratio:g} x idle agents, this campaign's ratio",
                "ratio": own.ratio,
                "abandon_rate": own.abandon_rate,
                "occupancy": own.occupancy,
                "connects_per_agent_hour": own.connects_per_agent_hour,
                "dials_per_agent_hour": own.dials_per_agent_hour,
                "gain_over_power": gain(own.connects_per_agent_hour),
                "lines_in_use": _lines_in_use(m, own.dials_per_agent_hour, own.occupancy),
            }
        )
    elif campaign.mode == "poisson":
        # open loop: the connect limit is the grace of the M/M/n+D queue
        op = poisson_dialing(n, params["rate"], p, h, grace=m["connect_limit"])
        dials_h = HOUR * op.dial_rate / n
        rows.append(
            {
                "model": "poisson",
                "setting": f"{op.dial_rate:g} dials/s open loop, this campaign's (grace {op.grace:g} s)",
                "dial_rate": op.dial_rate,
                "abandon_rate": op.abandon_rate,
                "occupancy": op.occupancy,
                "connects_per_agent_hour": op.connects_per_agent_hour,
                "dials_per_agent_hour": dials_h,
                "gain_over_power": gain(op.connects_per_agent_hour),
                "lines_in_use": _lines_in_use(m, dials_h, op.occupancy),
            }
        )
    o = pic["optimal"]
    rows.append(
        {
            "model": "optimal",
            "setting": f"the best any pacer can do within {_pct(limit)}",
            "abandon_rate": o["abandon_rate"],
            "occupancy": o["occupancy"],
            "connects_per_agent_hour": o["connects_per_agent_hour"],
            "dials_per_agent_hour": o["dials_per_agent_hour"],
            "gain_over_power": gain(o["connects_per_agent_hour"]),
            "lines_in_use": _lines_in_use(m, o["dials_per_agent_hour"], o["occupancy"]),
        }
    )
    if day:
        from dialer.theory import envelope_day

        window = scenario.study.hours
        ed = envelope_day(n, h, ring, p, limit, hours=(window[1] - window[0]) / HOUR)
        ed_dials = ed.connects_per_agent_hour / (p * (1.0 - ed.abandon_rate)) if p > 0 else 0.0
        rows.append(
            {
                "model": "optimal, day",
                "setting": f"the best day any pacer can have keeping {_pct(limit)} at every moment (estimate)",
                "abandon_rate": ed.abandon_rate,
                "occupancy": ed.occupancy,
                "connects_per_agent_hour": ed.connects_per_agent_hour,
                "dials_per_agent_hour": ed_dials,
                "gain_over_power": gain(ed.connects_per_agent_hour),
                "lines_in_use": _lines_in_use(m, ed_dials, ed.occupancy),
                "kept_share": ed.kept_share,
            }
        )
    out["rows"] = rows
    out["optimal_policy"] = {
        "dials_in_flight_by_busy_agents": o["policy"],
        "randomised_state": o["randomised_state"],
        "randomised_dial_prob": o["randomised_dial_prob"],
        "multiplier": o["multiplier"],
    }
    return out


def _theory_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", nargs="?", help="scenario TOML file (default: the embedded default scenario)")
    p.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    p.add_argument("--day", action="store_true",
                   help="also estimate the best day under the per-day promise (envelope_day; a few seconds)")


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
            t.add_row(
                row["model"],
                row["setting"],
                _pct(row["abandon_rate"]),
                _pct(row["occupancy"]),
                f"{row['connects_per_agent_hour']:.2f}",
                f"{row['dials_per_agent_hour']:.2f}",
                "—" if g is None or row["model"] == "power" else f"{100 * g:+.1f} %",
                f"{row['lines_in_use']:.1f}",
            )
        console.print(t)
        failed = m["failed_ring_time"]
        console.print(
            f"  means over {m['window'][0]}-{m['window'][1]}: {m['agents']} agents (mean logged in "
            f"{m['agents_mean']:.2f}), live answers {_pct(m['live_prob'])}, handle {m['handle_time']:.1f} s "
            f"(talk {m['talk_time']:.1f} + wrap {m['wrap_time']:.1f}), ring to a live answer "
            f"{m['ring_time']:.1f} s, failed attempt {'—' if failed is None else f'{failed:.1f} s'}, "
            f"any dial {m['dial_time']:.1f} s; abandon limit {_pct(m['abandon_limit'])}"
        )
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
        if m["lines"] is not None:
            over = [r["model"] for r in c["rows"] if r["lines_in_use"] > m["lines"]]
            if over:
                console.print(
                    f"  warning: {', '.join(over)} would need more than the campaign's {m['lines']} lines "
                    "on average; these figures ignore the cap"
                )
    console.print(f"  [dim]{data['approximation']}[/dim]")


@_command("theory", "the analytic picture of each campaign from its means (Power, fixed ratio, optimal bound)",
          _theory_args)
def run_theory(args: argparse.Namespace) -> int:
    sc = cli.load_scenario(args.scenario)
    data = {
        "scenario": sc.study.name,
        "approximation": APPROXIMATION,
        "campaigns": [campaign_theory(sc, c, day=args.day) for c in sc.campaigns],
    }
    print_theory(data, cli._console())
    _write_json(args.json, data)
    return 0


# --- dialer erlang ---------------------------------------------------------------------------------


def _erlang_args(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="model", required=True, metavar="{b,c,a}", parser_class=type(p))
    b = sub.add_parser("b", help="Erlang B: blocking of a loss system (trunk lines, no queue)",
                       description="Erlang B (M/G/n/n): the share of calls that find every server busy.")
    b.add_argument("--load", type=positive_erlangs, required=True, help="offered load in Erlangs (calls/s x hold s)")
    b.add_argument("--servers", type=cli.whole(0), help="servers (lines or agents)")
    b.add_argument("--target", type=cli.fraction, help="blocking to reach, e.g. 1%%: prints the servers needed")
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
        q.add_argument("--servers", type=cli.whole(1), help="agents")
        q.add_argument("--within", type=nonneg_seconds, default=20.0, help="service-level time, seconds (default 20)")
        q.add_argument("--target", type=cli.fraction,
                       help="service level to reach within --within, e.g. 80%%: prints the agents needed")
        q.add_argument("--json", metavar="PATH", help="also write the rows as JSON")


def _servers_for_blocking(load: float, target: float) -> int:
    """Smallest n with Erlang B(n, load) <= target (B falls with n): gallop, then bisect."""
    from dialer.theory import erlang_b

    if erlang_b(0, load) <= target:
        return 0
    lo, hi = 0, 1
    while erlang_b(hi, load) > target:
        lo, hi = hi, 2 * hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if erlang_b(mid, load) <= target:
            hi = mid
        else:
            lo = mid
    return hi


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
        t.add_row(str(row["servers"]), _pct(row["blocking"], 3), f"{row['carried_load']:.3f}",
                  f"{row['lost_load']:.3f}", mark)
    console.print(t)
    if required is not None:
        console.print(f"  {required} servers keep blocking at or below {_pct(args.target)}")
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
    if args.model == "c" and args.servers is not None and args.servers <= load:
        raise bad(
            "--servers",
            args.servers,
            f"more than the offered load of {load:.4g} Erlangs (--rate x --handle) for Erlang C to be stable "
            "(or use 'dialer erlang a' with --patience)",
        )
    required = None
    if args.target is not None:
        required = required_agents(lam, h, args.target, within, theta)
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
        cells = [str(row["agents"]), _pct(row["occupancy"]), _pct(row["p_wait"]), f"{row['mean_wait']:.2f}",
                 f"{row['mean_wait_of_waiting']:.2f}"]
        if args.model == "a":
            cells += [_pct(row["p_abandon"]), _pct(row["service_level"]), _pct(row["waited_within"])]
        else:
            cells += [_pct(row["service_level"])]
        t.add_row(*cells, _marks(row["agents"], args.servers, required))
    console.print(t)
    if required is not None:
        console.print(f"  {required} agents answer at least {_pct(args.target)} of calls within {within:g} s")
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


@_command("erlang", "classic call-centre calculators: Erlang B, C and A, service level, agents needed", _erlang_args)
def run_erlang(args: argparse.Namespace) -> int:
    console = cli._console()
    data = _erlang_b(args, console) if args.model == "b" else _erlang_ca(args, console)
    _write_json(args.json, data)
    return 0
