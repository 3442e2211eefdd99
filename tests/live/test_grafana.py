"""The Grafana dashboard (docs/grafana-dashboard.json) reads only what a running service exposes.

Every PromQL selector of the dashboard is taken apart (its metric name and
its label matchers) and looked for in the /metrics of a real `dialer serve`
after a few events: a metric renamed or a label value that no series has
would leave a panel empty in Grafana without a word; here it fails.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from live_auth import TOKEN

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json"
DS = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
CAMPAIGN = "grafana-sales"

_STRING = r'"(?:[^"\\]|\\.)*"'
_NAME = r"[A-Za-z_:][A-Za-z0-9_:]*"
_KEYWORDS = {"by", "on", "without", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or", "unless"}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: every name that is not a function, a keyword, a label
    (in matchers, `by (...)`, `on (...)` and the like), a string, a range or a dashboard variable."""
    e = re.sub(_STRING, '""', expr)
    e = re.sub(r"\{[^}]*\}", " ", e)  # label matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)  # range selectors
    e = re.sub(r"\$\{?\w+\}?", " ", e)  # $__rate_interval, $campaign
    e = re.sub(r"\b(?:by|on|without|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    names = set()
    for m in re.finditer(_NAME, e):
        if m.start() > 0 and (e[m.start() - 1].isdigit() or e[m.start() - 1] == "."):
            continue  # the exponent or fraction of a number (1e3)
        if m.group() in _KEYWORDS or e[m.end():].lstrip().startswith("("):
            continue  # a keyword or a function
        names.add(m.group())
    return names


def selectors(expr: str) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """Each `name{label op "value", ...}` of the expression: (name, [(label, op, value), ...])."""
    out = []
    for m in re.finditer(rf"({_NAME})\s*\{{([^}}]*)\}}", expr):
        matchers = re.findall(rf'(\w+)\s*(=~|!~|!=|=)\s*({_STRING})', m.group(2))
        out.append((m.group(1), [(label, op, json.loads(value)) for label, op, value in matchers]))
    return out


def test_the_expression_parser_finds_metrics_and_nothing_else():
    expr = ('histogram_quantile(0.95, sum by (campaign, le) (rate(x_bucket{campaign=~"$campaign", le!="1e3"}'
            '[$__rate_interval]))) - on(campaign) group_left() y * 1e3 + z offset 5m')
    assert metric_names(expr) == {"x_bucket", "y", "z"}
    assert selectors(expr) == [("x_bucket", [("campaign", "=~", "$campaign"), ("le", "!=", "1e3")])]


def panels(dashboard: dict) -> list[dict]:
    return [p for p in dashboard["panels"] if p["type"] != "row"]


def exprs(dashboard: dict) -> list[str]:
    return [t["expr"] for p in panels(dashboard) for t in p["targets"]]


def test_the_dashboard_is_importable_and_asks_for_its_datasource_and_campaigns():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource" and variables["DS_PROMETHEUS"]["query"] == "prometheus"
    campaign = variables["campaign"]
    assert campaign["datasource"] == DS and campaign["multi"] and campaign["includeAll"]
    assert re.fullmatch(r"label_values\((dialer_\w+), campaign\)", campaign["query"]["query"])
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    cells = set()  # no two panels on the same cell of the 24-column grid
    for p in dashboard["panels"]:
        g = p["gridPos"]
        assert 0 <= g["x"] and g["x"] + g["w"] <= 24
        mine = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not mine & cells, p["title"]
        cells |= mine
    for p in panels(dashboard):
        assert p["datasource"] == DS and p["targets"], p["title"]
        assert all(t["datasource"] == DS for t in p["targets"])
        assert len({t["refId"] for t in p["targets"]}) == len(p["targets"])
    for expr in exprs(dashboard):
        assert expr.count("(") == expr.count(")") and expr.count("{") == expr.count("}"), expr
        found = selectors(expr)
        # every metric the expression reads is a selector of ours, limited to the chosen campaigns
        assert {name for name, _ in found} == metric_names(expr) and found, expr
        for name, matchers in found:
            assert name.startswith("dialer_") and ("campaign", "=~", "$campaign") in matchers, expr


def _matches(labels: dict[str, str], matchers: list[tuple[str, str, str]]) -> bool:
    for label, op, value in matchers:
        value = value.replace("$campaign", CAMPAIGN)
        have = labels.get(label, "")
        ok = {"=": have == value, "!=": have != value, "=~": re.fullmatch(value, have) is not None,
              "!~": re.fullmatch(value, have) is None}[op]
        if not ok:
            return False
    return True


def test_every_series_the_dashboard_reads_is_exposed_by_a_running_service(start_server, tmp_path):
    from prometheus_client.parser import text_string_to_metric_families

    _, url = start_server(f"sqlite:///{tmp_path / 'grafana.sqlite'}")
    ev = lambda i, tp, t, **kw: {"id": f"g{i}", "type": tp, "time": t, **kw}  # noqa: E731
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as http:
        assert http.put(f"/campaigns/{CAMPAIGN}", json={"mode": "power", "lines": 10}).status_code == 201
        login = [ev(1, "AgentLoggedIn", 0.0, agent="ann"), ev(2, "AgentLoggedIn", 0.0, agent="bob")]
        decision = http.post(f"/campaigns/{CAMPAIGN}/decide", json={"now": 1.0, "events": login}).json()["decision"]
        assert decision["reserve"] == ["ann", "bob"]
        calls = [ev(3, "DialPlaced", 1.0, call=1, lead=100, agent="ann"), ev(4, "CallAnswered", 9.0, call=1, human=True),
                 ev(5, "CallConnected", 9.0, call=1, agent="ann"), ev(6, "DialPlaced", 10.0, call=2, lead=101, agent="bob")]
        http.post(f"/campaigns/{CAMPAIGN}/decide", json={"now": 10.0, "events": calls}).raise_for_status()
        text = http.get("/metrics").text

    series: dict[str, list[dict[str, str]]] = {}
    for family in text_string_to_metric_families(text):  # also checks that the text parses
        for sample in family.samples:
            series.setdefault(sample.name, []).append(sample.labels)
    dashboard = json.loads(DASHBOARD.read_text())
    variable = {v["name"]: v for v in dashboard["templating"]["list"]}["campaign"]
    listed = re.fullmatch(r"label_values\((\w+), campaign\)", variable["query"]["query"]).group(1)
    assert CAMPAIGN in {labels["campaign"] for labels in series[listed]}  # the campaign list offers it
    read = set()
    for expr in exprs(dashboard):
        for name, matchers in selectors(expr):
            read.add(name)
            assert any(_matches(labels, matchers) for labels in series.get(name, [])), (name, matchers)
    # what the issue asks the dashboard to show is among what it reads
    assert {"dialer_abandon_rate", "dialer_abandon_limit", "dialer_abandon_headroom", "dialer_dial_level",
            "dialer_agents", "dialer_agents_leaving", "dialer_calls", "dialer_decision_seconds_bucket", "dialer_flagged_dials_total",
            "dialer_promise_breaks_total"} <= read
    # the histogram counted both decisions: the latency panel has data
    (count,) = [s for s in text.splitlines() if s.startswith(f'dialer_decision_seconds_count{{campaign="{CAMPAIGN}"}}')]
    assert count.split()[-1] == "2"


def test_the_latency_histogram_counts_each_decision_in_every_bucket_at_or_above_it():
    from dialer.live.metrics import Latencies

    lat = Latencies(buckets=(0.01, 0.1, 1.0))
    for seconds in (0.004, 0.01, 0.05, 3.0):  # 0.01 is on a bound: le means "at most"
        lat.observe("a", seconds)
    assert lat.get("a") == ([2, 3, 3, 4], pytest.approx(3.064))
    assert lat.get("b") == ([0, 0, 0, 0], 0.0)


def test_the_dial_level_is_lines_in_use_per_agent_available_and_nan_with_none_and_leaving_agents_are_counted():
    from dialer.live.campaign import LiveCampaign
    from dialer.live.metrics import render_metrics

    c = LiveCampaign(name="dl", mode="power")
    ev = lambda i, tp, t, **kw: {"id": f"d{i}", "type": tp, "time": t, **kw}  # noqa: E731

    def level() -> str:
        (line,) = [s for s in render_metrics([c]).splitlines() if s.startswith("dialer_dial_level{")]
        return line.split()[-1]

    assert level() == "NaN"  # nobody logged in
    c.submit([ev(1, "AgentLoggedIn", 0.0, agent="ann"), ev(2, "AgentLoggedIn", 0.0, agent="bob"),
              ev(3, "AgentLoggedIn", 0.0, agent="cid"), ev(4, "AgentPaused", 0.0, agent="cid")], decide_at=0.0)
    c.submit([ev(5, "DialPlaced", 1.0, call=1, lead=1, agent="ann"), ev(6, "DialPlaced", 1.0, call=2, lead=2, agent="bob"),
              ev(7, "DialPlaced", 1.0, call=3, lead=3)])
    assert level() == "1.5"  # three lines in use, two agents available (cid is paused)

    def leaving() -> str:
        (line,) = [s for s in render_metrics([c]).splitlines() if s.startswith("dialer_agents_leaving{")]
        return line.split()[-1]

    assert leaving() == "0"
    c.submit([ev(8, "AgentLeaving", 2.0, agent="ann")])
    assert leaving() == "1" and level() == "1.5"  # ann still takes her call: she is available until she leaves
