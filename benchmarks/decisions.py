"""Decision latency of a live campaign in process: no solve on the decision path.

The simulator's floor drives a `LiveCampaign` (as `dialer emulate` drives the
service, without HTTP) and every `decide` is timed. Each run starts with an
empty disk cache (a fresh temporary DIALER_CACHE_DIR) and a fresh solver:

- fresh 100 agents: the default floor with 100 agents, 09:00-11:00; the first
  1,000 decisions and all of them;
- drifting floor: 30 agents whose live-answer rate moves every hour (10 %
  to 32 %), 3,000 decisions and more;

each with the solves in the background (the live default: a worker
process solves, the decision dials as Power meanwhile) and, for contrast,
waiting for them (`wait_for_solves`, what the simulator and `dialer emulate`
do). The background runs hold simulated time to `--speed` times the wall
clock (default 120x), so that solves land while the day goes on, as in a
real day but 120 times sooner: they spend more of it on Power than a real
day would. This measures how long a decision takes, not how well it paces.

    python benchmarks/decisions.py            # both floors, both ways
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from typing import Any

from rich.console import Console
from rich.table import Table

from dialer.core.modes import accepted
from dialer.core.solver import PacingSolver
from dialer.live import CampaignConfig, LiveCampaign
from dialer.live.warmer import Warmer
from dialer.sim import scenario, simulate


class Timed:
    """The engine's view of a controller, backed by a LiveCampaign whose every decision is timed."""

    def __init__(self, live: LiveCampaign, times: list[int], powers: list[bool], speed: float | None) -> None:
        self.live = live
        self.speed = speed  # simulated seconds per wall second (None: as fast as it goes)
        self._origin: tuple[float, float] | None = None
        c = live._controller
        self.floor, self.pacer = c.floor, c.pacer
        self.times, self.powers = times, powers

    @property
    def stats(self) -> Any:
        return self.live._controller.stats

    @property
    def uses_envelope(self) -> bool:
        return self.live.uses_envelope

    def handle(self, event: Any) -> Any:
        return self.live.handle(event)

    def decide(self, now: float) -> Any:
        if self.speed is not None:  # hold the simulated clock to `speed` times the wall clock
            if self._origin is None:
                self._origin = (now, time.perf_counter())
            due = self._origin[1] + (now - self._origin[0]) / self.speed
            wait = due - time.perf_counter()
            if wait > 0:  # (read the clock once: on a busy machine it moves between two readings)
                time.sleep(wait)
        t0 = time.perf_counter_ns()
        d = self.live.decide(now)
        self.times.append(time.perf_counter_ns() - t0)
        last = getattr(self.pacer, "last", {})
        self.powers.append(last.get("policy") == last.get("agents", 0) - last.get("busy", 0))
        return d

    def releasable(self, now: float) -> int:
        return self.live.releasable(now)


def floor(name: str) -> scenario.Scenario:
    d = scenario.default().model_dump()
    if name == "fresh":
        d["agents"] = [{"name": "floor", "count": 100}]
        d["campaigns"][0]["lines"] = 300
        d["study"]["hours"] = ["09:00", "11:00"]
    else:  # the live-answer rate moves every hour through the day
        d["agents"] = [{"name": "floor", "count": 30}]
        d["campaigns"][0]["lines"] = 90
        d["study"]["hours"] = ["09:00", "15:00"]
        rates = {"9": 0.10, "10": 0.14, "11": 0.20, "12": 0.26, "13": 0.32, "14": 0.24}
        d["campaigns"][0]["outcomes"]["hours"] = {h: {"live": p} for h, p in rates.items()}
    return scenario.from_dict(d)


def run(name: str, wait: bool, seed: int, speed: float | None) -> dict[str, Any]:
    times: list[int] = []
    powers: list[bool] = []
    solver = PacingSolver(wait=False)
    warmer = Warmer(solver)

    def factory(campaign: Any, rules: Any) -> Timed:
        own = rules.settings
        pacer = dict(own.pacer)
        if own.day_length is not None and "day_length" in accepted(own.mode):
            pacer.setdefault("day_length", own.day_length)
        cfg = CampaignConfig(mode=own.mode, pacer=pacer, abandon_limit=own.abandon_limit, lines=own.lines,
                             horizon=own.horizon, wait_for_solves=wait)
        return Timed(LiveCampaign(cfg, solver=solver), times, powers, speed)

    t0 = time.perf_counter()
    try:
        simulate(floor(name), seed, controller_factory=factory)
    finally:
        wall = time.perf_counter() - t0
        warmer.close()
    return {"times": times, "powers": powers, "wall": wall, "solved": solver.solved, "planned": solver.planned}


def row(table: Table, label: str, times: list[int], powers: list[bool], extra: str) -> None:
    ts = sorted(times)
    n = len(ts)
    table.add_row(label, f"{n:,}", f"{ts[n // 2] / 1e3:.1f}", f"{ts[min(n - 1, int(n * 0.99))] / 1e3:.1f}",
                  f"{ts[-1] / 1e6:.1f}", f"{sum(powers) / n:.0%}", extra)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--floors", default="fresh,drift")
    p.add_argument("--speed", type=float, default=120.0,
                   help="simulated seconds per wall second in the background runs (default 120: a 6-hour day in "
                        "3 minutes), so that solves land while the day goes on as they would in a real one")
    args = p.parse_args(argv)
    table = Table(title="LiveCampaign.decide in process, empty disk cache (median and p99 in µs, max in ms)")
    for col in ("run", "decisions", "median µs", "p99 µs", "max ms", "as Power", "solved / wall"):
        table.add_column(col, justify="left" if col == "run" else "right")
    for name in args.floors.split(","):
        for wait in (False, True):
            with tempfile.TemporaryDirectory() as cache:
                os.environ["DIALER_CACHE_DIR"] = cache
                r = run(name, wait, args.seed, None if wait else args.speed)
            how = "waiting for solves" if wait else f"solves in the background, {args.speed:g}x real time"
            extra = f"{r['solved']} policies, {r['planned']} plans / {r['wall']:.1f} s"
            first = 1000 if name == "fresh" else 3000
            row(table, f"{name}: first {first:,}, {how}", r["times"][:first], r["powers"][:first], extra)
            row(table, f"{name}: all, {how}", r["times"], r["powers"], "")
    load = os.getloadavg()
    Console(width=170).print(table)
    print(f"load average (1, 5, 15 min) after: {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}; "
          f"python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
