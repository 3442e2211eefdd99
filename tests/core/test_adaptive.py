"""The Adaptive (VICIdial-style) baseline, fed by hand: the plan and the dial level after each step."""

from __future__ import annotations

import pytest

from dialer.core import Controller
from dialer.core.adaptive import Adaptive
from dialer.core.events import (
    AgentLoggedIn,
    AgentPaused,
    CallAbandoned,
    CallAnswered,
    CallConnected,
    CallFailed,
    DialPlaced,
    FailReason,
)
from dialer.core.modes import make_pacer
from dialer.core.pacers import Plan
from dialer.errors import ConfigError


def floor_with(agents: int, pacer: Adaptive | None = None) -> Controller:
    c = Controller(pacer or Adaptive(), abandon_limit=None)
    for a in range(agents):
        c.handle(AgentLoggedIn(time=0.0, agent=a))
    return c


def test_first_decision_is_one_dial_per_agent_and_a_wake_up_each_second():
    c = floor_with(4)
    assert c.pacer.plan(0.5, c.floor) == Plan(unreserved=4, wake_at=1.0)
    assert c.pacer.level == 1.0
    d = c.decide(0.5)
    assert (d.unreserved, d.wake_at) == (4, 1.0)


def test_calls_in_progress_are_subtracted_and_paused_agents_do_not_count():
    c = floor_with(4)
    c.handle(DialPlaced(time=0.0, call=1, lead=1))
    c.handle(DialPlaced(time=0.0, call=2, lead=2))
    assert c.pacer.plan(0.0, c.floor).unreserved == 2
    c.handle(AgentPaused(time=0.1, agent=3))
    assert c.pacer.plan(0.1, c.floor).unreserved == 1


def test_level_rises_while_agents_wait_for_calls():
    """15 samples of 4 ready agents of 4, no call waiting: m = 1, DL doubles; then clamped at 3."""
    c = floor_with(4)
    p = c.pacer
    for t in range(0, 15):
        p.plan(float(t), c.floor)
    assert p.level == pytest.approx(2.0)
    assert p.plan(15.0, c.floor) == Plan(unreserved=8, wake_at=16.0)
    for t in range(16, 30):
        p.plan(float(t), c.floor)
    assert p.level == pytest.approx(3.0)  # 4, clamped


def test_level_falls_while_calls_wait_for_agents():
    c = floor_with(2, Adaptive(start_level=2.0))
    p = c.pacer
    for k in range(4):
        c.handle(DialPlaced(time=0.0, call=k, lead=k))
    for k in range(2):
        c.handle(CallAnswered(time=0.0, call=k, human=True))
        c.handle(CallConnected(time=0.0, call=k, agent=k))
    for k in (2, 3):
        c.handle(CallAnswered(time=0.0, call=k, human=True))  # two live calls waiting, no agent ready
    for t in range(0, 15):
        p.plan(float(t), c.floor)
    # m = (0 ready - 2 waiting) / 2 agents = -1: DL x 0, clamped at the minimum 1
    assert p.level == 1.0


def _drops(c: Controller, n_dials: int, n_drops: int, t: float, call0: int = 100) -> None:
    for k in range(n_dials):
        c.handle(DialPlaced(time=t, call=call0 + k, lead=call0 + k))
    for k in range(n_dials):
        call = call0 + k
        if k < n_drops:
            c.handle(CallAnswered(time=t + 1.0, call=call, human=True))
            c.handle(CallAbandoned(time=t + 1.0, call=call))
        else:
            c.handle(CallFailed(time=t + 1.0, call=call, reason=FailReason.NO_ANSWER))


def test_level_halves_when_most_of_the_last_minute_was_dropped():
    c = floor_with(10, Adaptive(start_level=3.0, variant="average", limit=0.99))
    p = c.pacer
    p.plan(0.0, c.floor)
    # 10 ready agents keep m at 1 (DL x 2, clamped 3); 21 dials, 11 dropped in the last minute
    _drops(c, 21, 11, 5.0)
    for t in range(1, 16):
        p.plan(float(t), c.floor)
    assert p.level == pytest.approx(1.5)


def test_twenty_dials_are_not_enough_to_halve():
    c = floor_with(10, Adaptive(start_level=3.0, limit=0.99))
    p = c.pacer
    p.plan(0.0, c.floor)
    _drops(c, 20, 20, 5.0)
    for t in range(1, 16):
        p.plan(float(t), c.floor)
    assert p.level == 3.0


@pytest.mark.parametrize("variant, level", [("hard", 1.0), ("average", 1.5)])
def test_over_the_limit_since_midnight(variant, level):
    """60 dials today, 3 drops of 30 live answers (10 %): HARD_LIMIT sets DL = 1, AVERAGE halves it."""
    c = floor_with(40, Adaptive(start_level=3.0, variant=variant))
    p = c.pacer
    p.plan(0.0, c.floor)
    for k in range(60):
        c.handle(DialPlaced(time=1.0, call=k, lead=k))
    for k in range(30, 60):
        c.handle(CallFailed(time=2.0, call=k, reason=FailReason.NO_ANSWER))
    for k in range(30):
        c.handle(CallAnswered(time=2.0, call=k, human=True))
        if k < 3:
            c.handle(CallAbandoned(time=2.0, call=k))
        else:
            c.handle(CallConnected(time=2.0, call=k, agent=k))
    s = c.floor.days[0]
    assert (s.attempted, s.connected, s.abandoned, c.floor.idle, c.floor.live_waiting) == (60, 30, 3, 13, 0)
    for t in range(1, 14):
        p.plan(float(t), c.floor)
    assert p.level == 3.0  # not yet: samples at t = 0..13; the 15th (t = 14) triggers the update
    p.plan(14.0, c.floor)
    # m = 13 ready / 40 agents > 0 keeps DL at 3 (clamped); then the day's 10 % > 5 %
    assert p.level == level


def test_a_closed_night_restarts_the_loop():
    c = floor_with(2)
    p = c.pacer
    p.plan(0.0, c.floor)
    plan = p.plan(86400.0 + 0.25, c.floor)
    assert plan.wake_at == 86401.0


@pytest.mark.parametrize(
    "params, message",
    [({"variant": "HARD"}, r"^pacer\.variant must be one of 'hard', 'average'"),
     ({"min_level": 2.0, "max_level": 1.5}, r"^pacer\.min_level must be at most max_level"),
     ({"period": 0}, r"^pacer\.period must be")],
)
def test_bad_parameters_are_named(params, message):
    with pytest.raises(ConfigError, match=message):
        make_pacer("adaptive", params)
