"""A live campaign's configuration: what a dialer sends to create one, checked in one place.

Owns: `CampaignConfig` (dialing mode and pacer parameters, abandon limit and
accounting intervals, trunk lines, horizon, redial lockout, time zone,
jurisdiction preset and time origin), its plain-dict form (what the HTTP
service and the store carry), and `build`, which turns it into a core
`Controller` (the preset's calling calendar is `calendar()`: the live
campaign asks it, the controller knows no wall clock). Under a `preset` the
campaign is held to the stricter of its own and the preset's rules.
Must not know about: HTTP, storage, threads. It only validates and builds.

    cfg = CampaignConfig(mode="predictive", preset="NO", timezone="Europe/Oslo", caller_id="+4722334455")
    cfg.build()                         # the Controller; under a preset the hours are enforced

What a time means (seconds since `origin`; days in UTC or in `timezone`) and
what a preset adds: docs/design.md, "Wall-clock time and the journal".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dialer.checks import Flag, OrNone, Whole, check, positive
from dialer.rules.calendar import CallingCalendar
from dialer.core.controller import HORIZON, Controller
from dialer.core.factory import CampaignSettings, Rules, campaign_rules
from dialer.core.guards import AbandonedNumbers
from dialer.core.ledger import Interval, as_rate
from dialer.rules.preset import Preset
from dialer.core.modes import PACERS, make_pacer
from dialer.errors import ConfigError, bad

#: the keys a configuration may carry (anything else is a typo and is refused)
FIELDS = ("mode", "pacer", "abandon_limit", "intervals", "lines", "horizon", "redial_lockout", "timezone",
          "preset", "origin", "wait_for_solves", "caller_id", "envelope", "paused")
#: the keys that may change once a campaign exists (`LiveCampaign.configure`)
MUTABLE = ("mode", "pacer", "lines", "paused")
INTERVAL_KINDS = ("day", "campaign", "rolling")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
#: the years an `origin` may be in (beyond them, local dates and calling hours overflow Python's datetime)
ORIGIN_YEARS = (1900, 2199)


_LINES = OrNone(Whole(1), meaning="no cap", none="null")
_LOCKOUT = OrNone(positive("number of seconds"), meaning="forever", none="null")
_WINDOW = positive("number of seconds")


def check_lines(lines: Any) -> int | None:
    return check("lines", lines, _LINES)


def check_pacer(mode: Any, pacer: Any) -> None:
    """Raise ConfigError unless `mode` names a pacer and `pacer` holds parameters it takes."""
    if not isinstance(mode, str) or mode not in PACERS:
        raise bad("mode", mode, f"one of {', '.join(PACERS)}")
    if not isinstance(pacer, Mapping):
        raise bad("pacer", pacer, "an object of the mode's parameters, such as {\"ratio\": 1.8}")
    try:
        make_pacer(mode, dict(pacer))
    except TypeError as err:  # a parameter of the wrong type that a constructor trips over
        raise bad("pacer", dict(pacer), f"parameters mode {mode!r} accepts ({err})") from None


@dataclass(frozen=True)
class CampaignConfig:
    """Everything needed to build a campaign's controller; validated on construction.

    `abandon_limit`: the rate enforced per day (0.05: 5 %, norm 4.6.2).
    `intervals`: instead of that, a list of accounting intervals, each
    {"kind": "day" | "campaign" | "rolling", "limit": rate, "window": seconds
    (rolling only), "name": optional}; every one is enforced, the strictest wins.
    `preset`: a jurisdiction preset's name (docs/design.md, "Wall-clock time and the journal");
    a campaign under one needs its `timezone` (the preset's calling hours are always enforced),
    and under a preset that asks for it (NO: norm 4.4.2) its `caller_id`, the number it shows
    to the called party (kept in E.164). `origin`: the ISO 8601 instant time 0 stands for (None: the Unix epoch).
    `paused`: new dials paused by a supervisor (every decision dials nothing; the pacer is asked all
    the same, so its learning and the journal are as if it were not).
    `wait_for_solves`: a decision that needs a policy or a day plan not solved
    yet waits for the solve (as the simulator does: `dialer emulate` sets it,
    for decisions identical to `dialer simulate`'s). False, the default: the
    solve is done in the background and the decision meanwhile dials as
    cautiously as without a policy (Power at that point), never waiting.
    """

    mode: str = "power"
    pacer: Mapping[str, Any] = field(default_factory=dict)
    abandon_limit: float | str = 0.05
    intervals: tuple[Mapping[str, Any], ...] | None = None
    lines: int | None = None
    horizon: float = 60.0
    redial_lockout: float | None = None
    timezone: str | None = None
    preset: str | None = None
    origin: str | None = None
    wait_for_solves: bool = False
    caller_id: str | None = None
    envelope: bool | None = None
    paused: bool = False

    def __post_init__(self) -> None:
        check_pacer(self.mode, self.pacer)
        object.__setattr__(self, "pacer", dict(self.pacer))
        as_rate(self.abandon_limit, "abandon_limit")
        if self.intervals is not None:
            if isinstance(self.intervals, (str, bytes, Mapping)) or not hasattr(self.intervals, "__iter__"):
                raise bad("intervals", self.intervals, "a list of intervals (or null)")
            ivs = tuple(dict(iv) if isinstance(iv, Mapping) else iv for iv in self.intervals)
            if not ivs:
                raise bad("intervals", list(self.intervals), "a non-empty list (or null: abandon_limit per day)")
            object.__setattr__(self, "intervals", ivs)
            for i, iv in enumerate(ivs):
                _interval(iv, i)
        check_lines(self.lines)
        check("horizon", self.horizon, HORIZON)
        check("redial_lockout", self.redial_lockout, _LOCKOUT)
        check("wait_for_solves", self.wait_for_solves, Flag())
        check("paused", self.paused, Flag())
        check("envelope", self.envelope, OrNone(Flag(), meaning="as the mode says", none="null"))
        if self.envelope is False and self.preset is not None:
            raise bad("envelope", self.envelope, f"true or null under preset {self.preset} (every mode is held to "
                      "the abandon limit there; the raw baselines are for the simulator)")
        if self.timezone is not None:
            _zone(self.timezone)
        if self.caller_id is not None:
            object.__setattr__(self, "caller_id", _caller_id(self.caller_id))
        if self.preset is not None:
            preset = self.rules()
            assert preset is not None
            if self.timezone is None:  # the preset's calling hours cannot be forgotten
                raise bad("timezone", None, f"an IANA time zone name such as 'Europe/Oslo' for a campaign under "
                          f"preset {preset.name} (its calling hours and holidays are enforced on the wall clock)")
            if preset.caller_id and self.caller_id is None:
                raise bad("caller_id", None, f"the phone number the campaign shows to the called party, such as "
                          f"'+4722334455', under preset {preset.name} (norm 4.4.2: never a hidden number)")
        if self.origin is not None:
            self.origin_instant()
        self.build()  # the controller itself checks the combination (say, a rolling window vs the horizon)

    @classmethod
    def from_dict(cls, data: Any) -> "CampaignConfig":
        """From the plain form a dialer sends; unknown keys are refused by name."""
        if not isinstance(data, Mapping):
            raise bad("campaign configuration", data, "an object")
        for key in data:
            if key not in FIELDS:
                raise ConfigError(f"{key}: unknown field of a campaign configuration (fields: {', '.join(FIELDS)})")
        return cls(**dict(data))

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "pacer": dict(self.pacer),
            "abandon_limit": self.abandon_limit,
            "intervals": None if self.intervals is None else [dict(iv) for iv in self.intervals],
            "lines": self.lines,
            "horizon": self.horizon,
            "redial_lockout": self.redial_lockout,
            "timezone": self.timezone,
            "preset": self.preset,
            "origin": self.origin,
            "wait_for_solves": self.wait_for_solves,
            "caller_id": self.caller_id,
            "envelope": self.envelope,
            "paused": self.paused,
        }

    def rules(self) -> Preset | None:
        """The jurisdiction preset named by `preset` (None without one)."""
        if self.preset is None:
            return None
        if not isinstance(self.preset, str) or not self.preset:
            raise bad("preset", self.preset, "the name of a preset such as 'NO' (or null)")
        from dialer.rules.presets import get_preset

        return get_preset(self.preset)

    def origin_instant(self) -> dt.datetime:
        """The aware instant that time 0 stands for (the Unix epoch unless `origin` says otherwise)."""
        if self.origin is None:
            return _EPOCH
        if not isinstance(self.origin, str):
            raise bad("origin", self.origin, "an ISO 8601 instant with its UTC offset, e.g. '2026-11-24T00:00:00+01:00'")
        try:
            when = dt.datetime.fromisoformat(self.origin)
        except ValueError:
            when = None
        if when is None or when.tzinfo is None:
            raise bad("origin", self.origin, "an ISO 8601 instant with its UTC offset, e.g. '2026-11-24T00:00:00+01:00'")
        if not ORIGIN_YEARS[0] <= when.year <= ORIGIN_YEARS[1]:  # the calendars' arithmetic stays in range
            raise bad("origin", self.origin, f"an instant in the years {ORIGIN_YEARS[0]} to {ORIGIN_YEARS[1]}")
        return when

    def lockout(self) -> float | None:
        """The redial lockout held: `redial_lockout`, or when unset the preset's lockout (None: for ever)."""
        return self.effective_rules().redial_lockout

    @property
    def hours_enforced(self) -> bool:
        """Whether decisions are refused outside the preset's calling hours: under a preset, always
        (a campaign under a preset is refused without its timezone)."""
        return self.preset is not None

    def calendar(self) -> CallingCalendar | None:
        """The preset's calling calendar when hours are enforced (see `hours_enforced`), else None."""
        return CallingCalendar(self.rules()) if self.hours_enforced else None

    def instant(self, t: float) -> dt.datetime:
        """The wall-clock instant of time `t` (seconds since the origin)."""
        return self.origin_instant() + dt.timedelta(seconds=t)

    def seconds(self, instant: dt.datetime) -> float:
        """The time (seconds since the origin) of an aware instant."""
        return (instant - self.origin_instant()).total_seconds()

    def day_of(self) -> Callable[[float], Hashable] | None:
        """The accounting day of a time (None: the core's whole days from t = 0)."""
        if self.timezone is None:
            return None
        zone = _zone(self.timezone)
        if self.origin is None:

            def day(t: float) -> str:
                return dt.datetime.fromtimestamp(t, zone).date().isoformat()

            return day
        origin = self.origin_instant()

        def local_day(t: float) -> str:
            return (origin + dt.timedelta(seconds=t)).astimezone(zone).date().isoformat()

        return local_day

    def day_length(self) -> float | None:
        """Seconds of calling a day for a pacer that plans its day: the longest calling window of the
        preset's week where hours are enforced, else None (the pacer's own `day_length`, if given, wins)."""
        if not self.hours_enforced:
            return None
        windows = [w for w in map(self.rules().hours_on, range(7)) if w is not None]  # type: ignore[union-attr]
        return max((close - open_ for open_, close in windows), default=None)

    def settings(self) -> CampaignSettings:
        """The campaign's own settings, as the core's factory takes them."""
        intervals = None
        if self.intervals is not None:
            intervals = tuple(_interval(iv, i) for i, iv in enumerate(self.intervals))
        return CampaignSettings(mode=self.mode, pacer=dict(self.pacer), abandon_limit=self.abandon_limit,
                                intervals=intervals, lines=self.lines, horizon=float(self.horizon),
                                redial_lockout=self.redial_lockout, day_length=self.day_length(),
                                envelope=self.envelope)

    def effective_rules(self) -> Rules:
        """The rules the controller holds (`dialer.core.factory`): the campaign's own, held to the stricter
        of them and the preset's, exactly as `dialer simulate` holds a scenario under `study.preset`."""
        preset = self.rules()
        origin = None
        if preset is not None:
            origin = self.origin_instant().astimezone(_zone(self.timezone) if self.timezone else preset.tz)
        return campaign_rules(self.settings(), preset, origin=origin)

    def build(self, *, solver: Any = None, numbers: AbandonedNumbers | None = None,
              number_key: Callable[[Hashable], Hashable] | None = None) -> Controller:
        """A fresh controller for this configuration (`solver`: the Predictive pacer's, see `PacingSolver`;
        `numbers`, `number_key`: the call centre's abandoned numbers it shares, and how a lead is keyed
        in them, on Unix seconds: see `RedialGuard`)."""
        return self.effective_rules().controller(day_of=self.day_of(), solver=solver, numbers=numbers,
                                                 number_key=number_key,
                                                 clock_offset=self.origin_instant().timestamp())


def _caller_id(value: Any) -> str:
    """The caller ID in E.164 (`dialer.rules.phone.normalise`), or one error naming the field."""
    from dialer.rules.phone import normalise

    try:
        return normalise(value)
    except ConfigError:
        raise bad("caller_id", value, "a phone number such as '+4722334455' (or null)") from None


def _zone(name: Any) -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise bad("timezone", name, "an IANA time zone name such as 'Europe/Oslo' (or null)")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise bad("timezone", name, "an IANA time zone name such as 'Europe/Oslo' (or null)") from None


def _interval(spec: Any, i: int) -> Interval:
    where = f"intervals[{i}]"
    if not isinstance(spec, Mapping):
        raise bad(where, spec, 'an object such as {"kind": "day", "limit": 0.05}')
    for key in spec:
        if key not in ("kind", "limit", "window", "name"):
            raise ConfigError(f"{where}.{key}: unknown field (fields: kind, limit, window, name)")
    kind = spec.get("kind")
    if kind not in INTERVAL_KINDS:
        raise bad(f"{where}.kind", kind, f"one of {', '.join(INTERVAL_KINDS)}")
    limit = as_rate(spec.get("limit"), f"{where}.limit")
    if kind == "rolling":
        window = check(f"{where}.window", spec.get("window"), _WINDOW)
        name = spec.get("name", "")
        if not isinstance(name, str):
            raise bad(f"{where}.name", name, "a string")
        return Interval.rolling(limit, window=float(window), name=name)
    if "window" in spec:
        raise ConfigError(f"{where}.window: only a rolling interval has a window (kind is {kind!r})")
    return Interval.day(limit) if kind == "day" else Interval.campaign(limit)
