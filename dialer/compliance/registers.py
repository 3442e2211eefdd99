"""Register and lead-list files: CSV in, keyed hashes at rest, washed lists out.

Owns: reading the national register extract and the internal register from
CSV (`read_register`), storing them in the compliance store as hashes
(`import_register`), loading them back into the core's `Registers`
(`load_registers`), reading a lead list (`read_leads`) and writing a washed
one (`wash_file`), and the hashing secret from configuration (`secret`).

CSV files: a header row; columns (English or Norwegian names, any order,
comma or semicolon separated): phone / telefon (required), name / navn,
address / adresse, date_of_birth / fodselsdato (YYYY-MM-DD or DD.MM.YYYY);
lead lists may add existing_customer / express_request (yes/no, ja/nei,
true/false, 1/0) and any columns of their own, which are copied through.

A malformed row is never dropped silently: it is reported with its line
number and the rest is imported, or with `strict=True` nothing is imported
and the error says why.

Must not know about: the rules themselves (`dialer.rules.dnc` decides), the
CLI's printing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from dialer.compliance.store import EntryRow, Store
from dialer.rules.dnc import Entry, Hasher, Lead, Person, Registers, WashResult
from dialer.rules.phone import normalise
from dialer.errors import ConfigError, bad
from dialer.files import read_text

SECRET_ENV = "DIALER_DNC_SECRET"

_ALIASES = {
    "phone": ("phone", "telefon", "telefonnummer", "nummer", "number", "msisdn"),
    "name": ("name", "navn"),
    "address": ("address", "adresse"),
    "dob": ("date_of_birth", "dob", "birth_date", "fodselsdato", "fødselsdato"),
    "existing_customer": ("existing_customer", "eksisterende_kunde", "kunde"),
    "express_request": ("express_request", "uttrykkelig_anmodning", "anmodning"),
}
_YES = {"1", "yes", "y", "true", "ja", "j", "x"}
_NO = {"", "0", "no", "n", "false", "nei"}


def secret(environ: dict[str, str] | None = None, secret_file: str | None = None) -> bytes:
    """The hashing secret: the file `secret_file`, else $DIALER_DNC_SECRET; one error line if neither."""
    if secret_file is not None:
        try:
            data = Path(secret_file).read_bytes().strip()
        except OSError as err:
            raise ConfigError(f"--secret-file {secret_file!r} cannot be read: {err.strerror or err}") from None
        return data
    env = os.environ if environ is None else environ
    value = env.get(SECRET_ENV)
    if not value:
        raise ConfigError(
            f"{SECRET_ENV} must be set to the secret that hashes phone numbers at rest (16 bytes or more), "
            "got nothing (or pass --secret-file PATH)"
        )
    return value.encode("utf-8")


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class Rows:
    """What a CSV file held: good rows as dicts (with their line numbers) and the malformed ones."""

    source: str
    header: list[str]
    rows: list[tuple[int, dict[str, Any], dict[str, str]]] = field(default_factory=list)  # line, parsed, raw
    errors: list[RowError] = field(default_factory=list)

    def refuse_if_any(self, strict: bool) -> None:
        if strict and self.errors:
            shown = "; ".join(str(e) for e in self.errors[:3]) + ("; ..." if len(self.errors) > 3 else "")
            raise ConfigError(
                f"{self.source}: {len(self.errors)} malformed row(s), nothing imported (strict): {shown}"
            )


def _read_text(path: str | Path) -> str:
    return read_text(path, encoding="utf-8-sig")  # a byte-order mark, as spreadsheets write, is dropped


def _dob(text: str) -> dt.date:
    t = text.strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(t, fmt).date()
        except ValueError:
            continue
    raise ConfigError(f"date_of_birth must be a date YYYY-MM-DD or DD.MM.YYYY, got {text!r}")


def _flag(name: str, text: str) -> bool:
    t = text.strip().casefold()
    if t in _YES:
        return True
    if t in _NO:
        return False
    raise ConfigError(f"{name} must be yes or no, got {text!r}")


def parse_csv(text: str, source: str, *, lead_list: bool = False) -> Rows:
    """Parse register or lead-list CSV text; bad rows become `RowError`s with their line numbers."""
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise ConfigError(f"{source}: empty file, a header row is needed (phone, name, address, date_of_birth)") from None
    except csv.Error as err:
        raise ConfigError(f"{source}: line 1: {err}") from None
    cols: dict[str, int] = {}
    for i, h in enumerate(header):
        key = h.strip().casefold().replace(" ", "_")
        for canon, names in _ALIASES.items():
            if key in names:
                if canon in cols:
                    raise ConfigError(f"{source}: line 1: column {canon} given twice, got {header!r}")
                cols[canon] = i
    if "phone" not in cols:
        raise ConfigError(f"{source}: line 1: header must have a phone column (phone or telefon), got {header!r}")
    out = Rows(source, header)
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            out.errors.append(RowError(reader.line_num, f"malformed CSV: {err}"))
            continue
        line = reader.line_num
        if not raw or all(not c.strip() for c in raw):
            continue  # a blank line is not a row
        if len(raw) != len(header):
            out.errors.append(RowError(line, f"{len(raw)} fields, the header has {len(header)}"))
            continue
        get = {k: raw[i].strip() for k, i in cols.items()}
        try:
            row: dict[str, Any] = {
                "phone": normalise(get["phone"]),
                "name": get.get("name") or None,
                "address": get.get("address") or None,
                "dob": _dob(get["dob"]) if get.get("dob") else None,
            }
            if lead_list:
                row["existing_customer"] = _flag("existing_customer", get.get("existing_customer", ""))
                row["express_request"] = _flag("express_request", get.get("express_request", ""))
        except ConfigError as err:
            out.errors.append(RowError(line, str(err)))
            continue
        out.rows.append((line, row, dict(zip(header, raw))))
    return out


def read_register(path: str | Path) -> Rows:
    return parse_csv(_read_text(path), str(path))


def read_leads(path: str | Path) -> Rows:
    return parse_csv(_read_text(path), str(path), lead_list=True)


@dataclass
class ImportReport:
    register: str
    source: str
    imported: int
    ended: int
    errors: list[RowError]


def import_register(store: Store, hasher: Hasher, path: str | Path, register: str, at: dt.datetime, *,
                    strict: bool = False) -> ImportReport:
    """Store a register file as hashes, in effect from `at`.

    A national extract replaces the previous one: the entries of the last
    extract end at `at`. The internal register only grows (a person taken
    off it is a deliberate act, not a side effect of an import).
    """
    if register not in ("national", "internal"):
        raise bad("register", register, "one of national, internal")
    rows = read_register(path)
    rows.refuse_if_any(strict)
    store.check_key(hasher.fingerprint)
    entries = []
    for line, r, _raw in rows.rows:
        p = hasher.person(r["phone"], r["name"], r["address"], r["dob"])
        entries.append(EntryRow(register, p.number, p.name, p.address, p.dob, at, None, f"{Path(path).name}:{line}"))
    ended = store.end_entries("national", at) if register == "national" else 0
    n = store.add_entries(entries)
    store.log_import(register, at, Path(path).name, n)
    return ImportReport(register, str(path), n, ended, rows.errors)


def load_registers(store: Store, hasher: Hasher) -> Registers:
    """The registers of a store, as the core's sans-IO `Registers`."""
    store.check_key(hasher.fingerprint)
    return Registers(entry_of(e) for e in store.entries())


def entry_of(e: EntryRow) -> Entry:
    """A stored register entry as the rules' `Entry`."""
    return Entry(e.register, Person(e.number_hash, e.name_hash, e.address_hash, e.dob_hash), e.since, e.until)


def leads_of(rows: Rows, hasher: Hasher) -> list[Lead]:
    return [
        Lead(
            hasher.person(r["phone"], r["name"], r["address"], r["dob"]),
            existing_customer=r["existing_customer"],
            express_request=r["express_request"],
            ref=i,
        )
        for i, (_line, r, _raw) in enumerate(rows.rows)
    ]


def wash_file(registers: Registers, hasher: Hasher, leads_path: str | Path, out_path: str | Path,
              at: dt.datetime, *, held_path: str | Path | None = None, call_uncertain: bool = False,
              strict: bool = False) -> tuple[WashResult, Rows]:
    """Wash a lead list: the callable leads to `out_path` (all original columns), those held back
    (with line, status, register and reason) to `held_path`."""
    rows = read_leads(leads_path)
    rows.refuse_if_any(strict)
    result = registers.wash(leads_of(rows, hasher), at, call_uncertain=call_uncertain)
    _write(out_path, rows.header, (rows.rows[lead.ref][2] for lead in result.kept))  # type: ignore[index]
    if held_path is not None:
        header = ["line", *rows.header, "status", "register", "reason"]
        held = (
            {"line": rows.rows[lead.ref][0], **rows.rows[lead.ref][2],  # type: ignore[index]
             "status": v.status.value, "register": v.register or "", "reason": v.reason}
            for lead, v in result.held
        )
        _write(held_path, header, held)
    return result, rows


def _write(path: str | Path, header: list[str], rows: Iterable[dict[str, Any]]) -> None:
    try:
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
            w.writeheader()
            for r in rows:
                w.writerow(r)
    except OSError as err:
        raise ConfigError(f"file {str(path)!r} cannot be written: {err.strerror or err}") from None
