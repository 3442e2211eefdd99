"""The same sweep serially, on a local Dask cluster and on an existing scheduler: the same numbers.

Real Dask: a scheduler and a worker process listening on 127.0.0.1, started here.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from dialer import cli
from dialer.errors import ConfigError
from dialer.plan import study as st
from dialer.plan.execute import Backend, RunCache

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def scheduler():
    """A Dask scheduler on the loopback interface with one worker process."""
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0",
        silence_logs=40,
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def _study_file(write, small):
    base = write("base.toml", small)
    return write(
        "sweep.toml",
        {"sweep": {"name": "dask sweep", "scenario": base.name, "replications": 2, "seed": 11, "trace": 300},
         "grid": {"agents": [2, 4], "mode": ["power", "predictive"]}},
    )


def _text(rows):
    return json.dumps(rows, sort_keys=True)


@pytest.mark.slow
def test_serial_local_cluster_and_scheduler_give_identical_results(write, small, tmp_path, scheduler, capsys):
    s = st.load(_study_file(write, small))
    serial = st.run_study(s, backend=Backend("serial"))
    local = st.run_study(s, backend=Backend("local", workers=2))
    assert (serial.stats.computed, local.stats.computed) == (8, 8)
    for name in ("runs", "days", "trace", "summary"):
        assert _text(getattr(local, name)) == _text(getattr(serial, name)), name

    # the command-line path to an existing scheduler, its files compared with the serial rows
    out = tmp_path / "o"
    path = tmp_path / "sweep.toml"
    assert cli.main(["study", str(path), "--scheduler", scheduler, "--cache", str(tmp_path / "c"),
                     "--out", str(out), "--no-plots"]) == 0
    assert f"8 runs computed on the Dask scheduler at {scheduler}" in capsys.readouterr().out
    remote = pd.read_parquet(out / "runs.parquet")
    expected = pd.DataFrame(serial.runs)
    for col in ("attempted", "transferred", "abandoned", "abandon_rate", "connects_per_agent_hour",
                "agent_utilization", "mean_idle_between_calls", "leads_finished_share"):
        assert list(remote[col]) == list(expected[col]), col  # exactly: same seeds, same floats

    # and a second run against the scheduler finds everything in the cache
    cached = st.run_study(s, backend=Backend("scheduler", address=scheduler), cache=RunCache(tmp_path / "c"))
    assert (cached.stats.computed, cached.stats.cached) == (0, 8)
    assert _text(cached.runs) == _text(serial.runs)


def test_an_unreachable_scheduler_names_the_flag(write, small):
    s = st.load(_study_file(write, small))
    with pytest.raises(ConfigError, match=r"^--scheduler cannot be reached, got 'tcp://127.0.0.1:9'"):
        st.run_study(s, backend=Backend("scheduler", address="tcp://127.0.0.1:9", timeout=1.0))


def test_more_runs_than_the_window_all_come_back(write, small, scheduler, monkeypatch):
    """Runs go to Dask a window at a time (100,000 futures at once lost the client its scheduler): with a
    window of 3, eight runs all come back, each once, with the serial numbers."""
    from dialer.plan import execute

    monkeypatch.setattr(execute, "DASK_WINDOW", 3)
    s = st.load(_study_file(write, small))
    serial = st.run_study(s, backend=Backend("serial"))
    remote = st.run_study(s, backend=Backend("scheduler", address=scheduler))
    assert remote.stats.computed == 8
    assert _text(remote.runs) == _text(serial.runs)
