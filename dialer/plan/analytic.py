"""The analytic picture of a scenario's campaigns: the means the closed forms take, and what they say.

Owns: `campaign_means` (a campaign of a scenario reduced to the means of
the Markovian dialing floor, over the study's calling window),
`campaign_theory` (Power, the quick estimate of the largest fixed ratio
within the limit, the ratio verified by simulation when one is given
(dialer.plan.safe_ratio), the campaign's own mode, the optimal-pacing bound,
optionally the best day under the promise, and whether Predictive is worth it
over Power, as tidy rows that carry their inputs) and `APPROXIMATION` (what
those figures assume, in words, for every printout).
Must not know about: the command line, printing, how runs are computed.
`dialer theory` and `dialer staff` call it.

    from dialer.sim.scenario import default
    from dialer.plan.analytic import campaign_theory
    sc = default(); campaign_theory(sc, sc.campaigns[0])["rows"][-1]["model"]   # "optimal"
"""

from __future__ import annotations

import math
from typing import Any

from dialer.errors import bad
from dialer.plan.safe_ratio import SPREAD_SDS, worth_predictive
from dialer.units import HOUR, pct


APPROXIMATION = (
    "Markovian approximation from the scenario's means: one pool of agents (the mean number logged in "
    "during the calling window), hourly answer probabilities averaged over the window (the best day, \"optimal, day\", takes them hour by hour), exponential ring "
    "and handle times with the scenario's means, every dial ringing the mean time to outcome of all dials "
    "for the fixed-ratio and optimal figures. Power's figures are exact for any durations "
    "(renewal-reward); the others are exact on a Markovian floor only. A live answer that finds no idle "
    "agent is abandoned at once (the connect limit counts as 0). On a real floor (a connect limit, "
    "lognormal talk, ring times that depend on the outcome) the estimate's fixed ratio can break the limit "
    "on most days: it is a quick estimate, and the verified ratio beside it (simulated days of the scenario's own "
    "floor, with a tolerance bound on their spread) is the one to copy. Trunk lines are not modelled (the last column says how many are held on average). Figures are long-run "
    "averages: single days scatter around them."
)


def clock(secs: float) -> str:
    """Seconds after midnight as "HH:MM"."""
    h, m = divmod(int(round(secs / 60.0)), 60)
    return f"{h:02d}:{m:02d}"


def overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Seconds two (start, end) spans share."""
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def campaign_means(scenario: Any, campaign: Any) -> dict[str, Any]:
    """The means of one campaign that the closed forms take, over the study's calling window.

    agents_mean: agents logged in on the campaign, time-weighted over the
    window (shifts clipped to it); agents: that rounded (at least 1 when any
    agent works in the window, else 0). Outcome probabilities: the hourly
    values in force, weighted by each hour's share of the window.
    handle_time = talk + wrap means; ring_time = the mean ring of a live
    answer; failed_ring_time = the probability-weighted mean time of a
    failed attempt (machine answers ring like live ones, busy and invalid
    tones, the no-answer timeout); dial_time = the probability-weighted mean
    time to outcome of all dials, the one ring time of the ratio and optimal
    models.
    """
    from dialer.sim.compliance import campaign_rules

    rules = campaign_rules(scenario, campaign)  # the limit held: the campaign's, or its study preset's if lower
    window = tuple(scenario.study.hours)
    span = window[1] - window[0]
    agent_seconds = sum(g.count * overlap(scenario.shift_of(g), window) for g in scenario.agents_of(campaign.name))
    agents_mean = agent_seconds / span
    agents = 0 if agents_mean == 0 else max(1, int(math.floor(agents_mean + 0.5)))
    weighted = [0.0, 0.0, 0.0, 0.0]  # live, machine, busy, invalid: probability x seconds of the window
    for hour in range(24):
        secs = overlap((hour * HOUR, (hour + 1) * HOUR), window)
        if secs > 0:
            for i, p in enumerate(campaign.outcomes.for_hour(hour)):
                weighted[i] += secs * p
    live, machine, busy, invalid = (x / span for x in weighted)
    no_answer = max(0.0, 1.0 - live - machine - busy - invalid)
    d = campaign.durations
    failed_total = _failed_time(d, machine, busy, invalid, no_answer)
    failed = failed_total / (1.0 - live) if live < 1.0 else None
    return {
        "window": [clock(window[0]), clock(window[1])],
        "agents_mean": agents_mean,
        "agents": agents,
        "live_prob": live,
        "machine_prob": machine,
        "busy_prob": busy,
        "invalid_prob": invalid,
        "no_answer_prob": no_answer,
        "talk_time": float(d.talk.mean),
        "wrap_time": float(d.wrap.mean),
        "handle_time": float(d.talk.mean + d.wrap.mean),
        "ring_time": float(d.ring.mean),
        "failed_ring_time": failed,
        "dial_time": live * d.ring.mean + failed_total,
        "abandon_limit": float(rules.limit),
        "connect_limit": float(rules.connect_limit),
        "lines": campaign.lines,
    }


def _failed_time(d: Any, machine: float, busy: float, invalid: float, no_answer: float) -> float:
    """The failed attempts' part of a dial's mean time to outcome, probability-weighted (durations `d`):
    machine answers ring like live ones, busy and invalid tones, no answer rings until the timeout."""
    return machine * d.ring.mean + busy * d.busy.mean + invalid * d.invalid.mean + no_answer * d.no_answer.mean


def hour_inputs(scenario: Any, campaign: Any) -> tuple[list[float], list[float]]:
    """(dial times, live probabilities): one per whole hour the calling window touches, in order.

    The same figures as `campaign_means`'s `dial_time` and `live_prob`, but
    hour by hour (what `envelope_day` takes for a floor whose answers move
    through the day). A window that starts or ends inside an hour counts that
    hour as one part, like a whole one.
    """
    window = tuple(scenario.study.hours)
    d = campaign.durations
    rings, lives = [], []
    for hour in range(int(window[0] // HOUR), math.ceil(window[1] / HOUR)):
        if overlap((hour * HOUR, (hour + 1) * HOUR), window) <= 0:
            continue
        live, machine, busy, invalid = campaign.outcomes.for_hour(hour)
        rest = max(0.0, 1.0 - live - machine - busy - invalid)
        rings.append(float(live * d.ring.mean + _failed_time(d, machine, busy, invalid, rest)))
        lives.append(float(live))
    return rings, lives


def _lines_in_use(m: dict[str, Any], dials_per_agent_hour: float, occupancy: float) -> float:
    """Mean trunk lines held: dials in flight (Little: dial rate x time to outcome) plus calls in talk."""
    n = m["agents"]
    in_flight = dials_per_agent_hour * n / HOUR * m["dial_time"]
    talking = n * occupancy * (m["talk_time"] / m["handle_time"] if m["handle_time"] > 0 else 0.0)
    return in_flight + talking


def campaign_theory(scenario: Any, campaign: Any, day: bool = False, verified: Any = None) -> dict[str, Any]:
    """One campaign's analytic picture: its means, Power, fixed ratios, the optimal bound (a tidy dict).

    `day`: add the best day under the per-day promise (`envelope_day`, a
    fluid estimate that starts the calling window with no budget; seconds,
    not milliseconds). `verified`: a `dialer.plan.safe_ratio.VerifiedRatio`
    of this campaign, shown as the row "fixed-ratio, verified" beside the
    quick estimate, its days' spread feeding the small-team rule.
    """
    from dialer.sim.compliance import campaign_rules
    from dialer.theory import campaign_picture, poisson_dialing, ratio_dialing

    m = campaign_means(scenario, campaign)
    out: dict[str, Any] = {"name": campaign.name, "mode": campaign.mode, "inputs": m}
    if m["agents"] == 0:
        out["note"] = "no agent works on this campaign during the calling window"
        return out
    where = f"campaign {campaign.name!r}: "
    if m["handle_time"] <= 0:
        raise bad(where + "the mean of durations.talk + durations.wrap", m["handle_time"], "positive for the theory")
    if m["dial_time"] <= 0:
        raise bad(where + "the mean time to outcome of a dial", m["dial_time"], "positive for the theory")
    n, h, p, limit, ring = m["agents"], m["handle_time"], m["live_prob"], m["abandon_limit"], m["dial_time"]
    pic = campaign_picture(n, h, ring, p, limit)
    # Power needs no Markovian approximation: by renewal-reward its cycle on the real floor is
    # p (ring_time + h) + (1 - p) failed_ring_time = p h + dial_time, the very cycle of Power on the
    # one-ring-time floor of the other models. So campaign_picture's Power row is exact, and every
    # gain below compares like with like.
    pw = pic["power"]
    power_cph = pw["connects_per_agent_hour"]

    def gain(cph: float) -> float | None:
        return cph / power_cph - 1.0 if power_cph > 0 else None

    rows = [
        {
            "model": "power",
            "setting": "1 reserved dial per idle agent",
            "abandon_rate": 0.0,
            "occupancy": pw["occupancy"],
            "connects_per_agent_hour": power_cph,
            "dials_per_agent_hour": pw["dials_per_agent_hour"],
            "gain_over_power": 0.0 if power_cph > 0 else None,
            "lines_in_use": _lines_in_use(m, pw["dials_per_agent_hour"], pw["occupancy"]),
        }
    ]
    r = pic["ratio"]
    rows.append(
        {
            "model": "fixed-ratio, estimate",
            "setting": f"{r['ratio']:g} x idle agents: the quick estimate (Markovian), not verified",
            "ratio": r["ratio"],
            "abandon_rate": r["abandon_rate"],
            "occupancy": r["occupancy"],
            "connects_per_agent_hour": r["connects_per_agent_hour"],
            "dials_per_agent_hour": r["dials_per_agent_hour"],
            "gain_over_power": gain(r["connects_per_agent_hour"]),
            "lines_in_use": _lines_in_use(m, r["dials_per_agent_hour"], r["occupancy"]),
        }
    )
    if verified is not None and verified.ratio is not None:
        v = verified
        rows.append(
            {
                "model": "fixed-ratio, verified",
                "setting": f"{v.ratio:g} x idle agents: the largest safe in {v.days} simulated days (none over "
                           f"{pct(limit)}; {100 * v.coverage:g} % of days under it at {100 * v.confidence:g} %)",
                "ratio": v.ratio,
                "abandon_rate": v.abandon_rate,
                "occupancy": v.utilization,
                "connects_per_agent_hour": v.connects_per_agent_hour,
                "dials_per_agent_hour": v.dials_per_agent_hour,
                "gain_over_power": gain(v.connects_per_agent_hour),
                "lines_in_use": _lines_in_use(m, v.dials_per_agent_hour, v.utilization),
                "worst_day_abandon_rate": v.worst_day_abandon_rate,
                "days": v.days,
                "days_over": 0,
                "tolerance_bound": v.tolerance.bound,
            }
        )
    if verified is not None:
        out["verified_ratio"] = verified.as_dict()
    params = campaign_rules(scenario, campaign).make_pacer().get_params()  # with the campaign's limit and target
    if campaign.mode == "fixed-ratio":
        own = ratio_dialing(n, h, ring, p, params["ratio"])
        rows.append(
            {
                "model": "fixed-ratio",
                "setting": f"{own.ratio:g} x idle agents, this campaign's ratio",
                "ratio": own.ratio,
                "abandon_rate": own.abandon_rate,
                "occupancy": own.occupancy,
                "connects_per_agent_hour": own.connects_per_agent_hour,
                "dials_per_agent_hour": own.dials_per_agent_hour,
                "gain_over_power": gain(own.connects_per_agent_hour),
                "lines_in_use": _lines_in_use(m, own.dials_per_agent_hour, own.occupancy),
            }
        )
    elif campaign.mode == "poisson":
        # open loop: the connect limit is the grace of the M/M/n+D queue
        op = poisson_dialing(n, params["rate"], p, h, grace=m["connect_limit"])
        dials_h = HOUR * op.dial_rate / n
        rows.append(
            {
                "model": "poisson",
                "setting": f"{op.dial_rate:g} dials/s open loop, this campaign's (grace {op.grace:g} s)",
                "dial_rate": op.dial_rate,
                "abandon_rate": op.abandon_rate,
                "occupancy": op.occupancy,
                "connects_per_agent_hour": op.connects_per_agent_hour,
                "dials_per_agent_hour": dials_h,
                "gain_over_power": gain(op.connects_per_agent_hour),
                "lines_in_use": _lines_in_use(m, dials_h, op.occupancy),
            }
        )
    o = pic["optimal"]
    rows.append(
        {
            "model": "optimal",
            "setting": f"the best any pacer can do within {pct(limit)}",
            "abandon_rate": o["abandon_rate"],
            "occupancy": o["occupancy"],
            "connects_per_agent_hour": o["connects_per_agent_hour"],
            "dials_per_agent_hour": o["dials_per_agent_hour"],
            "gain_over_power": gain(o["connects_per_agent_hour"]),
            "lines_in_use": _lines_in_use(m, o["dials_per_agent_hour"], o["occupancy"]),
        }
    )
    if day:
        from dialer.theory import envelope_day

        window = scenario.study.hours
        hours = (window[1] - window[0]) / HOUR
        rings, lives = hour_inputs(scenario, campaign)
        moving = len(lives) > 1 and (len(set(rings)) > 1 or len(set(lives)) > 1)
        # a floor whose answers move through the day: the best day knowing each hour's figures (the
        # averaged day credits the morning with answers it does not have), the averaged one beside it
        ed = envelope_day(n, h, rings if moving else ring, lives if moving else p, limit, hours=hours)
        averaged = envelope_day(n, h, ring, p, limit, hours=hours) if moving else ed
        ed_dials = ed.connects_per_agent_hour / (p * (1.0 - ed.abandon_rate)) if p > 0 else 0.0
        rows.append(
            {
                "model": "optimal, day",
                "setting": f"the best day any pacer can have keeping {pct(limit)} at every moment (estimate"
                + (", hour by hour)" if moving else ")"),
                "abandon_rate": ed.abandon_rate,
                "occupancy": ed.occupancy,
                "connects_per_agent_hour": ed.connects_per_agent_hour,
                "dials_per_agent_hour": ed_dials,
                "gain_over_power": gain(ed.connects_per_agent_hour),
                "lines_in_use": _lines_in_use(m, ed_dials, ed.occupancy),
                "kept_share": ed.kept_share,
                "hour_by_hour": moving,
                "averaged_occupancy": averaged.occupancy,
            }
        )
    out["rows"] = rows
    spread = None
    if verified is not None and verified.utilization_sd is not None and verified.utilization_sd == verified.utilization_sd:
        spread = SPREAD_SDS * verified.utilization_sd
    out["predictive_worth_it"] = worth_predictive(o["occupancy"] - pw["occupancy"], spread)
    out["optimal_policy"] = {
        "dials_in_flight_by_busy_agents": o["policy"],
        "randomised_state": o["randomised_state"],
        "randomised_dial_prob": o["randomised_dial_prob"],
        "multiplier": o["multiplier"],
    }
    return out
