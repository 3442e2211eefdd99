"""Staffing search: a monotone search from theory's bracket, judged on replications."""

from __future__ import annotations

import json

import pytest

from dialer import cli
from dialer.plan import staff
from dialer.sim import scenario

TINY = {
    "study": {"name": "tiny staffing", "start": "2026-11-24", "days": 1, "hours": ["09:00", "10:00"]},
    "agents": [{"name": "day", "count": 3}],
    "campaigns": [{
        "name": "sales", "mode": "power", "leads": 100, "outcomes": {"live": 0.3},
        "retry": {"max_attempts": 2, "no_answer": 900, "busy": 300, "machine": 900, "abandoned": 600},
    }],
}


@pytest.mark.parametrize("threshold, start", [(37, 10), (3, 40), (1, 5), (12, 12), (13, 12)])
def test_smallest_finds_the_threshold_in_few_evaluations(threshold, start):
    calls = []

    def enough(n: int) -> bool:
        calls.append(n)
        return n >= threshold

    assert staff._smallest(enough, start, score=lambda n: n / 100) == threshold
    assert len(calls) == len(set(calls))  # no point is judged twice
    assert len(calls) <= 2 * (abs(threshold - start).bit_length() + 2)


def test_smallest_gives_up_when_more_agents_stop_helping():
    calls = []

    def enough(n: int) -> bool:
        calls.append(n)
        return False

    assert staff._smallest(enough, 10, score=lambda n: 0.8) is None
    assert len(calls) <= 4  # not a blind scan to MAX_AGENTS


def test_expected_attempts_follow_the_retry_rules():
    sc = scenario.from_dict(TINY)
    probs = {"no_answer_prob": 0.5, "busy_prob": 0.1, "machine_prob": 0.1}
    assert staff.expected_attempts(sc.campaigns[0], probs) == pytest.approx(1 + 0.7)


@pytest.mark.slow
def test_search_brackets_the_answer_with_evidence():
    sc = scenario.from_dict(TINY)
    r = staff.staff_search(sc, leads=150, within=2, confidence=0.75, replications=3, modes=("power", "predictive"))
    for s in r.searches:
        assert s.required is not None and s.start >= 1
        by_n = {p["agents"]: p for p in s.points}
        assert by_n[s.required]["enough"]
        # the answer is the smallest: one agent fewer was tried and was not enough
        assert s.required == 1 or not by_n[s.required - 1]["enough"]
        assert all(p["replications"] == 3 for p in s.points)
        if s.mode == "power":
            assert all(p["max_day_abandon_rate"] == 0.0 for p in s.points)
    assert r.scenario["campaigns"][0]["leads"] == 150 and r.scenario["study"]["days"] == 2
    # fewer leads never need more agents (same seeds)
    small = staff.staff_search(sc, leads=60, within=2, confidence=0.75, replications=3, modes=("power",),
                               seed=r.seed)
    assert small.searches[0].required <= r.searches[0].required


def test_staff_command_writes_results_and_plot(tmp_path, write, capsys):
    path = write("tiny.toml", TINY)
    out = tmp_path / "o"
    assert cli.main(["staff", str(path), "--leads", "120", "--within", "2", "--replications", "3", "--modes", "power",
                     "--confidence", "70%", "--serial", "--no-cache", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "agents needed" in printed and "power, agents tried" in printed
    data = json.loads((out / "staff.json").read_text())
    assert data["modes"]["power"]["required_agents"] >= 1
    assert (out / "plots" / "staffing_curve.png").read_bytes()[:4] == b"\x89PNG"
    assert "<svg" in (out / "plots" / "staffing_curve.svg").read_text()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "staff" and manifest["required"]["power"] == data["modes"]["power"]["required_agents"]


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--leads", "0", "--within", "2"], "argument --leads: must be a whole number from 1 to 10000000, got '0'"),
        (["--leads", "10", "--within", "2", "--confidence", "1.5"], "argument --confidence: must be a fraction"),
    ],
)
def test_bad_staff_flags(flags, message, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["staff", *flags])
    assert e.value.code == 2 and message in capsys.readouterr().err


def test_unknown_mode_is_one_line(tmp_path, capsys):
    assert cli.main(["staff", "--leads", "10", "--within", "1", "--modes", "power,turbo", "--serial", "--no-cache",
                     "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dialer: error: --modes must be one of") and "got 'turbo'" in err and err.count("\n") == 1
