"""Load on the live service over loopback: sustained events per second and decision latency.

    python benchmarks/live_load.py [--seconds 8] [--campaigns 1 10] [--rate 2000] [--tick 0.1]
                                   [--loads saturated paced ticks] [--sync full normal]
                                   [--repeat 3] [--json PATH]

Starts `dialer serve` as a subprocess on 127.0.0.1 (a free port, a fresh
SQLite store in a temporary directory), once per store setting (synchronous
FULL and NORMAL), and for each number of campaigns drives one keep-alive
connection per campaign for a bounded time, one request at a time on each.
Events: per agent, a log-in, a reserved dial that is busy, a log-out; Power
mode (the pacer costs nothing: the service is what is measured). Loads:

- saturated: every request is `POST /decide` carrying `--batch` events, and
  each client sends its next one as soon as it has the answer (closed loop):
  the most events per second the service sustains. Latency there is mostly
  queueing once the server is the bottleneck (ten clients: ten requests wait
  for one core), so this row is about throughput.
- paced: the same requests (a decision with `--batch` events each), the
  clients together offering `--rate` events/s on a fixed schedule (open
  loop); latency from when a request was *due*, so a server that falls
  behind is charged for it. The harshest reading of the target: every
  decision waits for its events' disk flush.
- ticks: what a dialer's loop does: every `--tick` seconds each campaign
  posts the events of that tick (`POST /events`, together `--rate`
  events/s: 1 campaign 200 events per 100 ms tick, 10 campaigns 20 each)
  and then asks `POST /decide` with no events. Decide latency is that
  request's, from when it was sent (right when the post is answered).
  Events are acknowledged after their commit as always; the decision alone
  is not held for a disk flush (the journal's rule 2: docs/design.md,
  "Wall-clock time and the journal").

Columns: requests (all, posts included), events/s achieved, decide median
and p99 (ms; paced: from when due, else from when sent), post p99 (ms: the
round trip of a request carrying events, from when it was sent; saturated
and paced: the decide requests themselves), the server's CPU
per request (from /proc: user + system, all its threads), and the load
average before and after the row (the machine is shared: read latency
with it). The client is kept cheap, since it shares the 2 cores with the
server: one thread drives every connection through a selector (threads, one
per campaign, queued for the interpreter lock and charged that wait to the
service), over plain sockets with request bytes built before the clock
starts. Only 127.0.0.1; bounded in time and count.
Timings belong here, never in tests.
"""

from __future__ import annotations

import argparse
import heapq
import http.client
import json
import os
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import httpx
from rich.console import Console
from rich.table import Table

TOKEN = "benchmark-token-0123456789"
MAX_REQUESTS = 200_000  # per run, whatever --seconds says
LOADS = ("saturated", "paced", "ticks")
_AGENT = ('{"id":"%(c)d-in","type":"AgentLoggedIn","time":%(t)d.0,"agent":"a%(k)d-%(j)d"},'
          '{"id":"%(c)d-d","type":"DialPlaced","time":%(t)d.0,"call":%(c)d,"lead":%(c)d,"agent":"a%(k)d-%(j)d"},'
          '{"id":"%(c)d-f","type":"CallFailed","time":%(t)d.0,"call":%(c)d,"reason":"busy"},'
          '{"id":"%(c)d-out","type":"AgentLoggedOut","time":%(t)d.0,"agent":"a%(k)d-%(j)d"}')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _events(k: int, size: int) -> str:
    """JSON text of `size` events (a multiple of 4) at time k: per agent, log in, a reserved dial that is busy,
    log out (ids unique per k up to 4,000 events)."""
    return ",".join(_AGENT % {"c": k * 1000 + j, "t": k, "k": k, "j": j} for j in range(size // 4))


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


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, all threads (from /proc; 0 where there is none)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Result:
    def __init__(self) -> None:
        self.requests = 0
        self.events = 0
        self.decide: list[float] = []  # seconds
        self.post: list[float] = []
        self.elapsed = 0.0


def _create(host: str, port: int, name: str) -> None:
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request("PUT", f"/campaigns/{name}", body=b'{"mode":"power"}',
                     headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
        r = conn.getresponse()
        if r.status not in (200, 201):
            raise SystemExit(f"PUT /campaigns/{name}: {r.status} {r.read()[:200]!r}")
        r.read()
    finally:
        conn.close()


class _Client:
    """One campaign's keep-alive connection, driven by the one-thread loop in `_run`: one request at a time."""

    def __init__(self, host: str, port: int, name: str, index: int) -> None:
        self.index = index
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.head = (f"Host: {host}:{port}\r\nAuthorization: Bearer {TOKEN}\r\n"
                     "Content-Type: application/json\r\nContent-Length: ").encode()
        self.decide = f"POST /campaigns/{name}/decide HTTP/1.1\r\n".encode()
        self.events = f"POST /campaigns/{name}/events HTTP/1.1\r\n".encode()
        self.buf = b""
        self.k = 0  # the request (or tick) in progress, 1, 2, ...
        self.step = ""  # "decide" or "post" while a request is out, "" when idle
        self.due = self.sent = 0.0
        self.result = Result()

    def send(self, line: bytes, body: bytes) -> None:
        self.sock.sendall(line + self.head + b"%d\r\n\r\n" % len(body) + body)

    def receive(self) -> bytes | None:
        """Read what arrived; the body of a complete response, or None if it is not complete yet."""
        data = self.sock.recv(65536)
        if not data:
            raise SystemExit("the server closed a connection")
        self.buf += data
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = self.buf[:end].lower()
        at = head.find(b"content-length:")
        if at < 0:
            raise SystemExit(f"a response without content-length: {head[:200]!r}")
        line_end = head.find(b"\r\n", at)
        size = int(head[at + 15:line_end if line_end >= 0 else None])
        if len(self.buf) < end + 4 + size:
            return None
        body, self.buf = self.buf[end + 4:end + 4 + size], self.buf[end + 4 + size:]
        status = int(head[9:12])
        if status >= 300:
            raise SystemExit(f"{self.step}: {status} {body[:200]!r}")
        return body


def _run(url: str, campaigns: int, seconds: float, batch: int, tag: str, load: str, rate: float,
         tick: float) -> Result:
    """One load: `campaigns` connections for `seconds` (see the module docstring for the loads), all driven
    by this one thread through a selector: the client's own threads would queue for the interpreter lock
    and charge that wait to the service."""
    host, port_text = url.removeprefix("http://").split(":")
    port = int(port_text)
    if load == "ticks":
        per = int(rate * tick / campaigns) // 4 * 4  # events per campaign per tick
        interval: float | None = tick
    else:
        per = batch
        interval = None if load == "saturated" else campaigns * batch / rate  # s between one client's requests
    count = MAX_REQUESTS // campaigns if interval is None else min(MAX_REQUESTS // campaigns, int(seconds / interval) + 1)
    made = count if interval is not None else min(count, int(seconds * 3000))  # saturated: more made as needed

    def bodies(k: int) -> tuple[bytes, bytes]:
        if load == "ticks":
            return b'{"events":[' + _events(k, per).encode() + b"]}", b'{"now":%d.0}' % k
        return b'{"now":%d.0,"events":[' % k + _events(k, per).encode() + b"]}", b""

    prebuilt = [bodies(k) for k in range(1, made + 1)]
    names = [f"{tag}-{i}" for i in range(campaigns)]
    for name in names:
        _create(host, port, name)
    clients = [_Client(host, port, name, i) for i, name in enumerate(names)]
    sel = selectors.DefaultSelector()
    for c in clients:
        sel.register(c.sock, selectors.EVENT_READ, c)
    perf = time.perf_counter
    t_start = perf()
    stop = t_start + seconds
    timers: list[tuple[float, int]] = []  # (due, client): the next request of a paced client

    def begin(i: int, c: _Client, due: float) -> None:
        c.k += 1
        first, _ = prebuilt[c.k - 1] if c.k <= len(prebuilt) else bodies(c.k)
        c.due, c.sent = due, perf()
        if load == "ticks":
            c.step = "post"
            c.send(c.events, first)
        else:
            c.step = "decide"
            c.send(c.decide, first)

    def schedule(i: int, c: _Client) -> None:
        """The client's next request: now (saturated) or at its due time; none once over time or count."""
        if c.k >= count or perf() > stop:
            c.step = ""
            return
        if interval is None:
            begin(i, c, perf())
            return
        offset = interval * i / campaigns  # spread the clients' schedules
        due = t_start + offset + c.k * interval
        if due > stop:
            c.step = ""
            return
        c.step = "wait"
        heapq.heappush(timers, (due, i))

    for i, c in enumerate(clients):  # the first requests: now, or due at the start plus the client's offset
        if interval is None:
            begin(i, c, perf())
        else:
            c.step = "wait"
            heapq.heappush(timers, (t_start + interval * i / campaigns, i))
    try:
        while any(c.step for c in clients):
            now = perf()
            while timers and timers[0][0] <= now:
                due, i = heapq.heappop(timers)
                begin(i, clients[i], due)
            timeout = None if not timers else max(0.0, timers[0][0] - perf())
            for key, _ in sel.select(timeout):
                c = key.data
                body = c.receive()
                if body is None:
                    continue
                done = perf()
                res = c.result
                if c.step == "post":  # ticks: the tick's events are in; now the decision alone
                    res.post.append(done - c.sent)
                    res.events += json.loads(body)["applied"]
                    res.requests += 1
                    c.step = "decide-alone"
                    c.sent = perf()
                    c.send(c.decide, (prebuilt[c.k - 1] if c.k <= len(prebuilt) else bodies(c.k))[1])
                    continue
                if c.step == "decide-alone":
                    res.decide.append(done - c.sent)
                else:
                    res.decide.append(done - c.due)  # paced: from when due; saturated: due is when sent
                    res.post.append(done - c.sent)
                    res.events += json.loads(body)["applied"]
                res.requests += 1
                schedule(c.index, c)
    finally:
        sel.close()
        for c in clients:
            c.sock.close()
    total = Result()
    total.elapsed = perf() - t_start
    for c in clients:
        r = c.result
        total.requests += r.requests
        total.events += r.events
        total.decide += r.decide
        total.post += r.post
    return total


def _p99(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(0.99 * len(xs)))]


def _spread(xs: list[float], scale: float = 1.0, fmt: str = "{:.2f}") -> str:
    """The median of the repeats, and their range when there are several."""
    xs = sorted(x * scale for x in xs)
    mid = fmt.format(statistics.median(xs))
    return mid if len(xs) == 1 else f"{mid} ({fmt.format(xs[0])}-{fmt.format(xs[-1])})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=8.0, help="per load (default 8)")
    ap.add_argument("--batch", type=int, default=8, help="events per decide request, saturated and paced (a multiple of 4)")
    ap.add_argument("--campaigns", type=int, nargs="+", default=[1, 10])
    ap.add_argument("--rate", type=float, default=2000.0, help="events/s offered by the paced and tick loads (default 2000)")
    ap.add_argument("--tick", type=float, default=0.1, help="the tick load's period, s (default 0.1)")
    ap.add_argument("--loads", nargs="+", default=list(LOADS), choices=LOADS)
    ap.add_argument("--sync", nargs="+", default=["full", "normal"], choices=("full", "normal"))
    ap.add_argument("--repeat", type=int, default=1,
                    help="run everything this many times (a fresh server each time); the table shows the median "
                         "of the runs and their range (default 1, at most 5)")
    ap.add_argument("--json", help="also write every run's numbers to this file")
    args = ap.parse_args()
    if args.seconds <= 0 or args.seconds > 120:
        raise SystemExit("--seconds must be in (0, 120]")
    if args.batch <= 0 or args.batch % 4 or args.rate <= 0 or not 0.01 <= args.tick <= 1:
        raise SystemExit("--batch must be a positive multiple of 4, --rate positive, --tick in [0.01, 1]")
    if not 1 <= args.repeat <= 5:
        raise SystemExit("--repeat must be 1 to 5")
    runs: dict[tuple[str, int, str], list[dict]] = {}
    for _ in range(args.repeat):
        for sync in args.sync:
            with tempfile.TemporaryDirectory() as d:
                proc, url = _start(os.path.join(d, "load.sqlite"), sync)
                try:
                    for n in args.campaigns:
                        for load in args.loads:
                            before = os.getloadavg()[0]
                            cpu = _cpu_seconds(proc.pid)
                            r = _run(url, n, args.seconds, args.batch, f"c{n}-{load}", load, args.rate, args.tick)
                            cpu = _cpu_seconds(proc.pid) - cpu
                            runs.setdefault((sync, n, load), []).append({
                                "requests": r.requests, "events_per_s": r.events / r.elapsed,
                                "decide_median_s": statistics.median(r.decide), "decide_p99_s": _p99(r.decide),
                                "post_p99_s": _p99(r.post), "server_cpu_s_per_request": cpu / max(1, r.requests),
                                "load_before": before, "load_after": os.getloadavg()[0]})
                finally:
                    proc.terminate()
                    proc.wait(timeout=30)
    title = (f"dialer serve on loopback, {os.cpu_count()} cores; saturated and paced: {args.batch} events per "
             f"decide; ticks: events posted every {args.tick * 1000:.0f} ms, then a decide alone")
    if args.repeat > 1:
        title += f"; median of {args.repeat} runs (range)"
    table = Table(title=title)
    for col in ("store", "campaigns", "load", "requests", "events/s", "decide median ms", "decide p99 ms",
                "post p99 ms", "server CPU ms/request", "load avg"):
        table.add_column(col, justify="right")
    for (sync, n, load), rs in runs.items():
        shown = {"saturated": "saturated", "paced": f"paced {args.rate:,.0f}/s", "ticks": f"ticks {args.rate:,.0f}/s"}[load]
        col = lambda key: [r[key] for r in rs]  # noqa: E731
        loads = col("load_before") + col("load_after")
        table.add_row(f"SQLite WAL {sync}", str(n), shown, f"{statistics.median(col('requests')):.0f}",
                      _spread(col("events_per_s"), fmt="{:,.0f}"), _spread(col("decide_median_s"), 1000),
                      _spread(col("decide_p99_s"), 1000), _spread(col("post_p99_s"), 1000),
                      _spread(col("server_cpu_s_per_request"), 1000), f"{min(loads):.1f}-{max(loads):.1f}")
    Console(width=220).print(table)
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{"sync": k[0], "campaigns": k[1], "load": k[2], "runs": v} for k, v in runs.items()], f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
