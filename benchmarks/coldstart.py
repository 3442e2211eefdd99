"""Cold starts: how long a command takes with an empty policy cache, and one day plan or policy alone.

Every row runs in a fresh process with a fresh, empty DIALER_CACHE_DIR (the
policies and day plans of the Predictive pacer are solved, as on a first
run), then, for the commands, once more with the cache that run left (warm):

- `dialer simulate` (the default day: 20 agents, predictive);
- `dialer simulate simulations/sales_floor_100.toml` (a 100-agent predictive day);
- `dialer study` of the default day with 50 agents over 5 days (4 replications,
  the default local Dask cluster of 2 workers, no run cache, no plots);
- one day plan (`dialer.theory.day_plan`, 12 hours) and one policy
  (`optimal_pacing` at a 3 % target) at 20, 50 and 100 agents, on the lattice
  point the default day starts from (live 24.7 %, ring / handle 0.107).

Wall and CPU seconds are printed (CPU: user + system of the child; the
machine is shared, so the wall time moves with its load, printed too).
`--root DIR` runs the same rows against another checkout (for a before/after:
`git worktree add /tmp/before <commit>`, then `--root /tmp/before`).

    python benchmarks/coldstart.py                  # every row
    python benchmarks/coldstart.py --only solves    # the day plans and policies only
    python benchmarks/coldstart.py --only simulate  # the two dialer simulate rows only
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent.parent

# The lattice point the default day starts from (resolution 0.15: live exp(-10 step), ring exp(-16 step) x 100).
SOLVE = """
import math, sys, time
from dialer.theory import day_plan, optimal_pacing
step = math.log1p(0.15)
live, ring = math.exp(-10 * step), math.exp(-16 * step) * 100.0
kind, n = sys.argv[1], int(sys.argv[2])
wall, cpu = time.perf_counter(), time.process_time()
if kind == "plan":
    day_plan(n, 100.0, ring, live, 0.05, 12.0)
else:
    optimal_pacing(n, 100.0, ring, live, 0.03)
print(time.perf_counter() - wall, time.process_time() - cpu)
"""


def study_file(directory: Path) -> Path:
    """The default scenario with 50 agents a shift over 5 days (and leads and lines to match)."""
    from dialer.sim.scenario import default_text

    text = default_text().replace("days = 1", "days = 5").replace("count = 20", "count = 50")
    text = text.replace("leads = 15000", "leads = 100000").replace("lines = 60 ", "lines = 150")
    path = directory / "study_50_agents_5_days.toml"
    path.write_text(text, encoding="utf-8")
    return path


def timed(argv: list[str], root: Path, cache: Path, cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one child process (its output is thrown away; a failure stops the benchmark)."""
    env = {**os.environ, "DIALER_CACHE_DIR": str(cache), "PYTHONPATH": str(root)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=HERE, help="the checkout whose dialer is timed (default: this one)")
    ap.add_argument("--only", choices=("commands", "simulate", "solves"),
                    help="only the commands, only the two dialer simulate rows (issue 19's targets), or only the solves")
    args = ap.parse_args(argv)
    root = args.root.resolve()
    py = sys.executable
    console = Console(highlight=False, width=140)
    table = Table(title=f"Cold starts: {root} ({dt.date.today().isoformat()}, load average "
                        f"{os.getloadavg()[0]:.1f} at the start, 2 cores)")
    for col in ("what", "cold wall s", "cold CPU s", "warm wall s", "warm CPU s"):
        table.add_column(col, justify="left" if col == "what" else "right")
    with tempfile.TemporaryDirectory(prefix="coldstart-") as tmp:
        work = Path(tmp)
        rows: list[tuple[str, list[str]]] = []
        if args.only != "solves":
            rows += [
                ("dialer simulate (default day, 20 agents)", [py, "-m", "dialer.cli", "simulate"]),
                ("dialer simulate sales_floor_100.toml (100 agents)",
                 [py, "-m", "dialer.cli", "simulate", str(HERE / "simulations" / "sales_floor_100.toml")]),
            ]
            if args.only != "simulate":
                rows.append(("dialer study: 50 agents, 5 days, 4 replications",
                             [py, "-m", "dialer.cli", "study", str(study_file(work)), "--replications", "4",
                              "--no-cache", "--no-plots", "--out", str(work / "study")]))
        for name, cmd in rows:
            cache = Path(tempfile.mkdtemp(dir=work))
            cold = timed(cmd, root, cache, work)
            warm = timed(cmd, root, cache, work)
            table.add_row(name, f"{cold[0]:.1f}", f"{cold[1]:.1f}", f"{warm[0]:.1f}", f"{warm[1]:.1f}")
            console.print(f"  {name}: cold {cold[0]:.1f} s, warm {warm[0]:.1f} s", style="dim")
        if args.only not in ("commands", "simulate"):
            for kind, label in (("plan", "one day plan (12 h)"), ("policy", "one policy (3 % target)")):
                for n in (20, 50, 100):
                    # timed in the child, around the solve alone (not the interpreter's start or the imports)
                    env = {**os.environ, "PYTHONPATH": str(root)}
                    out = subprocess.run([py, "-c", SOLVE, kind, str(n)], cwd=work, env=env, check=True,
                                         capture_output=True, text=True).stdout.split()
                    wall, cpu = float(out[-2]), float(out[-1])
                    table.add_row(f"{label}, {n} agents", f"{wall:.2f}", f"{cpu:.2f}", "", "")
                    console.print(f"  {label}, {n} agents: {wall:.2f} s", style="dim")
    console.print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
