"""Generic checks run against every registered pacer (scikit-learn's estimator_checks, for pacers).

Every pacer in `dialer.core.modes.PACERS` must: decide the same way given
the same event script; plan no unreserved dial if it claims to reserve
agents (Power); never break the abandon envelope if it paces inside it;
name a bad parameter in `check_params`; and answer with a value, never an
exception, on an empty floor.

The event script comes from a tiny scripted floor below (no SimPy): a
seeded generator draws outcomes and durations, a heap keyed by (time,
counter) orders the events, and a live answer meets the reserved agent, any
idle agent, or no one (abandoned at once: the controller's worst case).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pytest

from dialer.checks import Constraint
from dialer.core import Controller, Floor
from dialer.core.decision import Decision
from dialer.core import events
from dialer.core.events import FailReason
from dialer.core.modes import PACERS, make_pacer
from dialer.core.pacers import Plan
from dialer.errors import ConfigError

MODES = sorted(PACERS)


@dataclass
class World:
    controller: Controller
    seed: int = 0
    agents: int = 6
    live: float = 0.3
    ring: float = 15.0
    talk: float = 120.0
    wrap: float = 20.0
    end: float = 3600.0
    #: called after every decision has been placed: check(world, decision, plan)
    check: Callable[["World", Any, Any], None] | None = None
    log: list[tuple] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)
        self._heap: list[tuple[float, int, str, Any]] = []
        self._n = 0
        self._call = 0
        self._wake_at: float | None = None

    def _at(self, t: float, kind: str, data: Any) -> None:
        self._n += 1
        heapq.heappush(self._heap, (t, self._n, kind, data))

    def run(self) -> list[tuple]:
        c = self.controller
        for a in range(self.agents):
            c.handle(events.AgentLoggedIn(time=0.0, agent=a))
        self._decide(0.0)
        while self._heap:
            t, _, kind, data = heapq.heappop(self._heap)
            getattr(self, "_" + kind)(t, data)
            if t < self.end:
                self._decide(t)
        return self.log

    def _decide(self, now: float) -> None:
        c = self.controller
        plans: list[Plan] = []
        pacer_plan = type(c.pacer).plan
        c.pacer.plan = lambda floor, t: plans.append(pacer_plan(c.pacer, floor, t)) or plans[-1]  # record it
        d = c.decide(now)
        del c.pacer.plan
        plan = plans[0]
        self.log.append((round(now, 9), d.reserve, d.unreserved, d.wake_at))
        for agent in d.reserve:
            self._dial(now, agent)
        for _ in range(d.unreserved):
            self._dial(now, None)
        if d.wake_at is not None and d.wake_at > now and d.wake_at < self.end:
            if self._wake_at is None or d.wake_at < self._wake_at:
                self._wake_at = d.wake_at
                self._at(d.wake_at, "wake", d.wake_at)
        if self.check is not None:
            self.check(self, d, plan)

    def _dial(self, now: float, agent: Any) -> None:
        call = self._call
        self._call += 1
        self.controller.handle(events.DialPlaced(time=now, call=call, lead=call, agent=agent))
        live = self.rng.random() < self.live
        self._at(now + self.rng.exponential(self.ring), "ring_end", (call, agent, live))

    def _wake(self, t: float, when: float) -> None:
        if self._wake_at == when:
            self._wake_at = None

    def _ring_end(self, t: float, data: tuple) -> None:
        call, agent, live = data
        c = self.controller
        if not live:
            c.handle(events.CallFailed(time=t, call=call, reason=FailReason.NO_ANSWER))
            return
        c.handle(events.CallAnswered(time=t, call=call, human=True))
        if agent is None:
            agent = next(c.floor.idle_agents(), None)
        if agent is None:
            c.handle(events.CallAbandoned(time=t, call=call))
            return
        c.handle(events.CallConnected(time=t, call=call, agent=agent))
        self._at(t + self.rng.exponential(self.talk), "talk_end", (call, agent))

    def _talk_end(self, t: float, data: tuple) -> None:
        call, agent = data
        self.controller.handle(events.CallEnded(time=t, call=call))
        self._at(t + self.rng.exponential(self.wrap) if self.wrap > 0 else t, "ready", agent)

    def _ready(self, t: float, agent: Any) -> None:
        self.controller.handle(events.AgentReady(time=t, agent=agent))


def _controller(mode: str, **params: Any) -> Controller:
    return Controller(make_pacer(mode, params), lines=40)


@pytest.mark.parametrize("mode", MODES)
def test_deterministic_given_the_same_event_script(mode):
    logs = [World(_controller(mode), seed=3, end=1800.0).run() for _ in range(2)]
    assert logs[0] == logs[1]
    assert any(d[1] or d[2] for d in logs[0]), "the pacer never dialled"


@pytest.mark.parametrize("mode", [m for m in MODES if PACERS[m].reserves_agents])
def test_reserving_pacers_never_plan_unreserved(mode):
    def check(world, decision, plan):
        assert plan.unreserved == 0
        assert decision.unreserved == 0

    world = World(_controller(mode), seed=5, end=1800.0, check=check)
    world.run()
    s = world.controller.floor.days[0]
    assert s.attempted > 0 and s.abandoned == 0


@pytest.mark.parametrize("mode", [m for m in MODES if PACERS[m].uses_envelope])
@pytest.mark.parametrize("seed", [1, 2])
def test_envelope_pacers_never_break_the_envelope(mode, seed):
    checks = []

    def check(world, decision, plan):
        c = world.controller
        h = c.headroom(c.floor.now)
        checks.append((c.exposure(), h))
        assert c.exposure() <= max(h, 0), (c.exposure(), h, decision)

    # a floor where over-dialling is tempting: few agents, short handles, long rings
    world = World(_controller(mode), seed=seed, agents=4, live=0.5, ring=20.0, talk=40.0, wrap=5.0,
                  end=3 * 3600.0, check=check)
    world.run()
    s = world.controller.floor.days[0]
    assert s.abandoned <= 0.05 * s.connected
    assert any(k > 0 for k, _ in checks), "the pacer never used the envelope: the check proved nothing"


def _bad_value(constraint: Constraint) -> Any:
    for v in (-1, 0, "bad", float("nan"), None, True, 2.5, -0.5, 10**9):
        if not constraint.accepts(v):
            return v
    raise AssertionError("no bad value found")


@pytest.mark.parametrize(
    "mode, name",
    [(m, n) for m in MODES for n in PACERS[m]._constraints],
)
def test_check_params_names_the_bad_parameter(mode, name):
    pacer = make_pacer(mode)
    value = _bad_value(PACERS[mode]._constraints[name])
    setattr(pacer, name, value)
    with pytest.raises(ConfigError, match=rf"^pacer\.{name} must be .*got {value!r}".replace("(", r"\(")):
        pacer.check_params()
    with pytest.raises(ConfigError, match=rf"^pacer\.{name} must be"):
        make_pacer(mode, {name: value})


@pytest.mark.parametrize("mode", MODES)
def test_get_params_are_the_constructor_arguments(mode):
    pacer = make_pacer(mode)
    params = pacer.get_params()
    assert set(params) == set(PACERS[mode]._constraints)
    assert make_pacer(mode, params).get_params() == params


@pytest.mark.parametrize("mode", MODES)
def test_decisions_are_values_on_an_empty_floor(mode):
    pacer = make_pacer(mode)
    plan = pacer.plan(0.0, Floor())
    assert isinstance(plan, Plan)
    assert plan.reserved >= 0 and plan.unreserved >= 0
    d = Controller(make_pacer(mode)).decide(0.0)
    assert isinstance(d, Decision)
    assert d.reserve == ()
    if PACERS[mode].uses_envelope or PACERS[mode].reserves_agents:
        assert d.dials == 0  # nobody to cover a dial, no budget: nothing to dial


@pytest.mark.parametrize("mode", MODES)
def test_unknown_parameter_is_named(mode):
    with pytest.raises(ConfigError, match=rf"^pacer\.no_such_thing: unknown parameter for mode '{mode}'"):
        make_pacer(mode, {"no_such_thing": 1})
