"""The wire form of events, decisions and statistics: plain JSON-ready dicts, both ways.

Owns: `event_from_dict` (a dict a dialer sent -> a core event and its id,
or one `ConfigError` naming the field and the value), `event_to_dict` (the
canonical form the store keeps and the reference client sends), and the
dict forms of a `Decision`, of picked leads (`Picks`), of `DailyStats` and
of the ledger's state.
Must not know about: HTTP, storage, locks, whether an event fits the state
(the controller's business). This is a pure translation layer.

    {"id": "b7-1042", "type": "DialPlaced", "time": 1764061200.0,
     "call": 1042, "lead": "+4790000001", "agent": null}

`type` names a core event class (`dialer.core.events`), the other keys are
its fields. `id` is the dialer's own name for the event (a string or a whole
number, at most 200 characters): an event whose id was applied before is
not applied again (docs/integration.md, "The event protocol").
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any, Mapping

from dialer.checks import REFUSED, Flag, OneOf, Real, refusal
from dialer.core.decision import Decision
from dialer.core.events import EVENT_TYPES, AgentId, Event, FailReason
from dialer.core.picker import Dial, Picks, Skipped
from dialer.core.stats import DailyStats
from dialer.errors import ConfigError, ProtocolError, bad

MAX_ID = 200
#: the latest time a campaign takes, seconds after its origin (about 3,170 years): a time in milliseconds
#: since 1970 (1.7e12) is past it, and below it a float still counts whole seconds (it does to 2**53)
MAX_TIME = 1e11

#: event type -> its fields besides `time`, in declaration order
EVENT_FIELDS: dict[str, tuple[str, ...]] = {
    name: tuple(f.name for f in dataclasses.fields(cls) if f.name != "time") for name, cls in EVENT_TYPES.items()
}
#: fields that may be left out, and their default
_OPTIONAL = {("DialPlaced", "agent"): None, ("DialPlaced", "phone"): None}
#: optional fields left out of the canonical form when they hold their default (added after journals
#: were first written: an event that does not use one keeps the form, and the digest, it always had)
_OMITTED = {("DialPlaced", "phone")}
_ID_FIELDS = ("agent", "call", "lead")


def check_id(field: str, value: Any) -> str | int:
    """An agent, call, lead or event id: a string (1..200 characters) or a whole number, returned as
    such (JSON does not tell 7.0 from 7: a whole number written with a decimal point is that number)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise bad(field, value, "a string or a whole number")
    if isinstance(value, str) and not 0 < len(value) <= MAX_ID:
        raise bad(field, value, f"a string of 1 to {MAX_ID} characters")
    if isinstance(value, int) and abs(value) >= 2**63:
        raise bad(field, value, "a whole number that fits in 64 bits")
    return value


_TIME = Real(noun="number of seconds")  # "a finite number of seconds"
_HUMAN = Flag(says="true (a person) or false (a machine)")
_REASON = OneOf(*(r.value for r in FailReason))


def check_time(field: str, value: Any) -> float:
    if _TIME.convert(value) is not REFUSED:
        return value
    if type(value) is int:  # a whole number beyond any float (JSON allows one): shown as the infinity it is
        value = math.inf if value > 0 else -math.inf
    raise bad(field, value, str(_TIME))


def event_from_dict(data: Any, where: str = "event") -> tuple[str | int | None, Event]:
    """Parse one wire event; returns (its id or None, the event). Errors name `where` and the field."""
    if not isinstance(data, Mapping):
        raise bad(where, data, 'an object such as {"id": "e1", "type": "AgentLoggedIn", "time": 0, "agent": "ann"}')
    tp = data.get("type")
    if not isinstance(tp, str) or tp not in EVENT_TYPES:
        raise bad(f"{where}.type", tp, f"one of {', '.join(EVENT_TYPES)}")
    fields = EVENT_FIELDS[tp]
    for key in data:
        if key not in fields and key not in ("id", "type", "time"):
            raise ConfigError(f"{where}.{key}: unknown field of {tp} (fields: id, type, time, {', '.join(fields)})")
    ev_id = data.get("id")
    if ev_id is not None:
        ev_id = check_id(f"{where}.id", ev_id)
    if "time" not in data:
        raise ConfigError(f"{where}.time: missing (seconds, supplied by the dialer)")
    kw: dict[str, Any] = {"time": check_time(f"{where}.time", data["time"])}
    for name in fields:
        if name not in data:
            if (tp, name) in _OPTIONAL:
                kw[name] = _OPTIONAL[(tp, name)]
                continue
            raise ConfigError(f"{where}.{name}: missing ({tp} needs {', '.join(fields)})")
        value = data[name]
        if name in _ID_FIELDS and not (value is None and (tp, name) in _OPTIONAL):
            value = check_id(f"{where}.{name}", value)
        kw[name] = value
    # per event: the field's name is only spelt out for a refusal
    if tp == "CallAnswered" and _HUMAN.convert(kw["human"]) is REFUSED:
        raise refusal(f"{where}.human", kw["human"], _HUMAN)
    if tp == "CallFailed" and _REASON.convert(kw["reason"]) is REFUSED:
        raise refusal(f"{where}.reason", kw["reason"], _REASON)
    try:
        return ev_id, EVENT_TYPES[tp](**kw)
    except ProtocolError as err:  # an event type's own check; the ones above should catch all
        raise ConfigError(f"{where}: {err}") from None


def event_to_dict(ev: Event, ev_id: str | int | None = None) -> dict[str, Any]:
    """The canonical wire form of a core event (the store keeps this; ids included when given)."""
    out: dict[str, Any] = {} if ev_id is None else {"id": ev_id}
    out["type"] = type(ev).__name__
    out["time"] = ev.time
    tp = type(ev).__name__
    for name in EVENT_FIELDS[tp]:
        value = getattr(ev, name)
        if value is None and (tp, name) in _OMITTED:
            continue
        out[name] = value.value if isinstance(value, FailReason) else value
    return out


def canonical(data: Mapping[str, Any]) -> str:
    """One text per event content, so a repeated id can be compared with what was applied."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def decision_to_dict(d: Decision) -> dict[str, Any]:
    return {"reserve": list(d.reserve), "unreserved": d.unreserved, "dials": d.dials, "wake_at": d.wake_at}


def decision_from_dict(data: Mapping[str, Any]) -> Decision:
    reserve: tuple[AgentId, ...] = tuple(data["reserve"])
    return Decision(reserve=reserve, unreserved=int(data["unreserved"]), wake_at=data.get("wake_at"))


def picks_to_dict(p: Picks) -> dict[str, Any]:
    """The leads' part of a decide answer: `dials` to place, `skipped` candidates with why."""
    return {
        "dials": [{"lead": d.lead, "agent": d.agent} for d in p.dials],
        "skipped": [{"lead": s.lead, "reason": s.reason, "detail": s.detail} for s in p.skipped],
    }


def picks_from_dict(decision: Decision, data: Mapping[str, Any]) -> Picks:
    dials = tuple(Dial(d["lead"], d.get("agent")) for d in data["dials"])
    skipped = tuple(Skipped(s["lead"], s["reason"], s.get("detail", "")) for s in data.get("skipped", ()))
    return Picks(decision, dials, skipped)


def stats_to_dict(day: Any, s: DailyStats) -> dict[str, Any]:
    """One campaign-day: the raw counters and time sums, and the published figures (norm 4.3)."""
    return {"day": day, "counts": dataclasses.asdict(s), "report": s.report()}


def stats_from_dict(data: Mapping[str, Any]) -> DailyStats:
    counts = data["counts"]
    known = {f.name for f in dataclasses.fields(DailyStats)}
    return DailyStats(**{k: v for k, v in counts.items() if k in known})


__all__ = [
    "EVENT_FIELDS",
    "MAX_TIME",
    "check_id",
    "check_time",
    "event_from_dict",
    "event_to_dict",
    "canonical",
    "decision_to_dict",
    "decision_from_dict",
    "picks_to_dict",
    "picks_from_dict",
    "stats_to_dict",
    "stats_from_dict",
]
