"""Online estimators of the call floor, learnt from events only.

Owns: what a learning pacer needs to know about the world, estimated as the
events go by: the chance a dial reaches a person (by hour of day, with
drift), the time from dial to outcome (live answers and the rest
separately), talk and wrap-up times, and from them the chance that a busy
agent frees up within the next `s` seconds.
Rule 1: time comes only from the events' timestamps (and `now` arguments).
No clock, no randomness, no I/O, nothing of SimPy or the service.
Rule 2: an estimator only *reads* the floor; it never changes it. It keeps its
own small books keyed by call and agent id, because the floor forgets a call
when it ends.

    est = FloorEstimates(EstimatorConfig(live_prob=0.25, ring_time=20.0, handle_time=200.0))
    est.observe(DialPlaced(time=0.0, call=1, lead="a"), floor)
    est.observe(CallAnswered(time=14.0, call=1, human=True), floor)
    est.live_prob(14.0)      # a little above the prior 0.25

How forgetting and the priors work: docs/design.md, "The Predictive pacer".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Hashable

from scipy.special import gammaincc

from dialer.checks import Real, check, positive
from dialer.core import events
from dialer.core.events import Event
from dialer.units import DAY, HOUR

if TYPE_CHECKING:
    from dialer.core.floor import Floor

_BIN = 2.0  # seconds per bin of the ring-time histograms
_BINS = 60  # the last bin (120 s and more) is open-ended


def hour_of(t: float) -> int:
    """Hour of the day (0-23) of a time in seconds since a local midnight."""
    return int((t % DAY) // HOUR)


def _decay(dt: float, half_life: float) -> float:
    if dt <= 0.0:
        return 1.0
    return 2.0 ** (-dt / half_life)


class DecayedRatio:
    """A proportion (hits / trials) with time-based forgetting and a fixed prior.

    value = (hits + prior_weight * prior) / (trials + prior_weight), both sums
    decayed with `half_life` seconds.
    """

    __slots__ = ("prior", "prior_weight", "half_life", "hits", "trials", "t")

    def __init__(self, prior: float, prior_weight: float, half_life: float) -> None:
        self.prior = prior
        self.prior_weight = prior_weight
        self.half_life = half_life
        self.hits = 0.0
        self.trials = 0.0
        self.t = -math.inf

    def _advance(self, t: float) -> None:
        if t > self.t:
            if self.trials:
                f = _decay(t - self.t, self.half_life)
                self.hits *= f
                self.trials *= f
            self.t = t

    def add(self, t: float, hit: float, weight: float = 1.0) -> None:
        self._advance(t)
        self.hits += hit * weight
        self.trials += weight

    def weight(self, t: float) -> float:
        """Effective number of (decayed) observations behind the estimate at `t`."""
        if t > self.t and self.trials:
            return self.trials * _decay(t - self.t, self.half_life)
        return self.trials

    def value(self, t: float, prior: float | None = None) -> float:
        """The estimate at time `t` (no change of state); `prior` overrides the configured one."""
        p0 = self.prior if prior is None else prior
        f = _decay(t - self.t, self.half_life) if (t > self.t and self.trials) else 1.0
        return (self.hits * f + self.prior_weight * p0) / (self.trials * f + self.prior_weight)


class DecayedMoments:
    """Mean and variance of a duration with time-based forgetting and a prior.

    The prior counts as `prior_weight` observations with mean `prior_mean` and
    coefficient of variation `prior_cv`.
    """

    __slots__ = ("prior_mean", "prior_m2", "prior_weight", "half_life", "n", "s1", "s2", "t")

    def __init__(self, prior_mean: float, prior_weight: float, half_life: float, prior_cv: float = 1.0) -> None:
        self.prior_mean = prior_mean
        self.prior_m2 = prior_mean * prior_mean * (1.0 + prior_cv * prior_cv)
        self.prior_weight = prior_weight
        self.half_life = half_life
        self.n = 0.0
        self.s1 = 0.0
        self.s2 = 0.0
        self.t = -math.inf

    def add(self, t: float, x: float) -> None:
        if t > self.t:
            if self.n:
                f = _decay(t - self.t, self.half_life)
                self.n *= f
                self.s1 *= f
                self.s2 *= f
            self.t = t
        self.n += 1.0
        self.s1 += x
        self.s2 += x * x

    def _sums(self, t: float) -> tuple[float, float, float]:
        f = _decay(t - self.t, self.half_life) if (t > self.t and self.n) else 1.0
        w = self.prior_weight
        return self.n * f + w, self.s1 * f + w * self.prior_mean, self.s2 * f + w * self.prior_m2

    def weight(self, t: float) -> float:
        return self._sums(t)[0] - self.prior_weight

    def mean(self, t: float) -> float:
        n, s1, _ = self._sums(t)
        return s1 / n

    def variance(self, t: float) -> float:
        n, s1, s2 = self._sums(t)
        m = s1 / n
        return max(s2 / n - m * m, 0.0)


class HourProfile:
    """How the live-answer rate of each hour of the day compares with the day's, learnt over days.

    `factor(h)` is (live rate in hour h) / (live rate over all hours), shrunk
    towards 1 by `shrink` pseudo-dials, from the dials of past days only (the
    current day's dials join the profile when the day changes), so it is 1
    everywhere on the first day.
    """

    __slots__ = ("shrink", "_hits", "_trials", "_day", "_today_hits", "_today_trials", "_factor")

    def __init__(self, shrink: float = 200.0) -> None:
        self.shrink = shrink
        self._hits = [0.0] * 24
        self._trials = [0.0] * 24
        self._today_hits = [0.0] * 24
        self._today_trials = [0.0] * 24
        self._day: int | None = None
        self._factor = [1.0] * 24

    def add(self, t: float, hit: float) -> None:
        day = int(t // DAY)
        if self._day is None:
            self._day = day
        elif day != self._day:
            self._roll()
            self._day = day
        h = hour_of(t)
        self._today_hits[h] += hit
        self._today_trials[h] += 1.0

    def _roll(self) -> None:
        for h in range(24):
            self._hits[h] += self._today_hits[h]
            self._trials[h] += self._today_trials[h]
            self._today_hits[h] = 0.0
            self._today_trials[h] = 0.0
        total_t = sum(self._trials)
        if total_t <= 0:
            return
        overall = sum(self._hits) / total_t
        if overall <= 0:
            return
        k = self.shrink
        for h in range(24):
            n = self._trials[h]
            rate = (self._hits[h] + k * overall) / (n + k)
            self._factor[h] = rate / overall

    def factor(self, h: int) -> float:
        return self._factor[h]


class DecayedHistogram:
    """A time-forgotten histogram of durations in `width`-second bins (the last bin is open-ended).

    Forgetting is lazy: a weight added at `t` counts 2 ** ((t - t_ref) / half_life)
    and the reference moves (every count rescaled) when the weights grow large.
    """

    __slots__ = ("width", "half_life", "counts", "t_ref", "version")

    def __init__(self, width: float, bins: int, half_life: float) -> None:
        self.width = width
        self.half_life = half_life
        self.counts = [0.0] * bins
        self.t_ref = None
        self.version = 0

    def add(self, t: float, x: float) -> None:
        if self.t_ref is None:
            self.t_ref = t
        g = (t - self.t_ref) / self.half_life
        if g > 200.0:
            f = 2.0 ** (-g)
            self.counts = [c * f for c in self.counts]
            self.t_ref, g = t, 0.0
        i = min(int(max(x, 0.0) / self.width), len(self.counts) - 1)
        self.counts[i] += 2.0**g
        self.version += 1

    def survival(self) -> list[float]:
        """S[i]: the share of durations at least i * width (S[0] = 1); all ones when empty."""
        total = sum(self.counts)
        n = len(self.counts)
        if total <= 0:
            return [1.0] * n
        out = [0.0] * n
        rest = total
        for i in range(n):
            out[i] = rest / total
            rest -= self.counts[i]
        return out


#: what each field of `EstimatorConfig` must be
_CONFIG = {
    "live_prob": Real(0, 1, closed="neither", noun="probability"),
    **{name: positive() for name in ("ring_time", "handle_time", "half_life", "prior_weight", "handle_cv")},
    "wrap_share": Real(0, 1, closed="left"),
    "change_z": Real(0, math.inf, closed="left", noun="number of standard errors"),
}

#: the fast estimate of the live rate forgets this many times faster than the slow one
_FAST = 6.0


@dataclass(frozen=True, kw_only=True, slots=True)
class EstimatorConfig:
    """Priors and forgetting of `FloorEstimates`; every time in seconds.

    `ring_time` is the prior mean time from dial to *any* outcome; the live
    answers are assumed to take the same time a priori. `prior_weight` is the
    number of pseudo-observations each prior counts for.
    """

    live_prob: float = 0.25
    ring_time: float = 20.0
    handle_time: float = 200.0
    wrap_share: float = 0.15  # prior share of the handle time spent in wrap-up
    half_life: float = 1500.0
    prior_weight: float = 30.0
    handle_cv: float = 0.7  # prior coefficient of variation of talk + wrap
    hour_profile: bool = True
    change_z: float = 5.0  # a live rate this many standard errors off the recent one is a change (0: never)

    def __post_init__(self) -> None:
        for name, constraint in _CONFIG.items():
            check(name, getattr(self, name), constraint)


class FloorEstimates:
    """Every estimate a learning pacer needs, fed by `observe(event, floor)`.

    Estimates (all at a time `t`, which only ages the data):
      live_prob(t)         chance a dial is answered by a person (hour-aware)
      ring_live(t)         mean seconds from dial to a live answer
      ring_other(t)        mean seconds from dial to any other outcome
      ring_time(t)         mean seconds from dial to its outcome, whatever it is
      talk_time(t), wrap_time(t), handle_time(t) (= talk + wrap)
      free_prob(elapsed, s, t)   chance a busy agent `elapsed` s into its handle time is free within s
      expected_free_within(now, s)  sum of that over the busy agents
    """

    def __init__(self, config: EstimatorConfig | None = None) -> None:
        cfg = config or EstimatorConfig()
        self.config = cfg
        hl, w = cfg.half_life, cfg.prior_weight
        self._live = DecayedRatio(cfg.live_prob, w, hl)
        self._live_fast = DecayedRatio(cfg.live_prob, w, hl / _FAST)
        self.changes = 0  # how many times the live rate was taken to have changed
        self._profile = HourProfile() if cfg.hour_profile else None
        self._ring_live = DecayedMoments(cfg.ring_time, w, hl, prior_cv=0.5)
        self._ring_other = DecayedMoments(cfg.ring_time, w, hl, prior_cv=0.5)
        talk0 = cfg.handle_time * (1.0 - cfg.wrap_share)
        wrap0 = cfg.handle_time * cfg.wrap_share
        self._talk = DecayedMoments(talk0, w, hl, prior_cv=cfg.handle_cv)
        self._wrap = DecayedMoments(max(wrap0, 1e-9), w, hl, prior_cv=0.5)
        self._hist_live = DecayedHistogram(_BIN, _BINS, hl)
        self._hist_other = DecayedHistogram(_BIN, _BINS, hl)
        self._weights: list[float] | None = None
        self._weights_key: tuple = ()
        # bookkeeping by id
        self._dialled: dict[Hashable, float] = {}  # call -> dial time
        self._answered: dict[Hashable, float] = {}  # call -> live answer time (until connected/abandoned)
        self._talking: dict[Hashable, tuple[Hashable, float]] = {}  # call -> (agent, connect time)
        self._handle_start: dict[Hashable, float] = {}  # busy agent -> connect time
        self._wrap_start: dict[Hashable, float] = {}  # agent in wrap-up -> call end time
        self.leaving: set[Hashable] = set()  # agents who announced they will log out
        self.dials = 0
        self.live_answers = 0
        self.last_time = -math.inf

    # --- learning ------------------------------------------------------------------

    def observe(self, ev: Event, floor: "Floor | None" = None) -> None:
        """Learn from one event that the floor has already accepted."""
        t = ev.time
        self.last_time = t
        tp = type(ev)
        if tp is events.DialPlaced:
            self._dialled[ev.call] = t
            self.dials += 1
        elif tp is events.CallAnswered:
            t0 = self._dialled.pop(ev.call, None)
            if ev.human:
                self.live_answers += 1
                self._answered[ev.call] = t
            self._resolved(t, ev.human, None if t0 is None else t - t0)
        elif tp is events.CallFailed:
            t0 = self._dialled.pop(ev.call, None)
            self._resolved(t, False, None if t0 is None else t - t0)
        elif tp is events.CallConnected:
            self._answered.pop(ev.call, None)
            self._talking[ev.call] = (ev.agent, t)
            self._handle_start[ev.agent] = t
        elif tp is events.CallAbandoned:
            self._answered.pop(ev.call, None)
        elif tp is events.CallEnded:
            rec = self._talking.pop(ev.call, None)
            if rec is not None:
                agent, t0 = rec
                self._talk.add(t, t - t0)
                self._wrap_start[agent] = t
        elif tp is events.AgentReady:
            t0 = self._wrap_start.pop(ev.agent, None)
            self._handle_start.pop(ev.agent, None)
            if t0 is not None:
                self._wrap.add(t, t - t0)
        elif tp is events.AgentLeaving:
            self.leaving.add(ev.agent)
        elif tp is events.AgentLoggedOut:
            self.leaving.discard(ev.agent)
            self._handle_start.pop(ev.agent, None)
            self._wrap_start.pop(ev.agent, None)

    def _resolved(self, t: float, live: bool, duration: float | None) -> None:
        hit = 1.0 if live else 0.0
        if self._profile is not None:
            self._profile.add(t, hit)
            f = self._profile.factor(hour_of(t))
            # learn the de-seasonalised level: a live answer in a good hour counts less
            x = hit / f if f > 0 else hit
        else:
            x = hit
        self._live.add(t, x)
        if self.config.change_z > 0.0:
            self._live_fast.add(t, x)
            self._trust_change(t)
        if duration is not None:
            (self._ring_live if live else self._ring_other).add(t, duration)
            (self._hist_live if live else self._hist_other).add(t, duration)

    def _trust_change(self, t: float) -> None:
        """When the live rate of the last minutes is `change_z` standard errors off the long memory's, the
        floor has changed: the long memory restarts from the recent dials.

        Both are the dials' own rates (no prior): a morning that answers less than the prior said is
        learnt, not a change."""
        fast, slow = self._live_fast, self._live
        n = fast.trials
        if n < 50.0:
            return
        q = fast.hits / n
        # dials at a steady rate, weights halving every h and h / c: the recent rate's variance is
        # q (1 - q) / (2 n), and its difference from the long memory's (the two share the recent dials)
        # has 1 + 1/c - 4/(c + 1) of that
        se = math.sqrt(max(q * (1.0 - q), 1e-4) / (2.0 * n) * (1.0 + 1.0 / _FAST - 4.0 / (_FAST + 1.0)))
        if abs(q - slow.hits / slow.trials) > self.config.change_z * se:
            slow.hits, slow.trials, slow.t = fast.hits, fast.trials, fast.t
            self.changes += 1

    # --- estimates ---------------------------------------------------------------------

    def live_prob(self, t: float) -> float:
        p = self._live.value(t)
        if self._profile is not None:
            p *= self._profile.factor(hour_of(t))
        return min(max(p, 1e-4), 0.9999)

    def live_weight(self, t: float) -> float:
        """Effective number of resolved dials behind `live_prob` at `t` (priors excluded)."""
        return self._live.weight(t)

    def ring_live(self, t: float) -> float:
        return self._ring_live.mean(t)

    def ring_other(self, t: float) -> float:
        return self._ring_other.mean(t)

    def ring_time(self, t: float) -> float:
        """Mean seconds from dial to outcome, any outcome: the one ring time of a Markovian floor."""
        p = self.live_prob(t)
        return p * self.ring_live(t) + (1.0 - p) * self.ring_other(t)

    def talk_time(self, t: float) -> float:
        return self._talk.mean(t)

    def wrap_time(self, t: float) -> float:
        return self._wrap.mean(t)

    def handle_time(self, t: float) -> float:
        return self._talk.mean(t) + self._wrap.mean(t)

    def handle_variance(self, t: float) -> float:
        return self._talk.variance(t) + self._wrap.variance(t)

    def handle_shape(self, t: float) -> tuple[float, float]:
        """(shape k, scale theta) of the gamma fitted to talk + wrap by moments."""
        m = self.handle_time(t)
        v = max(self.handle_variance(t), 1e-9 * m * m)
        k = m * m / v
        return k, v / m

    def free_prob(self, elapsed: float, s: float, t: float) -> float:
        """Chance an agent `elapsed` seconds into talk + wrap is free within the next `s` seconds.

        From a gamma fit of the handle time: (S(e) - S(e + s)) / S(e).
        """
        if s <= 0:
            return 0.0
        k, theta = self.handle_shape(t)
        e = max(elapsed, 0.0)
        s_e = float(gammaincc(k, e / theta))
        if s_e <= 1e-12:
            return 1.0
        return max(0.0, min(1.0, 1.0 - float(gammaincc(k, (e + s) / theta)) / s_e))

    def expected_free_within(self, now: float, s: float) -> float:
        """Expected number of busy (talking or wrapping) agents who will be free within `s` seconds."""
        return sum(self.free_prob(now - t0, s, now) for t0 in self._handle_start.values())

    def live_weights(self, t: float) -> list[float]:
        """w[i]: chance that a dial still ringing at age i * 2 s will yet be answered live, over p.

        1 for a fresh dial; lower for an old one when failures (ring timeout)
        outlast live answers. From the decayed histograms of the time to
        outcome of live answers and of the rest: p S_live / (p S_live + (1 - p) S_other) / p.
        Recomputed only when a histogram changed by 50 outcomes or p moved.
        """
        p = self.live_prob(t)
        key = (self._hist_live.version // 50, self._hist_other.version // 50, round(p, 3))
        if self._weights is None or key != self._weights_key:
            sl = self._hist_live.survival()
            so = self._hist_other.survival()
            nl = sum(self._hist_live.counts)
            no = sum(self._hist_other.counts)
            w = []
            for i in range(_BINS):
                # a bin with too little data keeps the memoryless weight 1
                if nl < 50 or no < 50:
                    w.append(1.0)
                    continue
                a, b = p * sl[i], (1.0 - p) * so[i]
                w.append(a / (a + b) / p if a + b > 0 else 0.0)
            self._weights = w
            self._weights_key = key
        return self._weights

    def effective_in_flight(self, now: float) -> float:
        """Dials ringing now, each counted by its chance of still reaching a person relative to a fresh dial."""
        w = self.live_weights(now)
        last = _BINS - 1
        total = 0.0
        for t0 in self._dialled.values():
            i = int((now - t0) / _BIN)
            total += w[i if i < last else last]
        return total

    def snapshot(self, t: float) -> dict[str, float]:
        """Every estimate at `t`, as a plain dict (for logs and reports)."""
        return {
            "live_prob": self.live_prob(t),
            "ring_live": self.ring_live(t),
            "ring_other": self.ring_other(t),
            "ring_time": self.ring_time(t),
            "talk_time": self.talk_time(t),
            "wrap_time": self.wrap_time(t),
            "handle_time": self.handle_time(t),
            "live_weight": self.live_weight(t),
        }
