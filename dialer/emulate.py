"""The reference dialer client: the simulator's call floor driving the HTTP service.

Owns: `emulate` (scenario + seed + service URL -> the same results
`dialer simulate` gives): it runs the SimPy engine unchanged, in accelerated
time, with a controller factory that creates each campaign in the service and
hands the engine a `RemoteController`. The engine then behaves as a real
dialer would: it reports every event (a dial with a made-up phone number for
its lead, `dialer.sim.compliance.synthetic_number`), asks for a decision
whenever something happened, holds pauses until the service says an agent
is releasable, and places exactly the dials decided. A `Pace` (`--speed N`)
holds each call to the service until its simulated time on the wall clock:
the day unfolds at N times real time, with the same results.

Must not know about: routes (the client), how the engine simulates a call.

    emulate(load("day.toml"), "http://127.0.0.1:8000", seed=0, pace=Pace(60))  # an hour a minute
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import time
from typing import Callable

from dialer.checks import check, positive
from dialer.core.decision import Decision
from dialer.core.factory import Rules
from dialer.core.modes import accepted
from dialer.core.picker import Picks
from dialer.live.client import Client, RemoteController
from dialer.live.config import CampaignConfig
from dialer.sim.compliance import sim_instant, sim_seconds, synthetic_number
from dialer.sim.results import SimulationResult, simulate
from dialer.sim.scenario import Campaign, Scenario


def campaign_name(prefix: str, campaign: str) -> str:
    """The service's name for a scenario campaign: `{prefix}-{campaign}` with unusable characters as '-'."""
    return f"{prefix}-{re.sub(r'[^A-Za-z0-9._-]', '-', campaign)}"[:100]


#: `Pace`'s speed: simulated seconds per real second
SPEED = positive("multiple of real time")


class Pace:
    """Holds a run to `speed` simulated seconds per real second of a monotonic clock.

    `until(t)` returns once the wall clock has reached simulated time `t`'s
    deadline: the wall time of the first `until` plus (t - its t) / speed.
    Every deadline is counted from that one origin, never from the previous
    step, so the time spent between steps (HTTP round trips, the engine) is
    absorbed instead of adding up; a step already late returns at once.
    `start` and `end`: the first and the latest simulated time given.
    `clock` and `sleep` are for tests.
    """

    def __init__(self, speed: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.speed = float(check("speed", speed, SPEED))
        self.clock, self.sleep = clock, sleep
        self.start: float | None = None
        self.end: float | None = None
        self._wall = 0.0  # the clock's reading at `start`

    def until(self, t: float) -> None:
        if self.start is None:
            self.start, self.end, self._wall = t, t, self.clock()
            return
        self.end = max(self.end, t)  # type: ignore[type-var]
        deadline = self._wall + (t - self.start) / self.speed
        while (left := deadline - self.clock()) > 0:
            self.sleep(left)


class _Paced(RemoteController):
    """A `RemoteController` whose every exchange with the service first waits for its time on `pace`."""

    def __init__(self, *args, pace: Pace, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._pace = pace

    def decide(self, now: float) -> Decision:
        self._pace.until(now)
        return super().decide(now)

    def pick(self, now: float, leads) -> Picks:
        self._pace.until(now)
        return super().pick(now, leads)

    def releasable(self, now: float) -> int:
        self._pace.until(now)
        return super().releasable(now)


def emulate(scenario: Scenario, url: str, *, seed: int = 0, token: str | None = None, prefix: str | None = None,
            controllers: dict[str, RemoteController] | None = None, pace: Pace | None = None) -> SimulationResult:
    """Run `scenario` with `seed` against the service at `url`; returns what `dialer.sim.simulate` returns.

    `prefix` names the campaigns created (default `emu-` and a random suffix,
    so runs never collide). `controllers`, if given, receives each campaign's
    `RemoteController` by scenario campaign name (their `decisions`, for checks).
    `pace`: the day at `pace.speed` times real time, every campaign on the same
    clock (None, the default: as fast as the service answers).
    """
    prefix = prefix or f"emu-{secrets.token_hex(4)}"
    with Client(url, token) as client:
        client.healthz()  # a clear error now if the service is not there

        preset = scenario.study.preset
        # time 0 of the simulator is local midnight of the study's first day: the origin of the
        # preset's calendar-month intervals. Under a preset the campaign has the study's time zone
        # (a campaign under a preset needs one): its days are the study's local dates, and the
        # service holds the preset's calling hours as the engine keeps them. Without a preset, no
        # timezone: days stay the simulator's whole days.
        origin = None if preset is None else sim_instant(scenario, 0.0)
        clock = None if origin is None else _clock(scenario, origin)

        def factory(campaign: Campaign, rules: Rules) -> RemoteController:
            # the campaign's own settings, as the engine gave them to the core's factory (its run's seed
            # and day length included); the service holds them to the same preset with the same
            # origin, so its factory gives the same effective rules
            own = rules.settings
            pacer = dict(own.pacer)
            if own.day_length is not None and "day_length" in accepted(own.mode):
                pacer.setdefault("day_length", own.day_length)
            config = CampaignConfig(
                mode=own.mode,
                pacer=pacer,
                abandon_limit=own.abandon_limit,
                lines=own.lines,
                horizon=own.horizon,
                preset=preset,
                timezone=None if preset is None else scenario.study.timezone,
                origin=None if origin is None else origin.isoformat(),
                caller_id=campaign.caller_id,
                wait_for_solves=True,  # as the simulator's pacers do: the same decisions, not sooner ones
                envelope=own.envelope,
            )
            # each campaign's leads are numbered within its own list, and the service keeps one memory of
            # abandoned numbers for all its campaigns (norm 4.6.3, the call centre's): the leads go to it
            # under the campaign's name, so that they are this run's and this campaign's alone, as they are
            # the simulator's; and each dial with a phone number, as a real dialer's (made up, the
            # simulator's leads have none; one per lead of this campaign of this run)
            name = campaign_name(prefix, campaign.name)
            number = (lambda lead, name=name: synthetic_number(name, lead))
            if pace is None:
                rc = RemoteController(client, name, config, lead_prefix=f"{name}:", clock=clock, number=number)
            else:
                rc = _Paced(client, name, config, lead_prefix=f"{name}:", clock=clock, number=number, pace=pace)
            if controllers is not None:
                controllers[campaign.name] = rc
            return rc

        return simulate(scenario, seed, controller_factory=factory)  # type: ignore[arg-type]


def _clock(scenario: Scenario, origin):
    """The simulator's seconds -> the service's (elapsed since `origin`) and back, or None when they are
    the same: the simulator counts wall-clock seconds from the first local midnight (`sim_instant`),
    so after a daylight-saving change its time and the elapsed time differ by the change."""
    offset = origin.utcoffset()
    last = sim_instant(scenario, scenario.study.days * 86400.0)
    if all(sim_instant(scenario, d * 86400.0).utcoffset() == offset for d in range(scenario.study.days)) \
            and last.utcoffset() == offset:
        return None

    def out(t: float) -> float:
        return t - (sim_instant(scenario, t).utcoffset() - offset).total_seconds()

    utc = origin.astimezone(dt.timezone.utc)  # (an aware datetime plus a timedelta is wall-clock arithmetic)

    def back(s: float) -> float:
        return sim_seconds(scenario, utc + dt.timedelta(seconds=s))

    return out, back
