"""Shared helpers for the planning tests: small scenarios that run in a few hundredths of a second."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

SMALL: dict[str, Any] = {
    "study": {"name": "small floor", "start": "2026-11-24", "days": 2, "hours": ["09:00", "10:30"]},
    "agents": [{"name": "day", "count": 4}],
    "campaigns": [
        {
            "name": "sales",
            "mode": "power",
            "leads": 500,
            "outcomes": {"live": 0.3, "machine": 0.1, "busy": 0.05, "invalid": 0.03},
        }
    ],
}


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f'"{k}" = {toml_value(x)}' for k, x in v.items()) + " }"
    return repr(v)


def to_toml(data: dict[str, Any]) -> str:
    """Enough TOML for scenario and study files: tables, arrays of tables, inline values."""
    lines: list[str] = []
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(f"[{key}]")
            for k, v in value.items():
                lines.append(f"{k} = {toml_value(v)}")
        elif isinstance(value, list):
            for item in value:
                lines.append(f"[[{key}]]")
                for k, v in item.items():
                    lines.append(f"{k} = {toml_value(v)}")
        else:
            raise AssertionError(f"top-level {key!r} must be a table")
        lines.append("")
    return "\n".join(lines)


@pytest.fixture(scope="session")
def toml():
    """The `to_toml` function, for fixtures of wider scope than `write`."""
    return to_toml


@pytest.fixture
def small() -> dict[str, Any]:
    return copy.deepcopy(SMALL)


@pytest.fixture
def write(tmp_path: Path):
    """write(name, data) -> path of a TOML file in tmp_path."""

    def _write(name: str, data: dict[str, Any]) -> Path:
        p = tmp_path / name
        p.write_text(to_toml(data), encoding="utf-8")
        return p

    return _write
