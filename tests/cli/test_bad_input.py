"""Every command fed bad input: one line on stderr naming the flag or field and the value, exit 2, no traceback.

The table below runs each case in-process through `dialer.cli.main` (fast: a
bad input is refused before any simulation, solve or search starts, which
is part of what is tested), and a few through a real `python -m dialer.cli`
process to prove no traceback reaches the terminal. Each case names what
the one line must hold: the flag or field, and the value as given.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dialer import limits
from dialer.compliance.store import Store
from dialer.sim import scenario

from cli_helpers import assert_one_error_line, run

SECRET = "a test secret of more than sixteen bytes"

# A small valid scenario (its runs would take a second; none of the cases below gets that far).
GOOD = """\
[study]
name = "bad input"
start = "2026-11-24"
days = 1
hours = ["09:00", "11:00"]

[[agents]]
count = 2

[[campaigns]]
name = "c"
mode = "fixed-ratio"
pacer = { ratio = 1.5 }
leads = 200
abandon_limit = 0.05
connect_limit = 2.0

[campaigns.outcomes]
live = 0.3

[campaigns.durations]
talk = 60

[campaigns.retry]
max_attempts = 3
busy = 900
"""


def _edit(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


def _at_the_maxima() -> str:
    """A scenario at every maximum at once: 366 days, 100 campaigns holding 10,000,000 leads, 20,000 agents."""
    head, rest = GOOD.split("[[agents]]", 1)
    campaign = "[[campaigns]]" + rest.split("[[campaigns]]", 1)[1]
    leads = limits.MAX_LEADS // limits.MAX_CAMPAIGNS
    groups = limits.MAX_SCENARIO_AGENTS // limits.MAX_AGENTS
    text = head.replace("days = 1", f"days = {limits.MAX_DAYS}")
    text += "".join(f'[[agents]]\ncount = {limits.MAX_AGENTS}\ncampaign = "c{i}"\n\n' for i in range(groups))
    text += "\n".join(campaign.replace('name = "c"', f'name = "c{i}"').replace("leads = 200", f"leads = {leads}")
                      for i in range(limits.MAX_CAMPAIGNS))
    return text


#: scenario files: name -> text (bytes for a file that is not UTF-8)
SCENARIOS: dict[str, str | bytes] = {
    "good": GOOD,
    "count-true": _edit("count = 2", "count = true"),  # pydantic read it as 1 agent
    "count-fraction": _edit("count = 2", "count = 2.5"),
    "count-text": _edit("count = 2", 'count = "2"'),  # pydantic read it as 2
    "count-over": _edit("count = 2", f"count = {limits.MAX_AGENTS + 1}"),
    "count-huge": _edit("count = 2", "count = 99999999999999999999"),
    "groups-over": GOOD + "".join(f"\n[[agents]]\ncount = {limits.MAX_AGENTS}\n" for _ in range(4)),
    "leads-over": _edit("leads = 200", f"leads = {limits.MAX_LEADS + 1}"),
    "leads-negative": _edit("leads = 200", "leads = -5"),
    "leads-float": _edit("leads = 200", "leads = 1e9"),
    "days-over": _edit("days = 1", f"days = {limits.MAX_DAYS + 1}"),
    "days-bool": _edit("days = 1", "days = true"),
    "start-1900": _edit('start = "2026-11-24"', "start = 1900-01-01"),  # open on New Year's Day, it said
    "start-9999": _edit('start = "2026-11-24"', 'start = "9999-12-31"'),
    "start-number": _edit('start = "2026-11-24"', "start = 0"),  # pydantic read it as 1970-01-01
    "past-2100": _edit('start = "2026-11-24"', "start = 2100-12-30").replace("days = 1", "days = 5"),
    "pacer-key": _edit("pacer = { ratio = 1.5 }", "pacer = { ration = 1.5 }"),
    "pacer-bool": _edit("pacer = { ratio = 1.5 }", "pacer = { ratio = true }"),
    "limit-bool": _edit("abandon_limit = 0.05", "abandon_limit = true"),
    "limit-nan": _edit("abandon_limit = 0.05", "abandon_limit = nan"),
    "connect-inf": _edit("connect_limit = 2.0", "connect_limit = inf"),
    "live-negative": _edit("live = 0.3", "live = -0.1"),
    "talk-negative": _edit("talk = 60", "talk = -3"),
    "talk-bool": _edit("talk = 60", "talk = true"),
    "retry-true": _edit("busy = 900", "busy = true"),
    "attempts-float": _edit("max_attempts = 3", "max_attempts = 3.0"),
    "name-number": _edit('name = "c"', "name = 5"),
    "mode-empty": _edit('mode = "fixed-ratio"', 'mode = ""'),
    "lines-zero": _edit("leads = 200", "leads = 200\nlines = 0"),
    "calls-many": _edit("leads = 200", "leads = 700000"),  # 2.1 million dials at most: a call log of 1.4 GB
    "maxima": _at_the_maxima(),
    "maxima-plus-one": _at_the_maxima().replace("leads = 100000\n", "leads = 100001\n", 1),
    "malformed": "[study\n",
    "not-utf8": b"\xff\xfe[study]\n",
}

#: other files: name -> content
FILES: dict[str, str | bytes] = {
    "not-utf8.csv": b"\xff\xfe\x00dial,answer\n",
    "not-csv.csv": "just some words\n",
    "huge-field.csv": "x" * 200_000 + "\n",
    "late-not-utf8.csv": b"dial,answer,connect,end,outcome\n" + b"a,b,c,d,e\n" * 3000 + b"\xff\n",
    "sweep-reps.toml": "[sweep]\nreplications = 100000000000\n[grid]\nagents = [2]\n",
    "sweep-reps-bool.toml": "[sweep]\nreplications = true\n",
    "sweep-runs.toml": "[sweep]\nreplications = 10000\n[grid]\nagents = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]\n",
    "sweep-days.toml": "[sweep]\nreplications = 2000\n[grid]\ndays = [300]\n",
    "sweep-trace.toml": "[sweep]\ntrace = 0.001\n[grid]\ndays = [366]\n",
    "sweep-agents.toml": "[sweep]\n[grid]\nagents = [true]\n",
}

BIG = "99999999999999999999999"
S = ["--store", "{tmp}/s.sqlite"]

# (id, argv ({tmp} is the test's directory, {sc:NAME} a scenario of SCENARIOS), what the line must hold)
CASES: list[tuple[str, list[str], list[str]]] = [
    # --- the command itself
    ("no-command", [], ["the following arguments are required: command"]),
    ("unknown-command", ["simulat"], ["invalid choice: 'simulat'"]),
    # --- scenarios, through every command that reads one
    ("count-true", ["simulate", "{sc:count-true}"], ["agents[0].count", "True", "from 1 to 5000"]),
    ("count-fraction", ["simulate", "{sc:count-fraction}"], ["agents[0].count", "2.5"]),
    ("count-text", ["theory", "{sc:count-text}"], ["agents[0].count", "'2'"]),
    ("count-over", ["calls", "{sc:count-over}", "--out", "{tmp}/c.csv"], ["agents[0].count", "5001", "5000"]),
    ("count-huge", ["simulate", "{sc:count-huge}"], ["agents[0].count", "99999999999999999999"]),
    ("groups-over", ["simulate", "{sc:groups-over}"], ["agents", "20000", "got 20002"]),
    ("leads-over", ["simulate", "{sc:leads-over}"], ["campaigns[0].leads", "10000001", "10000000"]),
    ("leads-negative", ["study", "{sc:leads-negative}", "--serial"], ["campaigns[0].leads", "-5"]),
    ("leads-float", ["simulate", "{sc:leads-float}"], ["campaigns[0].leads", "1000000000.0"]),
    ("days-over", ["simulate", "{sc:days-over}"], ["study.days", "367", "366"]),
    ("days-bool", ["simulate", "{sc:days-bool}"], ["study.days", "True"]),
    ("start-1900", ["simulate", "{sc:start-1900}"], ["start", "'1900-01-01'", "1901-01-01 to 2100-12-31"]),
    ("start-9999", ["theory", "{sc:start-9999}"], ["start", "'9999-12-31'", "2100-12-31"]),
    ("start-number", ["simulate", "{sc:start-number}"], ["study.start", "got 0"]),
    ("past-2100", ["simulate", "{sc:past-2100}"], ["days", "at most 2", "got 5"]),
    ("pacer-key", ["simulate", "{sc:pacer-key}"], ["pacer.ration", "'ration'", "ratio"]),
    ("pacer-bool", ["simulate", "{sc:pacer-bool}"], ["pacer.ratio", "True"]),
    ("limit-bool", ["simulate", "{sc:limit-bool}"], ["campaigns[0].abandon_limit", "True"]),
    ("limit-nan", ["simulate", "{sc:limit-nan}"], ["campaigns[0].abandon_limit", "nan"]),
    ("connect-inf", ["simulate", "{sc:connect-inf}"], ["campaigns[0].connect_limit", "inf"]),
    ("live-negative", ["simulate", "{sc:live-negative}"], ["outcomes.live", "-0.1"]),
    ("talk-negative", ["simulate", "{sc:talk-negative}"], ["durations.talk", "-3"]),
    ("talk-bool", ["simulate", "{sc:talk-bool}"], ["durations.talk", "True"]),
    ("retry-true", ["simulate", "{sc:retry-true}"], ["retry.busy", "True", "or false"]),
    ("attempts-float", ["simulate", "{sc:attempts-float}"], ["retry.max_attempts", "3.0"]),
    ("name-number", ["simulate", "{sc:name-number}"], ["campaigns[0].name", "got 5"]),
    ("mode-empty", ["simulate", "{sc:mode-empty}"], ["campaigns[0].mode", "''"]),
    ("lines-zero", ["simulate", "{sc:lines-zero}"], ["campaigns[0].lines", "got 0"]),
    ("malformed-toml", ["simulate", "{sc:malformed}"], ["malformed TOML"]),
    ("scenario-not-utf8", ["simulate", "{sc:not-utf8}"], ["not-utf8.toml", "not UTF-8"]),
    ("scenario-missing", ["simulate", "{tmp}/missing.toml"], ["missing.toml", "does not exist"]),
    ("scenario-directory", ["simulate", "{tmp}"], ["cannot be read"]),
    ("emulate-bad-scenario", ["emulate", "--url", "http://127.0.0.1:1", "{sc:count-true}"], ["agents[0].count"]),
    ("staff-bad-scenario", ["staff", "{sc:count-true}", "--leads", "10", "--within", "1", "--serial"],
     ["agents[0].count", "True"]),
    # --- simulate's flags
    ("seed-negative", ["simulate", "{sc:good}", "--seed", "-1"], ["--seed", "'-1'"]),
    ("seed-empty", ["simulate", "{sc:good}", "--seed", ""], ["--seed", "''"]),
    ("seed-float", ["simulate", "{sc:good}", "--seed", "1e3"], ["--seed", "'1e3'"]),
    ("store-mysql", ["simulate", "{sc:good}", "--store", "mysql://db/x"], ["store", "'mysql://db/x'"]),
    ("store-password-hidden", ["simulate", "{sc:good}", "--store", "mysql://u:secret@db/x"], ["'mysql://u:***@db/x'"]),
    # --- theory and erlang
    ("theory-json-dir", ["theory", "{sc:pacer-key}", "--json", "{tmp}"], ["pacer.ration"]),
    ("servers-huge", ["erlang", "c", "--rate", "100", "--handle", "180", "--servers", "1000000000"],
     ["--servers", "'1000000000'", "from 1 to 100000"]),
    ("servers-b-huge", ["erlang", "b", "--load", "5", "--servers", BIG], ["--servers", BIG, "100000"]),
    ("servers-negative", ["erlang", "b", "--load", "5", "--servers", "-1"], ["--servers", "'-1'"]),
    ("servers-nan", ["erlang", "c", "--rate", "100", "--handle", "180", "--servers", "nan"], ["--servers", "'nan'"]),
    ("load-over", ["erlang", "b", "--load", "1e9", "--target", "0.01"], ["--load", "'1e9'", "100000"]),
    ("load-target-unreachable", ["erlang", "b", "--load", "99000", "--target", "1e-9"],
     ["--target", "1e-09", "100000 servers"]),
    ("load-inf", ["erlang", "b", "--load", "inf", "--servers", "3"], ["--load", "'inf'"]),
    ("rate-huge-target", ["erlang", "c", "--rate", "1e300", "--handle", "180", "--target", "0.8"],
     ["--rate", "1e+300/h", "100000"]),
    ("rate-huge-a", ["erlang", "a", "--rate", "1e12", "--handle", "180", "--patience", "60", "--servers", "3"],
     ["--rate", "1e+12/h"]),
    ("rate-target-unreachable", ["erlang", "c", "--rate", "99999.9/s", "--handle", "1", "--target", "0.999",
                                 "--within", "0"], ["--target", "0.999", "100000 agents"]),
    ("rate-empty-unit", ["erlang", "c", "--rate", "100/", "--handle", "180", "--servers", "10"], ["--rate", "'100/'"]),
    ("rate-empty", ["erlang", "c", "--rate", "", "--handle", "180", "--servers", "10"], ["--rate", "''"]),
    ("handle-nan", ["erlang", "c", "--rate", "100", "--handle", "nan", "--servers", "10"], ["--handle", "'nan'"]),
    ("patience-zero", ["erlang", "a", "--rate", "100", "--handle", "180", "--patience", "0", "--servers", "3"],
     ["--patience", "'0'"]),
    ("within-inf", ["erlang", "c", "--rate", "100", "--handle", "180", "--servers", "10", "--within", "inf"],
     ["--within", "'inf'"]),
    ("target-100", ["erlang", "c", "--rate", "100", "--handle", "180", "--target", "100%"], ["--target", "'100%'"]),
    ("erlang-neither", ["erlang", "c", "--rate", "100", "--handle", "180"], ["--servers or --target"]),
    # --- study, staff, calls, fit, report
    ("replications-huge", ["study", "--replications", "100000000000", "--serial"],
     ["--replications", "'100000000000'", "from 1 to 10000"]),
    # a scenario at every maximum: one replication is 36,600 campaign-days, so 13 fit (it grew to 4 GB before)
    ("maxima-study", ["study", "{sc:maxima}", "--replications", "14", "--serial"],
     ["--replications", "at most 13", "36600 campaign-days", "got 14"]),
    ("maxima-plus-one", ["simulate", "{sc:maxima-plus-one}"], ["campaigns", "10000000 leads", "got 10000001"]),
    ("replications-zero", ["study", "--replications", "0"], ["--replications", "'0'"]),
    ("replications-nan", ["study", "--replications", "nan"], ["--replications", "'nan'"]),
    ("sweep-replications", ["study", "{tmp}/sweep-reps.toml", "--serial"],
     ["sweep.replications", "100000000000", "10000"]),
    ("sweep-replications-bool", ["study", "{tmp}/sweep-reps-bool.toml", "--serial"], ["sweep.replications", "True"]),
    ("sweep-runs", ["study", "{tmp}/sweep-runs.toml", "--serial"], ["sweep.replications", "at most 9090", "10000"]),
    ("sweep-campaign-days", ["study", "{tmp}/sweep-days.toml", "--serial"],
     ["sweep.replications", "at most 1666", "2000"]),
    ("flag-campaign-days", ["study", "{tmp}/sweep-days.toml", "--serial", "--replications", "5000"],
     ["--replications", "at most 1666", "5000"]),
    ("sweep-trace", ["study", "{tmp}/sweep-trace.toml", "--serial"], ["sweep.trace", "0.001"]),
    ("sweep-agents-bool", ["study", "{tmp}/sweep-agents.toml", "--serial"], ["agents", "True"]),
    ("study-file-to-theory", ["theory", "{tmp}/sweep-agents.toml", "--quick"], ["[sweep]", "dialer study"]),
    ("study-file-to-simulate", ["simulate", "{tmp}/sweep-agents.toml"], ["[sweep]", "dialer study"]),
    ("study-not-utf8", ["study", "{sc:not-utf8}"], ["not UTF-8"]),
    ("staff-leads", ["staff", "--leads", BIG, "--within", "2"], ["--leads", BIG, "10000000"]),
    ("staff-within", ["staff", "--leads", "100", "--within", "367"], ["--within", "'367'", "366"]),
    ("staff-replications", ["staff", "--leads", "100", "--within", "2", "--replications", "10001"],
     ["--replications", "'10001'"]),
    ("staff-finish", ["staff", "--leads", "100", "--within", "2", "--finish", "nan", "--serial"], ["--finish", "nan"]),
    ("staff-modes", ["staff", "--leads", "100", "--within", "2", "--modes", "turbo", "--serial"], ["--modes", "'turbo'"]),
    ("calls-seed", ["calls", "--seed", "-1", "--out", "{tmp}/c.csv"], ["--seed", "'-1'"]),
    ("calls-too-many", ["calls", "{sc:calls-many}", "--out", "{tmp}/c.csv"],
     ["leads x retry.max_attempts", "2000000", "got 2100000"]),
    ("fit-not-utf8", ["fit", "{tmp}/not-utf8.csv", "--out", "{tmp}/f.toml"], ["not-utf8.csv", "not UTF-8"]),
    ("fit-late-not-utf8", ["fit", "{tmp}/late-not-utf8.csv", "--out", "{tmp}/f.toml"],
     ["late-not-utf8.csv", "not UTF-8", "after line"]),
    ("fit-not-csv", ["fit", "{tmp}/not-csv.csv", "--out", "{tmp}/f.toml"], ["not-csv.csv", "header must have columns"]),
    ("fit-huge-field", ["fit", "{tmp}/huge-field.csv", "--out", "{tmp}/f.toml"], ["huge-field.csv", "line 1"]),
    ("fit-missing", ["fit", "{tmp}/missing.csv"], ["missing.csv", "does not exist"]),
    ("fit-min-dials", ["fit", "{tmp}/not-csv.csv", "--min-hour-dials", "0"], ["--min-hour-dials", "'0'"]),
    ("report-not-results", ["report", "{tmp}"], ["RESULTS"]),
    # --- hours and audit: the years the calendar knows
    ("hours-9999", ["hours", "--date", "9999-12-31", "--days", "3"], ["--date", "'9999-12-31'", "2100-12-31"]),
    ("hours-1900", ["hours", "--date", "1900-01-01"], ["--date", "'1900-01-01'", "1901-01-01"]),
    ("hours-past-2100", ["hours", "--date", "2100-12-30", "--days", "3"], ["--days", "at most 2", "got 3"]),
    ("hours-days-over", ["hours", "--days", "367"], ["--days", "'367'", "366"]),
    ("hours-days-huge", ["hours", "--days", BIG], ["--days", BIG]),
    ("hours-date-empty", ["hours", "--date", ""], ["--date", "''"]),
    ("hours-date-invalid", ["hours", "--date", "2026-02-30"], ["--date", "'2026-02-30'"]),
    ("hours-preset", ["hours", "--preset", "XX"], ["preset", "'XX'"]),
    ("hours-presets-not-utf8", ["hours", "--presets", "{tmp}/not-utf8.csv"], ["not UTF-8"]),
    ("audit-all-time", ["audit", "--campaign", "x", "--from", "0001-01-01", "--to", "9999-12-31", *S],
     ["--from", "'0001-01-01'", "1901-01-01"]),
    ("audit-to-9999", ["audit", "--campaign", "x", "--from", "2026-01-01", "--to", "9999-12-31", *S],
     ["--to", "'9999-12-31'"]),
    ("audit-mysql", ["audit", "--campaign", "x", "--from", "2026-01-01", "--to", "2026-01-02", "--store", "mysql://x/y"],
     ["store", "'mysql://x/y'"]),
    ("audit-reversed", ["audit", "--campaign", "x", "--from", "2026-02-01", "--to", "2026-01-01", *S],
     ["--to", "'2026-01-01'"]),
    # --- the statistics store: 32-bit columns, abandoned within connected
    ("record-huge", ["stats", "record", "--campaign", "x", "--date", "2026-01-01", "--attempted", BIG, *S],
     ["--attempted", BIG, "2147483647"]),
    ("record-over-column", ["stats", "record", "--campaign", "x", "--date", "2026-01-01", "--attempted", "2147483648",
                            *S], ["--attempted", "'2147483648'"]),
    ("record-negative", ["stats", "record", "--campaign", "x", "--date", "2026-01-01", "--connected", "-1", *S],
     ["--connected", "'-1'"]),
    ("record-abandoned", ["stats", "record", "--campaign", "x", "--date", "2026-01-01", "--abandoned", "5", *S],
     ["abandoned", "at most the day's connected calls", "0 connected", "got 5"]),
    ("record-date-9999", ["stats", "record", "--campaign", "x", "--date", "9999-12-31", "--attempted", "1", *S],
     ["--date", "'9999-12-31'"]),
    ("record-campaign-empty", ["stats", "record", "--campaign", "", "--date", "2026-01-01", "--attempted", "1", *S],
     ["campaign", "''"]),
    ("record-mysql", ["stats", "record", "--campaign", "x", "--date", "2026-01-01", "--store", "mysql://x/y"],
     ["store", "'mysql://x/y'"]),
    ("export-all-time", ["stats", "export", "--from", "0001-01-01", *S], ["--from", "'0001-01-01'"]),
    ("export-mysql", ["stats", "export", "--store", "mysql://x/y"], ["store", "'mysql://x/y'"]),
    ("export-csv-dir", ["stats", "export", "--csv", "{tmp}", *S], ["--csv"]),
    ("retain-today-0001", ["stats", "retain", "--today", "0001-01-01", *S], ["--today", "'0001-01-01'"]),
    ("retain-months-huge", ["stats", "retain", "--months", BIG, *S], ["--months", BIG, "1200"]),
    ("retain-months-short", ["stats", "retain", "--months", "6", *S], ["--months", "'6'", "12"]),
    ("retain-mysql", ["stats", "retain", "--store", "mysql://x/y"], ["store", "'mysql://x/y'"]),
    # --- the do-not-call registers
    ("dnc-import-not-utf8", ["dnc", "import", "national", "{tmp}/not-utf8.csv", *S], ["not-utf8.csv", "not UTF-8"]),
    ("dnc-import-not-csv", ["dnc", "import", "national", "{tmp}/not-csv.csv", *S], ["not-csv.csv", "phone column"]),
    ("dnc-import-huge-field", ["dnc", "import", "internal", "{tmp}/huge-field.csv", *S], ["huge-field.csv", "line 1"]),
    ("dnc-import-mysql", ["dnc", "import", "national", "{tmp}/not-csv.csv", "--store", "mysql://x/y"],
     ["store", "'mysql://x/y'"]),
    ("dnc-wash-not-utf8", ["dnc", "wash", "{tmp}/not-utf8.csv", "--out", "{tmp}/w.csv", *S], ["not UTF-8"]),
    ("dnc-block-empty", ["dnc", "block", "", *S], ["phone", "''"]),
    ("dnc-block-letters", ["dnc", "block", "abc", *S], ["phone", "'abc'"]),
    ("dnc-block-mysql", ["dnc", "block", "12345678", "--store", "mysql://x/y"], ["store", "'mysql://x/y'"]),
    # --- the live commands
    ("serve-port", ["serve", "--port", "99999"], ["--port", "'99999'"]),
    ("serve-mysql", ["serve", "--port", "0", "--store", "mysql://x/y"], ["store", "'mysql://x/y'"]),
    ("emulate-url", ["emulate", "--url", "notaurl"], ["--url", "'notaurl'"]),
    ("emulate-speed-zero", ["emulate", "--url", "http://127.0.0.1:1", "--speed", "0"], ["--speed", "'0'"]),
    ("emulate-speed-inf", ["emulate", "--url", "http://127.0.0.1:1", "--speed", "inf"], ["--speed", "'inf'"]),
    ("serve-secret-file", ["serve", "--port", "0", "--secret-file", "{tmp}/missing-secret"],
     ["--secret-file", "missing-secret"]),
    ("serve-max-skew", ["serve", "--port", "0", "--max-skew", "-1"], ["--max-skew", "'-1'"]),
    ("serve-snapshot-every", ["serve", "--port", "0", "--snapshot-every", "ten"], ["--snapshot-every", "'ten'"]),
    ("serve-max-body", ["serve", "--port", "0", "--max-body", "0"], ["--max-body", "'0'"]),
    ("simulate-replace-alone", ["simulate", "{sc:good}", "--replace"], ["--replace", "--store"]),
]


@pytest.fixture
def tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory holding every file of SCENARIOS (as NAME.toml) and FILES; the secret and no policy cache."""
    for name, text in SCENARIOS.items():
        path = tmp_path / f"{name}.toml"
        path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text, encoding="utf-8")
    for name, text in FILES.items():
        path = tmp_path / name
        path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("DIALER_DNC_SECRET", SECRET)
    monkeypatch.setenv("DIALER_CACHE_DIR", "off")
    monkeypatch.delenv("DIALER_STORE", raising=False)
    return tmp_path


def _argv(argv: list[str], tmp: Path) -> list[str]:
    out = []
    for a in argv:
        if a.startswith("{sc:"):
            a = str(tmp / f"{a[4:-1]}.toml")
        out.append(a.replace("{tmp}", str(tmp)))
    return out


@pytest.mark.parametrize(("argv", "needles"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_naming_it(tmp, capsys, argv, needles):
    code = run(_argv(argv, tmp))
    captured = capsys.readouterr()
    assert code == 2, captured
    assert "Traceback" not in captured.err
    assert_one_error_line(captured, needles)


def test_the_scenario_at_the_maxima_is_allowed():
    """The maxima are reachable all at once: what the table refuses for it is the study's size, not the scenario."""
    sc = scenario.loads(SCENARIOS["maxima"])
    assert sum(g.count for g in sc.agents) == limits.MAX_SCENARIO_AGENTS
    assert sum(c.leads for c in sc.campaigns) == limits.MAX_LEADS
    assert (len(sc.campaigns), sc.study.days) == (limits.MAX_CAMPAIGNS, limits.MAX_DAYS)


def test_every_command_is_in_the_table():
    from dialer import cli

    tried = {c[1][0] for c in CASES if c[1]}
    assert {c.name for c in cli.commands()} <= tried


def test_the_good_scenario_of_the_table_is_good():
    """The cases break one thing each in a scenario that loads: what they refuse is that one thing."""
    assert scenario.loads(GOOD).agents[0].count == 2


def test_an_abandoned_count_is_checked_against_what_the_day_already_has(tmp, capsys):
    """`stats record --abandoned` counts the connected and abandoned calls already stored for the day."""
    store = ["--store", str(tmp / "s.sqlite"), "--campaign", "x", "--date", "2026-01-01"]
    assert run(["stats", "record", *store, "--connected", "2", "--abandoned", "1"]) == 0
    assert run(["stats", "record", *store, "--abandoned", "1"]) == 0
    capsys.readouterr()
    assert run(["stats", "record", *store, "--abandoned", "1"]) == 2
    assert_one_error_line(capsys.readouterr(), ["abandoned", "x 2026-01-01 has 2 connected and 2 abandoned", "got 1"])
    with Store(tmp / "s.sqlite") as s:
        assert s.days()[0].counts()["abandoned"] == 2  # nothing was added
    # so the audit can never print "5 abandoned of 0 connected = 0.00 % > 5 %" again
    assert run(["audit", "--campaign", "x", "--from", "2026-01-01", "--to", "2026-01-01", *store[:2]]) == 0
    assert "2026-01-01: 2 abandoned of 2 connected = 100.00 % > 5 %" in capsys.readouterr().out


def test_an_unknown_pacer_key_names_the_key_and_the_allowed_ones_only(tmp, capsys):
    """It used to print the whole campaign (1,159 characters for the default scenario)."""
    text = scenario.default_text().replace("live_prob = 0.25", "live_prb = 0.25")
    (tmp / "pk.toml").write_text(text, encoding="utf-8")
    assert run(["simulate", str(tmp / "pk.toml")]) == 2
    captured = capsys.readouterr()
    assert_one_error_line(captured, ["pacer.live_prb", "got 'live_prb'", "live_prob, ring_time, handle_time"])
    assert "outcomes" not in captured.err and len(captured.err) < 400


def test_version(capsys):
    from dialer._version import __version__

    assert run(["--version"]) == 0
    assert capsys.readouterr().out == f"dialer {__version__}\n"


def test_a_percent_in_a_command_help_is_printed_once(capsys):
    """`dialer study --help` showed "95 %%": the command's help line was escaped for its description too."""
    assert run(["study", "--help"]) == 0
    out = capsys.readouterr().out
    assert "95 %" in out and "%%" not in out


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["fit", "{tmp}/not-utf8.csv", "--out", "{tmp}/f.toml"], ["not UTF-8"]),
        (["hours", "--date", "9999-12-31", "--days", "3"], ["--date", "'9999-12-31'"]),
        (["stats", "record", "--campaign", "x", "--date", "2026-01-01", "--attempted", BIG, *S], ["--attempted", BIG]),
        (["study", "--replications", "100000000000"], ["--replications", "'100000000000'"]),
        (["simulate", "{sc:count-true}"], ["agents[0].count", "True"]),
        (["stats", "export", "--store", "mysql://x/y"], ["store", "'mysql://x/y'"]),
    ],
    ids=["fit", "hours", "stats-record", "study", "simulate", "store"],
)
def test_the_real_command_prints_no_traceback(tmp, argv, needles):
    proc = subprocess.run([sys.executable, "-m", "dialer.cli", *_argv(argv, tmp)], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dialer: error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
