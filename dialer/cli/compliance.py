"""The compliance commands: calling hours, do-not-call registers, the statistics store, the audit.

    dialer hours [--preset NO] [--date YYYY-MM-DD] [--days N] [--presets FILE]
    dialer dnc import national|internal FILE [--store URL] [--strict]
    dialer dnc wash LEADS.csv --out WASHED.csv [--store URL] [--call-uncertain]
    dialer stats export --campaign NAME [--from DATE] [--to DATE] [--store URL] [--csv PATH]
    dialer stats retain [--store URL] [--today DATE] [--months 12] [--yes]
    dialer audit --campaign NAME --from DATE --to DATE [--store URL] [--html PATH] [--preset NAME]

Owns: parsing these flags and printing; every error a user can cause is one
line (`dialer: error: ...`, exit 2).
Must not know about: how rules are decided (`dialer.core`), how rows are kept
(`dialer.compliance.store`). Registers itself with `dialer.cli`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from dialer.cli import common as cli
from dialer.compliance.store import COUNT, MONTHS
from dialer.errors import ConfigError, bad
from dialer.limits import DAYS




def iso_date(text: str) -> dt.date:
    """argparse type: a calendar date YYYY-MM-DD within the years a calendar can answer for (1901-2100).

    A preset with its own holiday years narrows that further (`_in_calendar`).
    """
    from dialer.rules.calendar import check_date

    try:
        date = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a date YYYY-MM-DD, got {text!r}") from None
    try:
        return check_date("date", date, shown=text)
    except ConfigError as err:
        raise argparse.ArgumentTypeError(str(err).removeprefix("date ")) from None


def _in_calendar(cal, flag: str, first: dt.date, days: int = 1, days_flag: str = "--days") -> None:
    """Refuse a period (`first` and `days` days on) that leaves the years `cal` (a CallingCalendar) knows."""
    from dialer.rules.calendar import check_date

    check_date(flag, first, cal.preset.holidays, cal.preset.holiday_subdiv)
    room = (cal.dates[1] - first).days + 1
    if days > room:
        raise bad(days_flag, days, f"at most {room} (the calendar's last known date is {cal.dates[1]})")


_days = cli.typed(DAYS, int)
_count = cli.typed(COUNT, int)
_months = cli.typed(MONTHS, int)


# --- dialer hours ------------------------------------------------------------------------------


def _hours_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", default="NO", help="jurisdiction preset (default NO)")
    p.add_argument("--date", type=iso_date, help="the date, YYYY-MM-DD (default: today in the preset's time zone)")
    p.add_argument("--days", type=_days, default=1,
                   help=f"print this many days from --date (default 1, at most {DAYS.high})")
    p.add_argument("--presets", metavar="FILE", help="a presets TOML file of your own (default: the packaged one)")


def run_hours(args: argparse.Namespace) -> int:
    from dialer.rules.presets import get_preset
    from dialer.rules.calendar import CallingCalendar

    preset = get_preset(args.preset, args.presets)
    cal = CallingCalendar(preset)
    date = args.date or dt.datetime.now(preset.tz).date()
    _in_calendar(cal, "--date", date, args.days)
    for i in range(args.days):
        d = date + dt.timedelta(days=i)
        print(f"{d.isoformat()} {d:%A}: {cal.day(d)}")
    return 0


# --- dialer stats --------------------------------------------------------------------------------


def _store_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--store",
        metavar="URL",
        help="database URL (sqlite:///PATH or postgresql://user@host/db) or an SQLite file path "
        "(default: $DIALER_STORE, else ./dialer-compliance.sqlite)",
    )


def _stats_args(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", required=True, parser_class=type(p))
    e = sub.add_parser("export", help="write the daily statistics as CSV (stdout, or --csv PATH)")
    _store_arg(e)
    e.add_argument("--campaign", help="one campaign (default: all)")
    e.add_argument("--from", dest="start", type=iso_date, help="first day, YYYY-MM-DD")
    e.add_argument("--to", dest="end", type=iso_date, help="last day, YYYY-MM-DD")
    e.add_argument("--csv", metavar="PATH", help="write to this file instead of stdout")
    c = sub.add_parser("record", help="add counts to a campaign-day, e.g. a written complaint (norm 4.3 f)")
    _store_arg(c)
    c.add_argument("--campaign", required=True)
    c.add_argument("--date", required=True, type=iso_date)
    from dialer.compliance.store import COUNTS

    for name in COUNTS:
        c.add_argument(f"--{name}", type=_count, default=0, help=f"add this many {name} (at most {COUNT.high})")
    r = sub.add_parser(
        "retain", help="delete statistics, dial-log rows and journal entries older than 12 months (asked only)",
        description="Delete what is older than the retention (12 months by default): the norm 4.3 statistics and "
                    "dial-log rows before the cut, the journals of live campaigns closed before it, and an open "
                    "campaign's journal entries before it up to its newest snapshot (the state 'dialer serve' keeps "
                    "every --snapshot-every entries and at shutdown; a restart starts from it, so the entries after "
                    "it stay, and are reported as kept). Without --yes it only says what would go, per campaign.")
    _store_arg(r)
    r.add_argument("--today", type=iso_date, help="the day to count back from (default: today)")
    r.add_argument("--months", type=_months, default=12,
                   help=f"months to keep, {MONTHS.low} to {MONTHS.high} (default {MONTHS.low})")
    r.add_argument("--yes", action="store_true", help="really delete (without it: only say what would go)")


def run_stats(args: argparse.Namespace) -> int:
    from dialer.compliance.store import COUNTS, Store, retention_cutoff

    if args.action == "retain" and args.today is not None and args.today > dt.date.today():
        raise bad("--today", args.today.isoformat(), f"today ({dt.date.today()}) or earlier: a later day would move "
                  "the retention cut into the future")
    with Store(args.store) as store:
        if args.action == "export":
            if args.csv:
                try:
                    with open(args.csv, "w", encoding="utf-8", newline="") as f:
                        n = store.export_csv(f, args.campaign, args.start, args.end)
                except OSError as err:
                    raise ConfigError(f"--csv {args.csv!r} cannot be written: {err.strerror or err}") from None
                print(f"wrote {n} campaign-days to {args.csv}", file=sys.stderr)
            else:
                store.export_csv(sys.stdout, args.campaign, args.start, args.end)  # type: ignore[arg-type]
            return 0
        if args.action == "record":
            row = store.add_to_day(args.campaign, args.date, {n: getattr(args, n) for n in COUNTS})
            print(f"{row.campaign} {row.day}: " + ", ".join(f"{k} {v}" for k, v in row.counts().items()))
            return 0
        if args.action == "retain":
            from dialer.live.store import retain_journals

            today = args.today or dt.date.today()
            cutoff = retention_cutoff(today, args.months)
            start = dt.datetime.combine(cutoff, dt.time(0), tzinfo=dt.timezone.utc)
            journals = retain_journals(store.url, start, delete=args.yes)
            said = "" if journals is None else (
                f", and {journals['entries']} journal entries of {journals['campaigns']} campaigns closed before "
                f"{cutoff}")
            if not args.yes:
                old = [r for r in store.days() if r.day < cutoff]
                print(f"would delete {len(old)} campaign-days before {cutoff} (and dial-log rows before it)"
                      f"{said}; add --yes to delete")
                _report_open(journals, cutoff, "would delete")
                return 0
            report = store.retain(today, args.months)
            print(f"deleted {report['daily_stats']} campaign-days and {report['dial_log']} dial-log rows "
                  f"before {report['cutoff']}{said}; everything from {report['cutoff']} on is kept")
            _report_open(journals, cutoff, "deleted")
            return 0
    raise AssertionError(args.action)  # pragma: no cover - argparse requires one of the actions


def _report_open(journals: dict | None, cutoff: dt.date, verb: str) -> None:
    """One line per open campaign with journal entries before the cut: what goes, what a snapshot does not cover."""
    for c in [] if journals is None else journals["covered"]:
        if not c["old"]:
            continue
        kept = c["old"] - c["covered"]
        where = (f"up to its snapshot at entry {c['snapshot']}" if c["snapshot"] is not None
                 else "it has no snapshot yet")
        more = f", and {c['snapshots']} older snapshots" if c["snapshots"] else ""
        print(f"open campaign {c['key']!r}: {verb} {c['covered']} of its {c['old']} journal entries before {cutoff} "
              f"({where}){more}; {kept} entries kept: no snapshot covers them")


# --- dialer dnc ---------------------------------------------------------------------------------------


def _secret_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--secret-file", metavar="PATH", help="file holding the hashing secret (default: $DIALER_DNC_SECRET)")


def _dnc_args(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", required=True, parser_class=type(p))
    i = sub.add_parser("import", help="import a register CSV (phone, name, address, date_of_birth) as keyed hashes")
    i.add_argument("register", choices=("national", "internal"), help="national (replaces the last extract) or internal")
    i.add_argument("file", help="CSV file")
    i.add_argument("--strict", action="store_true", help="refuse the whole file if any row is malformed")
    _store_arg(i)
    _secret_arg(i)
    w = sub.add_parser("wash", help="wash a lead list against both registers (guide 3.2)")
    w.add_argument("leads", help="lead list CSV (phone, name, address, date_of_birth, existing_customer, express_request, ...)")
    w.add_argument("--out", required=True, metavar="PATH", help="where the leads that may be called go")
    w.add_argument("--held", metavar="PATH", help="where the leads held back go, with the reason")
    w.add_argument("--call-uncertain", action="store_true",
                   help="keep uncertain matches (name only); the consumer authority recommends not calling them")
    w.add_argument("--strict", action="store_true", help="refuse the whole list if any row is malformed")
    _store_arg(w)
    _secret_arg(w)
    b = sub.add_parser("block", help="put a number on the internal register now (someone asked not to be called)")
    b.add_argument("phone")
    b.add_argument("--name")
    _store_arg(b)
    _secret_arg(b)


def _report_rows(errors: list, source: str, what: str) -> None:
    for e in errors:
        print(f"dialer: warning: {source}: {e} (row not {what})", file=sys.stderr)


def run_dnc(args: argparse.Namespace) -> int:
    from dialer.compliance import registers as reg
    from dialer.compliance.store import EntryRow, Store
    from dialer.rules.dnc import Hasher
    from dialer.rules.phone import normalise

    hasher = Hasher(reg.secret(secret_file=args.secret_file))
    now = dt.datetime.now(dt.timezone.utc)
    with Store(args.store) as store:
        if args.action == "import":
            report = reg.import_register(store, hasher, args.file, args.register, now, strict=args.strict)
            _report_rows(report.errors, args.file, "imported")
            ended = f"; {report.ended} entries of the previous extract ended" if args.register == "national" else ""
            print(f"{args.register} register: imported {report.imported} entries from {args.file}, "
                  f"{len(report.errors)} malformed rows reported{ended}")
            return 0
        if args.action == "wash":
            registers = reg.load_registers(store, hasher)
            result, rows = reg.wash_file(registers, hasher, args.leads, args.out, now, held_path=args.held,
                                         call_uncertain=args.call_uncertain, strict=args.strict)
            _report_rows(rows.errors, args.leads, "washed nor written out")
            c = result.counts()
            print(f"washed {len(rows.rows)} leads against {len(registers)} register entries at {now:%Y-%m-%d %H:%M} UTC: "
                  f"{c['kept']} may be called ({c['excepted']} under an exception, {c['uncertain_called']} uncertain), "
                  f"{c['blocked']} blocked, {c['uncertain'] if not args.call_uncertain else 0} uncertain held back, "
                  f"{len(rows.errors)} malformed rows reported; wash again in every month calls are made (guide 3.2)")
            return 0
        if args.action == "block":
            p = hasher.person(normalise(args.phone), args.name)
            store.check_key(hasher.fingerprint)
            store.add_entries([EntryRow("internal", p.number, p.name, None, None, now, None, "dialer dnc block")])
            print(f"on the internal register from {now:%Y-%m-%d %H:%M:%S} UTC, for every campaign")
            return 0
    raise AssertionError(args.action)  # pragma: no cover


# --- dialer audit ---------------------------------------------------------------------------------


def _audit_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--campaign", required=True, help="the campaign to audit")
    p.add_argument("--from", dest="start", required=True, type=iso_date, help="first day, YYYY-MM-DD")
    p.add_argument("--to", dest="end", required=True, type=iso_date, help="last day, YYYY-MM-DD")
    _store_arg(p)
    p.add_argument("--html", metavar="PATH", help="also write a self-contained HTML report with the plot")
    p.add_argument("--preset", default=None, help="jurisdiction preset (default: the campaign's own, as recorded, else NO)")
    p.add_argument("--presets", metavar="FILE", help="a presets TOML file of your own")


def run_audit(args: argparse.Namespace) -> int:
    from dialer.compliance.audit import build_audit, render_html, text_lines
    from dialer.rules.calendar import CallingCalendar
    from dialer.rules.presets import get_preset
    from dialer.compliance.store import Store

    if args.end < args.start:  # refused before the store is opened, as a bad preset name
        raise bad("--to", args.end.isoformat(), f"on or after --from ({args.start.isoformat()})")
    if args.preset is not None:
        get_preset(args.preset, args.presets)  # a bad name is refused before the store is opened
    with Store(args.store, readonly=True) as store:  # the audit creates and alters nothing
        info = store.info(args.campaign)
        name = args.preset or (info.preset if info is not None and info.preset else "NO")
        preset = get_preset(name, args.presets)
        cal = CallingCalendar(preset)
        _in_calendar(cal, "--from", args.start)
        _in_calendar(cal, "--to", args.end)
        audit = build_audit(store, preset, args.campaign, args.start, args.end)
    if args.html:
        text = render_html(audit)
        try:
            with open(args.html, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as err:
            raise ConfigError(f"--html {args.html!r} cannot be written: {err.strerror or err}") from None
    for line in text_lines(audit):
        print(line)
    if args.html:
        print(f"wrote {args.html}")
    return 0


#: the commands of this module, for `dialer.cli`: (name, help, add arguments, run)
COMMANDS = (
    cli.Command("hours", "the calling window of a date under a preset, or 'closed' and why", _hours_args, run_hours),
    cli.Command("stats", "the daily statistics store (norm 4.3): export as CSV, record complaints, retention", _stats_args, run_stats),
    cli.Command("dnc", "do-not-call registers: import, wash a lead list, block a number (hashed at rest)", _dnc_args, run_dnc),
    cli.Command("audit", "the regulator's statistics of a campaign and period, with every rule broken flagged", _audit_args, run_audit),
)
