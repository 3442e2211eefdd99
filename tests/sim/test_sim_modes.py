"""Every registered dialing mode on the simulated floor.

- Conservation, dials inside the calling window and the redial-after-abandon rule
  (norm 4.6.3) hold for every mode, on generated scenarios (as in
  test_sim_properties.py, which covers Power and FixedRatio in depth).
- The scenario's `abandon_limit` is what an envelope pacer is held to: no day
  over the campaign's own limit (docs/design.md, "The abandon envelope"), also
  when agents' shifts end inside the calling window.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dialer.core.modes import PACERS
from dialer.sim import simulate
from dialer.sim.scenario import default, from_dict
from test_sim_properties import _check_run, scenarios  # noqa: E402  (sibling test module)

OTHER_MODES = [m for m in PACERS if m not in ("power", "fixed-ratio")]
ENVELOPE_MODES = [m for m, cls in PACERS.items() if cls.uses_envelope]


@pytest.mark.parametrize("mode", OTHER_MODES)
@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_every_mode_conserves_calls_and_respects_the_window(mode, data, seed, make_recorder):
    scenario = data.draw(scenarios("power"))
    scenario["campaigns"][0]["mode"] = mode  # the mode's default parameters
    _check_run(scenario, seed, make_recorder())


@pytest.mark.slow
@pytest.mark.skipif(not ENVELOPE_MODES, reason="no envelope pacer registered yet")
@pytest.mark.parametrize("mode", ENVELOPE_MODES)
@pytest.mark.parametrize("limit", [0.05, 0.02])
def test_an_envelope_pacer_keeps_every_day_within_the_campaigns_own_limit(mode, limit):
    """The default floor (40 agents, a 12 h day) with the campaign's limit set in the scenario."""
    data = default().model_dump()
    data["campaigns"][0].update(mode=mode, abandon_limit=limit)
    sc = from_dict(data)
    camp = simulate(sc, seed=8).campaigns[0]
    assert camp.abandon_limit == limit
    assert camp.totals.connected > 1000
    for d in camp.days:
        assert d.stats.abandoned <= limit * d.stats.connected, (d.date, d.stats.abandoned, d.stats.connected)
    assert camp.violation_days == 0



@pytest.mark.parametrize("mode", ["fixed-ratio", "adaptive", "predictive"])
def test_numbers_abandoned_before_are_redialled_with_an_agent_reserved_and_the_list_finishes(mode, make_recorder):
    """Norm 4.6.3 in every mode: a number abandoned before is dialled again only with an agent
    reserved (on a spare agent, before the pacer's decision), so a list is worked through even
    by a pacer that never reserves; before, such numbers waited for ever outside Power mode."""
    data = default().model_dump()
    data["study"]["days"] = 3  # Tuesday to Thursday
    data["campaigns"][0].update(mode=mode, leads=6000, pacer={"ratio": 2.5} if mode == "fixed-ratio" else {})
    rec = make_recorder()
    camp = simulate(from_dict(data), 3, observer=rec).campaigns[0]
    lead_of = {ev.call: ev.lead for _, ev in rec.dials}
    abandoned_at: dict = {}
    for ev in rec.abandons:
        abandoned_at.setdefault(lead_of[ev.call], ev.time)
    redials = [ev for _, ev in rec.dials if ev.lead in abandoned_at and ev.time > abandoned_at[ev.lead]]
    assert len(abandoned_at) > 10 and len(redials) > 10
    assert all(ev.agent is not None for ev in redials)
    assert camp.leads.pending_retry == 0 and camp.leads.never_dialled == 0  # the list is finished


# Found by Hypothesis: six agents, one of whom leaves in the middle of the calling window.
SHIFT_END = {
    "study": {"name": "shift end", "days": 1, "hours": ["08:16", "09:16"]},
    "agents": [{"name": "g0", "count": 5}, {"name": "g1", "count": 1, "shift": ["07:46", "09:02"]}],
    "campaigns": [
        {
            "name": "c",
            "leads": 5000,
            "connect_limit": 0.0,
            "outcomes": {"live": 0.75, "machine": 0.0, "busy": 0.0, "invalid": 0.0},
            "durations": {
                "ring": {"dist": "uniform", "low": 1, "high": 25},
                "no_answer": 30,
                "talk": 0,
                "wrap": 27,
                "patience": 0,
            },
            "retry": {"max_attempts": 1},
        }
    ],
}


@pytest.mark.skipif(not ENVELOPE_MODES, reason="no envelope pacer registered yet")
@pytest.mark.parametrize("mode", ENVELOPE_MODES)
@pytest.mark.parametrize("leave_notice", [60.0, 0.0])
def test_shift_ends_do_not_break_the_envelope(mode, leave_notice):
    """docs/design.md: the limit "must never be exceeded". An agent whose shift ends covers nothing
    from the moment it announces leaving; every dial in flight (ring <= 25 s, connect limit 0)
    is resolved well within a 60 s notice, and with no notice the dialer must still not let a
    committed agent go while the envelope counts on it (`Controller.releasable`)."""
    data = {**SHIFT_END, "agents": [dict(g, leave_notice=leave_notice) for g in SHIFT_END["agents"]]}
    data["campaigns"] = [dict(SHIFT_END["campaigns"][0], mode=mode)]
    sc = from_dict(data)
    for seed in range(6):
        camp = simulate(sc, seed=seed).campaigns[0]
        (day,) = camp.days
        assert day.stats.connected > 300
        assert day.stats.abandoned <= camp.abandon_limit * day.stats.connected, (
            seed,
            day.stats.abandoned,
            day.stats.connected,
        )


class _Seen(Exception):
    pass


@pytest.mark.parametrize("pacer, hours, expected", [({}, ["09:00", "21:00"], 43200.0), ({}, ["10:00", "16:30"], 23400.0),
                                                    ({"day_length": 3600.0}, ["09:00", "21:00"], 3600.0)])
def test_the_simulator_tells_a_predictive_pacer_how_long_its_calling_day_is(pacer, hours, expected):
    """The engine knows the calling window: the pacer gets its length (for its day plan) unless the scenario says."""
    data = default().model_dump()
    data["study"].update(hours=hours, preset=None)  # (a preset stops dialling a ring timeout before the close)
    data["campaigns"][0].update(mode="predictive", pacer=pacer)
    seen = {}

    def factory(campaign, rules):
        seen.update(rules.pacer)
        raise _Seen  # what the controller would be built from is all this test needs

    with pytest.raises(_Seen):
        simulate(from_dict(data), seed=0, controller_factory=factory)
    assert seen["day_length"] == expected
