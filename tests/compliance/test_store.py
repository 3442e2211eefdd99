"""The statistics store on SQLite and on a real PostgreSQL server: counts, rates, CSV, retention,
the dial log's instants, and statistics that survive the process that wrote them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import sys
import textwrap

import pytest

from dialer.compliance.store import COUNTS, DialRow, Store, retention_cutoff
from dialer.errors import ConfigError

D = dt.date

#: the `dialer` console script, run in a fresh process
DIALER = [sys.executable, "-c", "import sys; from dialer.cli import main; sys.exit(main(sys.argv[1:]))"]


def test_days_round_trip_with_rate(store_url: str) -> None:
    with Store(store_url) as s:
        s.put_day("sales", D(2026, 3, 2), {"attempted": 900, "answered": 300, "connected": 200,
                                            "transferred": 192, "abandoned": 8})
        s.put_day("sales", D(2026, 3, 3), {"attempted": 10})
        s.put_day("survey", D(2026, 3, 2), {"attempted": 5, "connected": 0})
        rows = s.days("sales")
        assert [r.day for r in rows] == [D(2026, 3, 2), D(2026, 3, 3)]
        first = rows[0]
        assert first.counts() == {"attempted": 900, "answered": 300, "connected": 200, "transferred": 192,
                                  "abandoned": 8, "complaints": 0}
        assert first.abandon_rate == pytest.approx(0.04)
        assert rows[1].abandon_rate == 0.0  # nothing connected: no rate, not a division error
        assert s.campaigns() == ["sales", "survey"]
        assert [r.day for r in s.days("sales", D(2026, 3, 3), D(2026, 3, 3))] == [D(2026, 3, 3)]


def test_complaints_are_added_and_survive_a_rewrite_of_the_day(store_url: str) -> None:
    with Store(store_url) as s:
        s.add_to_day("sales", D(2026, 3, 2), {"complaints": 1})
        s.add_to_day("sales", D(2026, 3, 2), {"complaints": 2, "attempted": 4})
        row = s.put_day("sales", D(2026, 3, 2), {"attempted": 50, "connected": 20, "abandoned": 1})
        assert row.complaints == 3 and row.attempted == 50
        assert s.days("sales")[0].complaints == 3


@pytest.mark.parametrize(
    "counts, message",
    [
        ({"attempted": -1}, r"attempted must be a whole number from 0 to 2147483647, got -1"),
        ({"dropped": 1}, r"counts must be one of attempted, .*got 'dropped'"),
        ({"abandoned": 1.5}, r"abandoned must be a whole number from 0 to 2147483647, got 1.5"),
        ({"connected": True}, r"connected must be a whole number from 0 to 2147483647, got True"),
        # the columns are 32-bit on PostgreSQL: a larger count was a traceback from the database driver
        ({"attempted": 2**31}, r"attempted must be a whole number from 0 to 2147483647, got 2147483648"),
        ({"attempted": 10**23}, r"attempted must be a whole number from 0 to 2147483647, got 10{23}"),
        # an abandoned call is an established one (norm 4.6.2): the audit printed "5 of 0 connected = 0.00 %"
        ({"connected": 2, "abandoned": 3}, r"^abandoned must be at most the day's connected calls \(2\), got 3$"),
    ],
)
def test_bad_counts_are_refused_and_nothing_written(tmp_path, counts, message) -> None:
    with Store(tmp_path / "s.sqlite") as s:
        with pytest.raises(ConfigError, match=message):
            s.put_day("sales", D(2026, 3, 2), counts)
        assert s.days() == []


def test_an_addition_is_checked_against_what_the_day_already_has(store_url: str) -> None:
    """More abandoned than connected, or more than a column holds, once added to the day: refused, nothing written."""
    with Store(store_url) as s:
        with pytest.raises(ConfigError, match=r"^abandoned must be at most the day's connected calls; "
                                              r"sales 2026-03-02 has 0 connected and 0 abandoned, got 5$"):
            s.add_to_day("sales", D(2026, 3, 2), {"abandoned": 5})
        assert s.days() == []
        s.add_to_day("sales", D(2026, 3, 2), {"connected": 3, "abandoned": 2})
        s.add_to_day("sales", D(2026, 3, 2), {"abandoned": 1})  # 3 of 3: allowed
        with pytest.raises(ConfigError, match=r"has 3 connected and 3 abandoned, got 1$"):
            s.add_to_day("sales", D(2026, 3, 2), {"abandoned": 1})
        s.add_to_day("sales", D(2026, 3, 2), {"attempted": 2**31 - 1})
        with pytest.raises(ConfigError, match=r"^attempted must be at most 2147483647 for the day in all; "
                                              r"sales 2026-03-02 has 2147483647, got 1$"):
            s.add_to_day("sales", D(2026, 3, 2), {"attempted": 1})
        assert s.days()[0].counts() == {"attempted": 2**31 - 1, "answered": 0, "connected": 3, "transferred": 0,
                                        "abandoned": 3, "complaints": 0}


def test_csv_export(store_url: str) -> None:
    with Store(store_url) as s:
        s.put_day("sales", D(2026, 3, 2), {"attempted": 900, "answered": 300, "connected": 200,
                                            "transferred": 190, "abandoned": 10, "complaints": 1})
        out = io.StringIO()
        assert s.export_csv(out, "sales") == 1
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [
        ["campaign", "date", *COUNTS, "abandon_rate", "simulated"],
        ["sales", "2026-03-02", "900", "300", "200", "190", "10", "1", "0.050000", "no"],
    ]


@pytest.mark.parametrize(
    "today, cutoff",
    [
        (D(2026, 6, 15), D(2025, 6, 15)),
        (D(2026, 1, 1), D(2025, 1, 1)),
        (D(2028, 2, 29), D(2027, 2, 28)),
        (D(2026, 3, 31), D(2025, 3, 31)),
    ],
)
def test_retention_cutoff(today, cutoff) -> None:
    assert retention_cutoff(today) == cutoff
    with pytest.raises(ConfigError, match=r"months must be a whole number from 12 to 1200 .*got 6"):
        retention_cutoff(today, 6)
    with pytest.raises(ConfigError, match=r"months must be a whole number from 12 to 1200 .*got 99999999999"):
        retention_cutoff(today, 99999999999)  # was an OverflowError


def test_retention_deletes_only_rows_older_than_12_months(store_url: str) -> None:
    today = D(2026, 6, 15)
    days = [D(2024, 12, 31) + dt.timedelta(days=i) for i in range(0, 560, 7)] + [
        D(2025, 6, 14), D(2025, 6, 15), D(2025, 6, 16), today
    ]
    utc = dt.timezone.utc
    with Store(store_url) as s:
        for d in days:
            s.put_day("sales", d, {"attempted": 1})
        s.log_dials([
            DialRow("sales", dt.datetime(2025, 6, 14, 23, 59, tzinfo=utc), "a" * 64),
            DialRow("sales", dt.datetime(2025, 6, 15, 0, 0, tzinfo=utc), "b" * 64),
        ])
        before = {r.day for r in s.days()}
        report = s.retain(today)
        after = {r.day for r in s.days()}
        cutoff = D(2025, 6, 15)
        assert after == {d for d in before if d >= cutoff}  # every younger row is still there
        assert all(d < cutoff for d in before - after)
        assert report["daily_stats"] == len(before - after) > 0
        assert [r.number_hash[0] for r in s.dials()] == ["b"] and report["dial_log"] == 1
        assert s.retain(today)["daily_stats"] == 0  # asking again deletes nothing more


def test_dial_log_keeps_the_instant(store_url: str) -> None:
    oslo = __import__("zoneinfo").ZoneInfo("Europe/Oslo")
    t = dt.datetime(2026, 3, 2, 20, 59, 59, 500000, tzinfo=oslo)
    with Store(store_url) as s:
        s.log_dials([DialRow("sales", t, "f" * 64, "abandoned", None)])
        (row,) = s.dials("sales", dt.datetime(2026, 3, 2, tzinfo=oslo), dt.datetime(2026, 3, 3, tzinfo=oslo))
    assert row.placed_at == t and row.placed_at.tzinfo is not None
    assert row.outcome == "abandoned"


def test_statistics_survive_a_process_restart(store_url: str) -> None:
    writer = textwrap.dedent(
        f"""
        import datetime as dt
        from dialer.compliance.store import Store
        s = Store({store_url!r})
        s.put_day("sales", dt.date(2026, 3, 2), {{"attempted": 77, "connected": 20, "abandoned": 1}})
        s.add_to_day("sales", dt.date(2026, 3, 2), {{"complaints": 2}})
        s.close()
        """
    )
    subprocess.run([sys.executable, "-c", writer], check=True, capture_output=True, text=True)
    proc = subprocess.run(
        [*DIALER, "stats", "export", "--store", store_url, "--campaign", "sales"],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1] == "sales,2026-03-02,77,0,20,0,1,2,0.050000,no"


def test_unreachable_or_bad_store_is_one_line(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"store must be a database URL .*got 'nosuchdb://x'"):
        Store("nosuchdb://x")
    with pytest.raises(ConfigError, match=r"store .* cannot be opened"):
        Store(tmp_path / "no" / "such" / "dir" / "s.sqlite")
