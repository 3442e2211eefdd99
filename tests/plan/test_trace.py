"""The trace recorder: its books agree with the engine's, and it changes nothing about the run."""

from __future__ import annotations

import pytest

from dialer.sim import scenario, simulate
from dialer.sim.trace import AGENT_STATES, TraceRecorder, simulate_traced


@pytest.mark.parametrize("mode", ["power", "predictive"])
def test_trace_agrees_with_the_day_statistics(small, mode):
    small["campaigns"][0]["mode"] = mode
    sc = scenario.from_dict(small)
    plain = simulate(sc, 2)
    traced, trace, log = simulate_traced(sc, 2, interval=60.0, calls=True)
    assert traced.to_json() == plain.to_json()  # observing changes nothing
    rows = trace.rows
    c = plain.campaigns[0]
    for day, d in enumerate(c.days):
        last = [r for r in rows if r["day"] == day][-1]
        s = d.stats
        assert (last["dials"], last["connected"], last["abandoned"], last["transferred"]) == (
            s.attempted, s.connected, s.abandoned, s.transferred)
        assert last["budget"] == pytest.approx(0.05 * s.connected - s.abandoned)
    for r in rows:
        assert r["logged_in"] == pytest.approx(sum(r[k] for k in AGENT_STATES))
        assert r["logged_in"] <= 4 + 1e-9 and min(r[k] for k in AGENT_STATES) >= -1e-9
        assert r["time"] % 60.0 == 0.0 or r is rows[-1] or r["time"] == rows[rows.index(r) - 1]["time"] + 60.0
        if mode == "power":  # every dial of Power has its own agent waiting for it
            assert r["ringing"] == pytest.approx(r["reserved"]) and r["abandoned"] == 0
    # the call log: one record per dial, each finished with an outcome
    assert len(log.records) == c.totals.attempted
    assert all(rec["outcome"] is not None and rec["end"] >= rec["dial"] for rec in log.records)
    assert sum(rec["outcome"] == "abandoned" for rec in log.records) == c.totals.abandoned


def test_gauges_are_time_averages(small):
    """Agent-seconds logged in, from the samples, equal the engine's logged-in time."""
    sc = scenario.from_dict(small)
    result, trace, _ = simulate_traced(sc, 1, interval=300.0)
    rows = trace.rows
    assert all(0 < r["span"] <= 300.0 for r in rows)
    total = sum(r["logged_in"] * r["span"] for r in rows)
    logged = result.campaigns[0].totals.logged_in_time
    assert total == pytest.approx(logged, rel=1e-9)


def test_interval_must_be_positive(small):
    from dialer.errors import ConfigError

    with pytest.raises(ConfigError, match="interval must be a positive number of seconds, got 0"):
        TraceRecorder(scenario.from_dict(small), 0)
