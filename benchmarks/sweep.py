"""Sweep speed: the same runs of the default scenario serially and on a local Dask cluster.

    python benchmarks/sweep.py [--runs 200] [--workers 2] [--mode power|predictive|...]

Prints one table: wall time serially, on a local cluster of `--workers`
processes (cluster start-up included, as a planner pays it), and the speed-up.
No cache: every run is computed both times, and the two results are checked
to be identical. Timings belong here, never in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from rich.console import Console
from rich.table import Table

from dialer.plan import study as st
from dialer.plan.execute import Backend
from dialer.sim import scenario


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=200, help="replications of the default scenario (default 200)")
    p.add_argument("--workers", type=int, default=2, help="worker processes of the local cluster (default 2)")
    p.add_argument("--mode", help="override the default scenario's mode (default: keep it)")
    args = p.parse_args()
    sc = scenario.default()
    if args.mode:
        d = sc.model_dump(mode="json")
        d["campaigns"][0]["mode"], d["campaigns"][0]["pacer"] = args.mode, {}
        sc = scenario.from_dict(d)
    s = st.from_scenario(sc, replications=args.runs, seed=0, trace=None)
    t0 = time.perf_counter()
    serial = st.run_study(s, backend=Backend("serial"))
    t1 = time.perf_counter()
    local = st.run_study(s, backend=Backend("local", workers=args.workers))
    t2 = time.perf_counter()
    same = json.dumps(serial.runs) == json.dumps(local.runs)
    t = Table(title=f"{args.runs} runs of the default scenario ({sc.campaigns[0].mode}), {os.cpu_count()} CPUs")
    for col in ("backend", "wall s", "s per run", "speed-up", "identical"):
        t.add_column(col, justify="left" if col == "backend" else "right")
    t.add_row("serial", f"{t1 - t0:.1f}", f"{(t1 - t0) / args.runs:.2f}", "1.00", "")
    t.add_row(f"local Dask, {args.workers} workers", f"{t2 - t1:.1f}", f"{(t2 - t1) / args.runs:.2f}",
              f"{(t1 - t0) / (t2 - t1):.2f}", "yes" if same else "NO")
    Console().print(t)


if __name__ == "__main__":
    main()
