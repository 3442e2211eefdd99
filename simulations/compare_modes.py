"""Power against Fixed ratio, Adaptive and Predictive on the scenario library: one table.

Every campaign of a scenario is switched to each mode in turn (the other keys
stay as the file has them) and simulated for a few seeds. Per scenario and
mode the table gives, over all seeds, campaigns and days:

- connects per agent-hour (transferred calls per logged-in agent hour), mean
  over seeds with its 95 % t half-width;
- agent utilization (talk + wrap-up over logged-in time);
- the abandon rate (abandoned / connected, all days pooled);
- the worst single campaign-day's abandon rate, and how many campaign-days
  ended over their limit (the number that must be 0).

Modes: power (one reserved agent per dial), fixed-ratio (``--ratio`` dials per
idle agent, none reserved, blind to the limit), adaptive (the dial-level rule
most call centres run) and predictive (the scenario's own pacer parameters
when it is predictive, else the defaults).

    python simulations/compare_modes.py                       # every scenario in simulations/, 3 seeds
    python simulations/compare_modes.py simulations/cold_list.toml --seeds 5
    python simulations/compare_modes.py default --modes power,predictive

"default" names the embedded default scenario. The table is printed as
Markdown, ready to paste. Runs are deterministic: the same arguments print
the same table.
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
import time
import tomllib
from pathlib import Path

from scipy import stats

from dialer.sim import default, load, simulate
from dialer.sim.scenario import from_dict

HERE = Path(__file__).resolve().parent
MODES = ("power", "fixed-ratio", "adaptive", "predictive")


def is_scenario(path: Path) -> bool:
    with open(path, "rb") as f:
        data = tomllib.load(f)
    return "campaigns" in data and "scenario" not in data


def with_mode(scenario, mode: str, ratio: float):
    """The scenario with every campaign dialing in `mode`."""
    data = scenario.model_dump(mode="json")
    for c in data["campaigns"]:
        if mode == "fixed-ratio":
            c["pacer"] = {"ratio": ratio}
        elif mode != c["mode"]:
            c["pacer"] = {}
        c["mode"] = mode
    return from_dict(copy.deepcopy(data), source=f"{scenario.study.name} ({mode})")


def measure(scenario, seeds: int) -> dict[str, float]:
    per_seed = []
    transferred = abandoned = connected = 0
    busy = logged = 0.0
    worst, over, campaign_days = 0.0, 0, 0
    for seed in range(seeds):
        result = simulate(scenario, seed)
        t = h = 0.0
        for camp in result.campaigns:
            for day in camp.days:
                s = day.stats
                t += s.transferred
                h += s.logged_in_time / 3600.0
                transferred += s.transferred
                abandoned += s.abandoned
                connected += s.connected
                busy += s.talk_time + s.wrap_time
                logged += s.logged_in_time
                if s.connected:
                    worst = max(worst, s.abandoned / s.connected)
                over += s.abandoned > camp.abandon_limit * s.connected
                campaign_days += 1
        per_seed.append(t / h if h else 0.0)
    mean = sum(per_seed) / len(per_seed)
    if len(per_seed) > 1:
        sd = math.sqrt(sum((x - mean) ** 2 for x in per_seed) / (len(per_seed) - 1))
        half = stats.t.ppf(0.975, len(per_seed) - 1) * sd / math.sqrt(len(per_seed))
    else:
        half = math.nan
    return {
        "cph": mean,
        "cph_half": half,
        "utilization": busy / logged if logged else 0.0,
        "abandon_rate": abandoned / connected if connected else 0.0,
        "worst_day": worst,
        "days_over": over,
        "campaign_days": campaign_days,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenarios", nargs="*", help="scenario files, or 'default' (default: simulations/*.toml)")
    p.add_argument("--seeds", type=int, default=3, help="seeds per scenario and mode (default 3)")
    p.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, from {', '.join(MODES)}")
    p.add_argument("--ratio", type=float, default=1.5, help="dials per idle agent in fixed-ratio mode (1.5)")
    args = p.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for m in modes:
        if m not in MODES:
            p.error(f"--modes: {m!r} is not one of {', '.join(MODES)}")
    if args.seeds < 1:
        p.error(f"--seeds must be at least 1, got {args.seeds}")
    # the scenario files of the library (a study file, such as sweep_agents.toml, is for `dialer study`)
    paths = args.scenarios or sorted(str(x) for x in HERE.glob("*.toml") if is_scenario(x))
    print(f"seeds 0-{args.seeds - 1}; fixed ratio {args.ratio:g}\n")
    print("| scenario | mode | connects per agent-hour | utilization | abandon rate | worst day | days over limit |")
    print("|---|---|---|---|---|---|---|")
    for path in paths:
        scenario = default() if path == "default" else load(path)
        label = "default" if path == "default" else Path(path).stem
        for mode in modes:
            t0 = time.perf_counter()
            m = measure(with_mode(scenario, mode, args.ratio), args.seeds)
            print(
                f"| {label} | {mode}{f' {args.ratio:g}' if mode == 'fixed-ratio' else ''} "
                f"| {m['cph']:.2f} ± {m['cph_half']:.2f} | {100 * m['utilization']:.1f} % "
                f"| {100 * m['abandon_rate']:.2f} % | {100 * m['worst_day']:.2f} % "
                f"| {m['days_over']} of {m['campaign_days']} |",
                flush=True,
            )
            print(f"  ({label}, {mode}: {time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
