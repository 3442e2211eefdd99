"""The README's picture: one simulated day of the embedded default scenario, as docs/tour.png.

Runs `dialer simulate`'s default study (20 agents per shift, 09:00-21:00,
predictive pacing, seed 0) with the trace recorder attached, prints the
day's norm 4.3 figures, and draws two panels: the agents' states through the
day (talking, wrap-up, reserved for a ringing dial, idle) and the day's
running abandon rate against the 5 % limit.

    python simulations/tour.py                 # writes docs/tour.png
    python simulations/tour.py --out other.png --seed 3
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from dialer.sim import default  # noqa: E402
from dialer.sim.trace import simulate_traced  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(ROOT / "docs" / "tour.png"))
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    scenario = default()
    result, trace, _ = simulate_traced(scenario, args.seed, interval=300.0)
    camp = result.campaigns[0]
    day = camp.days[0].stats.report()
    print(f"{scenario.study.name}, seed {args.seed}, mode {camp.mode}")
    for k in ("attempted", "answered", "connected", "transferred", "abandoned"):
        print(f"  {k:<24}{day[k]:>8}")
    print(f"  {'abandon rate':<24}{100 * day['abandon_rate']:>7.2f} %")
    print(f"  {'agent utilization':<24}{100 * day['agent_utilization']:>7.1f} %")
    print(f"  {'connects per agent-hour':<24}{day['connects_per_agent_hour']:>8.2f}")

    rows = [r for r in trace.rows if r["campaign"] == camp.name]
    h = [r["clock_h"] + 1 / 24 for r in rows]  # the middle of each 5-minute sample
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    states = [("talk", "talking", "#2b8cbe"), ("wrap", "wrap-up", "#7bccc4"),
              ("reserved", "reserved for a ringing dial", "#fdae6b"), ("idle", "idle", "#d9d9d9")]
    top.stackplot(h, *[[r[s] for r in rows] for s, _, _ in states], labels=[lab for _, lab, _ in states],
                  colors=[c for _, _, c in states], step="mid")
    top.plot(h, [r["ringing"] for r in rows], color="black", lw=0.8, label="dials ringing")
    top.set(ylabel="agents (5-minute averages)", title=f"{scenario.study.name}: {camp.mode} pacing, seed {args.seed} — "
            f"{day['connects_per_agent_hour']:.1f} connects per agent-hour, {100 * day['agent_utilization']:.0f} % busy")
    top.legend(loc="upper left", fontsize=8, ncol=3)
    bottom.plot(h, [100 * r["abandon_rate"] for r in rows], color="#d7301f", label="the day's abandon rate so far")
    bottom.axhline(100 * camp.abandon_limit, color="grey", ls=":", lw=2, label=f"limit {100 * camp.abandon_limit:g} %")
    bottom.set(xlabel="time of day (h)", ylabel="abandon rate (%)", ylim=(0, 100 * camp.abandon_limit * 1.6))
    bottom.legend(loc="lower right", fontsize=8)
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
