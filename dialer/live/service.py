"""The campaigns a service process holds, and their store: everything the HTTP layer calls.

Owns: `Service`, a registry of `LiveCampaign`s by name; creating a campaign
(recorded in the store first), finding one (an unknown name is
`UnknownCampaign`), closing one (its journal archived in the store, the
name free again: a campaign created again journals under "name#2", ...),
rebuilding every open campaign from the store when the process starts
(from its newest snapshot and the entries after it), or a single one whose
journal write failed, writing those snapshots, and `Changes`: which campaigns
changed since a version, which the board's event streams wait on.

Must not know about: HTTP (status codes, requests), the controller's clock
(the one wall-clock reading here is when a campaign was closed, for the
record). The FastAPI app (`dialer.live.app`) maps the errors raised here
onto status codes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import threading
from typing import Any, Mapping, Sequence

from dialer.checks import OrNone, Whole, check
from dialer.core.guards import AbandonedNumbers
from dialer.core.solver import PacingSolver
from dialer.errors import ConfigError, DialerError, ProtocolError, bad
from dialer.compliance.store import CampaignInfo
from dialer.live.campaign import (MAX_SKEW, Entry, Journal, LiveCampaign, Records, RegisterSource, StoreError,
                                  check_skew)
from dialer.live.config import CampaignConfig
from dialer.live.snapshot import FORMAT, SnapshotError
from dialer.live.store import Store
from dialer.live.warmer import Warmer
from dialer.rules import phone
from dialer.rules.dnc import Hasher

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")

#: a snapshot of an open campaign's state every this many journal entries (`dialer serve --snapshot-every`)
SNAPSHOT_EVERY = 10_000
_SNAPSHOT_EVERY = OrNone(Whole(1), meaning="no snapshots")

log = logging.getLogger(__name__)


class UnknownCampaign(DialerError):
    """No campaign by that name."""


class _Keyed:
    """The store's journal under a campaign's key, for a campaign created again after a close."""

    __slots__ = ("store", "key")
    keeps_records = True

    def __init__(self, store: Store, key: str) -> None:
        self.store, self.key = store, key

    def append(self, campaign: str, first_seq: int, entries: Sequence[Entry], records: Records | None = None) -> None:
        self.store.append(self.key, first_seq, entries, records)


class CampaignExists(ProtocolError):
    """A campaign by that name exists with another configuration."""


class Changes:
    """A version that moves each time a campaign of the service changes (events or a decision
    journaled, its configuration changed, created, closed), and which campaigns moved it.

    Written from any thread (the routes run in a thread pool); awaited by the board's streams on
    their event loop (`wait`), which wakes on a change instead of polling. `close` wakes every
    waiter for good (the server is stopping: the streams end, so that it can).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.version = 0
        self.closed = False
        self._moved: dict[str, int] = {}  # campaign -> the version of its last change
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def note(self, name: str) -> None:
        with self._lock:
            self.version += 1
            self._moved[name] = self.version
            waiters, self._waiters = self._waiters, []
        _wake(waiters)

    def since(self, version: int) -> tuple[int, list[str]]:
        """The version now and the campaigns that changed after `version`."""
        with self._lock:
            return self.version, [n for n, v in self._moved.items() if v > version]

    async def wait(self, version: int, timeout: float) -> int:
        """Wait until the version passes `version`, at most `timeout` seconds; the version then."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self.version > version or self.closed:
                return self.version
            self._waiters.append((loop, fut))
        try:
            await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            with self._lock:
                if (loop, fut) in self._waiters:
                    self._waiters.remove((loop, fut))
        return self.version

    def close(self) -> None:
        with self._lock:
            self.closed = True
            waiters, self._waiters = self._waiters, []
        _wake(waiters)


def _wake(waiters: list[tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]"]]) -> None:
    for loop, fut in waiters:
        try:
            loop.call_soon_threadsafe(_done, fut)
        except RuntimeError:  # its loop is closed: nobody is waiting any more
            pass


def _done(fut: "asyncio.Future[None]") -> None:
    if not fut.done():
        fut.set_result(None)


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise bad("campaign", name, "1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit")
    return name


class Service:
    """Campaigns by name, each journaled to `store` (None: in memory only, nothing survives a restart).

    `hasher`: the keyed hash of phone numbers (the register secret's, `dialer.rules.dnc.Hasher`): the
    dial log's numbers are hashed with it (without one the dial log has no numbers to check).
    `registers`: the do-not-call registers its campaigns under a preset screen every candidate against
    (`dialer.live.registers.RegisterView`, with the same hasher; None: no screening).
    `snapshot_every`: each open campaign's state is kept in the store every this many journal
    entries (and by `snapshot_all`, at shutdown), so that a restart replays only the entries after
    it and `dialer stats retain` may delete the ones before it (None: never)."""

    def __init__(self, store: Store | None = None, *, policy_cache: bool = True,
                 solver: PacingSolver | None = None, max_skew: float = MAX_SKEW, hasher: Hasher | None = None,
                 registers: RegisterSource | None = None, snapshot_every: int | None = SNAPSHOT_EVERY) -> None:
        self.snapshot_every = check("snapshot_every", snapshot_every, _SNAPSHOT_EVERY)
        self.store = store
        self.registers = registers
        self.hasher = hasher if hasher is not None or registers is None else registers.hasher
        self.max_skew = check_skew(max_skew)
        self._lock = threading.Lock()
        self._campaigns: dict[str, LiveCampaign] = {}
        self._keys: dict[str, str] = {}  # name -> its journal's key in the store ("name#2" once one was closed)
        self._warmer: Warmer | None = None
        if solver is None:
            # the Predictive pacers of this service solve off the decision path, in a worker process
            # (dialer.live.warmer), which reads the disk cache now and keeps what it solves there
            solver = PacingSolver(wait=False)
            self._warmer = Warmer(solver, cache=policy_cache)
        self.solver = solver
        # norm 4.6.3 across the call centre: one memory of abandoned numbers for every campaign of the
        # store, kept in it (written at a campaign's close and at shutdown; until then the journals,
        # replayed below, hold every abandon), keyed on the number whatever its spelling
        # keyed on the number's hash in a store (the journal and these keep no number in clear: the key is
        # the register secret's, or the store's own, `Store.journal_hasher`)
        self.number_key = phone.number_key(store.journal_hasher(self.hasher) if store is not None else None)
        self.numbers = AbandonedNumbers(store.redial_flags() if store is not None else None)
        self._unsaved_flags: dict[Any, float] = {}
        self._flags_lock = threading.Lock()  # taken last: never held while another lock is taken
        self.numbers.on_abandon = self._note_abandon
        self.changes = Changes()  # what the board's streams wait on
        if store is not None:
            for key, config in store.campaigns():
                name = key.partition("#")[0]
                self._keys[name] = key
                self._campaigns[name] = self._restore(name, config)

    @property
    def warmer(self) -> Warmer | None:
        """The worker that solves this service's policies (None when the caller gave its own solver)."""
        return self._warmer

    def _note_abandon(self, key: Any, at: float) -> None:
        with self._flags_lock:
            last = self._unsaved_flags.get(key)
            if last is None or at > last:
                self._unsaved_flags[key] = at

    def flush_flags(self) -> int:
        """Write the numbers abandoned since the last flush to the store; returns how many."""
        if self.store is None or not self._unsaved_flags:
            return 0
        with self._flags_lock:
            flags, self._unsaved_flags = list(self._unsaved_flags.items()), {}
        try:
            return self.store.put_redial_flags(flags)
        except StoreError:
            with self._flags_lock:  # kept for the next flush; the journals hold them meanwhile
                for k, at in flags:
                    self._unsaved_flags.setdefault(k, at)
            raise

    # --- snapshots of the campaigns' state --------------------------------------------------

    def write_snapshot(self, campaign: LiveCampaign) -> int:
        """Keep `campaign`'s state in the store now (`LiveCampaign.snapshot`), with the numbers abandoned
        and not yet kept (a journal trimmed behind the snapshot no longer holds them); returns its
        journal position. StoreError or SnapshotError if it could not be written."""
        assert self.store is not None
        seq, state = campaign.snapshot()
        with self._flags_lock:
            flags = list(self._unsaved_flags.items())
        self.store.put_snapshot(self._keys.get(campaign.name, campaign.name), seq, FORMAT, state, flags)
        campaign.snapshot_seq = seq
        return seq

    def _snapshot_due(self, campaign: LiveCampaign) -> None:
        try:
            self.write_snapshot(campaign)
        except DialerError as err:  # the batch was committed: a failed snapshot only waits for the next one
            log.warning("dialer: campaign %r: snapshot at entry %d not written (%s); the journal holds "
                        "everything", campaign.name, campaign.seq, err)

    def snapshot_all(self) -> int:
        """A snapshot of every open campaign journaled since its last one (`dialer serve` at shutdown);
        returns how many were written. One that fails is said in the log; the others are written."""
        written = 0
        if self.store is None or self.snapshot_every is None:
            return 0
        for c in self.all():
            if c.seq > c.snapshot_seq and not c.stale and not c.closed:
                try:
                    self.write_snapshot(c)
                    written += 1
                except DialerError as err:
                    log.warning("dialer: campaign %r: snapshot not written at shutdown (%s); the journal "
                                "holds everything", c.name, err)
        return written

    def shutdown(self) -> None:
        """Stop the worker, saving what it solved (`dialer serve` calls it when it stops, after
        `flush_flags` and before closing the store)."""
        if self._warmer is not None:
            self._warmer.close()

    def _journal(self, name: str) -> Journal:
        assert self.store is not None
        key = self._keys[name]
        return self.store if key == name else _Keyed(self.store, key)

    def _restore(self, name: str, config: Mapping[str, Any]) -> LiveCampaign:
        """A campaign from the store: its newest snapshot this build reads, and the journal entries after it;
        the whole journal when no snapshot can be used and the journal still starts at entry 1."""
        store = self.store
        assert store is not None
        try:
            cfg = CampaignConfig.from_dict(config)
        except ConfigError as err:
            raise StoreError(f"campaign {name!r}: stored configuration no longer valid: {err}") from None
        key = self._keys[name]
        given = dict(journal=self._journal(name), solver=self.solver, max_skew=self.max_skew, numbers=self.numbers,
                     number_key=self.number_key, hasher=self.hasher, registers=self.registers)
        snaps = store.snapshots(key)
        first = store.first_seq(key)
        # where the journal kept starts: entry 1, or after the position it was trimmed to (a journal
        # trimmed to its newest snapshot may keep no entry at all)
        start = first if first is not None else (snaps[0][0] + 1 if snaps else 1)
        why_not: dict[int, str] = {}  # the snapshots not used, by position: why
        c = None
        for seq, fmt, state in snaps:
            if fmt != FORMAT:
                why_not[seq] = f"has format {fmt}, while this build reads format {FORMAT}"
                continue
            if start > seq + 1:  # the entries after it were deleted: it cannot be used
                continue
            try:
                c = LiveCampaign.restore(name, cfg, store.entries(key, after=seq), snapshot=(seq, state), **given)
            except SnapshotError as err:
                why_not[seq] = f"cannot be read ({err})"
                continue
            break
        if c is None:
            if start > 1:  # never from an empty state: the entries the snapshot stood for are gone
                there = [seq for seq in why_not if seq >= start - 1]
                why = f"its snapshot there {why_not[there[0]]}" if there else "no snapshot of it is kept"
                raise StoreError(f"campaign {name!r} cannot be restored: its journal was deleted up to entry "
                                 f"{start - 1}, and {why} (start the build that wrote it; never this one from "
                                 "an empty state)")
            skipped = [f"the snapshot at entry {seq} {why}" for seq, why in why_not.items()]
            if skipped:
                log.warning("dialer: campaign %r: %s: replaying its whole journal instead", name, "; ".join(skipped))
            c = LiveCampaign.restore(name, cfg, store.entries(key), **given)
        self._watch(c)
        return c

    def _watch(self, c: LiveCampaign) -> None:
        c.on_change = self.changes.note
        if self.store is not None and self.snapshot_every is not None:
            c.snapshot_every = self.snapshot_every
            c.on_snapshot = self._snapshot_due

    def create(self, name: str, config: Mapping[str, Any]) -> tuple[LiveCampaign, bool]:
        """Create a campaign (True) or return the existing one if its configuration is the same (False)."""
        check_name(name)
        cfg = CampaignConfig.from_dict(config)
        with self._lock:
            have = self._campaigns.get(name)
            if have is not None:
                if have.initial.to_dict() != cfg.to_dict():
                    raise CampaignExists(
                        f"campaign {name!r} exists with another configuration; change its mode, pacer or lines "
                        "with PATCH, or use another name"
                    )
                return have, False
            journal = None
            if self.store is not None:
                self._keys[name] = self.store.add_campaign(name, cfg.to_dict(), self._info(name, cfg))
                journal = self._journal(name)
            c = LiveCampaign(cfg, name=name, journal=journal, solver=self.solver, max_skew=self.max_skew,
                             numbers=self.numbers, number_key=self.number_key, hasher=self.hasher,
                             registers=self.registers)
            self._watch(c)
            self._campaigns[name] = c
        self.changes.note(name)
        return c, True

    def _info(self, name: str, cfg: CampaignConfig) -> CampaignInfo:
        """What a campaign declares, for the audit (recorded with the campaign)."""
        screening = None if cfg.preset is None else self.registers is not None
        return CampaignInfo(name, "live", cfg.preset, cfg.timezone, cfg.caller_id, screening)

    def get(self, name: str) -> LiveCampaign:
        with self._lock:
            return self._get(name)

    def _get(self, name: str) -> LiveCampaign:
        c = self._campaigns.get(name)
        if c is None:
            check_name(name)  # a malformed name is 422, naming the rule; a good one unknown, 404
            raise UnknownCampaign(f"campaign {name!r} does not exist")  # never the other campaigns' names
        if c.stale and self.store is not None:  # its last journal write failed: rebuild from what is stored
            c = self._restore(name, c.initial.to_dict())
            self._campaigns[name] = c
        return c

    def close(self, name: str) -> dict[str, Any]:
        """Close a campaign: its journal is archived in the store (kept until `dialer stats retain`), it is
        forgotten here, and the name may be created again, afresh. Returns what was archived:
        the name, the key its journal is kept under, the journal position and when (UTC)."""
        with self._lock:
            c = self._get(name)
            closed_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
            key = self._keys.get(name, name)
            store = self.store

            def archive(seq: int) -> None:
                if store is not None:
                    store.archive_campaign(key, seq, closed_at)

            seq = c.close(archive)
            del self._campaigns[name]
            if store is not None:  # its abandoned numbers outlive it (norm 4.6.3: for ever)
                with self._flags_lock:
                    flags, self._unsaved_flags = list(self._unsaved_flags.items()), {}
                store.put_redial_flags(flags)
            self._keys.pop(name, None)
            self.changes.note(name)
            return {"name": name, "archived_as": key if store is not None else None, "seq": seq,
                    "closed_at": closed_at}

    def names(self) -> list[str]:
        with self._lock:
            return list(self._campaigns)

    def all(self) -> list[LiveCampaign]:
        with self._lock:
            return list(self._campaigns.values())

