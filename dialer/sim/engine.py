"""The SimPy engine: a simulated call floor that drives the real controller.

Owns: simulated time, agents' shifts, trunk lines, the lead list with its
attempt history and retry rules, and the random life of every call (outcome,
ring time, patience, talk and wrap-up). It plays the part of a dialer exactly
as a live one would: it reports every event to the campaign's `Controller`
and places the dials the controller decides, nothing more.
Must not know about: how a pacer decides (it only reads `Decision`s),
plotting, the CLI. Picture a call-centre floor seen from the switch: calls
ring out, some people answer, the switch puts them through to an idle agent
or, when none is free within the connect limit, the person hears silence.

    runs = run_campaigns(scenario.default(), seed=0)   # one CampaignRun per campaign
    runs[0].controller.stats                           # {day: DailyStats}

Simulated time (seconds since local midnight of the first day), its ties,
and why a call is its own timer: docs/design.md, "Simulated time".
"""

from __future__ import annotations

import dataclasses
import math
from functools import partial
from collections import deque
from heapq import heappop, heappush, heapreplace
from dataclasses import dataclass
from typing import Callable, Hashable

import numpy as np
import simpy
from simpy.events import NORMAL

from dialer.core.controller import Controller
from dialer.core.decision import NO_DIALS
from dialer.core.events import (
    AgentLeaving,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentReady,
    CallAbandoned,
    CallAnswered,
    CallConnected,
    CallEnded,
    CallFailed,
    DialPlaced,
    Event,
    FailReason,
    Outcome,
    unchecked_agent_ready,
    unchecked_call_abandoned,
    unchecked_call_answered,
    unchecked_call_connected,
    unchecked_call_ended,
    unchecked_call_failed,
    unchecked_dial_placed,
)
from dialer.core.floor import AgentState
from dialer.core.factory import Rules
from dialer.core.guards import AbandonedNumbers
from dialer.core.modes import accepted
from dialer.core.solver import PacingSolver
from dialer.sim.compliance import campaign_rules, open_days, ring_cap
from dialer.sim.distributions import _BATCH as SAMPLER_BATCH
from dialer.sim.distributions import Distribution
from dialer.sim.scenario import Campaign, Scenario
from dialer.units import DAY


#: builds a campaign's controller from (campaign, its effective `Rules` from the core's factory:
#: its own settings held to its study preset's, the run's horizon and seed included); the default
#: is `rules.controller()` in process. `dialer emulate` passes one whose controller lives in the
#: HTTP service: anything with the `Controller` methods this engine calls (handle, decide,
#: releasable, floor, pacer.uses_envelope, stats; and handlers, if it has them) will do.
ControllerFactory = Callable[[Campaign, Rules], Controller]

# what the simulated world decided a dial will do (drawn when it is placed)
_LIVE, _MACHINE, _BUSY, _INVALID, _NO_ANSWER = range(5)
_FAILS = (None, None, FailReason.BUSY, FailReason.INVALID, FailReason.NO_ANSWER)  # indexed by the above
_RETRY_FIELD = {
    Outcome.NO_ANSWER: "no_answer",
    Outcome.BUSY: "busy",
    Outcome.MACHINE: "machine",
    Outcome.ABANDONED: "abandoned",
}
_TRANSFERRED = Outcome.TRANSFERRED
_IDLE = AgentState.IDLE


_UNIT_BATCH = 1024  # uniform draws for choosing outcomes, made this many at a time


def _batches(dist: Distribution, rng: np.random.Generator) -> Callable[[], list[float]]:
    """The next batch of draws of `dist`, as `dist.sampler(rng)` would hand them out, reversed (pop them)."""
    draw = dist.draw
    return lambda: draw(rng, SAMPLER_BATCH)[::-1].tolist()


class _Timer:
    """A bare SimPy event that runs `callback(timer)` when the clock reaches it."""

    __slots__ = ("callbacks", "value")
    _ok = True  # Environment.step reads it: a timer never fails

    def __init__(self, callback: Callable[["_Timer"], None], value: object) -> None:
        self.callbacks = [callback]
        self.value = value


class _Dial:
    """One call, and the timer of its current stage: ringing, then talking, then the agent's wrap-up.

    Scheduled for one stage at a time; a stage's callback reschedules it for the next.
    `_dial` makes it (no __init__: creating it bare is the quickest) and sets every slot:
    callbacks (the current stage's, a tuple the run shares), call (id), lead, agent (reserved, then connected; or None),
    what (the outcome drawn), at (when the current stage ends: the clock's time when its callback runs).
    """

    __slots__ = ("callbacks", "call", "lead", "agent", "what", "at")
    _ok = True


class _Retries:
    """Leads waiting to be dialled again, soonest due first; ties in the order they were queued.

    A heap of (due, seq, lead) gives that order, but it holds a good part of
    the list (a no-answer waits two hours), so every push and pop climbs a
    tall heap. Each outcome has one fixed delay and the clock never goes
    back, so the leads queued with the same delay fall due in the order they
    were queued: a first-in-first-out lane per delay keeps them sorted, and
    the next lead is the earliest (due, seq) of the lane heads (at most four,
    kept in a small heap), the very lead the one big heap would pop.
    """

    __slots__ = ("_lanes", "_index", "_heads", "due")

    def __init__(self) -> None:
        self._lanes: list[deque[tuple[float, int, int, int]]] = []  # items (due, seq, lead, lane)
        self._index: dict[float, int] = {}  # delay -> its lane
        self._heads: list[tuple[float, int, int, int]] = []  # the first item of every lane that has one
        self.due = math.inf  # when the next lead falls due (inf: none waiting)

    def push(self, delay: float, due: float, seq: int, lead: int) -> None:
        """Queue `lead`, due at `due` = now + `delay`; `seq` grows with every push."""
        i = self._index.get(delay)
        if i is None:
            i = self._index[delay] = len(self._lanes)
            self._lanes.append(deque())
        lane = self._lanes[i]
        item = (due, seq, lead, i)
        if lane:
            lane.append(item)
        else:  # the lane's new head
            lane.append(item)
            heappush(self._heads, item)
            self.due = self._heads[0][0]

    def pop(self) -> int:
        """The lead due first (call only when one is waiting)."""
        heads = self._heads
        item = heads[0]
        lane = self._lanes[item[3]]
        lane.popleft()
        if lane:
            heapreplace(heads, lane[0])
        else:
            heappop(heads)
        self.due = heads[0][0] if heads else math.inf
        return item[2]

    def peek(self) -> int:
        """The lead due first, left in the queue (call only when one is waiting)."""
        return self._heads[0][2]

    def __len__(self) -> int:
        return len(self._heads) and sum(len(lane) for lane in self._lanes)


@dataclass(slots=True)
class _Agent:
    id: str
    shift: tuple[float, float]
    leave_notice: float
    off_shift: bool = True  # outside the shift: log out as soon as idle
    wants_leave: bool = False  # within leave_notice of the shift's end


@dataclass
class LeadSummary:
    """What became of the list: leads finished, still to call, never called."""

    total: int
    dialled: int = 0
    transferred: int = 0
    exhausted: int = 0  # out of attempts, or an invalid number
    pending_retry: int = 0
    never_dialled: int = 0


class CampaignRun:
    """One campaign on the simulated floor: its controller, agents, leads and calls."""

    # slots: every hot path reads a dozen of these per dial (a slot is the quickest attribute)
    __slots__ = (
        "env", "scenario", "campaign", "observer", "rules", "controller", "floor", "agents", "leads",
        "_schedule", "_decide", "_emit", "_emit_dial", "_emit_answered", "_emit_failed", "_emit_connected",
        "_emit_abandoned", "_emit_ended", "_emit_ready", "_must_reserve", "_flagged", "_on_ring_end", "_on_talk_end",
        "_on_wrap_end", "_u_rng", "_u_left", "_ring_batch", "_no_answer_batch", "_talk_batch", "_wrap_batch",
        "_ring_left", "_no_answer_left", "_talk_left", "_wrap_left", "_busy", "_invalid", "_patience",
        "_connect_limit", "_retry_delay", "_max_attempts", "_cum", "_hour_cum", "_hour_end", "_attempts",
        "_next_fresh", "_n_leads", "_retry", "_redial_reserved", "_seq", "_done", "_ring_cap", "_screen",
        "_next_call", "_waiting", "_window_open", "_pending_wake", "_envelope", "_held",
    )

    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        campaign: Campaign,
        seed_seq: np.random.SeedSequence,
        observer: Callable[[str, Event], None] | None = None,
        controller_factory: ControllerFactory | None = None,
        screen: Callable[[str, int, float], bool] | None = None,
        solver: PacingSolver | None = None,
        numbers: AbandonedNumbers | None = None,
        number_key: Callable[[Hashable], Hashable] | None = None,
    ) -> None:
        self.env = env
        self._schedule = env.schedule
        self.scenario = scenario
        self.campaign = campaign
        self.observer = observer
        d = campaign.durations
        # the pacer may plan its day: tell it how long the calling window is (the longest open day's)
        windows = open_days(scenario, campaign, max(scenario.study.days, 1))
        day_length = max((stop - start for _, start, stop in windows), default=None)
        extra = {}
        if "seed" in accepted(campaign.mode) and "seed" not in campaign.pacer:
            # a pacer that draws random numbers gets its seed from the run's, unless the scenario pins it
            extra["seed"] = int(seed_seq.spawn(1)[0].generate_state(1)[0])
        rules = campaign_rules(scenario, campaign, day_length=day_length, pacer=extra)  # the factory's
        # longest a dial plausibly takes to be resolved: only rolling windows look this far ahead
        ring_means = (d.ring.mean, d.no_answer.mean, d.busy.mean, d.invalid.mean)
        horizon = rules.connect_limit + max(60.0, 4.0 * max(ring_means))
        self.rules = rules = dataclasses.replace(rules, settings=dataclasses.replace(rules.settings, horizon=horizon))
        if controller_factory is not None:
            self.controller = controller_factory(campaign, rules)
        else:
            self.controller = rules.controller(solver=solver, numbers=numbers, number_key=number_key)
        self.floor = self.controller.floor
        self._decide = self.controller.decide
        guard = self.floor.guard
        self._must_reserve = guard.must_reserve  # a lead abandoned before: redial reserved only
        self._flagged = guard.numbers.keys()  # (a live view) none flagged so far: no need to ask
        # a stage's callbacks, shared by every call (Environment.step only iterates them): no list per stage
        self._on_ring_end, self._on_talk_end, self._on_wrap_end = (self._ring_end,), (self._talk_end,), (self._wrap_end,)
        # the events the engine reports: straight to the controller, or also to the observer
        self._emit = self.controller.handle if observer is None else self._emit_watched
        # the engine's hot events, each straight to the controller's handler for its type when it has them
        handlers = getattr(self.controller, "handlers", None) if observer is None else None
        on = handlers() if handlers is not None else dict.fromkeys(
            (DialPlaced, CallAnswered, CallFailed, CallConnected, CallAbandoned, CallEnded, AgentReady), self._emit)
        self._emit_dial, self._emit_answered, self._emit_failed = on[DialPlaced], on[CallAnswered], on[CallFailed]
        self._emit_connected, self._emit_abandoned = on[CallConnected], on[CallAbandoned]
        self._emit_ended, self._emit_ready = on[CallEnded], on[AgentReady]
        streams = [np.random.default_rng(s) for s in seed_seq.spawn(8)]
        self._u_rng = streams[0]
        self._u_left: list[float] = []  # the current batch of uniform draws, next one last
        # the durations every dial needs come in batches the engine pops itself (next one last):
        # the same draws as the distributions' `Sampler`s (same stream, same batch size), without a
        # call per draw; the rarer ones use the samplers
        self._ring_batch = _batches(d.ring, streams[1])
        self._no_answer_batch = _batches(d.no_answer, streams[2])
        self._talk_batch = _batches(d.talk, streams[5])
        self._wrap_batch = _batches(d.wrap, streams[6])
        self._ring_left: list[float] = []
        self._no_answer_left: list[float] = []
        self._talk_left: list[float] = []
        self._wrap_left: list[float] = []
        self._busy = d.busy.sampler(streams[3])
        self._invalid = d.invalid.sampler(streams[4])
        self._patience = d.patience.sampler(streams[7])
        self._connect_limit = rules.connect_limit
        # retry rules: outcome -> seconds before the lead is dialled again (absent: never again)
        retry = campaign.retry
        self._retry_delay: dict[Outcome, float] = {}
        for outcome, name in _RETRY_FIELD.items():
            delay = getattr(retry, name)
            if delay is not False:
                self._retry_delay[outcome] = float(delay)
        self._max_attempts = retry.max_attempts
        # cumulative outcome probabilities per hour of day: live, +machine, +busy, +invalid
        self._cum = []
        for h in range(24):
            live, machine, busy, invalid = campaign.outcomes.for_hour(h)
            self._cum.append((live, live + machine, live + machine + busy, live + machine + busy + invalid))
        self._hour_cum = self._cum[0]  # those of the hour of the last dial, which ends at _hour_end
        self._hour_end = -math.inf
        # leads
        n = campaign.leads
        self._attempts = [0] * n
        self._next_fresh = 0
        self._n_leads = n
        self._retry = _Retries()
        self._redial_reserved = _Retries()  # abandoned before: reserved only
        self._seq = 0
        self._done = [False] * n
        self.leads = LeadSummary(total=n)
        # compliance (dialer.sim.compliance): a preset's ring timeout; a do-not-call screen before each dial
        self._ring_cap = ring_cap(scenario, campaign)
        self._screen = screen
        # calls
        self._next_call = 0
        self._waiting: dict[int, _Dial] = {}  # live calls with no agent yet, oldest first
        self._window_open = False
        self._pending_wake: float | None = None
        self._envelope = self.controller.uses_envelope
        self._held: dict[str, _Agent] = {}  # idle agents waiting for the envelope to let them go
        # agents
        self.agents: dict[str, _Agent] = {}
        for g in scenario.agents_of(campaign.name):
            shift = scenario.shift_of(g)
            for i in range(g.count):
                aid = f"{campaign.name}/{g.name}-{i + 1}"
                self.agents[aid] = _Agent(aid, shift, float(g.leave_notice))

    # --- feeding the controller -----------------------------------------------

    def _emit_watched(self, ev: Event) -> Outcome | None:
        out = self.controller.handle(ev)
        self.observer(self.campaign.name, ev)  # type: ignore[misc]
        return out

    def _at(self, delay: float, callback: Callable[[_Timer], None], value: object) -> None:
        if delay < 0:
            raise ValueError(f"negative delay {delay!r}")
        self._schedule(_Timer(callback, value), NORMAL, delay)

    # --- the calendar ---------------------------------------------------------------

    def schedule_days(self, days: int) -> None:
        """Put the calendar on the clock: openings, closings, and every agent's log-in, notice and shift end.

        The moments that fall at the same time share one timer, which runs
        them in the order they are listed here, as separate timers scheduled
        in this order would (ties go by schedule order). So the queue holds a
        handful of calendar timers rather than three per agent per day, and
        every call's timer is cheaper to schedule and to pop.
        """
        at: dict[float, list[_Timer]] = {}

        def on(t: float, callback: Callable[[_Timer], None], value: object) -> None:
            at.setdefault(t, []).append(_Timer(callback, value))

        for base, open_s, close_s in open_days(self.scenario, self.campaign, days):  # a preset skips closed days
            on(base + open_s, self._open, None)
            on(base + close_s, self._close, None)
            for agent in self.agents.values():
                start, end = agent.shift
                on(base + start, self._login, agent)
                on(max(base + start, base + end - agent.leave_notice), self._leave, agent)
                on(base + end, self._shift_end, agent)
        for t, timers in at.items():
            self._at(t, self._calendar, timers)

    def _calendar(self, ev: _Timer) -> None:
        for timer in ev.value:  # type: ignore[attr-defined]
            timer.callbacks[0](timer)

    def _open(self, _ev: _Timer) -> None:
        self._window_open = True
        self._pump(self.env.now)

    def _close(self, _ev: _Timer) -> None:
        self._window_open = False

    # --- agents ----------------------------------------------------------------------

    def _login(self, ev: _Timer) -> None:
        agent: _Agent = ev.value
        agent.off_shift = False
        agent.wants_leave = False
        if self.floor.agent_state(agent.id) is AgentState.OUT:
            self._emit(AgentLoggedIn(time=self.env.now, agent=agent.id))
            self._agent_free(agent.id)
        self._pump(self.env.now)

    def _leave(self, ev: _Timer) -> None:
        agent: _Agent = ev.value
        if not agent.off_shift:
            agent.wants_leave = True
            self._try_leave(agent)

    def _shift_end(self, ev: _Timer) -> None:
        agent: _Agent = ev.value
        agent.off_shift = True
        agent.wants_leave = True
        self._try_logout(agent)

    def _may_stop_covering(self, agent: _Agent) -> bool:
        """A committed idle agent may stop covering calls in flight only when the controller
        says the envelope can spare them (`releasable`); a real dialer holds the pause too."""
        if not self._envelope or self.floor.agent_state(agent.id) is not AgentState.IDLE:
            return True
        if self.floor.agent_leaving(agent.id):
            return True
        return self.controller.releasable(self.env.now) > 0

    def _try_leave(self, agent: _Agent) -> bool:
        """Announce that the agent is leaving; False if held back for now."""
        state = self.floor.agent_state(agent.id)
        if state is AgentState.OUT or self.floor.agent_leaving(agent.id):
            self._held.pop(agent.id, None)
            return True
        if not self._may_stop_covering(agent):
            self._held[agent.id] = agent
            return False
        self._held.pop(agent.id, None)
        self._emit(AgentLeaving(time=self.env.now, agent=agent.id))
        return True

    def _try_logout(self, agent: _Agent) -> None:
        """Log an off-shift agent out once idle and no longer needed to cover calls in flight."""
        if self.floor.agent_state(agent.id) is not AgentState.IDLE:
            return  # logs out when the call and wrap-up are over (see _agent_free)
        if self._try_leave(agent):
            self._emit(AgentLoggedOut(time=self.env.now, agent=agent.id))

    def _release_held(self) -> None:
        for agent in list(self._held.values()):
            if self.floor.agent_state(agent.id) is not AgentState.IDLE:
                del self._held[agent.id]  # took a call: retried when free again
            elif agent.off_shift:
                self._try_logout(agent)
            else:
                self._try_leave(agent)

    def _agent_free(self, agent_id: str) -> None:
        """An agent has just become idle: log out if off shift, else take the oldest waiting call."""
        agent = self.agents[agent_id]
        if agent.off_shift:
            self._try_logout(agent)
        elif agent.wants_leave:
            self._try_leave(agent)
        if self._waiting and self.floor.agent_state(agent_id) is _IDLE:
            call = next(iter(self._waiting))
            self._connect(self._waiting.pop(call), agent_id, self.env.now)

    # --- leads -------------------------------------------------------------------------

    def _after(self, lead: int, outcome: Outcome, now: float) -> None:
        """Retry rules: schedule the lead again, or mark it finished."""
        if outcome is _TRANSFERRED:
            self._done[lead] = True
            self.leads.transferred += 1
            return
        delay = self._retry_delay.get(outcome)
        if delay is None or self._attempts[lead] >= self._max_attempts:
            self._done[lead] = True
            self.leads.exhausted += 1
            return
        self._seq = seq = self._seq + 1
        if self._flagged and self._must_reserve(now, lead):
            self._redial_reserved.push(delay, now + delay, seq, lead)
        else:
            self._retry.push(delay, now + delay, seq, lead)

    # --- deciding and dialling ------------------------------------------------------

    def _pump(self, now: float) -> None:
        """Ask the controller what to dial now (`now`: the clock's time), and dial it."""
        if self._held:
            self._release_held()
        if not self._window_open:
            return
        if self._redial_reserved.due <= now:
            self._redial_abandoned(now)
        decision = self._decide(now)
        if decision is NO_DIALS:
            return
        for agent in decision.reserve:
            if not self._dial(agent, now):
                break
        if decision.unreserved:
            for _ in range(decision.unreserved):
                if not self._dial(None, now):
                    break
        wake = decision.wake_at
        if wake is not None and wake > now and (self._pending_wake is None or wake < self._pending_wake):
            self._pending_wake = wake
            self._at(wake - now, self._wake, wake)

    def _redial_abandoned(self, now: float) -> None:
        """Numbers abandoned before and due again (norm 4.6.3: only with an agent reserved).

        Whatever the pacer, each takes the longest-idle agent on a reserved
        dial placed before the decision, when that costs the other calls
        nothing: the agent announced leaving, or more committed agents are
        idle than unreserved calls are in flight (a spare one), and the
        controller lets it stop covering (`releasable`, as for a pause).
        Otherwise the number waits for a spare agent, or for a reserved dial
        the pacer decides (Power's every dial). A number whose redial lockout
        is over (a preset's "72h") becomes an ordinary retry. A live dialer
        does the same with `Controller.pick` when it offers the number among
        its candidates; this is the simulated dialer's choice of when.
        """
        floor = self.floor
        queue = self._redial_reserved
        while queue.due <= now:
            lead = queue.peek()
            if not self._must_reserve(now, lead):
                queue.pop()
                self._seq = seq = self._seq + 1
                self._retry.push(0.0, now, seq, lead)
                continue
            agent = next(floor.idle_agents(), None)
            if agent is None:
                return
            if not floor.agent_leaving(agent) and floor.idle_committed <= floor.pooled:
                return  # no spare agent
            if not self._may_stop_covering(self.agents[agent]) or not self._dial(agent, now):
                return

    def _wake(self, ev: _Timer) -> None:
        if ev.value == self._pending_wake:
            self._pending_wake = None
            self._pump(self.env.now)

    def _dial(self, agent: Hashable | None, now: float) -> bool:
        """Dial the next lead, reserved for `agent` (None: unreserved); False if no lead is due.

        The next lead: one abandoned before and due again (reserved dials only),
        else one due for a retry, else a fresh one; a lead the do-not-call
        screen refuses is never dialled again.
        """
        while True:
            if agent is not None and self._redial_reserved.due <= now:
                lead = self._redial_reserved.pop()
            elif self._retry.due <= now:
                lead = self._retry.pop()
            elif self._next_fresh < self._n_leads:
                lead = self._next_fresh
                self._next_fresh = lead + 1
            else:
                return False
            if self._screen is None or self._screen(self.campaign.name, lead, now):
                break
            self._done[lead] = True
            if self._attempts[lead]:
                self.leads.exhausted += 1
        call = self._next_call
        self._next_call = call + 1
        self._attempts[lead] += 1  # (the leads dialled at least once are counted at the end)
        self._emit_dial(unchecked_dial_placed(now, call, lead, agent))
        if now >= self._hour_end:  # the outcome probabilities of the new hour of the day
            hour = int(now % DAY // 3600.0)
            self._hour_cum = self._cum[hour]
            self._hour_end = now - now % DAY + (hour + 1) * 3600.0  # exact: whole seconds
        live, machine, busy, invalid = self._hour_cum
        u_left = self._u_left
        if not u_left:
            u_left = self._u_left = self._u_rng.random(_UNIT_BATCH)[::-1].tolist()
        u = u_left.pop()
        if u < machine:
            what = _LIVE if u < live else _MACHINE
            left = self._ring_left
            if not left:
                left = self._ring_left = self._ring_batch()
            delay = left.pop()
            if delay > self._ring_cap:  # the preset's ring timeout: the dialer gives up
                what, delay = _NO_ANSWER, self._ring_cap
        elif u < busy:
            what, delay = _BUSY, self._busy()
        elif u < invalid:
            what, delay = _INVALID, self._invalid()
        else:
            what = _NO_ANSWER
            left = self._no_answer_left
            if not left:
                left = self._no_answer_left = self._no_answer_batch()
            delay = left.pop()
        d = _Dial()
        d.callbacks = self._on_ring_end
        d.call = call
        d.lead = lead
        d.agent = agent
        d.what = what
        d.at = now + delay  # what the clock will read: Environment.schedule adds the same two floats
        self._schedule(d, NORMAL, delay)
        return True

    def _ring_end(self, d: _Dial) -> None:
        what = d.what
        now = d.at
        agent = d.agent
        if what == _LIVE:
            self._emit_answered(unchecked_call_answered(now, d.call, True))
            if agent is not None:
                self._connect(d, agent, now)
            else:
                idle = next(self.floor.idle_agents(), None)
                if idle is not None:
                    self._connect(d, idle, now)
                elif self._connect_limit <= 0.0:
                    self._abandon(d, now)
                else:
                    self._waiting[d.call] = d
                    wait = min(self._patience(), self._connect_limit)
                    self._schedule(_Timer(self._give_up, d), NORMAL, wait)
        else:
            if what == _MACHINE:
                outcome = self._emit_answered(unchecked_call_answered(now, d.call, False))
            else:
                outcome = self._emit_failed(unchecked_call_failed(now, d.call, _FAILS[what]))
            self._after(d.lead, outcome, now)  # type: ignore[arg-type]
            if agent is not None:
                a = self.agents[agent]
                if a.off_shift or a.wants_leave or self._waiting:  # else being idle asks nothing more of it
                    self._agent_free(agent)
        self._pump(now)

    def _connect(self, d: _Dial, agent: Hashable, now: float) -> None:
        """Put the live call through to `agent`; the call's timer now runs until the talk ends."""
        self._emit_connected(unchecked_call_connected(now, d.call, agent))
        d.agent = agent
        d.callbacks = self._on_talk_end
        left = self._talk_left
        if not left:
            left = self._talk_left = self._talk_batch()
        delay = left.pop()
        d.at = now + delay
        self._schedule(d, NORMAL, delay)

    def _abandon(self, d: _Dial, now: float) -> None:
        outcome = self._emit_abandoned(unchecked_call_abandoned(now, d.call))
        self._after(d.lead, outcome, now)  # type: ignore[arg-type]

    def _give_up(self, ev: _Timer) -> None:
        d: _Dial = ev.value  # type: ignore[assignment]
        if self._waiting.pop(d.call, None) is not None:
            now = self.env.now
            self._abandon(d, now)
            self._pump(now)

    def _talk_end(self, d: _Dial) -> None:
        now = d.at
        outcome = self._emit_ended(unchecked_call_ended(now, d.call))
        self._after(d.lead, outcome, now)  # type: ignore[arg-type]
        d.callbacks = self._on_wrap_end  # the call is over: its timer now runs the agent's wrap-up
        left = self._wrap_left
        if not left:
            left = self._wrap_left = self._wrap_batch()
        delay = left.pop()
        d.at = now + delay
        self._schedule(d, NORMAL, delay)
        self._pump(now)

    def _wrap_end(self, d: _Dial) -> None:
        agent = d.agent
        now = d.at
        self._emit_ready(unchecked_agent_ready(now, agent))
        a = self.agents[agent]  # type: ignore[index]
        if a.off_shift or a.wants_leave or self._waiting:
            self._agent_free(agent)  # type: ignore[arg-type]
        self._pump(now)

    def finish(self) -> None:
        """Count what is left of the list once the study is over."""
        s = self.leads
        s.dialled = s.total - self._attempts.count(0)
        s.pending_retry = len(self._retry) + len(self._redial_reserved)
        s.never_dialled = s.total - s.dialled


def _campaign_lead(campaign: str, lead: Hashable) -> tuple[str, Hashable]:
    return (campaign, lead)


def run_campaigns(
    scenario: Scenario,
    seed: int = 0,
    observer: Callable[[str, Event], None] | None = None,
    controller_factory: ControllerFactory | None = None,
    screen: Callable[[str, int, float], bool] | None = None,
    solver: PacingSolver | None = None,
) -> list[CampaignRun]:
    """Simulate the whole study; every campaign gets its own random streams from `seed`.

    `solver`: the Predictive pacers' `PacingSolver` (None: the process's shared one)."""
    env = simpy.Environment()
    seqs = np.random.SeedSequence(seed).spawn(len(scenario.campaigns))
    # one memory of abandoned numbers for the floor (norm 4.6.3 holds across campaigns); each campaign's
    # leads are its own list, numbered from 0, so with several campaigns a lead is keyed with its campaign
    numbers = AbandonedNumbers()
    several = len(scenario.campaigns) > 1
    runs = [
        CampaignRun(env, scenario, c, s, observer, controller_factory, screen, solver, numbers,
                    partial(_campaign_lead, c.name) if several else None)
        for c, s in zip(scenario.campaigns, seqs)
    ]
    for r in runs:
        r.schedule_days(scenario.study.days)
    env.run()
    for r in runs:
        r.finish()
    return runs
