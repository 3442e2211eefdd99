"""The disk cache of solved policies: it saves solves, never changes a decision, survives bad files.

Each test solves with solvers of its own (`PacingSolver()`: the theory's functions, a fresh cache) and a
cache directory of its own: nothing global is swapped or cleared."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dialer import policy_cache
from dialer.core.solver import PacingSolver
from dialer.sim import scenario, simulate


def small_predictive():
    d = scenario.default().model_dump()
    d["study"]["hours"] = ["09:00", "10:00"]
    d["agents"] = [{"name": "day", "count": 4, "shift": ["09:00", "10:00"]}]
    c = d["campaigns"][0]
    c["leads"] = 2000
    c["lines"] = 12
    return scenario.from_dict(d)


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DIALER_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_a_run_fills_the_file_and_a_fresh_process_cache_reads_it_back(cache_dir):
    sc = small_predictive()
    first_solver = PacingSolver()
    first = simulate(sc, 3, solver=first_solver).to_json()
    path = policy_cache.location()
    assert path is not None and path.parent == cache_dir and path.exists()
    solved = first_solver.policies()
    plans = first_solver.plans()
    assert solved and plans  # the run needed policies, and day plans (the simulator tells the pacer its day)
    assert first_solver.solved == len(solved) and first_solver.planned == len(plans)
    assert policy_cache.plans_location().exists()
    # as if in a new process: a solver with nothing in memory, the files still there
    fresh = PacingSolver()
    assert policy_cache.load(fresh) == len(solved) + len(plans)
    assert policy_cache.load(fresh) == 0  # once per solver
    assert fresh.policies() == solved
    back = fresh.plans()
    assert back.keys() == plans.keys()
    for key, plan in plans.items():  # the same table of rates, read the same way
        got = back[key]
        assert np.array_equal(got.choice, plan.choice) and got.rates == plan.rates
        assert (got.step, got.budget_step, got.agents, got.hours) == (plan.step, plan.budget_step, plan.agents, plan.hours)
    again_solver = PacingSolver()
    again = simulate(sc, 3, solver=again_solver).to_json()
    assert again == first
    assert again_solver.solved == 0 and again_solver.planned == 0  # every policy and plan came from the file


def test_the_cache_never_changes_a_decision(cache_dir, monkeypatch):
    sc = small_predictive()
    with_cache = simulate(sc, 5, solver=PacingSolver()).to_json()
    monkeypatch.setenv("DIALER_CACHE_DIR", "off")
    assert policy_cache.location() is None
    cold = PacingSolver()
    without = simulate(sc, 5, solver=cold).to_json()
    assert without == with_cache and cold.solved > 0
    assert list(cache_dir.iterdir()) != []  # only the first run wrote


def test_a_stand_in_solver_is_never_kept_on_disk(cache_dir):
    stand_in = PacingSolver(solve=lambda n, h, r, p, t: [n - b for b in range(n + 1)])
    assert not stand_in.theory
    simulate(small_predictive(), 2, solver=stand_in)
    assert stand_in.solved > 0 and stand_in.policies()
    assert policy_cache.save(stand_in) == 0 and policy_cache.load(stand_in) == 0
    assert not policy_cache.location().exists()  # its Power-everywhere policies would poison the theory's file


@pytest.mark.parametrize("content", ["not json at all", "[[1, 2]]", json.dumps({"a": 1}), ""])
def test_an_unreadable_file_is_ignored(cache_dir, content):
    path = policy_cache.location()
    path.write_text(content, encoding="utf-8")
    solver = PacingSolver()
    assert policy_cache.load(solver) == 0
    sc = small_predictive()
    assert simulate(sc, 1, solver=solver).campaigns[0].totals.attempted > 0
    assert policy_cache.save(solver) > 0  # the file is rewritten with good entries


def test_malformed_entries_are_refused():
    solver = PacingSolver()
    good = {(2, -10, -20, 4, 0.13976194237515863): (5, 2, 0)}
    bad = {
        (2, -10, -20, 5, 0.14): (5, 2),  # one number short for 2 agents
        (2, -10, -20, 6, 0.14): (5, -1, 0),  # negative
        (2, -10, -20, 7): (5, 2, 0),  # key without a step
        (2, -10, -20, 8, -0.1): (5, 2, 0),  # negative step
        (2, -10, -20, 9, 0.14): (5, 2.5, 0),  # not whole numbers
    }
    assert solver.add_policies({**good, **bad}) == 1
    assert solver.policies() == good


@pytest.mark.parametrize("rows", ["not json", json.dumps([[1, 2, 3]]), json.dumps([["k", [1], 1, 1, [0.0], [1, 1], "!!"]]),
                                  json.dumps({"a": 1})])
def test_an_unreadable_plans_file_is_ignored(cache_dir, rows):
    policy_cache.plans_location().write_text(rows, encoding="utf-8")
    solver = PacingSolver()
    assert policy_cache.load(solver) == 0
    assert simulate(small_predictive(), 1, solver=solver).campaigns[0].totals.attempted > 0
    policy_cache.save(solver)
    assert policy_cache._read_plans(policy_cache.plans_location())  # rewritten with good rows


def test_malformed_plans_are_refused():
    solver = PacingSolver()

    class Plan:
        def rate(self, left, budget):
            return 0.05

    good = {(2, -10, -20, 0.05, 720, 0.13976194237515863): Plan()}
    bad = {
        (2, -10, -20, 0.05, 720): Plan(),  # key without a step
        (2, -10, -20, 1.5, 720, 0.14): Plan(),  # not a rate
        (2, -10, -20, 0.05, 0, 0.14): Plan(),  # no minutes
        (2, -10, -20, 0.05, 720, 0.15): object(),  # no rate to read
    }
    assert solver.add_plans({**good, **bad}) == 1
    assert solver.plans() == good
