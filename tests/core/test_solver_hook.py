"""PacingSolver.on_solve: a hook around every solve on the spot (how a command line shows long solves)."""

from __future__ import annotations

from contextlib import contextmanager

from dialer.core.solver import PacingSolver


class Flat:
    def rate(self, seconds_left: float, budget: float) -> float:
        return 0.05


def test_the_hook_runs_around_each_solve_and_never_around_a_found_one():
    log: list[tuple] = []

    def solve(n, h, r, p, t):
        log.append(("solve", n))
        return [n - b for b in range(n + 1)]

    def plan(n, h, r, p, limit, hours):
        log.append(("plan", n))
        return Flat()

    @contextmanager
    def hook(kind, key):
        log.append(("enter", kind, key))
        yield
        log.append(("exit", kind))

    solver = PacingSolver(solve=solve, plan=plan)
    solver.on_solve = hook
    view = solver.waiting()
    solver.policy((3, -10, -16, 1), 0.5)
    view.policy((3, -10, -16, 1), 0.5)  # found: no solve, no hook
    view.day_plan((3, -10, -16, 0.05, 720), 0.5)
    assert log == [
        ("enter", "policy", (3, -10, -16, 1, 0.5)), ("solve", 3), ("exit", "policy"),
        ("enter", "plan", (3, -10, -16, 0.05, 720, 0.5)), ("plan", 3), ("exit", "plan"),
    ]
    solver.on_solve = None  # views share the hook: taking it off the solver takes it off them
    assert view.on_solve is None
    view.policy((3, -10, -16, 2), 0.5)
    assert log[-1] == ("solve", 3)


def test_a_failing_solve_still_leaves_the_hook_and_falls_back_to_power():
    events: list[str] = []

    @contextmanager
    def hook(kind, key):
        events.append("enter")
        yield
        events.append("exit")

    def broken(n, h, r, p, t):
        raise ValueError("no")

    solver = PacingSolver(solve=broken)
    solver.on_solve = hook
    assert solver.policy((2, -10, -16, 1), 0.5) == (2, 1, 0)
    assert events == ["enter", "exit"]
