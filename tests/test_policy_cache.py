"""The disk cache of solved policies: it saves solves, never changes a decision, survives bad files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dialer.core import predictive
from dialer import policy_cache
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
    monkeypatch.setattr(policy_cache, "_loaded", set())
    predictive.clear_policy_cache()
    yield tmp_path
    predictive.clear_policy_cache()


def test_a_run_fills_the_file_and_a_fresh_process_cache_reads_it_back(cache_dir, monkeypatch):
    sc = small_predictive()
    first = simulate(sc, 3).to_json()
    path = policy_cache.location()
    assert path is not None and path.parent == cache_dir and path.exists()
    solved = predictive.cached_policies()
    plans = predictive.cached_plans()
    assert solved and plans  # the run needed policies, and day plans (the simulator tells the pacer its day)
    assert policy_cache.plans_location().exists()
    # as if in a new process: nothing in memory, the files still there
    predictive.clear_policy_cache()
    monkeypatch.setattr(policy_cache, "_loaded", set())
    assert policy_cache.load() == len(solved) + len(plans)
    assert predictive.cached_policies() == solved
    back = predictive.cached_plans()
    assert back.keys() == plans.keys()
    for key, plan in plans.items():  # the same table of rates, read the same way
        got = back[key]
        assert np.array_equal(got.choice, plan.choice) and got.rates == plan.rates
        assert (got.step, got.budget_step, got.agents, got.hours) == (plan.step, plan.budget_step, plan.agents, plan.hours)
    solves = []
    monkeypatch.setattr(predictive, "PLANNER", lambda *args: solves.append(args))
    again = simulate(sc, 3).to_json()
    assert again == first and solves == []  # every plan came from the file


def test_the_cache_never_changes_a_decision(cache_dir, monkeypatch):
    sc = small_predictive()
    with_cache = simulate(sc, 5).to_json()
    monkeypatch.setenv("DIALER_CACHE_DIR", "off")
    predictive.clear_policy_cache()
    assert policy_cache.location() is None
    without = simulate(sc, 5).to_json()
    assert without == with_cache
    assert list(cache_dir.iterdir()) != []  # only the first run wrote


@pytest.mark.parametrize("content", ["not json at all", "[[1, 2]]", json.dumps({"a": 1}), ""])
def test_an_unreadable_file_is_ignored(cache_dir, content):
    path = policy_cache.location()
    path.write_text(content, encoding="utf-8")
    assert policy_cache.load() == 0
    sc = small_predictive()
    assert simulate(sc, 1).campaigns[0].totals.attempted > 0
    assert policy_cache.save() > 0  # the file is rewritten with good entries


def test_malformed_entries_are_refused():
    predictive.clear_policy_cache()
    good = {(2, -10, -20, 4, 0.13976194237515863): (5, 2, 0)}
    bad = {
        (2, -10, -20, 5, 0.14): (5, 2),  # one number short for 2 agents
        (2, -10, -20, 6, 0.14): (5, -1, 0),  # negative
        (2, -10, -20, 7): (5, 2, 0),  # key without a step
        (2, -10, -20, 8, -0.1): (5, 2, 0),  # negative step
        (2, -10, -20, 9, 0.14): (5, 2.5, 0),  # not whole numbers
    }
    assert predictive.add_policies({**good, **bad}) == 1
    assert predictive.cached_policies() == good
    predictive.clear_policy_cache()


@pytest.mark.parametrize("rows", ["not json", json.dumps([[1, 2, 3]]), json.dumps([["k", [1], 1, 1, [0.0], [1, 1], "!!"]]),
                                  json.dumps({"a": 1})])
def test_an_unreadable_plans_file_is_ignored(cache_dir, rows):
    policy_cache.plans_location().write_text(rows, encoding="utf-8")
    assert policy_cache.load() == 0
    assert simulate(small_predictive(), 1).campaigns[0].totals.attempted > 0
    policy_cache.save()
    predictive.clear_policy_cache()
    assert policy_cache._read_plans(policy_cache.plans_location())  # rewritten with good rows


def test_malformed_plans_are_refused():
    predictive.clear_policy_cache()

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
    assert predictive.add_plans({**good, **bad}) == 1
    assert predictive.cached_plans() == good
    predictive.clear_policy_cache()
