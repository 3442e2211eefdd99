"""The Predictive pacer, fed by hand (the plan and the decision after each step), and on the simulator.

A stand-in solver keeps the unit tests fast and their expectations exact:
`policy[b] = 2 * (agents - b) + 1` dials in flight per number of busy agents.
Each test gives its pacers a `PacingSolver` of its own: nothing global is swapped.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from dialer.core import Controller
from dialer.core import events
from dialer.core.events import FailReason
from dialer.core.modes import make_pacer
from dialer.core.pacers import NOTHING, Plan
from dialer.core.predictive import Predictive
from dialer.core.solver import PacingSolver
from dialer.errors import ConfigError

from core_helpers import put_through


class Stand:
    """A stand-in solver (and day planner, when given one) and the calls it was asked."""

    def __init__(self, plan=None) -> None:
        self.calls: list[tuple] = []
        self.solver = PacingSolver(solve=self.solve, plan=plan)

    def solve(self, agents, handle, ring, live, target):
        self.calls.append((agents, handle, ring, live, target))
        return [2 * (agents - b) + 1 for b in range(agents + 1)]

    def pacer(self, **params) -> Predictive:
        return Predictive(solver=self.solver, **params)


@pytest.fixture
def stand() -> Stand:
    return Stand()


def test_empty_floor_plans_nothing(stand):
    c = Controller(stand.pacer(settle=0.0))
    assert c.pacer.plan(0.0, c.floor) is NOTHING
    assert c.decide(0.0).dials == 0
    assert stand.calls == []


def test_start_of_day_is_power_with_the_agents_pooled(stand):
    """No connect yet, no headroom: each dial must be covered by an idle agent."""
    c = Controller(stand.pacer(settle=0.0))
    for a in range(3):
        c.handle(events.AgentLoggedIn(time=0.0, agent=a))
    plan = c.pacer.plan(0.0, c.floor)
    assert plan == Plan(unreserved=7)  # policy[0] = 2 * 3 + 1, nothing in flight
    d = c.decide(0.0)
    assert (d.reserve, d.unreserved) == ((), 3)  # the envelope leaves exactly the cover of 3 idle agents
    for i in range(3):
        c.handle(events.DialPlaced(time=0.0, call=i, lead=i))
    assert c.pacer.plan(1.0, c.floor) == Plan(unreserved=4)
    assert c.decide(1.0).dials == 0
    c.handle(events.CallFailed(time=5.0, call=0, reason=FailReason.BUSY))
    assert c.decide(5.0).unreserved == 1  # one cover freed, one dial
    c.handle(events.DialPlaced(time=5.0, call=3, lead=3))
    c.handle(events.CallAnswered(time=9.0, call=1, human=True))
    c.handle(events.CallConnected(time=9.0, call=1, agent=0))
    # busy 1: policy[1] = 5, 2 in flight; 2 ringing covered by 2 idle agents, and C = 1 gives no headroom
    assert c.pacer.plan(9.0, c.floor) == Plan(unreserved=3)
    assert (c.exposure(), c.headroom(9.0)) == (0, 0)
    assert c.decide(9.0).dials == 0


def test_with_budget_the_policy_is_followed_and_capped_by_the_envelope(stand):
    c = Controller(stand.pacer(settle=0.0))
    c.handle(events.AgentLoggedIn(time=0.0, agent="a0"))
    t = put_through(c, 0.0, 200, "a0", "h")  # C = 200, A = 0: headroom floor(200 / 19) = 10
    for a in range(1, 4):
        c.handle(events.AgentLoggedIn(time=t, agent=f"a{a}"))
    assert c.headroom(t) == 10
    plan = c.pacer.plan(t, c.floor)
    assert plan == Plan(unreserved=9)  # 4 agents idle: policy[0] = 9
    last = c.pacer.last
    assert (last["agents"], last["busy"], last["in_flight"], last["policy"]) == (4, 0, 0, 9)
    d = c.decide(t)
    assert d.unreserved == 9  # within 4 idle + 10 headroom
    for i in range(9):
        c.handle(events.DialPlaced(time=t, call=i, lead=i))
    assert c.exposure() == 5
    assert c.decide(t).dials == 0


def test_policies_are_solved_at_the_lattice_corners_around_the_inputs_once(stand):
    c = Controller(stand.pacer(settle=0.0, resolution=0.15))
    for a in range(2):
        c.handle(events.AgentLoggedIn(time=0.0, agent=a))
    for k in range(10):
        c.decide(0.1 * k)
    # the target 0.04 is a lattice value: 2 live corners x 2 ring corners, each solved once
    assert len(stand.calls) == 4
    lives = sorted({s[3] for s in stand.calls})
    ratios = sorted({s[2] / s[1] for s in stand.calls})
    assert {s[0] for s in stand.calls} == {2} and {s[1] for s in stand.calls} == {100.0}
    assert [s[4] for s in stand.calls] == pytest.approx([0.04] * 4)
    assert lives[0] <= 0.25 <= lives[1] and lives[1] / lives[0] == pytest.approx(1.15)
    assert ratios[0] <= 22.0 / 200.0 <= ratios[1] and ratios[1] / ratios[0] == pytest.approx(1.15)


def test_the_policy_is_interpolated_between_corners():
    """Dials in flight move smoothly with the live probability: linear in log p between lattice points."""

    def by_live(agents, handle, ring, live, target):
        return [round(10 * live * 1000) * (agents - b) for b in range(agents + 1)]

    p = Predictive(settle=0.0, resolution=0.15, solver=PacingSolver(solve=by_live))
    step = math.log(1.15)
    lo, hi = math.exp(-10 * step), math.exp(-9 * step)  # corners around 0.25
    mid = math.exp(-9.5 * step)
    pol = p.policy(1, 100.0, 100.0 * math.exp(-20 * step), mid, 0.04)
    expected = 0.5 * (round(10 * lo * 1000) + round(10 * hi * 1000))
    assert pol == (pytest.approx(expected), 0.0)


def test_solver_failure_is_power_not_an_exception():
    def broken(*args):
        raise RuntimeError("no convergence")

    p = Predictive(settle=0.0, solver=PacingSolver(solve=broken))
    assert p.policy(3, 200.0, 20.0, 0.25, 0.04) == (3, 2, 1, 0)


def test_effective_target_spreads_the_days_budget(stand):
    c = Controller(stand.pacer(settle=0.0, target=0.04, horizon=3600.0))
    c.handle(events.AgentLoggedIn(time=0.0, agent="a0"))
    t = put_through(c, 0.0, 100, "a0", "h")
    p = c.pacer
    # C = 100, A = 0: 4 abandons unspent over 1 agent x 3600 / 200 = 18 expected connects: capped at the limit
    assert p.effective_target(t, c.floor, 1, 200.0) == pytest.approx(0.05)
    # 40 agents: 720 expected connects
    assert p.effective_target(t, c.floor, 40, 200.0) == pytest.approx(0.04 + 4 / 720)
    s = c.floor.days[0]
    s.abandoned = 10  # overspent by 6
    assert p.effective_target(t, c.floor, 20, 200.0) == pytest.approx(0.04 - 6 / 360)
    s.abandoned = 100
    assert p.effective_target(t, c.floor, 20, 200.0) == pytest.approx(0.01)  # floor: target / 4


def test_leaving_agents_are_not_counted(stand):
    c = Controller(stand.pacer(settle=0.0))
    for a in range(3):
        c.handle(events.AgentLoggedIn(time=0.0, agent=a))
    c.handle(events.AgentLeaving(time=0.0, agent=2))
    assert c.pacer.plan(0.0, c.floor) == Plan(unreserved=5)  # 2 agents: policy[0] = 5
    assert c.pacer.last["agents"] == 2


@pytest.mark.parametrize(
    "params, field",
    [({"target": 0.06, "limit": 0.05}, "pacer.target"), ({"target": 0}, "pacer.target"), ({"half_life": -5}, "pacer.half_life"),
     ({"live_prob": 1.5}, "pacer.live_prob"), ({"max_target": 2}, "pacer.max_target"),
     ({"resolution": 0.9}, "pacer.resolution"), ({"resolution": "fine"}, "pacer.resolution"),
     ({"settle": -1}, "pacer.settle")],
)
def test_bad_parameters_are_named(params, field):
    with pytest.raises(ConfigError, match=rf"^{field} must be"):
        make_pacer("predictive", params)


def test_decisions_do_not_depend_on_the_shared_cache(stand):
    """A pacer that finds every policy already cached decides exactly as the one that solved them."""

    def script(pacer: Predictive) -> list:
        c = Controller(pacer)
        c.handle(events.AgentLoggedIn(time=0.0, agent="a0"))
        t = put_through(c, 0.0, 60, "a0", "h")
        log = []
        for a in range(1, 6):
            c.handle(events.AgentLoggedIn(time=t + a, agent=f"a{a}"))
            d = c.decide(t + a)
            log.append((d.unreserved, pacer.last.get("policy")))
        for k in range(5):
            c.handle(events.DialPlaced(time=t + 10 + k, call=f"x{k}", lead=f"x{k}"))
            d = c.decide(t + 200 + 30 * k)
            log.append((d.unreserved, pacer.last.get("policy")))
        return log

    first = script(stand.pacer(settle=20.0))
    solved = len(stand.calls)
    again = script(stand.pacer(settle=20.0))
    assert first == again
    assert len(stand.calls) == solved  # the second found everything cached


@pytest.mark.slow
def test_simulated_days_never_go_over_the_limit_and_beat_power():
    from dialer.sim import scenario, simulate

    def run(mode: str, seed: int):
        d = scenario.default().model_dump()
        d["study"]["hours"] = ["09:00", "13:00"]
        d["agents"] = [{"name": "day", "count": 10, "shift": ["09:00", "13:00"]}]
        c = d["campaigns"][0]
        c["mode"] = mode
        if mode != "predictive":
            c["pacer"] = {}  # the default scenario's pacer table is the predictive one
        c["leads"] = 5000
        c["lines"] = 30
        return simulate(scenario.from_dict(d), seed).campaigns[0]

    for seed in (1, 2, 3):
        p = run("predictive", seed)
        w = run("power", seed)
        assert p.violation_days == 0
        for day in p.days:
            assert day.stats.abandoned <= 0.05 * day.stats.connected
        assert p.totals.agent_utilization > w.totals.agent_utilization + 0.08


# --- the day plan -------------------------------------------------------------------------------


@pytest.fixture
def planner():
    """A stand-in day plan: the rate is 0.01 while more than an hour is left, then 0.08; it logs its calls.

    Yields (plans made, rates asked, the Stand whose solver has both the stand-in policy and plan)."""
    made, asked = [], []

    def fake(agents, handle, ring, live, limit, hours):
        made.append((agents, handle, ring, live, limit, hours))

        def rate(left, budget):
            asked.append((left, budget))
            return 0.01 if left > 3600.0 else 0.08

        return SimpleNamespace(rate=rate)

    yield made, asked, Stand(plan=fake)


def test_the_day_plan_caps_the_target_by_time_left_and_budget(planner):
    made, asked, stand = planner
    c = Controller(stand.pacer(settle=0.0, target=0.04, day_length=8 * 3600.0))
    c.handle(events.AgentLoggedIn(time=1000.0, agent="a0"))
    c.decide(1000.0)  # the day's first decision: its calling day starts now
    t = put_through(c, 1000.0, 100, "a0", "h")
    c.floor.days[0].abandoned = 2
    c.decide(t)
    p = c.pacer
    assert asked[-1] == (pytest.approx(1000.0 + 8 * 3600.0 - t), pytest.approx(0.05 * 100 - 2))
    assert p.last["ceiling"] == 0.01 and p.last["target"] == pytest.approx(0.01)
    c.decide(1000.0 + 7.5 * 3600.0)  # the last half hour: the plan allows 8 %, above the 5 % limit
    assert p.last["ceiling"] == 0.08
    assert p.last["target"] == pytest.approx(p.effective_target(1000.0 + 7.5 * 3600.0, c.floor, 1, p.last["handle_time"], 0.08))
    assert p.last["target"] > 0.05
    # the plan at the day's first decision: for the agents, the point of the coarse lattice (every other
    # policy lattice point) nearest the priors, the limit and the 8 hours of the day; 15 minutes on,
    # chosen again, at the point nearest what was learnt since (the history: a live probability far higher)
    def coarse(x):
        return 1.15 ** (2 * round(math.log(x) / math.log(1.15) / 2))

    assert made[0] == (1, 100.0, pytest.approx(100.0 * coarse(22.0 / 200.0)), pytest.approx(coarse(0.25)), 0.05, 8.0)
    assert len(made) == 2 and made[1][3] > made[0][3] and made[1][1:] != made[0][1:]
    n = len(made)
    c.decide(t + 1.0)  # within 15 minutes of the last choice: the same plan, nothing solved
    assert len(made) == n
    c.handle(events.AgentLoggedIn(time=t + 2.0, agent="a1"))  # another agent: another plan
    c.decide(t + 2.0)
    assert len(made) == n + 1 and made[-1][0] == 2


def test_the_calling_day_is_counted_from_its_first_dial(planner):
    """Asked before the day's first dial (a live dialer asks all night), the day is all ahead; from it, it runs."""
    _, asked, stand = planner
    c = Controller(stand.pacer(settle=0.0, day_length=3600.0 * 12))
    c.handle(events.AgentLoggedIn(time=1 * 3600.0, agent="a0"))
    c.decide(1 * 3600.0)  # 01:00, no dial yet: twelve hours ahead
    assert asked[-1] == (pytest.approx(12 * 3600.0), 0.0)
    c.decide(8 * 3600.0)
    assert asked[-1][0] == pytest.approx(12 * 3600.0)
    c.handle(events.DialPlaced(time=9 * 3600.0, call="x", lead="x", agent="a0"))  # the window opens
    c.decide(10 * 3600.0)
    assert asked[-1][0] == pytest.approx(11 * 3600.0)
    c.decide(86400.0 + 9.5 * 3600.0)  # the next day, before its first dial
    assert asked[-1][0] == pytest.approx(12 * 3600.0)
    c.handle(events.CallFailed(time=86400.0 + 9.5 * 3600.0, call="x", reason=FailReason.NO_ANSWER))
    c.handle(events.DialPlaced(time=86400.0 + 9.5 * 3600.0, call="y", lead="y"))
    c.decide(86400.0 + 12 * 3600.0)
    assert asked[-1][0] == pytest.approx(9.5 * 3600.0)


@pytest.mark.parametrize("params", [{}, {"day_length": 3600.0, "day_plan": False}])
def test_without_a_day_length_or_with_the_plan_off_there_is_no_ceiling(planner, params):
    made, _, stand = planner
    c = Controller(stand.pacer(settle=0.0, **params))
    c.handle(events.AgentLoggedIn(time=0.0, agent="a0"))
    c.decide(0.0)
    assert made == [] and math.isnan(c.pacer.last["ceiling"])
    assert c.pacer.last["target"] == pytest.approx(0.04)


def test_a_planner_failure_is_no_ceiling_not_an_exception():
    def broken(*args):
        raise RuntimeError("no convergence")

    stand = Stand(plan=broken)
    c = Controller(stand.pacer(settle=0.0, day_length=3600.0))
    c.handle(events.AgentLoggedIn(time=0.0, agent="a0"))
    assert c.pacer.plan(0.0, c.floor) == Plan(unreserved=3)  # policy[0] for one agent, as without a plan
    assert math.isnan(c.pacer.last["ceiling"])


@pytest.mark.parametrize(
    "params, field",
    [({"day_length": 0}, "pacer.day_length"), ({"day_length": 90000}, "pacer.day_length"),
     ({"day_length": "9-21"}, "pacer.day_length"), ({"day_plan": "yes"}, "pacer.day_plan")],
)
def test_bad_day_parameters_are_named(params, field):
    with pytest.raises(ConfigError, match=rf"^{field} must be"):
        make_pacer("predictive", params)


def test_each_pacer_solves_with_its_own_solver_and_shares_the_default():
    """Two solvers keep two caches: a pacer never sees another solver's policies. Without one, the shared."""
    a, b = Stand(), Stand()
    for stand in (a, b):
        c = Controller(stand.pacer(settle=0.0))
        c.handle(events.AgentLoggedIn(time=0.0, agent="a0"))
        put_through(c, 0.0, 60, "a0", "h")
        c.decide(10_000.0)
    assert a.calls and a.calls == b.calls  # the same points, each solved once by its own solver
    assert a.solver.policies() == b.solver.policies() and a.solver.policies() is not b.solver.policies()
    from dialer.core.solver import shared

    assert Predictive().pacing_solver is shared() and a.pacer().pacing_solver is a.solver
    assert "solver" not in Predictive().get_params()  # a collaborator, not a parameter of the pacing
