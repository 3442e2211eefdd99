"""Engine speed: simulated dials per second, against a plain SimPy M/M/c yardstick.

    python benchmarks/speed.py [--agents 100] [--repeat 3] [--mode power] [--mode predictive ...]

Prints one table, and the machine's load average (1, 5, 15 min) before and
after: on a shared machine the ratio is only worth the load it was measured
at. The target (issue 2) is Power mode, which is the default
here whatever mode the default scenario dials in; `--mode` adds others for
information. The yardstick is the simplest SimPy model there is: an M/M/c
queue (c = 20, load 0.9) with a process per customer and a Resource, its
random numbers drawn in advance. Our engine is at least as fast as SimPy
itself when it simulates as many dials per second as the yardstick serves
customers per second. Timings belong here, never in tests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np
import simpy
from rich.console import Console
from rich.table import Table

from dialer.sim import scenario, simulate


def mmc_yardstick(customers: int, servers: int = 20, load: float = 0.9, seed: int = 1) -> int:
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    desk = simpy.Resource(env, capacity=servers)
    gaps = rng.exponential(1.0 / (load * servers), customers).tolist()
    services = rng.exponential(1.0, customers).tolist()
    served = 0

    def customer(i: int):
        nonlocal served
        with desk.request() as req:
            yield req
            yield env.timeout(services[i])
        served += 1

    def arrivals():
        for i in range(customers):
            yield env.timeout(gaps[i])
            env.process(customer(i))

    env.process(arrivals())
    env.run()
    return served


def scaled_default(agents: int, mode: str | None = None):
    """The default scenario with `agents` on the floor at all times (both shifts scaled)."""
    d = scenario.default().model_dump()
    d["agents"] = [{**g, "count": agents} for g in d["agents"]]
    c = d["campaigns"][0]
    c["leads"] = agents * 1000
    c["lines"] = agents * 3
    if mode is not None:
        c["mode"] = mode
        c["pacer"] = {}
    return scenario.from_dict(d, source="speed benchmark")


def timed(fn):
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--agents", type=int, default=100)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--customers", type=int, default=100_000)
    p.add_argument("--mode", action="append", dest="modes", metavar="MODE",
                   help="dialing mode to time (repeatable; default: power, the issue's target)")
    args = p.parse_args(argv)

    table = Table(title=f"Engine speed ({args.agents} agents, 12 h day; best and median of {args.repeat})")
    for col in ("model", "units", "best s", "median s", "units / s (best)"):
        table.add_column(col, justify="left" if col == "model" else "right")

    load_before = os.getloadavg()
    # the yardstick and every mode take turns, so that a machine busy with other work slows them alike
    modes = args.modes or ["power"]
    scenarios = {mode: scaled_default(args.agents, mode) for mode in modes}
    times: dict[str, list[float]] = {"yardstick": [], **{m: [] for m in modes}}
    units: dict[str, int] = {}
    for _ in range(args.repeat):
        t, units["yardstick"] = timed(lambda: mmc_yardstick(args.customers))
        times["yardstick"].append(t)
        for mode, sc in scenarios.items():
            t, res = timed(lambda: simulate(sc, seed=1))
            times[mode].append(t)
            units[mode] = res.campaigns[0].totals.attempted
    n, best = units["yardstick"], min(times["yardstick"])
    table.add_row("SimPy M/M/20, load 0.9 (yardstick)", f"{n} customers", f"{best:.3f}",
                  f"{statistics.median(times['yardstick']):.3f}", f"{n / best:,.0f}")
    yard = n / best
    for mode, sc in scenarios.items():
        dials, best = units[mode], min(times[mode])
        table.add_row(f"dialer default scenario, mode {sc.campaigns[0].mode}", f"{dials} dials", f"{best:.3f}",
                      f"{statistics.median(times[mode]):.3f}", f"{dials / best:,.0f}")
        table.add_row("  ratio to yardstick", "", "", "", f"{dials / best / yard:.2f}")
    Console(width=140).print(table)
    load_after = os.getloadavg()
    print("load average (1, 5, 15 min): before " + ", ".join(f"{x:.2f}" for x in load_before)
          + "; after " + ", ".join(f"{x:.2f}" for x in load_after))
    return 0


if __name__ == "__main__":
    sys.exit(main())
