"""One live campaign for a real dialer: the in-process API, thread-safe, idempotent, journaled.

Owns: `LiveCampaign`, which wraps a core `Controller` with what live use
needs and the simulator does not: a lock (a dialer's threads may feed it at
once), event ids (a retried event is applied once), events as plain dicts,
a journal that every applied event goes to *before* the caller hears back,
and `restore`, which rebuilds a campaign by replaying its journal.
Must not know about: clocks, HTTP, databases. Time is an argument; the
journal is any object with `append(campaign, first_seq, entries)` (the
service's `Store`, or none for purely in-memory use).
A time that cannot be right (negative, over 1e11, more than `max_skew`
ahead of the campaign's clock, off the calendar) is refused and changes
nothing; an event given as a dict needs its `id`; `close` archives the
journal through the caller and refuses all that comes after (`Closed`).

    from dialer import LiveCampaign
    c = LiveCampaign(mode="power")
    c.handle({"id": "e1", "type": "AgentLoggedIn", "time": 0.0, "agent": "ann"})
    c.decide(0.0)                       # Decision(reserve=('ann',), unreserved=0)

The journal's rules (what is stored before the answer, which decisions may
wait, how long ids are remembered, which times are refused, what a refused
batch leaves): docs/design.md, "Wall-clock time and the journal".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import math
import re
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Iterable, Mapping, Protocol, Sequence

from dialer.checks import check, positive
from dialer.core.controller import Controller
from dialer.core.decision import NO_DIALS, Decision
from dialer.core.events import DialPlaced, Event, Outcome
from dialer.core.guards import AbandonedNumbers
from dialer.core.picker import Picks, Screen
from dialer.core.modes import PACERS
from dialer.core.solver import PENDING, PacingSolver
from dialer.core.stats import DailyStats
from dialer.errors import ConfigError, DialerError, ProtocolError, bad
from dialer.live.config import MUTABLE, CampaignConfig, check_lines, check_pacer
from dialer.live.wire import MAX_TIME, canonical, check_id, check_time, event_from_dict, event_to_dict
from dialer.live.timeline import Sample, Timeline
from dialer.rules import phone
from dialer.rules.dnc import Hasher, Lead, Person, Registers, Status
from dialer.rules.phone import normalise

#: the dial log's number of a dial with no number to check (`dialer.compliance.store.NO_NUMBER`)
NO_NUMBER = ""

#: decisions alone queued at most for the next commit (Rule 2); one more is written at once, with them
MAX_QUEUED = 256

#: seconds of event time an event id is remembered after the last event (Rule 3); infinity: for ever
ID_MEMORY = 6 * 3600.0
_ID_MEMORY = positive("number of seconds", finite=False)

#: how far ahead of the campaign's clock (its last event or decision) a time may be, s: 90 days, room for
#: weekends, holidays and a season's pause; a time in milliseconds jumps 999 times the clock (Rule 5)
MAX_SKEW = 90 * 86400.0

_MAX_SKEW = positive("number of seconds")

#: the instants a campaign with a timezone can place on its calendar (Rule 5)
_EARLIEST, _LATEST = dt.datetime(1, 1, 2, tzinfo=dt.timezone.utc), dt.datetime(9999, 12, 30, tzinfo=dt.timezone.utc)


def _digest(text: str) -> bytes:
    """What is remembered of an event's content: 16 bytes, enough to tell a retry from a conflict."""
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


#: what a flagged dial broke (`LiveCampaign.flags`): placed while the preset's calling hours were closed, or
#: of a number on the internal or the national do-not-call register at that instant
OUTSIDE_HOURS = "outside_hours"
ON_INTERNAL_REGISTER = "on_internal_register"
ON_NATIONAL_REGISTER = "on_national_register"
FLAGS = (OUTSIDE_HOURS, ON_INTERNAL_REGISTER, ON_NATIONAL_REGISTER)

#: a keyed hash of a number, as `dialer.rules.dnc.Hasher.number` writes it
_HASHED = re.compile(r"[0-9a-f]{64}")

#: how long (s of event time) a register exception a candidate carried is kept for its dial
EXCEPTION_MEMORY = 86400.0

#: a snapshot's day plan, asked of the solver again once read (`LiveCampaign._load`)
_SOLVE_AGAIN = object()

#: one journal entry: (kind, event id or None, body); kinds: "event", "decide", "configure"
Entry = tuple[str, "str | int | None", dict[str, Any]]


class RegisterSource(Protocol):
    """The do-not-call registers a campaign screens against (`dialer.live.registers.RegisterView`)."""

    hasher: Hasher

    def current(self) -> Registers: ...

    def last_import(self, register: str = "national") -> dt.datetime | None: ...


class Journal(Protocol):
    """Where a campaign's entries go before a caller is answered (see `dialer.live.store.Store`).

    A journal whose `keeps_records` is true also keeps the compliance records: it is called
    `append(campaign, first_seq, entries, records)` with the `Records` the entries make, to be
    written in the same transaction."""

    def append(self, campaign: str, first_seq: int, entries: Sequence[Entry]) -> None: ...


@dataclass(frozen=True, slots=True)
class DialRecord:
    """A dial placed, for the dial log: its journal entry, instant, number's keyed hash ("" unknown)."""

    seq: int
    placed_at: dt.datetime  # aware
    number: str
    reserved: bool
    exception: str | None = None


@dataclass
class Records:
    """What a batch adds to the compliance records (norm 4.3 and the dial log), written with its entries:
    the dials placed, the outcomes of dials that ended (by their `DialPlaced`'s entry), and the counts
    to add to each campaign-day (attempted, answered, connected, transferred, abandoned)."""

    campaign: str
    dials: list[DialRecord]
    outcomes: list[tuple[int, str]]
    days: dict[dt.date, dict[str, int]]
    breaks: list[tuple[int, dt.datetime, str]] = dataclasses.field(default_factory=list)  # entry, instant, kind

    def __bool__(self) -> bool:
        return bool(self.dials or self.outcomes or self.days or self.breaks)


class StoreError(DialerError):
    """The journal could not be written or read; nothing was acknowledged."""


class Closed(DialerError):
    """The campaign was closed (`close`): nothing more is applied to it."""


class IdConflict(ProtocolError):
    """An event id that was applied before came again with different content."""


class Rejected(DialerError):
    """An event of a batch was refused; the events before it were applied (and journaled).

    `cause` is the underlying `ConfigError` (malformed) or `ProtocolError`
    (does not fit the state); `index` and `event_id` name the event.
    """

    def __init__(self, message: str, *, cause: DialerError, index: int | None, event_id: Any,
                 applied: int, duplicates: tuple[Any, ...], seq: int) -> None:
        super().__init__(message)
        self.cause = cause
        self.index = index
        self.event_id = event_id
        self.applied = applied
        self.duplicates = duplicates
        self.seq = seq


@dataclass(frozen=True)
class Batch:
    """What a batch did: events applied now, ids skipped as already applied, and the answer asked for."""

    applied: int
    duplicates: tuple[Any, ...]
    seq: int  # journal position after the batch
    decision: Decision | None = None
    releasable: int | None = None
    picks: Picks | None = None  # the decision spent on the candidate leads, when leads were sent
    warnings: tuple[str, ...] = ()  # said with a decision: a national register older than the preset allows


@dataclass
class Counters:
    """Since this process started (the Prometheus counters)."""

    events: int = 0
    duplicates: int = 0
    rejected: int = 0
    decisions: int = 0


class LiveCampaign:
    """The pacing controller of one campaign, for a dialer's threads (or the HTTP service).

    Build it from a `CampaignConfig` or from the same keywords
    (`LiveCampaign(mode="predictive", abandon_limit=0.05, lines=30)`).
    Every method takes the lock; times are the caller's seconds.
    """

    def __init__(self, config: CampaignConfig | None = None, *, name: str = "campaign",
                 journal: Journal | None = None, id_memory: float = ID_MEMORY, solver: PacingSolver | None = None,
                 max_skew: float = MAX_SKEW, numbers: AbandonedNumbers | None = None,
                 number_key: Callable[[Hashable], Hashable] | None = None, hasher: Hasher | None = None,
                 registers: RegisterSource | None = None, **settings: Any) -> None:
        if config is None:
            config = CampaignConfig.from_dict(settings)
        elif settings:
            raise ConfigError(f"give a CampaignConfig or keywords, not both (got {', '.join(settings)})")
        if not isinstance(name, str) or not name:
            raise bad("name", name, "a non-empty string")
        self.name = name
        self._config = config
        self.initial = config  # as created; `configure` entries in the journal change `config`
        self._journal = journal
        self._lock = threading.RLock()
        self._given_solver = solver  # the Predictive pacer's PacingSolver (None: see `_solver_for`)
        # the redial rule (norm 4.6.3) by the number: every spelling of one number is one key, and the
        # memory of abandoned numbers is the call centre's (a Service shares one across its campaigns)
        self.number_key = phone.number_key() if number_key is None else number_key
        self._controller: Controller = config.build(solver=self._solver_for(config), numbers=numbers,
                                                    number_key=self.number_key)
        self._calendar = config.calendar()  # the preset's calling hours, when enforced (under a preset)
        self._hours = None if self._calendar is None else _Hours(config, self._calendar)
        self._flags: dict[Hashable, dict[str, int]] = {}  # day -> kind -> dials applied and flagged
        # the do-not-call registers a campaign under a preset screens against (their hasher hashes numbers)
        self._registers = registers if config.preset is not None else None
        self._hasher = hasher if hasher is not None or registers is None else registers.hasher
        # the journal keeps no phone number in clear: a number is written as its key when the number key
        # hashes (a service's, whose store chose the key); replay then reads the hash as the number
        hashes = getattr(self.number_key, "hasher", None)
        self._pseudonym = self.number_key if hashes is not None else None
        self._hashed_journal = (hashes is not None and self._hasher is not None
                                and hashes.fingerprint == self._hasher.fingerprint)
        self._granted: dict[str, tuple[str, float]] = {}  # number hash -> (register exception, when picked)
        self._fresh = False  # the registers were read again in this batch
        self._registers_now: Registers | None = None
        # the compliance records of each batch, when the journal keeps them
        self._records = _Recorder(self) if getattr(journal, "keeps_records", False) else None
        self.id_memory = float(check("id_memory", id_memory, _ID_MEMORY))
        self.max_skew = float(check_skew(max_skew))
        # a time past this cannot be placed on the calendar of a campaign with a timezone (Rule 5)
        self._earliest, self._latest = ((-math.inf, math.inf) if config.timezone is None
                                        else (config.seconds(_EARLIEST), config.seconds(_LATEST)))
        self._closed = False
        self._ids: dict[Any, bytes] = {}  # event id -> digest of its canonical content (Rule 3)
        self._id_times: deque[tuple[float, Any]] = deque()  # (event time, id), in the order applied
        self._forgotten = -math.inf  # ids of events before this time are forgotten
        self._seq = 0  # entries journaled so far, the queued ones included
        self._queued: list[Entry] = []  # decisions alone, written with the next entries (Rule 2)
        self._last_decide = -math.inf
        self._stale: str | None = None  # set when the journal failed: memory may be ahead of it
        self.counters = Counters()
        # the day so far, minute by minute (the supervisor's board), filed as events are applied
        self._timeline = Timeline(offset=config.origin_instant().timestamp(), day_of=self._controller.floor.day_of)
        #: called with the campaign's name after anything was journaled (a service wakes its board's streams)
        self.on_change: Callable[[str], None] | None = None
        #: called with the campaign, under its lock, at the end of a batch once `snapshot_every` entries
        #: were journaled since `snapshot_seq` (a service writes a snapshot there; it must not raise)
        self.on_snapshot: Callable[["LiveCampaign"], None] | None = None
        self.snapshot_every = 10_000
        self.snapshot_seq = 0  # the journal position of the last snapshot written (or restored from)

    # --- rebuilding from a journal -------------------------------------------------

    @classmethod
    def restore(cls, name: str, config: CampaignConfig, entries: Iterable[tuple[int, str, Any, Mapping[str, Any]]],
                *, journal: Journal | None = None, id_memory: float = ID_MEMORY,
                solver: PacingSolver | None = None, max_skew: float = MAX_SKEW,
                numbers: AbandonedNumbers | None = None,
                number_key: Callable[[Hashable], Hashable] | None = None,
                hasher: Hasher | None = None, registers: RegisterSource | None = None,
                snapshot: tuple[int, bytes] | None = None) -> "LiveCampaign":
        """Rebuild a campaign by replaying its journal entries `(seq, kind, event id, body)` in order
        (as they were applied: the time checks of Rule 5 are not made again; the records they made
        are in the store already). With `snapshot` (its journal position and bytes, as `snapshot`
        made them, in the current `dialer.live.snapshot.FORMAT`), the campaign starts from it and
        `entries` are the ones after it (SnapshotError if it cannot be read).

        The journal is replayed against the campaign's own abandons only, then they join `numbers`
        (the call centre's memory, which holds abandons later than what is replayed: a dial that went
        out unreserved before its number was abandoned, here or in another campaign, was right then)."""
        own = None if numbers is None else AbandonedNumbers()
        c = cls(config, name=name, journal=journal, id_memory=id_memory, solver=solver, max_skew=max_skew,
                numbers=own, number_key=number_key, hasher=hasher, registers=registers)
        if snapshot is not None:
            c._load(*snapshot)
        for seq, kind, ev_id, body in entries:
            if seq != c._seq + 1:
                raise StoreError(f"campaign {name!r}: journal entry {seq} follows {c._seq} (a gap)")
            try:
                c._replay(seq, kind, ev_id, body)
            except DialerError as err:
                raise StoreError(f"campaign {name!r}: journal entry {seq} ({kind}) no longer applies: {err}") from None
            c._seq = seq
        if numbers is not None and own is not None:
            for key, at in own.items():
                numbers.abandoned(key, at)
            c._controller.floor.guard.numbers = numbers
        return c

    def _replay(self, seq: int, kind: str, ev_id: Any, body: Mapping[str, Any]) -> None:
        if kind == "event":
            _, ev = event_from_dict(body)
            outcome = self._handle(ev)
            self._applied(ev)
            if self._records is not None:
                self._records.replayed(ev, seq, outcome)
            if ev_id is not None:
                self._ids[ev_id] = _digest(canonical(body))
                self._id_times.append((ev.time, ev_id))
                self._forget()
        elif kind == "decide":
            now = body["now"]
            self._controller.decide(now)
            self._last_decide = now
            for number, exception in body.get("exceptions", ()):
                self._granted[number] = (exception, now)
        elif kind == "configure":
            self._apply_configure(body)
        else:
            raise StoreError(f"unknown journal entry kind {kind!r}")

    def snapshot(self) -> tuple[int, bytes]:
        """The campaign's state now, as bytes (`dialer.live.snapshot`), and the journal position it is
        at: what `restore` starts from, replaying only the entries after it. The decisions queued for
        the next commit are written first, so every entry up to the position is in the journal.
        StoreError if they cannot be written; SnapshotError if the state cannot be written."""
        from dialer.live import snapshot

        with self._lock:
            self._check_fresh()
            self._write([], [])
            state = {
                "config": self._config.to_dict(),
                "controller": self._controller,
                "timeline": self._timeline,
                "flags": self._flags,
                "granted": self._granted,
                "ids": self._ids,
                "id_times": self._id_times,
                "forgotten": self._forgotten,
                "last_decide": self._last_decide,
                "calls": None if self._records is None else self._records.calls,
            }
            return self._seq, snapshot.dumps(state, self._collaborators(), key=self._pseudonym)

    def _collaborators(self) -> dict[str, Any]:
        """What a snapshot names instead of holding: given again by the campaign that reads it. The day
        plan a Predictive pacer uses is the solver's (megabytes of arrays, shared): named, and asked of
        the solver again by the key it was solved for."""
        floor = self._controller.floor
        refs = {"day_of": floor.day_of, "number_key": floor.guard.key, "numbers": floor.guard.numbers}
        plan = getattr(self._controller.pacer, "_plan", None)
        if plan is not None:
            refs["day_plan"] = plan
        return refs

    def _load(self, seq: int, blob: bytes) -> None:
        """Start from a snapshot at journal position `seq` (a campaign just built, nothing applied)."""
        from dialer.live import snapshot

        state = snapshot.loads(blob, {**self._collaborators(), "day_plan": _SOLVE_AGAIN})
        try:
            config = CampaignConfig.from_dict(state["config"])
            controller: Controller = state["controller"]
            if "solver" in PACERS[config.mode].injected:  # the solver is the service's, never the snapshot's
                pacer: Any = controller.pacer
                pacer.solver = self._solver_for(config)
                if getattr(pacer, "_plan", None) is _SOLVE_AGAIN:
                    pacer._plan = pacer.pacing_solver.day_plan(*pacer._plan_key)
                    if pacer._plan is PENDING:  # being solved elsewhere: the pacer asks again at its next decision
                        pacer._plan, pacer._plan_for = None, ()
            self._config = config
            self._controller = controller
            self._timeline = state["timeline"]
            self._flags = state["flags"]
            self._granted = state["granted"]
            self._ids = state["ids"]
            self._id_times = state["id_times"]
            self._forgotten = state["forgotten"]
            self._last_decide = state["last_decide"]
            if self._records is not None and state["calls"] is not None:
                self._records.calls = state["calls"]
        except (KeyError, TypeError, AttributeError, ConfigError) as err:
            raise snapshot.SnapshotError(f"the snapshot does not hold a campaign's state: {err!r}") from None
        self._seq = self.snapshot_seq = seq

    def _snapshot_due(self) -> None:
        """Hand the campaign to `on_snapshot` once `snapshot_every` entries were journaled since the last."""
        if self.on_snapshot is not None and self._seq - self.snapshot_seq >= self.snapshot_every:
            self.snapshot_seq = self._seq  # tried once per `snapshot_every` entries, written or not
            self.on_snapshot(self)

    # --- feeding events and asking ---------------------------------------------------

    def submit(self, events: Iterable[Event | Mapping[str, Any]] = (), *, decide_at: float | None = None,
               releasable_at: float | None = None, leads: Iterable[Any] | None = None,
               screen: Screen | None = None) -> Batch:
        """Apply `events` in order (each a core event or a wire dict, see `dialer.live.wire`), then
        optionally decide at `decide_at` or tell how many agents are releasable at `releasable_at`.

        With `leads` (candidates in the dialer's order of preference, decide only: lead ids, which
        are read as the number, or `{"id", "phone", "existing_customer", "express_request"}`) the
        decision is also spent on them (`Batch.picks`, see `dialer.core.picker`). Under a preset
        with `registers`, every candidate reached is screened against the internal and national
        registers at `decide_at` (skipped as `screened`, the detail naming the register; the
        exceptions lift the national register only); `screen`, if given, is asked too (None: may
        be called, else why not). Malformed `leads` raise `ConfigError` before any event is applied.

        Raises `Rejected` if an event is refused (the ones before it stay applied),
        `StoreError` if the journal cannot be written (then nothing of the batch counts).
        """
        if decide_at is not None and releasable_at is not None:
            raise ConfigError("ask for a decision or for releasable agents, not both in one batch")
        if leads is not None:
            if decide_at is None:
                raise ConfigError("leads: candidate leads go with a decision (decide_at), not alone")
            candidates = _check_leads(leads)
            leads = [c.id for c in candidates]
        with self._lock:
            self._check_fresh()
            self._fresh = False
            entries: list[Entry] = []
            duplicates: list[Any] = []
            failure: tuple[int | None, Any, DialerError] | None = None
            ids_added: list[Any] = []
            records = self._records
            for i, item in enumerate(events):
                ev_id: Any = None
                try:
                    if isinstance(item, Event):
                        ev = item
                    else:
                        if isinstance(item, Mapping) and item.get("id") is None:
                            raise _no_id(i, item)
                        ev_id, ev = event_from_dict(item, f"events[{i}]")
                    number = self._number(ev) if records is not None and type(ev) is DialPlaced else NO_NUMBER
                    body = event_to_dict(ev, ev_id)
                    if self._pseudonym is not None and type(ev) is DialPlaced:
                        pseudonymise(body, self._pseudonym)
                    self._check_time("time", ev.time)
                    if ev_id is not None:
                        text = canonical(body)
                        body = _Body(body)
                        body.json_text = text  # the store writes this text, not a second encoding
                        digest = _digest(text)
                        seen = self._ids.get(ev_id)
                        if seen is not None:
                            if seen != digest:
                                raise IdConflict(f"event id {ev_id!r} was applied before with other content")
                            duplicates.append(ev_id)
                            continue
                        if ev.time < self._forgotten:
                            raise ProtocolError(
                                f"event id {ev_id!r} at time {ev.time!r} is older than the ids this campaign remembers "
                                f"({self.id_memory:g} s before its last event, {self._controller.floor.now!r}): if it is a "
                                "retry it was applied before; it is not applied now")
                    if records is not None:
                        records.before(ev)
                    outcome = self._handle(ev)  # raises, changing nothing, if it does not fit
                except DialerError as err:
                    failure = (i, ev_id, err)
                    break
                exception = self._applied(ev)
                if records is not None:
                    records.after(ev, self._seq + 1 + len(entries), outcome, number, exception)
                if ev_id is not None:
                    self._ids[ev_id] = digest
                    self._id_times.append((ev.time, ev_id))
                    ids_added.append(ev_id)
                entries.append(("event", ev_id, body))
            decision = releasable = picks = None
            warnings: tuple[str, ...] = ()
            pick_error: Exception | None = None
            if failure is None and decide_at is not None:
                try:
                    now = self._check_now("decide_at", decide_at)
                    decision = self._controller.decide(now)
                    self._last_decide = now
                    if self._calendar is not None:
                        decision = self._within_hours(decision, now)
                    if self._config.paused:  # asked all the same (and journaled): only the answer is withheld
                        decision = NO_DIALS
                    entry: dict[str, Any] = {"now": now}
                    entries.append(("decide", None, entry))
                    warnings = self._warnings(now)
                    if leads is not None:  # picking changes nothing: the picks are journaled as a record
                        phones = {c.id: c.phone for c in candidates if c.phone is not None}
                        screening = self._screening(now, candidates, screen)
                        try:
                            picks = self._controller.pick(now, decision, leads, screen=screening.screen,
                                                          number_of=(lambda lead: phones.get(lead, lead)) if phones
                                                          else None)
                        except Exception as err:  # the caller's screen failed: the decision is still journaled
                            pick_error = err
                        else:
                            entry["dials"] = [[d.lead, d.agent] for d in picks.dials]
                            if self._pseudonym is not None:
                                pseudonymise(entry, self._pseudonym)
                            granted = screening.granted(picks)
                            if granted:  # a national-register exception, kept for the dial (and the replay)
                                entry["exceptions"] = granted
                                for number, exception in granted:
                                    self._granted[number] = (exception, now)
                            if self._granted:
                                self._forget_exceptions(now)
                except DialerError as err:
                    failure = (None, None, err)
            if failure is None and releasable_at is not None:
                try:
                    releasable = self._controller.releasable(self._check_now("releasable_at", releasable_at))
                except DialerError as err:
                    failure = (None, None, err)
            # a decision alone may wait for the next commit (Rule 2); anything else is committed now
            self._write(entries, ids_added, wait=leads is not None or len(entries) != 1 or entries[0][0] != "decide",
                        records=None if records is None else records.take())
            if entries and self.on_change is not None:
                self.on_change(self.name)
            if ids_added:
                self._forget()
            if entries:
                self._snapshot_due()
            applied = sum(1 for e in entries if e[0] == "event")
            self.counters.events += applied
            self.counters.duplicates += len(duplicates)
            if decision is not None:
                self.counters.decisions += 1
            if failure is not None:
                self.counters.rejected += 1
                index, ev_id, err = failure
                msg = str(err)
                if index is not None and not msg.startswith(f"events[{index}]"):
                    msg = f"events[{index}]" + ("" if ev_id is None else f" (id {ev_id!r})") + f": {msg}"
                raise Rejected(msg, cause=err, index=index, event_id=ev_id, applied=applied,
                               duplicates=tuple(duplicates), seq=self._seq)
            if pick_error is not None:
                raise pick_error
            return Batch(applied, tuple(duplicates), self._seq, decision, releasable, picks,
                         warnings if decision is not None else ())

    def _handle(self, ev: Event) -> Outcome | None:
        """Apply one event to the controller (raises, changing nothing, if it does not fit); the first
        event of a later minute first files the state as the last event's minute closed (`Timeline`)."""
        tl = self._timeline
        if tl.due(ev.time):
            sample = self._sample()
            outcome = self._controller.handle(ev)
            tl.advance(ev.time, sample)
            return outcome
        return self._controller.handle(ev)

    def _sample(self) -> Sample | None:
        """The timeline's figures as of the last event (`dialer.live.timeline.FIELDS`): the day's
        abandoned and connected calls (norm 4.3), the headroom (None: unbounded), lines in use,
        agents available (logged in, not paused), busy and logged in. None before any event."""
        c = self._controller
        f = c.floor
        t = f.now
        if t == -math.inf:
            return None
        s = f.days.get(f.day_of(t))
        h = c.headroom(t)
        return (0 if s is None else s.abandoned, 0 if s is None else s.connected, None if h == math.inf else h,
                f.calls_active, f.logged_in - f.paused, f.busy, f.logged_in)

    def _applied(self, ev: Event) -> str | None:
        """What an applied event means beyond the controller: a dial placed outside the calling
        hours, or of a number on a register at that instant, is counted (it happened, so it was
        applied; `flags`). Returns the register exception a dial was placed under, if any."""
        if type(ev) is not DialPlaced:
            return None
        if self._hours is not None and not self._hours.allowed(ev.time):
            self._flag(ev.time, OUTSIDE_HOURS)
        if self._registers is None:
            return None
        number = self._number(ev)
        if number == NO_NUMBER:
            return None
        granted = self._granted.get(number)
        exception = None if granted is None else granted[0]
        lead = Lead(Person(number=number), existing_customer=exception == "existing_customer",
                    express_request=exception == "express_request")
        v = self._current_registers().check(lead, self._config.instant(ev.time))
        if v.status is Status.BLOCKED:
            self._flag(ev.time, ON_INTERNAL_REGISTER if v.register == "internal" else ON_NATIONAL_REGISTER)
        return exception if v.status is Status.EXCEPTED else None

    def _current_registers(self) -> Registers:
        """The registers as the store holds them, read again (what changed) once a batch."""
        assert self._registers is not None
        if not self._fresh:
            self._fresh = True
            self._registers_now = self._registers.current()
        return self._registers_now

    def _forget_exceptions(self, now: float) -> None:
        """Drop the register exceptions picked more than `EXCEPTION_MEMORY` seconds ago."""
        old = [n for n, (_, t) in self._granted.items() if t < now - EXCEPTION_MEMORY]
        for n in old:
            del self._granted[n]

    def _screening(self, now: float, candidates: list["_Candidate"], screen: Screen | None) -> "_Screening":
        return _Screening(self, now, candidates, screen)

    def _warnings(self, now: float, *, refresh: bool = True) -> tuple[str, ...]:
        """What a decision says beside its dials: the national register older than the preset's wash
        interval (guide 3.2: a list is washed again in every calendar month calls are made).
        `refresh` False: as of the registers last read (no store read)."""
        if self._registers is None:
            return ()
        if refresh:
            self._current_registers()
        preset = self._config.rules()
        assert preset is not None
        last = self._registers.last_import("national")
        at = self._config.instant(now)
        if not register_stale(last, at, preset.dnc_rewash, preset.tz):
            return ()
        when = "never imported" if last is None else f"last imported {last.astimezone(preset.tz).date()}"
        wash = "in every calendar month calls are made" if preset.dnc_rewash == "month" else \
            f"every {preset.dnc_rewash} days"
        return (f"national do-not-call register {when}: import a new extract (dialer dnc import national) "
                f"and wash {wash} (preset {preset.name})",)

    def _number(self, ev: DialPlaced) -> str:
        """The dial log's number of a dial: the keyed hash of its phone number (`phone`, else `lead`, when
        it reads as one), or `NO_NUMBER` when there is none or no `hasher` to hash it with."""
        if self._hasher is None:
            return NO_NUMBER
        value = getattr(ev, "phone", None)
        if value is None:
            value = ev.lead
        if not isinstance(value, str):
            return NO_NUMBER
        try:
            return self._hasher.number(normalise(value))
        except ConfigError:  # a replayed dial's number is its hash when the journal is keyed as the registers
            return value if self._hashed_journal and _HASHED.fullmatch(value) else NO_NUMBER

    def _flag(self, t: float, kind: str) -> None:
        day = self._controller.floor.day_of(t)
        kinds = self._flags.setdefault(day, {})
        kinds[kind] = kinds.get(kind, 0) + 1

    def _date(self, day: Hashable) -> dt.date:
        """The calendar date of an accounting day: a local date (a timezone), or whole days from the origin."""
        if isinstance(day, str):
            return dt.date.fromisoformat(day)
        return (self._config.origin_instant() + dt.timedelta(days=day)).date()  # type: ignore[arg-type]

    def flags(self) -> dict[Hashable, dict[str, int]]:
        """Dials applied that broke a rule of the campaign's preset, per day and kind (`FLAGS`):
        `outside_hours` (placed while calling was not allowed). Copies, safe to keep."""
        with self._lock:
            return {day: dict(kinds) for day, kinds in sorted(self._flags.items(), key=_day_key)}

    def _within_hours(self, decision: Decision, now: float) -> Decision:
        """The decision if calling is allowed at `now`, else no dial and a wake-up at the next opening.

        The controller was asked all the same (and the ask is journaled), so
        a restore replays exactly what happened; only the answer is withheld.
        """
        window = self._window(now)
        return decision if window["allowed"] else Decision(wake_at=window["next_opening"])

    def hours_dict(self, now: float | None = None) -> dict[str, Any]:
        """The calling window at `now` (default: the last event's time): is calling allowed, why
        not, and the next opening (seconds). `enforced` is false without a preset and a timezone."""
        with self._lock:
            t = self._controller.floor.now if now is None else self._on_calendar("now", check_time("now", now))
            return self._window(0.0 if t == -math.inf else t)

    def _window(self, t: float) -> dict[str, Any]:
        cfg, cal = self._config, self._calendar
        if cal is None:
            return {"enforced": False, "allowed": True, "reason": None, "next_opening": None}
        instant = cfg.instant(t)
        if cal.allowed(instant):
            return {"enforced": True, "allowed": True, "reason": None, "next_opening": None}
        opening = cal.next_opening(instant)
        return {"enforced": True, "allowed": False, "reason": cal.reason_closed(instant),
                "next_opening": None if opening is None else cfg.seconds(opening)}

    def handle(self, event: Event | Mapping[str, Any]) -> Batch:
        """Apply one event (a core event, or a wire dict with its `id`)."""
        return self.submit((event,))

    def decide(self, now: float, events: Iterable[Event | Mapping[str, Any]] = ()) -> Decision:
        """Apply `events`, then: how many dials to place at `now`, and which idle agents to reserve."""
        batch = self.submit(events, decide_at=now)
        assert batch.decision is not None
        return batch.decision

    def pick(self, now: float, leads: Iterable[Any], events: Iterable[Event | Mapping[str, Any]] = (), *,
             screen: Screen | None = None) -> Picks:
        """Apply `events`, then decide at `now` and spend the decision on `leads` (candidate lead
        ids, the dialer's preferred first): which to dial now, each with its reserved agent or None.

        The same question as `decide` (and journaled as one), with the leads' answer added: see
        `dialer.core.picker` for the rules. `screen(lead) -> None | reason`: an optional check of
        the caller's (calling hours, do-not-call) for each candidate reached.
        """
        batch = self.submit(events, decide_at=now, leads=leads, screen=screen)
        assert batch.picks is not None
        return batch.picks

    def releasable(self, now: float, events: Iterable[Event | Mapping[str, Any]] = ()) -> int:
        """Apply `events`, then: how many committed idle agents may pause or leave at `now`."""
        batch = self.submit(events, releasable_at=now)
        assert batch.releasable is not None
        return batch.releasable

    def configure(self, **changes: Any) -> CampaignConfig:
        """Change the dialing mode, its parameters or the trunk lines; the ledger and floor stay."""
        for key in changes:
            if key not in MUTABLE:
                raise ConfigError(f"{key}: cannot change once a campaign exists (may change: {', '.join(MUTABLE)})")
        with self._lock:
            self._check_fresh()
            mode = changes.get("mode", self._config.mode)
            pacer = changes.get("pacer", self._config.pacer if mode == self._config.mode else {})
            check_pacer(mode, pacer)  # a null or non-object pacer is refused here, by name
            body = {k: (dict(v) if k == "pacer" else v) for k, v in changes.items()}
            check_lines(body.get("lines", self._config.lines))
            body.setdefault("mode", mode)
            body.setdefault("pacer", dict(pacer))
            self._apply_configure(body)
            self._write([("configure", None, body)], [])
            if self.on_change is not None:
                self.on_change(self.name)
            self._snapshot_due()
            return self._config

    def _apply_configure(self, body: Mapping[str, Any]) -> None:
        new = dataclasses.replace(self._config, **body)  # validates the whole configuration again
        if new.mode != self._config.mode or dict(new.pacer) != dict(self._config.pacer):
            self._controller.set_pacer(new.effective_rules().make_pacer(solver=self._solver_for(new)))
        self._controller.lines = new.lines
        self._config = new

    def _solver_for(self, config: CampaignConfig) -> PacingSolver | None:
        """The solver the pacer of `config` gets: the one given, else the process's background solver
        (`dialer.live.warmer.background`: solves off the decision path), or with `wait_for_solves` a
        view of it that waits (the simulator's behaviour). None for a mode that takes no solver."""
        if "solver" not in PACERS[config.mode].injected:
            return None
        solver = self._given_solver
        if solver is None:
            from dialer.live.warmer import background

            solver = background()
        return solver.waiting() if config.wait_for_solves and not solver.wait else solver

    # --- reading ---------------------------------------------------------------------------

    @property
    def config(self) -> CampaignConfig:
        return self._config

    @property
    def seq(self) -> int:
        return self._seq

    def _forget(self) -> None:
        """Drop the ids of events more than `id_memory` seconds before the last event (Rule 3)."""
        horizon = self._controller.floor.now - self.id_memory
        times = self._id_times
        if horizon <= self._forgotten or not times or times[0][0] >= horizon:
            return
        while times and times[0][0] < horizon:
            self._ids.pop(times.popleft()[1], None)
        self._forgotten = horizon

    def knows(self, event_id: Any) -> bool:
        """True if an event with this id was applied (and is still remembered: Rule 3)."""
        with self._lock:
            return event_id in self._ids

    def stats(self) -> dict[Hashable, DailyStats]:
        """Daily statistics (norm 4.3) per accounting day: copies, safe to keep."""
        with self._lock:
            return {day: dataclasses.replace(s) for day, s in sorted(self._controller.stats.items(), key=_day_key)}

    def floor_dict(self) -> dict[str, Any]:
        """The floor's counts now: agents by state, calls by state, time of the last event."""
        with self._lock:
            f = self._controller.floor
            return {
                "logged_in": f.logged_in,
                "idle": f.idle,
                "idle_committed": f.idle_committed,
                "reserved_agents": f.reserved_agents,
                "talking": f.talking,
                "wrapping": f.wrapping,
                "paused": f.paused,
                "ringing_unreserved": f.ringing_unreserved,
                "ringing_reserved": f.ringing_reserved,
                "live_waiting": f.live_waiting,
                "calls_active": f.calls_active,
                "last_event_time": None if f.now == -math.inf else f.now,
            }

    def ledger_dict(self, now: float | None = None) -> dict[str, Any]:
        """The abandon envelope at `now` (default: the last event's time): every interval's counts,
        rate, limit and headroom, the exposure, and how many agents may stop covering."""
        with self._lock:
            c = self._controller
            t = c.floor.now if now is None else self._on_calendar("now", check_time("now", now))
            if t == -math.inf:
                t = 0.0
            intervals = [] if c.ledger is None else [s.as_dict() for s in c.ledger.snapshot(t, c.horizon, c.floor.pooled)]
            for iv in intervals:
                if isinstance(iv["key"], tuple):
                    iv["key"] = list(iv["key"])
            headroom = c.headroom(t)
            return {
                "now": t,
                "intervals": intervals,
                "exposure": c.exposure(),
                "headroom": None if headroom == math.inf else headroom,
                "releasable": c.releasable(t),
            }

    def lead_dict(self, lead: Any, now: float | None = None) -> dict[str, Any]:
        """The redial guard on one lead (norm 4.6.3): must it be dialled with an agent reserved?"""
        check_id("lead", lead)
        with self._lock:
            f = self._controller.floor
            t = f.now if now is None else check_time("now", now)
            return {"lead": lead, "must_reserve": f.must_reserve_lead(t, lead), "in_flight": f.lead_in_flight(lead)}

    def held_to_dict(self) -> dict[str, Any]:
        """The rules the controller holds, from the core's factory once the preset is applied: every
        accounting interval (name, kind, limit, window), the strictest limit, the redial lockout (None:
        for ever), the mode and the pacer's effective parameters (defaults included), whether calling
        hours are enforced, and whether candidate leads are screened against the do-not-call registers
        (`screening`: false under a preset when the service has no register secret). What a compliance
        officer asks, beside the configuration as sent."""
        with self._lock:
            held = self._config.effective_rules().describe()
            held["pacer"] = self._controller.pacer.get_params()  # the pacer running now
            held["hours_enforced"] = self._config.hours_enforced
            held["screening"] = self._registers is not None
            return held

    # --- the supervisor's board (dialer.live.board) ---------------------------------------------

    def reading(self) -> Any:
        """Hold the campaign still while several of its views are read as one instant:
        ``with c.reading(): c.floor_dict(); c.ledger_dict()`` (the lock; re-entrant)."""
        return self._lock

    @property
    def clock(self) -> float | None:
        """The campaign's clock: the later of its last event and its last decision (None before either)."""
        with self._lock:
            t = max(self._controller.floor.now, self._last_decide)
            return None if t == -math.inf else t

    def agents_leaving(self) -> int:
        """Logged-in agents who announced leaving (they take calls, cover no dial in flight)."""
        with self._lock:
            return self._controller.floor.leaving

    def numbers_held(self, now: float | None = None) -> int:
        """How many numbers a dial at `now` (default: the last event's time) must reserve an agent for
        (norm 4.6.3): the call centre's abandoned numbers still under this campaign's lockout."""
        with self._lock:
            f = self._controller.floor
            t = f.now if now is None else check_time("now", now)
            return len(f.guard.flagged(0.0 if t == -math.inf else t))

    def register_warnings(self, now: float | None = None) -> list[str]:
        """What a decision at `now` (default: the campaign's clock) says beside its dials (a national
        register older than the preset allows), from the registers as the last decision read them."""
        with self._lock:
            t = max(self._controller.floor.now, self._last_decide) if now is None else check_time("now", now)
            return list(self._warnings(0.0 if t == -math.inf else t, refresh=False))

    def timeline(self) -> dict[str, Any]:
        """The day so far, per minute (`dialer.live.timeline`): the accounting day and its rows
        (start of the minute, sample as the minute closed), and the sample now (None before any event)."""
        with self._lock:
            tl = self._timeline
            return {"day": tl.day, "rows": tl.rows(), "open": None if tl.open_minute is None else tl.start(tl.open_minute),
                    "now": self._sample()}

    @property
    def uses_envelope(self) -> bool:
        """True if the dialer must hold pauses and log-outs until `releasable` > 0 (see Controller)."""
        return self._controller.uses_envelope

    def promise_breaks(self) -> dict[str, Any]:
        """The dialer's broken promises (docs/integration.md, "What your dialer promises in return"),
        counted by kind, the last ones with their instants (up to 1,000), and whether the campaign
        dials as Power for the rest of the day because of one."""
        with self._lock:
            c = self._controller
            return {"counts": dict(c.promise_breaks),
                    "last": [{"time": t, "kind": kind, "who": who} for t, kind, who in c.breaks],
                    "dialing_as_power": c.dialing_as_power}

    # --- internals ---------------------------------------------------------------------------

    def _check_now(self, field: str, now: Any) -> float:
        check_time(field, now)
        last = max(self._controller.floor.now, self._last_decide)
        if now < last:
            raise ProtocolError(f"{field} must be at or after the last event or decision ({last!r}), got {now!r}")
        return self._check_time(field, now)

    def _check_time(self, field: str, t: float) -> float:
        """Rule 5: a time from 0 to MAX_TIME, at most `max_skew` ahead of the clock, and on the calendar."""
        if t < 0:
            raise bad(field, t, "at least 0 (seconds since the campaign's origin)")
        clock = max(self._controller.floor.now, self._last_decide)  # -inf before the first event or decision
        if t > MAX_TIME:
            at = "" if clock == -math.inf else f"; the campaign's clock is at {clock!r}"
            raise bad(field, t, f"at most {MAX_TIME:,.0f} (seconds since the campaign's origin{at}; a time in "
                      "milliseconds?)")
        if t > clock + self.max_skew and clock != -math.inf:
            skew = f"{self.max_skew:,.0f}" if self.max_skew.is_integer() else f"{self.max_skew:g}"
            raise bad(field, t, f"at most {skew} s ahead of the campaign's clock (its last event or decision, "
                      f"at {clock!r}; a time in milliseconds?)")
        return self._on_calendar(field, t)

    def _on_calendar(self, field: str, t: float) -> float:
        """A time a campaign with a timezone can place on its calendar (a read may ask before 0)."""
        if not self._earliest <= t <= self._latest:
            raise ProtocolError(f"{field} must be within the campaign's calendar ({_EARLIEST.date()} to "
                                f"{_LATEST.date()}: {self._earliest!r} to {self._latest!r}), got {t!r}")
        return t

    def _check_fresh(self) -> None:
        if self._closed:
            raise Closed(f"campaign {self.name!r} was closed")

        if self._stale is not None:
            raise StoreError(f"campaign {self.name!r} is out of step with its store ({self._stale}); reload it")

    def _write(self, entries: list[Entry], ids_added: list[Any], *, wait: bool = True,
               records: Records | None = None) -> None:
        """Journal `entries` after the queued decisions, with the `records` they make (a journal that keeps
        records: in one transaction); `wait` False: a decision alone, which may be queued."""
        if not entries and not self._queued:
            return
        if self._journal is not None:
            if not wait and len(self._queued) < MAX_QUEUED:
                self._queued += entries
                self._seq += len(entries)
                return
            queued, self._queued = self._queued, []
            try:
                if records:
                    self._journal.append(self.name, self._seq - len(queued) + 1, queued + entries, records)  # type: ignore[call-arg]
                else:
                    self._journal.append(self.name, self._seq - len(queued) + 1, queued + entries)
            except Exception as err:  # the memory is now ahead of the store: refuse everything until reloaded
                for ev_id in ids_added:
                    self._ids.pop(ev_id, None)
                self._stale = f"{type(err).__name__}: {err}".splitlines()[0]
                raise StoreError(f"campaign {self.name!r}: the store refused the batch ({self._stale}); "
                                 "nothing of it was acknowledged") from None
        self._seq += len(entries)

    def close(self, archive: Callable[[int], Any] | None = None) -> int:
        """Close the campaign: write the decisions queued (Rule 2), call `archive(seq)` (the service
        archives the journal there; if it raises, the campaign stays open), then refuse every
        further event or question (`Closed`). Returns the journal position it closed at."""
        with self._lock:
            self._check_fresh()
            self._write([], [])
            if archive is not None:
                archive(self._seq)
            self._closed = True
            return self._seq

    @property
    def closed(self) -> bool:
        return self._closed

    def flush(self) -> None:
        """Write the decisions queued for the next commit (Rule 2) now; the service does it when it stops."""
        with self._lock:
            if self._queued and self._stale is None:
                self._write([], [])

    @property
    def stale(self) -> bool:
        return self._stale is not None


def check_skew(max_skew: Any) -> float:
    """`max_skew`: how far ahead of a campaign's clock a time may be, a positive number of seconds."""
    return check("max_skew", max_skew, _MAX_SKEW)


def _no_id(i: int, item: Mapping[str, Any]) -> ConfigError:
    """An event dict without its id (Rule 6)."""
    if "id" in item:
        return bad(f"events[{i}].id", None, "the dialer's own id of the event, a string or a whole number")
    return ConfigError(f"events[{i}].id must be given: the dialer's own id of the event, a string or a whole "
                       "number, so that a retry is applied once")


def pseudonymise(body: dict[str, Any], key: Callable[[Hashable], Hashable]) -> bool:
    """A journal entry's body as the journal keeps it: the lead and phone of a DialPlaced, the leads of
    a decision's dials, each as `key` has it when it reads as a phone number (its keyed hash: the
    journal keeps no number in clear; replay needs equal keys, not numbers); True if anything changed."""
    changed = False
    if body.get("type") == "DialPlaced":
        for name in ("lead", "phone"):
            value = body.get(name)
            if isinstance(value, str):
                k = key(value)
                if k != value:
                    body[name], changed = k, True
    for dial in body.get("dials", ()) if "now" in body else ():
        if isinstance(dial[0], str):
            k = key(dial[0])
            if k != dial[0]:
                dial[0], changed = k, True
    return changed


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A candidate lead: its id (the answer names it), its phone (None: the id is the number), and the
    register exceptions it carries (guide 3.5, 3.6: they lift the national register only)."""

    id: Any
    phone: str | None = None
    existing_customer: bool = False
    express_request: bool = False


_CANDIDATE_FIELDS = ("id", "phone", "existing_customer", "express_request")


def _check_leads(leads: Iterable[Any]) -> list[_Candidate]:
    """Candidates as a list: each a lead id (a string or a whole number, read as the number) or an object
    {"id", "phone", "existing_customer", "express_request"} (named `leads[i]...` if malformed)."""
    if isinstance(leads, (str, bytes, Mapping)) or not hasattr(leads, "__iter__"):
        raise bad("leads", leads, "a list of lead ids (strings or whole numbers) or lead objects")
    out = []
    for i, lead in enumerate(leads):
        if not isinstance(lead, Mapping):
            out.append(_Candidate(check_id(f"leads[{i}]", lead)))
            continue
        for key in lead:
            if key not in _CANDIDATE_FIELDS:
                raise bad(f"leads[{i}] field", key, f"one of {', '.join(_CANDIDATE_FIELDS)}")
        if "id" not in lead:
            raise bad(f"leads[{i}].id", None, "given (the dialer's id of the lead, a string or a whole number)")
        lead_id = check_id(f"leads[{i}].id", lead["id"])
        phone = lead.get("phone")
        if phone is not None and (type(phone) is not str or not phone or len(phone) > 200):
            raise bad(f"leads[{i}].phone", phone, "a phone number as text (or null: the id is the number)")
        flags = []
        for name in ("existing_customer", "express_request"):
            value = lead.get(name, False)
            if type(value) is not bool:
                raise bad(f"leads[{i}].{name}", value, "true or false")
            flags.append(value)
        out.append(_Candidate(lead_id, phone, *flags))
    return out


def register_stale(last: dt.datetime | None, at: dt.datetime, rewash: str | int, tz: dt.tzinfo) -> bool:
    """Is a register last imported at `last` too old at `at` under a preset's wash interval: "month" (guide
    3.2: washed in every calendar month calls are made, months read in `tz`) or a number of days?"""
    if last is None:
        return True
    if rewash == "month":
        a, b = last.astimezone(tz), at.astimezone(tz)
        return (a.year, a.month) != (b.year, b.month)
    return at - last >= dt.timedelta(days=int(rewash))


class _Screening:
    """One decision's screen of its candidates: the registers at `now` (a campaign with registers), then
    the caller's own `screen`; remembers the national-register exceptions it let through."""

    __slots__ = ("campaign", "at", "by_id", "caller", "registers", "excepted")

    def __init__(self, campaign: "LiveCampaign", now: float, candidates: list[_Candidate],
                 caller: Screen | None) -> None:
        self.campaign = campaign
        self.at = campaign._config.instant(now)
        self.by_id: dict[Any, _Candidate] = {}
        for c in candidates:
            self.by_id.setdefault(c.id, c)
        self.caller = caller
        self.registers = None if campaign._registers is None else campaign._current_registers()
        self.excepted: dict[Any, tuple[str, str]] = {}  # lead id -> (number hash, exception)

    @property
    def screen(self) -> Screen | None:
        return self._screen if self.registers is not None or self.caller is not None else None

    def _screen(self, lead: Hashable) -> str | None:
        if self.registers is not None:
            c = self.by_id.get(lead) or _Candidate(lead)
            value = c.phone if c.phone is not None else c.id
            hasher = self.campaign._hasher
            number = None
            if isinstance(value, str) and hasher is not None:
                try:
                    number = hasher.number(normalise(value))
                except ConfigError:
                    number = None
            if number is not None:
                v = self.registers.check(Lead(Person(number=number), existing_customer=c.existing_customer,
                                              express_request=c.express_request), self.at)
                if v.status is Status.BLOCKED or v.status is Status.UNCERTAIN:
                    return f"{v.register}: {v.reason}"
                if v.status is Status.EXCEPTED:
                    self.excepted[lead] = (number, v.exception or "")
        return None if self.caller is None else self.caller(lead)

    def granted(self, picks: Picks) -> list[list[str]]:
        """[number hash, exception] of each picked dial let through the national register by an exception."""
        return [list(self.excepted[d.lead]) for d in picks.dials if d.lead in self.excepted]


_COUNTS = ("attempted", "answered", "connected", "transferred", "abandoned")


class _Recorder:
    """A campaign's compliance records, batch by batch (`Records`): `before` an event is applied (the
    counts of the day it touches are noted), `after` it (its dial, or the outcome of the dial it
    ended), `take` at the end of the batch (the counts added to each day since noted). It keeps the
    calls in flight (call -> the entry of its DialPlaced and its day), which `replayed` rebuilds."""

    __slots__ = ("campaign", "calls", "before_counts", "dials", "outcomes", "breaks", "broken")

    def __init__(self, campaign: "LiveCampaign") -> None:
        self.campaign = campaign
        self.calls: dict[Hashable, tuple[int, Hashable]] = {}
        self.before_counts: dict[Hashable, tuple[int, ...]] = {}
        self.dials: list[DialRecord] = []
        self.outcomes: list[tuple[int, str]] = []
        self.breaks: list[tuple[int, dt.datetime, str]] = []
        self.broken = 0  # promise breaks the controller had counted before the event

    def _counts(self, day: Hashable) -> tuple[int, ...]:
        s = self.campaign._controller.stats.get(day)
        return (0,) * len(_COUNTS) if s is None else tuple(getattr(s, n) for n in _COUNTS)

    def before(self, ev: Event) -> None:
        self.broken = sum(self.campaign._controller.promise_breaks.values())
        if type(ev) is DialPlaced:
            day = self.campaign._controller.floor.day_of(ev.time)
        else:
            call = self.calls.get(getattr(ev, "call", None))  # (an agent's event counts nothing of norm 4.3)
            if call is None:
                return
            day = call[1]
        if day not in self.before_counts:
            self.before_counts[day] = self._counts(day)

    def after(self, ev: Event, seq: int, outcome: Outcome | None, number: str, exception: str | None) -> None:
        c = self.campaign._controller
        new = sum(c.promise_breaks.values()) - self.broken
        if new:  # the event broke a promise of the dialer's (it was applied: it happened)
            for t, kind, _who in list(c.breaks)[-new:]:
                self.breaks.append((seq, self.campaign._config.instant(t), kind))
        if type(ev) is DialPlaced:
            self.calls[ev.call] = (seq, self.campaign._controller.floor.day_of(ev.time))
            self.dials.append(DialRecord(seq, self.campaign._config.instant(ev.time), number, ev.agent is not None,
                                         exception))
        if outcome is not None:
            placed = self.calls.pop(ev.call, None)  # type: ignore[attr-defined]
            if placed is not None:
                self.outcomes.append((placed[0], outcome.value))

    def replayed(self, ev: Event, seq: int, outcome: Outcome | None) -> None:
        if type(ev) is DialPlaced:
            self.calls[ev.call] = (seq, self.campaign._controller.floor.day_of(ev.time))
        if outcome is not None:
            self.calls.pop(ev.call, None)  # type: ignore[attr-defined]

    def take(self) -> Records:
        days = {}
        for day, before in self.before_counts.items():
            added = {n: b - a for n, a, b in zip(_COUNTS, before, self._counts(day)) if b != a}
            if added:
                days[self.campaign._date(day)] = {n: added.get(n, 0) for n in _COUNTS}
        out = Records(self.campaign.name, self.dials, self.outcomes, days, self.breaks)
        self.before_counts, self.dials, self.outcomes, self.breaks = {}, [], [], []
        return out


class _Hours:
    """A campaign's calling window in its own seconds, the local day of the last question kept at hand
    (a dial placed is checked against it: one calendar question a day, not one a dial)."""

    __slots__ = ("config", "calendar", "day", "window")

    def __init__(self, config: CampaignConfig, calendar: Any) -> None:
        self.config = config
        self.calendar = calendar
        self.day = (math.inf, -math.inf)  # [start, end) of the local day kept, in the campaign's seconds
        self.window: tuple[float, float] | None = None  # its calling window, None: closed all day

    def allowed(self, t: float) -> bool:
        lo, hi = self.day
        if not lo <= t < hi:
            cfg, tz = self.config, self.calendar.tz
            date = cfg.instant(t).astimezone(tz).date()
            start = dt.datetime.combine(date, dt.time(0), tzinfo=tz)
            end = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
            self.day = (cfg.seconds(start), cfg.seconds(end))
            w = self.calendar.day(date)
            self.window = (cfg.seconds(w.opens), cfg.seconds(w.closes)) if w.open else None
        w = self.window
        return w is not None and w[0] <= t < w[1]


class _Body(dict):  # type: ignore[type-arg]
    """An event's wire dict that carries its canonical JSON text, so the journal need not encode it again."""

    __slots__ = ("json_text",)


def _day_key(item: tuple[Hashable, Any]) -> tuple[int, Any]:
    day = item[0]
    return (0, day) if isinstance(day, int) else (1, str(day))
