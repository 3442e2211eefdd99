"""What a dialer may send, as the published schema says it: exactly the rules the service enforces.

Owns: pydantic models that only describe requests in /openapi.json (the
service checks the same rules itself, with its own messages: events in
`dialer.live.wire`, configurations in `CampaignConfig`): one model per event
type (a union on `type`), the parameters of each dialing mode (written from
the pacer's declared constraints by `constraint_schema`), a campaign's
configuration per mode (a union on `mode`) and a change of it (its mode
and parameters, the lines, or new dials paused); and
`CROSS_FIELD`, the few rules JSON Schema cannot state (one value compared
with another), which the service enforces all the same (422).
Must not know about: routes, status codes, the store.

    from dialer.live.schema import constraint_schema
    from dialer.checks import Real
    constraint_schema(Real(0, 1, closed="neither"))  # {"type": "number", "exclusiveMinimum": 0, ...}
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.json_schema import WithJsonSchema

from dialer.checks import Constraint, Either, Flag, OneOf, OrNone, Real, Whole
from dialer.core.events import EVENT_TYPES, FailReason
from dialer.core.modes import PACERS
from dialer.live.wire import EVENT_FIELDS, MAX_ID, MAX_TIME

#: an agent, call, lead or event id: a string of 1 to 200 characters or a whole number in 64 bits
#: (the app publishes the bounds as exact integers: FastAPI's models would make them floats)
ID_SCHEMA: dict[str, Any] = {"anyOf": [{"type": "string", "minLength": 1, "maxLength": MAX_ID},
                                       {"type": "integer", "minimum": -(2**63 - 1), "maximum": 2**63 - 1}]}
Id = Annotated[Any, WithJsonSchema(ID_SCHEMA)]

#: a time: seconds since the campaign's origin, never negative
TIME_SCHEMA: dict[str, Any] = {"type": "number", "minimum": 0, "maximum": MAX_TIME,
                               "description": "seconds since the campaign's origin"}

#: a JSON number as a query parameter (`?now=5.5`): the grammar of JSON, nothing more (no spaces, no "inf")
NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")

#: the rules of a request that JSON Schema cannot state, each with the start of the service's 422 message
CROSS_FIELD: tuple[tuple[str, str], ...] = (
    ("pacer.limit at most the campaign's abandon limit (adaptive, predictive)",
     r"pacer\.limit must be at most the campaign's abandon limit "),
    ("pacer.target below the campaign's and the pacer's limit (predictive)", r"pacer\.target must be (below|at most) "),
    ("pacer.min_level at most pacer.max_level (adaptive)", r"pacer\.min_level must be at most max_level "),
    ("a predictive campaign's limit high enough for a target above 0 (80 % of it, to 12 places)",
     r"pacer\.target must be a rate strictly between 0 and 1 \(mode 'predictive'\), got 0\.0$"),
    ("a rate written as a string at most 1 (\"3/2\" is not a rate)",
     r"(abandon_limit|intervals\[\d+\]\.limit) must be a rate between 0 and 1, such as 0\.05, got '"),
    ("horizon less than half the shortest rolling window", r"horizon must be less than half the shortest rolling window"),
    ("intervals named apart (a day or campaign interval is named after its kind, a rolling one by its name)",
     r"interval\.name must be unique within a ledger"),
    ("a time at most max_skew (dialer serve --max-skew) ahead of the campaign's clock, its last event or decision",
     r".*must be at most [\d,.e+]+ s ahead of the campaign's clock \(its last event or decision, at "),
    ("a timezone under a preset (its calling hours and holidays are enforced on the wall clock)",
     r"timezone must be an IANA time zone name such as 'Europe/Oslo' for a campaign under preset "),
    ("a caller_id under a preset that asks for one (NO: norm 4.4.2)",
     r"caller_id must be the phone number the campaign shows to the called party, .* under preset "),
    ("envelope true or null under a preset (every mode is held to the abandon limit there)",
     r"envelope must be true or null under preset "),
    ("caller_id a phone number as `dialer.rules.phone.normalise` reads it (separators, a + or 00 prefix, a "
     "Norwegian number without one; 8 to 15 digits)", r"caller_id must be a phone number "),
)


def constraint_schema(c: Constraint) -> dict[str, Any]:
    """A `dialer.checks` constraint as JSON Schema (its requirement in words as the description)."""
    if isinstance(c, Real):
        out: dict[str, Any] = {"type": "number"}
        left, right = c.closed in ("both", "left"), c.closed in ("both", "right")
        if c.low is not None:
            out["minimum" if left else "exclusiveMinimum"] = c.low
        if c.high is not None:
            out["maximum" if right else "exclusiveMaximum"] = c.high
    elif isinstance(c, Whole):
        out = {"type": "integer"}
        if c.low is not None:
            out["minimum"] = c.low
        if c.high is not None:
            out["maximum"] = c.high
    elif isinstance(c, Flag):
        out = {"type": "boolean"}
    elif isinstance(c, OneOf):
        out = {"enum": list(c.choices)}
    elif isinstance(c, OrNone):
        out = {"anyOf": [constraint_schema(c.inner), {"type": "null"}]}
    elif isinstance(c, Either):
        out = {"anyOf": [constraint_schema(o) for o in c.options]}
    else:  # a constraint this module does not know: say nothing rather than something wrong
        out = {}
    return {**out, "description": str(c)}


def _title(mode: str) -> str:
    return "".join(part.capitalize() for part in mode.split("-"))


# --- events ----------------------------------------------------------------------------------------------

_EVENT_FIELD_TYPES: dict[str, Any] = {
    "agent": (Id, ...),
    "call": (Id, ...),
    "lead": (Id, ...),
    "human": (bool, Field(..., description="true: a person answered; false: a machine")),
    "reason": (Literal[tuple(r.value for r in FailReason)], ...),  # type: ignore[misc]
}


def _event_model(name: str) -> type[BaseModel]:
    fields: dict[str, Any] = {
        "id": (Id, Field(..., description="the dialer's own id of the event: a retry is applied once")),
        "type": (Literal[name], ...),  # type: ignore[valid-type]
        "time": (Annotated[float, WithJsonSchema(TIME_SCHEMA)], ...),
    }
    for field in EVENT_FIELDS[name]:
        if name == "DialPlaced" and field == "agent":
            fields[field] = (Annotated[Any, WithJsonSchema({"anyOf": [ID_SCHEMA, {"type": "null"}]})],
                             Field(None, description="the agent reserved for the dial (null: unreserved)"))
        elif name == "DialPlaced" and field == "phone":
            fields[field] = (Annotated[Any, WithJsonSchema({"anyOf": [{"type": "string", "minLength": 1}, {"type": "null"}]})],
                             Field(None, description="the number dialled, when the lead is an id of the dialer's own "
                                                     "(null: the lead is the number)"))
        else:
            fields[field] = _EVENT_FIELD_TYPES[field]
    doc = (EVENT_TYPES[name].__doc__ or name).strip().splitlines()[0]
    return create_model(name, __config__=ConfigDict(extra="forbid", title=name), __doc__=doc, **fields)


EVENT_MODELS: dict[str, type[BaseModel]] = {name: _event_model(name) for name in EVENT_TYPES}
Event = Annotated[Union[tuple(EVENT_MODELS.values())], Field(discriminator="type")]  # type: ignore[valid-type]


# --- a campaign's configuration --------------------------------------------------------------------------

def _pacer_model(mode: str) -> type[BaseModel]:
    cls = PACERS[mode]
    fields = {name: (Annotated[Any, WithJsonSchema(constraint_schema(c))], None) for name, c in cls._constraints.items()}
    return create_model(f"{_title(mode)}Parameters", __config__=ConfigDict(extra="forbid"),
                        __doc__=f"The parameters of mode {mode!r}, each optional.", **fields)


PACER_MODELS: dict[str, type[BaseModel]] = {mode: _pacer_model(mode) for mode in PACERS}

# a rate: a number in [0, 1], or a string such as "0.05" or "1/20": the syntax of Python's Fraction (its
# value from 0 to 1 is a rule a pattern cannot state: CROSS_FIELD)
_RATE: dict[str, Any] = {"anyOf": [
    {"type": "number", "minimum": 0, "maximum": 1},
    {"type": "string", "pattern": r"^\s*[-+]?([0-9_]+/[0-9_]+|([0-9_]+\.?[0-9_]*|\.[0-9_]+)([eE][-+]?[0-9_]+)?)\s*$"},
], "description": "a rate between 0 and 1, such as 0.05 or \"1/20\""}
Rate = Annotated[Any, WithJsonSchema(_RATE)]

_INTERVAL_COMMON = {"limit": (Rate, ...), "name": (Annotated[Any, WithJsonSchema({"description": "ignored"})], None)}
DayInterval = create_model("DayInterval", __config__=ConfigDict(extra="forbid"), kind=(Literal["day"], ...),
                           **_INTERVAL_COMMON)
CampaignInterval = create_model("CampaignInterval", __config__=ConfigDict(extra="forbid"),
                                kind=(Literal["campaign"], ...), **_INTERVAL_COMMON)
RollingInterval = create_model(
    "RollingInterval", __config__=ConfigDict(extra="forbid"), kind=(Literal["rolling"], ...), limit=(Rate, ...),
    window=(Annotated[Any, WithJsonSchema({"type": "number", "exclusiveMinimum": 0, "description": "seconds"})], ...),
    name=(str, None),
)
Interval = Annotated[Union[DayInterval, CampaignInterval, RollingInterval], Field(discriminator="kind")]

_Y = r"(19[0-9]{2}|2[01][0-9]{2})"  # the years 1900 to 2199 (`dialer.live.config.ORIGIN_YEARS`)
_DATE = (rf"({_Y}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"  # every month has days 1-28
         rf"|{_Y}-(0[13-9]|1[0-2])-(29|30)|{_Y}-(0[13578]|1[02])-31"
         r"|(19|2[01])(0[48]|[2468][048]|[13579][26])-02-29|2000-02-29)")  # leap days (1900 and 2100 have none)
_ORIGIN = {"type": "string", "pattern": rf"^{_DATE}[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{{1,6}})?)?"
                                        r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$",
           "description": "ISO 8601 instant with its UTC offset, e.g. 2026-11-24T00:00:00+01:00"}


def _or_null(schema: dict[str, Any], description: str) -> Any:
    return Annotated[Any, WithJsonSchema({"anyOf": [schema, {"type": "null"}], "description": description})]


#: new dials paused (a supervisor's setting): every decision dials nothing until it is false again
_PAUSED = (Annotated[Any, WithJsonSchema({"type": "boolean", "description": "new dials paused: every decision "
                                                                             "dials nothing"})], False)


def _common_fields() -> dict[str, Any]:
    from dialer.rules.presets import load_presets

    zones = sorted(zoneinfo.available_timezones())
    return {
        "abandon_limit": (Rate, Field(0.05, description="rate per day, e.g. 0.05 or \"1/20\"")),
        "intervals": (list[Interval] | None, Field(  # type: ignore[valid-type]
            None, min_length=1, description="instead of abandon_limit: every interval enforced, the strictest wins")),
        "lines": (_or_null({"type": "integer", "minimum": 1}, "trunk lines (null: no cap)"), None),
        "horizon": (Annotated[Any, WithJsonSchema({"type": "number", "exclusiveMinimum": 0,
                                                   "description": "longest a dial takes to be resolved, s"})], 60.0),
        "redial_lockout": (_or_null({"type": "number", "exclusiveMinimum": 0},
                                    "s after an abandon a lead may only be dialled reserved (null: for ever)"), None),
        "timezone": (_or_null({"enum": zones}, "IANA zone: days are local dates"), None),
        "preset": (_or_null({"enum": list(load_presets())}, "jurisdiction preset"), None),
        "origin": (_or_null(_ORIGIN, "the instant time 0 stands for (null: the Unix epoch)"), None),
        "envelope": (_or_null({"type": "boolean"}, "cap every decision by the abandon envelope (true), never (false: "
                              "refused under a preset), or as the mode says (null)"), None),
        "wait_for_solves": (Annotated[Any, WithJsonSchema({"type": "boolean", "description": "a decision needing a "
                                                           "policy not solved yet waits for the solve"})], False),
        "caller_id": (_or_null({"type": "string", "minLength": 1},
                               "the number shown to the called party, a phone number (required under preset NO)"), None),
        "paused": _PAUSED,
    }


def _campaign_model(mode: str) -> type[BaseModel]:
    pacer = (PACER_MODELS[mode], Field(default_factory=dict))
    kind: Any = (Literal[mode], "power" if mode == "power" else ...)  # type: ignore[valid-type]
    doc = f"A campaign in mode {mode!r}" + (" (the mode when none is given)." if mode == "power" else ".")
    return create_model(f"{_title(mode)}Campaign", __config__=ConfigDict(extra="forbid"), __doc__=doc,
                        mode=kind, pacer=pacer, **_common_fields())


CAMPAIGN_MODELS = {mode: _campaign_model(mode) for mode in PACERS}
#: PUT /campaigns/{name}: one configuration per mode (a body without `mode` is Power's)
Campaign = Union[tuple(CAMPAIGN_MODELS.values())]  # type: ignore[valid-type]

_LINES_CHANGE = (_or_null({"type": "integer", "minimum": 1}, "trunk lines (null: no cap; leave out to keep)"), None)
_PAUSED_CHANGE = (Annotated[Any, WithJsonSchema({"type": "boolean", "description": "pause new dials (true) or resume "
                                                                                    "them (false); leave out to keep"})], None)


def _change_model(mode: str | None) -> type[BaseModel]:
    if mode is None:  # no mode: the parameters of the campaign's own mode (another mode's: 409)
        pacer: Any = (Union[tuple(PACER_MODELS.values())], None)  # type: ignore[valid-type]
        return create_model("ParametersChange", __config__=ConfigDict(extra="forbid"),
                            __doc__="The campaign's mode kept: its parameters, or the lines.",
                            pacer=pacer, lines=_LINES_CHANGE, paused=_PAUSED_CHANGE)
    return create_model(f"{_title(mode)}Change", __config__=ConfigDict(extra="forbid"),
                        __doc__=f"Change to mode {mode!r} (its parameters: all of them, or the defaults).",
                        mode=(Literal[mode], ...), pacer=(PACER_MODELS[mode], None), lines=_LINES_CHANGE,
                        paused=_PAUSED_CHANGE)


#: PATCH /campaigns/{name}: a new mode with its parameters, or new parameters of the same mode; the lines
Change = Union[tuple([_change_model(None), *(_change_model(m) for m in PACERS)])]  # type: ignore[valid-type]

__all__ = ["ID_SCHEMA", "Id", "TIME_SCHEMA", "NUMBER", "CROSS_FIELD", "constraint_schema", "EVENT_MODELS", "Event",
           "PACER_MODELS", "CAMPAIGN_MODELS", "Campaign", "Change", "Interval", "Rate"]
