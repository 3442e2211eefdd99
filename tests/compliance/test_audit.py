"""`dialer audit`: the regulator's figures from the store, and every broken rule flagged: a day over
the limit (exactly), calls on a closed day or outside hours, a dialled number that was on a register
at that instant. The HTML is self-contained with the plot inlined."""

from __future__ import annotations

import base64
import datetime as dt
import re
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo


import pytest

from dialer.compliance.audit import build_audit, render_html
from dialer.rules.presets import get_preset
from dialer.compliance.store import DialRow, EntryRow, Store
from dialer.rules.dnc import Hasher

DIALER = [sys.executable, "-c", "import sys; from dialer.cli import main; sys.exit(main(sys.argv[1:]))"]
OSLO = ZoneInfo("Europe/Oslo")
H = Hasher(b"audit test secret 0123")


def at(*a: int) -> dt.datetime:
    return dt.datetime(*a, tzinfo=OSLO)


def fill(store: Store) -> None:
    day = {"attempted": 900, "answered": 300, "connected": 200, "transferred": 190}
    store.put_day("sales", dt.date(2026, 3, 2), {**day, "abandoned": 10})  # exactly 5 %: allowed
    store.put_day("sales", dt.date(2026, 3, 3), {**day, "abandoned": 11})  # 5.5 %: over
    store.put_day("sales", dt.date(2026, 3, 7), {"attempted": 3})  # a Saturday
    store.put_day("other", dt.date(2026, 3, 3), {**day, "abandoned": 50})  # another campaign: not audited
    store.add_entries([
        EntryRow("internal", H.number("+4741234567"), None, None, None, at(2026, 3, 3, 12, 0)),
        EntryRow("national", H.number("+4791234567"), None, None, None, at(2026, 3, 1, 0, 0)),
    ])
    store.log_dials([
        DialRow("sales", at(2026, 3, 3, 11, 59, 59), H.number("+4741234567")),  # before the block: fine
        DialRow("sales", at(2026, 3, 3, 12, 0, 0), H.number("+4741234567")),  # from the block on: flagged
        DialRow("sales", at(2026, 3, 2, 10, 0), H.number("+4791234567"), None, "existing_customer"),  # excepted
        DialRow("sales", at(2026, 3, 2, 10, 5), H.number("+4791234567")),  # national, no exception: flagged
        DialRow("sales", at(2026, 3, 2, 8, 59, 59), H.number("+4790000001")),  # before 09:00
        DialRow("sales", at(2026, 3, 2, 21, 0, 0), H.number("+4790000002")),  # at the close: outside
        DialRow("sales", at(2026, 3, 2, 20, 59, 59), H.number("+4790000003")),  # fine
        DialRow("other", at(2026, 3, 2, 22, 0), H.number("+4741234567")),  # another campaign
    ])


def test_flags(store_url: str) -> None:
    with Store(store_url) as s:
        fill(s)
        a = build_audit(s, get_preset("NO"), "sales", dt.date(2026, 3, 1), dt.date(2026, 3, 8))
    assert [d.day.day for d in a.days] == [2, 3, 7]
    assert a.dials == 7 and a.excepted == 1
    got = sorted((f.kind, f.when) for f in a.flags)
    assert got == sorted([
        ("over limit", "2026-03-03"),
        ("closed day", "2026-03-07"),
        ("on register", "2026-03-03 12:00:00+01:00"),
        ("on register", "2026-03-02 10:05:00+01:00"),
        ("outside hours", "2026-03-02 08:59:59+01:00"),
        ("outside hours", "2026-03-02 21:00:00+01:00"),
    ])
    assert a.totals().abandoned == 21 and a.totals().connected == 400


def test_html_is_self_contained_with_the_plot(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as s:
        fill(s)
        a = build_audit(s, get_preset("NO"), "sales", dt.date(2026, 3, 1), dt.date(2026, 3, 8))
    page = render_html(a)
    assert not re.search(r"(src|href)=\"(?!data:)", page)  # nothing fetched from elsewhere
    png = base64.b64decode(re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page).group(1))
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
    assert "OVER LIMIT" in page and "Flags (6)" in page and "91234567" not in page


def test_cli(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    with Store(store) as s:
        fill(s)
    html = tmp_path / "audit.html"
    p = subprocess.run([*DIALER, "audit", "--campaign", "sales", "--from", "2026-03-01", "--to", "2026-03-08",
                        "--store", str(store), "--html", str(html)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "FLAGS: 6" in p.stdout and html.exists()
    assert re.search(r"^2026-03-03 +900 +300 +200 +190 +11 +0 +5.50 % +OVER LIMIT$", p.stdout, re.M)
    for argv, message in [
        (["--campaign", "nope", "--from", "2026-03-01", "--to", "2026-03-08"],
         "dialer: error: campaign must be one of other, sales, got 'nope'"),
        (["--campaign", "sales", "--from", "2026-03-08", "--to", "2026-03-01"],
         "dialer: error: --to must be on or after --from (2026-03-08), got '2026-03-01'"),
        (["--campaign", "sales", "--from", "March", "--to", "2026-03-01"],
         "dialer: error: argument --from: must be a date YYYY-MM-DD, got 'March'"),
        (["--campaign", "sales", "--from", "2026-03-01", "--to", "2026-03-08", "--preset", "ZZ"],
         "dialer: error: preset must be one of NO, UK, US, CA, got 'ZZ'"),
    ]:
        p = subprocess.run([*DIALER, "audit", *argv, "--store", str(store)], capture_output=True, text=True)
        assert (p.returncode, p.stderr.strip()) == (2, message)


def test_live_and_simulated_days_apart_and_what_was_checked(store_url: str) -> None:
    from dialer.compliance.audit import text_lines
    from dialer.compliance.store import NO_NUMBER, CampaignInfo

    with Store(store_url) as s:
        fill(s)
        s.put_day("sales", dt.date(2026, 3, 4), {"attempted": 2, "connected": 1}, simulated=True)
        s.log_dials([DialRow("sales", at(2026, 3, 4, 10, 0), NO_NUMBER, "busy", simulated=True),
                     DialRow("sales", at(2026, 3, 4, 22, 0), NO_NUMBER, "busy", simulated=True)])
        s.put_info(CampaignInfo("sales", "live", "NO", "Europe/Oslo", "+4722334455", False))
    with Store(store_url, readonly=True) as r:  # as `dialer audit` opens it: nothing can be written
        a = build_audit(r, get_preset("NO"), "sales", dt.date(2026, 3, 1), dt.date(2026, 3, 8))
        with pytest.raises(Exception, match="(?i)read.?only"):
            r.put_day("sales", dt.date(2026, 3, 9), {"attempted": 1})
    assert [d.day.day for d in a.live_days] == [2, 3, 7] and [d.day.day for d in a.simulated_days] == [4]
    assert (a.live.dials, a.live.numbered, a.simulated.dials, a.simulated.numbered) == (7, 7, 2, 0)
    text = "\n".join(text_lines(a))
    assert "Live days (dialer serve):" in text and "Simulated days (dialer simulate --store):" in text
    assert ("checked: live: 7 dials checked against hours and registers; simulated: 2 dials checked against "
            "hours; not against the registers (simulated leads have no phone numbers)") in text
    assert "caller ID: +4722334455 (declared by the live campaign, norm 4.4.2)" in text
    assert "registers screened at dial time: OFF" in text
    assert ("outside hours", "2026-03-04 22:00:00+01:00") in [(f.kind, f.when) for f in a.flags]  # (simulated too)


def test_with_nothing_to_check_the_audit_says_so(tmp_path: Path) -> None:
    # before, an empty period printed "FLAGS: none (no call outside hours, ...)" after checking zero dials
    store = tmp_path / "s.sqlite"
    with Store(store) as s:
        fill(s)
    p = subprocess.run([*DIALER, "audit", "--campaign", "sales", "--from", "2026-04-01", "--to", "2026-04-30",
                        "--store", str(store)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "NOTHING TO CHECK: no daily statistics and no dials stored for campaign 'sales' from 2026-04-01 to " \
           "2026-04-30" in p.stdout and "FLAGS" not in p.stdout


def test_the_audit_flags_every_day_dialled_with_a_stale_national_register(store_url: str) -> None:
    with Store(store_url) as s:
        s.log_import("national", at(2026, 1, 30, 12), "national.csv", 1)
        s.log_dials([DialRow("sales", at(2026, 1, 30, 13), H.number("+4790000001")),  # the day of the wash: fresh
                     DialRow("sales", at(2026, 2, 2, 10), H.number("+4790000002")),  # a new month, no new wash
                     DialRow("sales", at(2026, 2, 3, 10), H.number("+4790000003"))])
        a = build_audit(s, get_preset("NO"), "sales", dt.date(2026, 1, 1), dt.date(2026, 2, 28))
        never = build_audit(s, get_preset("NO"), "sales", dt.date(2026, 1, 30), dt.date(2026, 1, 30))
    stale = [(f.when, f.detail) for f in a.flags if f.kind == "stale register"]
    assert stale == [(day, "national register last imported 2026-01-30, not in the month dialled (guide 3.2: wash "
                           "in every month calls are made)") for day in ("2026-02-02", "2026-02-03")]
    assert never.flags == []
    uk = build_audit(Store(store_url), get_preset("UK"), "sales", dt.date(2026, 1, 1), dt.date(2026, 2, 28))
    assert [f.when for f in uk.flags if f.kind == "stale register"] == []  # UK: 28 days, and 4 days passed


def test_the_audit_creates_and_alters_nothing_and_reads_a_store_without_a_table(tmp_path: Path) -> None:
    import sqlite3

    store = tmp_path / "old.sqlite"
    with sqlite3.connect(store) as c:  # a store as an older version left it: daily statistics only
        c.execute("CREATE TABLE daily_stats (campaign VARCHAR(200), day DATE, attempted INTEGER, answered INTEGER, "
                  "connected INTEGER, transferred INTEGER, abandoned INTEGER, complaints INTEGER, "
                  "PRIMARY KEY (campaign, day))")
        c.execute("INSERT INTO daily_stats VALUES ('sales', '2026-03-02', 900, 300, 200, 190, 10, 0)")
    before = store.read_bytes()
    p = subprocess.run([*DIALER, "audit", "--campaign", "sales", "--from", "2026-03-01", "--to", "2026-03-08",
                        "--store", str(store)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert re.search(r"^2026-03-02 +900 +300 +200 +190 +10 +0 +5.00 %$", p.stdout, re.M)
    assert "checked: no dials in the dial log for this period" in p.stdout
    assert store.read_bytes() == before  # no table created, no column added
    with sqlite3.connect(store) as c:
        assert [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == ["daily_stats"]
    missing = tmp_path / "none.sqlite"
    p = subprocess.run([*DIALER, "audit", "--campaign", "sales", "--from", "2026-03-01", "--to", "2026-03-08",
                        "--store", str(missing)], capture_output=True, text=True)
    assert p.returncode == 2 and p.stderr.startswith("dialer: error: store ") and "cannot be opened" in p.stderr
    assert not missing.exists()  # an audit never creates a store
