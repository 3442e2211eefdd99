"""Instructions of the speed benchmark's day, counted by valgrind: a measure the machine's load does not move.

    python benchmarks/instructions.py [--agents 100] [--mode power] [--no-preset] [--root DIR]

The day is `benchmarks/speed.py`'s (`scaled_default(agents, mode)`, seed 1;
`--no-preset`: with its `study.preset` taken out). It runs twice in fresh
processes under `valgrind --tool=cachegrind --cache-sim=no`: once importing
and building the scenario only, once also simulating it; the difference is
the day's own instructions. The same checkout gives the same count, to the
instruction: PYTHONHASHSEED=0, address randomisation off, OpenBLAS on one
thread (its idle workers spin for as long as the scheduler lets them, which
moved the count by up to 300 M between runs), the collector's counts zeroed
before the day, every module compiled before the measured runs. `--root DIR`
measures another checkout (`git worktree add --detach /tmp/old <commit>`;
its `benchmarks/speed.py` must have `scaled_default`). Needs valgrind.
Timings belong in speed.py; this says where they go, and by how much.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile

# the child: build the day (and run it, with "day"), as speed.py does
CHILD = """
import gc, os, sys
sys.path[:0] = [os.getcwd(), os.path.join(os.getcwd(), "benchmarks")]
import speed
from dialer.sim import scenario, simulate
what, agents, mode, preset = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "preset"
sc = speed.scaled_default(agents, mode)
if not preset and getattr(sc.study, "preset", None) is not None:
    d = sc.model_dump()
    d["study"]["preset"] = None
    sc = scenario.from_dict(d, source="speed benchmark without its preset")
gc.collect()
if what == "day":
    print(simulate(sc, seed=1).campaigns[0].totals.attempted, getattr(sc.study, "preset", None) or "none")
"""


def count(root: str, what: str, args: argparse.Namespace) -> tuple[int, str]:
    """The instructions of one child run under cachegrind, and what it printed."""
    env = {**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": root}
    argv = [sys.executable, "-c", CHILD, what, str(args.agents), args.mode, "nopreset" if args.no_preset else "preset"]
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["setarch", platform.machine(), "-R", "valgrind", "--tool=cachegrind", "--cache-sim=no",
               f"--cachegrind-out-file={tmp}/out", *argv]
        run = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, check=True)
    refs = re.search(r"I\s+refs:\s+([\d,]+)", run.stderr)
    if refs is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{run.stderr[-2000:]}")
    return int(refs.group(1).replace(",", "")), run.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--agents", type=int, default=100)
    p.add_argument("--mode", default="power")
    p.add_argument("--no-preset", action="store_true", help="the day without its study preset")
    p.add_argument("--root", default=os.getcwd(), help="the checkout to measure (default: here)")
    args = p.parse_args(argv)
    root = os.path.abspath(args.root)
    # compile every module the day imports first: no .pyc is written inside a measured run
    subprocess.run([sys.executable, "-c", CHILD, "day", str(args.agents), args.mode, "preset"], cwd=root,
                   env={**os.environ, "PYTHONPATH": root}, capture_output=True, check=True)
    imports, _ = count(root, "imports", args)
    day, printed = count(root, "day", args)
    dials, preset = printed.split()
    commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, check=False,
                            text=True).stdout.strip()
    print(f"{commit or root}: {args.agents} agents, {args.mode}, preset {preset}, "
          f"{dials} dials: day {(day - imports) / 1e6:,.0f} M instructions "
          f"(imports {imports / 1e6:,.0f} M, both {day / 1e6:,.0f} M); {(day - imports) / int(dials):,.0f} per dial")
    return 0


if __name__ == "__main__":
    sys.exit(main())
