"""Parity: the simulator's floor gives the same decisions and daily statistics through HTTP as in-process."""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from pathlib import Path

import pytest

from dialer.cli import main
from dialer.core.controller import Controller
from dialer.emulate import emulate
from dialer.sim import load, simulate

from live_auth import TOKEN

TINY = Path(__file__).parent / "data" / "tiny.toml"  # 3 agents, 40 minutes


class Recording(Controller):
    """The in-process controller, keeping every decision it gives."""

    def __init__(self, *a, **kw) -> None:
        super().__init__(*a, **kw)
        self.decisions = []

    def decide(self, now):
        d = super().decide(now)
        self.decisions.append(d)
        return d


def scenario(mode: str, pacer: dict, tmp_path: Path):
    text = TINY.read_text()
    if mode == "adaptive":  # it asks every second: a shorter day keeps the round trips few
        text = text.replace('hours = ["09:00", "09:40"]', 'hours = ["09:00", "09:12"]')
        text = text.replace('shift = ["09:00", "09:30"]', 'shift = ["09:00", "09:10"]')
    path = tmp_path / "scenario.toml"
    path.write_text(text)
    sc = load(path)
    c = sc.campaigns[0]
    return sc.model_copy(update={"campaigns": [c.model_copy(update={"mode": mode, "pacer": pacer})]})


@pytest.mark.parametrize(
    "mode, pacer",
    [("power", {}), ("predictive", {"target": 0.04}), ("adaptive", {}), ("fixed-ratio", {"ratio": 1.6})],
)
def test_same_decisions_and_statistics_through_http(live_server, mode, pacer, tmp_path):
    sc = scenario(mode, pacer, tmp_path)
    local: dict[str, Recording] = {}

    def factory(campaign, rules):
        c = Recording(rules.make_pacer(), lines=rules.lines, abandon_limit=list(rules.intervals), horizon=rules.horizon,
                      redial_lockout=rules.redial_lockout)
        local[campaign.name] = c
        return c

    expected = simulate(sc, seed=5, controller_factory=factory)
    remote: dict = {}
    got = emulate(sc, live_server.url, seed=5, token=TOKEN, controllers=remote)
    assert len(local["sales"].decisions) > 50
    assert remote["sales"].decisions == local["sales"].decisions
    assert got.to_json() == expected.to_json()
    assert expected.to_json() == simulate(sc, seed=5).to_json()  # the hook changes nothing in-process


@pytest.mark.parametrize("paced", [[], ["--speed", "5000"]], ids=["unpaced", "paced"])
def test_dialer_emulate_writes_what_dialer_simulate_writes(live_server, tmp_path, monkeypatch, capsys, paced):
    monkeypatch.setenv("DIALER_TOKEN", TOKEN)
    assert main(["simulate", str(TINY), "--seed", "2", "--json", str(tmp_path / "sim.json")]) == 0
    assert main(["emulate", "--url", live_server.url, str(TINY), "--seed", "2", "--json", str(tmp_path / "emu.json"),
                 *paced]) == 0
    sim, emu = (tmp_path / "sim.json").read_text(), (tmp_path / "emu.json").read_text()
    assert sim == emu
    assert json.loads(emu)["campaigns"][0]["totals"]["attempted"] > 0


def test_emulate_errors_are_one_line(live_server, capsys, monkeypatch):
    monkeypatch.delenv("DIALER_TOKEN", raising=False)
    assert main(["emulate", "--url", live_server.url, str(TINY)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dialer: error: GET /healthz: 401 missing or bad bearer token") and err.count("\n") == 1
    assert main(["emulate", "--url", "ftp://x", str(TINY)]) == 2
    assert capsys.readouterr().err == "dialer: error: --url must be an http:// or https:// URL, got 'ftp://x'\n"


@pytest.mark.parametrize("preset", ["UK", "US"])
def test_parity_under_a_study_preset(live_server, preset, tmp_path):
    # the preset's stricter limit, its intervals (US: a rolling 30 days) and its redial rule reach the
    # service's controller as they reach the simulator's: the same day through HTTP as in-process
    sc = scenario("predictive", {}, tmp_path)
    # the study where the preset's hours are read (the service holds them in the preset's time zone)
    zone = {"UK": "Europe/London", "US": "America/New_York"}[preset]
    sc = sc.model_copy(update={"study": sc.study.model_copy(update={"preset": preset, "timezone": zone})})
    expected = simulate(sc, seed=3)
    plain = simulate(sc.model_copy(update={"study": sc.study.model_copy(update={"preset": None})}), seed=3)
    assert expected.to_json() != plain.to_json()  # the preset changes the day: the check below can fail
    remote: dict = {}
    got = emulate(sc, live_server.url, seed=3, token=TOKEN, controllers=remote)
    assert got.to_json() == expected.to_json()
    config = remote["sales"].config
    # under a preset the service holds the hours too: the campaign has the study's time zone
    assert config.preset == preset and config.origin is not None and config.hours_enforced
    assert config.timezone == zone and got.campaigns[0].days[0].date == sc.study.start


def test_emulate_sends_elapsed_seconds_across_a_daylight_saving_change():
    # the simulator counts wall-clock seconds from the first local midnight; the service counts seconds
    # elapsed since it (its hours and days depend on it): across the October change they differ by an hour
    from dialer.emulate import _clock
    from dialer.sim.compliance import sim_instant

    sc = load(TINY)
    assert _clock(sc, sim_instant(sc, 0.0)) is None  # 24 November: no change, the times are sent as they are
    autumn = sc.model_copy(update={"study": sc.study.model_copy(update={"start": dt.date(2026, 10, 23), "days": 4})})
    origin = sim_instant(autumn, 0.0)
    out, back = _clock(autumn, origin)
    friday, monday = 9 * 3600.0, 3 * 86400.0 + 9 * 3600.0  # 09:00 on the first day and on the fourth
    assert out(friday) == friday and out(monday) == monday + 3600.0  # Sunday 25 October had 25 hours
    elapsed = origin.astimezone(dt.timezone.utc) + dt.timedelta(seconds=out(monday))
    assert elapsed.astimezone(origin.tzinfo).hour == 9
    assert back(out(monday)) == monday and back(out(friday)) == friday


# --- dialer emulate --speed: the day at N times real time ------------------------------------------


class FakeWall:
    """A monotonic clock and its sleep, for `Pace`: `work(s)` is time spent between steps; a sleep may
    wake `early` (a fraction of what it was asked), as a signal can wake time.sleep."""

    def __init__(self, early: float = 1.0) -> None:
        self.now, self.early, self.sleeps = 0.0, early, []

    def clock(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s * self.early

    def work(self, s: float) -> None:
        self.now += s


def test_pace_counts_every_deadline_from_the_first_step_so_no_drift_adds_up():
    from dialer.emulate import Pace

    wall = FakeWall()
    pace = Pace(10, clock=wall.clock, sleep=wall.sleep)
    returned = []
    # simulated times of the steps and the work before each (HTTP, the engine): at 10x, simulated time
    # 100 is wall 0, 110 wall 1, 130 wall 3, 150 wall 5 (but the work before it ran until 8: late, no
    # wait), 200 wall 10: the late step does not move the later deadlines
    for t, work in [(100.0, 0.0), (110.0, 0.3), (130.0, 0.3), (150.0, 5.0), (200.0, 0.1)]:
        wall.work(work)
        pace.until(t)
        returned.append(wall.now)
    assert returned == pytest.approx([0.0, 1.0, 3.0, 8.0, 10.0])
    assert wall.sleeps == pytest.approx([0.7, 1.7, 1.9])
    assert (pace.start, pace.end, pace.speed) == (100.0, 200.0, 10.0)


def test_pace_waits_again_when_a_sleep_wakes_early():
    from dialer.emulate import Pace

    wall = FakeWall(early=0.5)
    pace = Pace(2, clock=wall.clock, sleep=wall.sleep)
    pace.until(0.0)
    pace.until(8.0)  # deadline: wall 4
    assert wall.now == pytest.approx(4.0, abs=1e-9) and len(wall.sleeps) > 1
    assert wall.sleeps[:2] == pytest.approx([4.0, 2.0])


@pytest.mark.parametrize("speed", [0, -1.5, math.inf, math.nan, True])
def test_pace_refuses_a_speed_that_is_not_a_positive_finite_number(speed):
    from dialer.emulate import Pace
    from dialer.errors import ConfigError

    with pytest.raises(ConfigError, match=r"^speed must be a positive multiple of real time, got "):
        Pace(speed)


@pytest.mark.parametrize("text", ["0", "-2", "inf", "nan", "fast"])
def test_dialer_emulate_refuses_a_bad_speed_in_one_line(text, capsys):
    with pytest.raises(SystemExit) as exit:
        main(["emulate", "--url", "http://127.0.0.1:1", str(TINY), "--speed", text])
    assert exit.value.code == 2
    assert capsys.readouterr().err == (
        f"dialer: error: argument --speed: must be a positive multiple of real time, got '{text}'\n")


def test_a_paced_day_takes_its_simulated_span_over_the_speed_and_gives_the_same_results(live_server):
    from dialer.emulate import Pace

    # the agents' 30-minute shift (the calls end a few minutes later): at 1500x, about 1.3 s, twice what
    # the same day takes unpaced on a quiet machine
    sc = load(TINY)
    expected = simulate(sc, seed=4)
    pace = Pace(1500)
    began = time.monotonic()
    got = emulate(sc, live_server.url, seed=4, token=TOKEN, pace=pace)
    took = time.monotonic() - began
    span = pace.end - pace.start
    assert span > 1800.0  # the day was paced from its first exchange with the service to its last
    assert took >= span / 1500
    assert got.to_json() == expected.to_json()
