"""The day under the abandon envelope: how far any pacer can get when the limit holds at every moment.

Owns: `envelope_day`, an estimate of the best day any pacer can have on the
Markovian floor of `optimal_pacing` when, as in this project's controller, the
abandon limit is a promise kept at every moment of the day rather than a
long-run average; and `day_plan`, that day's plan as a value (the abandon
rate to run at, by time left and budget), which the Predictive pacer reads.
Must not know about: the controller, the ledger, the simulator. Numbers in,
numbers out (numpy; the capped bound of `dialer.theory.optimal`).

    day = envelope_day(20, 200.0, 17.0, 0.25, 0.05)    # a 12-hour day
    day.kept_share                                     # 0.98 of optimal_pacing's gain over Power
    day_plan(20, 200.0, 17.0, 0.25, 0.05).rate(3600.0, 40.0)   # the rate with 1 h left, budget 40

Why a second yardstick, the fluid estimate (a dynamic programme over the
budget) and its assumptions: docs/design.md, "Appendix: the theory's models".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dialer.errors import bad
from dialer.theory import _checks
from dialer.theory.optimal import CappedFloor, optimal_pacing

__all__ = ["DayPlan", "EnvelopeDay", "EnvelopePoint", "day_plan", "envelope_day"]

# The abandon rates a step may run at, as multiples of the limit.
_ALPHAS = (0.0, 0.1, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0)
# Exposure caps solved one by one up to this, then on a geometric grid (interpolated between).
_DENSE = 24
_GROWTH = 1.15


@dataclass(frozen=True)
class EnvelopePoint:
    """The estimated day at one moment: seconds since the start, budget B, exposure cap K, alpha, occupancy."""

    time: float
    budget: float
    exposure_cap: int
    abandon_rate: float
    occupancy: float


@dataclass(frozen=True)
class EnvelopeDay:
    """The best day on the Markovian floor under a per-day abandon promise (a fluid estimate).

    `occupancy`, `connects_per_agent_hour` and `abandon_rate` are the day's;
    `stationary_occupancy` is `optimal_pacing`'s (the long run, no promise)
    and `power_occupancy` Power's, for the share of the gain the promise
    leaves: (occupancy - power) / (stationary - power). `path` samples the
    day every `sample` seconds.
    """

    agents: int
    handle_time: float
    ring_time: float | tuple[float, ...]  # a tuple: one per equal part of the day
    live_prob: float | tuple[float, ...]
    abandon_limit: float
    hours: float
    occupancy: float
    connects_per_agent_hour: float
    abandon_rate: float
    stationary_occupancy: float
    power_occupancy: float
    path: tuple[EnvelopePoint, ...]

    @property
    def kept_share(self) -> float:
        """The share of `optimal_pacing`'s gain over Power that the day keeps (1 when there is none)."""
        gain = self.stationary_occupancy - self.power_occupancy
        return 1.0 if gain <= 0 else (self.occupancy - self.power_occupancy) / gain


def _caps(top: int) -> list[int]:
    caps = list(range(min(top, _DENSE) + 1))
    k = float(_DENSE)
    while caps[-1] < top:
        k *= _GROWTH
        caps.append(min(top, int(math.ceil(k))))
    return caps


def _table(n: int, h: float, ring: float, p: float, limit: float, top: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Occupancy, live answers and abandons per second for every cap 0..top (rows) and alpha (columns)."""
    alphas = [min(a * limit, 0.999) for a in _ALPHAS]
    caps = _caps(top)
    occ = np.zeros((len(caps), len(alphas)))
    live = np.zeros_like(occ)
    aban = np.zeros_like(occ)
    active = list(range(len(alphas)))  # the abandon rates whose column is not saturated yet
    floor = CappedFloor(n, h, ring, p)
    for i, k in enumerate(caps):
        occ[i, active], live[i, active], aban[i, active] = zip(*floor.rates(k, [alphas[j] for j in active]))
        for j in list(active):
            if i >= 2 and k > n and abs(occ[i, j] - occ[i - 1, j]) <= 1e-7 and abs(occ[i - 1, j] - occ[i - 2, j]) <= 1e-7:
                # saturated: wider caps change nothing at this abandon rate
                occ[i + 1 :, j], live[i + 1 :, j], aban[i + 1 :, j] = occ[i, j], live[i, j], aban[i, j]
                active.remove(j)
        if not active:
            break
    every = np.arange(top + 1)
    out = []
    for tab in (occ, live, aban):
        out.append(np.column_stack([np.interp(every, caps, tab[:, j]) for j in range(len(alphas))]))
    return out[0], out[1], out[2]


@dataclass(frozen=True, eq=False)
class DayPlan:
    """The abandon rate to run at, by time left in the day and budget: the dynamic programme of `envelope_day`.

    `rate(seconds_left, budget)` is the abandon rate (a multiple of the
    limit from 0 to 5 x the limit) that the best day of the fluid estimate
    runs at when `seconds_left` of the calling day remain and the day's
    budget is B = limit x established - abandoned calls. Early in a day,
    with little budget, it is low: the calls that build the budget are worth
    more than the few exposed dials the budget would buy. Late it can be
    above the limit: budget left at the close is wasted. A pacer that keeps
    the promise at every moment can use it as the ceiling of its own target
    (`dialer.core.predictive.Predictive`, ``day_plan``). Arrays are indexed
    by step of the day (`step` seconds, from the opening) and budget grid
    point (`budget_step` apart); read them through `rate`.
    """

    agents: int
    handle_time: float
    ring_time: float
    live_prob: float
    abandon_limit: float
    hours: float
    step: float
    budget_step: float
    rates: tuple[float, ...]  # the abandon rates a step may run at
    choice: np.ndarray = field(repr=False)  # index into `rates`, per step (row) and budget grid point (column)
    cap: np.ndarray = field(repr=False)  # the exposure cap K(B) per budget grid point
    occ: np.ndarray = field(repr=False)  # occupancy per exposure cap (row) and rate (column)
    live: np.ndarray = field(repr=False)  # live answers per second, same shape
    aban: np.ndarray = field(repr=False)  # abandons per second, same shape

    @property
    def steps(self) -> int:
        return int(self.choice.shape[0])

    def point(self, budget: float) -> int:
        """The budget grid point nearest to `budget` (clamped to the grid)."""
        if not budget > 0.0:  # also NaN
            return 0
        return min(int(round(budget / self.budget_step)), self.choice.shape[1] - 1)

    def rate(self, seconds_left: float, budget: float) -> float:
        """The abandon rate to run at with `seconds_left` of the day to go and budget `budget` (B = r C - A)."""
        left = seconds_left if seconds_left == seconds_left else 0.0  # NaN: the day's last step
        s = self.steps - max(1, int(math.ceil(min(max(left, 0.0), self.steps * self.step) / self.step - 1e-9)))
        return self.rates[int(self.choice[s, self.point(budget)])]


def _induction(n: int, h: float, parts: tuple[tuple[float, float], ...], limit: float, hours: float, b0: float,
               dt: float) -> tuple[float, float, np.ndarray, np.ndarray, np.ndarray, list[tuple[np.ndarray, ...]], np.ndarray]:
    """Backward induction over a day of `hours` in steps of about `dt` seconds (docs/design.md, appendix).

    `parts`: (ring, live) of each equal part of the day, in order. Returns the
    step, the budget step, the choices (step x budget point), the cap per
    budget point, the budget grid, the tables (occ, live, aban) of each
    distinct part, and which table each step runs on.
    """
    length = hours * 3600.0
    steps = max(1, int(round(length / dt)))
    dt = length / steps
    # the budget can never exceed the limit times every call the agents could take in a day
    b_max = b0 + limit * (n * length / h + n) + 1.0
    top = int((b_max + limit * n) / (1.0 - limit))
    distinct = list(dict.fromkeys(parts))
    tables = [_table(n, h, ring, p, limit, top) for ring, p in distinct]
    part = np.array([distinct.index(parts[s * len(parts) // steps]) for s in range(steps)], dtype=np.int64)
    db = max(0.25, b_max / 4000.0)
    grid = np.arange(0.0, b_max + db, db)
    cap = np.minimum(np.floor((grid + limit * n) / (1.0 - limit)).astype(np.int64), top)
    width = grid[1:] - grid[:-1]
    moves = []
    for occ, live, aban in tables:
        o, drift = occ[cap], limit * live[cap] - aban[cap]  # per grid point and alpha
        nxt = grid[:, None] + drift * dt
        ok = nxt >= -1e-12
        nxt = np.clip(nxt, 0.0, grid[-1])
        # the next budgets of a part never move, so where each falls on the grid is found once (the same
        # arithmetic as np.interp)
        at = np.searchsorted(grid, nxt, side="right") - 1
        on = (at == len(grid) - 1) | (grid[at] == nxt)  # on a grid point: its value, as np.interp takes it
        seg = np.minimum(at, len(grid) - 2)
        off = nxt - grid[at]
        moves.append((o * dt, ok, at, on, seg, off))
    # value = busy agent-seconds to the end of the day, per agent
    value = np.zeros(len(grid))
    choice = np.zeros((steps, len(grid)), dtype=np.int16)
    rows = np.arange(len(grid))
    for s in range(steps - 1, -1, -1):
        gain, ok, at, on, seg, off = moves[part[s]]
        slope = (value[1:] - value[:-1]) / width
        later = np.where(on, value[at], slope[seg] * off + value[at])
        cand = gain + later
        cand[~ok] = -np.inf
        choice[s] = np.argmax(cand, axis=1)
        value = cand[rows, choice[s]]
    return dt, db, choice, cap, grid, tables, part


def _solve_day(n: int, h: float, ring: float, p: float, limit: float, hours: float, b0: float, dt: float) -> DayPlan:
    """The day plan of a floor whose figures hold all day."""
    dt, db, choice, cap, _, tables, _ = _induction(n, h, ((ring, p),), limit, hours, b0, dt)
    rates = tuple(min(a * limit, 0.999) for a in _ALPHAS)
    occ, live, aban = tables[0]
    return DayPlan(n, h, ring, p, limit, float(hours), dt, db, rates, choice, cap, occ, live, aban)


def _check_floor(agents: Any, handle_time: Any, ring_time: Any, live_prob: Any, abandon_limit: Any,
                 hours: Any) -> tuple[int, float, float, float, float, float]:
    n, h, ring, p, limit = _checks.dialing_floor(agents, handle_time, ring_time, live_prob, abandon_limit)
    if limit >= 1.0:
        raise bad("abandon_limit", abandon_limit, "below 1")
    length = _checks.positive("hours", hours)
    if length > 24:
        raise bad("hours", hours, "at most 24 (one calling day)")
    return n, h, ring, p, limit, float(length)


def day_plan(
    agents: int,
    handle_time: float,
    ring_time: float,
    live_prob: float,
    abandon_limit: float,
    hours: float = 12.0,
    *,
    step: float = 60.0,
) -> DayPlan:
    """The plan of `envelope_day`'s best day: the abandon rate to run at, by time left and budget.

    Same floor and arguments as `envelope_day` (a day starting with no
    budget). A limit of 0 or a live probability of 0 gives a plan that
    always says 0 (Power). See `DayPlan`.
    """
    n, h, ring, p, limit, hours = _check_floor(agents, handle_time, ring_time, live_prob, abandon_limit, hours)
    dt = _checks.positive("step", step)
    if limit == 0.0 or p == 0.0:
        zero = np.zeros((1, 1))
        return DayPlan(n, h, ring, p, limit, hours, hours * 3600.0, 1.0, (0.0,), np.zeros((1, 1), dtype=np.int16),
                       np.zeros(1, dtype=np.int64), zero, zero, zero)
    return _solve_day(n, h, ring, p, limit, hours, 0.0, dt)


def _parts(ring_time: Any, live_prob: Any) -> tuple[tuple[float, float], ...] | None:
    """(ring, live) of each equal part of the day when either is a sequence; None when both are numbers."""
    seqs = {name: v for name, v in (("ring_time", ring_time), ("live_prob", live_prob))
            if isinstance(v, (list, tuple, np.ndarray))}
    if not seqs:
        return None
    lengths = {len(v) for v in seqs.values()}
    for name, v in seqs.items():
        if len(v) == 0:
            raise bad(name, v, "a number or a non-empty sequence of them (one per equal part of the day)")
    if len(lengths) > 1:
        raise bad("live_prob", live_prob, f"as long as ring_time ({len(ring_time)} parts of the day)")
    count = lengths.pop()
    rings = ring_time if "ring_time" in seqs else [ring_time] * count
    lives = live_prob if "live_prob" in seqs else [live_prob] * count
    return tuple((float(r), float(q)) for r, q in zip(rings, lives))


def envelope_day(
    agents: int,
    handle_time: float,
    ring_time: float | Sequence[float],
    live_prob: float | Sequence[float],
    abandon_limit: float,
    hours: float = 12.0,
    *,
    start_budget: float = 0.0,
    step: float = 60.0,
    sample: float = 1800.0,
) -> EnvelopeDay:
    """The best day any pacer can have on the Markovian floor when the limit holds at every moment (an estimate).

    Same floor and arguments as `optimal_pacing`; `hours`: the length of
    the calling day. A floor whose figures move through the day: `live_prob`
    and `ring_time` (either or both) a sequence, one value per equal part of
    the day in order (12 for the hours of a 12-hour day); the best day then
    knows the whole day's figures in advance, as no pacer does, and
    `stationary_occupancy` and `power_occupancy` are the parts' averages.
    `start_budget`: the budget B = r C - A the day starts with (0 for a
    per-day interval; what is left from earlier days under a campaign-to-date
    one). `step`: seconds per step of the control; `sample`: seconds between
    the points of `path`. See the module docstring for the model and its
    assumptions.
    """
    parts = _parts(ring_time, live_prob)
    if parts is None:
        n, h, ring, p, limit, hours = _check_floor(agents, handle_time, ring_time, live_prob, abandon_limit, hours)
        parts = ((ring, p),)
        ring_out: float | tuple[float, ...] = ring
        live_out: float | tuple[float, ...] = p
    else:
        for ring, p in parts:
            n, h, _, _, limit, hours = _check_floor(agents, handle_time, ring, p, abandon_limit, hours)
        ring_out = tuple(r for r, _ in parts)
        live_out = tuple(q for _, q in parts)
    length = hours * 3600.0
    dt = _checks.positive("step", step)
    every = _checks.positive("sample", sample)
    b0 = _checks.non_negative("start_budget", start_budget)
    frees = [optimal_pacing(n, h, ring, p, limit) for ring, p in parts]
    powers = [optimal_pacing(n, h, ring, p, 0.0).occupancy for ring, p in parts]
    free_occ, power = float(np.mean([f.occupancy for f in frees])), float(np.mean(powers))
    if limit == 0.0 or all(p == 0.0 for _, p in parts):
        pt = EnvelopePoint(0.0, b0, 0, 0.0, power)
        cph = float(np.mean([f.power_connects_per_agent_hour for f in frees]))
        return EnvelopeDay(n, h, ring_out, live_out, limit, hours, power, cph, 0.0, free_occ, power, (pt,))
    dt, db, choice, cap, _, tables, part = _induction(n, h, parts, limit, hours, b0, dt)
    steps = choice.shape[0]
    alphas = tuple(min(a * limit, 0.999) for a in _ALPHAS)
    # forward from the day's first budget
    b, busy, lv, ab = b0, 0.0, 0.0, 0.0
    path = []
    for s in range(steps):
        occ, live, aban = tables[part[s]]
        i = 0 if not b > 0.0 else min(int(round(b / db)), choice.shape[1] - 1)
        j = int(choice[s, i])
        k = int(cap[i])
        if s == 0 or int(s * dt // every) != int((s - 1) * dt // every):
            path.append(EnvelopePoint(s * dt, b, k, alphas[j], float(occ[k, j])))
        busy += occ[k, j] * dt
        lv += live[k, j] * dt
        ab += aban[k, j] * dt
        b = max(b + (limit * live[k, j] - aban[k, j]) * dt, 0.0)
    return EnvelopeDay(
        agents=n,
        handle_time=h,
        ring_time=ring_out,
        live_prob=live_out,
        abandon_limit=limit,
        hours=float(hours),
        occupancy=busy / length,
        connects_per_agent_hour=(lv - ab) * 3600.0 / length / n,
        abandon_rate=ab / lv if lv > 0 else 0.0,
        stationary_occupancy=free_occ,
        power_occupancy=power,
        path=tuple(path),
    )
