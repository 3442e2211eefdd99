"""Do-not-call registers: who may not be called, decided on keyed hashes, never on numbers in clear.

Owns: `Hasher` (HMAC-SHA256 with the centre's secret over normalised number,
name, address and date of birth), `Registers` (the national register
extract and the internal register, with the instant each entry took effect),
the verdict on one lead (`check`), the wash of a lead list (`wash`), and
`WashSchedule` (when a list must be washed again).
Rule 1: sans-IO. Hashes, entries and instants in; verdicts out. The caller
reads files and databases (`dialer.compliance`), and passes `at` (an aware
datetime) to every question.
Rule 2: knows nothing of campaigns, pacers, SimPy or storage.

    hasher = Hasher(secret)
    lead = Lead(hasher.person("+4791234567", name="Kari Nordmann"))
    regs.check(lead, at).may_call()      # False if she is on a register at that instant

The rules it applies (RULES.md; guide 3.2, 3.3, 3.5, 3.6; norm 4.4.4):
docs/design.md, "The law as data".
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Hashable, Iterable

from dialer.checks import Either, OneOf, Whole, check
from dialer.errors import ConfigError, bad

REGISTERS = ("national", "internal")
EXCEPTIONS = ("existing_customer", "express_request")


# --- hashing -------------------------------------------------------------------------------------


def _text_key(text: str) -> str:
    """Names and addresses compared as the same when they differ only in case, accents' encoding,
    punctuation or spacing ("Ola  Nordmann" == "ola nordmann", "Storgata 1, 0155" == "storgata 1 0155")."""
    t = unicodedata.normalize("NFKC", text).casefold()
    t = re.sub(r"[.,;:'\"\-/]", " ", t)
    return " ".join(t.split())


class Hasher:
    """Keyed hashes of personal data: without the secret a hash cannot be linked back to a number.

    `secret`: at least 16 bytes (from configuration: DIALER_DNC_SECRET).
    """

    def __init__(self, secret: bytes) -> None:
        if not isinstance(secret, (bytes, bytearray)) or len(secret) < 16:
            shown = f"{len(secret)} bytes" if isinstance(secret, (bytes, bytearray)) else type(secret).__name__
            raise ConfigError(f"DIALER_DNC_SECRET must be at least 16 bytes, got {shown}")
        self._key = bytes(secret)

    def _h(self, kind: str, value: str) -> str:
        return hmac.new(self._key, f"{kind}\x00{value}".encode("utf-8"), hashlib.sha256).hexdigest()

    @property
    def fingerprint(self) -> str:
        """Identifies the key (not the key itself), so a store refuses a different one."""
        return self._h("fingerprint", "dialer")[:32]

    def number(self, e164: str) -> str:
        if not isinstance(e164, str) or not e164.startswith("+"):
            raise bad("number", e164, "an E.164 number such as '+4791234567' (dialer.rules.phone.normalise)")
        return self._h("number", e164)

    def name(self, text: str | None) -> str | None:
        return None if not text or not _text_key(text) else self._h("name", _text_key(text))

    def address(self, text: str | None) -> str | None:
        return None if not text or not _text_key(text) else self._h("address", _text_key(text))

    def dob(self, date: dt.date | None) -> str | None:
        return None if date is None else self._h("dob", date.isoformat())

    def person(self, number: str | None, name: str | None = None, address: str | None = None,
               dob: dt.date | None = None) -> "Person":
        """The hashed identity of a lead or entry; `number` already in E.164 (or None)."""
        return Person(
            number=None if number is None else self.number(number),
            name=self.name(name),
            address=self.address(address),
            dob=self.dob(dob),
        )


# --- entries and leads ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    """Keyed hashes of what identifies a person; None where not known."""

    number: str | None = None
    name: str | None = None
    address: str | None = None
    dob: str | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One register line: on `register` from `since` until `until` (None: still on it)."""

    register: str
    person: Person
    since: dt.datetime
    until: dt.datetime | None = None

    def __post_init__(self) -> None:
        if self.register not in REGISTERS:
            raise bad("register", self.register, f"one of {', '.join(REGISTERS)}")
        _check_instant("since", self.since)
        if self.until is not None:
            _check_instant("until", self.until)
        if self.person.number is None and self.person.name is None:
            raise bad("entry", self.person, "a number or a name")

    def active(self, at: dt.datetime) -> bool:
        return self.since <= at and (self.until is None or at < self.until)


@dataclass(frozen=True, slots=True)
class Lead:
    """A lead to wash: its hashed identity, the exceptions it carries, and the caller's own `ref`."""

    person: Person
    existing_customer: bool = False
    express_request: bool = False
    ref: Hashable = None

    @property
    def exception(self) -> str | None:
        if self.existing_customer:
            return "existing_customer"
        if self.express_request:
            return "express_request"
        return None


class Status(enum.Enum):
    CLEAR = "clear"  # on no register
    EXCEPTED = "excepted"  # on the national register, called under an exception (guide 3.5, 3.6)
    UNCERTAIN = "uncertain"  # a name matches, nothing else does (guide 3.2: better not call)
    BLOCKED = "blocked"


@dataclass(frozen=True, slots=True)
class Verdict:
    status: Status
    register: str | None = None
    reason: str = ""
    exception: str | None = None

    def may_call(self, *, call_uncertain: bool = False) -> bool:
        if self.status is Status.UNCERTAIN:
            return call_uncertain
        return self.status is not Status.BLOCKED


CLEAR = Verdict(Status.CLEAR)


@dataclass
class WashResult:
    """A washed list: the leads that may be called, and those held back with their verdicts."""

    at: dt.datetime
    kept: list[Lead] = field(default_factory=list)
    held: list[tuple[Lead, Verdict]] = field(default_factory=list)
    excepted: int = 0
    uncertain_called: int = 0

    def counts(self) -> dict[str, int]:
        blocked = sum(1 for _, v in self.held if v.status is Status.BLOCKED)
        return {
            "kept": len(self.kept),
            "blocked": blocked,
            "uncertain": len(self.held) - blocked,
            "excepted": self.excepted,
            "uncertain_called": self.uncertain_called,
        }


# --- the registers -----------------------------------------------------------------------------


class Registers:
    """The national extract and the internal register, indexed by hash, answered for any instant."""

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self._by_number: dict[str, list[Entry]] = {}
        self._by_name: dict[str, list[Entry]] = {}
        self._count = 0
        for e in entries:
            self.add(e)

    def __len__(self) -> int:
        return self._count

    def add(self, entry: Entry) -> None:
        if not isinstance(entry, Entry):
            raise bad("entry", entry, "an Entry")
        if entry.person.number is not None:
            self._by_number.setdefault(entry.person.number, []).append(entry)
        if entry.person.name is not None:
            self._by_name.setdefault(entry.person.name, []).append(entry)
        self._count += 1

    def block_now(self, person: Person, at: dt.datetime) -> Entry:
        """Someone asked, during a call, not to be called again: on the internal register from `at`."""
        entry = Entry("internal", person, at)
        self.add(entry)
        return entry

    def _hits(self, person: Person, at: dt.datetime) -> dict[str, tuple[str, str]]:
        """register -> (strength "number" | "person" | "name", reason) of the strongest active match."""
        out: dict[str, tuple[str, str]] = {}
        rank = {"number": 3, "person": 2, "name": 1}

        def note(reg: str, strength: str, reason: str) -> None:
            if reg not in out or rank[strength] > rank[out[reg][0]]:
                out[reg] = (strength, reason)

        if person.number is not None:
            for e in self._by_number.get(person.number, ()):
                if e.active(at):
                    note(e.register, "number", "number on the register")
        if person.name is not None:
            for e in self._by_name.get(person.name, ()):
                if not e.active(at):
                    continue
                p = e.person
                if p.address is not None and p.address == person.address:
                    note(e.register, "person", "name and address on the register")
                elif p.dob is not None and p.dob == person.dob:
                    note(e.register, "person", "name and date of birth on the register")
                else:
                    note(e.register, "name", "name on the register, number, address and date of birth differ")
        return out

    def check(self, lead: Lead, at: dt.datetime) -> Verdict:
        """May `lead` be called at `at`? The internal register first: no exception overrides it."""
        _check_instant("at", at)
        hits = self._hits(lead.person, at)
        if "internal" in hits:
            strength, reason = hits["internal"]
            status = Status.UNCERTAIN if strength == "name" else Status.BLOCKED
            return Verdict(status, "internal", reason)
        if "national" in hits:
            strength, reason = hits["national"]
            if lead.exception is not None:
                return Verdict(Status.EXCEPTED, "national", reason, lead.exception)
            status = Status.UNCERTAIN if strength == "name" else Status.BLOCKED
            return Verdict(status, "national", reason)
        return CLEAR

    def wash(self, leads: Iterable[Lead], at: dt.datetime, *, call_uncertain: bool = False) -> WashResult:
        """Split a lead list into those that may be called at `at` and those held back, with why."""
        result = WashResult(at)
        for lead in leads:
            v = self.check(lead, at)
            if v.may_call(call_uncertain=call_uncertain):
                result.kept.append(lead)
                result.excepted += v.status is Status.EXCEPTED
                result.uncertain_called += v.status is Status.UNCERTAIN
            else:
                result.held.append((lead, v))
        return result


# --- when to wash again ---------------------------------------------------------------------------


_REWASH = Either(OneOf("month"), Whole(1), says='"month" or a positive number of days')


class WashSchedule:
    """When a lead list must be washed again: before its first call, then in every calendar month in
    which calls are made (guide 3.2, `rewash="month"`), or every N days (UK 28, US and CA 31).

    Months are read in `tz` (the preset's zone): a list washed on 31 January at 20:00 in Oslo must be
    washed again before a call on 1 February.
    """

    def __init__(self, rewash: str | int = "month", tz: dt.tzinfo = dt.timezone.utc) -> None:
        self.rewash = check("dnc_rewash", rewash, _REWASH)
        self.tz = tz
        self.last: dict[Hashable, dt.datetime] = {}

    def due(self, list_id: Hashable, at: dt.datetime) -> bool:
        """Must `list_id` be washed before a call at `at`?"""
        _check_instant("at", at)
        last = self.last.get(list_id)
        if last is None:
            return True
        if self.rewash == "month":
            a, b = last.astimezone(self.tz), at.astimezone(self.tz)
            return (a.year, a.month) != (b.year, b.month)
        return at - last >= dt.timedelta(days=int(self.rewash))

    def washed(self, list_id: Hashable, at: dt.datetime) -> None:
        _check_instant("at", at)
        self.last[list_id] = at


def _check_instant(name: str, t: Any) -> None:
    if not isinstance(t, dt.datetime) or t.tzinfo is None or t.utcoffset() is None:
        raise bad(name, t, "a datetime with a time zone")
