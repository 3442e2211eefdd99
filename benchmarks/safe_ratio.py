"""The largest fixed ratio within the abandon limit: the Markovian quick estimate against the ratio verified by simulation.

    python benchmarks/safe_ratio.py [--floors p,q,r,3,a] [--days N] [--fresh M] [--workers N] [--cache DIR | --no-cache] [--json PATH]

For each floor: the quick estimate (`dialer theory --quick`), the verified
ratio (`dialer theory`: the largest safe on N simulated days, seeds 0..N-1 —
none over the limit and the days' tolerance bound, 99.9 % of days at 95 %,
within it — checked on N/3 held-out days and stepped down while one is
over; fixed ratio, envelope off), then both ratios on M fresh days (seeds
1000..1000+M-1, never seen by the search): mean abandon rate (abandoned /
established over the days), worst day, days over the limit, mean
utilization; and the small-team rule's verdict. Floors, built from the
embedded default (12-hour calling window under the NO preset, wrap gamma
30 s, connect limit 2 s, lognormal talk with the default's shape):

    p  10 agents, 15 % live answers, talk 130 s, ring to an answer 20 s (the issue's first floor)
    q  50 agents, 35 % live answers, talk 300 s (the issue's second floor)
    r  (q) with no wrap-up time
    3  3 agents, the default's 25 % live answers (flat), talk 170 s
    a  the default scenario itself

Prints one Markdown table; deterministic (the same arguments give the same
figures); runs on a local Dask cluster of `--workers` processes, finished
runs kept in the run cache (`--cache`, default .dialer-cache).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from dialer.plan.analytic import campaign_theory
from dialer.plan.execute import Backend, RunCache, Session, run_tasks
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


def days_at(sc: scn.Scenario, ratio: float, seeds: range, session: Session, cache: RunCache) -> dict[str, Any]:
    data = sc.model_dump(mode="json")
    campaign = sc.campaigns[0].name
    tasks = [make_task(ratio_scenario(data, campaign, ratio), s, trace=None) for s in seeds]
    results, _ = run_tasks(tasks, session=session, cache=cache)
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
    c = p.add_mutually_exclusive_group()
    c.add_argument("--cache", default=".dialer-cache", help="the run cache (default .dialer-cache)")
    c.add_argument("--no-cache", action="store_true")
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args(argv)
    cache = RunCache(None if args.no_cache else args.cache)
    out = []
    print("| floor | ratio | which | days (seeds) | days over | mean abandon | worst day | utilization |"
          " stated risk, or what refused the next step up | s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    with Session(Backend("local", workers=args.workers)) as session:
        for name in args.floors.split(","):
            sc = build(name)
            c = sc.campaigns[0]
            t0 = time.perf_counter()
            quick = campaign_theory(sc, c)
            est = next(r for r in quick["rows"] if r["model"] == "fixed-ratio, estimate")["ratio"]
            v = verify_ratio(sc, c, days=args.days, seed=0, estimate=est, session=session, cache=cache)
            full = campaign_theory(sc, c, verified=v)
            search_s = time.perf_counter() - t0
            w = full["predictive_worth_it"]
            verdict = ("Predictive worth it: " + ("yes" if w["worth_it"] else "no")
                       + f" (+{100 * w['gain']:.1f} points at best")
            verdict += ")" if w["spread"] is None else f", spread ±{100 * w['spread']:.1f})"
            fresh = range(1000, 1000 + args.fresh)
            label = f"{name}: {FLOORS[name]}"
            vd = v.as_dict()
            for which, ratio in (("quick estimate", est), ("verified", v.ratio)):
                if ratio is None:
                    continue
                t1 = time.perf_counter()
                f = days_at(sc, ratio, fresh, session, cache)
                row = {"floor": name, "description": FLOORS[name], "which": which, "ratio": ratio, "fresh": f,
                       "verified": vd, "predictive_worth_it": w, "seconds_search": search_s,
                       "seconds_fresh": time.perf_counter() - t1}
                out.append(row)
                note = ""
                if which == "verified":
                    tb = v.tolerance
                    note = (f"a day over 5 % at most 1 in {round(1 / (1 - v.coverage)):,} at "
                            f"{100 * v.confidence:g} % (bound {100 * tb.bound:.2f} %)")
                print(f"| {label} | {ratio:g} | {which}, fresh days | {f['days']} (1000-{999 + args.fresh}) |"
                      f" {f['days_over']} | {100 * f['abandon_rate']:.2f} % | {100 * f['worst_day_abandon_rate']:.2f} % |"
                      f" {100 * f['utilization']:.1f} % | {note} | {row['seconds_fresh']:.0f} |")
            if v.ratio is not None:
                tb, fo = v.tolerance, v.first_refused
                refused = "" if fo is None else (
                    f"; {fo.ratio:g} refused: {fo.why or 'a held-out day over'}"
                    + ("" if fo.bound is None else f" (bound {100 * fo.bound.bound:.2f} %)"))
                print(f"| | {v.ratio:g} | verified, the search's days | {v.days} ({v.seeds[0]}-{v.seeds[1]}) | 0 |"
                      f" {100 * v.abandon_rate:.2f} % | {100 * v.worst_day_abandon_rate:.2f} % |"
                      f" {100 * v.utilization:.1f} % | sd {100 * tb.sd:.2f} %, skew of rates {tb.skew:+.2f}, of margins"
                      f" {tb.margin_skew:+.2f}, k {tb.factor:.2f}{refused}; {verdict} | {search_s:.0f} |")
                for h in v.holdout:
                    print(f"| | {h.ratio:g} | verified, held-out days | {h.days} ({h.seeds[0]}-{h.seeds[1]}) |"
                          f" {h.over} | {100 * h.abandon_rate:.2f} % | {100 * h.worst:.2f} % | |"
                          f" {'stepped down' if h.over else ''} | |")
            sys.stdout.flush()
    print(f"\n(spread: {SPREAD_SDS:g} sd of a day's utilization at the verified ratio)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
