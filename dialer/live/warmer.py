"""Solving off the decision path: a live campaign's policies and day plans, warmed in a worker process.

Owns: `Warmer`, which takes the points a non-waiting `PacingSolver` was
asked for (`take_wanted`), with their neighbours on the lattice (the next
agent count, the next live probability, ring time and target), solves them
in a worker process (so a solve never holds the service's interpreter) and
`deliver`s them; it loads the disk cache (`dialer.policy_cache`) when it
starts and saves what it solved there, from the worker too. `background()`
is the process's shared background solver that live campaigns use unless
told otherwise.
Must not know about: how a pacer reads policies, HTTP, the journal.

    solver = PacingSolver(wait=False)
    warmer = Warmer(solver)          # a campaign asking `solver` never waits for a solve again
    ...
    warmer.close()                   # saves what it solved, stops the worker
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from dialer import policy_cache
from dialer.core.solver import PacingSolver, compute_plan, compute_policy
from dialer.live.worker import Worker
from dialer.theory import DayPlan

#: seconds between two saves of newly solved points to the disk cache
SAVE_EVERY = 30.0


def _solve(kind: str, full: tuple, solve: Any, plan: Any) -> Any:
    """In the worker: one point, as the waiting solver would have solved it."""
    key, step = full[:-1], full[-1]
    return compute_policy(solve, key, step) if kind == "policy" else compute_plan(plan, key, step)


def _save(policies: dict, plans: dict, cache_dir: str | None) -> int:
    """In the worker: merge solved points into the disk cache files (JSON encoding off the service's
    process), in the cache directory the service uses (`cache_dir`: its DIALER_CACHE_DIR, if set)."""
    if cache_dir is None:
        os.environ.pop("DIALER_CACHE_DIR", None)
    else:
        os.environ["DIALER_CACHE_DIR"] = cache_dir
    keeper = PacingSolver()
    keeper.add_policies(policies)
    keeper.add_plans(plans)
    return policy_cache.save(keeper)


def neighbours(kind: str, full: tuple) -> list[tuple]:
    """The points next to `full` on the lattice: one step in each coordinate, one agent more and fewer."""
    if kind == "policy":
        agents, i, j, k, step = full
        out = [(agents + 1, i, j, k, step), (agents - 1, i, j, k, step)]
        out += [(agents, i + d, j, k, step) for d in (-1, 1)] + [(agents, i, j + d, k, step) for d in (-1, 1)]
        out += [(agents, i, j, k + d, step) for d in (-1, 1) if k + d >= 1]
    else:
        agents, i, j, limit, minutes, step = full
        out = [(agents + 1, i, j, limit, minutes, step), (agents - 1, i, j, limit, minutes, step)]
        out += [(agents, i + d, j, limit, minutes, step) for d in (-2, 2)]  # plans sit on every other point
        out += [(agents, i, j + d, limit, minutes, step) for d in (-2, 2)]
    return [p for p in out if p[0] >= 1 and p[1] <= 0]  # at least one agent; a live probability of at most 1


class Warmer:
    """Solves what `solver` (a `PacingSolver(wait=False)`) is asked for, in a worker, and keeps it on disk.

    The theory's solver runs in one child process (`dialer.live.worker`: the
    service keeps the other core, and a solve never holds its interpreter);
    a stand-in (a test's, whose functions may not travel to another
    process) in a thread. A worker that dies is replaced at the next solve;
    the points it held are asked for again by the next decision. `cache`:
    load the disk cache now and save to it (only a theory solver's points
    are ever kept there). `ahead`: also solve the neighbours of every point
    asked for, so that a floor drifting to the next lattice point finds it
    solved.
    """

    def __init__(self, solver: PacingSolver, *, cache: bool = True, ahead: bool = True) -> None:
        if solver.wait:
            raise ValueError("a Warmer needs a solver that does not wait (PacingSolver(wait=False))")
        self.solver = solver
        self.cache = cache and solver.theory
        self.ahead = ahead
        self._pool: Worker | ThreadPoolExecutor | None = None  # started with the first point to solve
        self._lock = threading.Lock()
        self._inflight: set[tuple[str, tuple]] = set()
        self._sent: set[tuple] = set()  # keys known to be in the disk cache, or sent there
        self._last_save = time.monotonic()
        self._wake = threading.Event()
        self._closed = False
        self._pumping = False
        if self.cache:
            policy_cache.load(solver)
            self._sent.update(solver.policies(), solver.plans())
        self._thread = threading.Thread(target=self._run, name="dialer-warmer", daemon=True)
        self._thread.start()
        solver.on_wanted = self._wake.set
        self._wake.set()  # points asked before the warmer was attached

    # --- the pump (its own thread: the decision that asked only set an event) --------------------

    def _run(self) -> None:
        while True:
            self._wake.wait(timeout=SAVE_EVERY)
            self._wake.clear()
            if self._closed:
                return
            with self._lock:
                self._pumping = True
            try:
                self._pump()
            finally:
                with self._lock:
                    self._pumping = False

    def _pump(self) -> None:
        wanted = self.solver.take_wanted()
        ahead: list[tuple[str, tuple]] = []
        for kind, full in wanted:
            self._submit(kind, full)
            if self.ahead:
                ahead += [(kind, n) for n in neighbours(kind, full)]
        for kind, full in ahead:
            if not self._known(kind, full):
                self._submit(kind, full)
        self._maybe_save()

    def _known(self, kind: str, full: tuple) -> bool:
        held = self.solver._policies if kind == "policy" else self.solver._plans
        return full in held

    def _executor(self) -> Worker | ThreadPoolExecutor:
        if self._pool is None:
            if self.solver.theory:  # a child process (dialer.live.worker): a solve never holds our interpreter
                self._pool = Worker()
            else:  # a stand-in's functions may not travel to another process
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dialer-warmer")
        return self._pool

    def _submit(self, kind: str, full: tuple) -> None:
        with self._lock:
            if (kind, full) in self._inflight or self._closed:
                return
            self._inflight.add((kind, full))
        try:
            fut = self._executor().submit(_solve, kind, full, self.solver.solve, self.solver.plan)
        except RuntimeError:  # closed meanwhile
            return
        fut.add_done_callback(lambda f, kind=kind, full=full: self._done(kind, full, f))

    def _done(self, kind: str, full: tuple, fut: Future) -> None:
        try:
            value = fut.result()
        except BaseException:  # the worker died, or closed: forget it; the next decision that needs it asks again
            with self._lock:
                self._inflight.discard((kind, full))
            return
        self.solver.deliver(kind, full, value)
        with self._lock:
            self._inflight.discard((kind, full))

    def _unsent(self) -> tuple[dict, dict]:
        """What the solver holds and the disk cache does not (solved here, or by a waiting view)."""
        policies = {k: v for k, v in self.solver.policies().items() if k not in self._sent}
        plans = {k: v for k, v in self.solver.plans().items() if k not in self._sent and isinstance(v, DayPlan)}
        return policies, plans

    def _maybe_save(self) -> None:
        """Send the unsent points to the worker to be merged into the disk cache, at most every SAVE_EVERY s."""
        if not self.cache:
            return
        with self._lock:
            if time.monotonic() - self._last_save < SAVE_EVERY:
                return
            self._last_save = time.monotonic()
        policies, plans = self._unsent()
        if not policies and not plans:
            return
        try:
            self._executor().submit(_save, policies, plans, os.environ.get("DIALER_CACHE_DIR"))
        except RuntimeError:
            return
        self._sent.update(policies, plans)

    # --- reading and stopping ----------------------------------------------------------------------

    @property
    def busy(self) -> int:
        """Points being solved now."""
        with self._lock:
            return len(self._inflight)

    def settle(self, timeout: float = 120.0) -> bool:
        """Wait until nothing is wanted or being solved (for tests, benchmarks and a clean shutdown)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self._wake.set()
            with self._lock:
                idle = not self._inflight and not self._pumping
            if idle and not self.solver._wanted:
                return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        """Stop the pump and the worker (solves still queued are dropped), and save what was solved
        (here: nothing waits behind a long solve in the worker)."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        self.solver.on_wanted = None
        if isinstance(self._pool, Worker):
            self._pool.close(wait=False)
        elif self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self.cache:
            policies, plans = self._unsent()
            if policies or plans:
                keeper = PacingSolver()
                keeper.add_policies(policies)
                keeper.add_plans(plans)
                policy_cache.save(keeper)
                self._sent.update(policies, plans)


_BACKGROUND: tuple[PacingSolver, Warmer] | None = None
_BACKGROUND_LOCK = threading.Lock()


def background() -> PacingSolver:
    """The process's shared background solver (a `PacingSolver(wait=False)` with its `Warmer`), made on
    first use: the live campaigns of a process share its policies, as simulated ones share `shared()`'s."""
    global _BACKGROUND
    with _BACKGROUND_LOCK:
        if _BACKGROUND is None:
            solver = PacingSolver(wait=False)
            warmer = Warmer(solver)
            atexit.register(warmer.close)
            _BACKGROUND = (solver, warmer)
        return _BACKGROUND[0]


def warmer_of(solver: PacingSolver) -> Warmer | None:
    """The shared background solver's warmer (None for any other solver)."""
    return _BACKGROUND[1] if _BACKGROUND is not None and _BACKGROUND[0] is solver else None
