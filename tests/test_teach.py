"""dialer.teach's EnvelopeWatch builds the controller the simulator would (a study preset's rules
included), watches without changing the run, and never sees the worst case over the limit."""

from __future__ import annotations

from fractions import Fraction

import pytest

from dialer.sim import simulate
from dialer.sim.scenario import from_dict
from dialer.teach import EnvelopeWatch, floor_dict


@pytest.mark.parametrize("preset, limit, kind", [(None, Fraction(1, 20), "day"), ("UK", Fraction(3, 100), "day"),
                                                 ("CA", Fraction(1, 20), "calendar")])
def test_the_watch_holds_the_campaign_and_preset_rules(preset, limit, kind):
    data = floor_dict(agents=6, hours=("09:00", "10:30"), mode="predictive", leads=5000)
    data["study"]["preset"] = preset
    if preset is not None:  # the preset's calling hours are read on its own clock (CA: Toronto's)
        data["study"]["timezone"] = {"UK": "Europe/London", "CA": "America/Toronto"}[preset]
    scenario = from_dict(data)
    watch = EnvelopeWatch()
    watched = simulate(scenario, 4, observer=watch, controller_factory=watch.factory)
    assert watched.to_json() == simulate(scenario, 4).to_json()  # watching changes nothing
    assert watch.limit == limit and watch.interval.kind == kind
    assert len(watch.rows) > 100 and max(row[3] for row in watch.rows) > 0  # it dialled ahead
    assert watch.breaches() == 0
