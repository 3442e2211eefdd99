"""Replications and sweeps: intervals that cover, tidy rows, identical results on every backend, resume."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from dialer import cli
from dialer.plan import study as st
from dialer.plan.execute import RunCache, run_tasks
from dialer.plan.runs import make_task, task_key
from dialer.plan.stats import mean_ci, summarise
from dialer.sim import scenario

# --- confidence intervals ---------------------------------------------------------------------


def test_mean_ci_is_the_student_t_interval():
    mean, lo, hi, sd = mean_ci([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5 and sd == pytest.approx(math.sqrt(5 / 3))
    # t(0.975, 3) = 3.182446...
    assert hi - mean == pytest.approx(3.182446305 * sd / 2.0, rel=1e-8)
    assert mean - lo == pytest.approx(hi - mean)
    one = mean_ci([7.0])
    assert one[0] == 7.0 and math.isnan(one[1]) and math.isnan(one[2])


def test_intervals_cover_a_known_live_rate_at_about_the_stated_rate():
    """Each lead is dialled exactly once (one attempt, a window long enough), so a run's live
    answers per dial is Binomial(200, 0.3) / 200: its mean is exactly 0.3. Over 60 independent
    studies of 5 replications, a 95 % interval should miss about 3 times and a 50 % interval
    about 30 times; bands are 3 binomial standard deviations."""
    data = {
        "study": {"name": "coverage", "hours": ["09:00", "11:00"]},
        "agents": [{"count": 4}],
        "campaigns": [{"name": "c", "leads": 200, "outcomes": {"live": 0.3}, "retry": {"max_attempts": 1}}],
    }
    studies, reps = 60, 5
    s = st.from_scenario(scenario.from_dict(data), replications=studies * reps, seed=1000, trace=None)
    runs = st.run_study(s).runs
    assert {r["attempted"] for r in runs} == {200}  # the premise: a fixed number of dials
    cover95 = cover50 = 0
    for k in range(studies):
        values = [r["live_rate"] for r in runs[k * reps : (k + 1) * reps]]
        _, lo, hi, _ = mean_ci(values, 0.95)
        cover95 += lo <= 0.3 <= hi
        _, lo, hi, _ = mean_ci(values, 0.50)
        cover50 += lo <= 0.3 <= hi
    sd95 = math.sqrt(studies * 0.95 * 0.05)
    sd50 = math.sqrt(studies * 0.25)
    assert studies * 0.95 - 3 * sd95 <= cover95, cover95
    assert abs(cover50 - studies * 0.5) <= 3 * sd50, cover50


def test_summary_groups_and_clips_to_the_range():
    rows = [{"v": "a", "x": 0.0}, {"v": "a", "x": 0.01}, {"v": "a", "x": 0.0}, {"v": "b", "x": 0.5}]
    out = summarise(rows, ["v"], ["x"], bounds={"x": (0.0, 1.0)})
    a = next(r for r in out if r["v"] == "a")
    assert a["n"] == 3 and a["ci_low"] == 0.0 and a["ci_high"] > a["mean"]
    b = next(r for r in out if r["v"] == "b")
    assert b["n"] == 1 and math.isnan(b["ci_low"])


# --- study files and variations --------------------------------------------------------------


def _sweep(write, small, **grid):
    base = write("base.toml", small)
    return write(
        "sweep.toml",
        {"sweep": {"name": "small sweep", "scenario": base.name, "replications": 2, "seed": 3, "trace": 120},
         "grid": grid},
    )


def test_grid_expands_and_rows_carry_inputs(write, small):
    path = _sweep(write, small, agents=[2, 3], mode=["power", "predictive"], target=[0.03, 0.045])
    s = st.load(path)
    labels = [v.label for v in s.variations]
    # a target means nothing to Power: mode=power x 2 targets is one variation
    assert labels == [
        "agents=2, mode=power",
        "agents=2, mode=predictive, target=0.03",
        "agents=2, mode=predictive, target=0.045",
        "agents=3, mode=power",
        "agents=3, mode=predictive, target=0.03",
        "agents=3, mode=predictive, target=0.045",
    ]
    sc = st.scenario_of(s, s.variations[2])
    assert sc.agents[0].count == 2 and sc.campaigns[0].mode == "predictive"
    assert sc.campaigns[0].pacer == {"target": 0.045}
    res = st.run_study(s)
    assert len(res.runs) == 6 * 2
    row = next(r for r in res.runs if r["variation"] == labels[2] and r["replication"] == 1)
    assert (row["agents"], row["mode"], row["target"], row["seed"]) == (2, "predictive", 0.045, 4)
    # common random numbers: every variation uses seeds 3 and 4
    assert {r["seed"] for r in res.runs} == {3, 4}
    # a trace of each variation's first replication only
    assert {(r["variation"], r["replication"]) for r in res.trace} == {(v, 0) for v in labels}


def test_variations_change_what_they_name(small):
    small["agents"] = [{"name": "day", "count": 10, "shift": ["09:00", "10:00"]},
                       {"name": "late", "count": 5, "shift": ["10:00", "10:30"]}]
    small["campaigns"][0]["outcomes"]["hours"] = {"10": {"live": 0.2}}
    s = st.parse_study({"sweep": {"scenario": "x"}, "scenario": small}, source="t") if False else None
    s = st.Study(name="t", base=scenario.from_dict(small).model_dump(mode="json"), variations=[],
                 shifts={"long": [{"name": "all", "count": 7}]})
    d = st.apply(s, {"agents": 20, "live": 0.45, "talk": 85.0, "leads": 99, "days": 3})
    assert [g["count"] for g in d["agents"]] == [20, 10]
    assert d["campaigns"][0]["outcomes"]["live"] == 0.45
    assert d["campaigns"][0]["outcomes"]["hours"]["10"]["live"] == pytest.approx(0.3)
    talk = scenario.from_dict(d).campaigns[0].durations.talk
    assert talk.mean == pytest.approx(85.0) and talk.sd == pytest.approx(60.0)
    assert d["campaigns"][0]["leads"] == 99 and d["study"]["days"] == 3
    d = st.apply(s, {"shift": "long"})
    assert [(g["name"], g["count"]) for g in d["agents"]] == [("all", 7)]


@pytest.mark.parametrize(
    "grid, message",
    [
        ({"agentz": [1]}, "grid.agentz: unknown variation key"),
        ({"agents": [0]}, "agents must be a whole number from 1 to 5000, got 0"),
        ({"mode": ["turbo"]}, "campaigns[0].mode must be one of"),
        ({"live": [1.5]}, "live must be a probability in (0, 1], got 1.5"),
        ({"agents": 5}, "grid.agents must be a non-empty list of values, got 5"),
        ({"shift": ["night"]}, "shift must name a shift plan (none defined), got 'night'"),
    ],
)
def test_bad_study_files_are_one_line_naming_the_field(write, small, capsys, grid, message):
    path = _sweep(write, small, **grid)
    assert cli.main(["study", str(path), "--serial", "--no-cache", "--out", str(path.parent / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dialer: error: ") and err.count("\n") == 1
    assert message in err


def test_bad_flags_exit_2(small, write, capsys):
    path = write("s.toml", small)
    with pytest.raises(SystemExit) as e:
        cli.main(["study", str(path), "--replications", "0"])
    assert e.value.code == 2
    assert "--replications: must be a whole number from 1 to 10000, got '0'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        cli.main(["study", str(path), "--scheduler", "localhost:8786"])
    assert e.value.code == 2
    assert "tcp://HOST:PORT" in capsys.readouterr().err


# --- the cache and resuming ------------------------------------------------------------------


def test_key_depends_on_scenario_and_seed(small):
    dump = scenario.from_dict(small).model_dump(mode="json")
    k = task_key(make_task(dump, 1))
    assert k == task_key(make_task(json.loads(json.dumps(dump)), 1))
    assert k != task_key(make_task(dump, 2))
    small["campaigns"][0]["leads"] = 501
    assert k != task_key(make_task(scenario.from_dict(small).model_dump(mode="json"), 1))


def test_an_interrupted_sweep_resumes_without_rerunning_finished_runs(write, small, tmp_path):
    s = st.load(_sweep(write, small, agents=[2, 3, 4]))
    cache = RunCache(tmp_path / "cache")
    seen = []

    def interrupt(done: int, total: int) -> None:
        seen.append(done)
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        st.run_study(s, cache=cache, progress=interrupt)
    again = st.run_study(s, cache=cache)
    assert (again.stats.computed, again.stats.cached) == (4, 2)
    third = st.run_study(s, cache=cache)
    assert (third.stats.computed, third.stats.cached) == (0, 6)
    fresh = st.run_study(s)
    for name in ("runs", "days", "trace"):  # JSON text: NaN (no agent available) compares equal to NaN
        assert json.dumps(getattr(third, name)) == json.dumps(getattr(fresh, name))


def test_second_cli_run_computes_nothing(write, small, tmp_path, capsys):
    path = _sweep(write, small, agents=[2, 3])
    args = ["study", str(path), "--serial", "--cache", str(tmp_path / "c"), "--out", str(tmp_path / "o"), "--no-plots"]
    assert cli.main(args) == 0
    assert "4 runs computed serially in this process, 0 taken from the cache" in capsys.readouterr().out
    first = pd.read_parquet(tmp_path / "o" / "runs.parquet")
    assert cli.main(args) == 0
    assert "0 runs computed serially in this process, 4 taken from the cache" in capsys.readouterr().out
    pd.testing.assert_frame_equal(first, pd.read_parquet(tmp_path / "o" / "runs.parquet"))


def test_identical_tasks_are_computed_once(small):
    dump = scenario.from_dict(small).model_dump(mode="json")
    results, stats = run_tasks([make_task(dump, 1), make_task(dump, 1), make_task(dump, 2)])
    assert stats.computed == 2 and results[0] == results[1] != results[2]


# --- files ---------------------------------------------------------------------------------------


def test_study_writes_tables_json_and_plots(write, small, tmp_path, capsys):
    path = write("s.toml", small)
    out = tmp_path / "o"
    assert cli.main(["study", str(path), "--replications", "3", "--seed", "7", "--serial", "--no-cache",
                     "--out", str(out), "--json", str(tmp_path / "s.json")]) == 0
    printed = capsys.readouterr().out
    assert "3 replications (seeds 7..9)" in printed and "connects per agent-hour" in printed
    data = json.loads((tmp_path / "s.json").read_text())
    stat = data["campaigns"]["sales"]["connects_per_agent_hour"]
    assert stat["ci_low"] < stat["mean"] < stat["ci_high"] and stat["n"] == 3
    runs = pd.read_csv(out / "runs.csv")
    assert list(runs["seed"]) == [7, 8, 9]
    assert stat["mean"] == pytest.approx(runs["connects_per_agent_hour"].mean())
    summary = pd.read_parquet(out / "summary.parquet")
    assert {"variation", "agents", "mode", "campaign", "statistic", "mean", "ci_low", "ci_high"} <= set(summary)
    for name in ("abandon_through_day", "calls_in_flight", "agent_states"):
        png = (out / "plots" / f"{name}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
        svg = (out / "plots" / f"{name}.svg").read_text()
        assert "<svg" in svg and len(svg) > 10_000


def test_the_example_study_file_is_valid():
    root = Path(__file__).resolve().parents[2]
    s = st.load(root / "simulations" / "sweep_agents.toml")
    assert len(s.variations) == 9 and s.replications == 5 and s.campaign == "sales"


def test_a_study_too_large_for_memory_is_refused_before_anything_runs(small):
    """`dialer study --replications 100000000000` grew to 4 GB before anything ran; now every size that
    grows with the study is bounded, and the message says the largest value that fits."""
    from dialer import limits
    from dialer.errors import ConfigError

    sc = scenario.from_dict(small)
    with pytest.raises(ConfigError, match=r"^--replications must be a whole number from 1 to 10000, got 10001$"):
        st.from_scenario(sc, replications=10_001)
    data = copy.deepcopy(small)
    data["study"]["days"] = 300
    long = scenario.from_dict(data)
    most = limits.MAX_CAMPAIGN_DAYS // 300
    assert st.from_scenario(long, replications=most).replications == most
    with pytest.raises(ConfigError, match=rf"^--replications must be at most {most} for this study \(300 "
                                          rf"campaign-days per replication; a study keeps at most 500000\), got 1667$"):
        st.from_scenario(long, replications=most + 1)
    # eleven variations: at most 100,000 runs
    sweep = {"sweep": {"replications": 10_000}, "scenario": small, "grid": {"agents": list(range(1, 12))}}
    with pytest.raises(ConfigError, match=r"^s.toml: sweep.replications must be at most 9090 for 11 variation"):
        st.parse_study(sweep, source="s.toml")
    sweep["sweep"]["replications"] = 9090
    study = st.parse_study(sweep, source="s.toml")
    # changed by hand after it was built: run_study checks it too
    study.replications = 9091
    with pytest.raises(ConfigError, match=r"^replications must be at most 9090"):
        st.run_study(study)


def test_a_trace_too_long_for_memory_is_refused_or_widened(small):
    """The trace of a year of 24-hour days sampled every minute would keep 527,000 samples (about 1 GB):
    a study file's `trace` is refused, naming the least interval that fits; a plain scenario's is widened."""
    from dialer.errors import ConfigError

    data = copy.deepcopy(small)
    data["study"].update(days=366, hours=["00:00", "24:00"])
    for g in data["agents"]:
        g.pop("shift", None)
    year = scenario.from_dict(data)
    assert st.from_scenario(year, replications=1).trace == 120.0
    assert st.from_scenario(scenario.from_dict(small), replications=1).trace == 60.0
    with pytest.raises(ConfigError, match=r"^y.toml: sweep.trace must be false, or at least 120 seconds for this study "
                                          r"\(its trace keeps at most 500000 samples\), got 60.0$"):
        st.parse_study({"sweep": {"trace": 60.0, "replications": 1}, "scenario": data}, source="y.toml")
    assert st.parse_study({"sweep": {"trace": False, "replications": 1}, "scenario": data}, source="y.toml").trace is None
