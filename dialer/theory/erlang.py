"""Erlang B, Erlang C and Erlang A (M/M/n+M): the classical call-centre formulas.

Owns: the blocking probability of the loss system (Erlang B, M/G/n/n), the
waiting probability of the delay system (Erlang C, M/M/n) and the
performance measures of the M/M/n+M queue with exponential patience
("Palm's model", Erlang A). Erlang B is computed by its recurrence, which
never overflows; Erlang C and A are built on it.
Must not know about: dialers, pacers, the simulator or anything else of the
project. Pure functions of numbers; numpy and scipy only.

    erlang_b(10, 7.0)                         # 0.0787: 10 servers, 7 erlangs offered
    erlang_c(10, 7.0)                         # 0.2217
    erlang_a(1 / 30, 1 / 200, 8, 1 / 60).p_abandon   # 0.110 (rates per second)

The model assumptions, the computation (log-space sums, the incomplete gamma
and beta forms of the waiting time) and the sources: docs/design.md,
"Appendix: the theory's models".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from dialer.errors import bad
from dialer.theory import _checks

__all__ = ["erlang_b", "erlang_c", "erlang_a", "ErlangA"]

# Queue terms smaller than exp(-_TAIL) times the largest one are dropped.
_TAIL = 50.0
# Beyond this many queue terms, Erlang A switches to the incomplete-gamma closed forms.
_MAX_TERMS = 2_000_000


def _erlang_b(servers: int, load: float) -> float:
    b = 1.0
    for k in range(1, servers + 1):
        ab = load * b
        b = ab / (k + ab)
    return b


def erlang_b(servers: int, offered_load: float) -> float:
    """Blocking probability of the Erlang loss system M/G/n/n (Erlang B).

    `servers` is an integer >= 0 (0 servers block everything: 1.0);
    `offered_load` (Erlangs = arrival rate x mean holding time) is a
    non-negative number, integer or not.

    >>> round(erlang_b(10, 5.0), 5)
    0.01838
    """
    n = _checks.integer("servers", servers, 0)
    a = _checks.non_negative("offered_load", offered_load)
    return _erlang_b(n, a)


def _erlang_c(servers: int, load: float) -> float:
    if load == 0.0:
        return 0.0
    b = _erlang_b(servers, load)
    return servers * b / (servers - load * (1.0 - b))


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arrival has to wait in the M/M/n queue (Erlang C).

    Requires a stable queue, `offered_load` < `servers`; otherwise raises
    `ConfigError` naming `offered_load`.

    >>> round(erlang_c(2, 1.0), 6)
    0.333333
    """
    n = _checks.integer("servers", servers, 1)
    a = _checks.non_negative("offered_load", offered_load)
    if a >= n:
        raise bad(
            "offered_load", offered_load, f"below servers={n} (an Erlang C queue with load >= servers is unstable)"
        )
    return _erlang_c(n, a)


@dataclass(frozen=True)
class ErlangA:
    """Stationary performance of the M/M/n+M queue (Erlang A); Erlang C when patience_rate is 0.

    All probabilities are per arriving customer (PASTA). `mean_wait` is the
    mean time in queue over all arrivals, served or abandoned, those who do
    not wait included. `occupancy` is the served load per server,
    arrival_rate x (1 - p_abandon) / (servers x service_rate).
    """

    arrival_rate: float
    service_rate: float
    servers: int
    patience_rate: float
    p_wait: float
    p_abandon: float
    mean_wait: float
    mean_queue: float
    occupancy: float

    def service_level(self, t: float) -> float:
        """P(W <= t) over all arrivals, W = time spent waiting (until served or until abandoning).

        This is the definition of Mandelbaum & Zeltyn and of the usual Erlang A
        calculators: a customer who abandons within t counts as "within t".
        For the stricter "answered within t" use `answered_within`.
        With patience_rate 0 both equal the Erlang C service level
        1 - C exp(-(n mu - lambda) t).
        """
        t = _checks.non_negative("t", t)
        return _service_level(self, t, answered=False)

    def answered_within(self, t: float) -> float:
        """P(served and W <= t) over all arrivals: the fraction answered within t seconds."""
        t = _checks.non_negative("t", t)
        return _service_level(self, t, answered=True)


def erlang_a(arrival_rate: float, service_rate: float, servers: int, patience_rate: float) -> ErlangA:
    """Performance measures of the M/M/n+M queue (Palm / Erlang A).

    `arrival_rate` lambda >= 0, `service_rate` mu > 0 (1 / mean handle time),
    `servers` n >= 1, `patience_rate` theta >= 0 (1 / mean patience). With
    theta = 0 the queue is Erlang C and must be stable (lambda < n mu),
    otherwise `ConfigError` names `arrival_rate`.
    """
    lam = _checks.non_negative("arrival_rate", arrival_rate)
    mu = _checks.positive("service_rate", service_rate)
    n = _checks.integer("servers", servers, 1)
    theta = _checks.non_negative("patience_rate", patience_rate)
    load = lam / mu
    if lam == 0.0:
        return ErlangA(lam, mu, n, theta, 0.0, 0.0, 0.0, 0.0, 0.0)
    if theta == 0.0:
        if load >= n:
            raise bad(
                "arrival_rate",
                arrival_rate,
                f"below servers x service_rate = {n * mu!r} when patience_rate is 0 (Erlang C is unstable)",
            )
        c = _erlang_c(n, load)
        wait = c / (n * mu - lam)
        return ErlangA(lam, mu, n, theta, c, 0.0, wait, lam * wait, load / n)
    q = _queue(lam, mu, n, theta)
    p_abandon = min(1.0, max(0.0, theta * q.mean_queue / lam))
    return ErlangA(
        arrival_rate=lam,
        service_rate=mu,
        servers=n,
        patience_rate=theta,
        p_wait=q.p_wait,
        p_abandon=p_abandon,
        mean_wait=q.mean_queue / lam,
        mean_queue=q.mean_queue,
        occupancy=min(1.0, load * (1.0 - p_abandon) / n),
    )


# --------------------------------------------------------------------------- internals


@dataclass(frozen=True)
class _Queue:
    """The queue part of the M/M/n+M distribution.

    `weights` holds pi_{n+m} for m = 0..M (truncated where negligible), or is
    None on the closed-form path for huge queues, where only the scalars are kept.
    """

    p_wait: float
    mean_queue: float
    weights: np.ndarray | None  # pi_{n+m}, m = 0..M
    pi_n: float
    a: float  # n mu / theta
    x: float  # lambda / theta


def _queue_log_terms(x: float, a: float) -> np.ndarray | None:
    """log(pi_{n+m} / pi_n) = sum_{i<=m} log(x / (a + i)) for m = 0..M, or None if M would be huge."""
    peak_m = max(0.0, x - a)  # the terms grow while a + m < x
    if peak_m > _MAX_TERMS:
        return None
    chunks = [np.zeros(1)]
    last, peak, m0 = 0.0, 0.0, 1
    log_x = math.log(x)
    while True:
        size = max(1024, int(peak_m - m0) + 1024)
        m = np.arange(m0, m0 + size, dtype=float)
        inc = log_x - np.log(a + m)
        lt = last + np.cumsum(inc)
        chunks.append(lt)
        last = float(lt[-1])
        peak = max(peak, float(lt.max()))
        m0 += size
        if inc[-1] < 0 and last < peak - _TAIL:
            return np.concatenate(chunks)
        if m0 > _MAX_TERMS:
            return None


def _queue(lam: float, mu: float, n: int, theta: float) -> _Queue:
    load = lam / mu
    b = _erlang_b(n, load)
    # sum_{j < n} pi_j / pi_n = 1/B - 1 (may be +inf when B underflows: then pi_n = 0).
    below = (1.0 / b - 1.0) if b > 0.0 else math.inf
    a = n * mu / theta
    x = lam / theta
    lt = _queue_log_terms(x, a)
    if lt is not None:
        top = float(lt.max())
        w = np.exp(lt - top)
        total = w.sum()
        with np.errstate(over="ignore", under="ignore"):
            denom = below * math.exp(-top) + total if math.isfinite(below) else math.inf
        if not math.isfinite(denom):
            # All mass below n (tiny load): nobody waits.
            return _Queue(0.0, 0.0, np.zeros(1), 0.0, a, x)
        weights = w / denom
        m = np.arange(len(weights), dtype=float)
        return _Queue(float(weights.sum()), float((m * weights).sum()), weights, float(weights[0]), a, x)
    # Closed forms (Mandelbaum & Zeltyn): J = sum_m pi_{n+m}/pi_n = a e^x x^-a gamma(a, x).
    log_j = math.log(a) + x - a * math.log(x) + special.gammaln(a) + math.log(special.gammainc(a, x))
    if not math.isfinite(below):
        return _Queue(0.0, 0.0, None, 0.0, a, x)
    # pi_n = 1 / (below + J); J is astronomically large on this path.
    log_pi_n = -(log_j + math.log1p(below * math.exp(-log_j)))
    pi_n = math.exp(log_pi_n)
    p_wait = math.exp(log_pi_n + log_j)
    # E[Q] / pi_n = a - (a - x) J
    mean_queue = pi_n * a - (a - x) * p_wait
    return _Queue(p_wait, max(0.0, mean_queue), None, pi_n, a, x)


def _service_level(r: ErlangA, t: float, answered: bool) -> float:
    lam, mu, n, theta = r.arrival_rate, r.service_rate, r.servers, r.patience_rate
    if lam == 0.0:
        return 1.0
    if theta == 0.0:
        return 1.0 - r.p_wait * math.exp(-(n * mu - lam) * t)
    q = _queue(lam, mu, n, theta)
    y = math.exp(-theta * t)
    no_wait = 1.0 - q.p_wait
    if q.weights is not None:
        m = np.arange(len(q.weights), dtype=float)
        if answered:
            served = q.a / (q.a + m + 1.0) * (1.0 - special.betainc(q.a + 1.0, m + 1.0, y))
            return float(min(1.0, no_wait + (q.weights * served).sum()))
        still_waiting = (q.weights * special.betainc(q.a, m + 1.0, y)).sum()
        return float(min(1.0, max(0.0, 1.0 - y * still_waiting)))
    if q.pi_n == 0.0:
        return 1.0
    # Closed forms on the huge-queue path, relative to pi_n:
    #   sum_m t_m I_y(a, m+1)                       = a e^x x^-a     gamma(a,   x y)
    #   sum_m t_m a/(a+m+1) (1 - I_y(a+1, m+1))     = a e^x x^-(a+1) [gamma(a+1, x) - gamma(a+1, x y)]
    a, x = q.a, q.x
    log_pi_n = math.log(q.pi_n)
    if answered:
        log_c = log_pi_n + math.log(a) + x - (a + 1.0) * math.log(x) + special.gammaln(a + 1.0)
        diff = special.gammainc(a + 1.0, x) - special.gammainc(a + 1.0, x * y)
        return float(min(1.0, no_wait + (math.exp(log_c) * diff if diff > 0 else 0.0)))
    g = special.gammainc(a, x * y)
    if g == 0.0:
        return 1.0
    log_v = log_pi_n + math.log(a) + x - a * math.log(x) + special.gammaln(a) + math.log(g)
    return float(min(1.0, max(0.0, 1.0 - y * math.exp(log_v))))
