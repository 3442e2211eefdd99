"""Queueing theory for dialers: closed forms, exact chains and the optimal-pacing bound.

Owns: the referee of the simulator and the yardstick of the pacers.
`erlang` (Erlang B, C, A), `dialing` (open-loop Poisson dialing, Power,
fixed ratio), `optimal` (the best any pacer can do under an abandon limit),
`envelope` (how much of that a day keeps when the limit holds at every moment),
`calculators` (what a workforce planner asks for, built on those).
Must not know about: anything of the project but `dialer.errors`. Pure
functions of numbers (numpy and scipy only); anything may import this package.
"""

from dialer.theory.calculators import (
    campaign_picture,
    erlang_table,
    largest_safe_ratio,
    required_agents,
    service_level_a,
    service_level_c,
)
from dialer.theory.dialing import (
    PoissonDialing,
    Progressive,
    RatioDialing,
    poisson_dialing,
    progressive,
    ratio_dialing,
)
from dialer.theory.envelope import DayPlan, EnvelopeDay, day_plan, envelope_day
from dialer.theory.erlang import ErlangA, erlang_a, erlang_b, erlang_c
from dialer.theory.optimal import OptimalPacing, optimal_pacing

__all__ = [
    "DayPlan",
    "EnvelopeDay",
    "ErlangA",
    "OptimalPacing",
    "PoissonDialing",
    "Progressive",
    "RatioDialing",
    "campaign_picture",
    "day_plan",
    "envelope_day",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "erlang_table",
    "largest_safe_ratio",
    "optimal_pacing",
    "poisson_dialing",
    "progressive",
    "ratio_dialing",
    "required_agents",
    "service_level_a",
    "service_level_c",
]
