"""The Predictive pacer's solver: policies and day plans on a lattice, solved once and kept.

Owns: `PacingSolver`, the object a Predictive pacer is given (or shares:
`shared()`, one per process) that owns the policy solver, the day planner
and their caches, keyed by lattice point. A policy or a day plan is a pure
function of its lattice point and of the solver's code, so which solver
object a pacer holds changes how long a decision takes, never what it
decides.
Must not know about: files, clocks, threads' scheduling; the on-disk cache
(`dialer.policy_cache`) loads into and saves from a solver from outside.

    from dialer.core.solver import PacingSolver
    from dialer.core.predictive import Predictive
    mine = PacingSolver(solve=lambda n, h, r, p, t: [n - b for b in range(n + 1)])   # Power everywhere
    Predictive(solver=mine)        # this pacer solves and caches with `mine` only
"""

from __future__ import annotations

import copy
import math
import threading
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Callable, Protocol, Sequence

#: the handle time the solver is called with (time scales out of the policy)
HANDLE_UNIT = 100.0
#: lattice step of the effective target
TARGET_STEP = 0.01

#: (agents, handle, ring, live, target) -> dials in flight to keep per busy agents 0..agents
PolicyFunction = Callable[[int, float, float, float, float], Sequence[int]]


class DayPlanLike(Protocol):
    """What the pacer needs of a day plan (`dialer.theory.DayPlan`): the rate for a time left and a budget."""

    def rate(self, seconds_left: float, budget: float) -> float: ...


#: (agents, handle, ring, live, limit, hours) -> a plan whose rate(seconds left, budget) caps the target
PlanFunction = Callable[[int, float, float, float, float, float], DayPlanLike]


def solve_with_theory(agents: int, handle_time: float, ring_time: float, live_prob: float,
                      target: float) -> tuple[int, ...]:
    """The optimal-pacing bound's policy (`dialer.theory.optimal_pacing`), rounded up to whole dials."""
    from dialer.theory import optimal_pacing

    res = optimal_pacing(agents, handle_time, ring_time, live_prob, target)
    return tuple(int(max(0, math.ceil(x - 1e-9))) for x in res.policy)


def plan_with_theory(agents: int, handle_time: float, ring_time: float, live_prob: float, limit: float,
                     hours: float) -> DayPlanLike:
    """The best day under the promise (`dialer.theory.day_plan`)."""
    from dialer.theory import day_plan

    return day_plan(agents, handle_time, ring_time, live_prob, limit, hours)


def power_policy(agents: int) -> tuple[int, ...]:
    """One dial in flight per idle agent: what a pacer falls back on when a solve fails."""
    return tuple(agents - b for b in range(agents + 1))


#: ("policy" | "plan", full key) -> a context manager that a solve on the spot runs in (see `PacingSolver.on_solve`)
SolveHook = Callable[[str, tuple], AbstractContextManager[Any]]

#: what a solver that does not wait answers for a point not solved yet (see `PacingSolver.wait`)
PENDING: Any = type("Pending", (), {"__repr__": lambda self: "PENDING", "__slots__": ()})()


def compute_policy(solve: PolicyFunction, key: tuple[int, int, int, int], step: float) -> tuple[int, ...]:
    """The policy at lattice point `key` = (agents, i, j, k): live exp(i step), ring / handle exp(j step),
    target k x TARGET_STEP. A solve that fails, or answers the wrong length, gives Power (never an error)."""
    agents, i, j, k = key
    live = min(math.exp(i * step), 0.999)
    ring = math.exp(j * step) * HANDLE_UNIT
    try:
        pol = tuple(int(x) for x in solve(agents, HANDLE_UNIT, ring, live, k * TARGET_STEP))
    except Exception:  # a solver failure must never become a failed decision: cover the idle (Power)
        return power_policy(agents)
    return pol if len(pol) == agents + 1 else power_policy(agents)


def compute_plan(plan: PlanFunction, key: tuple[int, int, int, float, int], step: float) -> DayPlanLike | None:
    """The day plan at lattice point `key` = (agents, i, j, limit, minutes of calling); None if it failed."""
    agents, i, j, limit, minutes = key
    live = min(math.exp(i * step), 0.999)
    ring = math.exp(j * step) * HANDLE_UNIT
    try:
        return plan(agents, HANDLE_UNIT, ring, live, limit, minutes / 60.0)
    except Exception:  # a planner failure must never become a failed decision: no ceiling
        return None


class PacingSolver:
    """Solves and keeps the policies and day plans of the Predictive pacers that hold it.

    `solve` and `plan` default to the theory's (`solve_with_theory`,
    `plan_with_theory`); a test or a benchmark passes its own. A solve or a
    plan that raises never fails a decision: the policy falls back to Power,
    the plan to none (no ceiling).

    `wait` (default True): a point not solved yet is solved on the spot. A
    solver with `wait=False` never solves on the caller's time: it answers
    `PENDING`, remembers the point as wanted (`take_wanted`), and calls
    `on_wanted()` so that whoever owns it (a background worker of the live
    service, `dialer.live.warmer`) solves it elsewhere and `deliver`s it;
    the pacer meanwhile dials as cautiously as it would without a policy.
    `waiting()` is a view of the same caches that does wait (the simulator's
    determinism, the emulator's parity). The caches are guarded by a lock,
    so pacers in several threads may share one solver.

    `on_solve` (default None): a hook called as `on_solve(kind, full key)`
    ("policy" or "plan") before each solve on the spot; the context manager
    it returns is entered for the solve's duration. A command line uses it
    to show what takes long (`dialer.cli.progress`); the solver itself never
    prints or reads a clock. Views made by `waiting()` share it.

    Policies are keyed (agents, i, j, k, step): live probability exp(i step),
    ring / handle exp(j step), target k x TARGET_STEP. Day plans are keyed
    (agents, i, j, limit, minutes of calling, step).
    """

    def __init__(self, *, solve: PolicyFunction | None = None, plan: PlanFunction | None = None,
                 wait: bool = True) -> None:
        self.solve = solve_with_theory if solve is None else solve
        self.plan = plan_with_theory if plan is None else plan
        self.wait = wait
        self.on_wanted: Callable[[], None] | None = None
        self._policies: dict[tuple, tuple[int, ...]] = {}
        self._plans: dict[tuple, DayPlanLike | None] = {}
        self._wanted: dict[tuple[str, tuple], None] = {}  # ("policy" | "plan", full key), oldest first
        self._lock = threading.Lock()
        self._counts = [0, 0]  # policies and day plans solved (not found), shared with `waiting()` views
        self._hook: list[SolveHook | None] = [None]  # `on_solve`, shared with `waiting()` views

    @property
    def on_solve(self) -> SolveHook | None:
        """The hook every solve on the spot runs in (None: none); see the class docstring."""
        return self._hook[0]

    @on_solve.setter
    def on_solve(self, hook: SolveHook | None) -> None:
        self._hook[0] = hook

    def _solving(self, kind: str, full: tuple) -> AbstractContextManager[Any]:
        hook = self._hook[0]
        return nullcontext() if hook is None else hook(kind, full)

    @property
    def solved(self) -> int:
        """How many policies this solver (or a view of it) has solved or been delivered, not found cached."""
        return self._counts[0]

    @property
    def planned(self) -> int:
        """How many day plans this solver (or a view of it) has solved or been delivered."""
        return self._counts[1]

    @property
    def theory(self) -> bool:
        """True when both functions are the theory's: only such a solver's results may be kept on disk."""
        return self.solve is solve_with_theory and self.plan is plan_with_theory

    def waiting(self) -> "PacingSolver":
        """A view of this solver (the same caches, functions and lock) that solves on the spot."""
        view = copy.copy(self)
        view.wait = True
        return view

    # --- the lattice ------------------------------------------------------------------------------

    def policy(self, key: tuple[int, int, int, int], step: float) -> tuple[int, ...]:
        """The policy at a lattice point (agents, i, j, k), solved on first use (or PENDING, see `wait`)."""
        full = (*key, step)
        pol = self._policies.get(full)
        if pol is None:
            if not self.wait:
                return self._want("policy", full)
            with self._solving("policy", full):
                pol = compute_policy(self.solve, key, step)
            with self._lock:
                self._counts[0] += 1
                pol = self._policies.setdefault(full, pol)
        return pol

    def day_plan(self, key: tuple[int, int, int, float, int], step: float) -> DayPlanLike | None:
        """The day plan at a lattice point (agents, i, j, limit, minutes of calling); None if it failed
        (or PENDING, see `wait`)."""
        full = (*key, step)
        try:
            return self._plans[full]
        except KeyError:
            pass
        if not self.wait:
            return self._want("plan", full)
        with self._solving("plan", full):
            plan = compute_plan(self.plan, key, step)
        with self._lock:
            self._counts[1] += 1
            return self._plans.setdefault(full, plan)

    # --- solving elsewhere ------------------------------------------------------------------------

    def _want(self, kind: str, full: tuple) -> Any:
        with self._lock:
            new = (kind, full) not in self._wanted
            if new:
                self._wanted[(kind, full)] = None
        if new and self.on_wanted is not None:
            self.on_wanted()
        return PENDING

    def want(self, kind: str, key: tuple, step: float) -> None:
        """Ask for a point ahead of need ("policy" or "plan"; `key` without the step), unless it is known."""
        full = (*key, step)
        if full not in (self._policies if kind == "policy" else self._plans):
            self._want(kind, full)

    def take_wanted(self) -> list[tuple[str, tuple]]:
        """The points wanted and not delivered, oldest first, as (kind, full key); the list is emptied."""
        with self._lock:
            out = list(self._wanted)
            self._wanted.clear()
        return out

    def deliver(self, kind: str, full: tuple, value: Any) -> None:
        """A point solved elsewhere (by `compute_policy` / `compute_plan` with this solver's functions)."""
        with self._lock:
            if kind == "policy":
                self._counts[0] += 1
                self._policies.setdefault(full, value)
            else:
                self._counts[1] += 1
                self._plans.setdefault(full, value)

    # --- what it holds ------------------------------------------------------------------------------

    def clear(self) -> None:
        """Forget every policy and day plan solved."""
        with self._lock:
            self._policies.clear()
            self._plans.clear()

    def policies(self) -> dict[tuple, tuple[int, ...]]:
        """A copy of the policies: (agents, i, j, k, step) -> dials in flight per busy agents."""
        with self._lock:
            return dict(self._policies)

    def plans(self) -> dict[tuple, DayPlanLike]:
        """A copy of the day plans that solved: (agents, i, j, limit, minutes, step) -> plan."""
        with self._lock:
            return {k: v for k, v in self._plans.items() if v is not None}

    def add_policies(self, policies: dict[tuple, tuple[int, ...]]) -> int:
        """Add policies solved elsewhere (another process, an earlier run); returns how many were new.

        Only well-formed entries are taken: four whole numbers and a positive
        step, a policy of agents + 1 non-negative whole numbers. The caller
        makes sure they come from the same solver code (`dialer.policy_cache`
        keys its files by a hash of that code).
        """
        new = 0
        for key, pol in policies.items():
            if not (isinstance(key, tuple) and len(key) == 5 and all(isinstance(x, int) for x in key[:4])):
                continue
            agents, step = key[0], key[4]
            if not (isinstance(step, float) and step > 0 and agents >= 1):
                continue
            if not (isinstance(pol, tuple) and len(pol) == agents + 1
                    and all(isinstance(x, int) and x >= 0 for x in pol)):
                continue
            with self._lock:
                if key not in self._policies:
                    self._policies[key] = pol
                    new += 1
        return new

    def add_plans(self, plans: dict[tuple, DayPlanLike]) -> int:
        """Add day plans solved elsewhere; returns how many were new (see `add_policies`).

        Only well-formed entries are taken: agents, two lattice indices
        (whole numbers), a limit in (0, 1), whole minutes of at most a day and
        a positive step, and a plan with a `rate`.
        """
        new = 0
        for key, plan in plans.items():
            if not (isinstance(key, tuple) and len(key) == 6 and all(isinstance(x, int) for x in (*key[:3], key[4]))):
                continue
            agents, limit, minutes, step = key[0], key[3], key[4], key[5]
            if not (agents >= 1 and isinstance(limit, float) and 0 < limit < 1 and 0 < minutes <= 24 * 60
                    and isinstance(step, float) and step > 0 and callable(getattr(plan, "rate", None))):
                continue
            with self._lock:
                if key not in self._plans:
                    self._plans[key] = plan
                    new += 1
        return new


_SHARED = PacingSolver()


def shared() -> PacingSolver:
    """The process's default solver: every Predictive pacer not given one holds this (so its policies
    are solved once per process), and `dialer.policy_cache` keeps it on disk between runs."""
    return _SHARED
