"""`dialer theory` and `dialer erlang`: the figures are the library's, the JSON has its shape, errors are one line.

The numbers are checked against `dialer.theory` called directly, with the
campaign means worked out here from the scenario by hand; the command must
add nothing of its own to the theory.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dialer.theory import (
    erlang_a,
    erlang_b,
    erlang_table,
    largest_safe_ratio,
    optimal_pacing,
    poisson_dialing,
    progressive,
    ratio_dialing,
    required_agents,
    service_level_c,
)

from cli_helpers import assert_one_error_line, run


def run_json(tmp_path: Path, argv: list[str], capsys) -> tuple[dict, str]:
    out = tmp_path / "out.json"
    assert run([*argv, "--json", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return json.loads(out.read_text(encoding="utf-8")), captured.out


# --- dialer theory: the default scenario -----------------------------------------------------------

# The default scenario's hourly live-answer probabilities over 09:00-21:00 (dialer/data/default.toml).
DEFAULT_LIVE = {9: 0.21, 10: 0.22, 11: 0.23, 17: 0.28, 18: 0.29, 19: 0.28, 20: 0.27}
ROW_KEYS = {
    "model",
    "setting",
    "abandon_rate",
    "occupancy",
    "connects_per_agent_hour",
    "dials_per_agent_hour",
    "gain_over_power",
    "lines_in_use",
}


def default_means() -> dict:
    live = sum(DEFAULT_LIVE.get(h, 0.25) for h in range(9, 21)) / 12
    machine, busy, invalid = 0.10, 0.05, 0.03
    no_answer = 1 - live - machine - busy - invalid
    failed_total = machine * 17.0 + busy * 5.5 + invalid * 2.5 + no_answer * 30.0  # uniform(3, 8), uniform(1, 4)
    return {
        "agents": 20,
        "live_prob": live,
        "handle_time": 200.0,
        "ring_time": 17.0,
        "failed_ring_time": failed_total / (1 - live),
        "dial_time": live * 17.0 + failed_total,
        "abandon_limit": 0.05,
    }


def test_theory_on_the_default_scenario_gives_the_library_figures(tmp_path, capsys):
    data, out = run_json(tmp_path, ["theory", "--quick"], capsys)
    assert set(data) == {"scenario", "approximation", "campaigns"}
    assert "Markovian approximation" in data["approximation"]
    (c,) = data["campaigns"]
    assert set(c) == {"name", "mode", "inputs", "rows", "optimal_policy", "predictive_worth_it"}
    assert (c["name"], c["mode"]) == ("sales", "predictive")
    want = default_means()
    m = c["inputs"]
    for key, value in want.items():
        assert m[key] == pytest.approx(value, rel=1e-12), key
    assert m["agents_mean"] == pytest.approx(20.0)  # 20 by day, 20 in the evening
    assert m["window"] == ["09:00", "21:00"]

    rows = {r["model"]: r for r in c["rows"]}
    assert [r["model"] for r in c["rows"]] == ["power", "fixed-ratio, estimate", "optimal"]
    for r in c["rows"]:
        assert set(r) >= ROW_KEYS, ROW_KEYS - set(r)
    n, h, p, ring, limit = 20, 200.0, want["live_prob"], want["dial_time"], 0.05

    pw = progressive(h, 17.0, p, want["failed_ring_time"])
    assert rows["power"]["occupancy"] == pytest.approx(pw.occupancy, rel=1e-12)
    assert rows["power"]["connects_per_agent_hour"] == pytest.approx(pw.connects_per_agent_hour, rel=1e-12)
    assert rows["power"]["abandon_rate"] == 0.0

    ratio = largest_safe_ratio(n, h, ring, p, limit)
    fixed = ratio_dialing(n, h, ring, p, ratio)
    assert rows["fixed-ratio, estimate"]["ratio"] == ratio
    assert rows["fixed-ratio, estimate"]["abandon_rate"] == pytest.approx(fixed.abandon_rate, rel=1e-9)
    assert rows["fixed-ratio, estimate"]["abandon_rate"] <= limit
    assert ratio_dialing(n, h, ring, p, ratio + 0.05).abandon_rate > limit  # the largest safe one
    assert rows["fixed-ratio, estimate"]["occupancy"] == pytest.approx(fixed.occupancy, rel=1e-9)

    best = optimal_pacing(n, h, ring, p, limit)
    assert rows["optimal"]["connects_per_agent_hour"] == pytest.approx(best.connects_per_agent_hour, rel=1e-9)
    assert rows["optimal"]["occupancy"] == pytest.approx(best.occupancy, rel=1e-9)
    assert rows["optimal"]["abandon_rate"] == pytest.approx(limit, abs=1e-9)
    # Power on the real floor has the same cycle as on the one-ring-time floor of the bound,
    # so the gain is measured against the same Power
    assert best.power_connects_per_agent_hour == pytest.approx(pw.connects_per_agent_hour, rel=1e-12)
    assert rows["optimal"]["gain_over_power"] == pytest.approx(best.gain_over_power, rel=1e-9)
    assert rows["optimal"]["connects_per_agent_hour"] >= rows["fixed-ratio, estimate"]["connects_per_agent_hour"]
    pol = c["optimal_policy"]
    assert pol["dials_in_flight_by_busy_agents"] == list(best.policy)
    assert pol["randomised_state"] == (list(best.randomised_state) if best.randomised_state else None)

    # the table
    assert "sales" in out and "optimal" in out and "fixed-ratio" in out
    assert f"{rows['optimal']['connects_per_agent_hour']:.2f}" in out
    assert " ".join(str(k) for k in best.policy) in out.replace("\n", " ")


def test_theory_json_is_byte_identical(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert run(["theory", "--quick", "--json", str(a)]) == 0
    assert run(["theory", "--quick", "--json", str(b)]) == 0
    assert a.read_bytes() == b.read_bytes()


# --- dialer theory: several campaigns, shifts, modes ----------------------------------------------------

MIXED = """\
[study]
name = "mixed"
hours = ["09:00", "13:00"]

[[agents]]
name = "early"
count = 6
campaign = "ratio"
shift = ["08:00", "11:00"]

[[agents]]
name = "late"
count = 4
campaign = "ratio"
shift = ["11:00", "13:00"]

[[agents]]
count = 5
campaign = "open"

[[agents]]
count = 3
campaign = "nobody"
shift = ["14:00", "16:00"]

[[campaigns]]
name = "ratio"
mode = "fixed-ratio"
pacer = { ratio = 2.0 }
abandon_limit = 0.03
outcomes = { live = 0.3, machine = 0.0, busy = 0.0, invalid = 0.0, hours = { "9" = { live = 0.2 } } }
durations = { ring = 10, no_answer = 30, talk = 100, wrap = 20 }

[[campaigns]]
name = "open"
mode = "poisson"
pacer = { rate = 0.05 }
connect_limit = 2.0
outcomes = { live = 0.4 }
durations = { talk = 60, wrap = 0 }

[[campaigns]]
name = "nobody"
"""


def test_theory_weights_shifts_and_hours_and_shows_each_campaigns_own_mode(tmp_path, capsys):
    path = tmp_path / "mixed.toml"
    path.write_text(MIXED, encoding="utf-8")
    data, out = run_json(tmp_path, ["theory", str(path), "--quick"], capsys)
    camps = {c["name"]: c for c in data["campaigns"]}

    # 6 agents for 2 of the 4 hours (08:00 is outside the window), 4 agents for the last 2
    r = camps["ratio"]
    m = r["inputs"]
    assert m["agents_mean"] == pytest.approx(5.0)
    assert m["agents"] == 5
    assert m["live_prob"] == pytest.approx((0.2 + 0.3 * 3) / 4)
    p = m["live_prob"]
    assert m["failed_ring_time"] == pytest.approx(30.0)  # every failed dial rings out
    assert m["dial_time"] == pytest.approx(p * 10 + (1 - p) * 30)
    own = [row for row in r["rows"] if row["model"] == "fixed-ratio" and row["ratio"] == 2.0]
    assert len(own) == 1
    want = ratio_dialing(5, 120.0, m["dial_time"], p, 2.0)
    assert own[0]["abandon_rate"] == pytest.approx(want.abandon_rate, rel=1e-12)
    assert own[0]["occupancy"] == pytest.approx(want.occupancy, rel=1e-12)
    assert [row["model"] for row in r["rows"]][-1] == "optimal"
    opt = optimal_pacing(5, 120.0, m["dial_time"], p, 0.03)
    assert r["rows"][-1]["connects_per_agent_hour"] == pytest.approx(opt.connects_per_agent_hour, rel=1e-9)

    o = camps["open"]
    (row,) = [row for row in o["rows"] if row["model"] == "poisson"]
    want = poisson_dialing(5, 0.05, 0.4, 60.0, grace=2.0)
    assert row["abandon_rate"] == pytest.approx(want.abandon_rate, rel=1e-12)
    assert row["occupancy"] == pytest.approx(want.occupancy, rel=1e-12)

    assert camps["nobody"]["inputs"]["agents"] == 0
    assert "rows" not in camps["nobody"] and "no agent" in camps["nobody"]["note"]
    assert "no agent works on this campaign" in out


# --- dialer erlang ---------------------------------------------------------------------------------------


def test_erlang_b_blocking_and_servers_for_a_target(tmp_path, capsys):
    data, out = run_json(tmp_path, ["erlang", "b", "--servers", "10", "--load", "5", "--target", "1%"], capsys)
    assert data["model"] == "erlang-b"
    rows = {r["servers"]: r for r in data["rows"]}
    assert rows[10]["blocking"] == erlang_b(10, 5.0)
    assert round(rows[10]["blocking"], 5) == 0.01838  # the textbook table value
    n = data["required_servers"]
    assert erlang_b(n, 5.0) <= 0.01 < erlang_b(n - 1, 5.0)
    assert n == 11
    assert set(rows) == {9, 10, 11, 12, 13}
    assert "1.838 %" in out and "required" in out


@pytest.mark.parametrize("rate", ["100", "100/h", "1.6666666666666667/min", "0.027777777777777776/s"])
def test_erlang_c_matches_the_library_whatever_the_rate_unit(tmp_path, capsys, rate):
    data, _ = run_json(
        tmp_path, ["erlang", "c", "--rate", rate, "--handle", "180", "--servers", "7", "--target", "80%"], capsys
    )
    lam = 100 / 3600
    assert data["inputs"]["arrival_rate"] == pytest.approx(lam, rel=1e-12)
    assert data["required_agents"] == required_agents(lam, 180.0, 0.8, 20.0) == 8
    want = {r["agents"]: r for r in erlang_table(lam, 180.0, 20.0, range(6, 11))}
    got = {r["agents"]: r for r in data["rows"]}
    assert set(got) == {6, 7, 8, 9, 10}
    for n, row in got.items():
        for key in ("p_wait", "mean_wait", "service_level", "occupancy"):
            assert row[key] == pytest.approx(want[n][key], rel=1e-9), (n, key)
        assert row["service_level"] == pytest.approx(service_level_c(n, lam, 1 / 180, 20.0), rel=1e-9)
    assert got[7]["service_level"] < 0.8 <= got[8]["service_level"]


def test_erlang_c_per_minute_equals_per_hour(tmp_path, capsys):
    a, _ = run_json(tmp_path, ["erlang", "c", "--rate", "3/min", "--handle", "120", "--servers", "8"], capsys)
    b, _ = run_json(tmp_path, ["erlang", "c", "--rate", "180", "--handle", "120", "--servers", "8"], capsys)
    assert a["rows"] == b["rows"]
    assert a["required_agents"] is None


def test_erlang_a_adds_abandonment_and_staffs_with_answered_within(tmp_path, capsys):
    argv = ["erlang", "a", "--rate", "100", "--handle", "180", "--patience", "60", "--servers", "5", "--target", "0.8"]
    data, out = run_json(tmp_path, argv, capsys)
    lam, mu, theta = 100 / 3600, 1 / 180, 1 / 60
    assert data["model"] == "erlang-a"
    assert data["inputs"]["patience"] == 60.0
    assert data["required_agents"] == required_agents(lam, 180.0, 0.8, 20.0, patience_rate=theta)
    for row in data["rows"]:
        r = erlang_a(lam, mu, row["agents"], theta)
        assert row["p_abandon"] == pytest.approx(r.p_abandon, rel=1e-9)
        assert row["p_wait"] == pytest.approx(r.p_wait, rel=1e-9)
        assert row["service_level"] == pytest.approx(r.answered_within(20.0), rel=1e-9)
        assert row["waited_within"] == pytest.approx(r.service_level(20.0), rel=1e-9)
    # 5 agents with 5 Erlangs: unstable for Erlang C, fine with impatient callers
    assert any(row["agents"] == 5 for row in data["rows"])
    assert "P(abandon)" in out


# --- errors: one line, exit 2, the flag and the value named ----------------------------------------------

ERRORS = [
    (["erlang"], ["required"]),
    (["erlang", "d"], ["'d'", "b", "c", "a"]),
    (["erlang", "b", "--load", "5"], ["--servers", "--target"]),
    (["erlang", "b", "--servers", "3", "--load", "-1"], ["--load", "'-1'"]),
    (["erlang", "b", "--servers", "x", "--load", "1"], ["--servers", "'x'"]),
    (["erlang", "c", "--rate", "100", "--handle", "180", "--servers", "5"], ["--servers", "5", "Erlang"]),
    (["erlang", "c", "--rate", "x", "--handle", "180", "--servers", "5"], ["--rate", "'x'"]),
    (["erlang", "c", "--rate", "10/day", "--handle", "180", "--servers", "5"], ["--rate", "'10/day'"]),
    (["erlang", "c", "--rate", "0", "--handle", "180", "--servers", "5"], ["--rate", "'0'"]),
    (["erlang", "c", "--rate", "100", "--handle", "-3", "--servers", "5"], ["--handle", "'-3'"]),
    (["erlang", "c", "--rate", "100", "--handle", "180", "--target", "80"], ["--target", "'80'", "80%"]),
    (["erlang", "c", "--rate", "100", "--handle", "180", "--servers", "9", "--within", "-1"], ["--within", "'-1'"]),
    (["erlang", "a", "--rate", "100", "--handle", "30", "--servers", "5"], ["--patience"]),
    (["erlang", "a", "--rate", "100", "--handle", "30", "--servers", "0", "--patience", "5"], ["--servers", "'0'"]),
    (["erlang", "a", "--rate", "100", "--handle", "30", "--servers", "2", "--patience", "0"], ["--patience", "'0'"]),
    (["theory", "missing.toml"], ["does not exist", "missing.toml"]),
    # the words of the constraint (dialer.checks), whatever is wrong with the text
    (["erlang", "b", "--servers", "3", "--load", "inf"], ["argument --load: must be a number of Erlangs in (0, 100000], got 'inf'"]),
    (["erlang", "b", "--servers", "3", "--load", "nan"], ["argument --load: must be a number of Erlangs in (0, 100000], got 'nan'"]),
    (["erlang", "b", "--servers", "3", "--load", "lots"], ["argument --load: must be a number of Erlangs in (0, 100000], got 'lots'"]),
    (["erlang", "b", "--servers", "2.5", "--load", "1"], ["argument --servers: must be a whole number from 0 to 100000, got '2.5'"]),
    (["erlang", "c", "--rate", "100", "--handle", "inf", "--servers", "5"],
     ["argument --handle: must be a positive number of seconds, got 'inf'"]),
    (["erlang", "c", "--rate", "1e999", "--handle", "180", "--servers", "5"],
     ["argument --rate: must be a positive number of calls per hour, got '1e999'"]),
]


@pytest.mark.parametrize(("argv", "needles"), ERRORS, ids=[" ".join(a) for a, _ in ERRORS])
def test_a_bad_argument_is_one_error_line(tmp_path, monkeypatch, capsys, argv, needles):
    monkeypatch.chdir(tmp_path)
    code = run(argv)
    captured = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in captured.err
    assert_one_error_line(captured, needles)


def test_a_bad_scenario_is_one_error_line(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(MIXED.replace("abandon_limit = 0.03", "abandon_limit = 3"), encoding="utf-8")
    assert run(["theory", str(path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dialer: error: ")
    assert "abandon_limit" in lines[0] and "3" in lines[0]


@pytest.mark.parametrize(
    "argv", [["theory", "--quick"], ["erlang", "b", "--servers", "10", "--load", "5"]], ids=["theory", "erlang-b"]
)
def test_the_real_command_has_both_sub_commands(argv):
    """`python -m dialer.cli` runs cli.py as __main__: the commands must be registered there too."""
    proc = subprocess.run(
        [sys.executable, "-m", "dialer.cli", *argv], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "Erlang B" in proc.stdout or "optimal" in proc.stdout


def test_theory_day_adds_the_best_day_under_the_per_day_promise(tmp_path, capsys):
    """`--day`: envelope_day hour by hour on the default's moving answers, between Power and the long-run bound."""
    from dialer.theory import envelope_day

    data, out = run_json(tmp_path, ["theory", "--day", "--quick"], capsys)
    (c,) = data["campaigns"]
    rows = {r["model"]: r for r in c["rows"]}
    day = rows["optimal, day"]
    assert set(day) == ROW_KEYS | {"kept_share", "hour_by_hour", "averaged_occupancy"}
    m = c["inputs"]
    # the default's answers move through the day (DEFAULT_LIVE): one live rate and dial time per hour
    lives = [DEFAULT_LIVE.get(h, 0.25) for h in range(9, 21)]
    rings = [(live + 0.10) * 17.0 + 0.05 * 5.5 + 0.03 * 2.5 + (1 - live - 0.18) * 30.0 for live in lives]
    assert day["hour_by_hour"] is True
    ed = envelope_day(m["agents"], m["handle_time"], rings, lives, m["abandon_limit"], hours=12.0)
    assert day["occupancy"] == pytest.approx(ed.occupancy)
    assert day["kept_share"] == pytest.approx(ed.kept_share)
    flat = envelope_day(m["agents"], m["handle_time"], m["dial_time"], m["live_prob"], m["abandon_limit"], hours=12.0)
    assert day["averaged_occupancy"] == pytest.approx(flat.occupancy)
    assert day["occupancy"] < day["averaged_occupancy"]  # the averaged day credits the morning with answers it lacks
    assert "is computed hour by hour" in " ".join(out.split())
    assert rows["power"]["occupancy"] < day["occupancy"] < rows["optimal"]["occupancy"]
    assert day["abandon_rate"] <= m["abandon_limit"] + 1e-9
    assert "optimal, day" in out and "of the bound's gain over Power" in out
    plain, _ = run_json(tmp_path, ["theory", "--quick"], capsys)
    assert "optimal, day" not in {r["model"] for r in plain["campaigns"][0]["rows"]}


# --- dialer theory: the fixed ratio verified by simulation, and the small-team rule ----------------------

SMALL_TEAM = """\
[study]
name = "three agents"
start = "2026-11-24"
hours = ["09:00", "10:00"]

[[agents]]
count = 3

[[campaigns]]
name = "sales"
mode = "predictive"
leads = 3000
connect_limit = 2.0
outcomes = { live = 0.25 }
durations = { talk = { dist = "lognormal", mean = 170, sd = 120 }, wrap = { dist = "gamma", mean = 30, sd = 15 } }
"""


def test_theory_offers_the_fixed_ratio_verified_by_simulation_beside_the_quick_estimate(tmp_path, capsys):
    from dialer.plan.safe_ratio import verify_ratio
    from dialer.sim.scenario import loads

    path = tmp_path / "small.toml"
    path.write_text(SMALL_TEAM, encoding="utf-8")
    data, out = run_json(tmp_path, ["theory", str(path), "--serial", "--no-cache", "--days", "6", "--seed", "4"],
                         capsys)  # no progress off a terminal: stderr stays empty (run_json checks)
    (c,) = data["campaigns"]
    v = c["verified_ratio"]
    rows = {r["model"]: r for r in c["rows"]}
    assert [r["model"] for r in c["rows"]] == ["power", "fixed-ratio, estimate", "fixed-ratio, verified", "optimal"]
    assert (v["days"], v["days_over"], v["seeds"], v["confidence"], v["coverage"]) == (6, 0, [4, 9], 0.95, 0.999)
    assert v["break_probability_below"] == pytest.approx(1 - 0.05 ** (1 / 6))
    assert v["worst_day_abandon_rate"] <= 0.05 and v["abandon_rate"] <= v["worst_day_abandon_rate"]
    assert v["tolerance_bound"] == v["tolerance"]["bound"] <= 0.05 and v["tolerance"]["low"] >= 0
    assert v["first_refused"]["ratio"] == pytest.approx(v["ratio"] + 0.05) and not v["first_refused"]["safe"]
    assert [h["seeds"] for h in v["holdout"]] == [[10, 14]] and v["holdout"][-1]["days_over"] == 0
    assert v["estimate"] == rows["fixed-ratio, estimate"]["ratio"]
    assert rows["fixed-ratio, verified"]["ratio"] == v["ratio"]
    assert rows["fixed-ratio, verified"]["worst_day_abandon_rate"] == v["worst_day_abandon_rate"]
    # the library's figure, from the same seeds
    sc = loads(SMALL_TEAM)
    direct = verify_ratio(sc, sc.campaigns[0], days=6, seed=4, estimate=v["estimate"])
    assert json.loads(json.dumps(direct.as_dict())) == v
    text = " ".join(out.split())
    assert f"fixed ratio verified: dial at most {v['ratio']:g} x idle agents. On 6 simulated days" in text
    assert (f"with 95 % confidence 99.9 % of days stay under {100 * v['tolerance_bound']:.2f} %" in text
            and "at most about once in 1,000 working days (four years of weekdays)" in text)
    assert "checked on 5 held-out days the search never saw (seeds 10-14): none over 5.00 %" in text
    assert "quick estimate" in text and "worst day" in text
    # on an hour of 3 agents, 6 days allow only a ratio that connects less than Power: said so
    assert rows["fixed-ratio, verified"]["gain_over_power"] < 0
    assert "connects no more than Power, which never abandons: dial Power (or Predictive) rather than this ratio" in text


def test_theory_counts_the_days_of_a_study_of_several(tmp_path, capsys):
    # a study of 5 days: 6 days asked for take 2 runs (10 days), the 5 held-out days 1 run of the next seed
    path = Path(__file__).parents[2] / "simulations" / "charity_small_team.toml"
    data, out = run_json(tmp_path, ["theory", str(path), "--serial", "--no-cache", "--days", "6"], capsys)
    v = data["campaigns"][0]["verified_ratio"]
    assert (v["days"], v["seeds"], v["runs"]) == (10, [0, 1], 2)
    assert [(h["seeds"], h["days"]) for h in v["holdout"]] == [([2, 2], 5)]
    text = " ".join(out.split())
    assert "On 10 simulated days of this floor (fixed ratio, envelope off, seeds 0-1)" in text
    assert "checked on 5 held-out days the search never saw (seed 2): none over" in text


def test_theory_quick_says_the_estimate_is_not_verified(tmp_path, capsys):
    path = tmp_path / "small.toml"
    path.write_text(SMALL_TEAM, encoding="utf-8")
    data, out = run_json(tmp_path, ["theory", str(path), "--quick"], capsys)
    assert "verified_ratio" not in data["campaigns"][0]
    assert "is the quick estimate (Markovian, from the means; --quick): not verified by simulation" in " ".join(
        out.split())


def test_predictive_is_not_worth_it_for_three_agents_and_is_on_the_default_floor(tmp_path, capsys):
    path = tmp_path / "small.toml"
    path.write_text(SMALL_TEAM, encoding="utf-8")
    small, out_small = run_json(tmp_path, ["theory", str(path), "--serial", "--no-cache", "--days", "6"], capsys)
    w = small["campaigns"][0]["predictive_worth_it"]
    rows = {r["model"]: r for r in small["campaigns"][0]["rows"]}
    assert w["gain"] == pytest.approx(rows["optimal"]["occupancy"] - rows["power"]["occupancy"])
    assert w["gain"] < 0.10 and w["worth_it"] is False
    assert w["spread"] == pytest.approx(2 * small["campaigns"][0]["verified_ratio"]["utilization_sd"])
    assert "Predictive is not worth it over Power here" in " ".join(out_small.split())

    default, out_default = run_json(tmp_path, ["theory", "--quick"], capsys)
    w = default["campaigns"][0]["predictive_worth_it"]
    assert w["worth_it"] is True and w["gain"] > 0.10 and w["spread"] is None
    assert "Predictive is worth it over Power here" in " ".join(out_default.split())


def test_theory_day_on_a_flat_floor_is_the_averaged_day(tmp_path, capsys):
    """A floor whose answers do not move: one part, the same figure as the averaged day, no hour-by-hour line."""
    from dialer.theory import envelope_day

    path = tmp_path / "small.toml"
    path.write_text(SMALL_TEAM.replace('hours = ["09:00", "10:00"]', 'hours = ["09:00", "13:00"]'), encoding="utf-8")
    data, out = run_json(tmp_path, ["theory", str(path), "--day", "--quick"], capsys)
    (c,) = data["campaigns"]
    day = {r["model"]: r for r in c["rows"]}["optimal, day"]
    m = c["inputs"]
    ed = envelope_day(m["agents"], m["handle_time"], m["dial_time"], m["live_prob"], m["abandon_limit"], hours=4.0)
    assert day["hour_by_hour"] is False
    assert day["occupancy"] == pytest.approx(ed.occupancy) == pytest.approx(day["averaged_occupancy"])
    assert "is computed hour by hour" not in " ".join(out.split())
