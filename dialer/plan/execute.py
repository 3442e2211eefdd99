"""Where runs are computed: serially, on a local Dask cluster, or on an existing scheduler.

Owns: `Backend` (which of the three), `RunCache` (finished runs on disk, one
JSON file per run, named by the run's key), and `run_tasks`, which looks every
task up in the cache, sends only the missing ones to the backend, stores
each result as it arrives (so an interrupted sweep loses at most the runs in
progress) and returns the results in the order of the tasks.

Must not know about: what a task means (dialer.plan.runs executes it),
variations, printing. Results do not depend on the backend: a task carries
its seed, and `execute` is a pure function of the task.

The cache is written by the client, never by workers: a worker on another
machine need not share a disk with the planner.
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from dialer.errors import ConfigError, bad
from dialer.plan.runs import execute, task_key


@dataclass(frozen=True)
class Backend:
    """`kind`: "serial", "local" (a LocalCluster of `workers` processes) or "scheduler" (at `address`)."""

    kind: str = "local"
    workers: int = 2
    address: str | None = None
    #: seconds to wait for an existing scheduler to answer
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.kind not in ("serial", "local", "scheduler"):
            raise bad("backend", self.kind, "one of serial, local, scheduler")
        if self.kind == "scheduler" and not (self.address and "://" in self.address):
            raise bad("--scheduler", self.address, "an address such as tcp://HOST:PORT")
        if self.workers < 1:
            raise bad("--workers", self.workers, "a whole number >= 1")

    def describe(self) -> str:
        if self.kind == "serial":
            return "serially in this process"
        if self.kind == "local":
            return f"on a local Dask cluster ({self.workers} worker processes)"
        return f"on the Dask scheduler at {self.address}"


class RunCache:
    """Finished runs on disk: `<dir>/<key[:2]>/<key>.json`, written atomically."""

    def __init__(self, directory: str | Path | None) -> None:
        self.dir = None if directory is None else Path(directory)

    def _path(self, key: str) -> Path:
        assert self.dir is not None
        return self.dir / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        if self.dir is None:
            return None
        p = self._path(key)
        try:
            return json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return None  # a damaged entry is recomputed and overwritten

    def put(self, key: str, value: dict[str, Any]) -> None:
        if self.dir is None:
            return
        p = self._path(key)
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".tmp-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(value, fh, separators=(",", ":"))
            os.replace(tmp, p)
        except OSError as err:
            raise ConfigError(f"--cache {str(self.dir)!r} cannot be written: {err.strerror or err}") from None


@dataclass
class RunStats:
    computed: int = 0
    cached: int = 0
    keys: list[str] = field(default_factory=list)


Progress = Callable[[int, int], None]  # (done, total)


class Session:
    """An open backend: a Dask client (and the local cluster it started) kept for many batches.

        with Session(Backend("local")) as session:
            run_tasks(batch1, session=session); run_tasks(batch2, session=session)

    Serial sessions hold nothing. The cluster is started on first use, so a
    session whose runs are all cached never starts one.
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._client: Any = None
        self._cluster: Any = None

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def client(self) -> Any:
        if self._client is not None:
            return self._client
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - declared in the 'plan' extra
            raise ConfigError(
                "backend: Dask is not installed, got a parallel run (install dialer-pacing[plan] or use --serial)"
            ) from None
        b = self.backend
        if b.kind == "local":
            self._cluster = LocalCluster(
                n_workers=b.workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=":0",  # any free port: never collides with another cluster
                silence_logs=40,
            )
            self._client = Client(self._cluster)
        else:
            try:
                self._client = Client(b.address, timeout=f"{b.timeout}s")
            except (OSError, TimeoutError) as err:
                raise ConfigError(f"--scheduler cannot be reached, got {b.address!r} ({err})") from None
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def run_tasks(
    tasks: Sequence[dict[str, Any]],
    *,
    backend: Backend = Backend("serial"),
    cache: RunCache | None = None,
    progress: Progress | None = None,
    session: Session | None = None,
) -> tuple[list[dict[str, Any]], RunStats]:
    """Results of `tasks`, in order; only runs missing from the cache are computed.

    Identical tasks (same scenario and seed) are computed once. `session`
    (optional) keeps a Dask client open across calls; without one, a parallel
    backend is opened for this call and closed after it.
    """
    cache = cache or RunCache(None)
    stats = RunStats(keys=[task_key(t) for t in tasks])
    results: dict[str, dict[str, Any]] = {}
    todo: dict[str, dict[str, Any]] = {}
    for key, task in zip(stats.keys, tasks):
        if key in results or key in todo:
            continue
        hit = cache.get(key)
        if hit is not None:
            results[key] = hit
            stats.cached += 1
        else:
            todo[key] = task
    total = len(results) + len(todo)
    done = len(results)
    if progress:
        progress(done, total)

    def finished(key: str, value: dict[str, Any]) -> None:
        nonlocal done
        cache.put(key, value)
        results[key] = value
        stats.computed += 1
        done += 1
        if progress:
            progress(done, total)

    if todo:
        kind = session.backend.kind if session is not None else backend.kind
        if kind == "serial":
            for key, task in todo.items():
                finished(key, execute(task))
        elif session is not None:
            _run_dask(todo, session, finished)
        else:
            with Session(backend) as own:
                _run_dask(todo, own, finished)
    return [results[k] for k in stats.keys], stats


#: runs handed to Dask at a time: enough to keep every worker busy, few enough that the scheduler and the
#: client never hold a whole study (100,000 futures at once lost the client its scheduler)
DASK_WINDOW = 500


def _run_dask(todo: dict[str, dict[str, Any]], session: Session, finished: Callable[[str, dict[str, Any]], None]) -> None:
    from distributed import as_completed

    client = session.client()
    waiting = iter(todo.items())

    def submit(key: str, task: dict[str, Any]) -> Any:
        fut = client.submit(execute, task, key=f"dialer-run-{key}", pure=True)
        keys[fut] = key
        return fut

    keys: dict[Any, str] = {}
    running = as_completed([submit(k, t) for k, t in itertools.islice(waiting, DASK_WINDOW)])
    for fut in running:
        finished(keys.pop(fut), fut.result())
        fut.release()
        nxt = next(waiting, None)
        if nxt is not None:
            running.add(submit(*nxt))
