"""The pacing solver: points solved once, kept per solver, and never solved on the caller's time when told so."""

from __future__ import annotations

import threading

import pytest

from dialer.core import Controller, events
from dialer.core.predictive import Predictive
from dialer.core.solver import PENDING, PacingSolver, compute_policy, power_policy

from core_helpers import put_through

STEP = 0.13976194237515863  # log(1.15), the default resolution's


def stand_in(agents, handle, ring, live, target):
    return [2 * (agents - b) + 1 for b in range(agents + 1)]


def test_a_waiting_solver_solves_once_per_point():
    s = PacingSolver(solve=stand_in)
    first = s.policy((3, -10, -20, 4), STEP)
    assert first == (7, 5, 3, 1) and s.solved == 1
    assert s.policy((3, -10, -20, 4), STEP) is first and s.solved == 1
    assert s.policies() == {(3, -10, -20, 4, STEP): first}


def test_a_solver_that_does_not_wait_answers_pending_and_remembers_what_was_wanted():
    woken = []
    s = PacingSolver(solve=stand_in, wait=False)
    s.on_wanted = lambda: woken.append(1)
    assert s.policy((3, -10, -20, 4), STEP) is PENDING
    assert s.policy((3, -10, -20, 4), STEP) is PENDING  # asked again: still wanted once
    assert s.day_plan((3, -10, -20, 0.05, 720), STEP) is PENDING
    assert woken == [1, 1] and s.solved == 0
    wanted = s.take_wanted()
    assert wanted == [("policy", (3, -10, -20, 4, STEP)), ("plan", (3, -10, -20, 0.05, 720, STEP))]
    assert s.take_wanted() == []
    s.deliver("policy", wanted[0][1], compute_policy(s.solve, (3, -10, -20, 4), STEP))
    assert s.policy((3, -10, -20, 4), STEP) == (7, 5, 3, 1) and s.solved == 1


def test_a_waiting_view_shares_the_caches_and_the_counts():
    s = PacingSolver(solve=stand_in, wait=False)
    view = s.waiting()
    assert view.wait and not s.wait
    assert view.policy((2, -10, -20, 4), STEP) == (5, 3, 1)
    assert s.policy((2, -10, -20, 4), STEP) == (5, 3, 1)  # solved by the view, found by the solver
    assert s.solved == view.solved == 1 and s.take_wanted() == []


def test_a_failed_solve_is_power_and_a_failed_plan_is_none():
    def broken(*args):
        raise RuntimeError("no convergence")

    s = PacingSolver(solve=broken, plan=broken)
    assert s.policy((3, -10, -20, 4), STEP) == power_policy(3) == (3, 2, 1, 0)
    assert s.day_plan((3, -10, -20, 0.05, 720), STEP) is None


def test_threads_share_a_solver_without_losing_a_point():
    s = PacingSolver(solve=stand_in)
    keys = [(n, -10, -20, 4) for n in range(1, 41)]

    def ask():
        for k in keys:
            s.policy(k, STEP)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(s.policies()) == 40 and all(s.policies()[(*k, STEP)] == tuple(stand_in(k[0], 0, 0, 0, 0)) for k in keys)


def floor_with_budget(pacer: Predictive) -> tuple[Controller, float]:
    c = Controller(pacer)
    c.handle(events.AgentLoggedIn(time=0.0, agent="a0"))
    t = put_through(c, 0.0, 200, "a0", "h")
    for a in range(1, 4):
        c.handle(events.AgentLoggedIn(time=t, agent=f"a{a}"))
    return c, t


def test_until_its_policies_are_solved_a_pacer_dials_as_power_then_as_a_waiting_one():
    background = PacingSolver(solve=stand_in, wait=False)
    c, t = floor_with_budget(Predictive(settle=0.0, solver=background))
    reference, _ = floor_with_budget(Predictive(settle=0.0, solver=PacingSolver(solve=stand_in)))
    d = c.decide(t)
    assert d.unreserved == 4  # Power with the agents pooled: one dial per idle agent, none solved yet
    wanted = background.take_wanted()  # the corners it needs were asked for
    expected = reference.decide(t)
    solved = reference.pacer.pacing_solver.policies()
    assert sorted(full for _, full in wanted) == sorted(solved)  # the very points the waiting pacer solved
    for kind, full in wanted:
        background.deliver(kind, full, solved[full])
    assert c.decide(t) == expected and expected.unreserved > 4  # the policy's dials, as the waiting pacer's


def test_while_the_day_plan_is_pending_the_pacer_dials_as_power():
    def plan(*args):
        raise AssertionError("never solved on the decision path")

    background = PacingSolver(solve=stand_in, plan=plan, wait=False)
    c, t = floor_with_budget(Predictive(settle=0.0, day_length=8 * 3600.0, solver=background))
    assert c.decide(t).unreserved == 4 and background.solved == 0
    wanted = dict((kind, full) for kind, full in background.take_wanted())
    assert "plan" in wanted and "policy" not in wanted  # no policy is asked for while the plan is pending


@pytest.mark.parametrize("wait", [True, False])
def test_a_pickled_pacer_leaves_its_solver_behind(wait):
    import pickle

    mine = PacingSolver(solve=stand_in, wait=wait)
    copy = pickle.loads(pickle.dumps(Predictive(solver=mine)))
    assert copy.solver is None and copy.get_params() == Predictive().get_params()
