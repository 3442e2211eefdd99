"""Scenario files: the TOML format of a whole study, parsed and checked.

Owns: the scenario model (study calendar, agent groups and shifts, campaigns
with mode, leads, outcome probabilities by hour, duration distributions,
retry rules, abandon limit), loading from TOML, the embedded default
scenario, and turning every mistake into one `ConfigError` line that names the
field and the bad value.

Must not know about: SimPy or the engine (which reads this model), the CLI.

A scenario is data. Times of day are "HH:MM" strings; durations are seconds,
either a bare number (constant) or a table such as
`{ dist = "lognormal", mean = 170, sd = 120 }`.
"""

from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
    model_validator,
)

from dialer import limits
from dialer.checks import REFUSED, Constraint, Either, OneOf, OrNone, Real, Whole, check, is_number, non_negative
from dialer.core.modes import PACERS, make_pacer
from dialer.errors import ConfigError
from dialer.files import load_toml
from dialer.sim.distributions import DISTRIBUTIONS, Distribution
from dialer.units import DAY

# --- small field types -----------------------------------------------------------

_PROBABILITY = Real(0, 1, noun="probability")


def _parse_dist(value: Any) -> Distribution:
    if isinstance(value, Distribution):
        return value
    if is_number(value):
        return DISTRIBUTIONS["constant"](value=value)
    if not isinstance(value, dict):
        raise ValueError("must be a number of seconds or a table with a 'dist' key")
    spec = dict(value)
    name = spec.pop("dist", None)
    if name not in DISTRIBUTIONS:
        choices = ", ".join(sorted(DISTRIBUTIONS))
        raise ValueError(f"dist must be one of {choices}, got {name!r}")
    cls = DISTRIBUTIONS[name]
    try:
        if name == "empirical":
            samples = spec.pop("samples", None)
            if not isinstance(samples, list):
                raise ValueError(f"samples must be a list of durations, got {samples!r}")
            if spec:
                raise ValueError(f"unknown key {next(iter(spec))!r} for dist 'empirical'")
            return cls(samples=tuple(samples))
        return cls(**spec)
    except TypeError:
        fields = [f for f in cls.__dataclass_fields__]  # type: ignore[attr-defined]
        raise ValueError(
            f"dist {name!r} takes {', '.join(fields)}, got {', '.join(sorted(spec)) or 'nothing'}"
        ) from None
    except ConfigError as exc:
        raise ValueError(str(exc)) from None


Dist = Annotated[
    Distribution, BeforeValidator(_parse_dist), PlainSerializer(lambda d: d.to_spec(), return_type=dict)
]


def _parse_clock(value: Any) -> float:
    """'HH:MM' (or 'HH:MM:SS') -> seconds after midnight; '24:00' allowed as the end of a day."""
    if not isinstance(value, str):
        raise ValueError("must be a time of day 'HH:MM'")
    parts = value.split(":")
    try:
        nums = [int(p) for p in parts]
    except ValueError:
        raise ValueError("must be a time of day 'HH:MM'") from None
    if len(nums) not in (2, 3) or not (0 <= nums[0] <= 24) or not all(0 <= n < 60 for n in nums[1:]):
        raise ValueError("must be a time of day 'HH:MM'")
    secs = nums[0] * 3600 + nums[1] * 60 + (nums[2] if len(nums) == 3 else 0)
    if secs > DAY:
        raise ValueError("must be a time of day 'HH:MM'")
    return float(secs)


def _format_clock(secs: float) -> str:
    h, rest = divmod(int(round(secs)), 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}" + (f":{s:02d}" if s else "")


def _checked(constraint: Constraint) -> BeforeValidator:
    """A field checked by a `dialer.checks` constraint before pydantic sees it: a boolean is no number
    (pydantic would read `count = true` as 1), and the refusal names the requirement (`_message`)."""

    def validate(value: Any) -> Any:
        out = constraint.convert(value)
        if out is REFUSED:
            raise ValueError(f"must be {constraint}")
        return out

    return BeforeValidator(validate)


def _parse_date(value: Any) -> dt.date:
    """A TOML date (start = 2026-11-24) or its text ("2026-11-24"); never a number (pydantic reads 0 as 1970)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError("must be a date YYYY-MM-DD")


Clock = Annotated[float, BeforeValidator(_parse_clock), PlainSerializer(_format_clock, return_type=str)]
Prob = Annotated[float, _checked(Real(0, 1, noun="probability"))]
Seconds = Annotated[float, _checked(non_negative("number of seconds"))]
#: a retry delay: seconds, or false (never retried)
Delay = Annotated[float | Literal[False], _checked(Either(non_negative("number of seconds"), OneOf(False, says="false")))]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


def _window(pair: tuple[float, float], what: str) -> tuple[float, float]:
    if pair[1] <= pair[0]:
        raise ValueError(f"{what} must end after it starts")
    return pair


# --- the model -------------------------------------------------------------------------


class Study(_Model):
    name: str = "scenario"
    start: Annotated[dt.date, BeforeValidator(_parse_date)] = dt.date(2026, 11, 24)
    days: Annotated[int, _checked(limits.DAYS)] = 1
    timezone: str = "Europe/Oslo"
    #: the calling window of every simulated day, local time
    hours: tuple[Clock, Clock] = (9 * 3600.0, 21 * 3600.0)
    #: jurisdiction preset (dialer/data/presets.toml), e.g. "NO": closed days are skipped, the window
    #: is `hours` within the preset's, and dialling stops a ring timeout before the close
    preset: str | None = None

    @field_validator("preset")
    @classmethod
    def _preset(cls, v: str | None) -> str | None:
        if v is not None:
            from dialer.rules.presets import load_presets

            names = load_presets()
            if v not in names:
                raise ValueError(f"must be one of {', '.join(names)}, got {v!r}")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as 'Europe/Oslo'") from None
        return v

    @field_validator("hours")
    @classmethod
    def _hours(cls, v: tuple[float, float]) -> tuple[float, float]:
        return _window(v, "the calling window")

    @model_validator(mode="after")
    def _dates(self) -> "Study":
        """Every simulated date within the years whose public holidays the calendar knows (1901-2100 for NO)."""
        from dialer.rules.calendar import check_date, supported_dates

        country = subdiv = None
        if self.preset is not None:
            from dialer.rules.presets import get_preset

            p = get_preset(self.preset)
            country, subdiv = p.holidays, p.holiday_subdiv
        check_date("start", self.start, country, subdiv)
        last = supported_dates(country, subdiv)[1]
        room = (last - self.start).days + 1
        if self.days > room:
            raise ValueError(f"days must be at most {room} from start {self.start} (the calendar's last known date "
                             f"is {last}), got {self.days}")
        return self


class Outcomes(_Model):
    """Probability of each dial outcome; no answer takes what is left."""

    live: Prob = 0.25
    machine: Prob = 0.10
    busy: Prob = 0.05
    invalid: Prob = 0.03
    #: overrides for given hours of the day, e.g. hours."17" = { live = 0.12 }
    hours: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sums(self) -> "Outcomes":
        total = self.live + self.machine + self.busy + self.invalid
        if total > 1.0 + 1e-12:
            raise ValueError(f"live + machine + busy + invalid must be at most 1, got {total:.6g}")
        for key, override in self.hours.items():
            if not key.isdigit() or not 0 <= int(key) <= 23:
                raise ValueError(f"hours keys must be hours of the day '0'..'23', got {key!r}")
            for name, p in override.items():
                if name not in ("live", "machine", "busy", "invalid"):
                    raise ValueError(f"hours.{key}: unknown outcome {name!r} (live, machine, busy, invalid)")
                check(f"hours.{key}.{name}", p, _PROBABILITY)
            merged = self.for_hour(int(key))
            if sum(merged) > 1.0 + 1e-12:
                raise ValueError(
                    f"hours.{key}: live + machine + busy + invalid must be at most 1, got {sum(merged):.6g}"
                )
        return self

    def for_hour(self, hour: int) -> tuple[float, float, float, float]:
        """(live, machine, busy, invalid) in force during `hour` (0-23)."""
        o = self.hours.get(str(hour), {})
        return (
            float(o.get("live", self.live)),
            float(o.get("machine", self.machine)),
            float(o.get("busy", self.busy)),
            float(o.get("invalid", self.invalid)),
        )


class Durations(_Model):
    """Seconds: ring until answered, until given up (ring timeout), busy and invalid tones,
    talk, wrap-up, and how long a person who hears silence stays on the line."""

    ring: Dist = Field(default_factory=lambda: _parse_dist({"dist": "lognormal", "mean": 17, "sd": 8}))
    no_answer: Dist = Field(default_factory=lambda: _parse_dist(30))
    busy: Dist = Field(default_factory=lambda: _parse_dist({"dist": "uniform", "low": 3, "high": 8}))
    invalid: Dist = Field(default_factory=lambda: _parse_dist({"dist": "uniform", "low": 1, "high": 4}))
    talk: Dist = Field(default_factory=lambda: _parse_dist({"dist": "lognormal", "mean": 170, "sd": 120}))
    wrap: Dist = Field(default_factory=lambda: _parse_dist({"dist": "gamma", "mean": 30, "sd": 15}))
    patience: Dist = Field(default_factory=lambda: _parse_dist({"dist": "lognormal", "mean": 4, "sd": 3}))


class Retry(_Model):
    """Retry rules: attempts per lead, and the delay (seconds) before a lead is dialled again.

    A delay of `false` means that outcome is never retried. Invalid numbers never are.
    An abandoned lead is retried only with an agent reserved (norm 4.6.3).
    """

    max_attempts: Annotated[int, _checked(Whole(1, 100))] = 4
    no_answer: Delay = 7200.0
    busy: Delay = 900.0
    machine: Delay = 10800.0
    abandoned: Delay = 3600.0


class Campaign(_Model):
    name: str
    mode: str = "power"
    #: parameters of the mode's pacer, e.g. { ratio = 1.8 } for fixed-ratio
    pacer: dict[str, Any] = Field(default_factory=dict)
    leads: Annotated[int, _checked(limits.LEADS)] = 15000
    lines: Annotated[int | None, _checked(OrNone(Whole(1), meaning="no cap", none="omitted"))] = None
    abandon_limit: Prob = 0.05
    connect_limit: Seconds = 2.0
    #: cap every decision by the abandon envelope (true), never (false: the raw baselines, for the
    #: benchmarks), or as the mode says (unset; under study.preset every mode is capped unless false)
    envelope: bool | None = None
    outcomes: Outcomes = Field(default_factory=Outcomes)
    durations: Durations = Field(default_factory=Durations)
    retry: Retry = Field(default_factory=Retry)
    #: the number shown to the called party (norm 4.4.2); a live campaign under NO must declare one,
    #: `dialer emulate` sends it, `dialer simulate --store` records it for the audit
    caller_id: str | None = None

    @field_validator("caller_id")
    @classmethod
    def _caller_id(cls, v: str | None) -> str | None:
        if v is None:
            return None
        from dialer.rules.phone import normalise

        try:
            return normalise(v)
        except ConfigError:
            raise ValueError(f"must be a phone number such as '+4722334455', got {v!r}") from None

    @field_validator("mode")
    @classmethod
    def _mode(cls, v: str) -> str:
        if v not in PACERS:
            raise ValueError(f"must be one of {', '.join(PACERS)}, got {v!r}")
        return v

    @model_validator(mode="after")
    def _pacer(self) -> "Campaign":
        make_pacer(self.mode, self.pacer)  # raises ConfigError naming the parameter
        return self


class AgentGroup(_Model):
    count: Annotated[int, _checked(limits.AGENTS)]
    #: the campaign these agents work on (default: the first campaign)
    campaign: str | None = None
    #: log-in and log-out times, local; default: the study's calling hours
    shift: tuple[Clock, Clock] | None = None
    #: seconds before the shift ends at which the agent stops covering dials in flight
    leave_notice: Seconds = 60.0
    name: str = "agent"

    @field_validator("shift")
    @classmethod
    def _shift(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        return None if v is None else _window(v, "a shift")


class Scenario(_Model):
    study: Study = Field(default_factory=Study)
    agents: list[AgentGroup]
    campaigns: list[Campaign]

    @model_validator(mode="after")
    def _links(self) -> "Scenario":
        if not self.campaigns:
            raise ValueError("campaigns must list at least one campaign")
        if len(self.campaigns) > limits.MAX_CAMPAIGNS:
            raise ValueError(f"campaigns must list at most {limits.MAX_CAMPAIGNS} campaigns, got {len(self.campaigns)}")
        agents = sum(g.count for g in self.agents)
        if agents > limits.MAX_SCENARIO_AGENTS:
            raise ValueError(f"agents must count at most {limits.MAX_SCENARIO_AGENTS} agents in all groups together, "
                             f"got {agents}")
        leads = sum(c.leads for c in self.campaigns)
        if leads > limits.MAX_LEADS:
            raise ValueError(f"campaigns must hold at most {limits.MAX_LEADS} leads in all together, got {leads}")
        names = [c.name for c in self.campaigns]
        if len(set(names)) != len(names):
            raise ValueError(f"campaign names must be unique, got {names!r}")
        for i, g in enumerate(self.agents):
            if g.campaign is not None and g.campaign not in names:
                raise ValueError(
                    f"agents[{i}].campaign must name a campaign ({', '.join(names)}), got {g.campaign!r}"
                )
        from dialer.sim.compliance import campaign_rules

        for i, c in enumerate(self.campaigns):
            try:
                campaign_rules(self, c)  # the core's factory: a target at or above the limit held, say
            except ConfigError as err:
                raise ValueError(f"campaigns[{i}]: {err}") from None
        return self

    def agents_of(self, campaign: str) -> list[AgentGroup]:
        first = self.campaigns[0].name
        return [g for g in self.agents if (g.campaign or first) == campaign]

    def shift_of(self, group: AgentGroup) -> tuple[float, float]:
        return group.shift if group.shift is not None else self.study.hours


# --- loading ----------------------------------------------------------------------------


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part.startswith("function-") or part in (
            "constrained-float",
            "float",
            "int",
            "bool",
            "literal[False]",
            "tuple[...]",
        ):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


#: what a pydantic refusal of a given type asks for, in the words of `dialer.checks`
_REQUIREMENTS = {
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "int_parsing": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "string_type": "text (in quotes)",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
}


def _message(err: ValidationError) -> str:
    """The first problem, as "{field} must be {requirement}, got {value!r}" where it can be said so."""
    e = err.errors(include_url=False)[0]
    loc = _loc(tuple(p for p in e["loc"] if not (isinstance(p, str) and "[" in p and "literal" in p.lower())))
    msg = e["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    value = e.get("input")
    shown = "" if isinstance(value, (dict, list)) and len(repr(value)) > 80 else f", got {value!r}"
    if e["type"] == "extra_forbidden":
        text = f"unknown key (check the spelling), got {value!r}"
    elif e["type"] == "missing":
        text = "missing (required)"
    elif e["type"] in _REQUIREMENTS:
        text = f"must be {_REQUIREMENTS[e['type']]}{shown}"
    elif "got " in msg:
        text = msg
    elif msg.startswith("must be "):  # a `_checked` field
        text = f"{msg}{shown}"
    else:  # a whole table refused by its own check names what is wrong; the table itself is too long to print
        text = f"{msg[0].lower() + msg[1:]}{shown}"
    if not loc:
        return text
    return f"{loc} {text}" if text.startswith("must be ") else f"{loc}: {text}"


def from_dict(data: dict[str, Any], *, source: str = "scenario") -> Scenario:
    """Build and check a scenario from plain data (as parsed from TOML)."""
    if isinstance(data, dict) and "sweep" in data:
        raise ConfigError(f"{source}: [sweep] makes this a study file, not a scenario: run it with dialer study")
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ConfigError(f"{source}: {_message(err)}") from None


def loads(text: str, *, source: str = "scenario") -> Scenario:
    return from_dict(load_toml(text=text, source=source), source=source)


def load(path: str | Path) -> Scenario:
    """Read a scenario file; every problem is one ConfigError line naming the field."""
    return from_dict(load_toml(path, what="scenario file"), source=str(Path(path)))


def default_text() -> str:
    """The embedded default scenario, as TOML (a realistic Norwegian outbound sales day)."""
    return resources.files("dialer").joinpath("data/default.toml").read_text(encoding="utf-8")


def default() -> Scenario:
    return loads(default_text(), source="default scenario")
