"""The audit report: what a call centre hands the regulator for one campaign and period.

Owns: `build_audit` (reads the store: the daily statistics of norm 4.3, the
dial log and the registers; asks the rules' calendar and registers whether
each day and each dial kept them) and two renderings, `text_lines` for the
terminal and `render_html` for a self-contained HTML file (the plot of the
abandon rate per day against the limit embedded as a PNG).
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

from dialer.compliance.store import COUNTS, DayRow, DialRow, Store
from dialer.rules.calendar import CallingCalendar, Closed
from dialer.rules.dnc import Entry, Lead, Person, Registers, Status
from dialer.rules.preset import Preset
from dialer.errors import ConfigError, bad
from dialer.units import pct


@dataclass(frozen=True, slots=True)
class Flag:
    kind: str  # "over limit" | "closed day" | "outside hours" | "on register"
    when: str  # the day or the instant, local time
    detail: str


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

    @property
    def limit(self) -> Fraction:
        return self.preset.abandon_limit

    def totals(self) -> DayRow:
        return DayRow(self.campaign, self.end, *(sum(getattr(d, n) for d in self.days) for n in COUNTS))

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
    audit = Audit(campaign, start, end, preset, days, len(dials), 0)
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
        _check_dial(audit, cal, registers, dial)
    return audit


def _check_dial(audit: Audit, cal: CallingCalendar, registers: Registers, dial: DialRow) -> None:
    local = dial.placed_at.astimezone(cal.tz)
    when = local.isoformat(sep=" ", timespec="seconds")
    short = dial.number_hash[:12]
    why = cal.reason_closed(dial.placed_at)
    if why is not None:
        audit.flags.append(Flag("outside hours", when, f"dial of number #{short}: {why}"))
    lead = Lead(Person(number=dial.number_hash),
                existing_customer=dial.exception == "existing_customer",
                express_request=dial.exception == "express_request")
    v = registers.check(lead, dial.placed_at)
    if v.status is Status.BLOCKED:
        audit.flags.append(Flag("on register", when, f"number #{short} was on the {v.register} register when dialled"))
    elif v.status is Status.EXCEPTED:
        audit.excepted += 1


# --- rendering -----------------------------------------------------------------------------------


def table_rows(audit: Audit) -> list[list[str]]:
    """The per-day table (with a total row) as text cells: date, the norm 4.3 counts, rate, note."""
    cal = CallingCalendar(audit.preset)
    rows = []
    for d in audit.days:
        w = cal.day(d.day)
        note = "OVER LIMIT" if audit.over(d) else ""
        if isinstance(w, Closed):
            note = (note + "; " if note else "") + "closed: " + "; ".join(w.reasons)
        rows.append([d.day.isoformat(), *(str(getattr(d, n)) for n in COUNTS), pct(d.abandon_rate), note])
    t = audit.totals()
    rows.append(["total", *(str(getattr(t, n)) for n in COUNTS), pct(t.abandon_rate),
                 "OVER LIMIT" if audit.over(t) else ""])
    return rows


HEADER = ["date", *COUNTS, "abandon rate", "note"]


def text_lines(audit: Audit) -> list[str]:
    p = audit.preset
    lines = [
        f"Audit of campaign {audit.campaign!r}, {audit.start} to {audit.end}, preset {p.name} "
        f"(abandon limit {100 * float(p.abandon_limit):g} % per {', '.join(str(i) for i in p.intervals)}; "
        f"calling hours and holidays in {p.timezone})",
    ]
    rows = [HEADER, *table_rows(audit)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    for r in rows:
        lines.append("  ".join(c.ljust(w) if i in (0, len(HEADER) - 1) else c.rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths))).rstrip())
    lines.append(f"dials in the dial log: {audit.dials}; called under a register exception: {audit.excepted}")
    if not audit.days:
        lines.append("no daily statistics stored for this period")
    if audit.flags:
        lines.append(f"FLAGS: {len(audit.flags)}")
        lines.extend(f"  {f.kind}: {f.when}: {f.detail}" for f in audit.flags)
    else:
        lines.append("FLAGS: none (no day over the limit, no call outside hours, no dialled number on a register)")
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
    body = []
    for r in table_rows(audit):
        cls = ' class="over"' if "OVER" in r[-1] else (' class="total"' if r[0] == "total" else "")
        body.append(f"<tr{cls}>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>")
    if audit.flags:
        flags = "<ul>" + "".join(
            f"<li><b>{e(f.kind)}</b> {e(f.when)}: {e(f.detail)}</li>" for f in audit.flags
        ) + "</ul>"
    else:
        flags = "<p class=ok>None: no day over the limit, no call outside hours, no dialled number on a register.</p>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Audit: {e(audit.campaign)} {audit.start} to {audit.end}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; }} th, td {{ border: 1px solid #ccc; padding: 3px 8px; text-align: right; }}
td:first-child, td:last-child, th:first-child {{ text-align: left; }}
tr.over td {{ background: #fde0dc; }} tr.total td {{ font-weight: bold; }}
.ok {{ color: #1a7f37; }} .meta {{ color: #555; }}
</style></head><body>
<h1>Campaign {e(audit.campaign)}: {audit.start} to {audit.end}</h1>
<p class=meta>Preset {e(p.name)} ({e(p.title)}). Abandon limit {100 * float(p.abandon_limit):g} % of connected
calls per {e(', '.join(str(i) for i in p.intervals))}; calling hours and public holidays read in {e(p.timezone)}.
Sources: {e(p.sources)}</p>
<h2>Daily statistics (norm 4.3)</h2>
<table><thead><tr>{head}</tr></thead><tbody>
{chr(10).join(body)}
</tbody></table>
<p>Dials in the dial log: {audit.dials}; called under a register exception (existing customer, express request):
{audit.excepted}.</p>
<h2>Abandon rate per day against the limit</h2>
<img alt="abandon rate per day against the limit" src="data:image/png;base64,{png}">
<h2>Flags ({len(audit.flags)})</h2>
{flags}
</body></html>
"""
