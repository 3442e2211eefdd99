"""The compliance store: daily statistics (norm 4.3), the dial log and the do-not-call registers, at rest.

Owns: the database schema and every read and write of it, through SQLAlchemy
Core, so the same code runs on an SQLite file (the default) and on
PostgreSQL (``postgresql+psycopg://user@host/db``): the tables
``daily_stats``, ``dial_log``, ``register_entries`` and ``meta``, and
`retain`, which deletes only what is older than the retention period (12
months, norm 4.3). Phone numbers are never stored in clear: callers pass
keyed hashes (`dialer.rules.dnc.Hasher`).
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
from dialer.errors import ConfigError, bad

#: norm 4.3 counts, in the order reports print them
COUNTS = ("attempted", "answered", "connected", "transferred", "abandoned", "complaints")

#: where the statistics go when no URL is given (also: the DIALER_STORE environment variable)
DEFAULT_PATH = "dialer-compliance.sqlite"

RETENTION_MONTHS = 12

metadata = sa.MetaData()

daily_stats = sa.Table(
    "daily_stats",
    metadata,
    sa.Column("campaign", sa.String(200), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    *(sa.Column(name, sa.Integer, nullable=False, default=0) for name in COUNTS),
)

dial_log = sa.Table(
    "dial_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("campaign", sa.String(200), nullable=False),
    sa.Column("placed_at", sa.DateTime, nullable=False),  # UTC, naive in the database
    sa.Column("number_hash", sa.String(64), nullable=False),
    sa.Column("outcome", sa.String(20)),
    sa.Column("exception", sa.String(20)),
    sa.Index("ix_dial_log_campaign_placed", "campaign", "placed_at"),
)

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
    """One campaign-day of norm 4.3 statistics."""

    campaign: str
    day: dt.date
    attempted: int = 0
    answered: int = 0
    connected: int = 0
    transferred: int = 0
    abandoned: int = 0
    complaints: int = 0

    @property
    def abandon_rate(self) -> float:
        """Abandoned / connected (established) calls, norm 4.6.2; 0 when nothing connected."""
        return self.abandoned / self.connected if self.connected else 0.0

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTS}


@dataclass(frozen=True, slots=True)
class DialRow:
    campaign: str
    placed_at: dt.datetime  # aware, UTC
    number_hash: str
    outcome: str | None = None
    exception: str | None = None


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
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise bad(field, v, "a whole number, zero or more")
    return v


def retention_cutoff(today: dt.date, months: int = RETENTION_MONTHS) -> dt.date:
    """The first day still kept: `months` calendar months before `today` (29 Feb -> 28 Feb)."""
    _check_date("today", today)
    if isinstance(months, bool) or not isinstance(months, int) or months < RETENTION_MONTHS:
        raise bad("months", months, f"a whole number of at least {RETENTION_MONTHS} (norm 4.3 keeps 12 months)")
    y, m = divmod(today.year * 12 + today.month - 1 - months, 12)
    m += 1
    last = (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(y, m, min(today.day, last))


class Store:
    """Daily statistics, dial log and registers in one database. Open with a URL, a path or None."""

    def __init__(self, location: str | os.PathLike[str] | None = None, *, create: bool = True) -> None:
        self.url = store_url(location)
        shown = sa.engine.make_url(self.url).render_as_string(hide_password=True) if "://" in self.url else self.url
        self.shown = shown
        try:
            self.engine = sa.create_engine(self.url, future=True)
        except (ArgumentError, NoSuchModuleError, ValueError) as err:
            raise bad("store", shown, f"{files.STORE_FORMS} ({err})") from None
        try:
            if create:
                metadata.create_all(self.engine)
        except (OperationalError, SQLAlchemyError) as err:
            raise ConfigError(f"store {shown!r} cannot be opened: {_first_line(err)}") from None

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

    def put_day(self, campaign: str, day: dt.date, counts: Mapping[str, int]) -> DayRow:
        """Write a campaign-day's counts (replacing the day's row; complaints kept unless given)."""
        row = self._row_values(campaign, day, counts)
        with self._begin() as c:
            old = c.execute(
                sa.select(daily_stats).where(daily_stats.c.campaign == campaign, daily_stats.c.day == day)
            ).first()
            if old is None:
                c.execute(daily_stats.insert().values(campaign=campaign, day=day, **row))
            else:
                if "complaints" not in counts:
                    row["complaints"] = old.complaints
                c.execute(
                    daily_stats.update()
                    .where(daily_stats.c.campaign == campaign, daily_stats.c.day == day)
                    .values(**row)
                )
        return DayRow(campaign, day, **row)

    def add_to_day(self, campaign: str, day: dt.date, counts: Mapping[str, int]) -> DayRow:
        """Add counts to a campaign-day (a live dialer calls this as calls end; complaints as they come)."""
        inc = self._row_values(campaign, day, counts, fill=False)
        with self._begin() as c:
            old = c.execute(
                sa.select(daily_stats).where(daily_stats.c.campaign == campaign, daily_stats.c.day == day)
            ).first()
            if old is None:
                row = {n: inc.get(n, 0) for n in COUNTS}
                c.execute(daily_stats.insert().values(campaign=campaign, day=day, **row))
            else:
                row = {n: getattr(old, n) + inc.get(n, 0) for n in COUNTS}
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
        q = sa.select(daily_stats).order_by(daily_stats.c.campaign, daily_stats.c.day)
        if campaign is not None:
            q = q.where(daily_stats.c.campaign == campaign)
        if start is not None:
            q = q.where(daily_stats.c.day >= _check_date("from", start))
        if end is not None:
            q = q.where(daily_stats.c.day <= _check_date("to", end))
        with self._begin() as c:
            return [DayRow(r.campaign, r.day, *(getattr(r, n) for n in COUNTS)) for r in c.execute(q)]

    def campaigns(self) -> list[str]:
        with self._begin() as c:
            names = {r[0] for r in c.execute(sa.select(daily_stats.c.campaign).distinct())}
            names |= {r[0] for r in c.execute(sa.select(dial_log.c.campaign).distinct())}
        return sorted(names)

    def export_csv(self, out: io.TextIOBase, campaign: str | None = None, start: dt.date | None = None,
                   end: dt.date | None = None) -> int:
        """Write the statistics as CSV (campaign, date, norm 4.3 counts, abandon_rate); returns rows written."""
        w = csv.writer(out, lineterminator="\n")
        w.writerow(("campaign", "date", *COUNTS, "abandon_rate"))
        rows = self.days(campaign, start, end)
        for r in rows:
            w.writerow((r.campaign, r.day.isoformat(), *(getattr(r, n) for n in COUNTS), f"{r.abandon_rate:.6f}"))
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
        return {"daily_stats": a, "dial_log": b, "cutoff": cutoff}  # type: ignore[dict-item]

    # --- dial log ----------------------------------------------------------------------------

    def log_dials(self, rows: Iterable[DialRow]) -> int:
        values = [
            {
                "campaign": r.campaign,
                "placed_at": _utc(r.placed_at, "placed_at"),
                "number_hash": r.number_hash,
                "outcome": r.outcome,
                "exception": r.exception,
            }
            for r in rows
        ]
        if values:
            with self._begin() as c:
                c.execute(dial_log.insert(), values)
        return len(values)

    def dials(self, campaign: str | None = None, start: dt.datetime | None = None,
              end: dt.datetime | None = None) -> list[DialRow]:
        """Dials in [start, end) (aware datetimes), oldest first."""
        q = sa.select(dial_log).order_by(dial_log.c.placed_at, dial_log.c.id)
        if campaign is not None:
            q = q.where(dial_log.c.campaign == campaign)
        if start is not None:
            q = q.where(dial_log.c.placed_at >= _utc(start, "from"))
        if end is not None:
            q = q.where(dial_log.c.placed_at < _utc(end, "to"))
        with self._begin() as c:
            return [
                DialRow(r.campaign, _aware(r.placed_at), r.number_hash, r.outcome, r.exception)  # type: ignore[arg-type]
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
        return len(values)

    def end_entries(self, register: str, at: dt.datetime, keep: set[int] | None = None) -> int:
        """Mark the open entries of `register` (all, or all but the ids in `keep`) as ended at `at`."""
        q = register_entries.update().where(
            register_entries.c.register == register, register_entries.c.until.is_(None)
        )
        if keep:
            q = q.where(register_entries.c.id.not_in(sorted(keep)))
        with self._begin() as c:
            return c.execute(q.values(until=_utc(at, "at"))).rowcount

    def entries(self, register: str | None = None) -> Iterator[EntryRow]:
        q = sa.select(register_entries).order_by(register_entries.c.id)
        if register is not None:
            q = q.where(register_entries.c.register == register)
        with self._begin() as c:
            rows = c.execute(q).all()
        for r in rows:
            yield EntryRow(r.register, r.number_hash, r.name_hash, r.address_hash, r.dob_hash,
                           _aware(r.since), _aware(r.until), r.source)  # type: ignore[arg-type]


def _first_line(err: BaseException) -> str:
    text = str(getattr(err, "orig", None) or err).strip()
    return text.splitlines()[0] if text else type(err).__name__
