"""Calculators a workforce planner expects, built on the theory modules.

Owns: Erlang C / Erlang A service levels and staffing (`service_level_c`,
`service_level_a`, `required_agents`, `erlang_table`) and the one-call summary
of an outbound campaign (`campaign_picture`: Power, the best fixed ratio, the
optimal-pacing bound). These feed the `dialer erlang` and `dialer theory`
commands; they return plain numbers, dicts and lists of dicts (tidy rows that
carry their inputs with their outputs), never print.
Must not know about: the CLI, the simulator, the controller.

Conventions. Times in seconds, rates per second, "per agent hour" figures
assume seconds. Service level t means "within t seconds". For Erlang A the
staffing target uses the strict definition, answered within t among all
arrivals (`ErlangA.answered_within`), so that abandoning customers can never
make a floor look better staffed.

Sources: see `erlang`, `dialing` and `optimal`; the staffing search starts
from the smallest stable n and, since the service level grows with n,
gallops then bisects to the smallest n meeting the target.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from dialer.errors import bad
from dialer.limits import MAX_SERVERS
from dialer.theory import _checks
from dialer.theory.dialing import progressive, ratio_dialing
from dialer.theory.erlang import _erlang_c, erlang_a
from dialer.theory.optimal import optimal_pacing

__all__ = [
    "service_level_c",
    "service_level_a",
    "required_agents",
    "erlang_table",
    "largest_safe_ratio",
    "campaign_picture",
]

# Staffing searches give up beyond this many agents (the cap of every server count).
_MAX_AGENTS = MAX_SERVERS


def first_true(pred: Callable[[int], bool], lo: int, hi: int) -> int:
    """The smallest n in (lo, hi] with pred(n), for a pred false up to some n and true from there on,
    given pred(hi) true and lo below the answer (pred(lo) false, or lo outside the range): bisection."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if pred(mid):
            hi = mid
        else:
            lo = mid
    return hi


def service_level_c(servers: int, arrival_rate: float, service_rate: float, t: float) -> float:
    """Erlang C service level P(wait <= t) = 1 - C(n, A) exp(-(n mu - lambda) t).

    Raises `ConfigError` naming `arrival_rate` if the queue is unstable
    (lambda >= n mu).
    """
    n = _checks.integer("servers", servers, 1)
    lam = _checks.non_negative("arrival_rate", arrival_rate)
    mu = _checks.positive("service_rate", service_rate)
    t = _checks.non_negative("t", t)
    if lam >= n * mu:
        raise bad("arrival_rate", arrival_rate, f"below servers x service_rate = {n * mu!r} (Erlang C is unstable)")
    return 1.0 - _erlang_c(n, lam / mu) * math.exp(-(n * mu - lam) * t)


def service_level_a(servers: int, arrival_rate: float, service_rate: float, patience_rate: float, t: float) -> float:
    """Erlang A fraction answered within t among all arrivals, P(served and wait <= t)."""
    t = _checks.non_negative("t", t)
    return erlang_a(arrival_rate, service_rate, servers, patience_rate).answered_within(t)


def required_agents(
    arrival_rate: float, handle_time: float, target_sl: float, within: float, patience_rate: float = 0.0
) -> int:
    """Smallest number of agents whose service level (answered within `within` s) reaches `target_sl`.

    Erlang C when `patience_rate` is 0 (the search starts at the smallest
    stable n), Erlang A otherwise. `target_sl` is a fraction in (0, 1).
    """
    lam = _checks.non_negative("arrival_rate", arrival_rate)
    h = _checks.positive("handle_time", handle_time)
    target = _checks.probability("target_sl", target_sl)
    if not 0.0 < target < 1.0:
        raise bad("target_sl", target_sl, "a fraction strictly between 0 and 1")
    t = _checks.non_negative("within", within)
    theta = _checks.non_negative("patience_rate", patience_rate)
    if lam == 0.0:
        return 0
    mu = 1.0 / h
    load = lam * h
    start = max(1, math.floor(load) + 1) if theta == 0.0 else 1

    def meets(n: int) -> bool:
        if theta == 0.0:
            sl = 1.0 - _erlang_c(n, load) * math.exp(-(n * mu - lam) * t)
        else:
            sl = erlang_a(lam, mu, n, theta).answered_within(t)
        return sl >= target

    # gallop from the start (each evaluation costs O(n)), then bisect: O(n log n), not O(n^2)
    lo, hi, step = start - 1, start, 1
    while hi > _MAX_AGENTS or not meets(hi):
        if hi >= _MAX_AGENTS:
            raise bad("arrival_rate", arrival_rate, f"small enough to be staffed with at most {_MAX_AGENTS} agents")
        lo, hi, step = hi, min(_MAX_AGENTS, hi + step), 2 * step
    return first_true(meets, lo, hi)  # meets(hi), and lo is below the start or fails


def erlang_table(
    arrival_rate: float,
    handle_time: float,
    within: float,
    agents: range | list[int],
    patience_rate: float = 0.0,
) -> list[dict[str, float]]:
    """One tidy row per number of agents: inputs and Erlang C (or A) measures.

    Rows for which Erlang C is unstable are left out. Columns: agents,
    arrival_rate, handle_time, patience_rate, within, occupancy, p_wait,
    p_abandon, mean_wait (ASA over all arrivals), service_level (answered
    within `within` s).
    """
    lam = _checks.non_negative("arrival_rate", arrival_rate)
    h = _checks.positive("handle_time", handle_time)
    t = _checks.non_negative("within", within)
    theta = _checks.non_negative("patience_rate", patience_rate)
    rows = []
    for n in agents:
        n = _checks.integer("agents", n, 1)
        if theta == 0.0 and lam * h >= n:
            continue
        r = erlang_a(lam, 1.0 / h, n, theta)
        rows.append(
            {
                "agents": n,
                "arrival_rate": lam,
                "handle_time": h,
                "patience_rate": theta,
                "within": t,
                "occupancy": r.occupancy,
                "p_wait": r.p_wait,
                "p_abandon": r.p_abandon,
                "mean_wait": r.mean_wait,
                "service_level": r.answered_within(t),
            }
        )
    return rows


def largest_safe_ratio(
    agents: int,
    handle_time: float,
    ring_time: float,
    live_prob: float,
    abandon_limit: float,
    step: float = 0.05,
    guess: float | None = None,
) -> float:
    """The largest ratio 1 + k x step whose `ratio_dialing` abandon rate stays <= `abandon_limit`.

    Ratio 1 never abandons (dials in flight never exceed idle agents), so
    the answer is at least 1. Found by galloping from `guess` (default 1)
    and then bisection over k, which assumes the abandon rate does not fall
    as the ratio grows (true on every floor the tests try; rounding to whole
    dials can make it flat). Each step solves one chain, so a good guess
    saves time on large floors.
    """
    n = _checks.integer("agents", agents, 1)
    limit = _checks.probability("abandon_limit", abandon_limit)
    step = _checks.positive("step", step)
    start = 1.0 if guess is None else _checks.positive("guess", guess)

    def ok(k: int) -> bool:
        return ratio_dialing(n, handle_time, ring_time, live_prob, 1.0 + k * step).abandon_rate <= limit

    ok(0)  # validates the other arguments
    if live_prob == 0:
        return 1.0
    # Beyond ratio 4/p + 4 every idle agent already has far more dials than it can use.
    k_max = int(math.ceil((4.0 / live_prob + 4.0) / step))
    k0 = min(k_max, max(0, round((start - 1.0) / step)))
    jump = 1
    if k0 == 0 or ok(k0):  # gallop up: lo is safe, hi is not (or beyond k_max)
        lo, hi = k0, k0 + jump
        while hi <= k_max and ok(hi):
            lo, jump = hi, 2 * jump
            hi = lo + jump
        hi = min(hi, k_max + 1)
    else:  # gallop down
        lo, hi = max(0, k0 - jump), k0
        while lo > 0 and not ok(lo):
            hi, jump = lo, 2 * jump
            lo = max(0, hi - jump)
    lo = first_true(lambda k: not ok(k), lo, hi) - 1  # the largest safe k: ok(lo), not ok(hi)
    return round(1.0 + lo * step, 10)


def campaign_picture(
    agents: int,
    handle_time: float,
    ring_time: float,
    live_prob: float,
    abandon_limit: float,
    failed_ring_time: float | None = None,
    ratio: float | None = None,
) -> dict[str, Any]:
    """Power, a fixed ratio and the optimal-pacing bound for one campaign, as a dict.

    Keys: "inputs"; "power" (occupancy, connects and dials per agent-hour,
    with `failed_ring_time` for failed attempts); "ratio" (the given `ratio`,
    or the largest safe one in steps of 0.05, with its abandon rate,
    occupancy and connects per agent-hour; "chosen" says which);
    "optimal" (the bound: occupancy, abandon rate, connects per agent-hour,
    gain over Power on the same floor, policy, randomised state).

    The fixed-ratio and optimal figures are for the Markovian floor of
    `ratio_dialing`/`optimal_pacing`: every attempt rings ring_time on
    average; `failed_ring_time` only changes the Power row, so compare the
    optimal bound with `optimal.power_connects_per_agent_hour`.
    """
    n = _checks.integer("agents", agents, 1)
    limit = _checks.probability("abandon_limit", abandon_limit)
    pw = progressive(handle_time, ring_time, live_prob, failed_ring_time)
    best = optimal_pacing(n, handle_time, ring_time, live_prob, limit)
    if ratio is None:
        chosen = "largest safe ratio (steps of 0.05)"
        # Guess: the optimal policy's dials per idle agent at the typical number of idle agents.
        idle = min(n, max(1, round(n * (1.0 - best.occupancy))))
        guess = max(1.0, best.policy[n - idle] / idle)
        ratio = largest_safe_ratio(n, handle_time, ring_time, live_prob, limit, guess=guess)
    else:
        chosen = "given"
    fixed = ratio_dialing(n, handle_time, ring_time, live_prob, ratio)
    return {
        "inputs": {
            "agents": n,
            "handle_time": pw.handle_time,
            "ring_time": pw.ring_time,
            "live_prob": pw.live_prob,
            "failed_ring_time": pw.failed_ring_time,
            "abandon_limit": limit,
        },
        "power": {
            "occupancy": pw.occupancy,
            "connects_per_agent_hour": pw.connects_per_agent_hour,
            "dials_per_agent_hour": pw.dials_per_agent_hour,
            "abandon_rate": 0.0,
        },
        "ratio": {
            "ratio": fixed.ratio,
            "chosen": chosen,
            "abandon_rate": fixed.abandon_rate,
            "within_limit": fixed.abandon_rate <= limit,
            "occupancy": fixed.occupancy,
            "connects_per_agent_hour": fixed.connects_per_agent_hour,
            "dials_per_agent_hour": fixed.dials_per_agent_hour,
        },
        "optimal": {
            "occupancy": best.occupancy,
            "abandon_rate": best.abandon_rate,
            "connects_per_agent_hour": best.connects_per_agent_hour,
            "dials_per_agent_hour": best.dials_per_agent_hour,
            "power_connects_per_agent_hour": best.power_connects_per_agent_hour,
            "gain_over_power": best.gain_over_power,
            "policy": list(best.policy),
            "randomised_state": best.randomised_state,
            "randomised_dial_prob": best.randomised_dial_prob,
            "multiplier": best.multiplier,
        },
    }
