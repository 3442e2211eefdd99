"""Closed forms and exact Markov chains for three ways of pacing outbound dials.

Owns: `poisson_dialing` (open loop: dials as a Poisson stream),
`progressive` (Power dialing: one reserved agent per dial) and
`ratio_dialing` (closed loop: keep ratio x idle agents dials in flight).
Must not know about: the controller, the simulator or the store. Pure
functions of numbers; numpy and scipy only. Times in seconds ("per agent
hour" figures assume seconds).

Vocabulary: a *live answer* is a dial answered by a person; it is
*connected* if an agent takes it and *abandoned* otherwise; the abandon rate
is abandoned / live answers; *handle time* is talk plus wrap-up.

    progressive(200.0, 17.0, 0.25).connects_per_agent_hour    # 13.4 (handle, ring, live prob)
    ratio_dialing(20, 200.0, 17.0, 0.25, 1.5).abandon_rate    # 0.0038

Each model's assumptions and derivation, and the sources: docs/design.md,
"Appendix: the theory's models".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from dialer.theory import _checks
from dialer.theory.erlang import _erlang_b
from dialer.units import HOUR

__all__ = [
    "PoissonDialing",
    "Progressive",
    "RatioDialing",
    "poisson_dialing",
    "progressive",
    "ratio_dialing",
    "round_half_up",
]



def round_half_up(x: float) -> int:
    """Round to the nearest integer, halves up (2.5 -> 3): the FixedRatio pacer's rounding."""
    return int(math.floor(x + 0.5))


# --------------------------------------------------------------------------- open loop


@dataclass(frozen=True)
class PoissonDialing:
    """Steady state of open-loop dialing: live answers as a Poisson stream into n agents.

    `abandon_rate` is abandoned / live answers; `p_wait` the fraction of live
    answers that find every agent busy (with grace 0 they are all abandoned);
    `mean_wait` the mean wait of a live answer, over all of them, abandoned
    ones included (they wait `grace`); `connect_rate` connected calls per
    second; `occupancy` mean busy agents / agents.
    """

    agents: int
    dial_rate: float
    live_prob: float
    handle_time: float
    grace: float
    live_rate: float
    abandon_rate: float
    p_wait: float
    mean_wait: float
    connect_rate: float
    occupancy: float
    connects_per_agent_hour: float


def _f0(sigma: float, d: float) -> float:
    """integral_0^d exp(sigma u) du, for sigma <= 0."""
    if sigma == 0.0:
        return d
    return math.expm1(sigma * d) / sigma


def _f1(sigma: float, d: float) -> float:
    """integral_0^d u exp(sigma u) du, for sigma <= 0 (series near 0, no cancellation)."""
    z = sigma * d
    if abs(z) < 0.5:
        total, term, k = 0.0, 1.0, 0
        while True:
            add = term / (k + 2)
            total += add
            if abs(add) < 1e-17 * abs(total):
                break
            k += 1
            term *= z / k
        return d * d * total
    return (z * math.exp(z) - math.expm1(z)) / (sigma * sigma)


def poisson_dialing(
    agents: int, dial_rate: float, live_prob: float, handle_time: float, grace: float = 0.0
) -> PoissonDialing:
    """Open-loop dialing: Erlang B when grace is 0 (any handle-time law), M/M/n+D when grace > 0.

    `dial_rate` is dials per second; `grace` the seconds a live answer may
    wait for an agent before it counts as abandoned (exponential handle time
    assumed when grace > 0).
    """
    n = _checks.integer("agents", agents, 1)
    rate = _checks.non_negative("dial_rate", dial_rate)
    p = _checks.probability("live_prob", live_prob)
    h = _checks.positive("handle_time", handle_time)
    grace_s = _checks.non_negative("grace", grace)
    lam = rate * p
    load = lam * h
    if lam == 0.0:
        return PoissonDialing(n, rate, p, h, grace_s, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    if grace_s == 0.0:
        blocked = _erlang_b(n, load)
        p_wait, p_abandon, mean_wait = blocked, blocked, 0.0
    else:
        p_wait, p_abandon, mean_wait = _mmnd(n, lam, 1.0 / h, grace_s)
    connect = lam * (1.0 - p_abandon)
    return PoissonDialing(
        agents=n,
        dial_rate=rate,
        live_prob=p,
        handle_time=h,
        grace=grace_s,
        live_rate=lam,
        abandon_rate=p_abandon,
        p_wait=p_wait,
        mean_wait=mean_wait,
        connect_rate=connect,
        occupancy=min(1.0, connect * h / n),
        connects_per_agent_hour=HOUR * connect / n,
    )


def _mmnd(n: int, lam: float, mu: float, grace: float) -> tuple[float, float, float]:
    """(P(wait > 0), P(abandon), E[wait]) of M/M/n+D; see docs/design.md, appendix."""
    s = lam - n * mu
    c = max(0.0, s * grace)  # every weight below is scaled by exp(-c) against overflow
    b_prev = _erlang_b(n - 1, lam / mu)  # p_{n-1} / sum_{k<n} p_k
    below = math.exp(-c) / b_prev if b_prev > 0.0 else math.inf
    if s > 0.0:
        # integral_0^D exp(s v - s D) dv and integral_0^D v exp(s v - s D) dv, with u = D - v
        mid = _f0(-s, grace)
        mid_v = grace * _f0(-s, grace) - _f1(-s, grace)
    else:
        mid = _f0(s, grace)
        mid_v = _f1(s, grace)
    high = math.exp(s * grace - c) / (n * mu)  # integral_D^inf of the density / (lambda p_{n-1})
    if not math.isfinite(below):
        return 0.0, 0.0, 0.0
    total = below + lam * (mid + high)
    p_wait = lam * (mid + high) / total
    p_abandon = lam * high / total
    mean_wait = lam * (mid_v + grace * high) / total
    return p_wait, p_abandon, mean_wait


# --------------------------------------------------------------------------- power


@dataclass(frozen=True)
class Progressive:
    """Steady state of Power (progressive) dialing: one dial per idle agent, reserved for it.

    `cycle_time` is the mean renewal cycle of one agent (seconds);
    `occupancy` the fraction of an agent's time spent handling calls.
    Nothing is ever abandoned.
    """

    handle_time: float
    ring_time: float
    live_prob: float
    failed_ring_time: float
    cycle_time: float
    occupancy: float
    connects_per_agent_hour: float
    dials_per_agent_hour: float
    abandon_rate: float = 0.0


def progressive(
    handle_time: float, ring_time: float, live_prob: float, failed_ring_time: float | None = None
) -> Progressive:
    """Power dialing by renewal-reward: each agent cycles dial -> ring -> (if live) handle.

    `ring_time` is the mean time to a live answer, `failed_ring_time` (default
    `ring_time`) the mean time a failed attempt (no answer, busy, machine)
    holds the agent before the next dial.
    """
    h = _checks.positive("handle_time", handle_time)
    ring = _checks.positive("ring_time", ring_time)
    p = _checks.probability("live_prob", live_prob)
    failed = ring if failed_ring_time is None else _checks.positive("failed_ring_time", failed_ring_time)
    cycle = p * (ring + h) + (1.0 - p) * failed
    return Progressive(
        handle_time=h,
        ring_time=ring,
        live_prob=p,
        failed_ring_time=failed,
        cycle_time=cycle,
        occupancy=p * h / cycle,
        connects_per_agent_hour=HOUR * p / cycle,
        dials_per_agent_hour=HOUR / cycle,
    )


# --------------------------------------------------------------------------- fixed ratio


@dataclass(frozen=True)
class RatioDialing:
    """Steady state of the fixed-ratio closed loop (exact CTMC solution).

    `abandon_rate` is abandoned / live answers (0 when nothing is answered);
    `occupancy` E[busy agents] / agents; `mean_in_flight` E[dials in flight];
    per-agent-hour figures assume seconds.
    """

    agents: int
    handle_time: float
    ring_time: float
    live_prob: float
    ratio: float
    abandon_rate: float
    occupancy: float
    connects_per_agent_hour: float
    abandons_per_agent_hour: float
    dials_per_agent_hour: float
    mean_in_flight: float
    states: int


def _ratio_states(n: int, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row offsets and (b, d) of the closed state space T(b) <= d <= U(b)."""
    upper = np.empty(n + 1, dtype=np.int64)
    upper[0] = targets[0]
    for b in range(1, n + 1):
        upper[b] = max(targets[b], upper[b - 1] - 1)
    lens = upper - targets + 1
    off = np.concatenate([[0], np.cumsum(lens)])
    bs = np.repeat(np.arange(n + 1), lens)
    ds = np.arange(off[-1]) - off[bs] + targets[bs]
    return off, bs, ds


def ratio_dialing(agents: int, handle_time: float, ring_time: float, live_prob: float, ratio: float) -> RatioDialing:
    """Fixed-ratio predictive dialing, solved exactly: keep round-half-up(ratio x idle) dials in flight.

    Exponential ring times (mean `ring_time`) and handle times (mean
    `handle_time`); the chain: docs/design.md, appendix.
    """
    n = _checks.integer("agents", agents, 1)
    h = _checks.positive("handle_time", handle_time)
    ring = _checks.positive("ring_time", ring_time)
    p = _checks.probability("live_prob", live_prob)
    k = _checks.non_negative("ratio", ratio)
    targets = np.array([round_half_up(k * (n - b)) for b in range(n + 1)], dtype=np.int64)
    off, bs, ds = _ratio_states(n, targets)
    size = int(off[-1])

    def index(b: np.ndarray, d: np.ndarray) -> np.ndarray:
        d = np.maximum(d, targets[b])  # the top-up after the event
        return off[b] + d - targets[b]

    src, dst, rate = [], [], []
    i = np.arange(size)
    live = ds * p / ring
    m = (ds > 0) & (bs < n)
    src += [i[m], i[m]]
    dst += [index(bs[m], ds[m] - 1), index(bs[m] + 1, ds[m] - 1)]
    rate += [ds[m] * (1.0 - p) / ring, live[m]]
    m = (ds > 0) & (bs == n)  # failed or abandoned: either way one dial fewer
    src.append(i[m])
    dst.append(index(bs[m], ds[m] - 1))
    rate.append(ds[m] / ring)
    m = bs > 0
    src.append(i[m])
    dst.append(index(bs[m] - 1, ds[m]))
    rate.append(bs[m] / h)
    src_a, dst_a, rate_a = np.concatenate(src), np.concatenate(dst), np.concatenate(rate)
    pi = _stationary(size, src_a, dst_a, rate_a)

    live_rate = float(pi @ live)
    abandoned = float(pi[bs == n] @ live[bs == n])
    connected = live_rate - abandoned
    return RatioDialing(
        agents=n,
        handle_time=h,
        ring_time=ring,
        live_prob=p,
        ratio=k,
        abandon_rate=abandoned / live_rate if live_rate > 0 else 0.0,
        occupancy=float(pi @ bs) / n,
        connects_per_agent_hour=HOUR * connected / n,
        abandons_per_agent_hour=HOUR * abandoned / n,
        dials_per_agent_hour=HOUR * float(pi @ ds) / ring / n,
        mean_in_flight=float(pi @ ds),
        states=size,
    )


def _stationary(size: int, src: np.ndarray, dst: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Stationary distribution of a CTMC with a single closed class, given its transitions.

    Self-loops are ignored. Solves pi Q = 0, sum(pi) = 1 with one balance
    equation replaced by the normalisation (any one may go: with a single
    closed class the others are independent).
    """
    keep = src != dst
    src, dst, rate = src[keep], dst[keep], rate[keep]
    out = np.bincount(src, weights=rate, minlength=size)
    # Q^T: entry (j, i) = rate i -> j, diagonal -out; its last row becomes the normalisation.
    rows = np.concatenate([dst, np.arange(size)])
    cols = np.concatenate([src, np.arange(size)])
    vals = np.concatenate([rate, -out])
    last = rows == size - 1
    rows = np.concatenate([rows[~last], np.full(size, size - 1)])
    cols = np.concatenate([cols[~last], np.arange(size)])
    vals = np.concatenate([vals[~last], np.ones(size)])
    qt = sp.csc_matrix((vals, (rows, cols)), shape=(size, size))
    rhs = np.zeros(size)
    rhs[-1] = 1.0
    pi = spla.splu(qt, relax=1, panel_size=1).solve(rhs)
    pi = np.maximum(pi, 0.0)
    return pi / pi.sum()
