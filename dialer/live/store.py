"""The live service's store: campaign configurations and their journals, durable before any answer.

Owns: two tables, through SQLAlchemy Core, so the same code runs on an
SQLite file (the default, in WAL mode with synchronous=FULL: a committed
batch survives a crash of the process and of the machine; NORMAL on request,
see `SQLITE_SYNC`) and on PostgreSQL
(``postgresql://user@host/db``):

- ``live_campaigns``: name, configuration (JSON) and creation order;
- ``live_journal``: per campaign, numbered entries (``seq`` 1, 2, ...): an
  applied event with its id, a decision asked at a time, or a change of
  dialing mode. ``(campaign, event_id)`` is unique, so an event id can never
  be stored twice even if the service's own check were bypassed.

`append` writes a batch in one transaction and returns only once it is
committed: the service answers after that. Replaying a campaign's entries in
order rebuilds its controller exactly (`LiveCampaign.restore`).

Must not know about: HTTP, the controller's logic, threads beyond what the
engine's connection pool does. One service process per store.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, SQLAlchemyError

from dialer.errors import ConfigError, bad
from dialer.live.campaign import Entry, StoreError

#: where the journal goes when no --store is given
DEFAULT_PATH = "dialer-live.sqlite"

#: SQLite's synchronous setting in WAL mode. "full" (the default): a commit is on disk before the
#: answer (it survives a crash of the machine). "normal": it is in the WAL file, which survives a
#: crash of the service process (kill -9) but not of the machine; commits are several times faster.
SQLITE_SYNC = ("full", "normal")

metadata = sa.MetaData()

campaigns = sa.Table(
    "live_campaigns",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("created", sa.Integer, nullable=False),  # creation order
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


def store_url(location: str | os.PathLike[str] | None) -> str:
    """A database URL from a URL, a file path (SQLite) or None (the default file)."""
    text = os.fspath(location if location is not None else DEFAULT_PATH)
    if "://" in text:
        if text.startswith(("postgresql://", "postgres://")):
            text = "postgresql+psycopg://" + text.split("://", 1)[1]  # the driver the project installs
        return text
    return "sqlite:///" + str(Path(text).expanduser().resolve())


def _first_line(err: BaseException) -> str:
    text = str(getattr(err, "orig", None) or err).strip()
    return text.splitlines()[0] if text else type(err).__name__


class Store:
    """Campaigns and journals in one database; `append` is the durable write the service waits for."""

    def __init__(self, location: str | os.PathLike[str] | None = None, *, sqlite_sync: str = "full") -> None:
        if sqlite_sync not in SQLITE_SYNC:
            raise bad("sqlite_sync", sqlite_sync, f"one of {', '.join(SQLITE_SYNC)}")
        self.url = store_url(location)
        try:
            url = sa.engine.make_url(self.url)
        except ArgumentError as err:
            raise bad("store", self.url, f"a database URL (sqlite:///PATH, postgresql://...) or a file path ({err})") from None
        self.shown = url.render_as_string(hide_password=True)
        self.sqlite = url.get_backend_name() == "sqlite"
        try:
            if self.sqlite:
                if url.database in (None, "", ":memory:"):
                    raise bad("store", self.shown, "a file (an in-memory SQLite database would not survive a restart)")
                self.engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
                sa.event.listen(self.engine, "connect", _sqlite_pragmas(sqlite_sync))
            else:
                self.engine = sa.create_engine(url, pool_pre_ping=True)
        except (ArgumentError, NoSuchModuleError, ValueError, TypeError) as err:
            raise bad("store", self.shown, f"a database URL (sqlite:///PATH, postgresql://...) or a file path ({err})") from None
        try:
            metadata.create_all(self.engine)
        except SQLAlchemyError as err:
            raise ConfigError(f"store {self.shown!r} cannot be opened: {_first_line(err)}") from None

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- campaigns ---------------------------------------------------------------------

    def add_campaign(self, name: str, config: Mapping[str, Any]) -> None:
        """Record a new campaign; StoreError if the name is taken or the database refuses."""
        try:
            with self.engine.begin() as c:
                n = c.execute(sa.select(sa.func.count()).select_from(campaigns)).scalar_one()
                c.execute(campaigns.insert().values(name=name, config=json.dumps(dict(config)), created=n + 1))
        except IntegrityError:
            raise StoreError(f"campaign {name!r} is already in the store") from None
        except SQLAlchemyError as err:
            raise StoreError(f"store {self.shown!r}: {_first_line(err)}") from None

    def campaigns(self) -> list[tuple[str, dict[str, Any]]]:
        """Every campaign with the configuration it was created with, in creation order."""
        try:
            with self.engine.connect() as c:
                rows = c.execute(sa.select(campaigns.c.name, campaigns.c.config).order_by(campaigns.c.created)).all()
        except SQLAlchemyError as err:
            raise StoreError(f"store {self.shown!r}: {_first_line(err)}") from None
        return [(r.name, json.loads(r.config)) for r in rows]

    # --- the journal ---------------------------------------------------------------------

    def append(self, campaign: str, first_seq: int, entries: Sequence[Entry]) -> None:
        """Write entries numbered first_seq, first_seq + 1, ... in one transaction (committed on return)."""
        rows = [
            {
                "campaign": campaign,
                "seq": first_seq + i,
                "kind": kind,
                "event_id": None if ev_id is None else json.dumps(ev_id),
                "body": json.dumps(body, separators=(",", ":"), allow_nan=False),
            }
            for i, (kind, ev_id, body) in enumerate(entries)
        ]
        try:
            with self.engine.begin() as c:
                c.execute(journal.insert(), rows)
        except SQLAlchemyError as err:
            raise StoreError(f"store {self.shown!r}: {_first_line(err)}") from None

    def entries(self, campaign: str) -> Iterator[tuple[int, str, Any, dict[str, Any]]]:
        """The campaign's journal in order: (seq, kind, event id or None, body)."""
        q = (
            sa.select(journal.c.seq, journal.c.kind, journal.c.event_id, journal.c.body)
            .where(journal.c.campaign == campaign)
            .order_by(journal.c.seq)
        )
        try:
            with self.engine.connect() as c:
                for r in c.execute(q).yield_per(5000):
                    yield r.seq, r.kind, None if r.event_id is None else json.loads(r.event_id), json.loads(r.body)
        except SQLAlchemyError as err:
            raise StoreError(f"store {self.shown!r}: {_first_line(err)}") from None

    def count_events(self, campaign: str) -> int:
        with self.engine.connect() as c:
            q = sa.select(sa.func.count()).select_from(journal).where(
                (journal.c.campaign == campaign) & (journal.c.kind == "event"))
            return int(c.execute(q).scalar_one())


def _sqlite_pragmas(sync: str) -> Any:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={sync.upper()}")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    return on_connect
