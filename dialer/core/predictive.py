"""The Predictive pacer: the optimal-pacing bound's own policy, learnt online, inside the envelope.

Owns: `Predictive` (mode "predictive"), its policy cache, and its feedback
on the day's abandon rate.

Rule 1: this pacer may be as aggressive as its model says is wise, because
it never has the last word: it sets ``uses_envelope = True`` and the
controller caps every unreserved dial (and every reserved dial that takes a
committed idle agent) by the ledger's worst-case headroom. Whatever the model
gets wrong, the abandon limit cannot be broken; a wrong model only costs
productivity or budget.
Rule 2: no clock, no randomness, no I/O, nothing of SimPy or the service.
Time comes from events and `now`; what it knows of the world comes from
`FloorEstimates` (dialer.core.estimators), fed by `observe`.

How a decision is made (the picture: the Markovian dialing floor of
`dialer.theory.optimal_pacing`, with one ring time for every outcome):

1. From the estimates at `now`: live-answer probability p, mean time from
   dial to outcome R (all outcomes: the Markovian floor's ring time), handle
   time H (talk + wrap). Agents N: logged in, not paused, not leaving. Busy
   b: talking or wrapping up, not leaving.
2. The effective target rate: the configured `target` plus the day's unspent
   (or overspent) budget, spread over the connects expected in the next
   `horizon` seconds: ``target + (target * C - A) / expected connects``,
   clamped to [`target` / 4, `max_target`]. Early in a day, with few
   connects, one abandon moves it a lot; later the day's rate is held at
   `target`, so the budget is spread over the day instead of burnt in the
   morning, and a model that is systematically cautious (or bold) is corrected.
3. The policy (dials in flight to keep, per number of busy agents 0..N) of
   the bound solved for (N, R/H, p, effective target), all quantised, from a
   cache (a solve happens only when the quantised inputs change to a value
   never seen; time scales out, so the key holds R/H, not R and H).
4. Dials wanted now: policy[b] minus the dials in flight (ringing, reserved
   or not, and live answers waiting for an agent). All planned unreserved:
   the controller caps them by the envelope's slack. When the envelope is
   tight (early in the day: A = C = 0 gives no headroom at all) an
   unreserved dial is allowed only while a committed idle agent covers it,
   which is Power dialing with the agents pooled: each idle agent gets a
   dial, and whichever agent is idle takes whichever call is answered. A
   reserved plan would spend the very same slack (the reserved agent stops
   covering), so the ramp of the morning is as short as Power's connects
   make it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Sequence

from dialer.core.estimators import EstimatorConfig, FloorEstimates
from dialer.core.pacers import NOTHING, Pacer, Plan

if TYPE_CHECKING:
    from dialer.core.events import Event
    from dialer.core.floor import Floor


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _positive(x: Any) -> bool:
    return _number(x) and x > 0


def _rate(x: Any) -> bool:
    return _number(x) and 0.0 < x < 1.0


def _solve_with_theory(agents: int, handle_time: float, ring_time: float, live_prob: float, target: float) -> tuple[int, ...]:
    from dialer.theory import optimal_pacing

    res = optimal_pacing(agents, handle_time, ring_time, live_prob, target)
    return tuple(int(max(0, math.ceil(x - 1e-9))) for x in res.policy)


#: (agents, handle, ring, live, target) -> dials in flight per busy agents 0..agents.
#: Module-level so a benchmark or a test can swap it; shared by every Predictive pacer.
SOLVER: Callable[[int, float, float, float, float], Sequence[int]] = _solve_with_theory

# the policy cache, shared by every Predictive pacer in the process: the policy is a pure
# function of its quantised key, so sharing it changes no decision, only the time taken
_POLICIES: dict[tuple[int, int, int, int], tuple[int, ...]] = {}
_HANDLE_UNIT = 100.0  # the handle time the solver is called with (time scales out)
_TARGET_STEP = 0.0025  # quantisation of the effective target
_AGENTS_SETTLE = 5.0  # seconds an agent count must hold before a policy is solved for it


def _shifted(pol: tuple[int, ...], agents: int) -> tuple[int, ...]:
    """A policy for `len(pol) - 1` agents carried over to `agents`, row by number of idle agents."""
    n = len(pol) - 1
    if n == agents:
        return pol
    slope = pol[0] - pol[1] if n >= 1 else 1
    out = []
    for b in range(agents + 1):
        idle = agents - b
        if idle <= n:
            out.append(pol[n - idle])
        else:
            out.append(pol[0] + (idle - n) * max(slope, 1))
    return tuple(out)


def _nearest(key: tuple[int, int, int, int], known: dict) -> tuple[int, ...]:
    """The known policy nearest to `key` (agents count most), shifted to `key`'s agents; else Power."""
    agents = key[0]
    best = None
    best_d = math.inf
    for k in known:
        d = 4 * abs(k[0] - agents) + abs(k[1] - key[1]) + abs(k[2] - key[2]) + abs(k[3] - key[3])
        if d < best_d:
            best, best_d = k, d
    if best is None:
        return tuple(max(0, agents - b) for b in range(agents + 1))
    return _shifted(known[best], agents)


def clear_policy_cache() -> None:
    _POLICIES.clear()


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
    - resolution: relative step of the quantisation of p and R/H in the policy
      cache (0.04: inputs 4 % apart share a policy).
    - settle: seconds the inputs must have differed from those of the policy in
      use before a new policy is solved (the nearest known one is used meanwhile).
    - age_aware: count each ringing dial by its chance of still reaching a person
      given its age (from the learnt ring-time histograms) instead of as 1.
      Measured on the default scenario: no gain, so off by default.
    - ramp: while fewer than `ramp` calls are established today, cap the
      effective target at target x max(1/4, established / ramp). 0: off.
      Measured: within noise, so off by default.
    - lookahead: treat busy agents expected to be free within `lookahead` x the
      mean live ring time as idle. 0: off. Measured: worse (the envelope binds
      and abandons rise), kept for experiments.
    """

    mode = "predictive"
    uses_envelope = True
    _constraints: ClassVar[dict[str, tuple[Callable[[Any], bool], str]]] = {
        "target": (_rate, "a rate strictly between 0 and 1"),
        "limit": (_rate, "a rate strictly between 0 and 1"),
        "max_target": (lambda x: x is None or _rate(x), "a rate strictly between 0 and 1, or None"),
        "live_prob": (_rate, "a probability strictly between 0 and 1"),
        "ring_time": (_positive, "a positive number of seconds"),
        "handle_time": (_positive, "a positive number of seconds"),
        "prior_weight": (_positive, "a positive number of observations"),
        "half_life": (_positive, "a positive number of seconds"),
        "horizon": (_positive, "a positive number of seconds"),
        "resolution": (lambda x: _number(x) and 0.0 < x <= 0.5, "a relative step in (0, 0.5]"),
        "settle": (lambda x: _number(x) and x >= 0, "a non-negative number of seconds"),
        "age_aware": (lambda x: isinstance(x, bool), "true or false"),
        "ramp": (lambda x: _number(x) and x >= 0, "a non-negative number of connects"),
        "lookahead": (lambda x: _number(x) and 0 <= x <= 5, "a number in [0, 5] (times the mean live ring time)"),
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
        resolution: float = 0.04,
        settle: float = 120.0,
        age_aware: bool = False,
        ramp: float = 0.0,
        lookahead: float = 0.0,
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
        self.ramp = ramp
        self.lookahead = lookahead
        self._key_now: tuple[int, int, int, int] | None = None
        self._pol_now: tuple[int, ...] = ()
        self._since: float | None = None  # since when the inputs differ from the policy's in use
        self._agents = -1
        self._agents_since = -math.inf
        self._known_agents: set[int] = set()
        self._known: dict[tuple[int, int, int, int], tuple[int, ...]] = {}
        self._est: FloorEstimates | None = None
        self._est_params: tuple | None = None
        self.last: dict[str, float] = {}  # what the last plan was based on (for logs and tests)

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

    # --- deciding ---------------------------------------------------------------------

    def effective_target(self, floor: "Floor", now: float, agents: int, handle: float) -> float:
        """The target corrected by the day's unspent (positive) or overspent budget."""
        target = self.target
        hi = self.limit if self.max_target is None else self.max_target
        s = floor.days.get(floor.day_of(now))
        if s is None or agents <= 0:
            return min(target, hi)
        slack = target * s.connected - s.abandoned
        expected = max(agents * self.horizon / handle, 1.0)
        eff = target + slack / expected
        if self.ramp > 0 and s.connected < self.ramp:
            # early in the day every abandon costs the headroom of 1 / limit connects: be careful
            # while the headroom is being built, so that it is built fast
            eff = min(eff, target * max(0.25, s.connected / self.ramp))
        return min(max(eff, target / 4.0), hi)

    def _key(self, agents: int, handle: float, ring: float, live: float, target: float) -> tuple[int, int, int, int]:
        step = math.log1p(self.resolution)
        kp = int(round(math.log(live) / step))
        kr = int(round(math.log(ring / handle) / step))
        kt = max(1, int(round(target / _TARGET_STEP)))
        return (agents, kp, kr, kt)

    def _solve(self, key: tuple[int, int, int, int]) -> tuple[int, ...]:
        agents, kp, kr, kt = key
        step = math.log1p(self.resolution)
        q_live = min(math.exp(kp * step), 0.999)
        q_ring = math.exp(kr * step) * _HANDLE_UNIT
        power = tuple(max(0, agents - b) for b in range(agents + 1))
        try:
            pol = tuple(int(x) for x in SOLVER(agents, _HANDLE_UNIT, q_ring, q_live, kt * _TARGET_STEP))
        except Exception:  # a solver failure must never become a failed decision: cover the idle (Power)
            return power
        return pol if len(pol) == agents + 1 else power

    def policy(self, agents: int, handle: float, ring: float, live: float, target: float) -> tuple[int, ...]:
        """The exact (solved, cached) policy for these inputs, quantised: dials in flight per busy 0..agents."""
        key = self._key(agents, handle, ring, live, target)
        pol = _POLICIES.get(key)
        if pol is None:
            pol = _POLICIES[key] = self._solve(key)
        return pol

    def _policy_at(self, key: tuple[int, int, int, int], now: float) -> tuple[int, ...]:
        """The policy for `key`, solving only when it is worth it; else the nearest known one.

        A policy is solved when none is known for this many agents and the
        count has held for `_AGENTS_SETTLE` seconds (not at every login of a
        shift start), or when the inputs have differed from those of the
        policy in use for `settle` seconds. Only the policies this pacer has
        itself settled on count as known, so its decisions depend on its
        events alone, never on what other pacers in the process have solved
        (the shared cache only saves time).
        """
        if key == self._key_now:
            return self._pol_now
        agents = key[0]
        if agents != self._agents:
            self._agents, self._agents_since = agents, now
        known = self._known
        pol = known.get(key)
        if pol is None:
            if self._since is None:
                self._since = now
            fresh = agents not in self._known_agents and now - self._agents_since >= _AGENTS_SETTLE
            if fresh or now - self._since >= self.settle:
                pol = _POLICIES.get(key)
                if pol is None:
                    pol = _POLICIES[key] = self._solve(key)
                known[key] = pol
                self._known_agents.add(agents)
        if pol is None:
            # not worth a solve yet: the nearest known policy carried over to this many agents
            return _nearest(key, known)
        self._key_now, self._pol_now = key, pol
        self._since = None
        return pol

    def plan(self, floor: "Floor", now: float) -> Plan:
        est = self.estimates
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
        ring = est.ring_time(now)
        handle = est.handle_time(now)
        target = self.effective_target(floor, now, agents, handle)
        pol = self._policy_at(self._key(agents, handle, ring, live, target), now)
        target_in_flight = float(pol[busy])
        if self.lookahead > 0 and busy > 0:
            # agents likely to be free when a dial placed now is answered count as idle
            free = est.expected_free_within(now, self.lookahead * est.ring_live(now))
            b_eff = max(busy - free, 0.0)
            lo = int(b_eff)
            frac = b_eff - lo
            target_in_flight = pol[lo] * (1.0 - frac) + pol[min(lo + 1, agents)] * frac
        want = int(math.floor(target_in_flight - in_flight + 0.5))
        self.last = {
            "agents": agents,
            "busy": busy,
            "in_flight": in_flight,
            "live_prob": live,
            "ring_time": ring,
            "handle_time": handle,
            "target": target,
            "policy": pol[busy],
        }
        return Plan(unreserved=want) if want > 0 else NOTHING
