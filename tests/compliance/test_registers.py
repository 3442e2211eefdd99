"""Register and lead-list files: messy numbers normalised, malformed rows reported by line (or the
whole file refused with strict), nothing in clear at rest, a washed list written out."""

from __future__ import annotations

import csv
import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from dialer.compliance import registers as reg
from dialer.compliance.store import Store
from dialer.rules.dnc import Hasher, Status
from dialer.errors import ConfigError

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
H = Hasher(b"centre secret 0123456789")

NATIONAL = (
    "telefon;navn;adresse;fodselsdato\n"
    "+47 912 34 567;Ola Nordmann;Storgata 1;01.02.1980\n"
    "0047-22334455;;;\n"
    "not a number;Kari;;\n"
    "98765432;Per Hansen;;1975-05-05\n"
    "\n"
    "4790011122;Eva;;31.02.1990\n"
    "40 00 00 01;Too;Many;Fields;here\n"
)

#: the `dialer` console script, run in a fresh process
DIALER = [sys.executable, "-c", "import sys; from dialer.cli import main; sys.exit(main(sys.argv[1:]))"]


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_malformed_rows_reported_by_line_and_the_rest_imported(tmp_path: Path, store_url: str) -> None:
    f = write(tmp_path, "national.csv", NATIONAL)
    with Store(store_url) as s:
        report = reg.import_register(s, H, f, "national", T0)
        assert report.imported == 3
        assert [(e.line, e.message.split(" must")[0]) for e in report.errors] == [
            (4, "phone"), (7, "date_of_birth"), (8, "5 fields, the header has 4")
        ][:2] + [(8, "5 fields, the header has 4")]
        regs = reg.load_registers(s, H)
    assert len(regs) == 3


def test_strict_refuses_the_whole_file(tmp_path: Path, store_url: str) -> None:
    f = write(tmp_path, "national.csv", NATIONAL)
    with Store(store_url) as s:
        with pytest.raises(ConfigError, match=r"national.csv: 3 malformed row\(s\), nothing imported \(strict\): line 4: phone"):
            reg.import_register(s, H, f, "national", T0, strict=True)
        assert list(s.entries()) == []


def test_numbers_are_never_stored_in_clear(tmp_path: Path, store_url: str) -> None:
    f = write(tmp_path, "national.csv", NATIONAL)
    with Store(store_url) as s:
        reg.import_register(s, H, f, "national", T0)
        with s.engine.connect() as c:
            dump = " ".join(str(v) for table in ("register_entries", "meta")
                            for row in c.execute(sa.text(f"SELECT * FROM {table}")) for v in row)
    for clear in ("91234567", "22334455", "98765432", "Nordmann", "Storgata", "1980"):
        assert clear not in dump
    assert H.number("+4791234567") in dump
    if store_url.startswith("sqlite"):
        raw = Path(store_url.removeprefix("sqlite:///")).read_bytes()
        assert b"91234567" not in raw and b"Nordmann" not in raw


def test_a_new_national_extract_replaces_the_last(tmp_path: Path, store_url: str) -> None:
    first = write(tmp_path, "jan.csv", "phone\n91234567\n22334455\n")
    second = write(tmp_path, "feb.csv", "phone\n22334455\n")
    t1 = T0 + dt.timedelta(days=31)
    with Store(store_url) as s:
        reg.import_register(s, H, first, "national", T0)
        reg.import_register(s, H, write(tmp_path, "int.csv", "phone\n41234567\n"), "internal", T0)
        assert reg.import_register(s, H, second, "national", t1).ended == 2
        regs = reg.load_registers(s, H)
    ola = reg.Lead(H.person("+4791234567"))
    assert regs.check(ola, t1 - dt.timedelta(seconds=1)).status is Status.BLOCKED
    assert regs.check(ola, t1).status is Status.CLEAR  # off the register in the new extract
    assert regs.check(reg.Lead(H.person("+4722334455")), t1).status is Status.BLOCKED
    assert regs.check(reg.Lead(H.person("+4741234567")), t1).status is Status.BLOCKED  # internal untouched


def test_wash_file_with_messy_numbers(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as s:
        reg.import_register(s, H, write(tmp_path, "n.csv", NATIONAL), "national", T0)
        reg.import_register(s, H, write(tmp_path, "i.csv", "phone,name\n412 34 567,Lise\n"), "internal", T0)
        regs = reg.load_registers(s, H)
    leads = write(tmp_path, "leads.csv",
                  "id,phone,name,address,date_of_birth,existing_customer,express_request\n"
                  "1,0047 912-34-567,X,,,no,no\n"          # national by number, written otherwise
                  "2,+47 22 33 44 55,Y,,,nei,nei\n"         # national landline: the whole household
                  "3,99887766,Per Hansen,Elsewhere,,no,no\n"  # name only: uncertain, held back
                  "4,4741234567,Lise,,,ja,ja\n"             # internal: exceptions do not help
                  "5,98765432,Per Hansen,,,yes,\n"          # national, existing customer: may be called
                  "6,90000001,Nils,,,,\n"                   # clear
                  "7,12345,Bad,,,,\n"                        # garbage: reported with its line
                  "8,90000002,Maybe,,,perhaps,\n")           # bad flag: reported
    out, held = tmp_path / "ok.csv", tmp_path / "held.csv"
    result, rows = reg.wash_file(regs, H, leads, out, T0 + dt.timedelta(hours=1), held_path=held)
    assert [str(e).split(":")[0] for e in rows.errors] == ["line 8", "line 9"]
    assert [r["id"] for r in csv.DictReader(out.open())] == ["5", "6"]
    held_rows = list(csv.DictReader(held.open()))
    assert [(r["id"], r["line"], r["status"], r["register"]) for r in held_rows] == [
        ("1", "2", "blocked", "national"), ("2", "3", "blocked", "national"),
        ("3", "4", "uncertain", "national"), ("4", "5", "blocked", "internal"),
    ]
    assert result.counts()["excepted"] == 1


def test_header_without_phone_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"line 1: header must have a phone column"):
        reg.read_register(write(tmp_path, "x.csv", "name,address\nA,B\n"))
    with pytest.raises(ConfigError, match=r"file .*nope.csv' does not exist"):
        reg.read_register(tmp_path / "nope.csv")


def test_cli_import_reports_lines_and_strict_exits_2(tmp_path: Path) -> None:
    f = write(tmp_path, "national.csv", NATIONAL)
    env = {"DIALER_DNC_SECRET": "0123456789abcdef-test", "PATH": "/usr/bin:/bin"}
    store = str(tmp_path / "s.sqlite")
    base = [*DIALER, "dnc", "import", "national", str(f), "--store", store]
    p = subprocess.run(base, capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    assert "imported 3 entries" in p.stdout
    assert [line.split(": ")[3] for line in p.stderr.splitlines()] == ["line 4", "line 7", "line 8"]
    p = subprocess.run(base + ["--strict"], capture_output=True, text=True, env=env)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "nothing imported (strict)" in p.stderr
    p = subprocess.run(base, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert p.returncode == 2 and p.stderr.startswith("dialer: error: DIALER_DNC_SECRET must be set")
