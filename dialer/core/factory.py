"""Rules in, controller out: the one place a campaign's limits, redial rule and pacer parameters are decided.

Owns: `CampaignSettings` (what a campaign says of itself), `PresetRules`
(what is needed of a jurisdiction preset: `dialer.rules.preset.Preset` is
one), `campaign_rules` (settings + preset -> `Rules`, the effective rules)
and `Rules.controller` (-> the `Controller`). The simulator, the live
service, the emulator, the teaching watch and `dialer theory` all come
through here, so one campaign is held to one set of rules wherever it runs.
Must not know about: files, clocks, the simulator, the service; a preset is
a value handed in, read through `PresetRules`.

    from dialer.core.factory import CampaignSettings, campaign_rules
    rules = campaign_rules(CampaignSettings(mode="predictive", abandon_limit=0.03))
    rules.limit, rules.pacer["target"]     # Fraction(3, 100), 0.024
    controller = rules.controller()
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Hashable, Mapping, Protocol

from dialer.core.controller import Controller
from dialer.core.guards import AbandonedNumbers, RedialGuard
from dialer.core.ledger import Interval, as_rate
from dialer.core.modes import PACERS, accepted, make_pacer
from dialer.core.pacers import Pacer
from dialer.errors import bad

#: the share of the campaign's limit a pacer with a `target` aims at unless told otherwise (4 % under 5 %)
TARGET_SHARE = 0.8


class PresetRules(Protocol):
    """What the factory reads of a jurisdiction preset (`dialer.rules.preset.Preset`)."""

    name: str
    abandon_limit: Fraction
    connect_limit: float
    redial_rule: str  # "forever" | "lockout" | "none"
    redial_lockout: float | None

    def ledger_intervals(self, origin: dt.datetime, limit: Fraction) -> list[Interval]: ...


@dataclass(frozen=True)
class CampaignSettings:
    """A campaign's own settings, before any preset is applied.

    `abandon_limit`: the rate held per day unless `intervals` (core
    `Interval`s, every one enforced) say otherwise. `pacer`: the mode's
    parameters as the user gave them. `horizon`: the longest a dial may take
    to be resolved (ring timeout + connect limit), in seconds.
    `redial_lockout`: seconds after an abandon during which a number is only
    redialled reserved (None: the preset's rule, or for ever).
    `connect_limit`: seconds a person may wait for an agent (None: not
    modelled; a live dialer keeps its own). `day_length`: seconds of calling
    in a day, told to a pacer that plans its day unless its parameters say.
    `envelope`: cap every decision by the abandon envelope (True), never
    (False: the raw baselines of the benchmarks), or as the pacer says (None);
    under a preset it is on unless this says False.
    """

    mode: str = "power"
    pacer: Mapping[str, Any] = field(default_factory=dict)
    abandon_limit: Any = 0.05
    intervals: tuple[Interval, ...] | None = None
    lines: int | None = None
    horizon: float = 60.0
    redial_lockout: float | None = None
    connect_limit: float | None = None
    day_length: float | None = None
    envelope: bool | None = None


@dataclass(frozen=True)
class Rules:
    """The effective rules of a campaign: what its controller is built with.

    `intervals`: every accounting interval with its limit; `limit`: the
    strictest of them (what a pacer aims below); `pacer`: the mode's
    parameters with what the campaign decides filled in (the pacer's `limit`,
    a `target` of TARGET_SHARE x limit, the `day_length`).
    """

    settings: CampaignSettings
    preset: str | None
    intervals: tuple[Interval, ...]
    limit: Fraction
    redial_lockout: float | None
    connect_limit: float | None
    pacer: dict[str, Any]
    envelope: bool | None = None

    @property
    def mode(self) -> str:
        return self.settings.mode

    @property
    def horizon(self) -> float:
        return self.settings.horizon

    @property
    def lines(self) -> int | None:
        return self.settings.lines

    def make_pacer(self, *, solver: Any = None) -> Pacer:
        """A fresh pacer of the campaign's mode with its effective parameters (`solver`: see `Predictive`)."""
        return make_pacer(self.mode, self.pacer, solver=solver)

    def controller(self, *, day_of: Callable[[float], Hashable] | None = None, solver: Any = None,
                   horizon: float | None = None, numbers: AbandonedNumbers | None = None,
                   number_key: Callable[[Hashable], Hashable] | None = None, clock_offset: float = 0.0) -> Controller:
        """A fresh controller: the pacer, the trunk lines, a ledger of `intervals`, the redial rule.

        `day_of` maps a time to its accounting day (None: whole days from 0);
        `horizon` overrides the settings' (the simulator derives it from its
        durations). `numbers`, `number_key`, `clock_offset`: the call centre's
        memory of abandoned numbers this campaign shares, how a lead is keyed
        in it, and the offset of this campaign's times on its clock (see
        `RedialGuard`).
        """
        guard = RedialGuard(lockout=self.redial_lockout, numbers=numbers, key=number_key, offset=clock_offset)
        return Controller(
            self.make_pacer(solver=solver),
            lines=self.lines,
            day_of=day_of,
            abandon_limit=list(self.intervals),
            horizon=self.horizon if horizon is None else horizon,
            guard=guard,
            envelope=self.envelope,
        )

    def describe(self) -> dict[str, Any]:
        """Plain values for people and for `held_to`: the intervals, the limit, the redial rule,
        and the mode with the pacer's effective parameters (every one, defaults included)."""
        return {
            "intervals": [{"name": iv.name, "kind": iv.kind, "limit": float(iv.limit), "window": iv.window}
                          for iv in self.intervals],
            "limit": float(self.limit),
            "redial_lockout": self.redial_lockout,
            "envelope": self.make_pacer().uses_envelope if self.envelope is None else self.envelope,
            "mode": self.mode,
            "pacer": self.make_pacer().get_params(),
        }


def campaign_rules(settings: CampaignSettings, preset: PresetRules | None = None, *,
                   origin: dt.datetime | None = None) -> Rules:
    """The effective rules of a campaign: its own settings, held to the stricter of them and `preset`'s.

    - Without a preset: the campaign's `intervals`, or its `abandon_limit` per day.
    - With one: the lower of the two limits, accounted over every interval
      the preset names (a calendar month keyed from `origin`, the aware
      instant time 0 stands for, which a preset requires); an interval the
      campaign names too (say "day") is held to the lower of the two limits.
      The connect limit is the shorter; the redial lockout is the campaign's,
      or else the preset's ("forever" and "none" keep the core's rule: never
      again unreserved).
    - Every mode is capped by the envelope under a preset, unless the
      settings say `envelope=False` (the simulator's raw baselines).
    - A campaign may not ask for a redial lockout shorter than its preset's
      (NO: for ever; UK: 72 h), refused naming the preset.
    - The pacer: a pacer that takes a `limit` gets the strictest interval's
      (a `limit` given must not exceed it); one that takes a `target` aims at
      TARGET_SHARE of the limit unless given one, which must be below it; one
      that takes a `day_length` gets the settings'. Errors name the field and
      both values.
    """
    if settings.mode not in PACERS:
        raise bad("mode", settings.mode, f"one of {', '.join(PACERS)}")
    rate = as_rate(settings.abandon_limit, "abandon_limit")
    own = list(settings.intervals) if settings.intervals is not None else [Interval.day(rate)]
    connect = None if settings.connect_limit is None else float(settings.connect_limit)
    lockout = settings.redial_lockout
    if preset is None:
        intervals = own
    else:
        if origin is None:
            raise bad("origin", origin, f"the aware instant of time 0 (preset {preset.name!r} keys its intervals by it)")
        law = preset.ledger_intervals(origin, min(rate, preset.abandon_limit))
        merged: dict[str, Interval] = {}
        for iv in (own if settings.intervals is not None else []) + law:
            if iv.name not in merged or iv.limit < merged[iv.name].limit:
                merged[iv.name] = iv
        intervals = list(merged.values())
        law_connect = float(preset.connect_limit)
        connect = law_connect if connect is None else min(connect, law_connect)
        if preset.redial_rule == "forever" and lockout is not None:
            raise bad("redial_lockout", lockout, f"null (for ever) under preset {preset.name} (norm 4.6.3: any later "
                      "call to a number abandoned before must be made with an agent reserved)")
        if preset.redial_rule == "lockout":
            if lockout is None:
                lockout = preset.redial_lockout
            elif preset.redial_lockout is not None and lockout < preset.redial_lockout:
                raise bad("redial_lockout", lockout,
                          f"at least {preset.redial_lockout:g} s under preset {preset.name}, or null (for ever)")
    if not intervals:
        raise bad("intervals", [], "a non-empty list (or null: abandon_limit per day)")
    limit = min(iv.limit for iv in intervals)
    envelope = settings.envelope
    if preset is not None and envelope is None:
        envelope = True  # under the law every mode is held to the limit (the baselines too)
    return Rules(settings, None if preset is None else preset.name, tuple(intervals), limit, lockout, connect,
                 _pacer_params(settings, limit, None if preset is None else preset.name), envelope)


def _pacer_params(settings: CampaignSettings, limit: Fraction, preset: str | None) -> dict[str, Any]:
    """The pacer's parameters with what the campaign decides filled in (see `campaign_rules`)."""
    params = dict(settings.pacer)
    takes = accepted(settings.mode)
    strictest = float(limit)
    held = f"the campaign's abandon limit {strictest:g}" + (f" (with preset {preset})" if preset else "")
    given = params.get("limit")
    if "limit" in takes:
        if given is None:
            params["limit"] = strictest
        elif _number(given) and given > strictest:
            raise bad("pacer.limit", given, f"at most {held}")
    if "target" in takes:
        pacer_limit = params.get("limit", strictest)
        if "target" not in params:
            params["target"] = round(TARGET_SHARE * min(strictest, float(pacer_limit)), 12)
        elif _number(params["target"]) and _number(pacer_limit) and params["target"] >= min(strictest, pacer_limit):
            if pacer_limit < strictest:
                held = f"the pacer's limit {pacer_limit:g}"
            raise bad("pacer.target", params["target"], f"below {held}")
    if "day_length" in takes and "day_length" not in params and settings.day_length is not None:
        params["day_length"] = float(settings.day_length)
    return params


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)

