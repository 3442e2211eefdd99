"""One self-contained HTML report of a results directory, for a planner to send to a manager.

Owns: the report's sections (what was simulated, key figures with 95 %
confidence intervals, the plots embedded as base64 PNG, the compliance
verdict per campaign-day) and their HTML. Nothing is fetched from the
network: no scripts, no external style sheets, no linked images.

Must not know about: how results were computed (it reads dialer.plan.output's
directory), the CLI.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from typing import Any

from dialer.plan import plots
from dialer.plan.output import Results

_CSS = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1100px;
       color: #222; line-height: 1.4; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
.meta { color: #666; font-size: 0.9em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; text-align: right; vertical-align: top; }
th { background: #f5f5f5; } td.l, th.l { text-align: left; }
.ci { color: #777; font-size: 0.85em; display: block; }
.ok { color: #1a7f37; font-weight: 600; } .over { color: #b42318; font-weight: 600; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
.verdict { padding: 0.6em 1em; border-radius: 4px; margin: 1em 0; }
.verdict.ok { background: #e8f5e9; } .verdict.over { background: #fdecea; }
"""

_KEY = (
    ("abandon_rate", "abandon rate", True),
    ("max_day_abandon_rate", "worst day's abandon rate", True),
    ("violation_days", "days over the limit", False),
    ("connects_per_agent_hour", "connects per agent-hour", False),
    ("agent_utilization", "agent utilization", True),
    ("transferred", "calls put through", False),
    ("leads_finished_share", "leads finished", True),
)


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _num(x: Any, pct: bool = False, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{100 * x:.{digits}f} %" if pct else f"{x:,.{digits}f}"


def _clock(v: Any) -> str:
    return str(v)


def _scenario_summary(sc: dict[str, Any]) -> str:
    s = sc["study"]
    parts = [
        "<table>",
        '<tr><th class="l">study</th><td class="l">' + _e(s["name"]) + "</td></tr>",
        '<tr><th class="l">calendar</th><td class="l">' + _e(f"{s['days']} day(s) from {s['start']}, "
                                                              f"{s['hours'][0]}–{s['hours'][1]} {s['timezone']}")
        + "</td></tr>",
        "</table>",
        "<table><tr>" + "".join(f'<th class="l">{h}</th>' for h in ("agent group", "agents", "shift", "campaign"))
        + "</tr>",
    ]
    first = sc["campaigns"][0]["name"]
    for g in sc["agents"]:
        shift = g.get("shift") or s["hours"]
        parts.append(
            f'<tr><td class="l">{_e(g["name"])}</td><td>{g["count"]}</td>'
            f'<td class="l">{_e(shift[0])}–{_e(shift[1])}</td><td class="l">{_e(g.get("campaign") or first)}</td></tr>'
        )
    parts.append("</table>")
    head = ("campaign", "mode", "pacer", "leads", "lines", "abandon limit", "live answers", "talk s (mean)",
            "wrap s (mean)", "max attempts")
    parts.append("<table><tr>" + "".join(f'<th class="l">{h}</th>' for h in head) + "</tr>")
    from dialer.sim.scenario import _parse_dist

    for c in sc["campaigns"]:
        d = c["durations"]
        parts.append(
            "<tr>" + "".join(
                f'<td class="l">{_e(v)}</td>' for v in (
                    c["name"], c["mode"], ", ".join(f"{k}={v}" for k, v in c["pacer"].items()) or "defaults",
                    f"{c['leads']:,}", c["lines"] if c["lines"] is not None else "no cap",
                    _num(c["abandon_limit"], True, 1), _num(c["outcomes"]["live"], True, 1)
                    + (" (by hour)" if c["outcomes"].get("hours") else ""),
                    f"{_parse_dist(d['talk']).mean:.0f}", f"{_parse_dist(d['wrap']).mean:.0f}",
                    c["retry"]["max_attempts"],
                )
            ) + "</tr>"
        )
    parts.append("</table>")
    return "\n".join(parts)


def _key_figures(summary: Any) -> str:
    by = {(r["variation"], r["campaign"], r["statistic"]): r for r in summary.to_dict("records")}
    variations = list(dict.fromkeys(summary["variation"]))
    campaigns = list(dict.fromkeys(summary["campaign"]))
    head = ["variation", "campaign"] + [label for _, label, _ in _KEY]
    rows = ["<table><tr>" + "".join(f'<th class="{"l" if i < 2 else ""}">{_e(h)}</th>' for i, h in enumerate(head))
            + "</tr>"]
    for v in variations:
        for c in campaigns:
            cells = [f'<td class="l">{_e(v)}</td>', f'<td class="l">{_e(c)}</td>']
            for stat, _, pct in _KEY:
                r = by.get((v, c, stat))
                if r is None:
                    cells.append("<td>—</td>")
                    continue
                ci = ("" if r["ci_low"] is None or (isinstance(r["ci_low"], float) and math.isnan(r["ci_low"]))
                      else f'<span class="ci">[{_num(r["ci_low"], pct)}, {_num(r["ci_high"], pct)}]</span>')
                cells.append(f"<td>{_num(r['mean'], pct)}{ci}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
    rows.append("</table>")
    return "\n".join(rows)


def compliance(days: Any) -> list[dict[str, Any]]:
    """Per variation, campaign and date: replications over the limit, mean and worst abandon rate."""
    out = []
    keys = ["variation", "campaign", "date"]
    for key, g in days.groupby(keys, sort=False):
        over = int(g["over_limit"].astype(bool).sum())
        out.append({
            **dict(zip(keys, key)),
            "replications": len(g),
            "over": over,
            "mean_abandon_rate": float(g["abandon_rate"].mean()),
            "worst_abandon_rate": float(g["abandon_rate"].max()),
            "limit": float(g["abandon_limit"].iloc[0]),
        })
    return out


def _compliance_html(days: Any) -> str:
    rows = compliance(days)
    total_over = sum(r["over"] for r in rows)
    n_days = sum(r["replications"] for r in rows)
    cls = "ok" if total_over == 0 else "over"
    text = (f"The abandon limit held on every one of {n_days} simulated campaign-days."
            if total_over == 0 else
            f"{total_over} of {n_days} simulated campaign-days were over the abandon limit.")
    parts = [f'<p class="verdict {cls}">{_e(text)}</p>', "<table><tr>"
             + "".join(f'<th class="{c}">{h}</th>' for c, h in (
                 ("l", "variation"), ("l", "campaign"), ("l", "date"), ("", "limit"), ("", "mean abandon rate"),
                 ("", "worst replication"), ("", "replications over the limit"), ("l", "verdict")))
             + "</tr>"]
    for r in rows:
        verdict = ('<span class="ok">held</span>' if r["over"] == 0 else
                   f'<span class="over">OVER in {r["over"]} of {r["replications"]}</span>')
        parts.append(
            f'<tr><td class="l">{_e(r["variation"])}</td><td class="l">{_e(r["campaign"])}</td>'
            f'<td class="l">{_e(r["date"])}</td><td>{_num(r["limit"], True, 1)}</td>'
            f'<td>{_num(r["mean_abandon_rate"], True)}</td><td>{_num(r["worst_abandon_rate"], True)}</td>'
            f'<td>{r["over"]} / {r["replications"]}</td><td class="l">{verdict}</td></tr>'
        )
    parts.append("</table>")
    return "\n".join(parts)


def _figure(fig: Any, caption: str) -> str:
    data = plots.png_base64(fig)
    return (f'<figure><img alt="{_e(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{_e(caption)}</figcaption></figure>")


_CAPTIONS = {
    "abandon_through_day": "The day's running abandon rate against the limit (top) and the abandons the day could "
                           "still take within it (bottom), for the first replication.",
    "calls_in_flight": "Dials ringing, live answers waiting for an agent and agents available (top); dials per "
                       "available agent (bottom). First replication, first day.",
    "agent_states": "Logged-in agents by state through the first day of the first replication.",
    "tradeoff": "Productivity against abandon rate across the sweep, one curve per mode; bars are 95 % confidence "
                "intervals over replications.",
}


def build(results: Results) -> str:
    """The report of a results directory, as one HTML document."""
    m = results.manifest
    title = f"Capacity plan — {m['name']}"
    body = [f"<h1>{_e(title)}</h1>"]
    made = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    if m["kind"] == "study":
        body.append(
            f'<p class="meta">{_e(m["source"])} · {len(m["variations"])} variation(s) × {m["replications"]} '
            f'replications (seeds {m["seed"]}–{m["seed"] + m["replications"] - 1}) · code {_e(m["code_version"])} '
            f"· report made {_e(made)}</p>"
        )
        body.append("<h2>What was simulated</h2>")
        body.append(_scenario_summary(m["base"]))
        if m.get("sweep"):
            body.append("<p>Variations (each with every replication, the same seeds for every variation):</p><ul>")
            body += [f"<li>{_e(v['label'])}</li>" for v in m["variations"]]
            body.append("</ul>")
        summary = results.table("summary")
        body.append("<h2>Key figures</h2><p>Mean over replications, 95 % confidence interval (Student t) below "
                    "each figure.</p>")
        body.append(_key_figures(summary))
        days = results.table("days")
        body.append("<h2>Compliance: abandon rate per campaign-day</h2>")
        body.append(_compliance_html(days))
        body.append("<h2>Pictures</h2>")
        trace = results.table("trace")
        for name, fig in plots.study_figures(trace, summary).items():
            body.append(_figure(fig, _CAPTIONS[name]))
    else:
        body.append(
            f'<p class="meta">{_e(m["source"])} · campaign {_e(m["campaign"])} · {m["leads"]:,} leads within '
            f'{m["within_days"]} day(s) · {m["replications"]} replications per point · code {_e(m["code_version"])} '
            f"· report made {_e(made)}</p>"
        )
        body.append("<h2>What was simulated</h2>")
        body.append(_scenario_summary(m["base"]))
        body.append("<h2>Agents needed</h2>")
        conf = m["confidence"]
        body.append(
            f"<p>The smallest floor with which at least {_num(conf, True, 0)} of the replications finish "
            f"{_num(m['finish'], True, 0)} of the leads within the calendar, with no campaign-day over the "
            "abandon limit.</p><table><tr><th class=\"l\">mode</th><th>agents needed</th></tr>"
        )
        for mode, n in m["required"].items():
            body.append(f'<tr><td class="l">{_e(mode)}</td><td>{"not found" if n is None else n}</td></tr>')
        body.append("</table>")
        staff = results.table("staff")
        head = ("mode", "agents", "successes", "success (Wilson 95 %)", "leads finished", "worst day's abandon",
                "connects/agent-h")
        body.append("<table><tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>")
        for r in staff.sort_values(["mode", "agents"]).to_dict("records"):
            body.append(
                f'<tr><td class="l">{_e(r["mode"])}</td><td>{r["agents"]}</td><td>{r["successes"]}/{r["replications"]}'
                f'</td><td>{_num(r["success"], True, 0)} [{_num(r["success_low"], True, 0)}, '
                f'{_num(r["success_high"], True, 0)}]</td><td>{_num(r["finished_share"], True, 1)}</td>'
                f'<td>{_num(r["max_day_abandon_rate"], True)}</td><td>{_num(r["connects_per_agent_hour"])}</td></tr>'
            )
        body.append("</table>")
        body.append(_figure(plots.staffing_curve(staff, conf),
                            "Share of replications that succeed, and leads finished, against the agents on the floor."))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
