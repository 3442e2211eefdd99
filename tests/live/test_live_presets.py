"""A live campaign under a jurisdiction preset: the stricter limit and intervals, the redial lockout,
and (with a timezone) the calling hours and public holidays, in process and over HTTP."""

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


def intervals(config: CampaignConfig):
    return {(iv.name, iv.kind, iv.limit) for iv in config.build().ledger.intervals}


def test_the_stricter_of_the_campaign_and_the_preset():
    assert intervals(CampaignConfig(preset="UK")) == {("day", "day", Fraction(3, 100))}
    assert intervals(CampaignConfig(preset="NO", abandon_limit=0.04)) == {("day", "day", Fraction(1, 25))}
    us = intervals(CampaignConfig(preset="US", intervals=[{"kind": "day", "limit": 0.02}]))
    assert ("day", "day", Fraction(1, 50)) in us and any(kind == "rolling" for _, kind, _ in us)
    ca = CampaignConfig(preset="CA", origin="2026-11-24T00:00:00-05:00").build().ledger
    (month,) = ca.intervals
    assert month.key(0.0) == (2026, 11) and month.key(7 * 86400.0) == (2026, 12)
    assert CampaignConfig(preset="UK").lockout() == 72 * 3600.0
    assert CampaignConfig(preset="UK", redial_lockout=100 * 3600.0).lockout() == 100 * 3600.0
    assert CampaignConfig(preset="NO").lockout() is None  # norm 4.6.3: for ever


@pytest.mark.parametrize("field, value", [("preset", "XX"), ("preset", 5), ("origin", "2026-11-24"), ("origin", "noon"),
                                          ("origin", 0)])
def test_bad_preset_or_origin_is_named(field, value):
    with pytest.raises(ConfigError, match=field):
        CampaignConfig(**{field: value})


def test_no_dial_outside_the_calling_hours_and_the_next_opening_is_told():
    c = LiveCampaign(mode="power", preset="NO", timezone="Europe/Oslo")
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


def test_without_a_timezone_the_hours_are_not_enforced():
    c = LiveCampaign(mode="power", preset="NO")
    assert not c.config.hours_enforced
    assert c.decide(0.0, [login(0.0)]).reserve == ("ann",)  # 01:00 in Oslo: allowed, since not enforced
    assert c.hours_dict(0.0)["enforced"] is False


def test_a_restored_campaign_keeps_refusing_outside_the_hours():
    journal = []

    class Memory:
        def append(self, campaign, first_seq, entries):
            journal.extend((first_seq + i, *e) for i, e in enumerate(entries))

    c = LiveCampaign(mode="power", preset="NO", timezone="Europe/Oslo", journal=Memory())
    t = at(2026, 11, 24, 21, 0)  # a window closes at its end: 21:00 is outside
    assert c.submit([login(t)], decide_at=t).decision.dials == 0
    again = LiveCampaign.restore("campaign", c.initial, journal)
    assert again.decide(t + 1).dials == 0
    assert again.decide(at(2026, 11, 25, 9)).reserve == ("ann",)


@pytest.fixture
def http(live_server):
    with httpx.Client(base_url=live_server.url, headers=AUTH, timeout=30) as client:
        yield client


def test_over_http(http):
    r = http.put("/campaigns/no-hours", json={"mode": "power", "preset": "NO", "timezone": "Europe/Oslo"})
    assert r.status_code in (200, 201), r.text
    described = http.get("/campaigns/no-hours").json()
    config = described["config"]
    assert config["preset"] == "NO" and config["origin"] is None
    held = described["held_to"]
    assert held["intervals"] == [{"name": "day", "kind": "day", "limit": 0.05, "window": None}]
    assert (held["limit"], held["redial_lockout"], held["hours_enforced"], held["mode"]) == (0.05, None, True, "power")
    assert held["pacer"] == {}  # Power has no parameters
    r = http.put("/campaigns/us-held", json={"mode": "power", "preset": "US", "abandon_limit": 0.02})
    assert r.status_code in (200, 201), r.text
    held = http.get("/campaigns/us-held").json()["held_to"]
    # the law's 30 days at the campaign's 2 %, stricter than the law's 3 %
    assert [(iv["kind"], iv["limit"], iv["window"]) for iv in held["intervals"]] == [("rolling", 0.02, 30 * 86400.0)]
    assert held["hours_enforced"] is False  # no timezone
    sunday = at(2026, 11, 29, 12)
    r = http.post("/campaigns/no-hours/decide", json={"now": sunday, "events": [login(sunday)]})
    assert r.status_code == 200, r.text
    decision = r.json()["decision"]
    assert (decision["reserve"], decision["unreserved"], decision["wake_at"]) == ([], 0, at(2026, 11, 30, 9))
    h = http.get("/campaigns/no-hours/hours", params={"now": sunday}).json()
    assert h["enforced"] and not h["allowed"] and h["reason"] and h["next_opening"] == at(2026, 11, 30, 9)
    r = http.put("/campaigns/bad-preset", json={"mode": "power", "preset": "XX"})
    assert r.status_code == 422 and "preset" in r.json()["detail"] and "'XX'" in r.json()["detail"]
    assert http.get("/campaigns/bad-preset").status_code == 404


@pytest.mark.parametrize(
    "fields, expected",
    [({"preset": "NO", "timezone": "Europe/Oslo"}, 12 * 3600.0),  # weekdays 09:00-21:00
     ({"preset": "NO", "timezone": "Europe/Oslo", "pacer": {"day_length": 3600.0}}, 3600.0),  # as configured
     ({"preset": "NO"}, None),  # hours not enforced: the pacer is not told
     ({}, None)],
)
def test_a_predictive_campaign_under_enforced_hours_knows_its_calling_day(fields, expected):
    config = CampaignConfig(mode="predictive", **fields)
    assert config.build().pacer.day_length == expected
