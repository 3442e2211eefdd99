"""One campaign, one controller: the simulator, the live service and `dialer theory` hold it to the same rules.

For every preset (and none), a few limits and every mode, the controller `dialer simulate` builds and the
one a live campaign with the same settings builds have the same ledger (every interval, its limit, window
and key), the same redial lockout and a pacer of the same class with the same effective parameters.
"""

from __future__ import annotations

import json

import pytest

from dialer.cli import main
from dialer.core.modes import PACERS
from dialer.live import CampaignConfig, LiveCampaign
from dialer.sim import scenario
from dialer.sim.compliance import campaign_rules, sim_instant

DAY_LENGTH = 10 * 3600.0


def floor(preset: str | None, mode: str, limit: float, pacer: dict) -> scenario.Scenario:
    d = scenario.default().model_dump()
    d["study"].update(preset=preset, days=1)
    d["campaigns"][0].update(mode=mode, abandon_limit=limit, pacer=pacer)
    return scenario.from_dict(d)


SAMPLES = (0.0, 86400.0 * 6.5, 86400.0 * 40, 86400.0 * 400)  # times at which a calendar interval's key is read


def held(controller) -> tuple:
    ivs = tuple((iv.name, iv.kind, iv.limit, iv.window, tuple(iv.key(t) for t in SAMPLES) if callable(iv.key) else iv.key)
                for iv in controller.ledger.intervals)
    return ivs, controller.floor.guard.lockout, type(controller.pacer), controller.pacer.get_params()


@pytest.mark.parametrize("preset", [None, "NO", "UK", "US", "CA"])
@pytest.mark.parametrize("limit", [0.02, 0.03, 0.05])
@pytest.mark.parametrize("mode", list(PACERS))
def test_the_simulator_and_a_live_campaign_build_the_same_controller(preset, limit, mode):
    own = {"fixed-ratio": {"ratio": 1.4}, "poisson": {"rate": 0.2, "seed": 7}}.get(mode, {})
    sc = floor(preset, mode, limit, own)
    camp = sc.campaigns[0]
    sim = campaign_rules(sc, camp, day_length=DAY_LENGTH)  # what the engine hands the core's factory
    pacer = dict(own, day_length=DAY_LENGTH) if mode == "predictive" else own
    origin = None if preset is None else sim_instant(sc, 0.0).isoformat()
    # a campaign under a preset needs its time zone (and under NO its caller ID): as `dialer emulate` sends them
    place = {} if preset is None else {"timezone": sc.study.timezone, "caller_id": camp.caller_id}
    live = LiveCampaign(CampaignConfig(mode=mode, pacer=pacer, abandon_limit=limit, preset=preset, origin=origin,
                                       lines=camp.lines, **place))
    config = live.config
    assert held(sim.controller()) == held(config.build())
    described = live.held_to_dict()
    assert described["limit"] == float(sim.limit) and described["pacer"] == sim.make_pacer().get_params()
    strictest = min(limit, {"NO": 0.05, "CA": 0.05, "UK": 0.03, "US": 0.03}.get(preset, 1.0))
    assert float(sim.limit) == strictest
    if "target" in described["pacer"]:
        assert described["pacer"]["target"] == pytest.approx(0.8 * strictest)


def test_the_live_campaign_of_the_issue_aims_below_its_own_limit():
    """`LiveCampaign(mode="predictive", abandon_limit=0.03)` aimed at 4 % under a 5 % limit before the factory."""
    p = LiveCampaign(mode="predictive", abandon_limit=0.03).held_to_dict()["pacer"]
    assert (p["limit"], p["target"]) == (0.03, pytest.approx(0.024))


def test_a_target_above_the_presets_limit_is_refused_when_the_scenario_loads():
    d = scenario.default().model_dump()
    d["study"]["preset"] = "UK"
    d["campaigns"][0]["pacer"] = {"target": 0.04}
    with pytest.raises(Exception, match=r"campaigns\[0\]: pacer.target must be below the campaign's abandon limit "
                                        r"0.03 \(with preset UK\), got 0.04"):
        scenario.from_dict(d)


def test_dialer_theory_reports_the_presets_limit(tmp_path, capsys):
    d = scenario.default().model_dump(mode="json")
    d["study"]["preset"] = "UK"
    d["campaigns"][0]["pacer"] = {}
    out = tmp_path / "theory.json"
    toml = tmp_path / "uk.toml"
    toml.write_text(_toml(d), encoding="utf-8")
    assert main(["theory", str(toml), "--quick", "--json", str(out)]) == 0
    capsys.readouterr()
    got = json.loads(out.read_text())["campaigns"][0]
    assert got["inputs"]["abandon_limit"] == 0.03
    optimal = next(r for r in got["rows"] if r["model"] == "optimal")
    assert optimal["abandon_rate"] <= 0.03 + 1e-9 and "3.00 %" in optimal["setting"]


def _toml(data: dict) -> str:
    """A scenario dict as TOML (tomllib reads, nothing in the standard library writes: a small writer)."""
    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items() if x is not None) + "}"
        raise TypeError(v)

    lines = ["[study]"] + [f"{k} = {value(v)}" for k, v in data["study"].items() if v is not None]
    for g in data["agents"]:
        lines += ["[[agents]]"] + [f"{k} = {value(v)}" for k, v in g.items() if v is not None]
    for c in data["campaigns"]:
        lines += ["[[campaigns]]"] + [f"{k} = {value(v)}" for k, v in c.items() if v is not None]
    return "\n".join(lines) + "\n"
