"""Calibration from history: a scenario fitted to call records.

Owns: the call-record CSV format (what `dialer calls` writes and `dialer fit`
reads), checking it row by row (a bad row is reported with its line number
and skipped), outcome probabilities by hour of the dial, duration
distributions chosen by AIC among scipy.stats candidates with a
Kolmogorov-Smirnov statistic for the chosen one, and writing the scenario
as TOML.
Must not know about: the engine (records come from a file; the simulator
writes them through `dialer.sim.trace.CallLog`), printing.

    campaign, call, lead, attempt, agent, dial, answer, connect, end, wrap_end, outcome

Times are ISO 8601 (with an offset, or local time of the scenario's time
zone); empty when the call never got there. Required columns: dial, answer,
connect, end, outcome. What is fitted, and what cannot be: docs/design.md,
"Planning".
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from scipy import stats as st

from dialer.errors import ConfigError
from dialer.sim.trace import CALL_OUTCOMES

COLUMNS = ("campaign", "call", "lead", "attempt", "agent", "dial", "answer", "connect", "end", "wrap_end", "outcome")
REQUIRED = ("dial", "answer", "connect", "end", "outcome")
_ANSWERED = {"machine", "transferred", "abandoned"}
MIN_SAMPLES = 10


# --- writing records ---------------------------------------------------------------------------


def write_calls(path: str | Path, records: list[dict[str, Any]], scenario: Any) -> int:
    """Write `CallLog.records` as the call-record CSV; times as ISO 8601 in the study's time zone."""
    from dialer.sim.trace import wall_clock

    iso = wall_clock(scenario)
    p = Path(path)
    try:
        with p.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(COLUMNS)
            for r in records:
                w.writerow([
                    r["campaign"], r["call"], r["lead"], r["attempt"], "" if r["agent"] is None else r["agent"],
                    iso(r["dial"]), iso(r["answer"]) or "", iso(r["connect"]) or "", iso(r["end"]) or "",
                    iso(r["wrap_end"]) or "", r["outcome"] or "",
                ])
    except OSError as err:
        raise ConfigError(f"--out {str(p)!r} cannot be written: {err.strerror or err}") from None
    return len(records)


# --- reading records ---------------------------------------------------------------------------------


@dataclass
class Call:
    line: int
    campaign: str
    lead: str
    attempt: int | None
    dial: dt.datetime
    answer: dt.datetime | None
    connect: dt.datetime | None
    end: dt.datetime
    wrap_end: dt.datetime | None
    outcome: str


@dataclass
class Records:
    calls: list[Call]
    bad: list[str]  # "line N: field: problem, got value"
    rows: int


def _time(text: str, tz: ZoneInfo) -> dt.datetime | None:
    text = text.strip()
    if not text:
        return None
    t = dt.datetime.fromisoformat(text)
    return t.replace(tzinfo=tz) if t.tzinfo is None else t.astimezone(tz)


def read_calls(path: str | Path, timezone: str = "Europe/Oslo", campaign: str | None = None) -> Records:
    """Read and check the CSV; bad rows are listed (line numbers as a text editor counts them) and skipped."""
    tz = ZoneInfo(timezone)
    p = Path(path)
    try:
        fh = p.open(newline="", encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"CALLS file {str(p)!r} does not exist") from None
    except OSError as err:
        raise ConfigError(f"CALLS file {str(p)!r} cannot be read: {err.strerror or err}") from None
    calls: list[Call] = []
    bad: list[str] = []
    rows = 0
    with fh:
        reader = csv.DictReader(fh)
        try:
            header = reader.fieldnames or []
        except UnicodeDecodeError:
            raise ConfigError(f"CALLS file {str(p)!r} is not UTF-8 text (in line 1)") from None
        except csv.Error as err:
            raise ConfigError(f"{p}: line 1: not a readable CSV header, got {err}") from None
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise ConfigError(f"{p}: line 1: the header must have columns {', '.join(REQUIRED)}, got {header!r}"
                              f" (missing {', '.join(missing)})")
        try:
            for row in reader:
                rows += 1
                line = reader.line_num
                if campaign is not None and row.get("campaign", "") != campaign:
                    continue
                problem = _check(row, tz)
                if isinstance(problem, str):
                    bad.append(f"line {line}: {problem}")
                else:
                    problem.line = line
                    calls.append(problem)
        except UnicodeDecodeError:  # decoded a block at a time: the bad byte is somewhere after the lines read
            raise ConfigError(f"CALLS file {str(p)!r} is not UTF-8 text (after line {reader.line_num})") from None
        except csv.Error as err:
            raise ConfigError(f"{p}: line {reader.line_num + 1}: not a readable CSV row, got {err}") from None
    return Records(calls, bad, rows)


def _check(row: dict[str, str | None], tz: ZoneInfo) -> Call | str:
    times: dict[str, dt.datetime | None] = {}
    for name in ("dial", "answer", "connect", "end", "wrap_end"):
        text = row.get(name) or ""
        try:
            times[name] = _time(text, tz)
        except ValueError:
            return f"{name}: must be an ISO 8601 time such as 2026-11-24T09:00:00+01:00, got {text!r}"
    outcome = (row.get("outcome") or "").strip()
    if outcome not in CALL_OUTCOMES:
        return f"outcome: must be one of {', '.join(CALL_OUTCOMES)}, got {outcome!r}"
    dial, answer, connect, end, wrap_end = (times[k] for k in ("dial", "answer", "connect", "end", "wrap_end"))
    if dial is None:
        return "dial: missing (required), got ''"
    if end is None:
        return "end: missing (required), got ''"
    if outcome in _ANSWERED and answer is None:
        return f"answer: missing for outcome {outcome!r}, got ''"
    if outcome == "transferred" and connect is None:
        return "connect: missing for outcome 'transferred', got ''"
    order = [("dial", dial), ("answer", answer), ("connect", connect), ("end", end), ("wrap_end", wrap_end)]
    last_name, last = order[0]
    for name, t in order[1:]:
        if t is None:
            continue
        if t < last:
            return f"{name}: must not be before {last_name} ({last.isoformat()}), got {row.get(name)!r}"
        last_name, last = name, t
    attempt_text = (row.get("attempt") or "").strip()
    attempt = None
    if attempt_text:
        try:
            attempt = int(attempt_text)
        except ValueError:
            return f"attempt: must be a whole number, got {attempt_text!r}"
    return Call(0, (row.get("campaign") or "").strip(), (row.get("lead") or "").strip(), attempt, dial, answer,
                connect, end, wrap_end, outcome)


# --- fitting distributions ------------------------------------------------------------------------------


@dataclass
class DistFit:
    name: str  # the duration: ring, talk, ...
    n: int
    chosen: str | None  # family, or None: too few samples (the base scenario's is kept)
    spec: dict[str, Any] | None
    aic: dict[str, float] = field(default_factory=dict)
    ks: float | None = None
    ks_pvalue: float | None = None
    samples: np.ndarray | None = None
    frozen: Any = None


def fit_duration(name: str, values: np.ndarray) -> DistFit:
    """The best of lognormal, gamma, exponential, uniform by AIC (constant when all values agree)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size < MIN_SAMPLES:
        return DistFit(name, int(x.size), None, None, samples=x)
    mean = float(x.mean())
    if float(x.max() - x.min()) <= 1e-9 * max(1.0, abs(mean)):
        return DistFit(name, int(x.size), "constant", {"dist": "constant", "value": round(mean, 6)}, ks=0.0,
                       samples=x)
    pos = x[x > 0]
    cands: dict[str, tuple[Any, int]] = {}
    if pos.size >= MIN_SAMPLES and pos.size == x.size:
        s, _, scale = st.lognorm.fit(pos, floc=0)
        cands["lognormal"] = (st.lognorm(s, 0, scale), 2)
        a, _, scale = st.gamma.fit(pos, floc=0)
        cands["gamma"] = (st.gamma(a, 0, scale), 2)
    cands["exponential"] = (st.expon(0, max(mean, 1e-9)), 1)
    lo, hi = float(x.min()), float(x.max())
    cands["uniform"] = (st.uniform(lo, hi - lo), 2)
    aic = {}
    for fam, (frozen, k) in cands.items():
        ll = float(np.sum(frozen.logpdf(x)))
        aic[fam] = 2 * k - 2 * ll if math.isfinite(ll) else math.inf
    best = min(aic, key=lambda f: aic[f])
    frozen = cands[best][0]
    ks = st.kstest(x, frozen.cdf)
    if best in ("lognormal", "gamma"):
        m, v = frozen.stats(moments="mv")
        spec = {"dist": best, "mean": round(float(m), 4), "sd": round(math.sqrt(float(v)), 4)}
    elif best == "exponential":
        spec = {"dist": "exponential", "mean": round(mean, 4)}
    else:
        spec = {"dist": "uniform", "low": round(lo, 4), "high": round(hi, 4)}
    return DistFit(name, int(x.size), best, spec, aic, float(ks.statistic), float(ks.pvalue), x, frozen)


# --- the scenario ------------------------------------------------------------------------------------------


@dataclass
class Fit:
    scenario: dict[str, Any]
    records: Records
    used: int
    probabilities: dict[str, float]
    hours: dict[int, dict[str, float]]
    hour_dials: dict[int, int]
    durations: list[DistFit]
    notes: list[str]


def _secs(a: dt.datetime, b: dt.datetime) -> float:
    return (b - a).total_seconds()


def _probs(calls: list[Call]) -> dict[str, float]:
    n = len(calls)
    count = {o: 0 for o in CALL_OUTCOMES}
    for c in calls:
        count[c.outcome] += 1
    out = {
        "live": (count["transferred"] + count["abandoned"]) / n,
        "machine": count["machine"] / n,
        "busy": count["busy"] / n,
        "invalid": count["invalid"] / n,
    }
    rounded = {k: round(v, 4) for k, v in out.items()}
    excess = sum(rounded.values()) - 1.0
    if excess > 0:  # rounding must not push the sum over 1
        k = max(rounded, key=lambda key: rounded[key])
        rounded[k] = round(rounded[k] - excess - 1e-9, 6)
    return rounded


def fit_records(records: Records, base: Any, *, min_hour_dials: int = 30, name: str | None = None) -> Fit:
    """A scenario from the records: the base scenario with what the records can tell replaced."""
    calls = records.calls
    if not calls:
        raise ConfigError(f"CALLS: no usable row ({records.rows} rows read, {len(records.bad)} bad), got none")
    campaigns = sorted({c.campaign for c in calls})
    if len(campaigns) > 1:
        raise ConfigError(f"--campaign must choose one of the campaigns in the file ({', '.join(campaigns)}), got none")
    notes: list[str] = []
    data = base.model_dump(mode="json")
    camp = data["campaigns"][0]
    if campaigns[0]:
        camp["name"] = campaigns[0]
        for g in data["agents"]:
            g["campaign"] = None
    data["campaigns"] = [camp]
    # outcome probabilities, overall and by hour of the dial
    probs = _probs(calls)
    by_hour: dict[int, list[Call]] = {}
    for c in calls:
        by_hour.setdefault(c.dial.hour, []).append(c)
    hours = {h: _probs(cs) for h, cs in sorted(by_hour.items()) if len(cs) >= min_hour_dials}
    thin = sorted(h for h, cs in by_hour.items() if len(cs) < min_hour_dials)
    if thin:
        notes.append(f"hours with fewer than {min_hour_dials} dials use the overall probabilities: "
                     + ", ".join(f"{h:02d}" for h in thin))
    camp["outcomes"] = {**probs, "hours": {str(h): p for h, p in hours.items()}}
    # durations
    samples = {
        "ring": [_secs(c.dial, c.answer) for c in calls if c.outcome in _ANSWERED and c.answer],
        "no_answer": [_secs(c.dial, c.end) for c in calls if c.outcome == "no_answer"],
        "busy": [_secs(c.dial, c.end) for c in calls if c.outcome == "busy"],
        "invalid": [_secs(c.dial, c.end) for c in calls if c.outcome == "invalid"],
        "talk": [_secs(c.connect, c.end) for c in calls if c.outcome == "transferred" and c.connect],
        "wrap": [_secs(c.end, c.wrap_end) for c in calls if c.outcome == "transferred" and c.wrap_end],
    }
    fits = []
    for key, vals in samples.items():
        f = fit_duration(key, np.asarray(vals, dtype=float))
        fits.append(f)
        if f.spec is not None:
            camp["durations"][key] = f.spec
        else:
            notes.append(f"{key}: {f.n} samples, fewer than {MIN_SAMPLES}: kept the base scenario's")
    notes.append("patience, agents, retry delays, lines and the connect limit are the base scenario's "
                 "(call records cannot tell them)")
    # the list and the calendar
    leads = {c.lead for c in calls if c.lead}
    camp["leads"] = len(leads) if leads else len(calls)
    attempts = [c.attempt for c in calls if c.attempt is not None]
    if attempts:
        camp["retry"]["max_attempts"] = max(attempts)
    first = min(c.dial for c in calls)
    last = max(c.dial for c in calls)
    data["study"]["start"] = first.date().isoformat()
    data["study"]["days"] = (last.date() - first.date()).days + 1
    tod = [c.dial.hour * 60 + c.dial.minute for c in calls]
    open_m = (min(tod) // 15) * 15
    close_m = min(24 * 60, ((max(tod) // 15) + 1) * 15)
    data["study"]["hours"] = [f"{open_m // 60:02d}:{open_m % 60:02d}", f"{close_m // 60:02d}:{close_m % 60:02d}"]
    data["study"]["name"] = name or f"fitted from {len(calls)} calls"
    from dialer.sim.scenario import from_dict

    checked = from_dict(data, source="fitted scenario").model_dump(mode="json")
    return Fit(checked, records, len(calls), probs, hours, {h: len(cs) for h, cs in by_hour.items()}, fits, notes)


# --- TOML ----------------------------------------------------------------------------------------------------


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        raise ValueError("None has no TOML form")
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, float):
        return repr(round(v, 10))
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items() if x is not None) + " }"
    return str(v)


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() and not k.isdigit() else _value(k)


def to_toml(data: dict[str, Any], header: list[str]) -> str:
    """The scenario as a TOML file in the layout of dialer/data/default.toml, `header` as comments."""
    out = [f"# {h}" if h else "#" for h in header] + [""]
    out.append("[study]")
    out += [f"{_key(k)} = {_value(v)}" for k, v in data["study"].items() if v is not None]
    for g in data["agents"]:
        out += ["", "[[agents]]"] + [f"{_key(k)} = {_value(v)}" for k, v in g.items() if v is not None]
    for c in data["campaigns"]:
        out += ["", "[[campaigns]]"]
        out += [f"{_key(k)} = {_value(v)}" for k, v in c.items()
                if v is not None and k not in ("outcomes", "durations", "retry")]
        o = dict(c["outcomes"])
        hours = o.pop("hours", {})
        out += ["", "[campaigns.outcomes]"] + [f"{k} = {_value(v)}" for k, v in o.items()]
        if hours:
            out += ["", "[campaigns.outcomes.hours]"] + [f"{_value(h)} = {_value(p)}" for h, p in hours.items()]
        out += ["", "[campaigns.durations]"] + [f"{k} = {_value(v)}" for k, v in c["durations"].items()]
        out += ["", "[campaigns.retry]"] + [f"{k} = {_value(v)}" for k, v in c["retry"].items() if v is not None]
    return "\n".join(out) + "\n"


def header_lines(fit: Fit, source: str) -> list[str]:
    lines = [f"Scenario fitted by 'dialer fit' from {source}: {fit.used} calls used, "
             f"{len(fit.records.bad)} bad rows skipped.", ""]
    for f in fit.durations:
        if f.chosen is None:
            continue
        aic = ", ".join(f"{k} {v:.1f}" for k, v in sorted(f.aic.items(), key=lambda kv: kv[1]))
        lines.append(f"{f.name}: {f.chosen} from {f.n} samples; KS statistic {f.ks:.4f}"
                     + (f" (p {f.ks_pvalue:.3f}, optimistic: parameters fitted on the same data)"
                        if f.ks_pvalue is not None else "") + (f"; AIC {aic}" if aic else ""))
    lines.append("")
    lines += fit.notes
    return lines


def figure(fit: Fit) -> Any:
    """Histograms with the fitted densities, and the live-answer rate by hour."""
    from dialer.plan import plots  # noqa: F401  (sets the Agg backend)
    import matplotlib.pyplot as plt

    shown = [f for f in fit.durations if f.samples is not None and f.samples.size >= MIN_SAMPLES]
    n = len(shown) + 1
    cols = 3
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(12, 3.4 * rows))
    axes = np.atleast_1d(axes).ravel()
    for ax, f in zip(axes, shown):
        ax.hist(f.samples, bins=40, density=True, color="#c6dbef", edgecolor="#6baed6", label=f"{f.n} calls")
        if f.frozen is not None:
            xs = np.linspace(max(0.0, float(f.samples.min())), float(np.quantile(f.samples, 0.995)), 300)
            ax.plot(xs, f.frozen.pdf(xs), color="#e6550d", lw=1.6, label=f"{f.chosen} (KS {f.ks:.3f})")
        elif f.chosen == "constant":
            ax.axvline(f.spec["value"], color="#e6550d", lw=1.6, label="constant")
        ax.set_title(f"{f.name} time")
        ax.set_xlabel("seconds")
        ax.set_ylabel("density")
        ax.legend(fontsize=8)
    ax = axes[len(shown)]
    hrs = sorted(fit.hour_dials)
    live = [fit.hours.get(h, fit.probabilities)["live"] for h in hrs]
    ax.bar([f"{h:02d}" for h in hrs], [100 * v for v in live], color="#74c476")
    ax.set_title("live answers by hour of the dial")
    ax.set_xlabel("hour")
    ax.set_ylabel("% of dials")
    for extra in axes[len(shown) + 1:]:
        extra.set_visible(False)
    fig.suptitle(f"Fitted from {fit.used} call records")
    fig.tight_layout()
    return fig
