"""The largest fixed ratio within the abandon limit: the Markovian quick estimate against the ratio verified by simulation.

    python benchmarks/safe_ratio.py [--floors p,q,3,a] [--days N] [--fresh M] [--workers N] [--json PATH]

For each floor: the quick estimate (`dialer theory --quick`), the verified
ratio (`dialer theory`: the largest with no day over in N simulated days,
seeds 0..N-1, fixed ratio with the envelope off), then both ratios on M
fresh days (seeds 1000..1000+M-1, never seen by the search): mean abandon
rate (abandoned / established over the days), worst day, days over the
limit, mean utilization; and the small-team rule's verdict. Floors, built
from the embedded default (12-hour calling window under the NO preset, wrap
gamma 30 s, connect limit 2 s, lognormal talk with the default's shape):

    p  10 agents, 15 % live answers, talk 130 s, ring to an answer 20 s (the issue's first floor)
    q  50 agents, 35 % live answers, talk 300 s (the issue's second floor)
    r  (q) with no wrap-up time
    3  3 agents, the default's 25 % live answers (flat), talk 170 s
    a  the default scenario itself (20 + 20 agents in two shifts, 60 lines)

Prints one Markdown table; deterministic (the same arguments give the same
figures); runs on a local Dask cluster of `--workers` processes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from dialer.plan.analytic import campaign_theory
from dialer.plan.execute import Backend, Session, run_tasks
from dialer.plan.runs import make_task
from dialer.plan.safe_ratio import SPREAD_SDS, ratio_scenario, verify_ratio
from dialer.sim import scenario as scn

FLOORS = {
    "p": "10 agents, 15 % live, talk 130 s, ring 20 s",
    "q": "50 agents, 35 % live, talk 300 s",
    "r": "50 agents, 35 % live, talk 300 s, no wrap-up",
    "3": "3 agents, 25 % live, talk 170 s",
    "a": "the default scenario",
}


def build(name: str) -> scn.Scenario:
    d = scn.default().model_dump(mode="json")
    if name == "a":
        return scn.from_dict(d)
    agents, live, talk, ring = {"p": (10, 0.15, 130.0, 20.0), "q": (50, 0.35, 300.0, None), "r": (50, 0.35, 300.0, None),
                                "3": (3, 0.25, 170.0, None)}[name]
    c = d["campaigns"][0]
    d["agents"] = [{"name": "all", "count": agents}]
    d["study"]["name"] = f"floor {name}: {FLOORS[name]}"
    c["outcomes"]["live"] = live
    c["outcomes"]["hours"] = {}
    c["durations"]["talk"] = {"dist": "lognormal", "mean": talk, "sd": talk * 120 / 170}
    if ring is not None:
        c["durations"]["ring"] = {"dist": "lognormal", "mean": ring, "sd": 8.0}
    if name == "r":
        c["durations"]["wrap"] = 0.0
    c["connect_limit"] = 2.0
    c["leads"] = 1500 * agents
    c["lines"] = None
    return scn.from_dict(d)


def days_at(sc: scn.Scenario, ratio: float, seeds: range, session: Session) -> dict[str, Any]:
    data = sc.model_dump(mode="json")
    campaign = sc.campaigns[0].name
    tasks = [make_task(ratio_scenario(data, campaign, ratio), s, trace=None) for s in seeds]
    results, _ = run_tasks(tasks, session=session)
    rows = [r for out in results for r in out["days"] if r["campaign"] == campaign]
    established = sum(r["connected"] for r in rows)
    return {
        "days": len(rows),
        "days_over": sum(1 for r in rows if r["over_limit"]),
        "abandon_rate": sum(r["abandoned"] for r in rows) / established if established else 0.0,
        "worst_day_abandon_rate": max(r["abandon_rate"] for r in rows),
        "utilization": sum(r["agent_utilization"] for r in rows) / len(rows),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--floors", default="p,q,r,3,a")
    p.add_argument("--days", type=int, default=60, help="days of the search (default 60)")
    p.add_argument("--fresh", type=int, default=60, help="fresh days each ratio is checked on (default 60)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args(argv)
    out = []
    print("| floor | ratio | which | days (seeds) | days over | mean abandon | worst day | utilization |"
          " Predictive worth it? | s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    with Session(Backend("local", workers=args.workers)) as session:
        for name in args.floors.split(","):
            sc = build(name)
            c = sc.campaigns[0]
            t0 = time.perf_counter()
            quick = campaign_theory(sc, c)
            est = next(r for r in quick["rows"] if r["model"] == "fixed-ratio, estimate")["ratio"]
            v = verify_ratio(sc, c, days=args.days, seed=0, estimate=est, session=session)
            full = campaign_theory(sc, c, verified=v)
            search_s = time.perf_counter() - t0
            w = full["predictive_worth_it"]
            verdict = ("yes" if w["worth_it"] else "no") + f" (+{100 * w['gain']:.1f} points at best"
            verdict += "" if w["spread"] is None else f", spread ±{100 * w['spread']:.1f})"
            fresh = range(1000, 1000 + args.fresh)
            for which, ratio in (("quick estimate", est), ("verified", v.ratio)):
                if ratio is None:
                    continue
                t1 = time.perf_counter()
                f = days_at(sc, ratio, fresh, session)
                row = {"floor": name, "description": FLOORS[name], "which": which, "ratio": ratio,
                       "fresh": f, "search_days": v.days, "break_bound": v.break_bound,
                       "search_worst_day": v.worst_day_abandon_rate, "search_abandon_rate": v.abandon_rate,
                       "predictive_worth_it": w, "seconds_search": search_s,
                       "seconds_fresh": time.perf_counter() - t1,
                       "ratios_tried": [{"ratio": t.ratio, "days": t.days, "days_over": t.over} for t in v.trials]}
                out.append(row)
                print(f"| {name}: {FLOORS[name]} | {ratio:g} | {which} | {f['days']} (fresh) | {f['days_over']} |"
                      f" {100 * f['abandon_rate']:.2f} % | {100 * f['worst_day_abandon_rate']:.2f} % |"
                      f" {100 * f['utilization']:.1f} % | {verdict if which == 'verified' else ''} |"
                      f" {row['seconds_fresh']:.0f} |")
            if v.ratio is not None:
                print(f"| {name}: {FLOORS[name]} | {v.ratio:g} | verified, the search's days | {v.days} (0-{v.days - 1})"
                      f" | 0 | {100 * v.abandon_rate:.2f} % | {100 * v.worst_day_abandon_rate:.2f} % |"
                      f" {100 * v.utilization:.1f} % | below {100 * v.break_bound:.1f} % a day at 95 %;"
                      f" {v.first_over.ratio:g} broke on {v.first_over.over} of {v.first_over.days} |"
                      f" {search_s:.0f} |")
            sys.stdout.flush()
    print(f"\n(spread: {SPREAD_SDS:g} sd of a day's utilization at the verified ratio)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
