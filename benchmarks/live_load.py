"""Load on the live service over loopback: sustained events per second and decision latency.

    python benchmarks/live_load.py [--seconds 10] [--batch 8] [--campaigns 1 10]

Starts `dialer serve` as a subprocess on 127.0.0.1 (a free port, a fresh
SQLite store in a temporary directory), once per store setting (synchronous
FULL and NORMAL), and for each number of campaigns runs one client thread per
campaign for a bounded time: each request is `POST /decide` carrying `--batch`
events (per agent: log-in, a reserved dial, busy, log-out) and asks for a
decision (Power mode: the pacer costs nothing, the service is measured). Prints one table: requests,
events per second, decision latency median and p99 (the round trip of one
decide request, events included). Only 127.0.0.1; bounded in time and count.
Timings belong here, never in tests.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import httpx
from rich.console import Console
from rich.table import Table

TOKEN = "benchmark-token-0123456789"
MAX_REQUESTS = 200_000  # per run, whatever --seconds says


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _batch(k: int, size: int) -> list[dict]:
    """`size` events (a multiple of 4): per agent, log in, a reserved dial that is busy, log out."""
    out = []
    for j in range(size // 4):
        agent, call, t = f"a{k}-{j}", k * 1000 + j, float(k)
        out += [
            {"id": f"{call}-in", "type": "AgentLoggedIn", "time": t, "agent": agent},
            {"id": f"{call}-d", "type": "DialPlaced", "time": t, "call": call, "lead": call, "agent": agent},
            {"id": f"{call}-f", "type": "CallFailed", "time": t, "call": call, "reason": "busy"},
            {"id": f"{call}-out", "type": "AgentLoggedOut", "time": t, "agent": agent},
        ]
    return out


def _start(store: str, sync: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    cmd = [sys.executable, "-m", "dialer.cli", "serve", "--port", str(port), "--store", store, "--token", TOKEN,
           "--sqlite-sync", sync]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(url + "/healthz", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        try:
            proc.wait(timeout=0.05)
            raise SystemExit("the server exited")
        except subprocess.TimeoutExpired:
            pass
    proc.kill()
    raise SystemExit("the server did not become ready")


def _run(url: str, campaigns: int, seconds: float, batch: int, tag: str) -> tuple[int, int, list[float]]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    latencies: list[list[float]] = [[] for _ in range(campaigns)]
    events = [0] * campaigns
    stop = time.perf_counter() + seconds
    budget = MAX_REQUESTS // campaigns

    def client(i: int) -> None:
        name = f"{tag}-{i}"
        with httpx.Client(base_url=url, headers=headers, timeout=30) as c:
            c.put(f"/campaigns/{name}", json={"mode": "power"}).raise_for_status()
            for k in range(1, budget + 1):
                body = {"now": float(k), "events": _batch(k, batch)}
                t0 = time.perf_counter()
                r = c.post(f"/campaigns/{name}/decide", json=body)
                latencies[i].append(time.perf_counter() - t0)
                r.raise_for_status()
                events[i] += r.json()["applied"]
                if time.perf_counter() > stop:
                    return

    threads = [threading.Thread(target=client, args=(i,)) for i in range(campaigns)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    flat = [x for lat in latencies for x in lat]
    return len(flat), int(sum(events) / elapsed), flat


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--batch", type=int, default=8, help="events per decide request (a multiple of 4)")
    ap.add_argument("--campaigns", type=int, nargs="+", default=[1, 10])
    args = ap.parse_args()
    table = Table(title=f"dialer serve on loopback, {args.batch} events per decide request, {os.cpu_count()} cores")
    for col in ("store", "campaigns", "requests", "events/s", "decide median ms", "decide p99 ms"):
        table.add_column(col, justify="right")
    for sync in ("full", "normal"):
        with tempfile.TemporaryDirectory() as d:
            proc, url = _start(os.path.join(d, "load.sqlite"), sync)
            try:
                for n in args.campaigns:
                    reqs, eps, lat = _run(url, n, args.seconds, args.batch, f"c{n}")
                    lat.sort()
                    p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
                    table.add_row(f"SQLite WAL {sync}", str(n), str(reqs), f"{eps:,}",
                                  f"{1000 * statistics.median(lat):.2f}", f"{1000 * p99:.2f}")
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    Console().print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
