"""The live service's store: campaign configurations and their journals, durable before any answer.

Owns: five tables, through SQLAlchemy Core, on an SQLite file (the default,
WAL with synchronous=FULL, or NORMAL on request: `SQLITE_SYNC`) or on
PostgreSQL (``postgresql://user@host/db``): ``live_campaigns`` (the open
campaigns: key, configuration as JSON, creation order; the key is the name,
or "name#k" for the k-th campaign of a name once earlier ones were closed),
``live_archive`` (the closed ones; their journals stay until `retain_journals`),
``live_journal`` (per key, numbered entries ``seq`` 1, 2, ...: an applied
event with its id, unique per key; a decision asked at a time; a change of
dialing mode; a phone number only as its keyed hash, `journal_hasher`) and
``live_redial`` (the call centre's abandoned numbers, norm 4.6.3, shared by
its campaigns, hashed alike) and ``live_snapshot`` (an open campaign's state at
a journal position, `dialer.live.snapshot`: what a restart starts from, and
what `retain_journals` trims the journal up to). Beside them, in the
same database, the compliance records (`dialer.compliance.store`'s tables:
what `dialer audit` reads): a batch's `Records` (dial-log rows, outcomes,
norm 4.3 counts) are written in the transaction of the journal entries they
come from. Also the group commit, and SQLite's checkpoints run off the
request path.
One writer per store: opening a store takes a lock held until `close` (SQLite
a flock on `<file>.lock` beside it, PostgreSQL an advisory lock on a
connection of its own), so a second service on the same store refuses to start.
Must not know about: HTTP, the controller's logic.

    store = Store("live.sqlite")
    store.append("sales", 1, entries)        # returns once the entries are committed
    LiveCampaign.restore("sales", config, store.entries("sales"), journal=store)

How group commit and the checkpointer work: docs/design.md, "Wall-clock time
and the journal"; what they bought: BENCHMARKS.md, "Live service load".
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import math
import os
import secrets
import sqlite3
import threading
from urllib.parse import quote
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping, Protocol, Sequence

import sqlalchemy as sa
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, SQLAlchemyError

from dialer.compliance import store as records
from dialer.errors import ConfigError, bad
from dialer.files import STORE_FORMS, store_url
from dialer.live.campaign import Entry, Records, StoreError, pseudonymise
from dialer.live.wire import canonical
from dialer.rules import phone

if TYPE_CHECKING:
    from dialer.rules.dnc import Hasher

#: where the journal goes when no --store is given
DEFAULT_PATH = "dialer-live.sqlite"

#: SQLite's synchronous setting in WAL mode. "full" (the default): a commit is on disk before the
#: answer (it survives a crash of the machine). "normal": it is in the WAL file, which survives a
#: crash of the service process (kill -9) but not of the machine; commits are several times faster.
SQLITE_SYNC = ("full", "normal")

#: background checkpoints (SQLite): a PASSIVE one after this many commits, or this many seconds after
#: a commit, whichever comes first; and one holding the commit turn once the WAL holds RESTART_PAGES
#: pages (4 KiB each: 64 MiB), so that it starts over
CHECKPOINT_COMMITS = 200
CHECKPOINT_SECONDS = 1.0
RESTART_PAGES = 16000

metadata = sa.MetaData()

campaigns = sa.Table(
    "live_campaigns",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("created", sa.Integer, nullable=False),  # creation order
)

archive = sa.Table(
    "live_archive",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),  # the journal's campaign key: "name", "name#2", ...
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("created", sa.Integer, nullable=False),
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),  # entries at closing
    sa.Column("closed_at", sa.String(40), nullable=False),  # ISO 8601, UTC
)

journal = sa.Table(
    "live_journal",
    metadata,
    sa.Column("campaign", sa.String(200), primary_key=True),
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("event_id", sa.String(250)),  # the id as JSON text: "e1" and 1 are different ids
    sa.Column("body", sa.Text, nullable=False),
    sa.UniqueConstraint("campaign", "event_id", name="uq_live_journal_event"),
)


snapshots = sa.Table(
    "live_snapshot",
    metadata,
    sa.Column("campaign", sa.String(200), primary_key=True),  # the journal's key
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),  # the journal position
    sa.Column("format", sa.Integer, nullable=False),  # `dialer.live.snapshot.FORMAT` of the build that wrote it
    sa.Column("written_at", sa.String(40), nullable=False),  # ISO 8601, UTC
    sa.Column("state", sa.LargeBinary, nullable=False),
)

#: snapshots a campaign keeps while it runs: the newest, and the one before it (a snapshot of an
#: unknown format, written by a later build, then still has an older one beside it)
SNAPSHOTS_KEPT = 2


redial = sa.Table(
    "live_redial",
    metadata,
    sa.Column("number", sa.String(250), primary_key=True),  # the number's key as JSON text (a hash, or E.164)
    sa.Column("abandoned_at", sa.Float, nullable=False),  # Unix seconds of its last abandoned call
)


def _key(text: str) -> Any:
    """A number's key back from its JSON text (a string, a whole number, or a list for a tuple)."""
    k = json.loads(text)
    return tuple(k) if isinstance(k, list) else k


def retain_journals(url: str, cutoff: dt.datetime, *, delete: bool = False) -> dict[str, Any] | None:
    """The journal entries older than the retention `cutoff` (an aware instant) that a checkpoint covers.
    A closed campaign's, once it was closed before the cut (closing is its checkpoint: its journal is never
    replayed, its abandoned numbers are in ``live_redial``): all of them. An open campaign's: its entries
    from before the cut (by their own times, on the campaign's calendar) up to the position of its
    newest snapshot this build reads (a restart starts from it; the entries after it are replayed, so
    they stay), and its snapshots before that position (no restart can use them any more); its newest
    snapshot stays. With `delete`, they are deleted, in one transaction.
    Opens the database on its own (a serving process may hold the store); a database without the
    live tables has none (None). Returns {"campaigns", "entries" (closed ones), "open", "covered" (a list,
    per open campaign: key, "old" entries before the cut, "covered" of them up to the snapshot at
    "snapshot", "snapshots" older ones)}."""
    from dialer.live.config import CampaignConfig
    from dialer.live.snapshot import FORMAT

    engine = sa.create_engine(store_url(url))
    try:
        inspector = sa.inspect(engine)
        if not inspector.has_table(journal.name):
            return None
        with_snapshots = inspector.has_table(snapshots.name)
        when = cutoff.astimezone(dt.timezone.utc)
        with engine.begin() as c:
            keys = [r.key for r in c.execute(sa.select(archive.c.key, archive.c.closed_at))
                    if dt.datetime.fromisoformat(r.closed_at).astimezone(dt.timezone.utc) < when]
            entries = 0
            for key in keys:
                q = journal.c.campaign == key
                if delete:
                    entries += c.execute(journal.delete().where(q)).rowcount
                else:
                    entries += c.execute(sa.select(sa.func.count()).select_from(journal).where(q)).scalar_one()
            covered = []
            for row in c.execute(sa.select(campaigns.c.name, campaigns.c.config).order_by(campaigns.c.created)).all():
                try:
                    cut = CampaignConfig.from_dict(json.loads(row.config)).seconds(when)
                except (ConfigError, ValueError):
                    cut = -math.inf  # a configuration no longer valid: nothing of it is old enough to go
                covered.append(_retain_open(c, row.name, cut, FORMAT if with_snapshots else None, delete))
        return {"campaigns": len(keys), "entries": entries, "open": len(covered), "covered": covered}
    except SQLAlchemyError as err:
        shown = engine.url.render_as_string(hide_password=True)
        raise StoreError(f"store {shown!r}: {_first_line(err)}") from None
    finally:
        engine.dispose()


def _retain_open(c: Any, key: str, cut: float, fmt: int | None, delete: bool) -> dict[str, Any]:
    """One open campaign's part of `retain_journals`, in its transaction `c`: its entries before time `cut`
    (its journal is in time order: they come first), those of them up to its newest snapshot in format
    `fmt` (None: no snapshots table), and its snapshots before the position the journal is cut at."""
    old = 0  # entries before the cut: a prefix of the journal
    last_old = 0  # the position of the last of them
    t = -math.inf  # a configuration change has no time of its own: the time of the entry before it
    q = sa.select(journal.c.seq, journal.c.kind, journal.c.body).where(journal.c.campaign == key).order_by(journal.c.seq)
    rows = c.execute(q.execution_options(yield_per=5000))
    try:
        for r in rows:
            body = json.loads(r.body)
            t = body.get("time", t) if r.kind == "event" else body.get("now", t) if r.kind == "decide" else t
            if not t < cut:
                break
            old += 1
            last_old = r.seq
    finally:
        rows.close()
    snapshot = None
    older: list[int] = []
    if fmt is not None:
        readable = c.execute(sa.select(sa.func.max(snapshots.c.seq))
                             .where((snapshots.c.campaign == key) & (snapshots.c.format == fmt))).scalar_one()
        snapshot = readable
        upto = min(last_old, readable or 0)
        older = [r.seq for r in c.execute(sa.select(snapshots.c.seq)
                                          .where((snapshots.c.campaign == key) & (snapshots.c.seq < upto)))]
    else:
        upto = 0
    q = (journal.c.campaign == key) & (journal.c.seq <= upto)
    if delete and upto:
        n = c.execute(journal.delete().where(q)).rowcount
        if older:
            c.execute(snapshots.delete().where((snapshots.c.campaign == key) & snapshots.c.seq.in_(older)))
    else:
        n = c.execute(sa.select(sa.func.count()).select_from(journal).where(q)).scalar_one() if upto else 0
    return {"key": key, "old": old, "covered": n, "snapshot": snapshot, "snapshots": len(older)}


def _hash_clear_numbers(c: Any, key: Any) -> None:
    """Rewrite a journal written with numbers in clear: each DialPlaced's lead and phone, each decision's
    dials, each abandoned number, as `key` (a `NumberKey` with a hasher) has them (what is no number
    stays as it is)."""
    for r in c.execute(sa.select(journal.c.campaign, journal.c.seq, journal.c.body)
                       .where(journal.c.kind.in_(("event", "decide")))).all():
        body = json.loads(r.body)
        if not pseudonymise(body, key):
            continue
        c.execute(journal.update().where(journal.c.campaign == r.campaign, journal.c.seq == r.seq)
                  .values(body=canonical(body)))
    flags: dict[str, float] = {}
    for r in c.execute(sa.select(redial.c.number, redial.c.abandoned_at)).all():
        k = json.dumps(key(_key(r.number)), separators=(",", ":"))
        flags[k] = max(flags.get(k, r.abandoned_at), r.abandoned_at)
    c.execute(redial.delete())
    if flags:
        c.execute(redial.insert(), [{"number": k, "abandoned_at": at} for k, at in flags.items()])


def _put_flags(c: Any, flags: Iterable[tuple[Any, float]]) -> int:
    """`Store.put_redial_flags` in the transaction of `c`."""
    rows = {json.dumps(k, separators=(",", ":")): float(at) for k, at in flags}
    if not rows:
        return 0
    have = {r.number: r.abandoned_at for r in c.execute(sa.select(redial).where(redial.c.number.in_(list(rows)))).all()}
    new = [{"number": k, "abandoned_at": at} for k, at in rows.items() if k not in have]
    later = [(k, at) for k, at in rows.items() if k in have and at > have[k]]
    if new:
        c.execute(redial.insert(), new)
    for k, at in later:
        c.execute(redial.update().where(redial.c.number == k).values(abandoned_at=at))
    return len(new) + len(later)


def _first_line(err: BaseException) -> str:
    text = str(getattr(err, "orig", None) or err).strip()
    return text.splitlines()[0] if text else type(err).__name__


class Store:
    """Campaigns and journals in one database; `append` is the durable write the service waits for."""

    #: a batch's compliance records go with its entries (`append(..., records)`, see `LiveCampaign`)
    keeps_records = True

    def __init__(self, location: str | os.PathLike[str] | None = None, *, sqlite_sync: str = "full") -> None:
        if sqlite_sync not in SQLITE_SYNC:
            raise bad("sqlite_sync", sqlite_sync, f"one of {', '.join(SQLITE_SYNC)}")
        self.url = store_url(DEFAULT_PATH if location is None else location)
        try:
            url = sa.engine.make_url(self.url)
        except ArgumentError as err:
            raise bad("store", self.url, f"{STORE_FORMS} ({err})") from None
        self.shown = url.render_as_string(hide_password=True)
        self.sqlite = url.get_backend_name() == "sqlite"
        self._path = url.database or ""
        try:
            if self.sqlite:
                if url.database in (None, "", ":memory:"):
                    raise bad("store", self.shown, "a file (an in-memory SQLite database would not survive a restart)")
                self.engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
                sa.event.listen(self.engine, "connect", _sqlite_pragmas(sqlite_sync))
            else:
                # a server that does not answer is an error after 10 s, not a request that hangs
                args = {"connect_timeout": 10} if url.get_backend_name() == "postgresql" else {}
                self.engine = sa.create_engine(url, pool_pre_ping=True, connect_args=args)
        except (ArgumentError, NoSuchModuleError, ValueError, TypeError) as err:
            raise bad("store", self.shown, f"{STORE_FORMS} ({err})") from None
        self._dbapi_error = self.engine.dialect.loaded_dbapi.Error
        # one writer per store: a second process opening it is refused here, before anything is written
        self._writer: _WriterLock = _FileLock(self) if self.sqlite else _AdvisoryLock(self)
        try:
            metadata.create_all(self.engine)
            records.metadata.create_all(self.engine)  # the compliance records, beside the journal
            records.upgrade(self.engine)
        except SQLAlchemyError as err:
            self._writer.release()
            raise ConfigError(f"store {self.shown!r} cannot be opened: {_first_line(err)}") from None
        columns = [c.name for c in journal.columns]
        insert = journal.insert().compile(dialect=self.engine.dialect, column_keys=columns)
        self._insert_sql = str(insert)
        self._insert_keys = insert.positiontup  # None: the driver takes named parameters (the row dicts)
        self._records = {k: _Statement(v, self.engine.dialect)
                         for k, v in records.record_statements(self.engine.dialect).items()}
        self._queue: list[_Write] = []  # appends waiting for a commit
        self._wake = threading.Condition()
        self._committing = False  # a caller is committing a group now
        self._closing = False
        self._turn_wanted = False  # the checkpointer waits for the commit turn: no new group starts
        self._checkpointer = _Checkpointer(self, url.database, sqlite_sync) if self.sqlite else None

    def close(self) -> None:
        """Refuse new appends, wait for the commit in progress, stop checkpointing, close the connections."""
        with self._wake:
            self._closing = True
            while self._committing or self._queue:
                self._wake.wait()
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self.engine.dispose()
        self._writer.release()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- campaigns ---------------------------------------------------------------------

    def add_campaign(self, name: str, config: Mapping[str, Any], info: "records.CampaignInfo | None" = None) -> str:
        """Record a new campaign (and, in the same transaction, `info`: what it declares, for the
        audit); returns its key, under which its journal goes: the name, or "name#k" for the k-th
        campaign of that name once earlier ones were closed (`archive_campaign`).
        StoreError if the name is taken or the database refuses."""
        try:
            with self.engine.begin() as c:
                # creation order: after every campaign created so far, closed ones included
                n = max(c.execute(sa.select(sa.func.max(t.c.created))).scalar_one() or 0 for t in (campaigns, archive))
                closed = c.execute(sa.select(sa.func.count()).select_from(archive).where(archive.c.name == name)).scalar_one()
                key = name if closed == 0 else f"{name}#{closed + 1}"
                c.execute(campaigns.insert().values(name=key, config=json.dumps(dict(config)), created=n + 1))
                if info is not None:
                    records.write_info(c, info)
        except IntegrityError:
            raise StoreError(f"campaign {name!r} is already in the store") from None
        except SQLAlchemyError as err:
            raise StoreError(f"store {self.shown!r}: {_first_line(err)}") from None
        return key

    def archive_campaign(self, key: str, seq: int, closed_at: str) -> None:
        """Close a campaign: its row moves to the archive (with its journal position and when it was
        closed), in one transaction; its journal stays as it is, under its key. StoreError if not."""
        try:
            with self.engine.begin() as c:
                row = c.execute(sa.select(campaigns).where(campaigns.c.name == key)).one_or_none()
                if row is None:
                    raise StoreError(f"campaign {key!r} is not in the store")
                c.execute(archive.insert().values(key=key, name=key.partition("#")[0], config=row.config,
                                                  created=row.created, seq=seq, closed_at=closed_at))
                c.execute(campaigns.delete().where(campaigns.c.name == key))
                c.execute(snapshots.delete().where(snapshots.c.campaign == key))  # never restored again
        except SQLAlchemyError as err:
            raise StoreError(f"store {self.shown!r}: {_first_line(err)}") from None

    def archived(self) -> list[dict[str, Any]]:
        """The closed campaigns, oldest first: key (read its journal with `entries(key)`), name,
        configuration, journal position and when each was closed."""
        try:
            with self.engine.connect() as c:
                rows = c.execute(sa.select(archive).order_by(archive.c.closed_at, archive.c.key)).all()
        except SQLAlchemyError as err:
            raise StoreError(f"store {self.shown!r}: {_first_line(err)}") from None
        return [{"key": r.key, "name": r.name, "config": json.loads(r.config), "seq": r.seq, "closed_at": r.closed_at}
                for r in rows]

    def campaigns(self) -> list[tuple[str, dict[str, Any]]]:
        """Every open campaign, by key (see `add_campaign`), with the configuration it was created
        with, in creation order."""
        try:
            with self.engine.connect() as c:
                rows = c.execute(sa.select(campaigns.c.name, campaigns.c.config).order_by(campaigns.c.created)).all()
        except SQLAlchemyError as err:
            raise StoreError(f"store {self.shown!r}: {_first_line(err)}") from None
        return [(r.name, json.loads(r.config)) for r in rows]

    # --- the call centre's abandoned numbers (norm 4.6.3) ------------------------------------

    def redial_flags(self) -> dict[Any, float]:
        """Every number kept as abandoned: its key -> Unix seconds of its last abandoned call."""
        try:
            with self.engine.connect() as c:
                rows = c.execute(sa.select(redial.c.number, redial.c.abandoned_at)).all()
        except SQLAlchemyError as err:
            raise StoreError(f"store {self.shown!r}: {_first_line(err)}") from None
        return {_key(r.number): r.abandoned_at for r in rows}

    def put_redial_flags(self, flags: Iterable[tuple[Any, float]]) -> int:
        """Keep abandoned numbers (key, Unix seconds), the later instant of the stored and the given
        winning; returns how many rows were written. StoreError if the database refuses."""
        try:
            with self.engine.begin() as c:
                return _put_flags(c, flags)
        except SQLAlchemyError as err:
            raise StoreError(f"store {self.shown!r}: {_first_line(err)}") from None

    # --- snapshots of the open campaigns' state --------------------------------------------

    def put_snapshot(self, key: str, seq: int, fmt: int, state: bytes, flags: Iterable[tuple[Any, float]] = (),
                     *, keep: int = SNAPSHOTS_KEPT) -> None:
        """Keep a campaign's state at journal position `seq` (its entries up to `seq` are committed)
        in format `fmt`, with the call centre's abandoned numbers not yet kept (`flags`: a journal
        trimmed behind the snapshot no longer holds them), in one transaction; the campaign's
        snapshots but the newest `keep` are deleted. StoreError if the database refuses."""
        written_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        try:
            with self.engine.begin() as c:
                _put_flags(c, flags)
                c.execute(snapshots.delete().where((snapshots.c.campaign == key) & (snapshots.c.seq == seq)))
                c.execute(snapshots.insert().values(campaign=key, seq=seq, format=fmt, written_at=written_at,
                                                    state=state))
                old = [r.seq for r in c.execute(sa.select(snapshots.c.seq).where(snapshots.c.campaign == key)
                                                .order_by(snapshots.c.seq.desc())).all()][keep:]
                if old:
                    c.execute(snapshots.delete().where((snapshots.c.campaign == key) & snapshots.c.seq.in_(old)))
        except SQLAlchemyError as err:
            raise StoreError(f"store {self.shown!r}: {_first_line(err)}") from None

    def snapshots(self, key: str) -> list[tuple[int, int, bytes]]:
        """A campaign's snapshots, newest first: (journal position, format, state)."""
        q = (sa.select(snapshots.c.seq, snapshots.c.format, snapshots.c.state)
             .where(snapshots.c.campaign == key).order_by(snapshots.c.seq.desc()))
        try:
            with self.engine.connect() as c:
                return [(r.seq, r.format, bytes(r.state)) for r in c.execute(q).all()]
        except SQLAlchemyError as err:
            raise StoreError(f"store {self.shown!r}: {_first_line(err)}") from None

    def first_seq(self, key: str) -> int | None:
        """The position of a campaign's first journal entry still kept (1 unless trimmed; None: none kept)."""
        try:
            with self.engine.connect() as c:
                return c.execute(sa.select(sa.func.min(journal.c.seq)).where(journal.c.campaign == key)).scalar_one()
        except SQLAlchemyError as err:
            raise StoreError(f"store {self.shown!r}: {_first_line(err)}") from None

    # --- the journal ---------------------------------------------------------------------

    def append(self, campaign: str, first_seq: int, entries: Sequence[Entry], records: Records | None = None) -> None:
        """Write entries numbered first_seq, first_seq + 1, ... atomically, with the compliance
        `records` they make (in the same transaction); return once they are committed.

        A body that carries its JSON text (`json_text`: `LiveCampaign` keeps an event's canonical
        text for duplicate detection) is written as that text, so an event is encoded once.
        """
        rows = [
            {
                "campaign": campaign,
                "seq": first_seq + i,
                "kind": kind,
                "event_id": None if ev_id is None else json.dumps(ev_id),
                "body": getattr(body, "json_text", None) or json.dumps(body, separators=(",", ":"), allow_nan=False),
            }
            for i, (kind, ev_id, body) in enumerate(entries)
        ]
        write = _Write(rows, None if not records else self._record_params(campaign, records))
        with self._wake:
            if self._closing:
                raise StoreError(f"store {self.shown!r} is closed")
            self._queue.append(write)
            while not write.done:
                if self._committing or self._turn_wanted:  # wait for the commit (it may take this write along)
                    self._wake.wait()
                    continue
                # lead: commit everything queued now, this write and whoever queued meanwhile
                self._committing = True
                group, self._queue = self._queue, []
                self._wake.release()
                try:
                    self._commit(group)
                    if self._checkpointer is not None:
                        self._checkpointer.committed()
                except BaseException as err:  # never leave a follower waiting
                    for w in group:
                        if not w.done:
                            w.error = f"{type(err).__name__}: {err}".splitlines()[0]
                            w.done = True
                    raise
                finally:
                    self._wake.acquire()
                    self._committing = False
                    self._wake.notify_all()
        if write.error is not None:
            raise StoreError(f"store {self.shown!r}: {write.error}")

    def _record_params(self, campaign: str, r: Records) -> dict[str, list[Any]]:
        """A batch's records as the parameters of the record statements (`records.record_statements`)."""
        name = r.campaign
        dials = [{"campaign": name, "placed_at": d.placed_at.astimezone(_UTC).replace(tzinfo=None),
                  "number_hash": d.number, "outcome": None, "exception": d.exception, "reserved": d.reserved,
                  "simulated": False, "source": campaign, "journal_seq": d.seq} for d in r.dials]
        outcomes = [{"w_source": campaign, "w_seq": seq, "outcome": outcome} for seq, outcome in r.outcomes]
        days = [{"campaign": name, "day": day, **counts} for day, counts in r.days.items()]
        breaks = [{"campaign": name, "at": at.astimezone(_UTC).replace(tzinfo=None), "kind": kind, "source": campaign,
                   "journal_seq": seq} for seq, at, kind in r.breaks]
        out = {}
        for key, rows in (("dial", dials), ("outcome", outcomes), ("day", days), ("break", breaks)):
            if rows:
                out[key] = self._records[key].params(rows)
        return out

    def _commit(self, group: list["_Write"]) -> None:
        if len(group) > 1:
            try:
                self._insert([row for w in group for row in w.rows], [w.records for w in group if w.records])
            except (SQLAlchemyError, self._dbapi_error):
                pass  # one request may be at fault: write each on its own below
            else:
                for w in group:
                    w.done = True
                return
        for w in group:
            try:
                self._insert(w.rows, [w.records] if w.records else [])
            except (SQLAlchemyError, self._dbapi_error) as err:
                w.error = _first_line(err)
            w.done = True

    def _insert(self, rows: list[dict[str, Any]], with_records: Sequence[dict[str, list[Any]]] = ()) -> None:
        """One transaction: the rows inserted with the driver's executemany, the records' statements
        (dial-log rows first, then outcomes, then the day counts), then committed."""
        keys = self._insert_keys
        params: list[Any] = rows if keys is None else [tuple(r[k] for k in keys) for r in rows]
        raw = self.engine.raw_connection()  # pooled: the dialect's connect-time settings apply
        try:
            cur = raw.cursor()
            try:
                cur.executemany(self._insert_sql, params)
                for key in ("dial", "outcome", "day", "break"):
                    batch = [p for r in with_records for p in r.get(key, ())]
                    if batch:
                        cur.executemany(self._records[key].sql, batch)
            finally:
                cur.close()
            raw.commit()
        except BaseException:
            try:
                raw.rollback()
            except Exception:  # the connection is broken: the pool replaces it
                raw.invalidate()
            raise
        finally:
            raw.close()

    # --- the journal's key: no phone number kept in clear ---------------------------------

    def journal_hasher(self, hasher: "Hasher | None" = None) -> "Hasher":
        """The keyed hash the journal and the abandoned numbers keep phone numbers under (the number
        key's, `dialer.rules.phone.number_key`): chosen once for the store's life, when a service first
        opens it: the register secret's `hasher` if given, else a random key kept in the store. A store
        whose journal was written before (numbers in clear) has them hashed here, once, in one
        transaction. ConfigError if the journal is keyed on the register secret and `hasher` is not it."""
        from dialer.rules.dnc import Hasher

        meta = records.meta
        try:
            with self.engine.begin() as c:
                row = c.execute(sa.select(meta.c.value).where(meta.c.key == "journal_key")).first()
                if row is not None:
                    how, _, value = row[0].partition(":")
                    if how == "local":
                        return Hasher(bytes.fromhex(value))
                    if hasher is None or hasher.fingerprint != value:
                        raise ConfigError(
                            f"store {self.shown!r}: its journal keeps phone numbers hashed with the register "
                            "secret" + (": start with that secret (DIALER_DNC_SECRET or --secret-file)"
                                        if hasher is None else ", and this is another one (DIALER_DNC_SECRET)"))
                    return hasher
                if hasher is None:
                    key = secrets.token_bytes(32)
                    chosen, value = Hasher(key), "local:" + key.hex()
                else:
                    chosen, value = hasher, "secret:" + hasher.fingerprint
                _hash_clear_numbers(c, phone.number_key(chosen))
                c.execute(meta.insert().values(key="journal_key", value=value))
                return chosen
        except SQLAlchemyError as err:
            raise StoreError(f"store {self.shown!r}: {_first_line(err)}") from None

    def check_key(self, fingerprint: str) -> None:
        """The compliance records' check of the register secret (`dialer.compliance.store.Store.check_key`):
        remembered on first use, a different one refused (ConfigError)."""
        with records.Store(self.url, create=False) as st:
            st.check_key(fingerprint)

    def checkpoint_counts(self) -> dict[str, int] | None:
        """Checkpoints run, WAL restarts and failed checkpoints since the store opened (None: not SQLite)."""
        ck = self._checkpointer
        return None if ck is None else {"checkpoints": ck.checkpoints, "restarts": ck.restarts, "failures": ck.failures}

    def hold_commits(self) -> "_Turn":
        """A context in which no group commit runs (the checkpointer takes the commit turn with it)."""
        return _Turn(self)

    def entries(self, campaign: str, after: int = 0) -> Iterator[tuple[int, str, Any, dict[str, Any]]]:
        """The campaign's journal in order, from the entry after position `after`: (seq, kind, event id
        or None, body)."""
        q = (
            sa.select(journal.c.seq, journal.c.kind, journal.c.event_id, journal.c.body)
            .where((journal.c.campaign == campaign) & (journal.c.seq > after))
            .order_by(journal.c.seq)
        )
        try:
            with self.engine.connect() as c:
                for r in c.execute(q).yield_per(5000):
                    yield r.seq, r.kind, None if r.event_id is None else json.loads(r.event_id), json.loads(r.body)
        except SQLAlchemyError as err:
            raise StoreError(f"store {self.shown!r}: {_first_line(err)}") from None

    def ping(self) -> None:
        """A round trip to the store (readiness): StoreError if it cannot be reached or read.

        SQLite: a fresh connection to the file and a read of the campaigns table (the pooled
        connections keep the file open and would not notice it moved or became unreadable);
        PostgreSQL: a read on a pooled connection, checked (and replaced) first by the pool, and
        one on the writer lock's connection (taken again if the server restarted).
        """
        try:
            if self.sqlite:
                conn = sqlite3.connect(f"file:{quote(self._path)}?mode=rw", uri=True, timeout=5)
                try:
                    conn.execute("SELECT count(*) FROM live_campaigns").fetchone()
                finally:
                    conn.close()
            else:
                with self.engine.connect() as c:
                    c.execute(sa.select(sa.func.count()).select_from(campaigns)).scalar_one()
            self._writer.check()
        except (sqlite3.Error, SQLAlchemyError) as err:
            raise StoreError(f"store {self.shown!r} cannot be reached: {_first_line(err)}") from None
        except ConfigError as err:  # the writer's lock was lost and could not be taken again
            raise StoreError(str(err)) from None

    def count_events(self, campaign: str) -> int:
        with self.engine.connect() as c:
            q = sa.select(sa.func.count()).select_from(journal).where(
                (journal.c.campaign == campaign) & (journal.c.kind == "event"))
            return int(c.execute(q).scalar_one())


class _WriterLock(Protocol):
    def check(self) -> None: ...

    def release(self) -> None: ...


def _in_use(store: Store, how: str) -> ConfigError:
    return ConfigError(f"store {store.shown!r} is in use by another service ({how}); one service process per store")


class _FileLock:
    """SQLite: an exclusive `flock` on the file `<database>.lock` beside it, held while the store is open.

    The kernel drops it when the process ends, however it ends (kill -9 included), so a stale
    lock file is harmless. SQLite's own locks are per transaction; this one is per writer.
    """

    def __init__(self, store: Store) -> None:
        self.path = store._path + ".lock"
        try:
            self.fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as err:
            raise ConfigError(f"store {store.shown!r} cannot be opened: {self.path}: {err.strerror}") from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self.fd)
            self.fd = None
            raise _in_use(store, f"{self.path} is locked") from None

    def check(self) -> None:
        """Nothing to do: a lock on an open descriptor cannot be lost."""

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor releases the lock
            self.fd = None


#: the PostgreSQL advisory lock key that marks a database as a live store's (a fixed 64-bit number)
ADVISORY_KEY = int.from_bytes(hashlib.blake2b(b"dialer.live.store writer", digest_size=8).digest(), "big", signed=True)


class _AdvisoryLock:
    """PostgreSQL: `pg_try_advisory_lock` held on a connection of its own while the store is open.

    Advisory locks are per database, so this is one writer per database. The server drops the
    lock with the connection, so a killed service leaves nothing behind.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn: Any = None
        self.held = False
        self._mutex = threading.Lock()
        self._take()

    def _take(self) -> None:
        store = self.store
        try:
            self.conn = store.engine.raw_connection()
            self.conn.detach()  # out of the pool: this connection is the lock's alone, closed by `release`
            cur = self.conn.cursor()
            cur.execute(f"SELECT pg_try_advisory_lock({ADVISORY_KEY})")  # a constant: no parameter needed
            (held,) = cur.fetchone()
            cur.close()
            self.conn.commit()  # the lock is the session's; no transaction stays open
        except (SQLAlchemyError, store._dbapi_error) as err:
            self.release()
            raise ConfigError(f"store {store.shown!r} cannot be opened: {_first_line(err)}") from None
        if not held:
            self.release()
            raise _in_use(store, f"PostgreSQL advisory lock {ADVISORY_KEY} is held")
        self.held = True

    def check(self) -> None:
        """A round trip on the lock's connection; if it was lost (the server restarted), take the
        lock again: ConfigError if another process took it meanwhile."""
        with self._mutex:
            try:
                cur = self.conn.cursor()
                cur.execute("SELECT 1")
                cur.close()
                self.conn.commit()
            except (self.store._dbapi_error, AttributeError):
                self.release()
                self._take()

    def release(self) -> None:
        conn, self.conn = self.conn, None
        held, self.held = self.held, False
        if conn is not None:
            try:
                if held:
                    # unlocked before the close: the server drops a closed session's locks only once
                    # its backend has gone, and a store opened again at once would find it held
                    cur = conn.cursor()
                    cur.execute(f"SELECT pg_advisory_unlock({ADVISORY_KEY})")
                    cur.close()
                    conn.commit()
            except Exception:
                pass  # a lost connection: the server drops the lock with the session
            try:
                conn.close()
            except Exception:
                pass


class _Write:
    """One `append` in the queue: its rows and records' parameters, and the outcome (done, error None: committed)."""

    __slots__ = ("rows", "records", "done", "error")

    def __init__(self, rows: list[dict[str, Any]], records: dict[str, list[Any]] | None = None) -> None:
        self.rows = rows
        self.records = records
        self.done = False
        self.error: str | None = None


_UTC = dt.timezone.utc


class _Statement:
    """A statement compiled once for the store's dialect, run through the driver's `executemany`: its
    SQL, and `params` turning row dicts into the driver's parameters (the types' bind conversions
    applied: SQLite keeps dates and instants as text, booleans as 0 and 1)."""

    def __init__(self, statement: Any, dialect: Any) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.keys = compiled.positiontup  # None: named parameters
        self.convert = {name: proc for name, bind in compiled.binds.items()
                        if (proc := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None}

    def params(self, rows: list[dict[str, Any]]) -> list[Any]:
        convert = self.convert
        if convert:
            rows = [r if convert.keys().isdisjoint(r) else
                    {k: (convert[k](v) if v is not None and k in convert else v) for k, v in r.items()} for r in rows]
        return rows if self.keys is None else [tuple(r[k] for k in self.keys) for r in rows]


class _Turn:
    """The commit turn, taken like a group's leader takes it: followers queue until it is given back."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> None:
        st = self.store
        with st._wake:
            st._turn_wanted = True  # else back-to-back groups could keep the turn from it for good
            while st._committing:
                st._wake.wait()
            st._committing = True
            st._turn_wanted = False

    def __exit__(self, *exc: object) -> None:
        st = self.store
        with st._wake:
            st._committing = False
            st._wake.notify_all()


class _Checkpointer:
    """SQLite's WAL checkpoints off the request path (docs/design.md, "Wall-clock time and the journal"), on a daemon thread."""

    def __init__(self, store: Store, path: str, sync: str) -> None:
        self.store = store
        self.conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        _apply_pragmas(self.conn, sync)
        self.commits = 0  # since the last checkpoint
        self.checkpoints = 0
        self.restarts = 0
        self.failures = 0
        self._due = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="dialer-store-checkpoint", daemon=True)
        self._thread.start()

    def committed(self) -> None:
        with self._due:
            self.commits += 1
            if self.commits == 1 or self.commits >= CHECKPOINT_COMMITS:
                self._due.notify()

    def stop(self) -> None:
        with self._due:
            self._stopping = True
            self._due.notify()
        self._thread.join()
        self.conn.close()

    def _run(self) -> None:
        while True:
            with self._due:
                while not self._stopping and self.commits == 0:
                    self._due.wait()
                if not self._stopping and self.commits < CHECKPOINT_COMMITS:  # a few commits: wait a while
                    self._due.wait(CHECKPOINT_SECONDS)
                if self._stopping:
                    return
                self.commits = 0
            try:
                self.checkpoint()
            except sqlite3.Error:
                self.failures += 1  # SQLite tries again at the next one; commits are not affected

    def checkpoint(self) -> tuple[int, int]:
        """A PASSIVE checkpoint; if the WAL is long, a second one holding the commit turn, so it restarts.
        Returns (pages in the WAL, pages copied) from the first."""
        _busy, pages, copied = self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.checkpoints += 1
        if pages >= RESTART_PAGES:
            with self.store.hold_commits():
                self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            self.restarts += 1
        return pages, copied


def _apply_pragmas(conn: Any, sync: str) -> None:
    cur = conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA synchronous={sync.upper()}")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA wal_autocheckpoint=0")  # `_Checkpointer` does them, off the request path
    cur.close()


def _sqlite_pragmas(sync: str) -> Any:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        _apply_pragmas(dbapi_conn, sync)

    return on_connect
