"""Results on disk: a directory of tidy tables (CSV and Parquet) with a manifest.

Owns: the layout of a results directory, writing it and reading it back:

    manifest.json        what was run: kind ("study" or "staff"), name, source,
                         replications, seeds, variations, scenarios, code version
    runs.csv/.parquet    one row per variation x replication x campaign
    days.csv/.parquet    one row per variation x replication x campaign x day
    summary.csv/.parquet one row per variation x campaign x statistic: mean, ci_low, ci_high, sd, n
    trace.csv/.parquet   the first replication of each variation, sampled through the day
    study.json           the summary as JSON (what `dialer study --json` writes)
    staff.csv/.parquet   (kind "staff") one row per mode x agents tried
    plots/               PNG and SVG of every plot

Must not know about: how runs are computed, how plots are drawn.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from dialer.errors import ConfigError

TABLES = ("runs", "days", "summary", "trace", "staff")


def _pandas():
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - declared in the 'plan' extra
        raise ConfigError("pandas: not installed, got a planning command (install dialer-pacing[plan])") from None
    return pd


def _json_default(x: Any) -> Any:
    if hasattr(x, "item"):
        return x.item()
    if hasattr(x, "isoformat"):
        return x.isoformat()
    raise TypeError(type(x).__name__)


def _clean(x: Any) -> Any:
    if isinstance(x, float) and math.isnan(x):
        return None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_clean(v) for v in x]
    return x


def dumps(data: Any) -> str:
    return json.dumps(_clean(data), indent=2, default=_json_default) + "\n"


def make_dir(path: str | Path, flag: str = "--out") -> Path:
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ConfigError(f"{flag} {str(p)!r} cannot be created: {err.strerror or err}") from None
    if not p.is_dir():
        raise ConfigError(f"{flag} must be a directory, got {str(p)!r}")
    return p


def write_table(out: Path, name: str, rows: list[dict[str, Any]]) -> list[Path]:
    """`name`.csv and `name`.parquet from tidy rows (nothing is written for no rows)."""
    if not rows:
        return []
    pd = _pandas()
    df = pd.DataFrame(rows)
    for col in df.columns:  # mixed None/str columns: keep them as text for Parquet
        if df[col].dtype == object:
            df[col] = df[col].map(lambda v: None if v is None else (v if isinstance(v, str) else json.dumps(v)))
    paths = [out / f"{name}.csv", out / f"{name}.parquet"]
    try:
        df.to_csv(paths[0], index=False)
        df.to_parquet(paths[1], index=False)
    except OSError as err:
        raise ConfigError(f"--out {str(out)!r} cannot be written: {err.strerror or err}") from None
    return paths


def write_json(path: Path, data: Any, flag: str = "--out") -> Path:
    try:
        path.write_text(dumps(data), encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"{flag} {str(path)!r} cannot be written: {err.strerror or err}") from None
    return path


def write_study(out: Path, result: Any, manifest: dict[str, Any]) -> list[Path]:
    from dialer.plan.study import json_summary

    paths = [write_json(out / "manifest.json", manifest)]
    for name in ("runs", "days", "summary", "trace"):
        paths += write_table(out, name, getattr(result, name))
    paths.append(write_json(out / "study.json", json_summary(result)))
    return paths


class Results:
    """A results directory read back: the manifest and the tables as pandas DataFrames."""

    def __init__(self, path: str | Path) -> None:
        p = Path(path)
        if p.is_file() and p.name in ("manifest.json", "study.json"):
            p = p.parent
        if not (p / "manifest.json").is_file():
            raise ConfigError(
                f"RESULTS must be a results directory written by 'dialer study' or 'dialer staff' "
                f"(with a manifest.json), got {str(path)!r}"
            )
        self.dir = p
        try:
            self.manifest = json.loads((p / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise ConfigError(f"RESULTS: {str(p / 'manifest.json')!r} cannot be read, got {err}") from None
        if self.manifest.get("kind") not in ("study", "staff"):
            raise ConfigError(f"RESULTS: manifest kind must be study or staff, got {self.manifest.get('kind')!r}")
        self._tables: dict[str, Any] = {}

    def table(self, name: str):
        """The table `name` (from Parquet, else CSV), or None when the study did not write it."""
        if name not in self._tables:
            pd = _pandas()
            pq, csv = self.dir / f"{name}.parquet", self.dir / f"{name}.csv"
            try:
                if pq.is_file():
                    self._tables[name] = pd.read_parquet(pq)
                elif csv.is_file():
                    self._tables[name] = pd.read_csv(csv)
                else:
                    self._tables[name] = None
            except (OSError, ValueError) as err:
                raise ConfigError(f"RESULTS: table {name!r} cannot be read, got {err}") from None
        return self._tables[name]
