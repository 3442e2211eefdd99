"""Prometheus metrics of the live campaigns, in the text exposition format (version 0.0.4).

Owns: the metric names, their help texts and labels, and rendering them from
the campaigns' counters, floor counts, current-day statistics and ledger, and
the store's checkpoint counters (`Store.checkpoint_counts`).

Must not know about: HTTP (the app serves the text), SQL. Written by hand
(a few dozen lines) rather than through a client library's global registry,
so that what is exported is exactly the campaigns the service holds now.
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping

from dialer.live.campaign import LiveCampaign

_DAY_FIELDS = ("attempted", "answered", "connected", "transferred", "abandoned", "no_answer", "busy",
               "invalid", "machine", "reserved_dials")
_FLOOR = {
    "agents": ("idle", "reserved_agents", "talking", "wrapping", "paused"),
    "calls": ("ringing_unreserved", "ringing_reserved", "live_waiting"),
}


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


def render_metrics(campaigns: Iterable[LiveCampaign], store: Mapping[str, int] | None = None) -> str:
    """The exposition text for every campaign (series grouped by metric name, as the format asks), and
    the store's checkpoint counters if given (`Store.checkpoint_counts()`; None for PostgreSQL)."""
    snaps = []
    for c in campaigns:
        stats = c.stats()
        today = stats[list(stats)[-1]] if stats else None
        snaps.append((c, c.floor_dict(), today, c.ledger_dict()))
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
        totals: dict[str, int] = {}
        for kinds in c.flags().values():
            for kind, n in kinds.items():
                totals[kind] = totals.get(kind, 0) + n
        for kind, n in sorted(totals.items()):
            out.add("dialer_flagged_dials_total", "counter", "dials applied that broke a rule of the campaign's "
                    "preset (outside_hours), since the campaign began", {"campaign": c.name, "kind": kind}, n)
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
    for c, *_, ledger in snaps:
        out.add("dialer_exposure", "gauge", "unreserved calls in flight no committed idle agent covers",
                {"campaign": c.name}, ledger["exposure"])
    store_counters = (
        ("checkpoints", "dialer_store_checkpoints_total", "WAL checkpoints run off the request path (SQLite)"),
        ("restarts", "dialer_store_wal_restarts_total", "checkpoints that held the commit turn to restart a long WAL"),
        ("failures", "dialer_store_checkpoint_failures_total",
         "checkpoints SQLite refused (the WAL grows until one succeeds; commits are not affected)"),
    )
    for key, name, help in store_counters if store is not None else ():
        out.add(name, "counter", help, {}, store[key])
    return "\n".join(out.lines) + "\n"
