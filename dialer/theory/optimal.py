"""The optimal-pacing bound: the best connect rate any pacer can reach under an abandon limit.

Owns: `optimal_pacing`, the solution of a constrained Markov decision problem
on the Markovian dialing floor (n agents; state: b busy agents, d dials in
flight; exponential ring and handle times; a live answer that finds no idle
agent is abandoned at once); `CappedFloor`, its figures under exposure caps
for many limits at once (the day plan's table); and `solve_lp`, the same
problem as one linear program (the reference for small floors).
Must not know about: the pacers of `dialer.core`, the simulator, clocks. Pure
functions of numbers; numpy and scipy only.

    res = optimal_pacing(20, 200.0, 17.0, 0.25, 0.05)   # agents, handle s, ring s, live prob, limit
    res.policy[:3]      # (75, 71, 68): dials in flight to keep with 0, 1, 2 agents busy
    res.occupancy       # 0.907

The floor, how the bound is solved (Lagrangian, policy iteration, Kelley's
cuts, one randomised state), the state space and the sources:
docs/design.md, "Appendix: the theory's models".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.optimize import linprog

from dialer.errors import bad
from dialer.theory import _checks
from dialer.theory.dialing import HOUR, progressive

__all__ = ["OptimalPacing", "optimal_pacing", "solve_lp"]

# Rewards per state, columns of every evaluation: connects, abandons, busy agents, dials in flight.
_CONN, _ABAN, _BUSY, _FLIGHT = 0, 1, 2, 3
# Largest state space optimal_pacing will build.
_MAX_STATES = 3_000_000


@dataclass(frozen=True)
class OptimalPacing:
    """The optimal-pacing bound and the policy that reaches it.

    `policy[b]` is the number of dials in flight to keep when b agents are
    busy (b = 0..agents): after every event, dial until d = policy[b]; never
    cancel. If `randomised_state` = (b, d) is not None, the optimum also
    randomises there: on entering that state, dial one more with probability
    `randomised_dial_prob` (so the "fractional" target of row b is
    policy[b] + randomised_dial_prob when d = policy[b]). `multiplier` is the
    shadow price of the limit: extra connects per second per extra abandon per
    second allowed. Figures are long-run averages; per-hour ones assume
    seconds. `power_connects_per_agent_hour` is Power's figure on the same floor.
    """

    agents: int
    handle_time: float
    ring_time: float
    live_prob: float
    abandon_limit: float
    occupancy: float
    abandon_rate: float
    connects_per_agent_hour: float
    dials_per_agent_hour: float
    mean_in_flight: float
    power_connects_per_agent_hour: float
    policy: tuple[int, ...]
    randomised_state: tuple[int, int] | None
    randomised_dial_prob: float
    multiplier: float

    @property
    def gain_over_power(self) -> float:
        """Relative gain in connects per agent-hour over Power (0.21 = 21 % more)."""
        if self.power_connects_per_agent_hour == 0.0:
            return 0.0
        return self.connects_per_agent_hour / self.power_connects_per_agent_hour - 1.0


# --------------------------------------------------------------------------- the grid


class _Grid:
    """Rows b = low..n of states (b, d), 0 <= d <= hi[b], and the chain's moves between them.

    With low > 0 the rows below are cut: handle ends in row `low` are
    dropped (a reflecting boundary). That is used only when row `low` has a
    long-run probability below 1e-14, so no figure can tell.
    """

    def __init__(self, n: int, h: float, ring: float, p: float, hi: np.ndarray, low: int = 0) -> None:
        self.n, self.h, self.ring, self.p, self.low = n, h, ring, p, low
        self.hi = hi = _close_rows(hi, low)
        lens = hi[low:] + 1
        self.off = off = np.concatenate([np.zeros(low, dtype=np.int64), [0], np.cumsum(lens)])
        # off[b] is the index of (b, 0) for b >= low; off[n + 1] the size.
        self.size = size = int(off[-1])
        self.b = b = np.repeat(np.arange(low, n + 1), lens)
        self.d = d = np.arange(size) - off[b]
        ends = b > low
        self.q = d / ring + np.where(ends, b / h, 0.0)
        live = d * p / ring
        self.rewards = np.column_stack([live * (b < n), live * (b == n), b.astype(float), d.astype(float)])
        i = np.arange(size)
        src, dst, rate = [], [], []
        m = (d > 0) & (b < n)
        src += [i[m], i[m]]
        dst += [off[b[m]] + d[m] - 1, off[b[m] + 1] + d[m] - 1]
        rate += [d[m] * (1.0 - p) / ring, live[m]]
        m = (d > 0) & (b == n)  # failed or abandoned: either way one dial fewer
        src.append(i[m])
        dst.append(off[b[m]] + d[m] - 1)
        rate.append(d[m] / ring)
        src.append(i[ends])
        dst.append(off[b[ends] - 1] + d[ends])
        rate.append(b[ends] / h)
        self.src, self.dst, self.rate = np.concatenate(src), np.concatenate(dst), np.concatenate(rate)
        self.first = off[low : n + 1]  # index of (b, 0), rows low..n
        self.top = off[low + 1 :] - 1  # index of (b, hi[b])
        # the rows laid side by side in a rectangle (one spare column), for row-wise scans
        self._width = int(hi[low:].max()) + 2
        self._cell = (b - low) * self._width + d

    def best_above(self, x: np.ndarray) -> np.ndarray:
        """Per state, the largest x of the states above it in its row (-inf at the top of a row)."""
        pad = np.full((self.n + 1 - self.low, self._width), -np.inf)
        pad.ravel()[self._cell] = x
        return np.maximum.accumulate(pad[:, ::-1], axis=1)[:, ::-1].ravel()[self._cell + 1]

    def targets(self, wait: np.ndarray) -> np.ndarray:
        """Index of the waiting state an arrival at each state dials up to (the next wait in its row)."""
        idx = np.where(wait, np.arange(self.size), self.size)
        return np.minimum.accumulate(idx[::-1])[::-1]

    def thresholds(self, ev: _Eval) -> np.ndarray:
        """K(b) for rows low..n: where an arrival at d = 0 dials up to."""
        return self.d[ev.tgt[self.first]]

    def remap(self, other: _Grid, wait: np.ndarray, below: np.ndarray | None = None) -> np.ndarray:
        """A policy of `other` on this grid: states outside `other` wait from `below[b]` on (or everywhere)."""
        if below is None:
            new = np.ones(self.size, dtype=bool)
        else:
            new = self.d >= below[self.b]
        inside = (self.b >= other.low) & (self.d <= other.hi[self.b])
        new[inside] = wait[other.off[self.b[inside]] + self.d[inside]]
        new[self.top] = True
        return new


def _close_rows(hi: np.ndarray, low: int) -> np.ndarray:
    """Smallest caps >= hi on rows low..n, closed under the chain's moves.

    A live answer takes (b, d) to (b + 1, d - 1): hi[b + 1] >= hi[b] - 1.
    A handle end takes (b, d) to (b - 1, d): hi[b - 1] >= hi[b].
    """
    hi = np.array(hi, dtype=np.int64)
    for b in range(low + 1, len(hi)):
        hi[b] = max(hi[b], hi[b - 1] - 1)
    hi[low:] = np.maximum.accumulate(hi[low:][::-1])[::-1]
    hi[:low] = 0
    hi[low:] = np.maximum(hi[low:], 1)
    return hi


@dataclass
class _Eval:
    grid: _Grid
    wait: np.ndarray
    tgt: np.ndarray
    psi: np.ndarray  # relative value of arriving at each state, one column per reward
    gain: np.ndarray  # long-run reward rates, one per column
    factors: Any = field(default=None, repr=False)  # the LU factors and the waiting states, until `time` is read
    _time: np.ndarray | None = field(default=None, repr=False)

    @property
    def time(self) -> np.ndarray:
        """Long-run fraction of time in each state (0 in the states that dial), from the same factors."""
        if self._time is None:
            lu, w = self.factors
            e = np.zeros(len(w) + 1)
            e[len(w)] = 1.0
            self._time = np.zeros(self.grid.size)
            self._time[w] = lu.solve(e, trans="T")[: len(w)]
            self.factors = None
        return self._time

    def slope(self, limit: float) -> float:
        return limit * (self.gain[_CONN] + self.gain[_ABAN]) - self.gain[_ABAN]

    def lagrangian(self, eta: float, limit: float) -> float:
        return self.gain[_CONN] + eta * self.slope(limit)


def _evaluate(grid: _Grid, wait: np.ndarray) -> _Eval:
    """Gains, relative values and (on demand) time shares of a deterministic policy (one LU factorisation).

    Semi-Markov evaluation on the waiting states W: for s in W,
    q(s) psi(s) - sum_u rate(s -> u) psi(tgt(u)) + g = reward(s), psi(top) = 0.
    As g = y . reward for the y with A^T y = e_g, whatever the reward, y is
    the long-run fraction of time in each waiting state (one more solve with
    the same factors).
    """
    tgt = grid.targets(wait)
    w = np.flatnonzero(wait)
    nw = len(w)
    loc = np.full(grid.size, -1)
    loc[w] = np.arange(nw)
    m = wait[grid.src]
    rows = np.concatenate([np.arange(nw), loc[grid.src[m]], np.arange(nw), [nw]])
    cols = np.concatenate([np.arange(nw), loc[tgt[grid.dst[m]]], np.full(nw, nw), [nw - 1]])
    vals = np.concatenate([grid.q[w], -grid.rate[m], np.ones(nw), [1.0]])
    a = sp.csc_matrix((vals, (rows, cols)), shape=(nw + 1, nw + 1))
    rewards = grid.rewards
    rhs = np.zeros((nw + 1, rewards.shape[1]))
    rhs[:nw] = rewards[w]
    lu = spla.splu(a, relax=1, panel_size=1)  # small supernodes: twice as fast here
    sol = lu.solve(rhs)
    psi = np.zeros((grid.size, rewards.shape[1]))
    psi[w] = sol[:nw]
    return _Eval(grid, wait, tgt, psi[tgt], sol[nw], (lu, w))


def _improve(grid: _Grid, ev: _Eval, eta: float, limit: float) -> np.ndarray:
    """One policy-improvement step for the Lagrangian reward; ties keep the current action."""
    cw, aw = 1.0 + eta * limit, -eta * (1.0 - limit)
    value = ev.psi[:, _CONN] * cw + ev.psi[:, _ABAN] * aw
    gain = ev.gain[_CONN] * cw + ev.gain[_ABAN] * aw
    reward = grid.rewards[:, _CONN] * cw + grid.rewards[:, _ABAN] * aw
    ahead = np.bincount(grid.src, weights=grid.rate * value[grid.dst], minlength=grid.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        wait_value = (reward - gain + ahead) / grid.q
    wait_value[grid.q == 0] = -np.inf  # a state nothing can leave: waiting there waits for ever
    better_above = grid.best_above(wait_value)
    finite = wait_value[np.isfinite(wait_value)]
    tol = 1e-11 * (float(np.max(np.abs(finite), initial=0.0)) + abs(gain) + 1e-300)
    return np.where(ev.wait, wait_value >= better_above - tol, wait_value > better_above + tol)


class _Solver:
    """Policy iteration for the Lagrangian MDP on a grid it widens when a cap comes close."""

    def __init__(
        self, n: int, h: float, ring: float, p: float, limit: float, low: int = 0, exposure: int | None = None,
        *, keep: bool = False,
    ) -> None:
        self.n, self.h, self.ring, self.p, self.limit = n, h, ring, p, limit
        # keep: remember every policy evaluated (with its time shares), so none is evaluated twice
        self.keep = keep
        self._kept: dict[bytes, _Eval] = {}
        self.margin = max(8, int(math.ceil(2.0 / p)))
        power = np.arange(n, -1, -1)
        # with an exposure cap the grid is the cap itself (d <= n - b + cap) and is never widened
        self.capped = exposure is not None
        hi = power + exposure if exposure is not None else np.ceil(power / p).astype(np.int64) + self.margin
        self.grid = _Grid(n, h, ring, p, hi, low)
        self.wait = self.power()
        self.solves = 0
        self._last: _Eval | None = None

    def power(self) -> np.ndarray:
        """Power's policy on the current grid: one dial in flight per idle agent."""
        wait = self.grid.d >= self.n - self.grid.b
        wait[self.grid.top] = True
        return wait

    def first_guess(self) -> np.ndarray:
        """A cautious first policy: about one live answer in flight per idle agent (1/p dials each).

        Policy iteration from Power swings between dialing to the caps and not
        dialing at all for a dozen steps; from here it settles sooner.
        """
        if self.capped:
            return self.power()
        idle = self.n - self.grid.b
        wait = self.grid.d >= np.minimum(np.ceil(idle / self.p).astype(np.int64), self.grid.hi[self.grid.b])
        wait[self.grid.top] = True
        return wait

    def policy_of(self, ev: _Eval) -> np.ndarray:
        """The policy of `ev` on the current grid (the grid may have been widened since)."""
        if ev.grid is self.grid:
            return ev.wait
        return self.grid.remap(ev.grid, ev.wait)

    def fresh(self, ev: _Eval) -> _Eval:
        """`ev` evaluated on the current grid (unchanged figures: widening adds unreachable states)."""
        return ev if ev.grid is self.grid else self.evaluate(self.policy_of(ev))

    def evaluate(self, wait: np.ndarray) -> _Eval:
        if self._last is not None and np.array_equal(self._last.wait, wait):
            return self._last
        key = wait.tobytes() if self.keep else None
        if key is not None and key in self._kept:
            self._last = self._kept[key]
            return self._last
        self.solves += 1
        ev = self._last = _evaluate(self.grid, wait)
        if key is not None:
            self._kept[key] = ev
        return ev

    def optimum(self, eta: float, start: np.ndarray | None = None) -> _Eval:
        """An optimal deterministic policy of the Lagrangian MDP at eta.

        Policy iteration raises a threshold in one step (the values of every
        waiting state above it are exact) but lowers it only a little per
        step, so `start` should err on the cautious side.
        """
        wait = self.wait if start is None else start
        if len(wait) != self.grid.size:
            raise AssertionError("start policy from another grid")  # pragma: no cover
        for _ in range(1000):
            ev = self.evaluate(wait)
            new = _improve(self.grid, ev, eta, self.limit)
            if np.array_equal(new, wait):
                if self._widen(ev):
                    wait = self.wait
                    continue
                self.wait = wait
                return ev
            wait = new
        raise RuntimeError("policy iteration did not converge")  # pragma: no cover

    def _widen(self, ev: _Eval) -> bool:
        """Widen the rows whose optimal target comes within the margin of their cap."""
        if self.capped:
            return False
        grid = self.grid
        target = np.zeros(self.n + 1, dtype=np.int64)
        target[grid.low :] = grid.thresholds(ev)
        close = target + self.margin > grid.hi
        close[: grid.low] = False
        if not close.any():
            return False
        hi = grid.hi.copy()
        hi[close] = target[close] + target[close] // 4 + 2 * self.margin
        self.regrid(hi, ev.wait)
        return True

    def regrid(self, hi: np.ndarray, wait: np.ndarray, low: int | None = None, below: np.ndarray | None = None) -> None:
        """Move to a new grid (wider rows, or more rows), carrying the policy `wait` over."""
        low = self.grid.low if low is None else low
        if int(np.sum(_close_rows(hi, low)[low:] + 1)) > _MAX_STATES:
            raise bad("abandon_limit", self.limit, "small enough for a tractable state space (try a lower limit)")
        new = _Grid(self.n, self.h, self.ring, self.p, hi, low)
        self.wait = new.remap(self.grid, wait, below)
        self.grid = new
        self._last = None
        self._kept.clear()

    def row_mass(self, ev: _Eval, b: int) -> float:
        """Long-run fraction of time with b busy agents under the policy of `ev`."""
        return float(np.sum(ev.time[self.grid.b == b]))


def _kelley(
    solver: _Solver,
    eta: float = 0.5,
    factor: float = 4.0,
    start: np.ndarray | None = None,
    lo: tuple[float, _Eval] | None = None,
) -> tuple[float, _Eval, _Eval]:
    """Minimise the dual function G(eta); returns eta* and optimal policies with slope >= 0 and < 0.

    The bracket is found from `eta` by steps of `factor`; the first policy
    iteration starts from `start` (default: `_Solver.first_guess`). `lo`, if given, is a
    known (eta, optimum) with slope < 0 (under an exposure cap the only one
    may be at eta = 0: the greedy policy).
    """
    limit = solver.limit
    # lo: slope < 0, too aggressive
    hi: tuple[float, _Eval] | None = None  # slope >= 0: the limit is met
    # Start every policy iteration from the most cautious optimum known above eta (a cautious guess at first).
    for _ in range(200):
        if hi is not None:
            start = solver.policy_of(hi[1])
        ev = solver.optimum(eta, solver.first_guess() if start is None else start)
        if ev.slope(limit) >= 0:
            hi = (eta, ev)
            if lo is not None:
                break
            eta /= factor
        else:
            lo = (eta, ev)
            if hi is not None:
                break
            eta *= factor
    assert lo is not None and hi is not None
    for _ in range(200):
        (e_lo, ev_lo), (e_hi, ev_hi) = lo, hi
        s_lo, s_hi = ev_lo.slope(limit), ev_hi.slope(limit)
        if s_hi == 0.0:
            return e_hi, solver.fresh(ev_hi), solver.fresh(ev_lo)
        g_lo, g_hi = ev_lo.lagrangian(e_lo, limit), ev_hi.lagrangian(e_hi, limit)
        # Intersection of the two supporting lines g + s (eta - e).
        eta = (g_hi - s_hi * e_hi - g_lo + s_lo * e_lo) / (s_lo - s_hi)
        model = g_lo + s_lo * (eta - e_lo)
        ev = solver.optimum(eta, solver.policy_of(ev_hi))
        if ev.lagrangian(eta, limit) <= model + 1e-12 * abs(model):
            return eta, solver.fresh(ev_hi), solver.fresh(ev_lo)
        if ev.slope(limit) >= 0:
            hi = (eta, ev)
        else:
            lo = (eta, ev)
    raise RuntimeError("Kelley's method did not converge")  # pragma: no cover


def _at(solver: _Solver, eta: float, ev_hi: _Eval, ev_lo: _Eval) -> tuple[_Eval, _Eval]:
    """Both bracketing policies re-optimised at eta* itself.

    Kelley's last two policies are optimal at eta*, but each was found at
    its own eta, and in states too improbable to move the gains (< 1e-12)
    their actions may be those of that eta. Policy iteration at eta*,
    started from each (ties keep the current action), fixes those states
    and keeps the one that matters.
    """
    hi = solver.optimum(eta, ev_hi.wait)
    lo = solver.optimum(eta, solver.policy_of(ev_lo))
    hi, lo = solver.fresh(hi), solver.fresh(lo)
    limit = solver.limit
    if hi.slope(limit) >= 0 > lo.slope(limit):
        return hi, lo
    return solver.fresh(ev_hi), solver.fresh(ev_lo)  # pragma: no cover - a tie broken the other way


def _single_difference(solver: _Solver, ev_hi: _Eval, ev_lo: _Eval) -> tuple[_Eval, _Eval, int]:
    """Neighbours on the walk from ev_hi to ev_lo: slope >= 0, slope < 0, and the one state they differ in."""
    limit = solver.limit
    diff = np.flatnonzero(ev_hi.wait != ev_lo.wait)

    def policy(j: int) -> np.ndarray:  # the first j differing states switched to ev_lo's action
        w = ev_hi.wait.copy()
        w[diff[:j]] = ev_lo.wait[diff[:j]]
        return w

    a, b = 0, len(diff)  # invariant: slope(policy(a)) >= 0 > slope(policy(b))
    ev_a, ev_b = ev_hi, ev_lo
    while b - a > 1:
        mid = (a + b) // 2
        ev = solver.evaluate(policy(mid))
        if ev.slope(limit) >= 0:
            a, ev_a = mid, ev
        else:
            b, ev_b = mid, ev
    return ev_a, ev_b, int(diff[a])


def _through(grid: _Grid, ev: _Eval, s: int) -> np.ndarray:
    """Per-state rate of moves whose dial-up passes through state s (a dialing state of ev)."""
    row, ds = grid.b[s], grid.d[s]
    v = grid.dst
    passes = (grid.b[v] == row) & (grid.d[v] <= ds) & (grid.d[ev.tgt[v]] > ds)
    return np.bincount(grid.src, weights=grid.rate * passes, minlength=grid.size)


def _first_row(n: int) -> int:
    """A first guess of the lowest row worth keeping (checked and lowered afterwards)."""
    return max(0, n - 10 - int(2.0 * math.sqrt(n)))


# Rows whose long-run probability is below this are cut while the bound is computed.
_NEGLIGIBLE = 1e-14


def optimal_pacing(
    agents: int,
    handle_time: float,
    ring_time: float,
    live_prob: float,
    abandon_limit: float,
    *,
    max_exposure: int | None = None,
) -> OptimalPacing:
    """The best long-run connect rate any pacer can reach with abandoned <= limit x live answers.

    Markovian floor: exponential ring times (mean `ring_time`, every attempt,
    live or not) and handle times (mean `handle_time`). `abandon_limit` is in
    [0, 1); 0 gives Power. The method: docs/design.md, appendix.

    `max_exposure` K (optional): the pacer may never have more than K dials
    in flight beyond the idle agents (d <= agents - b + K), as when a
    dialer's abandon envelope has room for only K calls that no idle agent
    would take. The answer is then the best any pacer can do under that cap
    too; if even dialing up to the cap everywhere keeps abandons under the
    limit, that is the optimum (multiplier 0). K = 0 is Power.
    """
    n, h, ring, p, limit = _checks.dialing_floor(agents, handle_time, ring_time, live_prob, abandon_limit)
    if limit >= 1.0:
        raise bad("abandon_limit", abandon_limit, "below 1 (with limit 1 more dials always pay: no optimum)")
    if max_exposure is None:
        return _optimal(n, h, ring, p, limit, _first_row(n))
    cap = _checks.integer("max_exposure", max_exposure, 0)
    return _optimal(n, h, ring, p, limit, 0, cap)


def _optimal(n: int, h: float, ring: float, p: float, limit: float, low: int, cap: int | None = None) -> OptimalPacing:
    pw = progressive(h, ring, p)
    power = tuple(range(n, -1, -1))
    if p == 0.0 or limit == 0.0 or cap == 0:
        # Power: one dial per idle agent; with p = 0 nothing pays and Power costs nothing.
        return OptimalPacing(
            agents=n,
            handle_time=h,
            ring_time=ring,
            live_prob=p,
            abandon_limit=limit,
            occupancy=pw.occupancy,
            abandon_rate=0.0,
            connects_per_agent_hour=pw.connects_per_agent_hour,
            dials_per_agent_hour=pw.dials_per_agent_hour,
            mean_in_flight=n * ring / pw.cycle_time,  # each agent's dial rings ring/cycle of the time
            power_connects_per_agent_hour=pw.connects_per_agent_hour,
            policy=power,
            randomised_state=None,
            randomised_dial_prob=0.0,
            multiplier=math.inf if p > 0 else 0.0,
        )
    solver = _Solver(n, h, ring, p, limit, low, cap)
    if cap is not None:
        greedy = solver.optimum(0.0)  # the most connects the cap allows, whatever the abandons
        if greedy.slope(limit) >= 0:  # ... and it keeps the limit: the cap is the only constraint
            return _report(solver, 0.0, greedy, greedy, 0, pw.connects_per_agent_hour)
        eta, ev_hi, ev_lo = _kelley(solver, lo=(0.0, greedy))
    else:
        eta, ev_hi, ev_lo = _kelley(solver)
    while (low := solver.grid.low) > 0:
        if max(solver.row_mass(ev_hi, low), solver.row_mass(ev_lo, low)) <= _NEGLIGIBLE:
            break
        # Row `low` is not negligible: keep twice as many rows and solve again, near eta*.
        new_low = max(0, n - 2 * (n - low))
        # thresholds grow by about 1/p per idle agent far from n: start there, with room above
        below = np.zeros(n + 1, dtype=np.int64)
        below[:low] = solver.grid.thresholds(ev_hi)[0] + np.floor((low - np.arange(low)) / p).astype(np.int64)
        hi = solver.grid.hi.copy()
        hi[:low] = below[:low] + (low - np.arange(low)) + 2 * solver.margin
        old = solver.grid
        solver.regrid(hi, ev_hi.wait, new_low, below)
        # the two policies that bracketed eta* on the cut rows, carried over, start Kelley's method there
        start = solver.evaluate(solver.wait)
        other = solver.evaluate(solver.grid.remap(old, ev_lo.wait, below))
        eta, ev_hi, ev_lo = _kelley_lines(solver, limit, [(math.inf, start)], [other])
    ev_hi, ev_lo = _at(solver, eta, ev_hi, ev_lo)
    ev0, ev1, s = _single_difference(solver, ev_hi, ev_lo)
    result = _report(solver, eta, ev0, ev1, s, pw.connects_per_agent_hour)
    if solver.grid.low > 0:
        result = _complete_policy(solver, eta, result)
    return result


def _complete_policy(solver: _Solver, eta: float, result: OptimalPacing) -> OptimalPacing:
    """The policy of the cut rows: policy iteration at eta* on the whole grid, from an extrapolation."""
    grid, low, n = solver.grid, solver.grid.low, solver.n
    base = np.array(result.policy[low:], dtype=np.int64)
    # Far from n, thresholds grow by about 1/p per idle agent: start there (policy iteration
    # raises thresholds in one step but lowers them only slowly), with room to spare above.
    below = np.zeros(n + 1, dtype=np.int64)
    below[:low] = base[0] + np.floor((low - np.arange(low)) / solver.p).astype(np.int64)
    hi = grid.hi.copy()
    hi[:low] = below[:low] + (low - np.arange(low)) + 2 * solver.margin
    wait = grid.d >= np.concatenate([np.zeros(low, dtype=np.int64), base])[grid.b]
    wait[grid.top] = True
    solver.regrid(hi, wait, 0, below)
    ev = solver.optimum(eta)
    policy = solver.grid.thresholds(ev)
    return _replace(result, policy=tuple(int(k) for k in policy))


def _replace(result: OptimalPacing, **changes: object) -> OptimalPacing:
    from dataclasses import replace

    return replace(result, **changes)


def _report(solver: _Solver, eta: float, ev0: _Eval, ev1: _Eval, s: int, power_cph: float) -> OptimalPacing:
    """Mix two policies one state apart so that the limit is met exactly (ev0: slope >= 0)."""
    grid, limit, n = solver.grid, solver.limit, solver.n
    s0, s1 = ev0.slope(limit), ev1.slope(limit)
    alpha = 1.0 if s0 == 0.0 or ev1 is ev0 else s1 / (s1 - s0)  # weight of ev0 in the occupation measure
    gain = alpha * ev0.gain + (1.0 - alpha) * ev1.gain
    waiting, dialing = (ev0, ev1) if ev0.wait[s] else (ev1, ev0)
    w_alpha = alpha if waiting is ev0 else 1.0 - alpha
    randomised: tuple[int, int] | None = None
    prob = 0.0
    if 0.0 < alpha < 1.0:
        # Entry rates into s: under the waiting policy, time in s x its event rate;
        # under the dialing policy, the rate of moves whose dial-up passes through s.
        enter_wait = waiting.time[s] * grid.q[s]
        enter_dial = float(dialing.time @ _through(grid, dialing, s))
        num = (1.0 - w_alpha) * enter_dial
        den = num + w_alpha * enter_wait
        prob = num / den if den > 0 else 0.0
        randomised = (int(grid.b[s]), int(grid.d[s]))
        base = waiting
    else:
        base = ev0 if alpha == 1.0 else ev1
    policy = np.zeros(n + 1, dtype=np.int64)
    policy[grid.low :] = grid.thresholds(base)
    conn, aban = float(gain[_CONN]), float(gain[_ABAN])
    live = conn + aban
    return OptimalPacing(
        agents=n,
        handle_time=solver.h,
        ring_time=solver.ring,
        live_prob=solver.p,
        abandon_limit=limit,
        occupancy=float(gain[_BUSY]) / n,
        abandon_rate=aban / live if live > 0 else 0.0,
        connects_per_agent_hour=HOUR * conn / n,
        dials_per_agent_hour=HOUR * float(gain[_FLIGHT]) / solver.ring / n,
        mean_in_flight=float(gain[_FLIGHT]),
        power_connects_per_agent_hour=power_cph,
        policy=tuple(int(k) for k in policy),
        randomised_state=randomised,
        randomised_dial_prob=float(prob),
        multiplier=float(eta),
    )


# --------------------------------------------------------------------------- many limits under one cap


class CappedFloor:
    """The best long-run figures under exposure caps, each for several abandon limits (for `envelope`).

    `rates(cap, limits)` gives, per limit, the occupancy, live answers and
    abandons per second of `optimal_pacing(n, h, ring, p, limit,
    max_exposure=cap)`, to within its tolerances (1e-10 or so). Why it is
    faster than one call per limit and cap: the limits of one cap share the
    states and the policies, and only the constraint differs, so any policy
    found for one limit gives a line (connects + eta x slope) under every
    other limit's dual function; Kelley's method for each limit starts from
    all of them and from the two policies that bracketed the same limit
    under the previous cap, and no policy is evaluated twice. When Kelley's
    method ends, the two policies that bracket the limit are both optimal at
    eta*, and their mixture that meets the limit exactly is the optimum.
    Rows of busy agents are cut as in `optimal_pacing`: at first where
    Power's law of busy agents (binomial: under Power agents are
    independent) puts less than 1e-16 of the time, then where the previous
    cap's solution put less than 1e-15, and more rows are kept whenever the
    lowest one carries more than 1e-14. Arguments are not checked (the
    caller has).
    """

    def __init__(self, n: int, h: float, ring: float, p: float) -> None:
        self.n, self.h, self.ring, self.p = n, h, ring, p
        pw = progressive(h, ring, p)
        self._power = (pw.occupancy, pw.connects_per_agent_hour * n / HOUR, 0.0)
        self._low = _power_low(n, h, ring, p) if p > 0 else 0
        self._pairs: dict[float, tuple[_Grid, np.ndarray, np.ndarray]] = {}  # per limit, last cap's bracket

    def rates(self, cap: int, limits: Sequence[float]) -> list[tuple[float, float, float]]:
        """(occupancy, live answers per second, abandons per second) under `cap`, for each limit."""
        if self.p == 0.0 or cap == 0:
            return [self._power] * len(limits)
        while True:
            got = self._solve(cap, limits, self._low)
            if got is not None:
                return got
            self._low = max(0, self.n - 2 * (self.n - self._low))  # a cut row carried time: keep more rows

    def _solve(self, cap: int, limits: Sequence[float], low: int) -> list[tuple[float, float, float]] | None:
        n = self.n
        solver = _Solver(n, self.h, self.ring, self.p, 0.0, low, cap, keep=True)
        grid = solver.grid
        # the most connects the cap allows, whatever the abandons (from Power: of the policies with as
        # many connects, a cautious one, as optimal_pacing finds)
        greedy = solver.optimum(0.0, solver.power())
        # optimal policies found, with their price of an abandon in connects (Power's: infinite)
        found: list[tuple[float, _Eval]] = [(math.inf, solver.evaluate(solver.power())), (0.0, greedy)]
        figures: list[tuple[float, float, float]] = []
        pairs: dict[float, tuple[_Eval, _Eval]] = {}
        for limit in limits:
            if limit == 0.0:
                figures.append(self._power)
                continue
            if greedy.slope(limit) >= 0:  # the cap is the only constraint
                hi, lo = greedy, greedy
            else:
                solver.limit = limit
                last = self._pairs.get(limit)
                lines = [] if last is None else [solver.evaluate(grid.remap(last[0], w)) for w in last[1:]]
                _, hi, lo = _kelley_lines(solver, limit, found, lines)
            s_hi, s_lo = hi.slope(limit), lo.slope(limit)
            w = 1.0 if s_hi == 0.0 or hi is lo else s_lo / (s_lo - s_hi)  # weight of hi: the mix meets the limit
            gain = w * hi.gain + (1.0 - w) * lo.gain
            figures.append((float(gain[_BUSY]) / n, float(gain[_CONN] + gain[_ABAN]), float(gain[_ABAN])))
            pairs[limit] = (hi, lo)
        # time per row of busy agents, from the lowest kept, summed upwards
        rows = [np.cumsum(np.bincount(grid.b - low, weights=ev.time, minlength=n + 1 - low))
                for pair in pairs.values() for ev in pair]
        if low > 0 and any(r[0] > _NEGLIGIBLE for r in rows):
            return None
        self._low = low + min((max(0, int(np.searchsorted(r, 1e-15, side="right")) - 1) for r in rows), default=0)
        self._pairs.update({k: (grid, hi.wait, lo.wait) for k, (hi, lo) in pairs.items()})
        return figures


def _power_low(n: int, h: float, ring: float, p: float) -> int:
    """The highest row b with P(busy <= b) < 1e-16 under Power, where agents are independent: Binomial(n, occ)."""
    occ = h / (h + ring / p)
    cum = 0.0
    for b in range(n + 1):
        cum += math.exp(math.lgamma(n + 1) - math.lgamma(b + 1) - math.lgamma(n - b + 1)
                        + b * math.log(occ) + (n - b) * math.log1p(-occ))
        if cum >= 1e-16:
            return max(0, b - 1)
    return n  # pragma: no cover - the probabilities add up to 1


def _kelley_lines(solver: _Solver, limit: float, found: list[tuple[float, _Eval]],
                  lines: list[_Eval]) -> tuple[float, _Eval, _Eval]:
    """Kelley's method for one limit, with every policy in `found` and in `lines` as a line under G.

    `found`: optimal policies with their price of an abandon (which it adds
    to; policy iteration starts from the one at the nearest higher price).
    Any policy's line lies under G, so the model's minimum, where a rising and
    a falling line cross, bounds G's from below; when G there is no higher,
    both lines are optimal there. Returns eta* and those two policies, one
    meeting the limit (slope >= 0), one breaking it.
    """
    for _ in range(200):
        evs = [ev for _, ev in found] + lines
        c = np.array([ev.gain[_CONN] for ev in evs])
        s = np.array([ev.slope(limit) for ev in evs])
        pos, neg = np.flatnonzero(s >= 0), np.flatnonzero(s < 0)
        # the minimum of the model (the upper envelope of the lines) is where a rising and a falling line cross
        eta = np.maximum((c[neg][None, :] - c[pos][:, None]) / (s[pos][:, None] - s[neg][None, :]), 0.0)
        model = np.max(c[None, None, :] + eta[:, :, None] * s[None, None, :], axis=2)
        i, j = np.unravel_index(int(np.argmin(model)), model.shape)
        e, m = float(eta[i, j]), float(model[i, j])
        # the lines that make the model there (a third line may lie above the two that cross)
        at = c + e * s
        i, j = int(np.argmax(at[pos])), int(np.argmax(at[neg]))
        price = e * (1.0 - limit) / (1.0 + e * limit)
        # start from the optimum known at the nearest higher price: policy iteration raises thresholds fast
        start = min((f for f in found if f[0] >= price), key=lambda f: f[0])[1]
        ev = solver.optimum(e, solver.policy_of(start))
        if ev.lagrangian(e, limit) <= m + 1e-12 * abs(m):
            return e, solver.fresh(evs[pos[i]]), solver.fresh(evs[neg[j]])
        found.append((price, ev))
    raise RuntimeError("Kelley's method did not converge")  # pragma: no cover


# --------------------------------------------------------------------------- the LP reference


@dataclass(frozen=True)
class LPSolution:
    """The full linear program's optimum (small floors only): figures as in `OptimalPacing`."""

    connects_per_agent_hour: float
    abandon_rate: float
    occupancy: float
    time_in_state: dict[tuple[int, int], float]
    dial_rate_in_state: dict[tuple[int, int], float]


def solve_lp(
    agents: int, handle_time: float, ring_time: float, live_prob: float, abandon_limit: float, max_in_flight: int
) -> LPSolution:
    """The constrained MDP as one LP over occupation measures, solved by HiGHS (a reference).

    Variables: x(s), the long-run fraction of time spent waiting in state s,
    and y(s), the rate of "dial one more" actions taken in s, on the triangle
    d <= max_in_flight - b. Balance: x(s) q(s) + y(s) = inflow by events +
    y(s - one dial); sum x = 1; abandons <= limit x live answers. Maximise
    connects. Slow beyond a few thousand states: use `optimal_pacing`.
    """
    n, h, ring, p, limit = _checks.dialing_floor(agents, handle_time, ring_time, live_prob, abandon_limit)
    top = _checks.integer("max_in_flight", max_in_flight, n)
    grid = _Grid(n, h, ring, p, top - np.arange(n + 1))
    size = grid.size
    dial = np.flatnonzero(grid.d < grid.hi[grid.b])
    nd = len(dial)
    rows = np.concatenate([np.arange(size), grid.dst, dial, dial + 1, np.full(size, size)])
    cols = np.concatenate([np.arange(size), grid.src, size + np.arange(nd), size + np.arange(nd), np.arange(size)])
    vals = np.concatenate([grid.q, -grid.rate, np.ones(nd), -np.ones(nd), np.ones(size)])
    a_eq = sp.csr_matrix((vals, (rows, cols)), shape=(size + 1, size + nd))
    b_eq = np.zeros(size + 1)
    b_eq[-1] = 1.0
    live = grid.rewards[:, _CONN] + grid.rewards[:, _ABAN]
    c = np.zeros(size + nd)
    c[:size] = -grid.rewards[:, _CONN]
    a_ub = np.zeros((1, size + nd))
    a_ub[0, :size] = grid.rewards[:, _ABAN] - limit * live
    res = linprog(c, A_ub=sp.csr_matrix(a_ub), b_ub=[0.0], A_eq=a_eq, b_eq=b_eq, method="highs")
    if res.status != 0:  # pragma: no cover
        raise RuntimeError(f"HiGHS failed: {res.message}")
    x, y = res.x[:size], res.x[size:]
    conn = float(x @ grid.rewards[:, _CONN])
    aban = float(x @ grid.rewards[:, _ABAN])
    keys = list(zip(grid.b.tolist(), grid.d.tolist()))
    return LPSolution(
        connects_per_agent_hour=HOUR * conn / n,
        abandon_rate=aban / (conn + aban) if conn + aban > 0 else 0.0,
        occupancy=float(x @ grid.b) / n,
        time_in_state={k: float(v) for k, v in zip(keys, x) if v > 0},
        dial_rate_in_state={keys[i]: float(v) for i, v in zip(dial, y) if v > 0},
    )
