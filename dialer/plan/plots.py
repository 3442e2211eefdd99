"""Pictures for planners: matplotlib figures from the tidy tables of a study or a staffing search.

Owns: each figure (abandon rate through the day against the limit, with the
remaining budget; calls in flight and dial level; agent states as a stacked
area; productivity against abandon rate across a sweep, one curve per mode;
the staffing curve), and saving a figure as PNG and SVG or as base64 PNG for
a self-contained report.

Must not know about: how the tables were computed, the CLI. Uses the Agg
backend (no display needed) and never touches pyplot's global state beyond
creating and closing its own figures.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # noqa: E402  before pyplot: files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dialer.errors import ConfigError  # noqa: E402

_STATE_COLOURS = {"talk": "#2b8cbe", "wrap": "#7bccc4", "reserved": "#fdae6b", "idle": "#d9d9d9", "paused": "#bdbdbd"}
_MODE_COLOURS = {"power": "#2b8cbe", "predictive": "#e6550d", "adaptive": "#31a354", "fixed-ratio": "#756bb1",
                 "poisson": "#636363"}


def _clock_axis(ax: Any) -> None:
    ax.set_xlabel("time of day (h)")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{int(x):02d}:{int(round(x % 1 * 60)):02d}"))
    ax.grid(True, alpha=0.3)


def _one(trace: Any, campaign: str | None, variation: str | None) -> tuple[Any, str, str]:
    if trace is None or len(trace) == 0:
        raise ConfigError("trace: this study has no trace (run it with a trace interval), got none")
    campaign = campaign or trace["campaign"].iloc[0]
    variation = variation or (trace["variation"].iloc[0] if "variation" in trace else "base")
    t = trace[trace["campaign"] == campaign]
    if "variation" in t:
        t = t[t["variation"] == variation]
    if len(t) == 0:
        raise ConfigError(f"trace: no samples of campaign {campaign!r}, variation {variation!r}, got none")
    return t, campaign, variation


def _subtitle(campaign: str, variation: str) -> str:
    return f"campaign {campaign!r}" + ("" if variation == "base" else f", {variation}")


def abandon_through_day(trace: Any, campaign: str | None = None, variation: str | None = None) -> Any:
    """The day's running abandon rate against the limit (top) and the abandons still allowed (bottom)."""
    t, campaign, variation = _one(trace, campaign, variation)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    limit = float(t["limit"].iloc[0])
    days = sorted(t["day"].unique())
    for d in days:
        td = t[t["day"] == d]
        lbl = f"day {d + 1}" if len(days) > 1 else "abandon rate so far today"
        top.plot(td["clock_h"], 100 * td["abandon_rate"], lw=1.4, label=lbl)
        bottom.plot(td["clock_h"], td["budget"], lw=1.2, label=f"day {d + 1}" if len(days) > 1 else None)
    top.axhline(100 * limit, color="crimson", ls="--", lw=1.2, label=f"limit {100 * limit:g} %")
    top.set_ylabel("abandoned / connected (%)")
    top.set_ylim(bottom=0, top=max(100 * limit * 1.6, float(100 * t["abandon_rate"].max()) * 1.1))
    top.set_title(f"Abandon rate through the day — {_subtitle(campaign, variation)}")
    top.legend(loc="upper right", fontsize=8, ncol=2 if len(days) > 4 else 1)
    top.grid(True, alpha=0.3)
    bottom.axhline(0, color="crimson", lw=0.8)
    bottom.set_ylabel("budget left (abandons)")
    bottom.set_title("remaining budget: limit × connected − abandoned", fontsize=9)
    _clock_axis(bottom)
    fig.tight_layout()
    return fig


def floor_over_time(trace: Any, campaign: str | None = None, variation: str | None = None, day: int | None = None) -> Any:
    """Calls in flight (ringing, live answers waiting for an agent) and the dial level, through one day."""
    t, campaign, variation = _one(trace, campaign, variation)
    day = int(t["day"].min()) if day is None else day
    t = t[t["day"] == day]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True)
    top.plot(t["clock_h"], t["ringing"], lw=1.2, label="dials ringing")
    top.plot(t["clock_h"], t["waiting"], lw=1.2, label="live answers waiting for an agent")
    top.plot(t["clock_h"], t["idle"] + t["reserved"], lw=1.0, ls=":", color="grey", label="agents available")
    top.set_ylabel("calls (time average per sample)")
    top.set_title(f"Calls in flight — {_subtitle(campaign, variation)}, day {day + 1}")
    top.legend(loc="upper right", fontsize=8)
    top.grid(True, alpha=0.3)
    bottom.plot(t["clock_h"], t["dial_level"], lw=1.2, color="#e6550d", label="dials ringing per available agent")
    bottom.axhline(1.0, color="grey", lw=0.8, ls="--", label="Power (1 dial per agent)")
    bottom.set_ylabel("dial level (dials / agent)")
    bottom.legend(loc="upper right", fontsize=8)
    _clock_axis(bottom)
    fig.tight_layout()
    return fig


def agent_states(trace: Any, campaign: str | None = None, variation: str | None = None, day: int | None = None) -> Any:
    """Logged-in agents by state, stacked: talking, wrapping up, reserved for a dial, idle, paused."""
    t, campaign, variation = _one(trace, campaign, variation)
    day = int(t["day"].min()) if day is None else day
    t = t[t["day"] == day]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    states = [s for s in ("talk", "wrap", "reserved", "idle", "paused") if float(t[s].max()) > 0] or ["idle"]
    names = {"talk": "talking", "wrap": "wrap-up", "reserved": "reserved for a dial", "idle": "idle",
             "paused": "paused"}
    ax.stackplot(t["clock_h"], *[t[s] for s in states], labels=[names[s] for s in states],
                 colors=[_STATE_COLOURS[s] for s in states], alpha=0.9)
    ax.set_ylabel("agents (time average per sample)")
    ax.set_title(f"Agent states — {_subtitle(campaign, variation)}, day {day + 1}")
    ax.legend(loc="upper right", fontsize=8)
    _clock_axis(ax)
    fig.tight_layout()
    return fig


def _wide(summary: Any, statistic: str) -> Any:
    s = summary[summary["statistic"] == statistic]
    return s.set_index(["variation", "campaign"])[["mean", "ci_low", "ci_high"]]


def tradeoff(summary: Any, campaign: str | None = None) -> Any:
    """Connects per agent-hour against abandon rate, one point per variation (95 % CI bars), a curve per mode."""
    if summary is None or len(summary) == 0:
        raise ConfigError("summary: this study has no summary, got none")
    campaign = campaign or summary["campaign"].iloc[0]
    s = summary[summary["campaign"] == campaign]
    x = _wide(s, "abandon_rate")
    y = _wide(s, "connects_per_agent_hour")
    meta = s.drop_duplicates("variation").set_index("variation")
    fig, ax = plt.subplots(figsize=(8, 5.5))
    modes = list(dict.fromkeys(meta["mode"]))
    for mode in modes:
        labels = [v for v in meta.index if meta.loc[v, "mode"] == mode]
        pts = sorted(
            ((x.loc[(v, campaign)], y.loc[(v, campaign)], v) for v in labels), key=lambda p: (p[0]["mean"], p[1]["mean"])
        )
        xs = np.array([100 * p[0]["mean"] for p in pts])
        ys = np.array([p[1]["mean"] for p in pts])
        xerr = np.array([[100 * (p[0]["mean"] - p[0]["ci_low"]), 100 * (p[0]["ci_high"] - p[0]["mean"])] for p in pts]).T
        yerr = np.array([[p[1]["mean"] - p[1]["ci_low"], p[1]["ci_high"] - p[1]["mean"]] for p in pts]).T
        xerr, yerr = np.clip(np.nan_to_num(xerr), 0, None), np.clip(np.nan_to_num(yerr), 0, None)
        colour = _MODE_COLOURS.get(mode)
        ax.errorbar(xs, ys, xerr=xerr, yerr=yerr, fmt="o-", capsize=3, lw=1.2, ms=5, color=colour, label=mode)
        if len(pts) <= 12:
            for (px, py, v) in zip(xs, ys, [p[2] for p in pts]):
                short = ", ".join(part for part in v.split(", ") if not part.startswith("mode="))
                ax.annotate(short, (px, py), textcoords="offset points", xytext=(4, 4), fontsize=7, color="dimgray")
    limit = float(s["abandon_limit"].iloc[0]) if "abandon_limit" in s.columns else 0.05
    ax.axvline(100 * limit, color="crimson", ls="--", lw=1.0, label=f"abandon limit {100 * limit:g} %")
    ax.set_xlabel("abandon rate, mean over replications (%)")
    ax.set_ylabel("connects per agent-hour")
    ax.set_title(f"Productivity against abandon rate — campaign {campaign!r}")
    ax.set_xlim(left=-0.1)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def staffing_curve(staff: Any, confidence: float) -> Any:
    """Share of replications that finish the list with the limit held, against agents, per mode."""
    if staff is None or len(staff) == 0:
        raise ConfigError("staff: no staffing rows, got none")
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True)
    for mode in dict.fromkeys(staff["mode"]):
        m = staff[staff["mode"] == mode].sort_values("agents")
        colour = _MODE_COLOURS.get(mode)
        lo = np.clip(np.nan_to_num(100 * (m["success"] - m["success_low"])), 0, None)
        hi = np.clip(np.nan_to_num(100 * (m["success_high"] - m["success"])), 0, None)
        top.errorbar(m["agents"], 100 * m["success"], yerr=[lo, hi], fmt="o-", capsize=3, color=colour, label=mode)
        bottom.plot(m["agents"], 100 * m["finished_share"], "o-", color=colour, label=mode)
    top.axhline(100 * confidence, color="crimson", ls="--", lw=1.0, label=f"confidence {100 * confidence:g} %")
    top.set_ylabel("replications that succeed (%)")
    top.set_ylim(-3, 103)
    top.set_title("Staffing curve: list worked through in time, abandon limit held every day")
    top.legend(fontsize=8)
    top.grid(True, alpha=0.3)
    bottom.set_ylabel("leads finished (%, mean)")
    bottom.set_xlabel("agents on the floor")
    bottom.grid(True, alpha=0.3)
    bottom.legend(fontsize=8)
    bottom.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    fig.tight_layout()
    return fig


def save(fig: Any, out: Path, name: str) -> list[Path]:
    """`name`.png and `name`.svg in `out`; closes the figure."""
    paths = [out / f"{name}.png", out / f"{name}.svg"]
    try:
        out.mkdir(parents=True, exist_ok=True)
        fig.savefig(paths[0], dpi=110)
        fig.savefig(paths[1])
    except OSError as err:
        raise ConfigError(f"--out {str(out)!r} cannot be written: {err.strerror or err}") from None
    finally:
        plt.close(fig)
    return paths


def png_base64(fig: Any) -> str:
    """The figure as a base64 PNG (for a data: URI); closes the figure."""
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=100)
    finally:
        plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def study_figures(trace: Any, summary: Any) -> dict[str, Any]:
    """Every figure a study's tables allow, by file name (the first variation's trace)."""
    figs: dict[str, Any] = {}
    if trace is not None and len(trace):
        figs["abandon_through_day"] = abandon_through_day(trace)
        figs["calls_in_flight"] = floor_over_time(trace)
        figs["agent_states"] = agent_states(trace)
    if summary is not None and len(summary) and summary["variation"].nunique() > 1:
        figs["tradeoff"] = tradeoff(summary)
    return figs
