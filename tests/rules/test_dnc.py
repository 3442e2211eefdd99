"""The do-not-call rules on hashes: number, person and uncertain matches, the exceptions that the
internal register always beats, entries in time, mid-call blocks, and when to wash again."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from dialer.rules.dnc import Entry, Hasher, Lead, Registers, Status, WashSchedule
from dialer.errors import ConfigError

OSLO = ZoneInfo("Europe/Oslo")
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=OSLO)
H = Hasher(b"a secret of the call centre")


def entry(register: str, number: str | None, name=None, address=None, dob=None, since=T0, until=None) -> Entry:
    return Entry(register, H.person(number, name, address, dob), since, until)


def lead(number: str | None, name=None, address=None, dob=None, **flags) -> Lead:
    return Lead(H.person(number, name, address, dob), **flags)


@pytest.fixture
def regs() -> Registers:
    return Registers([
        entry("national", "+4791234567"),  # a registered landline or mobile: nobody on it is called
        entry("national", None, "Kari Nordmann", "Storgata 1, 0155 Oslo"),
        entry("national", "+4798765432", "Per Hansen", None, dt.date(1975, 5, 5)),
        entry("internal", "+4741234567", "Lise Berg"),
    ])


def test_verdicts(regs: Registers) -> None:
    at = T0 + dt.timedelta(hours=1)
    cases = [
        (lead("+4791234567", "Anyone Else"), Status.BLOCKED, "national", "number"),
        (lead("+4790000000", "kari  NORDMANN", "Storgata 1 0155 Oslo"), Status.BLOCKED, "national", "address"),
        (lead("+4790000001", "Per Hansen", None, dt.date(1975, 5, 5)), Status.BLOCKED, "national", "birth"),
        (lead("+4790000002", "Per Hansen", "Elsewhere 2"), Status.UNCERTAIN, "national", "differ"),
        (lead("+4790000003", "Nils"), Status.CLEAR, None, ""),
        (lead("+4741234567", "Someone"), Status.BLOCKED, "internal", "number"),
        (lead("+4790000004", "Lise Berg"), Status.UNCERTAIN, "internal", "differ"),
    ]
    for ld, status, register, word in cases:
        v = regs.check(ld, at)
        assert (v.status, v.register) == (status, register), (ld, v)
        assert word in v.reason


def test_exceptions_beat_the_national_register_never_the_internal(regs: Registers) -> None:
    at = T0 + dt.timedelta(hours=1)
    v = regs.check(lead("+4791234567", existing_customer=True), at)
    assert v.status is Status.EXCEPTED and v.exception == "existing_customer" and v.may_call()
    v = regs.check(lead("+4790000002", "Per Hansen", express_request=True), at)
    assert v.status is Status.EXCEPTED and v.exception == "express_request"
    for flags in ({"existing_customer": True}, {"express_request": True},
                  {"existing_customer": True, "express_request": True}):
        v = regs.check(lead("+4741234567", **flags), at)
        assert v.status is Status.BLOCKED and v.register == "internal" and not v.may_call(call_uncertain=True)
    # on both registers: the internal one decides
    both = Registers([entry("national", "+4741234567"), entry("internal", "+4741234567")])
    assert both.check(lead("+4741234567", existing_customer=True), at).register == "internal"


def test_uncertain_held_back_by_default(regs: Registers) -> None:
    at = T0 + dt.timedelta(hours=1)
    leads = [lead("+4790000002", "Per Hansen"), lead("+4790000003", "Nils"), lead("+4791234567")]
    held = regs.wash(leads, at)
    assert held.counts() == {"kept": 1, "blocked": 1, "uncertain": 1, "excepted": 0, "uncertain_called": 0}
    called = regs.wash(leads, at, call_uncertain=True)
    assert called.counts()["kept"] == 2 and called.counts()["uncertain_called"] == 1


def test_entries_hold_from_since_until_until() -> None:
    until = T0 + dt.timedelta(days=30)
    r = Registers([entry("national", "+4791234567", until=until)])
    ld = lead("+4791234567")
    assert r.check(ld, T0 - dt.timedelta(seconds=1)).status is Status.CLEAR
    assert r.check(ld, T0).status is Status.BLOCKED
    assert r.check(ld, until - dt.timedelta(seconds=1)).status is Status.BLOCKED
    assert r.check(ld, until).status is Status.CLEAR


def test_block_now_holds_from_that_instant() -> None:
    r = Registers()
    ld = lead("+4791234567", "Ola")
    during_call = T0 + dt.timedelta(minutes=5)
    assert r.check(ld, during_call).status is Status.CLEAR
    r.block_now(H.person("+4791234567", "Ola"), during_call)
    assert r.check(ld, during_call - dt.timedelta(microseconds=1)).status is Status.CLEAR  # the call was lawful
    assert r.check(ld, during_call).status is Status.BLOCKED
    assert r.check(lead("+4791234567", existing_customer=True), during_call + dt.timedelta(days=400)).register == "internal"


def test_hashes_are_keyed_and_never_the_number() -> None:
    a, b = Hasher(b"0123456789abcdef"), Hasher(b"0123456789abcdeF")
    assert a.number("+4791234567") != b.number("+4791234567")
    assert "91234567" not in a.number("+4791234567")
    assert a.fingerprint != b.fingerprint
    with pytest.raises(ConfigError, match=r"DIALER_DNC_SECRET must be at least 16 bytes, got 5 bytes"):
        Hasher(b"short")
    with pytest.raises(ConfigError, match=r"number must be an E.164 number"):
        a.number("91234567")


@pytest.mark.parametrize(
    "last, at, due",
    [
        (dt.datetime(2026, 1, 31, 20, 0, tzinfo=OSLO), dt.datetime(2026, 2, 1, 9, 0, tzinfo=OSLO), True),
        (dt.datetime(2026, 2, 1, 9, 0, tzinfo=OSLO), dt.datetime(2026, 2, 27, 20, 0, tzinfo=OSLO), False),
        # 23:30 UTC on 31 January is already February in Oslo: the month is read in the preset's zone
        (dt.datetime(2026, 1, 31, 23, 30, tzinfo=dt.timezone.utc), dt.datetime(2026, 2, 2, 9, 0, tzinfo=OSLO), False),
        (dt.datetime(2026, 1, 5, 9, 0, tzinfo=OSLO), dt.datetime(2027, 1, 5, 9, 0, tzinfo=OSLO), True),
    ],
)
def test_wash_every_calendar_month(last, at, due) -> None:
    s = WashSchedule("month", OSLO)
    assert s.due("list", at)  # never washed: before the first call
    s.washed("list", last)
    assert s.due("list", at) is due


def test_wash_every_n_days() -> None:
    s = WashSchedule(28)
    s.washed("l", T0)
    assert not s.due("l", T0 + dt.timedelta(days=27, hours=23))
    assert s.due("l", T0 + dt.timedelta(days=28))
    with pytest.raises(ConfigError, match=r"dnc_rewash must be \"month\" or a positive number of days, got 0"):
        WashSchedule(0)
