"""Snapshots of a live campaign: what one costs when it is written, and what it saves at a restart.

    PYTHONPATH=. python benchmarks/snapshots.py [--agents 100] [--every 10000] [--batch 50] [--store URL]

Simulates the speed benchmark's Power day (`speed.scaled_default(agents, "power")`, seed 1) and keeps
its events in order; feeds them, in batches of `--batch` with ids, to a `dialer.live.service.Service`
on a fresh SQLite store in a temporary directory (or `--store`, an empty database) holding one campaign
in Power mode with no preset, which keeps a snapshot every `--every` journal entries, as `dialer serve`
does. Prints the batches' latency (median, p99, max) without and with a snapshot written in them, the
newest snapshot's size and its write and read times, and a restart's time (a fresh `Service` on the same
store: every campaign restored) from the newest snapshot against a replay of the whole journal (the
snapshots deleted first), best of `--repeat`. The store is the machine's disk: read the figures with
the machine's load, printed beside them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from dialer.live.service import Service
from dialer.live.snapshot import loads
from dialer.live.store import Store, snapshots
from dialer.live.wire import event_to_dict
from dialer.sim.results import simulate

sys.path.insert(0, str(Path(__file__).parent))
import speed  # the speed benchmark's floor, and its timer
from speed import timed

NAME = "sales"


def day_events(agents: int) -> list[dict[str, Any]]:
    """The Power day's events, in the order the engine fed them to its controller, as a dialer sends them."""
    seen: list[Any] = []
    simulate(speed.scaled_default(agents, "power"), seed=1, observer=lambda _campaign, ev: seen.append(ev))
    return [event_to_dict(ev, f"e{i}") for i, ev in enumerate(seen, 1)]


def restart(url: str) -> float:
    """Seconds to open the store and restore every campaign in a fresh Service."""
    def open_all() -> None:
        with Store(url) as store:
            Service(store, policy_cache=False, snapshot_every=None).shutdown()

    return timed(open_all)[0]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--agents", type=int, default=100)
    p.add_argument("--every", type=int, default=10_000, help="journal entries between two snapshots (10000)")
    p.add_argument("--batch", type=int, default=50, help="events per batch, as a dialer posts them (50)")
    p.add_argument("--repeat", type=int, default=3, help="restarts timed each way, best kept (3)")
    p.add_argument("--store", help="an empty database URL (default: a fresh SQLite file in a temporary directory)")
    a = p.parse_args(argv)
    if not (1 <= a.agents <= 1000 and 1 <= a.every and 1 <= a.batch <= 10_000 and 1 <= a.repeat <= 10):
        p.error("--agents 1-1000, --every >= 1, --batch 1-10000, --repeat 1-10")
    load0 = os.getloadavg()[0]
    t_sim, events = timed(lambda: day_events(a.agents))
    with tempfile.TemporaryDirectory() as tmp:
        url = a.store or f"sqlite:///{Path(tmp) / 'live.sqlite'}"
        plain: list[float] = []
        with_snapshot: list[float] = []
        with Store(url) as store:
            service = Service(store, policy_cache=False, snapshot_every=a.every)
            c, _ = service.create(NAME, {"mode": "power"})
            for i in range(0, len(events), a.batch):
                before = c.snapshot_seq
                dt, _ = timed(partial(c.submit, events[i : i + a.batch]))
                (with_snapshot if c.snapshot_seq != before else plain).append(dt)
            seq = c.seq
            t_write, _ = timed(lambda: service.write_snapshot(c))  # the newest, at the journal's end
            service.shutdown()
            (at, _fmt, blob), *_ = store.snapshots(NAME)
            refs = c._collaborators()
            t_read = min(timed(lambda: loads(blob, refs))[0] for _ in range(a.repeat))
        from_snapshot = min(restart(url) for _ in range(a.repeat))
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(snapshots.delete())
        engine.dispose()
        whole = min(restart(url) for _ in range(a.repeat))
    load1 = os.getloadavg()[0]

    def ms(xs: list[float], q: str) -> str:
        if not xs:
            return "-"
        xs = sorted(xs)
        v = {"median": statistics.median(xs), "p99": xs[min(len(xs) - 1, int(0.99 * len(xs)))], "max": xs[-1]}[q]
        return f"{1000 * v:.1f}"

    print(f"Power day of {a.agents} agents (seed 1): {len(events):,} events simulated in {t_sim:.1f} s, "
          f"journal of {seq:,} entries, batches of {a.batch}, a snapshot every {a.every:,} entries; "
          f"store {'--store' if a.store else 'SQLite (temporary file)'}; load average {load0:.1f} -> {load1:.1f}")
    print()
    print("| batches | count | median ms | p99 ms | max ms |")
    print("|---|---|---|---|---|")
    print(f"| no snapshot written | {len(plain):,} | {ms(plain, 'median')} | {ms(plain, 'p99')} | {ms(plain, 'max')} |")
    print(f"| a snapshot written | {len(with_snapshot):,} | {ms(with_snapshot, 'median')} | "
          f"{ms(with_snapshot, 'p99')} | {ms(with_snapshot, 'max')} |")
    print()
    print("| the newest snapshot | value |")
    print("|---|---|")
    print(f"| at entry | {at:,} |")
    print(f"| size | {len(blob) / 1e6:.2f} MB |")
    print(f"| write (state to bytes, one transaction) | {1000 * t_write:.0f} ms |")
    print(f"| read (bytes to state), best of {a.repeat} | {1000 * t_read:.0f} ms |")
    print(f"| restart from it, best of {a.repeat} | {from_snapshot:.2f} s |")
    print(f"| restart replaying the whole journal, best of {a.repeat} | {whole:.2f} s |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
