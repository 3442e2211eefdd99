"""The compliance rules as the simulator meets them: which simulated days are open, when dialling
stops, and which leads the registers let through.

Owns: `campaign_rules` (a scenario campaign's settings handed to the core's
factory with its study preset: the rules its controller is built with),
`open_days` (per simulated day: its start, the opening, and the last
moment a dial may start so that no answer lands after the close),
`ring_cap` (the ring timeout after which the simulated dialer gives up, so
answers cannot come later), `sim_instant` (simulated seconds -> the aware
wall-clock instant the calendar and registers are asked about; `sim_seconds`
the other way) and
`RegisterScreen` (a lead screen the engine consults before every dial),
`DialLog` (an observer keeping every dial placed, for the statistics store's
dial log), `check_stored` and `record` (a study's days, dials and campaigns
into the statistics store, marked simulated: `dialer simulate --store`) and
`synthetic_number` (the made-up phone number of a simulated lead, which
`dialer emulate` sends).

Simulated time follows the engine: seconds since local midnight of the
study's first day, day d starting at d x 86,400 s on the wall clock.

Must not know about: SimPy or the engine's internals; it answers the engine's
questions from the scenario, the preset and the core's calendar and registers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from typing import Any, Callable, Hashable
from zoneinfo import ZoneInfo

from dialer.core import events
from dialer.core.factory import CampaignSettings, Rules
from dialer.core.factory import campaign_rules as factory_rules
from dialer.rules.calendar import CallingCalendar
from dialer.rules.dnc import Hasher, Lead, Registers
from dialer.units import DAY


def _preset(scenario):
    from dialer.rules.presets import get_preset

    name = scenario.study.preset
    return None if name is None else get_preset(name)


def campaign_rules(scenario, campaign, *, day_length: float | None = None,
                   pacer: dict[str, Any] | None = None) -> Rules:
    """The campaign's effective rules (`dialer.core.factory`): its own, held to its study preset's.

    `day_length`: seconds of calling in a day, for a pacer that plans its
    day; `pacer`: the parameters the run adds to the scenario's (a seed).
    Time 0 is local midnight of the study's first day.
    """
    settings = CampaignSettings(
        mode=campaign.mode,
        pacer={**campaign.pacer, **(pacer or {})},
        abandon_limit=campaign.abandon_limit,
        lines=campaign.lines,
        connect_limit=campaign.connect_limit,
        day_length=day_length,
        envelope=campaign.envelope,
    )
    return factory_rules(settings, _preset(scenario), origin=sim_instant(scenario, 0.0))


def ring_cap(scenario, campaign) -> float:
    """Seconds after which an unanswered dial is given up when a preset applies (math.inf without one).

    The preset's ring timeout if it sets one, else the campaign's no-answer duration (its ring timeout).
    """
    preset = _preset(scenario)
    if preset is None:
        return math.inf
    if preset.ring_timeout is not None:
        return float(preset.ring_timeout)
    return float(campaign.durations.no_answer.mean)


def open_days(scenario, campaign, days: int) -> list[tuple[float, float, float]]:
    """(day start, opening, last dial start) in simulated seconds, for every day dialling is allowed.

    Without a preset: every day, the study's hours (the engine's old behaviour).
    With one: closed days (weekends, public holidays) are skipped; the window
    is the study's hours within the preset's, the preset's read on its own
    wall clock (the called party's: a study in another time zone gets the
    preset's window moved into its own, the longest piece of it on each of
    its days); dialling stops `ring_cap` seconds before the close, so every
    answer lands inside the window (calls in flight then finish, including a
    live answer's wait for an agent).
    """
    open_s, close_s = scenario.study.hours
    preset = _preset(scenario)
    out = []
    if preset is None:
        return [(d * DAY, open_s, close_s) for d in range(days)]
    cal = CallingCalendar(preset)
    cap = ring_cap(scenario, campaign)
    same_zone = preset.timezone == scenario.study.timezone
    for d in range(days):
        date = scenario.study.start + dt.timedelta(days=d)
        hours = cal.hours_seconds(date) if same_zone else _moved_window(scenario, cal, d)
        if hours is None:
            continue
        start, stop = max(open_s, hours[0]), min(close_s, hours[1]) - cap
        if stop > start:
            out.append((d * DAY, start, stop))
    return out


def _moved_window(scenario, cal: CallingCalendar, d: int) -> tuple[float, float] | None:
    """The preset's calling window as seconds after local midnight of the study's day `d`, when the
    preset's time zone is another: the longest piece of the preset's windows that falls on that day."""
    date = scenario.study.start + dt.timedelta(days=d)
    best: tuple[float, float] | None = None
    for shift in (-1, 0, 1):
        w = cal.day(date + dt.timedelta(days=shift))
        if not w.open:
            continue
        a = max(sim_seconds(scenario, w.opens) - d * DAY, 0.0)  # type: ignore[union-attr]
        b = min(sim_seconds(scenario, w.closes) - d * DAY, DAY)  # type: ignore[union-attr]
        if b > a and (best is None or b - a > best[1] - best[0]):
            best = (a, b)
    return best


def sim_instant(scenario, t: float) -> dt.datetime:
    """The aware wall-clock instant of simulated time `t` in the study's time zone."""
    day, secs = divmod(t, DAY)
    date = scenario.study.start + dt.timedelta(days=int(day))
    naive = dt.datetime.combine(date, dt.time(0)) + dt.timedelta(seconds=secs)
    return naive.replace(tzinfo=ZoneInfo(scenario.study.timezone))


def sim_seconds(scenario, instant: dt.datetime) -> float:
    """The simulated time of an aware instant (`sim_instant`'s inverse: the study's wall clock)."""
    local = instant.astimezone(ZoneInfo(scenario.study.timezone))
    days = (local.date() - scenario.study.start).days
    return days * DAY + local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6


class RegisterScreen:
    """Asks the registers, before every dial, whether a lead may be called now.

    `number_of(campaign, lead)` gives the lead's E.164 number; the screen hashes
    it with `hasher` and checks `registers` at the dial's instant. The same
    `Registers` shared by every campaign means a number put on the internal
    register during a call (`block`) is blocked everywhere from that moment.
    """

    def __init__(self, scenario, registers: Registers, hasher: Hasher,
                 number_of: Callable[[str, Hashable], str], *, call_uncertain: bool = False) -> None:
        self.scenario = scenario
        self.registers = registers
        self.hasher = hasher
        self.number_of = number_of
        self.call_uncertain = call_uncertain
        self.refused: list[tuple[str, Hashable, float]] = []

    def person(self, campaign: str, lead: Hashable):
        return self.hasher.person(self.number_of(campaign, lead))

    def __call__(self, campaign: str, lead: Hashable, now: float) -> bool:
        v = self.registers.check(Lead(self.person(campaign, lead)), sim_instant(self.scenario, now))
        ok = v.may_call(call_uncertain=self.call_uncertain)
        if not ok:
            self.refused.append((campaign, lead, now))
        return ok

    def block(self, campaign: str, lead: Hashable, now: float) -> None:
        """The person on `lead` asked not to be called again: the internal register, from `now`."""
        self.registers.block_now(self.person(campaign, lead), sim_instant(self.scenario, now))


def synthetic_number(campaign: str, lead: int) -> str:
    """The made-up phone number of simulated lead `lead` of `campaign`: E.164 under the unassigned country
    code +99x, 15 digits, six of them from a hash of the campaign's name (`dialer emulate` sends these:
    its campaigns' names carry the run's prefix, so two runs on one service do not share numbers)."""
    h = int.from_bytes(hashlib.blake2b(campaign.encode(), digest_size=8).digest(), "big") % 10**6
    return f"+99{h:06d}{lead % 10**7:07d}"


class DialLog:
    """An observer of `simulate` (`observer=`) that keeps every dial placed, with its instant, whether an
    agent was reserved and its outcome: `rows()` gives them as the statistics store's dial log
    (`dialer simulate --store`), marked simulated. A simulated lead has no phone number: its number
    is `NO_NUMBER` (the audit checks it against the calling hours, not the registers)."""

    def __init__(self, scenario) -> None:
        self.scenario = scenario
        self._open: dict[tuple[str, Hashable], int] = {}  # (campaign, call) -> its index in `_dials`
        self._dials: list[list[Any]] = []  # [campaign, time, reserved, outcome]

    def __call__(self, campaign: str, ev: events.Event) -> None:
        tp = type(ev)
        if tp is events.DialPlaced:
            self._open[(campaign, ev.call)] = len(self._dials)
            self._dials.append([campaign, ev.time, ev.agent is not None, None])
            return
        if tp is events.CallFailed:
            outcome = ev.reason.value
        elif tp is events.CallAnswered:
            if ev.human:
                return
            outcome = "machine"
        elif tp is events.CallAbandoned:
            outcome = "abandoned"
        elif tp is events.CallEnded:
            outcome = "transferred"
        else:
            return
        i = self._open.pop((campaign, ev.call), None)
        if i is not None:
            self._dials[i][3] = outcome

    def rows(self) -> list:
        from dialer.compliance.store import NO_NUMBER, DialRow  # (the store's module needs SQLAlchemy: not at import)

        return [DialRow(c, sim_instant(self.scenario, t), NO_NUMBER, outcome, None, reserved, simulated=True)
                for c, t, reserved, outcome in self._dials]


def check_stored(store, scenario, *, replace: bool = False) -> None:
    """Refuse, before a long run, a study whose campaign-days are in `store` already (`ConfigError`
    naming one): live days always, simulated ones unless `replace`."""
    start = scenario.study.start
    end = start + dt.timedelta(days=scenario.study.days - 1)
    names = {c.name for c in scenario.campaigns}
    for row in store.days(start=start, end=end):
        if row.campaign not in names:
            continue
        if not row.simulated:
            raise_stored(store, row, live=True)
        if not replace:
            raise_stored(store, row, live=False)


def raise_stored(store, row, *, live: bool):
    from dialer.errors import ConfigError

    if live:
        raise ConfigError(f"store {store.shown!r}: campaign {row.campaign!r} has live records on {row.day}: a "
                          "simulation never replaces them (simulate it under another campaign name)")
    raise ConfigError(f"store {store.shown!r}: campaign {row.campaign!r} has a simulated day stored on "
                      f"{row.day}: add --replace to replace it")


def record(store, scenario, result, dials, *, replace: bool = False) -> tuple[int, int]:
    """Record a simulated study in the statistics store: every campaign-day's norm 4.3 counts (written
    complaints are the store's: recorded with `dialer stats record`), every dial (`DialLog.rows()`),
    and what each campaign declared (preset, time zone, caller ID), all marked simulated, in one
    transaction. Returns (campaign-days, dials) written."""
    from dialer.compliance.store import COUNTS, CampaignInfo, DayRow

    days = [DayRow(c.name, d.date, *(0 if k == "complaints" else getattr(d.stats, k) for k in COUNTS),
                   simulated=True)
            for c in result.campaigns for d in c.days]
    infos = [CampaignInfo(c.name, "simulated", scenario.study.preset, scenario.study.timezone, c.caller_id)
             for c in scenario.campaigns]
    n = store.record_simulation(days, dials, infos, tz=ZoneInfo(scenario.study.timezone), replace=replace)
    return n, len(dials)
