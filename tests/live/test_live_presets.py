"""A live campaign under a jurisdiction preset: the stricter limit and intervals, the redial lockout,
the calling hours and public holidays (a campaign under a preset needs its timezone, and under NO its
caller ID), and dials placed outside the hours flagged, in process and over HTTP."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from zoneinfo import ZoneInfo

import httpx
import pytest

from dialer import LiveCampaign
from dialer.errors import ConfigError
from dialer.live.config import CampaignConfig

from live_auth import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
OSLO = ZoneInfo("Europe/Oslo")


def at(y, mo, d, h, mi=0, zone=OSLO) -> float:
    return dt.datetime(y, mo, d, h, mi, tzinfo=zone).timestamp()


def login(t, agent="ann", i=1):
    return {"id": f"in-{agent}-{i}", "type": "AgentLoggedIn", "time": t, "agent": agent}


#: what a campaign under a preset must say: where it calls (its hours are local), and under NO its caller ID
PLACE = {"UK": {"timezone": "Europe/London"}, "US": {"timezone": "America/New_York"},
         "CA": {"timezone": "America/Toronto"}, "NO": {"timezone": "Europe/Oslo", "caller_id": "+4722334455"}}


def under(preset: str, **fields) -> CampaignConfig:
    return CampaignConfig(preset=preset, **{**PLACE[preset], **fields})


def intervals(config: CampaignConfig):
    return {(iv.name, iv.kind, iv.limit) for iv in config.build().ledger.intervals}


def test_the_stricter_of_the_campaign_and_the_preset():
    assert intervals(under("UK")) == {("day", "day", Fraction(3, 100))}
    assert intervals(under("NO", abandon_limit=0.04)) == {("day", "day", Fraction(1, 25))}
    us = intervals(under("US", intervals=[{"kind": "day", "limit": 0.02}]))
    assert ("day", "day", Fraction(1, 50)) in us and any(kind == "rolling" for _, kind, _ in us)
    ca = under("CA", origin="2026-11-24T00:00:00-05:00").build().ledger
    (month,) = ca.intervals
    assert month.key(0.0) == (2026, 11) and month.key(7 * 86400.0) == (2026, 12)
    assert under("UK").lockout() == 72 * 3600.0
    assert under("UK", redial_lockout=100 * 3600.0).lockout() == 100 * 3600.0
    assert under("NO").lockout() is None  # norm 4.6.3: for ever


@pytest.mark.parametrize("field, value", [("preset", "XX"), ("preset", 5), ("origin", "2026-11-24"), ("origin", "noon"),
                                          ("origin", 0)])
def test_bad_preset_or_origin_is_named(field, value):
    with pytest.raises(ConfigError, match=field):
        CampaignConfig(**{field: value})


def test_no_dial_outside_the_calling_hours_and_the_next_opening_is_told():
    c = LiveCampaign(under("NO", mode="power"))
    early = at(2026, 11, 24, 8, 30)  # a Tuesday, before 09:00
    d = c.decide(early, [login(early)])
    assert d.dials == 0 and d.wake_at == at(2026, 11, 24, 9)
    assert c.hours_dict(early) == {"enforced": True, "allowed": False, "reason": "before 09:00",
                              "next_opening": at(2026, 11, 24, 9)}
    d = c.decide(at(2026, 11, 24, 9))
    assert d.reserve == ("ann",)  # open: the pacer's answer is given
    assert c.hours_dict(at(2026, 11, 24, 20, 59))["allowed"]
    # Christmas Day is a Friday in 2026; the next opening is Monday 28 December (Boxing Day is a Saturday)
    xmas = at(2026, 12, 25, 10)
    info = c.hours_dict(xmas)
    assert not info["allowed"] and "Christmas" in info["reason"] and info["next_opening"] == at(2026, 12, 28, 9)
    assert c.decide(xmas).dials == 0


@pytest.mark.parametrize("preset", ["NO", "UK", "US", "CA"])
def test_a_campaign_under_a_preset_is_refused_without_its_timezone(preset):
    # before, a campaign with a preset and no timezone had no calling hours, without a word
    fields = {k: v for k, v in PLACE[preset].items() if k != "timezone"}
    with pytest.raises(ConfigError, match=rf"^timezone must be an IANA time zone name such as 'Europe/Oslo' for a "
                                          rf"campaign under preset {preset} .*, got None$"):
        CampaignConfig(mode="power", preset=preset, **fields)
    assert under(preset).hours_enforced and not CampaignConfig().hours_enforced


def test_a_campaign_under_no_declares_its_caller_id():
    with pytest.raises(ConfigError, match=r"^caller_id must be the phone number the campaign shows to the called party, "
                                          r"such as '\+4722334455', under preset NO \(norm 4.4.2: never a hidden number\), "
                                          r"got None$"):
        CampaignConfig(preset="NO", timezone="Europe/Oslo")
    with pytest.raises(ConfigError, match=r"^caller_id must be a phone number such as '\+4722334455' \(or null\), "
                                          r"got 'hidden'$"):
        under("NO", caller_id="hidden")
    assert under("NO", caller_id="22 33 44 55").caller_id == "+4722334455"  # kept in E.164
    assert under("UK").caller_id is None  # the UK preset does not ask for one (not confirmed against the text)


def test_a_dial_placed_outside_the_hours_is_applied_and_flagged():
    c = LiveCampaign(under("NO", mode="power"))
    late = at(2026, 11, 24, 21) + 30  # a window closes at its end: after 21:00 the dial is out of hours
    c.handle(login(at(2026, 11, 24, 20, 59)))
    c.handle({"id": "d1", "type": "DialPlaced", "time": late, "call": 1, "lead": "+4790000001", "agent": "ann"})
    assert c.floor_dict()["ringing_reserved"] == 1  # applied: it happened
    assert c.flags() == {"2026-11-24": {"outside_hours": 1}}
    c.handle({"id": "f1", "type": "CallFailed", "time": late + 20, "call": 1, "reason": "no_answer"})
    c.handle({"id": "d2", "type": "DialPlaced", "time": at(2026, 11, 25, 9), "call": 2, "lead": "+4790000002",
              "agent": "ann"})
    assert c.flags() == {"2026-11-24": {"outside_hours": 1}}  # 09:00 the next morning is inside
    sunday = at(2026, 11, 29, 12)
    c.handle({"id": "f2", "type": "CallFailed", "time": sunday - 60, "call": 2, "reason": "busy"})
    c.handle({"id": "d3", "type": "DialPlaced", "time": sunday, "call": 3, "lead": "+4790000003", "agent": None})
    assert c.flags() == {"2026-11-24": {"outside_hours": 1}, "2026-11-29": {"outside_hours": 1}}


def test_a_restored_campaign_keeps_refusing_outside_the_hours():
    journal = []

    class Memory:
        def append(self, campaign, first_seq, entries):
            journal.extend((first_seq + i, *e) for i, e in enumerate(entries))

    c = LiveCampaign(under("NO", mode="power"), journal=Memory())
    t = at(2026, 11, 24, 21, 0)  # a window closes at its end: 21:00 is outside
    assert c.submit([login(t)], decide_at=t).decision.dials == 0
    c.handle({"id": "d1", "type": "DialPlaced", "time": t + 1, "call": 1, "lead": "+4790000001", "agent": "ann"})
    again = LiveCampaign.restore("campaign", c.initial, journal)
    assert again.flags() == c.flags() == {"2026-11-24": {"outside_hours": 1}}  # the flags are the journal's too
    assert again.decide(t + 1).dials == 0


@pytest.fixture
def http(live_server):
    with httpx.Client(base_url=live_server.url, headers=AUTH, timeout=30) as client:
        yield client


def test_over_http(http):
    r = http.put("/campaigns/no-hours", json={"mode": "power", "preset": "NO", **PLACE["NO"]})
    assert r.status_code in (200, 201), r.text
    described = http.get("/campaigns/no-hours").json()
    config = described["config"]
    assert (config["preset"], config["origin"], config["caller_id"]) == ("NO", None, "+4722334455")
    held = described["held_to"]
    assert held["intervals"] == [{"name": "day", "kind": "day", "limit": 0.05, "window": None}]
    assert (held["limit"], held["redial_lockout"], held["hours_enforced"], held["mode"]) == (0.05, None, True, "power")
    assert held["pacer"] == {}  # Power has no parameters
    r = http.put("/campaigns/us-held", json={"mode": "power", "preset": "US", "abandon_limit": 0.02, **PLACE["US"]})
    assert r.status_code in (200, 201), r.text
    held = http.get("/campaigns/us-held").json()["held_to"]
    # the law's 30 days at the campaign's 2 %, stricter than the law's 3 %
    assert [(iv["kind"], iv["limit"], iv["window"]) for iv in held["intervals"]] == [("rolling", 0.02, 30 * 86400.0)]
    assert held["hours_enforced"] is True  # under a preset, always
    r = http.put("/campaigns/us-nowhere", json={"mode": "power", "preset": "US"})
    assert r.status_code == 422 and r.json()["detail"].startswith("timezone must be an IANA time zone name")
    sunday = at(2026, 11, 29, 12)
    r = http.post("/campaigns/no-hours/decide", json={"now": sunday, "events": [login(sunday)]})
    assert r.status_code == 200, r.text
    decision = r.json()["decision"]
    assert (decision["reserve"], decision["unreserved"], decision["wake_at"]) == ([], 0, at(2026, 11, 30, 9))
    h = http.get("/campaigns/no-hours/hours", params={"now": sunday}).json()
    assert h["enforced"] and not h["allowed"] and h["reason"] and h["next_opening"] == at(2026, 11, 30, 9)
    dial = {"id": "d1", "type": "DialPlaced", "time": sunday + 1, "call": 1, "lead": "+4790000001", "agent": "ann"}
    assert http.post("/campaigns/no-hours/events", json={"events": [dial]}).status_code == 200  # applied, and flagged:
    (day,) = http.get("/campaigns/no-hours/stats").json()["days"]
    assert day["day"] == "2026-11-29" and day["flags"] == {"outside_hours": 1} and day["counts"]["attempted"] == 1
    assert 'dialer_flagged_dials_total{campaign="no-hours",kind="outside_hours"} 1' in http.get("/metrics").text
    r = http.put("/campaigns/bad-preset", json={"mode": "power", "preset": "XX"})
    assert r.status_code == 422 and "preset" in r.json()["detail"] and "'XX'" in r.json()["detail"]
    assert http.get("/campaigns/bad-preset").status_code == 404


@pytest.mark.parametrize(
    "fields, expected",
    [({"preset": "NO", **PLACE["NO"]}, 12 * 3600.0),  # weekdays 09:00-21:00
     ({"preset": "NO", **PLACE["NO"], "pacer": {"day_length": 3600.0}}, 3600.0),  # as configured
     ({}, None)],  # no preset, no hours: the pacer is not told
)
def test_a_predictive_campaign_under_enforced_hours_knows_its_calling_day(fields, expected):
    config = CampaignConfig(mode="predictive", **fields)
    assert config.build().pacer.day_length == expected
