"""The audit report: what a call centre hands the regulator for one campaign and period.

Owns: `build_audit` (reads the store: the daily statistics of norm 4.3, the
dial log, the registers and their imports, what the campaign declared; asks
the rules' calendar and registers whether each day and each dial kept them,
live and simulated days apart, and counts what it checked) and two
renderings, `text_lines` for the terminal and `render_html` for a
self-contained HTML file (the plot of the abandon rate per day against the
limit embedded as a PNG). It only reads: open the store `readonly`.
Must not know about: argument parsing (the CLI), how a rule is decided
(`dialer.rules`), the simulator. It needs no hashing secret: the register
check compares keyed hashes in the store with each other.

    audit = build_audit(Store("dialer-compliance.sqlite"), get_preset("NO"), "sales",
                        date(2026, 11, 2), date(2026, 11, 30))
    print("\\n".join(text_lines(audit)))

What is flagged: docs/design.md, "The statistics store and the audit".
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from dataclasses import dataclass, field
from fractions import Fraction

from dialer.compliance.store import COUNTS, NO_NUMBER, CampaignInfo, DayRow, DialRow, Store
from dialer.rules.calendar import CallingCalendar, Closed
from dialer.rules.dnc import Entry, Lead, Person, Registers, Status
from dialer.rules.preset import Preset
from dialer.errors import ConfigError, bad
from dialer.units import pct


@dataclass(frozen=True, slots=True)
class Flag:
    kind: str  # "over limit" | "closed day" | "outside hours" | "on register" | "stale register"
    when: str  # the day or the instant, local time
    detail: str


@dataclass
class Checked:
    """What was checked of one kind of day (live or simulated): the dials, and how many of them had a
    number to check against the registers (the others: a simulated lead, an opaque lead id, or a
    service without the register secret)."""

    dials: int = 0
    numbered: int = 0

    @property
    def unnumbered(self) -> int:
        return self.dials - self.numbered


@dataclass
class Audit:
    campaign: str
    start: dt.date
    end: dt.date
    preset: Preset
    days: list[DayRow]
    dials: int
    excepted: int
    flags: list[Flag] = field(default_factory=list)
    info: CampaignInfo | None = None  # what the campaign declared (caller ID, screening), as recorded
    live: Checked = field(default_factory=Checked)
    simulated: Checked = field(default_factory=Checked)
    #: broken promises of the dialer (integration guide), by kind, when the store keeps them (None: it does not)
    promise_breaks: dict[str, int] | None = None

    @property
    def limit(self) -> Fraction:
        return self.preset.abandon_limit

    @property
    def live_days(self) -> list[DayRow]:
        return [d for d in self.days if not d.simulated]

    @property
    def simulated_days(self) -> list[DayRow]:
        return [d for d in self.days if d.simulated]

    @property
    def empty(self) -> bool:
        """Nothing stored to check: no daily statistics and no dial in the period."""
        return not self.days and not self.dials

    def totals(self, days: list[DayRow] | None = None) -> DayRow:
        rows = self.days if days is None else days
        return DayRow(self.campaign, self.end, *(sum(getattr(d, n) for d in rows) for n in COUNTS))

    def over(self, row: DayRow) -> bool:
        return row.abandoned > self.limit * row.connected


def build_audit(store: Store, preset: Preset, campaign: str, start: dt.date, end: dt.date) -> Audit:
    """Check one campaign from `start` to `end` (inclusive, local dates of the preset)."""
    if end < start:
        raise bad("--to", end.isoformat(), f"on or after --from ({start.isoformat()})")
    known = store.campaigns()
    if campaign not in known:
        listed = ", ".join(known) if known else "(the store has none)"
        raise ConfigError(f"campaign must be one of {listed}, got {campaign!r}")
    cal = CallingCalendar(preset)
    tz = preset.tz
    days = store.days(campaign, start, end)
    t0 = dt.datetime.combine(start, dt.time(0), tzinfo=tz)
    t1 = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    dials = store.dials(campaign, t0, t1)
    audit = Audit(campaign, start, end, preset, days, len(dials), 0, info=store.info(campaign),
                  promise_breaks=_promise_breaks(store, campaign, t0, t1))
    limit = preset.abandon_limit
    for d in days:
        if d.abandoned > limit * d.connected:
            audit.flags.append(Flag("over limit", d.day.isoformat(),
                                    f"{d.abandoned} abandoned of {d.connected} connected = "
                                    f"{100 * d.abandon_rate:.2f} % > {100 * float(limit):g} %"))
        w = cal.day(d.day)
        if isinstance(w, Closed) and d.attempted > 0:
            audit.flags.append(Flag("closed day", d.day.isoformat(),
                                    f"{d.attempted} calls attempted on a closed day ({'; '.join(w.reasons)})"))
    registers = Registers(
        Entry(e.register, Person(e.number_hash, e.name_hash, e.address_hash, e.dob_hash), e.since, e.until)
        for e in store.entries()
    )
    for dial in dials:
        checked = audit.simulated if dial.simulated else audit.live
        checked.dials += 1
        _check_dial(audit, cal, registers, dial)
        if dial.number_hash != NO_NUMBER:
            checked.numbered += 1
    _check_freshness(audit, store.imports("national"), [d for d in dials if not d.simulated])
    return audit


def _check_dial(audit: Audit, cal: CallingCalendar, registers: Registers, dial: DialRow) -> None:
    local = dial.placed_at.astimezone(cal.tz)
    when = local.isoformat(sep=" ", timespec="seconds")
    short = dial.number_hash[:12]
    why = cal.reason_closed(dial.placed_at)
    if why is not None:
        what = f"dial of number #{short}" if dial.number_hash != NO_NUMBER else "a dial"
        audit.flags.append(Flag("outside hours", when, f"{what}: {why}"))
    if dial.number_hash == NO_NUMBER:
        return
    lead = Lead(Person(number=dial.number_hash),
                existing_customer=dial.exception == "existing_customer",
                express_request=dial.exception == "express_request")
    v = registers.check(lead, dial.placed_at)
    if v.status is Status.BLOCKED:
        audit.flags.append(Flag("on register", when, f"number #{short} was on the {v.register} register when dialled"))
    elif v.status is Status.EXCEPTED:
        audit.excepted += 1


def _promise_breaks(store: Store, campaign: str, t0: dt.datetime, t1: dt.datetime) -> dict[str, int] | None:
    """The dialer's broken promises in the period, by kind (integration guide, "What your dialer
    promises in return"), as the live service recorded them; None when the store keeps none."""
    return store.promise_breaks(campaign, t0, t1)


def _check_freshness(audit: Audit, imports: list[dt.datetime], dials: list[DialRow]) -> None:
    """Flag every day dialled with a stale national register: not imported before the day's first dial
    within the preset's wash interval (guide 3.2: in every calendar month in which calls are made)."""
    rewash = audit.preset.dnc_rewash
    tz = audit.preset.tz
    firsts: dict[dt.date, dt.datetime] = {}
    for d in dials:
        firsts.setdefault(d.placed_at.astimezone(tz).date(), d.placed_at)
    for day, first in sorted(firsts.items()):
        last = max((t for t in imports if t <= first), default=None)
        if last is None:
            why = "never imported before the day's first dial"
        elif rewash == "month":
            a, b = last.astimezone(tz), first.astimezone(tz)
            if (a.year, a.month) == (b.year, b.month):
                continue
            why = f"last imported {a.date()}, not in the month dialled (guide 3.2: wash in every month calls are made)"
        elif first - last >= dt.timedelta(days=int(rewash)):
            why = f"last imported {last.astimezone(tz).date()}, more than {rewash} days before (preset {audit.preset.name})"
        else:
            continue
        audit.flags.append(Flag("stale register", day.isoformat(), f"national register {why}"))


# --- rendering -----------------------------------------------------------------------------------


def table_rows(audit: Audit, days: list[DayRow] | None = None) -> list[list[str]]:
    """The per-day table (with a total row) as text cells: date, the norm 4.3 counts, rate, note."""
    cal = CallingCalendar(audit.preset)
    rows = []
    days = audit.days if days is None else days
    for d in days:
        w = cal.day(d.day)
        note = "OVER LIMIT" if audit.over(d) else ""
        if isinstance(w, Closed):
            note = (note + "; " if note else "") + "closed: " + "; ".join(w.reasons)
        rows.append([d.day.isoformat(), *(str(getattr(d, n)) for n in COUNTS), pct(d.abandon_rate), note])
    t = audit.totals(days)
    rows.append(["total", *(str(getattr(t, n)) for n in COUNTS), pct(t.abandon_rate),
                 "OVER LIMIT" if audit.over(t) else ""])
    return rows


HEADER = ["date", *COUNTS, "abandon rate", "note"]


def _table(rows: list[list[str]]) -> list[str]:
    rows = [HEADER, *rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    return ["  ".join(c.ljust(w) if i in (0, len(HEADER) - 1) else c.rjust(w)
                      for i, (c, w) in enumerate(zip(r, widths))).rstrip() for r in rows]


def declared(audit: Audit) -> list[str]:
    """What the campaign declared, in words: its caller ID (norm 4.4.2) and whether the registers were
    screened at dial time."""
    info = audit.info
    if info is None:
        return ["caller ID: not recorded (the campaign was stored by an earlier version, or only by "
                "'dialer stats record')"]
    who = "the live campaign" if info.source == "live" else "the simulated campaign"
    out = [f"caller ID: {info.caller_id} (declared by {who}, norm 4.4.2)" if info.caller_id
           else f"caller ID: none declared by {who}"]
    if info.source == "live":
        if info.screening is True:
            out.append("registers screened at dial time: on (every candidate lead against the internal and "
                       "national registers)")
        elif info.screening is False:
            out.append("registers screened at dial time: OFF (the service had no register secret, "
                       "DIALER_DNC_SECRET): wash the lists before they reach the dialer")
    return out


def checked_lines(audit: Audit) -> list[str]:
    """What was checked, in words ("3,912 dials checked against hours and registers")."""
    out = []
    for label, c in (("live", audit.live), ("simulated", audit.simulated)):
        if not c.dials:
            continue
        if c.unnumbered == 0:
            out.append(f"{label}: {c.dials:,} dials checked against hours and registers")
        elif c.numbered == 0:
            why = ("simulated leads have no phone numbers" if label == "simulated"
                   else "no number to compare: opaque lead ids without a phone, or no register secret")
            out.append(f"{label}: {c.dials:,} dials checked against hours; not against the registers ({why})")
        else:
            out.append(f"{label}: {c.dials:,} dials checked against hours, {c.numbered:,} of them against the "
                       f"registers ({c.unnumbered:,} had no number to compare)")
    if audit.excepted:
        out.append(f"called under a register exception (existing customer, express request): {audit.excepted:,}")
    return out


def text_lines(audit: Audit) -> list[str]:
    p = audit.preset
    lines = [
        f"Audit of campaign {audit.campaign!r}, {audit.start} to {audit.end}, preset {p.name} "
        f"(abandon limit {100 * float(p.abandon_limit):g} % per {', '.join(str(i) for i in p.intervals)}; "
        f"calling hours and holidays in {p.timezone})",
        *declared(audit),
    ]
    if audit.empty:
        lines.append(f"NOTHING TO CHECK: no daily statistics and no dials stored for campaign {audit.campaign!r} "
                     f"from {audit.start} to {audit.end}")
        return lines
    for label, days in (("Live days (dialer serve)", audit.live_days),
                        ("Simulated days (dialer simulate --store)", audit.simulated_days)):
        if days:
            lines.append(f"{label}:")
            lines.extend(_table(table_rows(audit, days)))
    if not audit.days:
        lines.append("no daily statistics stored for this period")
    checked = checked_lines(audit)
    lines.append("checked: " + ("; ".join(checked) if checked else "no dials in the dial log for this period"))
    if audit.promise_breaks is not None and audit.live_days:
        breaks = ", ".join(f"{k} {v}" for k, v in sorted(audit.promise_breaks.items())) or "none"
        lines.append(f"broken promises of the dialer (live days; integration guide, 'What your dialer promises in "
                     f"return'): {breaks}")
    if audit.flags:
        lines.append(f"FLAGS: {len(audit.flags)}")
        lines.extend(f"  {f.kind}: {f.when}: {f.detail}" for f in audit.flags)
    else:
        lines.append("FLAGS: none (no day over the limit, no call outside hours, no dialled number on a register, "
                     "no day dialled with a stale register)")
    return lines


def plot_png(audit: Audit) -> bytes:
    """The abandon rate per day against the limit, as PNG bytes."""
    from matplotlib.figure import Figure  # no pyplot: no global state, no display needed

    fig = Figure(figsize=(9, 3.6), dpi=100)
    ax = fig.add_subplot()
    days = [d.day for d in audit.days]
    rates = [100 * d.abandon_rate for d in audit.days]
    colours = ["#c0392b" if audit.over(d) else "#2c7fb8" for d in audit.days]
    if days:
        ax.bar(days, rates, color=colours, width=0.8)
    ax.axhline(100 * float(audit.limit), color="#c0392b", linestyle="--",
               label=f"limit {100 * float(audit.limit):g} %")
    ax.set_ylabel("abandoned / connected, %")
    ax.set_title(f"Abandon rate per day, campaign {audit.campaign}")
    ax.legend(loc="upper right")
    ax.set_ylim(0, max([100 * float(audit.limit) * 1.5, *rates]) * 1.05)
    fig.autofmt_xdate()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def render_html(audit: Audit) -> str:
    """A self-contained HTML report: no file or network reference, the plot inlined as base64."""
    e = html.escape
    p = audit.preset
    png = base64.b64encode(plot_png(audit)).decode("ascii")
    head = "".join(f"<th>{e(h)}</th>" for h in HEADER)
    tables = []
    for label, days in (("Live days (dialer serve)", audit.live_days),
                        ("Simulated days (dialer simulate --store)", audit.simulated_days)):
        if not days:
            continue
        body = []
        for r in table_rows(audit, days):
            cls = ' class="over"' if "OVER" in r[-1] else (' class="total"' if r[0] == "total" else "")
            body.append(f"<tr{cls}>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>")
        tables.append(f"<h3>{e(label)}</h3>\n<table><thead><tr>{head}</tr></thead><tbody>\n"
                      f"{chr(10).join(body)}\n</tbody></table>")
    if audit.empty:
        tables.append(f"<p class=warn>Nothing to check: no daily statistics and no dials stored for this campaign "
                      f"from {audit.start} to {audit.end}.</p>")
    checked = "".join(f"<li>{e(line)}</li>" for line in checked_lines(audit)) or "<li>no dials in the dial log</li>"
    if audit.flags:
        flags = "<ul>" + "".join(
            f"<li><b>{e(f.kind)}</b> {e(f.when)}: {e(f.detail)}</li>" for f in audit.flags
        ) + "</ul>"
    elif audit.empty:
        flags = "<p class=warn>None, since nothing was checked.</p>"
    else:
        flags = ("<p class=ok>None: no day over the limit, no call outside hours, no dialled number on a register, "
                 "no day dialled with a stale register.</p>")
    declared_lines = "<br>".join(e(line) for line in declared(audit))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Audit: {e(audit.campaign)} {audit.start} to {audit.end}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; }} th, td {{ border: 1px solid #ccc; padding: 3px 8px; text-align: right; }}
td:first-child, td:last-child, th:first-child {{ text-align: left; }}
tr.over td {{ background: #fde0dc; }} tr.total td {{ font-weight: bold; }}
.ok {{ color: #1a7f37; }} .warn {{ color: #b35900; }} .meta {{ color: #555; }}
</style></head><body>
<h1>Campaign {e(audit.campaign)}: {audit.start} to {audit.end}</h1>
<p class=meta>Preset {e(p.name)} ({e(p.title)}). Abandon limit {100 * float(p.abandon_limit):g} % of connected
calls per {e(', '.join(str(i) for i in p.intervals))}; calling hours and public holidays read in {e(p.timezone)}.
Sources: {e(p.sources)}</p>
<p>{declared_lines}</p>
<h2>Daily statistics (norm 4.3)</h2>
{chr(10).join(tables)}
<h2>What was checked</h2>
<ul>{checked}</ul>
<h2>Abandon rate per day against the limit</h2>
<img alt="abandon rate per day against the limit" src="data:image/png;base64,{png}">
<h2>Flags ({len(audit.flags)})</h2>
{flags}
</body></html>
"""
