"""The HTML report: well-formed, self-contained, with the figures, the CIs and the verdict per campaign-day."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import pytest

from dialer import cli

VOID = {"meta", "img", "br", "hr", "link", "input", "col", "source", "wbr"}


class Checker(HTMLParser):
    """Tag balance (every non-void element closed, in order), images, external references."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.images: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        a = dict(attrs)
        for key in ("src", "href"):
            if key in a and not a[key].startswith(("data:", "#")):
                self.problems.append(f"external reference {a[key]!r}")
        if tag == "img":
            self.images.append(a.get("src", ""))
            if not a.get("alt"):
                self.problems.append("img without alt")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()


def check(text: str) -> Checker:
    assert text.startswith("<!DOCTYPE html>")
    c = Checker()
    c.feed(text)
    c.close()
    assert not c.problems, c.problems[:5]
    assert c.stack == [], c.stack
    assert "script" not in c.tags
    for src in c.images:
        head, data = src.split(",", 1)
        assert head == "data:image/png;base64"
        png = base64.b64decode(data, validate=True)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000
    return c


@pytest.fixture(scope="module")
def sweep_results(toml, tmp_path_factory):
    """One small sweep (2 modes x 2 replications, 2 days) shared by the tests of this module."""
    tmp = tmp_path_factory.mktemp("report")
    scenario = {
        "study": {"name": "small floor", "start": "2026-11-24", "days": 2, "hours": ["09:00", "10:00"]},
        "agents": [{"name": "day", "count": 3}],
        "campaigns": [{"name": "sales", "leads": 300, "outcomes": {"live": 0.3}}],
    }
    (tmp / "base.toml").write_text(toml(scenario))
    path = tmp / "sweep.toml"
    path.write_text(toml({"sweep": {"name": "report <sweep> & co", "scenario": "base.toml", "replications": 2},
                          "grid": {"mode": ["power", "predictive"]}}))
    out = tmp / "results"
    assert cli.main(["study", str(path), "--serial", "--no-cache", "--no-plots", "--out", str(out)]) == 0
    return out


def test_study_report_is_valid_self_contained_html(sweep_results, tmp_path, capsys):
    report = tmp_path / "r.html"
    assert cli.main(["report", str(sweep_results), "--out", str(report)]) == 0
    text = report.read_text(encoding="utf-8")
    c = check(text)
    assert len(c.images) == 4  # abandon through the day, calls in flight, agent states, trade-off
    assert "report &lt;sweep&gt; &amp; co" in text  # names are escaped
    for heading in ("What was simulated", "Key figures", "Compliance: abandon rate per campaign-day", "Pictures"):
        assert heading in text
    # a verdict per variation x campaign x date: 2 variations x 2 days
    assert len(re.findall(r'<td class="l"><span class="(?:ok|over)">', text)) == 4
    assert "2026-11-25" in text
    assert re.search(r'<span class="ci">\[[0-9.]+ %, [0-9.]+ %\]</span>', text)


def test_report_defaults_into_the_results_directory(sweep_results):
    assert cli.main(["report", str(sweep_results / "manifest.json")]) == 0
    check((sweep_results / "report.html").read_text(encoding="utf-8"))


def test_report_of_something_else_is_one_line(tmp_path, capsys):
    (tmp_path / "x.txt").write_text("hello")
    assert cli.main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dialer: error: RESULTS must be a results directory") and err.count("\n") == 1
