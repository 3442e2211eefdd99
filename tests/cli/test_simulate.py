"""`dialer simulate`: reproducible output, the JSON shape, and one-line errors.

Every error a user can cause (a bad scenario file, a bad flag) must end the
command with exit code 2 and exactly one line on stderr, "dialer: error: ...",
that names the field and the bad value; never a traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dialer.sim import scenario

from cli_helpers import assert_one_error_line, run

# A small valid scenario; each error case below breaks exactly one thing in it.
GOOD = """\
[study]
name = "cli test"
days = 1
hours = ["09:00", "11:00"]

[[agents]]
name = "a"
count = 2
campaign = "c"

[[campaigns]]
name = "c"
mode = "power"
leads = 200

[campaigns.outcomes]
live = 0.3
machine = 0.1

[campaigns.durations]
talk = 60
"""


def write(tmp_path: Path, text: str, name: str = "scenario.toml") -> str:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def edit(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


# --- a good run -------------------------------------------------------------------------


def test_the_good_scenario_runs(tmp_path, capsys):
    path = write(tmp_path, GOOD)
    out = tmp_path / "r.json"
    assert run(["simulate", path, "--json", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "cli test" in captured.out
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["campaigns"][0]["name"] == "c"
    assert data["campaigns"][0]["totals"]["attempted"] > 0


DAY_KEYS = {
    "date",
    "attempted",
    "answered",
    "connected",
    "transferred",
    "abandoned",
    "complaints",
    "abandon_rate",
    "agent_utilization",
    "connects_per_agent_hour",
    "mean_idle_between_calls",
    "mean_abandon_silence",
}


def test_default_scenario_json_is_byte_identical_and_has_the_documented_shape(tmp_path, capsys):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert run(["simulate", "--seed", "3", "--json", str(a)]) == 0
    assert run(["simulate", "--seed", "3", "--json", str(b)]) == 0
    assert capsys.readouterr().err == ""
    assert a.read_bytes() == b.read_bytes()

    data = json.loads(a.read_text(encoding="utf-8"))
    assert data["seed"] == 3
    sc = scenario.default()
    assert [c["name"] for c in data["campaigns"]] == [c.name for c in sc.campaigns]
    for c, camp in zip(data["campaigns"], sc.campaigns):
        assert c["mode"] == camp.mode
        assert len(c["days"]) == sc.study.days
        assert c["days"][0]["date"] == sc.study.start.isoformat()
        for day in c["days"]:
            assert DAY_KEYS <= set(day), DAY_KEYS - set(day)
            assert day["conservation"] is True
        assert DAY_KEYS - {"date"} <= set(c["totals"])
        for key in ("attempted", "answered", "connected", "transferred", "abandoned", "complaints"):
            assert c["totals"][key] == sum(d[key] for d in c["days"])
        assert c["totals"]["attempted"] > 0


def test_a_different_seed_gives_a_different_file(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    path = write(tmp_path, GOOD)
    assert run(["simulate", path, "--seed", "1", "--json", str(a)]) == 0
    assert run(["simulate", path, "--seed", "2", "--json", str(b)]) == 0
    assert a.read_bytes() != b.read_bytes()


def test_the_real_command_writes_the_same_bytes_as_the_in_process_call(tmp_path, capsys):
    a, b = tmp_path / "inproc.json", tmp_path / "subproc.json"
    path = write(tmp_path, GOOD)
    assert run(["simulate", path, "--seed", "3", "--json", str(a)]) == 0
    proc = subprocess.run(
        [sys.executable, "-m", "dialer.cli", "simulate", path, "--seed", "3", "--json", str(b)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "cli test" in proc.stdout
    assert a.read_bytes() == b.read_bytes()


def test_the_real_command_reports_a_bad_scenario_in_one_line(tmp_path):
    path = write(tmp_path, edit("talk = 60", "talk = -3"))
    proc = subprocess.run(
        [sys.executable, "-m", "dialer.cli", "simulate", path],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dialer: error:"), proc.stderr
    assert "durations.talk" in lines[0] and "-3" in lines[0]


# --- bad scenarios and bad flags ------------------------------------------------------------

# (id, scenario text or None for "no file", extra argv, substrings the message must contain)
BAD = [
    ("negative-time", edit("talk = 60", "talk = -3"), [], ["durations.talk", "-3"]),
    (
        "probabilities-over-1",
        edit("machine = 0.1", "machine = 0.5\nbusy = 0.2\ninvalid = 0.1"),
        [],
        ["outcomes", "live + machine + busy + invalid", "1.1"],
    ),
    (
        "hour-override-over-1",
        GOOD + '\n[campaigns.outcomes.hours]\n"15" = { live = 0.95 }\n',
        [],
        ["outcomes", "hours.15", "1.13"],
    ),
    (
        "unknown-distribution",
        edit("talk = 60", 'talk = { dist = "weibull", mean = 60 }'),
        [],
        ["durations.talk", "'weibull'", "lognormal"],
    ),
    (
        "distribution-missing-parameter",
        edit("talk = 60", 'talk = { dist = "lognormal", mean = 60 }'),
        [],
        ["durations.talk", "lognormal", "sd"],
    ),
    ("malformed-toml", edit("[campaigns.durations]", "[campaigns.durations"), [], ["malformed TOML"]),
    ("unknown-key", edit('mode = "power"', 'mdoe = "power"'), [], ["mdoe", "unknown key"]),
    ("unknown-mode", edit('mode = "power"', 'mode = "turbo"'), [], ["mode", "'turbo'", "power"]),
    (
        "bad-pacer-parameter",
        edit('mode = "power"', 'mode = "fixed-ratio"\npacer = { ratio = -1 }'),
        [],
        ["pacer.ratio", "-1"],
    ),
    (
        "unknown-pacer-parameter",
        edit('mode = "power"', 'mode = "fixed-ratio"\npacer = { ration = 2 }'),
        [],
        ["pacer.ration", "ratio"],
    ),
    (
        "calling-hours-end-before-start",
        edit('hours = ["09:00", "11:00"]', 'hours = ["18:00", "09:00"]'),
        [],
        ["study.hours", "18:00", "09:00"],
    ),
    (
        "bad-clock",
        edit('hours = ["09:00", "11:00"]', 'hours = ["09:00", "25:00"]'),
        [],
        ["study.hours", "25:00"],
    ),
    (
        "shift-end-before-start",
        edit('count = 2', 'count = 2\nshift = ["11:00", "10:00"]'),
        [],
        ["agents[0].shift", "11:00"],
    ),
    ("missing-file", None, [], ["does not exist", "missing.toml"]),
    ("unknown-campaign", edit('campaign = "c"', 'campaign = "nope"'), [], ["agents[0].campaign", "'nope'"]),
    ("zero-days", edit("days = 1", "days = 0"), [], ["study.days", "0"]),
    ("zero-agents", edit("count = 2", "count = 0"), [], ["agents[0].count", "0"]),
    ("negative-leads", edit("leads = 200", "leads = -5"), [], ["leads", "-5"]),
    ("bad-timezone", edit("days = 1", 'days = 1\ntimezone = "Mars/Olympus"'), [], ["timezone", "Mars/Olympus"]),
    ("negative-seed", GOOD, ["--seed", "-1"], ["--seed", "-1"]),
    ("non-numeric-seed", GOOD, ["--seed", "x"], ["--seed", "'x'"]),
]


@pytest.mark.parametrize(("text", "extra", "needles"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_bad_scenario_or_flag_is_one_error_line(tmp_path, capsys, text, extra, needles):
    path = str(tmp_path / "missing.toml") if text is None else write(tmp_path, text)
    code = run(["simulate", path, *extra])
    captured = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in captured.err
    assert captured.err.endswith("\n")
    assert_one_error_line(captured, needles)


def test_an_unwritable_json_path_is_one_error_line(tmp_path, capsys):
    path = write(tmp_path, GOOD)
    code = run(["simulate", path, "--json", str(tmp_path / "no-such-dir" / "r.json")])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("dialer: error: ")
    assert "--json" in err and "no-such-dir" in err


# --- the shipped default --------------------------------------------------------------------


def test_the_default_scenario_round_trips():
    sc = scenario.default()
    assert scenario.from_dict(sc.model_dump()) == sc
    assert scenario.loads(scenario.default_text()) == sc


def test_the_default_scenario_says_what_its_comments_say():
    sc = scenario.default()
    assert sc.study.hours == (9 * 3600.0, 21 * 3600.0)
    assert sum(g.count for g in sc.agents) == 40
    (camp,) = sc.campaigns
    assert camp.mode == "predictive" and camp.abandon_limit == 0.05
    assert "target" not in camp.pacer and camp.pacer["live_prob"] == 0.25  # target: 80 % of the limit
    assert camp.outcomes.for_hour(12) == (0.25, 0.10, 0.05, 0.03)
    assert camp.outcomes.for_hour(18)[0] == 0.29
    assert camp.durations.talk.mean == 170 and camp.durations.ring.mean == 17


def test_simulate_records_its_days_in_the_statistics_store(tmp_path, capsys):
    from dialer.compliance.store import NO_NUMBER, Store

    path = write(tmp_path, GOOD.replace("days = 1", "days = 2"))
    db = tmp_path / "stats.sqlite"
    out = tmp_path / "r.json"
    assert run(["simulate", path, "--seed", "4", "--json", str(out), "--store", str(db)]) == 0
    result = json.loads(out.read_text())["campaigns"][0]
    days = result["days"]
    assert f"recorded 2 campaign-day(s) and {result['totals']['attempted']:,} dials" in capsys.readouterr().out
    with Store(db) as store:
        rows = store.days("c")
        dials = store.dials("c")
    assert [r.day.isoformat() for r in rows] == [d["date"] for d in days]
    for r, d in zip(rows, days):
        for k in ("attempted", "answered", "connected", "transferred", "abandoned", "complaints"):
            assert getattr(r, k) == d[k], k
        assert r.simulated
    # the dial log too: every dial, marked simulated, with its outcome (a simulated lead has no number)
    assert len(dials) == result["totals"]["attempted"] and all(d.simulated and d.outcome for d in dials)
    assert {d.number_hash for d in dials} == {NO_NUMBER}
    assert sum(d.outcome == "abandoned" for d in dials) == result["totals"]["abandoned"]
    # the same run again is refused before it runs (before, it overwrote the stored days without a word) ...
    assert run(["simulate", path, "--seed", "4", "--store", str(db)]) == 2
    err = capsys.readouterr()
    assert err.err == (f"dialer: error: store 'sqlite:///{db}': campaign 'c' has a simulated day stored on "
                       f"{days[0]['date']}: add --replace to replace it\n") and "attempted" not in err.out
    # ... and with --replace it replaces the days and their dials, it does not add them up
    assert run(["simulate", path, "--seed", "4", "--store", str(db), "--replace"]) == 0
    with Store(db) as store:
        assert [r.counts() for r in store.days("c")] == [r.counts() for r in rows]
        assert len(store.dials("c")) == len(dials)
        # a live day is never replaced by a simulation
        store.put_day("c", rows[1].day, {"attempted": 3})
    assert run(["simulate", path, "--seed", "4", "--store", str(db), "--replace"]) == 2
    assert f"campaign 'c' has live records on {rows[1].day}: a simulation never replaces them" in capsys.readouterr().err
    assert run(["simulate", path, "--replace"]) == 2
    assert capsys.readouterr().err == "dialer: error: --replace: only with --store (it replaces simulated days stored there)\n"


def test_simulate_with_a_store_that_cannot_be_opened_fails_before_running(tmp_path, capsys):
    path = write(tmp_path, GOOD)
    assert run(["simulate", path, "--store", "postgresql://nobody@127.0.0.1:1/x"]) == 2
    err = capsys.readouterr()
    assert err.err.startswith("dialer: error: store ") and err.err.count("\n") == 1
    assert "campaign" not in err.out  # nothing was simulated

