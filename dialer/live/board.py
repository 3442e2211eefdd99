"""The supervisor's wall board, as data: one campaign at its own clock, and its day so far.

Owns: `snapshot(campaign)`, the figures one panel of the board shows, read
as one instant at the campaign's clock (its last event or decision): mode
and the effective parameters the factory gave it (`held_to`); the calling
window now (open, or closed and why, and when it reopens); agents by state;
calls in flight, reserved and unreserved, and the dial level (lines in use
per agent available); today's norm 4.3 counts and abandon rate against the
limit; the envelope per interval (the ledger's own headroom: the abandons
it can still afford now, and the worst case if every call in flight were
answered now and every exposed one abandoned); connects per agent-hour;
numbers under the 4.6.3 guard; promise breaks, flagged dials and register
warnings (a national register older than the preset allows); and the
timeline of the day per minute (`dialer.live.timeline`). Times also in words
on the campaign's wall clock (its timezone, else its preset's, else UTC).
Must not know about: HTTP, the stream (`dialer.live.board_http` serves these).

    snapshot(service.get("sales"))["envelope"]["intervals"][0]["headroom"]   # abandons still affordable
"""

from __future__ import annotations

from typing import Any, Hashable, Iterable
from zoneinfo import ZoneInfo

from dialer.live.campaign import LiveCampaign
from dialer.live.timeline import FIELDS
from dialer.units import day_of as _whole_day

#: the norm 4.3 counts of the day the board shows, in the order it shows them
DAY_COUNTS = ("attempted", "answered", "connected", "transferred", "abandoned", "no_answer", "busy", "invalid",
              "machine", "reserved_dials")


def zone_of(campaign: LiveCampaign) -> ZoneInfo:
    """The campaign's wall clock: its timezone, else its preset's, else UTC."""
    cfg = campaign.config
    if cfg.timezone is not None:
        return ZoneInfo(cfg.timezone)
    preset = cfg.rules()
    return preset.tz if preset is not None else ZoneInfo("UTC")


def _local(campaign: LiveCampaign, zone: ZoneInfo, t: float | None) -> dict[str, str] | None:
    if t is None:
        return None
    when = campaign.config.instant(t).astimezone(zone)
    return {"iso": when.isoformat(timespec="seconds"), "hm": when.strftime("%H:%M"),
            "text": when.strftime("%a %d %b %Y %H:%M:%S ") + (when.tzname() or "")}


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def _point(campaign: LiveCampaign, zone: ZoneInfo, limit: float, t: float, sample: tuple[Any, ...]) -> dict[str, Any]:
    s = dict(zip(FIELDS, sample))
    return {"t": t, "hm": campaign.config.instant(t).astimezone(zone).strftime("%H:%M"),
            "rate": _ratio(s["abandoned"], s["connected"]) or 0.0, "limit": limit,
            "dial_level": _ratio(s["lines"], s["available"]), **s}


def snapshot(campaign: LiveCampaign, *, timeline_after: float | None = None) -> dict[str, Any]:
    """One campaign's panel at its clock (see the module's docstring); `timeline_after`: only the
    timeline's minutes after it (a stream sends the rest once), None: all of them."""
    c = campaign
    zone = zone_of(c)
    with c.reading():  # one instant: no event lands between the reads
        clock = c.clock
        at = 0.0 if clock is None else clock
        cfg = c.config
        held = c.held_to_dict()
        floor = c.floor_dict()
        ledger = c.ledger_dict(at)
        hours = c.hours_dict(at)
        stats = c.stats()
        flags = c.flags()
        breaks = c.promise_breaks()
        timeline = c.timeline()
        leaving = c.agents_leaving()
        held_numbers = c.numbers_held(at)
        warnings = c.register_warnings(at)
        seq = c.seq
    day_of = cfg.day_of() or _whole_day
    today: Hashable = day_of(at)
    s = stats.get(today)
    report = s.report() if s is not None else {}
    limit = held["limit"]
    available = floor["logged_in"] - floor["paused"]
    pooled = floor["ringing_unreserved"] + floor["live_waiting"]
    exposure = ledger["exposure"]
    intervals = []
    for iv in ledger["intervals"]:
        worst_a, worst_c = iv["abandoned"] + exposure, iv["established"] + pooled
        h = iv["headroom"]
        intervals.append({**iv, "worst": {"abandoned": worst_a, "established": worst_c,
                                          "rate": _ratio(worst_a, worst_c) or 0.0,
                                          "spare": None if h is None else h - exposure}})
    rows = timeline["rows"] if timeline["day"] == today else []  # a new day with no event yet: nothing drawn
    if timeline_after is not None:
        rows = [r for r in rows if r[0] > timeline_after]
    points = [_point(c, zone, limit, t, sample) for t, sample in rows]
    now_point = None
    if timeline["now"] is not None and timeline["day"] == today and timeline["open"] is not None:
        now_point = _point(c, zone, limit, timeline["open"], timeline["now"])
    return {
        "name": c.name,
        "seq": seq,
        "clock": clock,
        "local": _local(c, zone, clock),
        "zone": str(zone.key),
        "config": {"mode": cfg.mode, "pacer": dict(cfg.pacer), "paused": cfg.paused, "preset": cfg.preset,
                   "timezone": cfg.timezone, "lines": cfg.lines},
        "held_to": held,
        "uses_envelope": c.uses_envelope,
        "hours": {**hours, "next_opening_local": _local(c, zone, hours["next_opening"])},
        "agents": {"logged_in": floor["logged_in"], "idle": floor["idle"], "reserved": floor["reserved_agents"],
                   "talking": floor["talking"], "wrapping": floor["wrapping"], "paused": floor["paused"],
                   "leaving": leaving},
        "calls": {"reserved": floor["ringing_reserved"], "unreserved": floor["ringing_unreserved"],
                  "waiting": floor["live_waiting"], "talking": floor["talking"], "lines_in_use": floor["calls_active"],
                  "lines": cfg.lines, "dial_level": _ratio(floor["calls_active"], available)},
        "today": {"day": today, "counts": {k: getattr(s, k) if s is not None else 0 for k in DAY_COUNTS},
                  "abandon_rate": report.get("abandon_rate", 0.0), "limit": limit,
                  "connects_per_agent_hour": report.get("connects_per_agent_hour", 0.0),
                  "agent_utilization": report.get("agent_utilization", 0.0),
                  "flags": flags.get(today, {})},
        "envelope": {"intervals": intervals, "exposure": exposure, "pooled": pooled, "headroom": ledger["headroom"],
                     "releasable": ledger["releasable"]},
        "guard": {"numbers": held_numbers, "lockout": held["redial_lockout"]},
        "promise_breaks": {"counts": {k: n for k, n in breaks["counts"].items() if n},
                           "dialing_as_power": breaks["dialing_as_power"]},
        "warnings": warnings,
        "timeline": {"day": today, "after": timeline_after, "points": points, "now": now_point},
    }


def board(campaigns: Iterable[LiveCampaign]) -> list[dict[str, Any]]:
    """Every campaign's panel, by name."""
    return [snapshot(c) for c in sorted(campaigns, key=lambda c: c.name)]


def last_minute(panel: dict[str, Any]) -> float | None:
    """The start of the last minute a panel's timeline holds (what a stream sends after, next time)."""
    points = panel["timeline"]["points"]
    return points[-1]["t"] if points else panel["timeline"]["after"]
