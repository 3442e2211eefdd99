"""Erlang B, C and A against their defining formulas, published tables and independent solutions."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.theory import erlang, erlang_a, erlang_b, erlang_c


def b_exact(n: int, a: Fraction) -> Fraction:
    """Erlang B from its definition, (A^n / n!) / sum_k A^k / k!, in exact arithmetic."""
    terms = [a**k / math.factorial(k) for k in range(n + 1)]
    return terms[-1] / sum(terms)


def c_exact(n: int, a: Fraction) -> Fraction:
    """Erlang C from its definition, with the n / (n - A) tail, in exact arithmetic."""
    tail = a**n / math.factorial(n) * n / (n - a)
    return tail / (sum(a**k / math.factorial(k) for k in range(n)) + tail)


@pytest.mark.parametrize(
    "n, a",
    [(1, Fraction(1)), (2, Fraction(1, 2)), (5, Fraction(2)), (10, Fraction(5)), (10, Fraction(8)),
     (30, Fraction(45, 2))],
)
def test_erlang_b_equals_definition(n, a):
    assert erlang_b(n, float(a)) == pytest.approx(float(b_exact(n, a)), rel=1e-13)


@pytest.mark.parametrize(
    "n, a", [(1, Fraction(1, 2)), (2, Fraction(1)), (5, Fraction(4)), (10, Fraction(8)), (25, Fraction(99, 5))]
)
def test_erlang_c_equals_definition(n, a):
    assert erlang_c(n, float(a)) == pytest.approx(float(c_exact(n, a)), rel=1e-12)


def test_published_erlang_b_values():
    # Classic table values: B(10 servers, 5 Erl) = 0.01838; 1 % grade of service is
    # carried by 4.461 Erl on 10 circuits and 12.031 Erl on 20 circuits.
    assert erlang_b(10, 5.0) == pytest.approx(0.01838, abs=5e-6)
    assert erlang_b(10, 4.461) == pytest.approx(0.0100, abs=5e-5)
    assert erlang_b(20, 12.031) == pytest.approx(0.0100, abs=5e-5)
    assert erlang_b(1, 1.0) == 0.5
    assert erlang_b(0, 3.0) == 1.0
    assert erlang_b(4, 0.0) == 0.0


def test_published_erlang_c_values():
    assert erlang_c(2, 1.0) == pytest.approx(1.0 / 3.0, rel=1e-14)
    assert erlang_c(1, 0.7) == pytest.approx(0.7, rel=1e-14)  # M/M/1: P(wait) = rho
    assert erlang_c(10, 8.0) == pytest.approx(0.40918, abs=5e-6)


def test_erlang_b_handles_many_servers_without_overflow():
    b = erlang_b(5000, 4800.0)
    assert 0.0 < b < 0.05
    assert erlang_b(5000, 10.0) == 0.0  # underflows quietly, no error


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 60), a=st.floats(0.01, 80.0))
def test_erlang_b_is_a_probability_falling_in_servers(n, a):
    b = erlang_b(n, a)
    assert 0.0 <= b <= 1.0
    assert erlang_b(n + 1, a) <= b
    assert erlang_b(n, a * 1.1) >= b
    if a < n:
        assert erlang_c(n, a) >= b


def mm_n_m_by_truncated_chain(lam, mu, n, theta, size=400):
    """Independent Erlang A: the birth-death chain truncated at `size` states, solved densely."""
    q = np.zeros((size, size))
    for j in range(size - 1):
        q[j, j + 1] = lam
    for j in range(1, size):
        q[j, j - 1] = min(j, n) * mu + max(j - n, 0) * theta
    np.fill_diagonal(q, -q.sum(axis=1))
    a = np.vstack([q.T[:-1], np.ones(size)])
    rhs = np.zeros(size)
    rhs[-1] = 1.0
    pi = np.linalg.solve(a, rhs)
    queue = np.maximum(np.arange(size) - n, 0)
    return pi, queue


@pytest.mark.parametrize(
    "lam, mu, n, theta",
    [(1.0, 0.25, 5, 0.5), (1.0 / 30, 1.0 / 180, 8, 1.0 / 90), (0.2, 0.02, 8, 0.05), (3.0, 0.5, 4, 2.0)],
)
def test_erlang_a_against_truncated_birth_death_chain(lam, mu, n, theta):
    pi, queue = mm_n_m_by_truncated_chain(lam, mu, n, theta)
    r = erlang_a(lam, mu, n, theta)
    mean_q = float(pi @ queue)
    assert r.p_wait == pytest.approx(float(pi[n:].sum()), rel=1e-9)
    assert r.mean_queue == pytest.approx(mean_q, rel=1e-9)
    assert r.p_abandon == pytest.approx(theta * mean_q / lam, rel=1e-9)
    assert r.mean_wait == pytest.approx(mean_q / lam, rel=1e-9)  # Little
    busy = float(pi @ np.minimum(np.arange(len(pi)), n))
    assert r.occupancy == pytest.approx(busy / n, rel=1e-9)


@pytest.mark.parametrize("lam, mu, n, theta", [(1.0, 0.25, 5, 0.5), (0.2, 0.02, 8, 0.05)])
def test_erlang_a_waiting_time_against_matrix_exponentials(lam, mu, n, theta):
    """P(W <= t) and P(served, W <= t) by transient analysis of the tagged customer's position.

    A customer with m ahead moves through positions m, m-1, ..., 0 at rates
    n mu + k theta (k ahead), then is served; independently he abandons at
    rate theta. The absorbing chain (position, or served, or abandoned) is
    solved with scipy.linalg.expm: no beta functions involved.
    """
    total = 80  # the queue of these examples never gets near 70
    pi, _ = mm_n_m_by_truncated_chain(lam, mu, n, theta, size=total)
    size = total - n
    # states 0..size-1: m ahead; size: served; size+1: abandoned
    g = np.zeros((size + 2, size + 2))
    for m in range(size):
        g[m, m - 1 if m > 0 else size] = n * mu + m * theta
        g[m, size + 1] = theta
    np.fill_diagonal(g, -g.sum(axis=1))
    weights = pi[n : n + size]
    no_wait = pi[:n].sum()
    r = erlang_a(lam, mu, n, theta)
    for t in (0.0, 1.0, 7.5, 30.0):
        p_t = scipy.linalg.expm(g * t)
        served_by_t = weights @ p_t[:size, size]
        abandoned_by_t = weights @ p_t[:size, size + 1]
        assert r.service_level(t) == pytest.approx(no_wait + served_by_t + abandoned_by_t, abs=1e-9)
        assert r.answered_within(t) == pytest.approx(no_wait + served_by_t, abs=1e-9)


def test_patience_zero_is_erlang_c():
    lam, mu, n = 1.0 / 20, 1.0 / 180, 10  # 9 Erlangs on 10 agents
    c = erlang_c(n, lam / mu)
    r = erlang_a(lam, mu, n, 0.0)
    assert r.p_wait == pytest.approx(c, rel=1e-14)
    assert r.p_abandon == 0.0
    assert r.mean_wait == pytest.approx(c / (n * mu - lam), rel=1e-13)
    assert r.occupancy == pytest.approx(0.9, rel=1e-13)
    for t in (0.0, 20.0, 60.0):
        expected = 1.0 - c * math.exp(-(n * mu - lam) * t)
        assert r.service_level(t) == pytest.approx(expected, rel=1e-13)
        assert r.answered_within(t) == pytest.approx(expected, rel=1e-13)
    # Continuity: a patience of a billion seconds is Erlang C to many digits.
    slow = erlang_a(lam, mu, n, 1e-9)
    assert slow.p_wait == pytest.approx(c, rel=1e-5)
    assert slow.mean_wait == pytest.approx(r.mean_wait, rel=1e-4)
    assert slow.service_level(20.0) == pytest.approx(r.service_level(20.0), rel=1e-5)


def test_erlang_a_overload_is_stable_and_consistent():
    # 2x overload: everything beyond capacity abandons in the long run.
    lam, mu, n, theta = 2.0, 0.1, 10, 0.5
    r = erlang_a(lam, mu, n, theta)
    assert r.p_abandon == pytest.approx(1.0 - n * mu / lam, abs=0.02)
    assert r.p_abandon > 1.0 - n * mu / lam  # some idle time remains
    assert r.occupancy <= 1.0


def test_erlang_a_closed_forms_agree_with_summation(monkeypatch):
    """The incomplete-gamma path (for huge queues) against the term-by-term sum."""
    cases = [(2.0, 0.1, 10, 0.01), (0.5, 0.05, 6, 0.02), (1.0, 0.25, 5, 0.5)]
    summed = [erlang_a(*c) for c in cases]
    summed_sl = [(r.service_level(15.0), r.answered_within(15.0)) for r in summed]
    monkeypatch.setattr(erlang, "_MAX_TERMS", 0)
    for c, ref, (sl, aw) in zip(cases, summed, summed_sl):
        r = erlang_a(*c)
        assert r.p_wait == pytest.approx(ref.p_wait, rel=1e-9)
        assert r.p_abandon == pytest.approx(ref.p_abandon, rel=1e-8)
        assert r.service_level(15.0) == pytest.approx(sl, rel=1e-8)
        assert r.answered_within(15.0) == pytest.approx(aw, rel=1e-8)


def test_no_arrivals_nobody_waits():
    r = erlang_a(0.0, 0.1, 3, 0.2)
    assert (r.p_wait, r.p_abandon, r.mean_wait, r.occupancy) == (0.0, 0.0, 0.0, 0.0)
    assert r.service_level(0.0) == 1.0
