"""The simulator refereed by queueing theory: Power, FixedRatio and Poisson dialing on whole floors.

Each test builds a floor on which a `dialer.theory` result is exact, runs the
real engine (and the real controller and pacer) for many seeds, measures the
floor over a window of the calling day through the engine's `observer`, and
checks that the closed form lies inside a confidence interval computed from
those per-seed measurements.

How the bands are built (Ciw's habit, STYLE.md habit 10):

* One replication = one seed = one simulated day. The measurement window
  starts `WARMUP` after the agents log in (all at once, an empty floor) and
  ends before the agents start to leave, so neither edge of the day is
  measured. The floors below forget their empty start within a few minutes:
  for the FixedRatio floors the exact transient of the chain (p0 e^{Qt}
  from the empty floor, computed with scipy's expm_multiply) is within 1e-8
  of the stationary occupancy and abandon rate after 10 minutes and within
  1e-13 at the 30-minute cut, ten orders of magnitude below the bands;
  Power agents are renewal processes with cycles of about a minute, Poisson
  dialing an M/M/n(+D) queue with a handle time of 30 s. Seeds are
  independent replications, so no batch-means guesswork.
* A time average (occupancy) is a mean of per-seed values: a t-interval.
  A rate per live answer (abandon rate, P(wait)) is a ratio of sums over
  seeds: a t-interval with the delta-method standard error of the ratio
  estimator. Connects per agent-hour: a mean of per-seed values.
* Every test makes several checks; a Bonferroni correction keeps the whole
  test at `FAMILY` (an honest simulator fails a test with some other set of
  seeds about once in a thousand).
* Every test also asserts that its interval is narrow enough to matter
  (half-widths given beside each check), so a band can never pass by being
  wide; the Poisson test with a 2 s grace shows its band excludes the
  no-grace (Erlang B) value, i.e. it can tell the two models apart.

Seeds are fixed, so a run is reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pytest
from scipy import stats

from dialer.core.events import AgentReady, CallAbandoned, CallAnswered, CallConnected, DialPlaced, Event
from dialer.sim import simulate
from dialer.sim.scenario import from_dict
from dialer.theory import poisson_dialing, progressive, ratio_dialing

HOUR = 3600.0
OPEN, CLOSE = 9 * HOUR, 21 * HOUR
WARMUP = 0.5 * HOUR
# measured: from half an hour after the log-in to 15 minutes before the close
# (agents announce leaving one minute before the end of the shift)
WINDOW = (OPEN + WARMUP, CLOSE - 0.25 * HOUR)
WINDOW_HOURS = (WINDOW[1] - WINDOW[0]) / HOUR
FAMILY = 0.999


# --- measuring a floor through the observer ------------------------------------------------


@dataclass
class Window:
    """What happened on one floor between `start` and `end`, from the events alone.

    busy agents: +1 at CallConnected, -1 at AgentReady (the end of the wrap-up),
    so busy time is talk + wrap, the handle time of the theory. A live answer
    belongs to the window if it was answered in it; so does its fate
    (connected at once, connected after waiting, abandoned).
    """

    start: float
    end: float
    busy: int = 0
    busy_time: float = 0.0  # integral of busy agents over the window (agent-seconds)
    last: float = 0.0
    dials: int = 0
    live: int = 0
    connects: int = 0  # CallConnected in the window
    abandoned: int = 0  # live answers of the window that were abandoned
    waited: int = 0  # live answers of the window that found no idle agent
    _pending: dict = field(default_factory=dict)  # live call with no agent yet -> (answered in window?, time)

    def __call__(self, _campaign: str, ev: Event) -> None:
        t = ev.time
        lo, hi = max(self.last, self.start), min(t, self.end)
        if hi > lo:
            self.busy_time += self.busy * (hi - lo)
        self.last = t
        inside = self.start <= t < self.end
        if isinstance(ev, CallConnected):
            self.busy += 1
            self.connects += inside
            counted, answered_at = self._pending.pop(ev.call)
            self.waited += counted and t > answered_at
        elif isinstance(ev, AgentReady):
            self.busy -= 1
        elif isinstance(ev, DialPlaced):
            self.dials += inside
        elif isinstance(ev, CallAnswered) and ev.human:
            self.live += inside
            self._pending[ev.call] = (inside, t)
        elif isinstance(ev, CallAbandoned):
            counted, _ = self._pending.pop(ev.call)
            self.abandoned += counted
            self.waited += counted

    @property
    def span(self) -> float:
        return self.end - self.start


# --- confidence intervals from per-seed values --------------------------------------------------


def t_quantile(n: int, checks: int) -> float:
    """Two-sided t quantile for one of `checks` Bonferroni-corrected intervals at level FAMILY."""
    alpha = (1.0 - FAMILY) / checks
    return float(stats.t.ppf(1.0 - alpha / 2.0, n - 1))


def mean_ci(values: np.ndarray, checks: int) -> tuple[float, float]:
    """(mean, half-width) of a t-interval on per-seed values."""
    v = np.asarray(values, dtype=float)
    return float(v.mean()), t_quantile(len(v), checks) * float(v.std(ddof=1)) / math.sqrt(len(v))


def ratio_ci(num: np.ndarray, den: np.ndarray, checks: int) -> tuple[float, float]:
    """(sum num / sum den, half-width): the ratio estimator with its delta-method standard error."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    r = num.sum() / den.sum()
    resid = num - r * den
    se = math.sqrt(resid.var(ddof=1) / len(den)) / den.mean()
    return float(r), t_quantile(len(den), checks) * se


def check(name: str, estimate: tuple[float, float], theory: float, max_half_width: float) -> None:
    value, half = estimate
    assert half <= max_half_width, f"{name}: the band +-{half:.4g} is too wide to test anything (sample too small)"
    assert abs(value - theory) <= half, f"{name}: simulated {value:.5g} +- {half:.3g}, theory {theory:.5g}"


# --- floors ----------------------------------------------------------------------------------------


def floor(agents: int, campaign: dict) -> dict:
    """One campaign, one day 09:00-21:00, `agents` agents on it for the whole window."""
    base = {
        "name": "c",
        "leads": 200_000,  # never runs out: every dial is a fresh lead
        "retry": {"max_attempts": 1},  # so no retry can change the dial stream
        "outcomes": {"live": 0.3, "machine": 0.10, "busy": 0.05, "invalid": 0.03},
    }
    return {
        "study": {"name": "theory", "days": 1, "hours": ["09:00", "21:00"]},
        "agents": [{"count": agents}],
        "campaigns": [{**base, **campaign}],
    }


def exp(mean: float) -> dict:
    return {"dist": "exponential", "mean": mean}


def markovian(ring: float, talk: float) -> dict:
    """Every dial ends after an Exp(ring) time whatever its outcome; handle = Exp(talk), no wrap-up."""
    return {
        "ring": exp(ring),
        "no_answer": exp(ring),
        "busy": exp(ring),
        "invalid": exp(ring),
        "talk": exp(talk),
        "wrap": 0,
        "patience": 1000,
    }


def run_windows(sc_for_seed, seeds: range) -> list[Window]:
    out = []
    for seed in seeds:
        w = Window(*WINDOW)
        result = simulate(sc_for_seed(seed), seed=seed, observer=w)
        totals = result.campaigns[0].totals
        assert totals.attempted < result.campaigns[0].leads.total  # the list never ran out
        assert w.busy == 0  # every connected call ended with its wrap-up
        out.append(w)
    return out


# --- Power: renewal-reward on a whole floor ----------------------------------------------------


@pytest.mark.slow
def test_power_floor_occupancy_and_connects_match_renewal_reward():
    """Power on 8 agents: each agent is a renewal process dial -> ring -> (live) talk + wrap.

    Exponential durations with different means for each outcome; the theory is
    `progressive` with the probability-weighted mean time of a failed attempt
    (machine answers ring like live ones). Occupancy, connects and dials per
    agent-hour over the window.
    """
    n, p = 8, {"live": 0.3, "machine": 0.10, "busy": 0.05, "invalid": 0.03}
    ring, no_answer, busy, invalid, talk, wrap = 17.0, 30.0, 5.0, 3.0, 150.0, 30.0
    p_na = 1.0 - sum(p.values())
    failed = (p["machine"] * ring + p["busy"] * busy + p["invalid"] * invalid + p_na * no_answer) / (1 - p["live"])
    theory = progressive(talk + wrap, ring, p["live"], failed_ring_time=failed)
    sc = from_dict(
        floor(
            n,
            {
                "mode": "power",
                "outcomes": p,
                "durations": {
                    "ring": exp(ring),
                    "no_answer": exp(no_answer),
                    "busy": exp(busy),
                    "invalid": exp(invalid),
                    "talk": exp(talk),
                    "wrap": exp(wrap),
                },
            },
        )
    )
    ws = run_windows(lambda seed: sc, range(30))
    hours = n * WINDOW_HOURS
    checks = 3
    check("occupancy", mean_ci([w.busy_time / (n * w.span) for w in ws], checks), theory.occupancy, 0.01)
    check(
        "connects per agent-hour",
        mean_ci([w.connects / hours for w in ws], checks),
        theory.connects_per_agent_hour,
        0.03 * theory.connects_per_agent_hour,
    )
    check(
        "dials per agent-hour",
        mean_ci([w.dials / hours for w in ws], checks),
        theory.dials_per_agent_hour,
        0.03 * theory.dials_per_agent_hour,
    )
    assert sum(w.abandoned for w in ws) == 0



# --- FixedRatio against the exact closed-loop chain --------------------------------------------------

RATIO_FLOORS = [
    # agents, handle, ring, live, ratio: a small team with a ratio whose rounding matters
    # (1.5 x an odd number of idle agents is a half), and the reference 20-agent floor
    pytest.param(5, 120.0, 20.0, 0.3, 1.5, id="5-agents-ratio-1.5"),
    pytest.param(20, 200.0, 20.0, 0.25, 2.5, id="20-agents-ratio-2.5"),
]


@pytest.mark.slow
@pytest.mark.parametrize("agents, handle, ring, live, ratio", RATIO_FLOORS)
def test_fixed_ratio_on_a_markovian_floor_matches_the_exact_chain(agents, handle, ring, live, ratio):
    """FixedRatio against `ratio_dialing`: the floor is the chain's own.

    Every dial ends after an Exp(ring) time whatever its outcome (so an
    outcome is independent of its duration, as in the chain), handle = talk ~
    Exp(handle) with no wrap-up, and connect_limit 0: a live answer with no
    idle agent is abandoned at once. Abandon rate (per live answer) and
    occupancy over the window.
    """
    theory = ratio_dialing(agents, handle, ring, live, ratio)
    sc = from_dict(
        floor(
            agents,
            {
                "mode": "fixed-ratio",
                "pacer": {"ratio": ratio},
                "connect_limit": 0.0,
                "outcomes": {"live": live, "machine": 0.10, "busy": 0.05, "invalid": 0.03},
                "durations": markovian(ring, handle),
            },
        )
    )
    ws = run_windows(lambda seed: sc, range(30))
    checks = 2
    abandon = ratio_ci([w.abandoned for w in ws], [w.live for w in ws], checks)
    check("abandon rate", abandon, theory.abandon_rate, 0.10 * theory.abandon_rate)
    occupancy = mean_ci([w.busy_time / (agents * w.span) for w in ws], checks)
    check("occupancy", occupancy, theory.occupancy, 0.01)


# --- open-loop Poisson dialing: Erlang B, and M/M/n+D with a connect limit ------------------------

POISSON_AGENTS, POISSON_HANDLE, POISSON_LIVE = 10, 30.0, 0.6
# offered load 8 Erlangs of live answers on 10 agents
POISSON_RATE = 0.8 * POISSON_AGENTS / POISSON_HANDLE / POISSON_LIVE


@pytest.mark.slow
@pytest.mark.parametrize("grace", [0.0, 2.0], ids=["no-grace", "grace-2s"])
def test_poisson_dialing_matches_erlang_b_and_the_mmn_plus_d_queue(grace):
    """`mode = "poisson"` against `poisson_dialing`: abandon rate, P(wait), occupancy.

    Live answers are a thinned Poisson stream; exponential handle (talk, no
    wrap-up). The connect limit is the grace; patience is a constant 1000 s,
    so only the connect limit decides who is abandoned. With grace 0 that is
    Erlang B; with 2 s, the M/M/n+D queue, and the band must exclude Erlang
    B's value (the test can see the grace). The pacer draws its own arrival
    times from its `seed` parameter: it is set to the replication's seed too.
    """
    n, h, p = POISSON_AGENTS, POISSON_HANDLE, POISSON_LIVE
    theory = poisson_dialing(n, POISSON_RATE, p, h, grace=grace)

    def scenario(seed: int):
        return from_dict(
            floor(
                n,
                {
                    "mode": "poisson",
                    "pacer": {"rate": POISSON_RATE, "seed": seed},
                    "connect_limit": grace,
                    "outcomes": {"live": p, "machine": 0.10, "busy": 0.05, "invalid": 0.03},
                    "durations": markovian(20.0, h),
                },
            )
        )

    ws = run_windows(scenario, range(20))
    checks = 4
    live = np.array([w.live for w in ws], dtype=float)
    check(
        "live answers per second",
        mean_ci(live / np.array([w.span for w in ws]), checks),
        theory.live_rate,
        0.02 * theory.live_rate,
    )
    abandon = ratio_ci([w.abandoned for w in ws], live, checks)
    check("abandon rate", abandon, theory.abandon_rate, 0.10 * theory.abandon_rate)
    check("P(wait)", ratio_ci([w.waited for w in ws], live, checks), theory.p_wait, 0.10 * theory.p_wait)
    occupancy = mean_ci([w.busy_time / (n * w.span) for w in ws], checks)
    check("occupancy", occupancy, theory.occupancy, 0.01)
    if grace > 0:
        no_grace = poisson_dialing(n, POISSON_RATE, p, h, grace=0.0).abandon_rate
        assert abs(abandon[0] - no_grace) > abandon[1], "the band cannot tell the grace from none"
