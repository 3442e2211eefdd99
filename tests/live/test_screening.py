"""Do-not-call registers screened at dial time (issue 18 item 2): with the register secret, a campaign
under a preset screens every candidate lead against the store's internal and national registers (the
exceptions lift the national one only), a number blocked by another process is screened from the next
decision, a dial of a registered number is applied and flagged, and a national register older than the
preset's wash interval is said with every decision, in /metrics and in the audit. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from zoneinfo import ZoneInfo

import httpx
import pytest

from dialer.compliance.audit import build_audit, text_lines
from dialer.compliance.registers import import_register
from dialer.compliance.store import Store as Records
from dialer.errors import ConfigError
from dialer.live import LiveCampaign
from dialer.live.registers import RegisterView
from dialer.live.service import Service
from dialer.live.store import Store
from dialer.rules.dnc import Hasher
from dialer.rules.presets import get_preset

from live_auth import TOKEN
from served import Served

SECRET = b"screening test secret 0123"
H = Hasher(SECRET)
OSLO = ZoneInfo("Europe/Oslo")
NO = {"mode": "power", "preset": "NO", "timezone": "Europe/Oslo", "caller_id": "+4722334455"}
NATIONAL, NATIONAL2, INTERNAL, CLEAR = "+4791234567", "+4791234568", "+4741234567", "+4790000001"


def at(*a: int) -> dt.datetime:
    return dt.datetime(*a, tzinfo=OSLO)


def t(*a: int) -> float:
    return at(*a).timestamp()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    url = (f"sqlite:///{tmp_path / 'live.sqlite'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres_server").new_database())
    with Store(url):  # the live store's tables, the compliance records' beside them
        pass
    with Records(url) as st:
        national = tmp_path / "national.csv"
        national.write_text(f"phone\n{NATIONAL}\n{NATIONAL2}\n")
        import_register(st, H, national, "national", at(2026, 11, 2, 8))
        internal = tmp_path / "internal.csv"
        internal.write_text(f"telefon\n{INTERNAL}\n")
        import_register(st, H, internal, "internal", at(2026, 11, 2, 8))
    return url


def ev(i, tp, time, **kw):
    return {"id": f"e{i}", "type": tp, "time": time, **kw}


def login(c: LiveCampaign, n: int, time: float) -> None:
    c.submit([ev(f"in{a}", "AgentLoggedIn", time, agent=f"a{a}") for a in range(n)])


def test_every_candidate_screened_against_both_registers_the_exceptions_lift_the_national_one(url):
    view = RegisterView(url, H)
    try:
        c = LiveCampaign(registers=view, **NO)
        assert c.held_to_dict()["screening"] is True
        login(c, 4, t(2026, 11, 24, 10))
        p = c.pick(t(2026, 11, 24, 10, 1), [
            "912 34 567",  # the national register
            {"id": "L2", "phone": "+47 412 34 567", "existing_customer": True},  # internal: no exception lifts it
            {"id": "L3", "phone": "912 34 568", "express_request": True},  # national, lifted by the express request
            {"id": "L4", "phone": CLEAR},
        ])
        assert {s.lead: (s.reason, s.detail) for s in p.skipped} == {
            "912 34 567": ("screened", "national: number on the register"),
            "L2": ("screened", "internal: number on the register"),
        }
        assert [d.lead for d in p.dials] == ["L3", "L4"]
    finally:
        view.close()


def test_a_number_blocked_by_dialer_dnc_block_is_screened_from_the_next_decision(url, tmp_path):
    from dialer.rules.calendar import CallingCalendar

    # `dialer dnc block` puts the number on the register from the wall clock's now: the campaigns' day
    # is the next calling window after it
    opening = CallingCalendar(get_preset("NO")).next_opening(dt.datetime.now(OSLO) + dt.timedelta(hours=1))
    base = opening.timestamp() + 600
    store = Store(url, sqlite_sync="normal")
    view = RegisterView(url, H)
    service = Service(store, hasher=H, registers=view, policy_cache=False)
    try:
        sales, _ = service.create("sales", NO)
        care, _ = service.create("care", NO)
        login(sales, 2, base)
        login(care, 2, base)
        assert [d.lead for d in sales.pick(base + 60, [CLEAR]).dials] == [CLEAR]
        env = {**os.environ, "DIALER_DNC_SECRET": SECRET.decode()}
        p = subprocess.run([sys.executable, "-m", "dialer.cli", "dnc", "block", "900 00 001", "--store", url],
                           capture_output=True, text=True, env=env)
        assert p.returncode == 0, p.stderr
        for c in (sales, care):  # every campaign, at its next decision
            (skipped,) = c.pick(base + 120, [CLEAR]).skipped
            assert (skipped.reason, skipped.detail) == ("screened", "internal: number on the register")
    finally:
        service.shutdown()
        view.close()
        store.close()


def test_a_dial_of_a_registered_number_is_applied_flagged_and_recorded(url):
    store = Store(url, sqlite_sync="normal")
    view = RegisterView(url, H)
    service = Service(store, hasher=H, registers=view, policy_cache=False)
    now = t(2026, 11, 24, 10)
    try:
        c, _ = service.create("flagged", NO)
        login(c, 3, now)
        p = c.pick(now + 1, [{"id": "L3", "phone": NATIONAL, "existing_customer": True}])  # let through, excepted
        (dial,) = p.dials
        c.submit([ev(1, "DialPlaced", now + 2, call=1, lead="L3", phone=NATIONAL, agent=dial.agent),
                  ev(2, "DialPlaced", now + 2, call=2, lead=INTERNAL, agent="a1"),  # never picked: it happened
                  ev(3, "DialPlaced", now + 2, call=3, lead="L9", phone="912 34 568", agent="a2")])
        assert c.floor_dict()["ringing_reserved"] == 3  # applied
        assert c.flags() == {"2026-11-24": {"on_internal_register": 1, "on_national_register": 1}}
        again = service._restore("flagged", c.initial.to_dict())  # the journal rebuilds the same flags
        assert again.flags() == c.flags()
    finally:
        service.shutdown()
        view.close()
        store.close()
    day = dt.date(2026, 11, 24)
    with Records(url, readonly=True) as st:
        dials = st.dials("flagged")
        assert [(d.number_hash, d.exception) for d in dials] == [
            (H.number(NATIONAL), "existing_customer"), (H.number(INTERNAL), None), (H.number(NATIONAL2), None)]
        audit = build_audit(st, get_preset("NO"), "flagged", day, day)
    assert sorted(f.detail.split(" was ")[1] for f in audit.flags if f.kind == "on register") == [
        "on the internal register when dialled", "on the national register when dialled"]
    assert audit.excepted == 1


def test_a_stale_national_register_is_said_with_every_decision_in_metrics_and_in_the_audit(url, tmp_path):
    served = Served(url, H, screening=True)
    try:
        http = httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
        assert http.put("/campaigns/stale", json=NO).status_code == 201
        assert http.get("/campaigns/stale").json()["held_to"]["screening"] is True
        december = t(2026, 12, 1, 10)  # the extract was imported on 2 November: a new month, no new wash
        r = http.post("/campaigns/stale/decide", json={"now": december, "events": [ev(1, "AgentLoggedIn", december,
                                                                                      agent="ann")],
                                                       "leads": [{"id": "L1", "phone": CLEAR}]}).json()
        (warning,) = r["warnings"]
        assert warning.startswith("national do-not-call register last imported 2026-11-02: import a new extract")
        board = {p["name"]: p for p in http.get("/board/state").json()["campaigns"]}["stale"]
        assert board["warnings"] == [warning]  # the supervisor's board says it too
        assert [d["lead"] for d in r["dials"]] == ["L1"]
        r = http.post("/campaigns/stale/events", json={"events": [
            ev(2, "DialPlaced", december + 1, call=1, lead="L1", phone=CLEAR, agent="ann")]})
        assert r.status_code == 200, r.text
        metrics = http.get("/metrics").text
        age = float(next(line.split()[-1] for line in metrics.splitlines()
                         if line.startswith('dialer_register_age_seconds{register="national"}')))
        assert age == pytest.approx(dt.datetime.now(dt.timezone.utc).timestamp() - t(2026, 11, 2, 8), abs=600)
        # washed again: no warning
        fresh = tmp_path / "fresh.csv"
        fresh.write_text(f"phone\n{NATIONAL}\n")
        with Records(url) as st:
            import_register(st, H, fresh, "national", at(2026, 12, 1, 10, 30))
        r = http.post("/campaigns/stale/decide", json={"now": december + 3600}).json()
        assert r["warnings"] == []
        assert {p["name"]: p for p in http.get("/board/state").json()["campaigns"]}["stale"]["warnings"] == []
        bad = http.post("/campaigns/stale/decide", json={"now": december + 3601, "leads": [{"id": "L", "phone": 5}]})
        assert bad.status_code == 422 and bad.json()["detail"] == \
            "leads[0].phone must be a phone number as text (or null: the id is the number), got 5"
        http.close()
    finally:
        served.close()
    with Records(url, readonly=True) as st:
        audit = build_audit(st, get_preset("NO"), "stale", dt.date(2026, 12, 1), dt.date(2026, 12, 1))
    assert [(f.kind, f.when) for f in audit.flags] == [("stale register", "2026-12-01")]


def test_without_a_secret_a_campaign_under_a_preset_says_screening_is_off(tmp_path):
    url = f"sqlite:///{tmp_path / 'live.sqlite'}"
    store = Store(url)
    service = Service(store, policy_cache=False)
    try:
        c, _ = service.create("open", NO)
        assert c.held_to_dict()["screening"] is False
        login(c, 1, t(2026, 11, 24, 10))
        c.submit([ev(1, "DialPlaced", t(2026, 11, 24, 10, 1), call=1, lead=NATIONAL, agent="a0")])
    finally:
        service.shutdown()
        store.close()
    with Records(url, readonly=True) as st:
        audit = build_audit(st, get_preset("NO"), "open", dt.date(2026, 11, 24), dt.date(2026, 11, 24))
    text = "\n".join(text_lines(audit))
    assert "registers screened at dial time: OFF (the service had no register secret" in text
    assert "live: 1 dials checked against hours; not against the registers" in text


def test_a_view_refuses_another_secret(url):
    with pytest.raises(ConfigError, match="the hashing secret differs"):
        RegisterView(url, Hasher(b"another secret, 16+ bytes"))
