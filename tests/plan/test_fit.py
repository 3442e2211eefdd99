"""Calibration: records the simulator writes from known parameters are fitted back within tolerance."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dialer import cli
from dialer.plan import fit
from dialer.sim import scenario
from dialer.sim.trace import simulate_traced

KNOWN = {
    "study": {"name": "known", "start": "2026-11-24", "days": 2, "hours": ["09:00", "13:00"]},
    "agents": [{"name": "day", "count": 10}],
    "campaigns": [{
        "name": "sales", "mode": "power", "leads": 6000,
        "outcomes": {"live": 0.25, "machine": 0.10, "busy": 0.05, "invalid": 0.03, "hours": {"11": {"live": 0.35}}},
        "durations": {
            "ring": {"dist": "lognormal", "mean": 17, "sd": 8},
            "no_answer": 30,
            "busy": {"dist": "uniform", "low": 3, "high": 8},
            "talk": {"dist": "lognormal", "mean": 170, "sd": 120},
            "wrap": {"dist": "gamma", "mean": 30, "sd": 15},
        },
    }],
}


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fit")
    sc = scenario.from_dict(KNOWN)
    _, _, log = simulate_traced(sc, 5, interval=None, calls=True)
    path = tmp / "calls.csv"
    fit.write_calls(path, log.records, sc)
    records = fit.read_calls(path, "Europe/Oslo")
    return path, records, fit.fit_records(records, sc)


def _within(estimate: float, true: float, se: float) -> bool:
    return abs(estimate - true) <= 4 * se


def test_outcome_probabilities_by_hour_come_back(fitted):
    _, records, f = fitted
    assert not records.bad and f.used == records.rows
    for hour, live in ((9, 0.25), (10, 0.25), (11, 0.35), (12, 0.25)):
        n = f.hour_dials[hour]
        assert n >= 300
        se = math.sqrt(live * (1 - live) / n)
        assert _within(f.hours[hour]["live"], live, se), (hour, f.hours[hour]["live"])
    n = f.used
    for name, p in (("machine", 0.10), ("busy", 0.05), ("invalid", 0.03)):
        assert _within(f.probabilities[name], p, math.sqrt(p * (1 - p) / n)), name


def test_duration_families_and_moments_come_back(fitted):
    _, _, f = fitted
    by = {d.name: d for d in f.durations}
    assert by["no_answer"].spec == {"dist": "constant", "value": 30.0}
    assert by["busy"].chosen == "uniform"
    assert by["busy"].spec["low"] == pytest.approx(3, abs=0.25) and by["busy"].spec["high"] == pytest.approx(8, abs=0.25)
    for name, family, mean, sd in (("ring", "lognormal", 17, 8), ("talk", "lognormal", 170, 120),
                                   ("wrap", "gamma", 30, 15)):
        d = by[name]
        assert d.chosen == family, (name, d.aic)
        assert _within(d.spec["mean"], mean, sd / math.sqrt(d.n)), (name, d.spec)
        # the sd of a sample sd is about sd * sqrt((kurtosis - 1) / 4n); a heavy tail: allow 15 %
        assert d.spec["sd"] == pytest.approx(sd, rel=0.15), (name, d.spec)
        assert d.ks < 1.36 / math.sqrt(d.n) * 1.5  # near the 5 % KS critical value or better


def test_fitted_scenario_is_a_loadable_scenario(fitted, tmp_path):
    path, _, f = fitted
    text = fit.to_toml(f.scenario, fit.header_lines(f, str(path)))
    out = tmp_path / "fitted.toml"
    out.write_text(text)
    sc = scenario.load(out)
    c = sc.campaigns[0]
    assert sc.study.start.isoformat() == "2026-11-24" and sc.study.days == 2
    assert tuple(sc.study.hours) == (9 * 3600.0, 13 * 3600.0)
    assert c.outcomes.for_hour(11)[0] == pytest.approx(f.hours[11]["live"])
    assert c.durations.talk.mean == pytest.approx(f.durations[4].spec["mean"])


@pytest.mark.slow
def test_fit_command_reports_bad_rows_by_line_and_writes_scenario_and_plot(fitted, tmp_path, capsys):
    path, _, _ = fitted
    lines = path.read_text().splitlines()
    lines[2] = lines[2].rsplit(",", 1)[0] + ",hung_up"  # line 3: an unknown outcome
    cells = lines[4].split(",")
    cells[5] = "yesterday"  # line 5: a dial time that is no time
    lines[4] = ",".join(cells)
    bad = tmp_path / "calls.csv"
    bad.write_text("\n".join(lines) + "\n")
    out = tmp_path / "s.toml"
    assert cli.main(["fit", str(bad), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"skipped {bad}: line 3: outcome: must be one of no_answer, busy, invalid, machine, transferred, " \
           "abandoned, got 'hung_up'" in printed.replace("\n", "")
    assert "line 5: dial: must be an ISO 8601 time" in printed.replace("\n", "")
    assert "2 bad rows skipped" in printed
    scenario.load(out)
    assert (tmp_path / "s-fit.png").read_bytes()[:4] == b"\x89PNG"
    assert "<svg" in (tmp_path / "s-fit.svg").read_text()
    assert cli.main(["fit", str(bad), "--out", str(out), "--strict"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "line 3: outcome: must be one of" in err


def test_a_file_without_the_required_columns_is_one_line(tmp_path, capsys):
    p = tmp_path / "c.csv"
    p.write_text("dial,end,outcome\n2026-11-24T09:00:00,2026-11-24T09:00:30,no_answer\n")
    assert cli.main(["fit", str(p), "--out", str(tmp_path / "s.toml")]) == 2
    err = capsys.readouterr().err
    assert "line 1: the header must have columns dial, answer, connect, end, outcome" in err
    assert "(missing answer, connect)" in err and err.count("\n") == 1


def test_too_few_samples_keep_the_base_distribution():
    f = fit.fit_duration("wrap", np.array([1.0, 2.0, 3.0]))
    assert f.chosen is None and f.spec is None and f.n == 3
