"""The compliance store: daily statistics (norm 4.3), the dial log and the do-not-call registers, at rest.

Owns: the database schema and every read and write of it, through SQLAlchemy
Core, so the same code runs on an SQLite file (the default) and on
PostgreSQL (``postgresql+psycopg://user@host/db``): the tables
``daily_stats``, ``dial_log``, ``campaign_info``, ``promise_breaks``,
``register_entries``, ``register_imports`` and ``meta`` (the live service writes them beside its
journal, in the same database: `record_statements`), `record_simulation`
(a simulated study's days and dials, refusing to overwrite a stored day),
and `retain`, which deletes only what is older than the retention period (12
months, norm 4.3). Phone numbers are never stored in clear: callers pass
keyed hashes (`dialer.rules.dnc.Hasher`). Opened `readonly` (the audit), it
creates and alters nothing and reads what tables it finds.
Must not know about: what a rule means (`dialer.rules` decides; this only
keeps rows), printing, the simulator.

    with Store("dialer-compliance.sqlite") as store:
        store.put_day("sales", date(2026, 11, 24), {"attempted": 900, "connected": 230, "abandoned": 9})
        store.days("sales")[0].abandon_rate          # 9 / 230, derived, never stored

What each table holds: docs/design.md, "The statistics store and the audit".
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping

import sqlalchemy as sa
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

from dialer import files
from dialer.checks import Whole, check
from dialer.errors import ConfigError, bad

#: norm 4.3 counts, in the order reports print them
COUNTS = ("attempted", "answered", "connected", "transferred", "abandoned", "complaints")

#: where the statistics go when no URL is given (also: the DIALER_STORE environment variable)
DEFAULT_PATH = "dialer-compliance.sqlite"

RETENTION_MONTHS = 12

#: the largest count a column holds on every database: `sa.Integer` is 32-bit on PostgreSQL (64 on SQLite)
MAX_COUNT = 2**31 - 1
#: what a norm 4.3 count (or what is added to one) must be
COUNT = Whole(0, MAX_COUNT)
#: months `retain` keeps: at least the 12 of norm 4.3, at most a century
MONTHS = Whole(RETENTION_MONTHS, 1200, hint="norm 4.3 keeps 12 months")

metadata = sa.MetaData()

daily_stats = sa.Table(
    "daily_stats",
    metadata,
    sa.Column("campaign", sa.String(200), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    *(sa.Column(name, sa.Integer, nullable=False, default=0) for name in COUNTS),
    # a day `dialer simulate --store` wrote (a live day is the service's)
    sa.Column("simulated", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
)

dial_log = sa.Table(
    "dial_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("campaign", sa.String(200), nullable=False),
    sa.Column("placed_at", sa.DateTime, nullable=False),  # UTC, naive in the database
    sa.Column("number_hash", sa.String(64), nullable=False),  # "": no number to check (see NO_NUMBER)
    sa.Column("outcome", sa.String(20)),
    sa.Column("exception", sa.String(20)),
    sa.Column("reserved", sa.Boolean),  # an agent was reserved for the dial (None: not recorded)
    sa.Column("simulated", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
    sa.Column("source", sa.String(200)),  # the live journal's campaign key ("sales", "sales#2")
    sa.Column("journal_seq", sa.BigInteger().with_variant(sa.Integer, "sqlite")),  # its DialPlaced's entry
    sa.Index("ix_dial_log_campaign_placed", "campaign", "placed_at"),
    sa.Index("ix_dial_log_source_seq", "source", "journal_seq", unique=True),
)

campaign_info = sa.Table(
    "campaign_info",
    metadata,
    sa.Column("campaign", sa.String(200), primary_key=True),
    sa.Column("source", sa.String(20), nullable=False),  # "live" | "simulated": who wrote it last
    sa.Column("preset", sa.String(50)),
    sa.Column("timezone", sa.String(60)),
    sa.Column("caller_id", sa.String(20)),  # E.164: the number shown to the called party (norm 4.4.2)
    sa.Column("screening", sa.Boolean),  # registers screened at dial time (None: not recorded)
    sa.Column("updated", sa.DateTime, nullable=False),  # UTC
)

register_imports = sa.Table(
    "register_imports",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("register", sa.String(20), nullable=False),
    sa.Column("imported_at", sa.DateTime, nullable=False),  # UTC: the entries took effect then
    sa.Column("source", sa.String(300)),
    sa.Column("entries", sa.Integer, nullable=False),
)

promise_breaks = sa.Table(
    "promise_breaks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("campaign", sa.String(200), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),  # UTC
    sa.Column("kind", sa.String(40), nullable=False),  # dialer.core.controller.BREAKS
    sa.Column("source", sa.String(200)),  # the live journal's campaign key
    sa.Column("journal_seq", sa.BigInteger().with_variant(sa.Integer, "sqlite")),  # the event that broke it
    sa.Index("ix_promise_breaks_campaign_at", "campaign", "at"),
)

#: the dial log's number for a dial whose number cannot be checked against the registers (a simulated
#: lead, an opaque lead id without a phone, or a service without the register secret)
NO_NUMBER = ""

#: columns added since the tables were first released: added to a store created before (`_upgrade`)
_ADDED = {"daily_stats": ("simulated",), "dial_log": ("reserved", "simulated", "source", "journal_seq")}

register_entries = sa.Table(
    "register_entries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("register", sa.String(20), nullable=False),  # "national" | "internal"
    sa.Column("number_hash", sa.String(64)),
    sa.Column("name_hash", sa.String(64)),
    sa.Column("address_hash", sa.String(64)),
    sa.Column("dob_hash", sa.String(64)),
    sa.Column("since", sa.DateTime, nullable=False),  # UTC
    sa.Column("until", sa.DateTime),  # UTC; None: still on the register
    sa.Column("source", sa.String(300)),
    sa.Index("ix_register_number", "number_hash"),
)

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(50), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
)


@dataclass(frozen=True, slots=True)
class DayRow:
    """One campaign-day of norm 4.3 statistics (`simulated`: written by `dialer simulate --store`)."""

    campaign: str
    day: dt.date
    attempted: int = 0
    answered: int = 0
    connected: int = 0
    transferred: int = 0
    abandoned: int = 0
    complaints: int = 0
    simulated: bool = False

    @property
    def abandon_rate(self) -> float:
        """Abandoned / connected (established) calls, norm 4.6.2; 0 when nothing connected."""
        return self.abandoned / self.connected if self.connected else 0.0

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTS}


@dataclass(frozen=True, slots=True)
class DialRow:
    """One dial placed: `number_hash` is the number's keyed hash, or `NO_NUMBER`."""

    campaign: str
    placed_at: dt.datetime  # aware, UTC
    number_hash: str
    outcome: str | None = None
    exception: str | None = None
    reserved: bool | None = None
    simulated: bool = False
    source: str | None = None
    journal_seq: int | None = None


@dataclass(frozen=True, slots=True)
class CampaignInfo:
    """What a campaign declared, as last recorded: by the live service or by a simulation."""

    campaign: str
    source: str  # "live" | "simulated"
    preset: str | None = None
    timezone: str | None = None
    caller_id: str | None = None
    screening: bool | None = None


@dataclass(frozen=True, slots=True)
class EntryRow:
    register: str
    number_hash: str | None
    name_hash: str | None
    address_hash: str | None
    dob_hash: str | None
    since: dt.datetime  # aware, UTC
    until: dt.datetime | None = None
    source: str | None = None
    id: int | None = None  # the store's, when read back


def store_url(location: str | os.PathLike[str] | None) -> str:
    """A database URL (`dialer.files.store_url`) from a URL, a file path, or None (DIALER_STORE, else the default file)."""
    if location is None:
        location = os.environ.get("DIALER_STORE") or DEFAULT_PATH
    return files.store_url(location)


def _utc(t: dt.datetime, field: str) -> dt.datetime:
    if not isinstance(t, dt.datetime) or t.tzinfo is None or t.utcoffset() is None:
        raise bad(field, t, "a datetime with a time zone")
    return t.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _aware(t: dt.datetime | None) -> dt.datetime | None:
    return None if t is None else t.replace(tzinfo=dt.timezone.utc)


def _check_date(field: str, d: Any) -> dt.date:
    if not isinstance(d, dt.date) or isinstance(d, dt.datetime):
        raise bad(field, d, "a calendar date")
    return d


def _check_count(field: str, v: Any) -> int:
    return check(field, v, COUNT)


def _check_day(campaign: str, day: dt.date, row: Mapping[str, int], given: Mapping[str, int],
               before: Mapping[str, int] | None = None) -> None:
    """Refuse a campaign-day whose counts no column holds, or with more abandoned than connected calls.

    `row`: the day as it would be stored; `given`: what the caller passed (named in the message);
    `before`: what was stored already, for an addition.
    """
    for name in COUNTS:
        if row[name] > MAX_COUNT:
            had = "" if before is None else f"; {campaign} {day} has {before[name]}"
            raise bad(name, given[name], f"at most {MAX_COUNT} for the day in all{had}")
    if row["abandoned"] > row["connected"]:  # an abandoned call is an established one (norm 4.6.2)
        had = f" ({row['connected']})" if before is None else (
            f"; {campaign} {day} has {before['connected']} connected and {before['abandoned']} abandoned")
        raise bad("abandoned", given["abandoned"], f"at most the day's connected calls{had}")


def retention_cutoff(today: dt.date, months: int = RETENTION_MONTHS) -> dt.date:
    """The first day still kept: `months` calendar months before `today` (29 Feb -> 28 Feb)."""
    _check_date("today", today)
    check("months", months, MONTHS)
    if today.year * 12 + today.month - 1 - months < 12:  # before year 1: nothing is that old
        return dt.date.min
    y, m = divmod(today.year * 12 + today.month - 1 - months, 12)
    m += 1
    last = (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(y, m, min(today.day, last))


class Store:
    """Daily statistics, dial log and registers in one database. Open with a URL, a path or None.

    `readonly`: nothing is created, altered or written (the audit): an SQLite file is opened
    read-only (it must exist), a PostgreSQL session is read-only, and the tables and columns
    missing from an older or partial store read as empty.
    """

    def __init__(self, location: str | os.PathLike[str] | None = None, *, create: bool = True,
                 readonly: bool = False) -> None:
        self.url = store_url(location)
        url = sa.engine.make_url(self.url)
        shown = url.render_as_string(hide_password=True)
        self.shown = shown
        self.readonly = readonly
        args: dict[str, Any] = {}
        if readonly:
            if url.get_backend_name() == "sqlite":
                if url.database in (None, "", ":memory:"):
                    raise bad("store", shown, "a file")
                url = url.set(database=f"file:{url.database}?mode=ro", query={**url.query, "uri": "true"})
            elif url.get_backend_name() == "postgresql":
                args["connect_args"] = {"options": "-c default_transaction_read_only=on"}
        try:
            self.engine = sa.create_engine(url, future=True, **args)
        except (ArgumentError, NoSuchModuleError, ValueError) as err:
            raise bad("store", shown, f"{files.STORE_FORMS} ({err})") from None
        self._have: dict[str, set[str]] | None = None  # tables and columns present (None: all, as created)
        try:
            if readonly:
                inspector = sa.inspect(self.engine)
                self._have = {t: {c["name"] for c in inspector.get_columns(t)} for t in inspector.get_table_names()
                              if t in metadata.tables}
            elif create:
                metadata.create_all(self.engine)
                upgrade(self.engine)
        except (OperationalError, SQLAlchemyError) as err:
            self.engine.dispose()
            raise ConfigError(f"store {shown!r} cannot be opened: {_first_line(err)}") from None

    def has(self, table: sa.Table, column: str | None = None) -> bool:
        """Is `table` (and its `column`) in the store? Always, unless it was opened read-only."""
        if self._have is None:
            return True
        cols = self._have.get(table.name)
        return cols is not None and (column is None or column in cols)

    def _columns(self, table: sa.Table) -> list[sa.Column]:
        return [c for c in table.columns if self.has(table, c.name)]

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _begin(self):
        try:
            return self.engine.begin()
        except SQLAlchemyError as err:  # pragma: no cover - a server gone away
            raise ConfigError(f"store {self.shown!r} cannot be reached: {_first_line(err)}") from None

    # --- the hashing key's fingerprint -------------------------------------------------------

    def check_key(self, fingerprint: str) -> None:
        """Remember the key's fingerprint on first use; refuse a different key afterwards."""
        with self._begin() as c:
            row = c.execute(sa.select(meta.c.value).where(meta.c.key == "hash_key")).first()
            if row is None:
                c.execute(meta.insert().values(key="hash_key", value=fingerprint))
            elif row[0] != fingerprint:
                raise ConfigError(
                    f"store {self.shown!r}: the hashing secret differs from the one its registers were "
                    "written with (DIALER_DNC_SECRET)"
                )

    # --- daily statistics ----------------------------------------------------------------------

    def put_day(self, campaign: str, day: dt.date, counts: Mapping[str, int], *, simulated: bool = False) -> DayRow:
        """Write a campaign-day's counts (replacing the day's row; complaints kept unless given)."""
        row = self._row_values(campaign, day, counts)
        _check_day(campaign, day, row, row)
        with self._begin() as c:
            self._put_day(c, campaign, day, row, "complaints" in counts, simulated)
        return DayRow(campaign, day, **row, simulated=simulated)

    @staticmethod
    def _put_day(c: Any, campaign: str, day: dt.date, row: dict[str, int], complaints: bool, simulated: bool) -> None:
        old = c.execute(
            sa.select(daily_stats).where(daily_stats.c.campaign == campaign, daily_stats.c.day == day)
        ).first()
        if old is None:
            c.execute(daily_stats.insert().values(campaign=campaign, day=day, simulated=simulated, **row))
        else:
            if not complaints:
                row["complaints"] = old.complaints
            c.execute(
                daily_stats.update()
                .where(daily_stats.c.campaign == campaign, daily_stats.c.day == day)
                .values(simulated=simulated, **row)
            )

    def record_simulation(self, days: Iterable[DayRow], dials: Iterable[DialRow], infos: Iterable[CampaignInfo], *,
                          tz: dt.tzinfo, replace: bool = False) -> int:
        """A simulated study's campaign-days (marked simulated), its dials and what its campaigns declared,
        in one transaction; `tz`: the zone the days are local dates of. A campaign-day already stored
        is refused (`ConfigError` naming it), unless `replace` and it was simulated too: then its row
        and its simulated dials are replaced. A live day (the service's) is never replaced. Returns
        the campaign-days written."""
        days, dials = list(days), list(dials)
        with self._begin() as c:
            for d in days:
                old = c.execute(sa.select(daily_stats.c.simulated).where(
                    daily_stats.c.campaign == d.campaign, daily_stats.c.day == d.day)).first()
                if old is None:
                    continue
                if not old.simulated:
                    raise ConfigError(f"store {self.shown!r}: campaign {d.campaign!r} has live records on {d.day}: a "
                                      "simulation never replaces them (simulate it under another campaign name)")
                if not replace:
                    raise ConfigError(f"store {self.shown!r}: campaign {d.campaign!r} has a simulated day stored on "
                                      f"{d.day}: add --replace to replace it")
                start = dt.datetime.combine(d.day, dt.time(0), tzinfo=tz)
                end = dt.datetime.combine(d.day + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
                c.execute(daily_stats.delete().where(daily_stats.c.campaign == d.campaign, daily_stats.c.day == d.day))
                c.execute(dial_log.delete().where(
                    dial_log.c.campaign == d.campaign, dial_log.c.simulated.is_(True),
                    dial_log.c.placed_at >= _utc(start, "day"), dial_log.c.placed_at < _utc(end, "day")))
            for d in days:
                row = self._row_values(d.campaign, d.day, {n: getattr(d, n) for n in COUNTS})
                c.execute(daily_stats.insert().values(campaign=d.campaign, day=d.day, simulated=True, **row))
            if dials:
                c.execute(dial_log.insert(), [_dial_values(r) for r in dials])
            for info in infos:
                write_info(c, info)
        return len(days)

    def add_to_day(self, campaign: str, day: dt.date, counts: Mapping[str, int]) -> DayRow:
        """Add counts to a campaign-day (a live dialer calls this as calls end; complaints as they come).

        Refused, with nothing written, if the day would then count more abandoned than connected
        calls, or more than `MAX_COUNT` of anything.
        """
        inc = self._row_values(campaign, day, counts, fill=False)
        given = {n: inc.get(n, 0) for n in COUNTS}
        with self._begin() as c:
            old = c.execute(
                sa.select(daily_stats).where(daily_stats.c.campaign == campaign, daily_stats.c.day == day)
            ).first()
            before = {n: 0 if old is None else getattr(old, n) for n in COUNTS}
            row = {n: before[n] + given[n] for n in COUNTS}
            _check_day(campaign, day, row, given, before)
            if old is None:
                c.execute(daily_stats.insert().values(campaign=campaign, day=day, **row))
            else:
                c.execute(
                    daily_stats.update()
                    .where(daily_stats.c.campaign == campaign, daily_stats.c.day == day)
                    .values(**row)
                )
        return DayRow(campaign, day, **row)

    @staticmethod
    def _row_values(campaign: Any, day: Any, counts: Mapping[str, int], fill: bool = True) -> dict[str, int]:
        if not isinstance(campaign, str) or not campaign.strip() or len(campaign) > 200:
            raise bad("campaign", campaign, "a non-empty name of at most 200 characters")
        _check_date("day", day)
        for name in counts:
            if name not in COUNTS:
                raise bad("counts", name, f"one of {', '.join(COUNTS)}")
        out = {n: _check_count(n, counts[n]) for n in COUNTS if n in counts}
        if fill:
            out = {n: out.get(n, 0) for n in COUNTS}
        return out

    def days(self, campaign: str | None = None, start: dt.date | None = None, end: dt.date | None = None) -> list[DayRow]:
        """Rows ordered by campaign and day; `start` and `end` inclusive."""
        if not self.has(daily_stats):
            return []
        q = sa.select(*self._columns(daily_stats)).order_by(daily_stats.c.campaign, daily_stats.c.day)
        if campaign is not None:
            q = q.where(daily_stats.c.campaign == campaign)
        if start is not None:
            q = q.where(daily_stats.c.day >= _check_date("from", start))
        if end is not None:
            q = q.where(daily_stats.c.day <= _check_date("to", end))
        with self._begin() as c:
            return [DayRow(r.campaign, r.day, *(getattr(r, n) for n in COUNTS), bool(getattr(r, "simulated", False)))
                    for r in c.execute(q)]

    def campaigns(self) -> list[str]:
        names: set[str] = set()
        with self._begin() as c:
            for table in (daily_stats, dial_log, campaign_info):
                if self.has(table):
                    names |= {r[0] for r in c.execute(sa.select(table.c.campaign).distinct())}
        return sorted(names)

    def export_csv(self, out: io.TextIOBase, campaign: str | None = None, start: dt.date | None = None,
                   end: dt.date | None = None) -> int:
        """Write the statistics as CSV (campaign, date, norm 4.3 counts, abandon_rate, simulated); returns rows written."""
        w = csv.writer(out, lineterminator="\n")
        w.writerow(("campaign", "date", *COUNTS, "abandon_rate", "simulated"))
        rows = self.days(campaign, start, end)
        for r in rows:
            w.writerow((r.campaign, r.day.isoformat(), *(getattr(r, n) for n in COUNTS), f"{r.abandon_rate:.6f}",
                        "yes" if r.simulated else "no"))
        return len(rows)

    def retain(self, today: dt.date, months: int = RETENTION_MONTHS) -> dict[str, int]:
        """Delete statistics and dial-log rows older than `months` months before `today`; never younger ones.

        Returns how many rows each table lost. Only ever run when asked
        (`dialer stats retain`); nothing deletes on its own.
        """
        cutoff = retention_cutoff(today, months)
        start = dt.datetime.combine(cutoff, dt.time(0))
        with self._begin() as c:
            a = c.execute(daily_stats.delete().where(daily_stats.c.day < cutoff)).rowcount
            b = c.execute(dial_log.delete().where(dial_log.c.placed_at < start)).rowcount
            c.execute(promise_breaks.delete().where(promise_breaks.c.at < start))
        return {"daily_stats": a, "dial_log": b, "cutoff": cutoff}  # type: ignore[dict-item]

    # --- what each campaign declared -------------------------------------------------------------

    def put_info(self, info: CampaignInfo) -> None:
        """Record what a campaign declared (its preset, time zone, caller ID, whether registers are screened)."""
        with self._begin() as c:
            write_info(c, info)

    def info(self, campaign: str) -> CampaignInfo | None:
        if not self.has(campaign_info):
            return None
        with self._begin() as c:
            r = c.execute(sa.select(campaign_info).where(campaign_info.c.campaign == campaign)).first()
        if r is None:
            return None
        return CampaignInfo(r.campaign, r.source, r.preset, r.timezone, r.caller_id, r.screening)

    def promise_breaks(self, campaign: str, start: dt.datetime, end: dt.datetime) -> dict[str, int] | None:
        """The dialer's broken promises of a campaign in [start, end), counted by kind (None: the store
        keeps none, it is older than the record of them)."""
        if not self.has(promise_breaks):
            return None
        q = (sa.select(promise_breaks.c.kind, sa.func.count()).where(
            promise_breaks.c.campaign == campaign, promise_breaks.c.at >= _utc(start, "from"),
            promise_breaks.c.at < _utc(end, "to")).group_by(promise_breaks.c.kind))
        with self._begin() as c:
            return {kind: int(n) for kind, n in c.execute(q)}

    # --- dial log ----------------------------------------------------------------------------

    def log_dials(self, rows: Iterable[DialRow]) -> int:
        values = [_dial_values(r) for r in rows]
        if values:
            with self._begin() as c:
                c.execute(dial_log.insert(), values)
        return len(values)

    def dials(self, campaign: str | None = None, start: dt.datetime | None = None,
              end: dt.datetime | None = None) -> list[DialRow]:
        """Dials in [start, end) (aware datetimes), oldest first."""
        if not self.has(dial_log):
            return []
        q = sa.select(*self._columns(dial_log)).order_by(dial_log.c.placed_at, dial_log.c.id)
        if campaign is not None:
            q = q.where(dial_log.c.campaign == campaign)
        if start is not None:
            q = q.where(dial_log.c.placed_at >= _utc(start, "from"))
        if end is not None:
            q = q.where(dial_log.c.placed_at < _utc(end, "to"))
        with self._begin() as c:
            return [
                DialRow(r.campaign, _aware(r.placed_at), r.number_hash, r.outcome, r.exception,  # type: ignore[arg-type]
                        getattr(r, "reserved", None), bool(getattr(r, "simulated", False)), getattr(r, "source", None),
                        getattr(r, "journal_seq", None))
                for r in c.execute(q)
            ]

    # --- registers ---------------------------------------------------------------------------

    def add_entries(self, rows: Iterable[EntryRow]) -> int:
        values = [
            {
                "register": r.register,
                "number_hash": r.number_hash,
                "name_hash": r.name_hash,
                "address_hash": r.address_hash,
                "dob_hash": r.dob_hash,
                "since": _utc(r.since, "since"),
                "until": None if r.until is None else _utc(r.until, "until"),
                "source": r.source,
            }
            for r in rows
        ]
        if values:
            with self._begin() as c:
                c.execute(register_entries.insert(), values)
                _bump(c, "registers_version")
        return len(values)

    def end_entries(self, register: str, at: dt.datetime, keep: set[int] | None = None) -> int:
        """Mark the open entries of `register` (all, or all but the ids in `keep`) as ended at `at`."""
        q = register_entries.update().where(
            register_entries.c.register == register, register_entries.c.until.is_(None)
        )
        if keep:
            q = q.where(register_entries.c.id.not_in(sorted(keep)))
        with self._begin() as c:
            n = c.execute(q.values(until=_utc(at, "at"))).rowcount
            _bump(c, "registers_epoch")  # entries changed: whoever holds them reads them all again
        return n

    def entries(self, register: str | None = None, *, after: int = 0) -> Iterator[EntryRow]:
        """The register entries (of `register`, or both), oldest first; `after`: only those added after
        the entry of that id (what a reader holding the others lacks: see `registers_version`)."""
        if not self.has(register_entries):
            return
        q = sa.select(register_entries).order_by(register_entries.c.id)
        if register is not None:
            q = q.where(register_entries.c.register == register)
        if after:
            q = q.where(register_entries.c.id > after)
        with self._begin() as c:
            rows = c.execute(q).all()
        for r in rows:
            yield EntryRow(r.register, r.number_hash, r.name_hash, r.address_hash, r.dob_hash,
                           _aware(r.since), _aware(r.until), r.source, r.id)  # type: ignore[arg-type]

    def registers_version(self) -> tuple[int, int]:
        """(version, epoch): the version grows with every entry added, the epoch whenever entries end (a
        national extract replaced). A reader holding the registers reads what was added since when the
        version moved, and everything again when the epoch did."""
        if not self.has(meta):
            return (0, 0)
        with self._begin() as c:
            got = dict(c.execute(sa.select(meta.c.key, meta.c.value).where(
                meta.c.key.in_(("registers_version", "registers_epoch")))).all())
        return int(got.get("registers_version", 0)), int(got.get("registers_epoch", 0))

    def log_import(self, register: str, at: dt.datetime, source: str, entries: int) -> None:
        """Record that `register` was imported at `at` (the national extract's age is counted from it)."""
        with self._begin() as c:
            c.execute(register_imports.insert().values(register=register, imported_at=_utc(at, "at"),
                                                       source=source[:300], entries=entries))
            _bump(c, "registers_version")  # (an empty extract adds no entry: its import still counts)

    def imports(self, register: str = "national") -> list[dt.datetime]:
        """When `register` was imported, oldest first: the import log, and for a store older than it the
        instants its entries took effect (an extract's entries all take effect at its import)."""
        found: set[dt.datetime] = set()
        with self._begin() as c:
            if self.has(register_imports):
                found |= {r[0] for r in c.execute(sa.select(register_imports.c.imported_at).where(
                    register_imports.c.register == register))}
            if self.has(register_entries) and register == "national":
                found |= {r[0] for r in c.execute(sa.select(register_entries.c.since).where(
                    register_entries.c.register == register).distinct())}
        return sorted(_aware(t) for t in found)  # type: ignore[misc]


def record_statements(dialect: sa.engine.Dialect) -> dict[str, Any]:
    """The live service's writes of the records, as statements for `dialect` (the live store compiles
    them once and runs them in the transaction of the journal entries they come from): `dial` inserts
    a dial-log row, `outcome` sets the outcome of the row of (source, journal_seq), `day` adds to a
    campaign-day's counts (a simulated day of the same campaign and date is replaced: live wins),
    `break` records a promise the dialer broke."""
    if dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    counts = [n for n in COUNTS if n != "complaints"]
    # every parameter is a bind of the caller's (a literal is SQL): the driver is called without SQLAlchemy
    add = insert(daily_stats).values(
        {"campaign": sa.bindparam("campaign"), "day": sa.bindparam("day"), "simulated": sa.false(),
         "complaints": sa.literal_column("0"), **{n: sa.bindparam(n) for n in counts}})
    day = add.on_conflict_do_update(
        index_elements=[daily_stats.c.campaign, daily_stats.c.day],
        set_={"simulated": sa.false(), **{n: sa.case((daily_stats.c.simulated, add.excluded[n]),
                                                     else_=daily_stats.c[n] + add.excluded[n]) for n in counts}},
    )
    dial = dial_log.insert().inline().values({c: sa.bindparam(c) for c in (
        "campaign", "placed_at", "number_hash", "outcome", "exception", "reserved", "simulated", "source",
        "journal_seq")})
    outcome = dial_log.update().where(
        dial_log.c.source == sa.bindparam("w_source"), dial_log.c.journal_seq == sa.bindparam("w_seq"),
    ).values(outcome=sa.bindparam("outcome"))
    broke = promise_breaks.insert().inline().values(
        {c: sa.bindparam(c) for c in ("campaign", "at", "kind", "source", "journal_seq")})
    return {"dial": dial, "outcome": outcome, "day": day, "break": broke}


def upgrade(engine: sa.engine.Engine) -> None:
    """Add to a store created by an earlier version the columns and indexes it lacks (never removes)."""
    inspector = sa.inspect(engine)
    with engine.begin() as c:
        for name, columns in _ADDED.items():
            have = {col["name"] for col in inspector.get_columns(name)}
            for column in columns:
                if column not in have:
                    ddl = sa.schema.CreateColumn(metadata.tables[name].c[column]).compile(dialect=engine.dialect)
                    c.execute(sa.text(f"ALTER TABLE {name} ADD COLUMN {ddl}"))
        for table in metadata.tables.values():
            for index in table.indexes:
                index.create(c, checkfirst=True)


def write_info(c: Any, info: CampaignInfo) -> None:
    """Record `info` on the connection `c`, in its transaction (the live store does, creating a campaign)."""
    values = {"source": info.source, "preset": info.preset, "timezone": info.timezone, "caller_id": info.caller_id,
              "screening": info.screening, "updated": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)}
    done = c.execute(campaign_info.update().where(campaign_info.c.campaign == info.campaign).values(**values))
    if not done.rowcount:
        c.execute(campaign_info.insert().values(campaign=info.campaign, **values))


def _bump(c: Any, key: str) -> None:
    """Add one to the counter `key` of the meta table (inside the caller's transaction)."""
    done = c.execute(meta.update().where(meta.c.key == key).values(
        value=sa.cast(sa.cast(meta.c.value, sa.Integer) + 1, sa.String)))
    if not done.rowcount:
        c.execute(meta.insert().values(key=key, value="1"))


def _dial_values(r: DialRow) -> dict[str, Any]:
    return {
        "campaign": r.campaign,
        "placed_at": _utc(r.placed_at, "placed_at"),
        "number_hash": r.number_hash,
        "outcome": r.outcome,
        "exception": r.exception,
        "reserved": r.reserved,
        "simulated": r.simulated,
        "source": r.source,
        "journal_seq": r.journal_seq,
    }


def _first_line(err: BaseException) -> str:
    text = str(getattr(err, "orig", None) or err).strip()
    return text.splitlines()[0] if text else type(err).__name__
