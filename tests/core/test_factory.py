"""The core's factory: a campaign's own settings and its preset in, the effective rules and controller out."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from dialer.core.factory import TARGET_SHARE, CampaignSettings, campaign_rules
from dialer.core.ledger import Interval
from dialer.core.predictive import Predictive
from dialer.core.solver import PacingSolver
from dialer.errors import ConfigError
from dialer.rules.presets import get_preset

OSLO_MIDNIGHT = dt.datetime(2026, 11, 24, tzinfo=ZoneInfo("Europe/Oslo"))


def rules(preset: str | None = None, **settings):
    return campaign_rules(CampaignSettings(**settings), None if preset is None else get_preset(preset),
                          origin=OSLO_MIDNIGHT)


def test_without_a_preset_the_campaign_limit_per_day_and_a_target_of_80_percent():
    r = rules(mode="predictive", abandon_limit=0.03)
    assert r.limit == Fraction(3, 100) and [(iv.kind, iv.limit) for iv in r.intervals] == [("day", Fraction(3, 100))]
    assert r.pacer == {"limit": 0.03, "target": pytest.approx(TARGET_SHARE * 0.03)}
    c = r.controller()
    assert isinstance(c.pacer, Predictive)
    assert (c.pacer.limit, c.pacer.target) == (0.03, pytest.approx(0.024))
    assert [(iv.kind, iv.limit) for iv in c.ledger.intervals] == [("day", Fraction(3, 100))]


def test_the_preset_holds_a_looser_campaign_to_its_limit_and_lockout():
    r = rules("UK", mode="predictive", abandon_limit=0.05)
    assert r.preset == "UK" and r.limit == Fraction(3, 100) and r.redial_lockout == 72 * 3600.0
    assert (r.pacer["limit"], r.pacer["target"]) == (0.03, pytest.approx(0.024))
    c = r.controller()
    assert c.floor.guard.lockout == 72 * 3600.0 and c.pacer.target == pytest.approx(0.024)
    stricter = rules("UK", mode="predictive", abandon_limit=0.02, redial_lockout=100 * 3600.0)
    assert stricter.limit == Fraction(1, 50) and stricter.redial_lockout == 100 * 3600.0


def test_the_strictest_interval_sets_the_pacers_limit():
    own = (Interval.day(Fraction(1, 50)),)
    r = rules("US", mode="adaptive", intervals=own)
    assert sorted((iv.kind, iv.limit) for iv in r.intervals) == [("day", Fraction(1, 50)), ("rolling", Fraction(3, 100))]
    assert r.limit == Fraction(1, 50) and r.pacer["limit"] == 0.02


@pytest.mark.parametrize("target", [0.03, 0.04])
def test_a_target_at_or_above_the_limit_is_refused_naming_both(target):
    with pytest.raises(ConfigError, match=rf"^pacer.target must be below the campaign's abandon limit 0.03 \(with preset UK\), "
                                          rf"got {target}$"):
        rules("UK", mode="predictive", pacer={"target": target})
    assert rules("UK", mode="predictive", pacer={"target": 0.029}).pacer["target"] == 0.029


def test_a_pacer_limit_may_be_stricter_than_the_campaigns_never_looser():
    with pytest.raises(ConfigError, match=r"^pacer.limit must be at most the campaign's abandon limit 0.05, got 0.06$"):
        rules(mode="predictive", pacer={"limit": 0.06})
    r = rules(mode="predictive", pacer={"limit": 0.02})
    assert r.pacer["target"] == pytest.approx(0.016) and r.limit == Fraction(1, 20)
    with pytest.raises(ConfigError, match=r"^pacer.target must be below the pacer's limit 0.02, got 0.03$"):
        rules(mode="predictive", pacer={"limit": 0.02, "target": 0.03})


def test_the_day_length_goes_to_a_pacer_that_plans_its_day_unless_it_says():
    assert rules(mode="predictive", day_length=43200.0).pacer["day_length"] == 43200.0
    assert rules(mode="predictive", day_length=43200.0, pacer={"day_length": 3600.0}).pacer["day_length"] == 3600.0
    assert "day_length" not in rules(mode="predictive").pacer
    assert rules(mode="power", day_length=43200.0).pacer == {}
    assert rules(mode="fixed-ratio", pacer={"ratio": 2.0}, day_length=1.0).pacer == {"ratio": 2.0}


def test_describe_names_every_effective_parameter():
    d = rules("NO", mode="predictive", abandon_limit=0.04).describe()
    assert d["intervals"] == [{"name": "day", "kind": "day", "limit": 0.04, "window": None}]
    assert (d["limit"], d["redial_lockout"], d["mode"]) == (0.04, None, "predictive")
    assert d["pacer"] == Predictive(limit=0.04, target=0.032).get_params()


def test_errors_name_the_field():
    with pytest.raises(ConfigError, match=r"^mode must be one of power, fixed-ratio, poisson, adaptive, predictive, got 'turbo'$"):
        rules(mode="turbo")
    with pytest.raises(ConfigError, match=r"^abandon_limit must be a rate between 0 and 1"):
        rules(abandon_limit=1.5)
    with pytest.raises(ConfigError, match=r"^origin must be the aware instant of time 0"):
        campaign_rules(CampaignSettings(), get_preset("CA"))


def test_the_solver_is_injected_into_the_pacer_only():
    mine = PacingSolver()
    c = rules(mode="predictive").controller(solver=mine)
    assert c.pacer.pacing_solver is mine
    assert rules(mode="power").controller(solver=mine).pacer.get_params() == {}  # Power takes no solver


def test_a_lockout_shorter_than_the_presets_is_refused_naming_the_preset():
    with pytest.raises(ConfigError, match=r"^redial_lockout must be null \(for ever\) under preset NO .*got 60$"):
        rules("NO", redial_lockout=60)
    with pytest.raises(ConfigError, match=r"^redial_lockout must be at least 259200 s under preset UK, or null .*got 3600$"):
        rules("UK", redial_lockout=3600)
    assert rules("UK", redial_lockout=100 * 3600.0).redial_lockout == 100 * 3600.0
    assert rules(redial_lockout=60).redial_lockout == 60  # without a preset the campaign decides


@pytest.mark.parametrize("mode", ["fixed-ratio", "adaptive", "poisson", "predictive"])
def test_under_a_preset_every_mode_is_held_by_the_envelope_unless_told_otherwise(mode):
    own = {"fixed-ratio": {"ratio": 2.0}, "poisson": {"rate": 0.1}}.get(mode, {})
    assert rules("NO", mode=mode, pacer=own).controller().uses_envelope
    assert rules("NO", mode=mode, pacer=own).describe()["envelope"] is True
    raw = rules("NO", mode=mode, pacer=own, envelope=False)
    assert not raw.controller().uses_envelope  # the simulator's raw baselines (a scenario's envelope = false)
    plain = rules(mode=mode, pacer=own).controller()
    assert plain.uses_envelope is (mode == "predictive")  # without a preset: as the mode says
