"""The price of the guarantee: the morning ramp of the Predictive pacer against a fixed ratio.

    python benchmarks/ramp.py [--scenario a] [--seeds N] [--ratio R] [--ends 09:30,10:00,11:00]

At 09:00 no call has been established yet, so the abandon envelope allows
hardly any unreserved dial that an idle agent does not cover (one per 19 of
the calls the idle agents would take, at 5 %): the Predictive pacer starts
as Power dialing and widens as the day's connects build budget. A
fixed ratio knows nothing of the envelope and dials at full ratio from the
first second (abandoning early calls that later connects dilute). This
benchmark runs a scenario of benchmarks/pacing.py (default (a)) cut at each end time
(agents on the floor from 09:00 to the end) and prints utilization and
abandon rate of both, so the cost of the ramp in the day's figures can be
read off: (FixedRatio - Predictive) x (window / 12 h).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).parent))
import pacing  # noqa: E402

from dialer.sim import scenario as scn  # noqa: E402
from dialer.sim import simulate  # noqa: E402


def cut(name: str, mode: str, params: dict, end: str):
    full = pacing.build(name, mode, params)
    d = full.model_dump()
    if mode == "predictive" and "day_length" not in params:
        # the first hours of the whole day: the pacer plans the day it would have, not the cut one
        open_s, close_s = full.study.hours
        d["campaigns"][0]["pacer"]["day_length"] = close_s - open_s
    d["study"]["hours"] = ["09:00", end]
    d["agents"] = [{**d["agents"][0], "shift": ["09:00", end]}]
    return scn.from_dict(d, source=f"scenario ({name}) 09:00-{end}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", default="a", choices=sorted(pacing.SCENARIOS), help="a scenario of benchmarks/pacing.py")
    p.add_argument("--seeds", type=int, default=8)
    p.add_argument("--ratio", type=float, default=3.1, help="the fixed ratio to compare with (hindsight best of (a))")
    p.add_argument("--ends", default="09:30,10:00,11:00")
    args = p.parse_args(argv)
    table = Table(title=f"Scenario ({args.scenario}) from 09:00, {args.seeds} seeds: the morning ramp")
    for col in ("window", "pacer", "utilization", "abandon rate", "connects"):
        table.add_column(col, justify="left" if col in ("window", "pacer") else "right")
    for end in args.ends.split(","):
        for mode, params in (("fixed-ratio", {"ratio": args.ratio}), ("predictive", {})):
            logged = busy = ab = con = 0.0
            for seed in range(1, args.seeds + 1):
                t = simulate(cut(args.scenario, mode, params, end), seed).campaigns[0].totals
                logged += t.logged_in_time
                busy += t.talk_time + t.wrap_time
                ab += t.abandoned
                con += t.connected
            label = f"fixed-ratio {args.ratio:g}" if mode == "fixed-ratio" else mode
            table.add_row(f"09:00-{end}", label, f"{busy / logged:.3f}", f"{100 * ab / con:.2f} %", f"{con:.0f}")
    Console(width=120).print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
