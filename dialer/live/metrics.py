"""Prometheus metrics of the live campaigns, in the text exposition format (version 0.0.4).

Owns: the metric names, their help texts and labels, and rendering them from
the campaigns' counters, floor counts, current-day statistics and ledger, the
store's checkpoint counters (`Store.checkpoint_counts`), and `Latencies`, the
histogram of how long decisions took (the HTTP layer times them). The
Grafana dashboard in docs/grafana-dashboard.json reads these names.

Must not know about: HTTP (the app serves the text), SQL. Written by hand
(a few dozen lines) rather than through a client library's global registry,
so that what is exported is exactly the campaigns the service holds now.
"""

from __future__ import annotations

import bisect
import math
import threading
import time
from typing import Any, Iterable, Mapping

from dialer.live.campaign import FLAGS, LiveCampaign

_DAY_FIELDS = ("attempted", "answered", "connected", "transferred", "abandoned", "no_answer", "busy",
               "invalid", "machine", "reserved_dials")
_FLOOR = {
    "agents": ("idle", "reserved_agents", "talking", "wrapping", "paused"),
    "calls": ("ringing_unreserved", "ringing_reserved", "live_waiting"),
}


#: upper bounds (seconds) of the buckets of `dialer_decision_seconds`
DECISION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Latencies:
    """How long each decision took to answer, per campaign: a Prometheus histogram (thread-safe).

    `observe(campaign, seconds)` files one; the caller owns the clock. A
    campaign's series are rendered only while the service holds it.
    """

    def __init__(self, buckets: tuple[float, ...] = DECISION_BUCKETS) -> None:
        self.buckets = tuple(sorted(buckets))
        self._lock = threading.Lock()
        self._by: dict[str, tuple[list[int], list[float]]] = {}  # campaign -> (count per bucket, [sum])

    def observe(self, campaign: str, seconds: float) -> None:
        i = bisect.bisect_left(self.buckets, seconds)  # the first bound >= seconds (len: only +Inf)
        with self._lock:
            counts, total = self._by.setdefault(campaign, ([0] * (len(self.buckets) + 1), [0.0]))
            counts[i] += 1
            total[0] += seconds

    def get(self, campaign: str) -> tuple[list[int], float]:
        """(cumulative counts per bucket, +Inf last; the sum of the seconds) of `campaign`."""
        with self._lock:
            counts, total = self._by.get(campaign, ([0] * (len(self.buckets) + 1), [0.0]))
            counts, s = list(counts), total[0]
        running, out = 0, []
        for n in counts:
            running += n
            out.append(running)
        return out, s


def _label(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _num(x: float | int | None) -> str:
    if x is None:
        return "NaN"
    if isinstance(x, float) and math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    return repr(float(x)) if isinstance(x, float) else str(x)


class _Out:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self._declared: set[str] = set()

    def add(self, name: str, kind: str, help: str, labels: dict[str, object], value: float | int | None) -> None:
        if name not in self._declared:
            self._declared.add(name)
            self.lines.append(f"# HELP {name} {help}")
            self.lines.append(f"# TYPE {name} {kind}")
        text = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
        self.lines.append(f"{name}{{{text}}} {_num(value)}" if text else f"{name} {_num(value)}")


def render_metrics(campaigns: Iterable[LiveCampaign], store: Mapping[str, int] | None = None,
                   latencies: Latencies | None = None, *, registers: Any = None, now: float | None = None) -> str:
    """The exposition text for every campaign (series grouped by metric name, as the format asks), the
    store's checkpoint counters if given (`Store.checkpoint_counts()`; None for PostgreSQL), the
    decisions' latency histogram if given, and the do-not-call registers' entries and age (`registers`:
    a `RegisterView`; `now`: Unix seconds, default the wall clock's)."""
    snaps = []
    for c in campaigns:
        stats = c.stats()
        today = stats[list(stats)[-1]] if stats else None
        snaps.append((c, {**c.floor_dict(), "leaving": c.agents_leaving()}, today, c.ledger_dict()))
    out = _Out()
    counters = (
        ("events", "dialer_events_total", "events applied (since this process started)"),
        ("duplicates", "dialer_duplicate_events_total", "events skipped because their id was applied before"),
        ("rejected", "dialer_rejected_batches_total", "batches stopped by a malformed or impossible event"),
        ("decisions", "dialer_decisions_total", "decisions answered"),
    )
    for attr, name, help in counters:
        for c, *_ in snaps:
            out.add(name, "counter", help, {"campaign": c.name}, getattr(c.counters, attr))
    for c, *_ in snaps:
        totals: dict[str, int] = dict.fromkeys(FLAGS, 0)  # every kind from 0, so that rate() sees the first one
        for kinds in c.flags().values():
            for kind, n in kinds.items():
                totals[kind] = totals.get(kind, 0) + n
        for kind, n in sorted(totals.items()):
            out.add("dialer_flagged_dials_total", "counter", "dials applied that broke a rule of the campaign's "
                    "preset (outside_hours) or a do-not-call register (on_internal_register, "
                    "on_national_register), since the campaign began", {"campaign": c.name, "kind": kind}, n)
    for c, *_ in snaps:
        out.add("dialer_journal_entries", "gauge", "entries in the campaign's journal", {"campaign": c.name}, c.seq)
    for c, *_ in snaps:
        for kind, n in c.promise_breaks()["counts"].items():
            out.add("dialer_promise_breaks_total", "counter", "events that broke the dialer's promises, by kind",
                    {"campaign": c.name, "kind": kind}, n)
    for group, fields in _FLOOR.items():
        for c, floor, *_ in snaps:
            for f in fields:
                out.add(f"dialer_{group}", "gauge", f"{group} on the floor now, by state",
                        {"campaign": c.name, "state": f}, floor[f])
    for c, floor, *_ in snaps:
        out.add("dialer_agents_logged_in", "gauge", "agents logged in now (every state)", {"campaign": c.name},
                floor["logged_in"])
    for c, floor, *_ in snaps:
        out.add("dialer_agents_leaving", "gauge", "agents logged in who announced leaving (they take calls and "
                "cover no dial in flight; counted in their state too)", {"campaign": c.name}, floor["leaving"])
    for c, floor, *_ in snaps:
        available = floor["logged_in"] - floor["paused"]
        out.add("dialer_dial_level", "gauge", "lines in use (calls ringing, waiting or talking) per agent "
                "logged in and not paused (NaN: none)", {"campaign": c.name},
                floor["calls_active"] / available if available > 0 else None)
    for c, _, today, _ in snaps:
        if today is None:
            continue
        for f in _DAY_FIELDS:
            out.add("dialer_day_calls", "gauge", "calls of the current accounting day by count (norm 4.3)",
                    {"campaign": c.name, "count": f}, getattr(today, f))
    ledger_metrics = (
        ("dialer_abandon_rate", "abandoned / established calls in the interval", "rate"),
        ("dialer_abandon_limit", "the interval's abandon limit", "limit"),
        ("dialer_abandon_headroom", "unreserved calls the interval lets be exposed now", "headroom"),
    )
    for name, help, key in ledger_metrics:
        for c, *_, ledger in snaps:
            for iv in ledger["intervals"]:
                value = iv[key]
                if key == "headroom" and value is None:
                    value = math.inf
                out.add(name, "gauge", help, {"campaign": c.name, "interval": iv["name"]}, value)
    for count in ("abandoned", "established"):
        for c, *_, ledger in snaps:
            for iv in ledger["intervals"]:
                out.add("dialer_interval_calls", "gauge", "abandoned and established calls of the interval so far",
                        {"campaign": c.name, "interval": iv["name"], "count": count}, iv[count])
    for c, floor, _, ledger in snaps:
        pooled = floor["ringing_unreserved"] + floor["live_waiting"]
        for iv in ledger["intervals"]:
            a, n = iv["abandoned"] + ledger["exposure"], iv["established"] + pooled
            out.add("dialer_abandon_worst_rate", "gauge", "the interval's abandon rate if every unreserved call in "
                    "flight were answered now and every exposed one abandoned", {"campaign": c.name,
                    "interval": iv["name"]}, a / n if n else 0.0)
    for c, *_, ledger in snaps:
        out.add("dialer_exposure", "gauge", "unreserved calls in flight no committed idle agent covers",
                {"campaign": c.name}, ledger["exposure"])
    if latencies is not None and snaps:
        name = "dialer_decision_seconds"
        out.lines.append(f"# HELP {name} seconds from a decide request's arrival at its route to its answer "
                         "(its events applied and stored)")
        out.lines.append(f"# TYPE {name} histogram")
        for c, *_ in snaps:
            counts, total = latencies.get(c.name)
            who = f'campaign="{_label(c.name)}"'
            for le, n in zip((*latencies.buckets, math.inf), counts):
                out.lines.append(f'{name}_bucket{{{who},le="{_num(float(le))}"}} {n}')
            out.lines.append(f"{name}_sum{{{who}}} {_num(total)}")
            out.lines.append(f"{name}_count{{{who}}} {counts[-1]}")
    store_counters = (
        ("checkpoints", "dialer_store_checkpoints_total", "WAL checkpoints run off the request path (SQLite)"),
        ("restarts", "dialer_store_wal_restarts_total", "checkpoints that held the commit turn to restart a long WAL"),
        ("failures", "dialer_store_checkpoint_failures_total",
         "checkpoints SQLite refused (the WAL grows until one succeeds; commits are not affected)"),
    )
    for key, name, help in store_counters if store is not None else ():
        out.add(name, "counter", help, {}, store[key])
    if registers is not None:
        registers.current()
        out.add("dialer_register_entries", "gauge", "entries of the do-not-call registers the campaigns screen against "
                "(both registers, ended national entries included)", {}, registers.entries())
        t = time.time() if now is None else now
        for register in ("national", "internal"):
            last = registers.last_import(register)
            out.add("dialer_register_age_seconds", "gauge", "seconds since the register was last imported (dialer dnc "
                    "import; +Inf: never); under NO the national one is washed in every month calls are made",
                    {"register": register}, math.inf if last is None else t - last.timestamp())
    return "\n".join(out.lines) + "\n"
