"""The Predictive pacer: the optimal-pacing bound's own policy, learnt online, inside the envelope.

Owns: `Predictive` (mode "predictive"): the policy it reads off a lattice of
solved policies for what it has learnt of the floor, its day plan, and its
feedback on the day's abandon rate.
Rule 1: it may be as aggressive as its model says is wise, because it never
has the last word: ``uses_envelope = True``, and the controller caps every
decision by the ledger's worst case. A wrong model costs productivity or
budget, never the limit.
Rule 2: no clock, no randomness, no I/O, nothing of SimPy or the service.
Time comes from events and `now`; what it knows of the world comes from
`FloorEstimates` (dialer.core.estimators), fed by `observe`.

    c = Controller(Predictive(target=0.04, limit=0.05, day_length=12 * 3600.0), abandon_limit=0.05)

How a decision is made, step by step, and how the day plan caps the target:
docs/design.md, "The Predictive pacer"; what each step is worth: BENCHMARKS.md.
"""

from __future__ import annotations

import math
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from dialer.checks import Constraint, Flag, OrNone, Real, non_negative, positive
from dialer.core.estimators import EstimatorConfig, FloorEstimates
from dialer.core.events import DialPlaced
from dialer.core.pacers import NOTHING, Pacer, Plan
from dialer.core.solver import PENDING, TARGET_STEP, DayPlanLike, PacingSolver, power_policy, shared

if TYPE_CHECKING:
    from dialer.core.events import Event
    from dialer.core.floor import Floor


_RATE = Real(0, 1, closed="neither", noun="rate")


#: the day's length is rounded to this many minutes for the plan
_PLAN_MINUTES = 15
#: seconds a day plan is kept before the estimates choose it again
_REPLAN = 900.0


class Predictive(Pacer):
    """Predictive dialing at a target abandon rate, learnt online, capped by the abandon envelope.

    Parameters (keyword-only, stored verbatim):

    - target: the abandon rate to aim at over a day (the ledger enforces `limit`).
    - limit: the limit the campaign is held to (only bounds `max_target`'s default).
    - max_target: the highest effective target the day's feedback may reach
      (None: `limit`).
    - live_prob, ring_time, handle_time: priors (probability a dial reaches a
      person; mean seconds from dial to any outcome; talk + wrap seconds).
    - prior_weight: how many observations each prior counts for.
    - half_life: seconds of forgetting of every estimate (drift tracking).
    - horizon: seconds of expected connects over which the day's unspent or
      overspent budget is spread.
    - resolution: relative step of the policy lattice in p and in R/H (0.15:
      policies are solved at live probabilities 15 % apart and interpolated
      between; the target's lattice step is 0.01).
    - settle: seconds a number of agents this pacer has not used before must
      hold before policies are solved for it (Power meanwhile), so that the
      one-by-one logins of a shift start do not cost a solve per count.
    - age_aware: count each ringing dial by its chance of still reaching a person
      given its age (from the learnt ring-time histograms) instead of as 1,
      and picture the floor with the live ring time (docs/design.md, "The Predictive
      pacer", step 1). False:
      every dial counts 1 and the ring time is that of any outcome.
    - day_length: seconds of calling in a day (opening to the last dial), or
      None when the pacer is not told. The simulator tells it the calling
      window's length; a live dialer may set it. The day is taken to begin at
      its first dial (before it, at the decision being made).
    - day_plan: with a `day_length`, cap the effective target by the day plan
      (docs/design.md, "The day plan"): the abandon rate `envelope_day`'s best
      day runs at with this much of the day left and this budget. False: the
      cap is `max_target` all day.
    - solver: the `dialer.core.solver.PacingSolver` that solves and keeps the
      policies and day plans (None: the process's shared one). Not a
      parameter of the pacing (`get_params` leaves it out): any solver of
      the same code gives the same decisions; a factory or a test injects it.
    """

    mode = "predictive"
    uses_envelope = True
    injected = ("solver",)
    _constraints: ClassVar[dict[str, Constraint]] = {
        "target": _RATE,
        "limit": _RATE,
        "max_target": OrNone(_RATE),
        "live_prob": Real(0, 1, closed="neither", noun="probability"),
        "ring_time": positive("number of seconds"),
        "handle_time": positive("number of seconds"),
        "prior_weight": positive("number of observations"),
        "half_life": positive("number of seconds"),
        "horizon": positive("number of seconds"),
        "resolution": Real(0.01, 0.5, noun="relative step"),
        "settle": non_negative("number of seconds"),
        "age_aware": Flag(),
        "day_length": OrNone(Real(0, 86400, closed="right", noun="number of seconds")),
        "day_plan": Flag(),
    }

    def __init__(
        self,
        *,
        target: float = 0.04,
        limit: float = 0.05,
        max_target: float | None = None,
        live_prob: float = 0.25,
        ring_time: float = 22.0,
        handle_time: float = 200.0,
        prior_weight: float = 30.0,
        half_life: float = 1500.0,
        horizon: float = 3600.0,
        resolution: float = 0.15,
        settle: float = 5.0,
        age_aware: bool = True,
        day_length: float | None = None,
        day_plan: bool = True,
        solver: PacingSolver | None = None,
    ) -> None:
        self.target = target
        self.limit = limit
        self.max_target = max_target
        self.live_prob = live_prob
        self.ring_time = ring_time
        self.handle_time = handle_time
        self.prior_weight = prior_weight
        self.half_life = half_life
        self.horizon = horizon
        self.resolution = resolution
        self.settle = settle
        self.age_aware = age_aware
        self.day_length = day_length
        self.day_plan = day_plan
        self.solver = solver
        self._day_key: Any = None  # the accounting day of the last decision
        self._dial_day: Any = None  # the accounting day of the last dial, and when its first dial was placed
        self._day_start = 0.0
        self._plan_for: tuple = ()  # (day, agents) the plan in use was chosen for, and the plan
        self._plan: DayPlanLike | None = None
        self._plan_key: tuple | None = None  # what the plan in use was asked for: (key, step) of `PacingSolver.day_plan`
        self._plan_until = -math.inf
        self._cell: tuple | None = None  # the lattice cell in use and its corner policies
        self._corners: tuple[tuple[int, ...], ...] = ()
        self._agents = -1
        self._agents_since = -math.inf
        self._known_agents: set[int] = set()
        self._est: FloorEstimates | None = None
        self._est_params: tuple | None = None
        self.last: dict[str, float] = {}  # what the last plan was based on (for logs and tests)

    def __getstate__(self) -> dict[str, Any]:
        # the solver is a collaborator, not the pacer's state: a copy (a pickle) leaves it out and
        # solves with the shared one unless given another
        state = dict(self.__dict__)
        state["solver"] = None
        return state

    @property
    def pacing_solver(self) -> PacingSolver:
        """The solver this pacer solves and keeps its policies and day plans with (`solver`, or the shared one)."""
        return shared() if self.solver is None else self.solver

    def check_params(self) -> None:
        super().check_params()
        if self.target > self.limit:
            from dialer.errors import bad

            raise bad("pacer.target", self.target, f"at most the limit {self.limit!r} (mode {self.mode!r})")

    # --- learning -------------------------------------------------------------------

    @property
    def estimates(self) -> FloorEstimates:
        """The online estimates, built from the parameters on first use.

        Changing a prior or the half-life afterwards builds them afresh (learning
        starts again), so no estimate ever rests on a stale parameter.
        """
        key = (self.live_prob, self.ring_time, self.handle_time, self.half_life, self.prior_weight)
        if self._est is None or self._est_params != key:
            self._est = FloorEstimates(
                EstimatorConfig(
                    live_prob=self.live_prob,
                    ring_time=self.ring_time,
                    handle_time=self.handle_time,
                    half_life=self.half_life,
                    prior_weight=self.prior_weight,
                )
            )
            self._est_params = key
        return self._est

    def observe(self, event: "Event", floor: "Floor") -> None:
        self.estimates.observe(event, floor)
        if self.day_length is not None and type(event) is DialPlaced:
            day = floor.day_of(event.time)
            if day != self._dial_day:  # the day's first dial: its calling day began then
                self._dial_day, self._day_start = day, event.time

    # --- deciding ---------------------------------------------------------------------

    def effective_target(self, now: float, floor: "Floor", agents: int, handle: float,
                         ceiling: float | None = None) -> float:
        """The target corrected by the day's unspent (positive) or overspent budget.

        `ceiling` (the day plan's rate, if any) replaces the limit as the
        highest it may be; an explicit `max_target` still caps it.
        """
        target = self.target
        if ceiling is None:
            hi = self.limit if self.max_target is None else self.max_target
        else:
            hi = ceiling if self.max_target is None else min(ceiling, self.max_target)
        s = floor.days.get(floor.day_of(now))
        if s is None or agents <= 0:
            return min(target, hi)
        slack = target * s.connected - s.abandoned
        expected = max(agents * self.horizon / handle, 1.0)
        eff = target + slack / expected
        return min(max(eff, target / 4.0), hi)

    def ceiling(self, now: float, floor: "Floor", agents: int, handle: float, ring: float, live: float) -> float | None:
        """The day plan's abandon rate now (None: no plan; PENDING: being solved), from the time left in
        the day and its budget.

        A plan is chosen at the day's first decision with policies, and
        again every `_REPLAN` seconds or when the number of agents changes:
        the one at the point of a lattice twice as coarse as the policies'
        nearest the estimates then (agents, live probability, ring / handle)
        for the calling day's length (rounded to a quarter hour). Plans are
        solved once per process and shared, as policies are. In between,
        the plan is read with the time left and the budget
        B = limit x established - abandoned calls today.
        """
        if not self.day_plan or self.day_length is None:
            return None
        if self._plan_for != (self._day_key, agents) or now >= self._plan_until:
            u, v, _ = self._coordinates(handle, ring, live, self.target)
            minutes = max(_PLAN_MINUTES, min(24 * 60, _PLAN_MINUTES * round(self.day_length / 60.0 / _PLAN_MINUTES)))
            key = (agents, 2 * round(u / 2), 2 * round(v / 2), float(self.limit), minutes)
            plan = self.pacing_solver.day_plan(key, math.log1p(self.resolution))
            if plan is PENDING:  # being solved elsewhere: no plan yet, ask again at the next decision
                self._plan = None
                return PENDING
            self._plan, self._plan_key = plan, (key, math.log1p(self.resolution))
            self._plan_for, self._plan_until = (self._day_key, agents), now + _REPLAN
        if self._plan is None:
            return None
        s = floor.days.get(self._day_key)
        budget = 0.0 if s is None else self.limit * s.connected - s.abandoned
        start = self._day_start if self._dial_day == self._day_key else now  # no dial yet today: it starts now
        return self._plan.rate(start + self.day_length - now, budget)

    def _coordinates(self, handle: float, ring: float, live: float, target: float) -> tuple[float, float, float]:
        """Where (live, ring / handle, target) lies on the lattice, in lattice steps."""
        step = math.log1p(self.resolution)
        w = max(target / TARGET_STEP, 1.0)
        return math.log(live) / step, math.log(ring / handle) / step, w

    def _interpolate(self, agents: int, u: float, v: float, w: float) -> tuple[tuple[float, ...], tuple[tuple[int, ...], ...]]:
        """Weights and policies of the 8 lattice corners around (u, v, w) (trilinear interpolation)."""
        i, j, k = math.floor(u), math.floor(v), math.floor(w)
        fu, fv, fw = u - i, v - j, w - k
        weights = tuple(
            (fu if di else 1.0 - fu) * (fv if dj else 1.0 - fv) * (fw if dk else 1.0 - fw)
            for di in (0, 1)
            for dj in (0, 1)
            for dk in (0, 1)
        )
        cell = (agents, i, j, k)
        if cell != self._cell:
            self._cell, self._corners = cell, (None,) * 8  # type: ignore[assignment]
        corners = self._corners
        if any(c is None and wt > 0.0 for c, wt in zip(corners, weights)):
            # solve (or fetch) only the corners that carry weight: at the lattice's edge
            # (the target at its cap, say) the far corners are never needed
            step = math.log1p(self.resolution)
            solve = self.pacing_solver.policy
            corners = tuple(
                c if c is not None or wt == 0.0 else solve((agents, i + n // 4, j + n // 2 % 2, k + n % 2), step)
                for n, (c, wt) in enumerate(zip(corners, weights))
            )
            if PENDING in corners:
                # being solved elsewhere: Power at those corners for now (no policy keeps fewer dials in
                # flight than one per idle agent), asked again at the next decision
                self._corners = tuple(None if c is PENDING else c for c in corners)
                power = power_policy(agents)
                return weights, tuple(power if c is PENDING else c for c in corners)
            self._corners = corners
        return weights, corners

    @staticmethod
    def _mix(weights: tuple[float, ...], corners: tuple[tuple[int, ...], ...], busy: int) -> float:
        """Dials in flight to keep with `busy` agents busy: the corners' policies, weighted."""
        return sum(wt * pol[busy] for wt, pol in zip(weights, corners) if wt)

    def policy(self, agents: int, handle: float, ring: float, live: float, target: float) -> tuple[float, ...]:
        """Dials in flight to keep per busy agents 0..agents: the lattice policies interpolated at these inputs."""
        weights, corners = self._interpolate(agents, *self._coordinates(handle, ring, live, target))
        return tuple(self._mix(weights, corners, b) for b in range(agents + 1))

    def _settled(self, agents: int, now: float) -> bool:
        """Whether policies may be solved for this many agents.

        At a shift start agents log in one by one; a count this pacer has
        never used must hold `settle` seconds before its policies are
        solved (Power meanwhile), so that a login burst does not cost a solve
        per count. This depends on the pacer's own events only, so its
        decisions never depend on what the shared cache happens to hold.
        """
        if agents != self._agents:
            self._agents, self._agents_since = agents, now
        if agents in self._known_agents:
            return True
        if now - self._agents_since >= self.settle:
            self._known_agents.add(agents)
            return True
        return False

    def plan(self, now: float, floor: "Floor") -> Plan:
        est = self.estimates
        if self.day_length is not None:
            self._day_key = floor.day_of(now)
        leaving_busy = 0
        leaving_active = 0
        if est.leaving:
            from dialer.core.floor import AgentState

            for a in est.leaving:
                st = floor.agent_state(a)
                if st is AgentState.TALKING or st is AgentState.WRAP:
                    leaving_busy += 1
                    leaving_active += 1
                elif st is not AgentState.OUT and st is not AgentState.PAUSED:
                    leaving_active += 1
        agents = floor.logged_in - floor.paused - leaving_active
        if agents <= 0:
            return NOTHING
        busy = min(max(floor.busy - leaving_busy, 0), agents)
        if self.age_aware:
            in_flight = est.effective_in_flight(now) + floor.live_waiting
        else:
            in_flight = floor.ringing_unreserved + floor.ringing_reserved + floor.live_waiting
        live = est.live_prob(now)
        # age-aware, every dial counts as a fresh one would, and a fresh dial reaches a person after
        # the live ring time: the Markovian floor that matches that count has that ring time
        ring = est.ring_live(now) if self.age_aware else est.ring_time(now)
        handle = est.handle_time(now)
        settled = self._settled(agents, now)
        # the plan pictures the envelope's floor, where a dial holds its room until any outcome
        ceiling = self.ceiling(now, floor, agents, handle, est.ring_time(now), live) if settled else None
        if ceiling is PENDING:  # the day plan is being solved elsewhere: Power until it is there
            ceiling, settled = None, False
        target = self.effective_target(now, floor, agents, handle, ceiling)
        if settled:
            weights, corners = self._interpolate(agents, *self._coordinates(handle, ring, live, target))
            at: Callable[[int], float] = partial(self._mix, weights, corners)
        else:
            at = lambda b: float(agents - b)  # noqa: E731  (Power: one dial per idle agent)
        target_in_flight = at(busy)
        want = int(math.floor(target_in_flight - in_flight + 0.5))
        self.last = {
            "agents": agents,
            "busy": busy,
            "in_flight": in_flight,
            "live_prob": live,
            "ring_time": ring,
            "handle_time": handle,
            "target": target,
            "ceiling": math.nan if ceiling is None else ceiling,
            "policy": target_in_flight,
        }
        return Plan(unreserved=want) if want > 0 else NOTHING
