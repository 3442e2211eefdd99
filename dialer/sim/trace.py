"""Time series and call records of a simulated study, recorded from the events alone.

Owns: `TraceRecorder` (the state of each campaign's floor sampled at a fixed
interval: dials in flight, live answers waiting, agents by state, the day's
running abandon rate and remaining budget) and `CallLog` (one record per
dial: dial, answer, connect, end and wrap-up times, outcome), and
`simulate_traced`, which runs `simulate` with either or both attached.

Rule 1: both are *observers* (`simulate(..., observer=...)`): they see the very
events the controller sees, in order, and keep their own books. The engine
knows nothing of them and pays nothing when they are not attached.
Rule 2: no plotting, no files, no pandas here: rows are plain dicts. The
planning layer (dialer.plan) turns them into tables, pictures and CSV.

A sample covers [t, t + interval): gauges (dials in flight, agents talking,
...) are *time averages* over the interval, so a 2 s spike is weighted as
2 s, never missed or over-counted by where a sample happens to fall; running
counts (dials, connects, abandons of the day) are as at the end of the
interval. Times are seconds since local midnight of the study's first day,
as in the engine.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable
from zoneinfo import ZoneInfo

from dialer.core import events
from dialer.core.events import Event
from dialer.units import DAY

#: agent states a trace distinguishes (logged-out agents are not counted)
AGENT_STATES = ("idle", "reserved", "talk", "wrap", "paused")

#: gauges averaged over each sample, in this order
GAUGES = ("ringing", "waiting") + AGENT_STATES


@dataclass
class _Floor:
    """One campaign's floor as the events describe it."""

    limit: float
    ringing: set[Hashable] = field(default_factory=set)
    waiting: set[Hashable] = field(default_factory=set)
    agents: dict[Hashable, str] = field(default_factory=dict)
    reserved_for: dict[Hashable, Hashable] = field(default_factory=dict)  # call -> agent
    talking: dict[Hashable, Hashable] = field(default_factory=dict)  # call -> agent
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(AGENT_STATES, 0))
    # the day's running counts
    day: int = 0
    dials: int = 0
    connected: int = 0
    abandoned: int = 0
    transferred: int = 0
    # integration of the gauges over the sample in progress
    last: float | None = None
    sample_start: float = 0.0
    sums: list[float] = field(default_factory=lambda: [0.0] * len(GAUGES))
    active: bool = False  # something happened, or someone was on the floor, in this sample

    def gauges(self) -> tuple[float, ...]:
        c = self.counts
        return (len(self.ringing), len(self.waiting), c["idle"], c["reserved"], c["talk"], c["wrap"], c["paused"])

    def set_agent(self, agent: Hashable, state: str | None) -> None:
        old = self.agents.pop(agent, None)
        if old is not None:
            self.counts[old] -= 1
        if state is not None:
            self.agents[agent] = state
            self.counts[state] += 1


class TraceRecorder:
    """Observer sampling every campaign's floor each `interval` seconds.

        rec = TraceRecorder(scenario, interval=60)
        simulate(scenario, seed, observer=rec)
        rec.finish()
        rec.rows   # [{"campaign", "time", "day", "clock_h", "ringing", ..., "budget"}, ...]
    """

    def __init__(self, scenario: Any, interval: float = 60.0) -> None:
        if not interval > 0:
            from dialer.errors import bad

            raise bad("interval", interval, "a positive number of seconds")
        self.interval = float(interval)
        self._floors = {c.name: _Floor(limit=float(c.abandon_limit)) for c in scenario.campaigns}
        self.rows: list[dict[str, Any]] = []

    # --- sampling ------------------------------------------------------------------

    def _emit(self, name: str, f: _Floor, end: float) -> None:
        span = end - f.sample_start
        if f.active and span > 0:
            row: dict[str, Any] = {
                "campaign": name,
                "time": f.sample_start,
                "day": f.day,
                "clock_h": (f.sample_start - f.day * DAY) / 3600.0,
                "span": span,
            }
            for g, s in zip(GAUGES, f.sums):
                row[g] = s / span
            available = row["idle"] + row["reserved"]
            row["in_flight"] = row["ringing"] + row["waiting"]
            row["logged_in"] = sum(row[s] for s in AGENT_STATES)
            # dials in flight per available agent: 1 for Power, above 1 when dialing ahead
            row["dial_level"] = row["ringing"] / available if available > 0 else float("nan")
            row["dials"] = f.dials
            row["connected"] = f.connected
            row["abandoned"] = f.abandoned
            row["transferred"] = f.transferred
            row["abandon_rate"] = f.abandoned / f.connected if f.connected else 0.0
            row["limit"] = f.limit
            # abandons the day could still take, with no further connect, and stay within the limit
            row["budget"] = f.limit * f.connected - f.abandoned
            self.rows.append(row)
        f.sums = [0.0] * len(GAUGES)
        f.active = False
        f.sample_start = end

    def _advance(self, name: str, f: _Floor, t: float) -> None:
        """Integrate the gauges up to `t`, emitting every sample that ends on the way."""
        if f.last is None:
            f.sample_start = (t // self.interval) * self.interval
            f.last = f.sample_start
        g = f.gauges()
        occupied = any(g)
        while True:
            boundary = f.sample_start + self.interval
            upto = min(t, boundary)
            if upto > f.last:
                span = upto - f.last
                for i, x in enumerate(g):
                    f.sums[i] += x * span
                f.active = f.active or occupied
                f.last = upto
            if t < boundary:
                return
            self._emit(name, f, boundary)
            if not occupied:
                # an empty floor: jump straight to the sample that holds t
                f.sample_start = (t // self.interval) * self.interval
                f.last = f.sample_start

    # --- the observer ----------------------------------------------------------------

    def __call__(self, campaign: str, ev: Event) -> None:
        f = self._floors[campaign]
        t = ev.time
        self._advance(campaign, f, t)
        f.active = True
        day = int(t // DAY)
        if day != f.day:
            f.day, f.dials, f.connected, f.abandoned, f.transferred = day, 0, 0, 0, 0
        if isinstance(ev, events.DialPlaced):
            f.dials += 1
            f.ringing.add(ev.call)
            if ev.agent is not None:
                f.reserved_for[ev.call] = ev.agent
                f.set_agent(ev.agent, "reserved")
        elif isinstance(ev, events.CallAnswered):
            f.ringing.discard(ev.call)
            if ev.human:
                f.connected += 1
                f.waiting.add(ev.call)
            else:
                self._unreserve(f, ev.call)
        elif isinstance(ev, events.CallFailed):
            f.ringing.discard(ev.call)
            self._unreserve(f, ev.call)
        elif isinstance(ev, events.CallConnected):
            f.waiting.discard(ev.call)
            f.reserved_for.pop(ev.call, None)
            f.talking[ev.call] = ev.agent
            f.transferred += 1
            f.set_agent(ev.agent, "talk")
        elif isinstance(ev, events.CallAbandoned):
            f.waiting.discard(ev.call)
            f.abandoned += 1
        elif isinstance(ev, events.CallEnded):
            agent = f.talking.pop(ev.call, None)
            if agent is not None:
                f.set_agent(agent, "wrap")
        elif isinstance(ev, (events.AgentLoggedIn, events.AgentReady)):
            f.set_agent(ev.agent, "idle")
        elif isinstance(ev, events.AgentPaused):
            f.set_agent(ev.agent, "paused")
        elif isinstance(ev, events.AgentLoggedOut):
            f.set_agent(ev.agent, None)
        # AgentLeaving changes nothing a trace shows: the agent still takes calls

    @staticmethod
    def _unreserve(f: _Floor, call: Hashable) -> None:
        agent = f.reserved_for.pop(call, None)
        if agent is not None and f.agents.get(agent) == "reserved":
            f.set_agent(agent, "idle")

    def finish(self) -> list[dict[str, Any]]:
        """Close the last sample of every campaign; returns the rows sorted by campaign and time."""
        for name, f in self._floors.items():
            if f.last is not None and f.last > f.sample_start:
                self._emit(name, f, f.last)
                f.last = None
        order = {name: i for i, name in enumerate(self._floors)}
        self.rows.sort(key=lambda r: (order[r["campaign"]], r["time"]))
        return self.rows


#: outcomes a call record can carry (norm 4.3 names)
CALL_OUTCOMES = ("no_answer", "busy", "invalid", "machine", "transferred", "abandoned")


class CallLog:
    """Observer writing one record per dial, as a dialer's call-detail records would.

    Each record: campaign, call, lead, attempt (1 for the first dial of the
    lead), agent (reserved or connected), reserved (bool), and the times of
    dial, answer, connect, end and wrap_end (seconds; None when the call never
    got there), and outcome (one of CALL_OUTCOMES).
    """

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self._open: dict[tuple[str, Hashable], dict[str, Any]] = {}
        self._attempts: dict[tuple[str, Hashable], int] = {}
        self._wrapping: dict[tuple[str, Hashable], dict[str, Any]] = {}  # agent -> record in wrap-up

    def __call__(self, campaign: str, ev: Event) -> None:
        if isinstance(ev, events.DialPlaced):
            key = (campaign, ev.lead)
            self._attempts[key] = self._attempts.get(key, 0) + 1
            rec = {
                "campaign": campaign,
                "call": ev.call,
                "lead": ev.lead,
                "attempt": self._attempts[key],
                "agent": ev.agent,
                "reserved": ev.agent is not None,
                "dial": ev.time,
                "answer": None,
                "connect": None,
                "end": None,
                "wrap_end": None,
                "outcome": None,
            }
            self._open[(campaign, ev.call)] = rec
            self.records.append(rec)
            return
        if isinstance(ev, events.AgentReady):
            rec = self._wrapping.pop((campaign, ev.agent), None)
            if rec is not None:
                rec["wrap_end"] = ev.time
            return
        call = getattr(ev, "call", None)
        if call is None:
            return
        rec = self._open.get((campaign, call))
        if rec is None:
            return
        if isinstance(ev, events.CallAnswered):
            rec["answer"] = ev.time
            if not ev.human:
                self._close(campaign, call, rec, ev.time, "machine")
        elif isinstance(ev, events.CallFailed):
            self._close(campaign, call, rec, ev.time, ev.reason.value)
        elif isinstance(ev, events.CallConnected):
            rec["connect"] = ev.time
            rec["agent"] = ev.agent
        elif isinstance(ev, events.CallAbandoned):
            self._close(campaign, call, rec, ev.time, "abandoned")
        elif isinstance(ev, events.CallEnded):
            self._close(campaign, call, rec, ev.time, "transferred")
            self._wrapping[(campaign, rec["agent"])] = rec

    def _close(self, campaign: str, call: Hashable, rec: dict[str, Any], t: float, outcome: str) -> None:
        rec["end"] = t
        rec["outcome"] = outcome
        del self._open[(campaign, call)]


def wall_clock(scenario: Any) -> Callable[[float | None], str | None]:
    """Seconds of the engine -> ISO 8601 local time with offset, in the study's time zone."""
    tz = ZoneInfo(scenario.study.timezone)
    midnight = dt.datetime.combine(scenario.study.start, dt.time())

    def convert(t: float | None) -> str | None:
        if t is None:
            return None
        return (midnight + dt.timedelta(seconds=t)).replace(tzinfo=tz).isoformat(timespec="milliseconds")

    return convert


def _check_call_records(scenario: Any) -> None:
    """Refuse, before the run, a call log that might not fit in memory: every dial is one kept record, and
    a campaign dials at most leads x max_attempts times."""
    from dialer.errors import bad
    from dialer.limits import MAX_CALL_RECORDS

    most = sum(c.leads * c.retry.max_attempts for c in scenario.campaigns)
    if most > MAX_CALL_RECORDS:
        raise bad("leads x retry.max_attempts", most, f"at most {MAX_CALL_RECORDS} dials for a call log, one record "
                                                      "each (fewer leads or attempts)")


def simulate_traced(
    scenario: Any,
    seed: int = 0,
    *,
    interval: float | None = 60.0,
    calls: bool = False,
) -> tuple[Any, TraceRecorder | None, CallLog | None]:
    """`simulate` with a trace (every `interval` s; None: no trace) and, if asked, a call log."""
    from dialer.sim.results import simulate

    if calls:
        _check_call_records(scenario)
    trace = TraceRecorder(scenario, interval) if interval is not None else None
    log = CallLog() if calls else None
    observers = [o for o in (trace, log) if o is not None]
    if not observers:
        observer = None
    elif len(observers) == 1:
        observer = observers[0]
    else:

        def observer(campaign: str, ev: Event) -> None:
            for o in observers:
                o(campaign, ev)

    result = simulate(scenario, seed, observer=observer)
    if trace is not None:
        trace.finish()
    return result, trace, log
