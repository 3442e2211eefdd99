"""Confidence intervals over replications.

Owns: `mean_ci` (Student-t interval of a mean from independent replications)
and `summarise` (a tidy table of runs -> one row per group and statistic:
mean, ci_low, ci_high, sd, n).

Must not know about: the simulator, files, printing. Replications are
independent (distinct seeds), so the t-interval is exact for normal
statistics and a good approximation for means of a day's counts; with one
replication there is no interval (NaN), never a made-up one.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
from scipy import stats as _st


def mean_ci(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float, float]:
    """(mean, ci_low, ci_high, sd) of `values`; the interval is mean +- t(level, n-1) * sd / sqrt(n)."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = x.size
    if n == 0:
        return (math.nan, math.nan, math.nan, math.nan)
    mean = float(x.mean())
    if n == 1:
        return (mean, math.nan, math.nan, math.nan)
    sd = float(x.std(ddof=1))
    half = float(_st.t.ppf(0.5 + level / 2.0, n - 1)) * sd / math.sqrt(n)
    return (mean, mean - half, mean + half, sd)


def summarise(
    rows: Sequence[dict[str, Any]],
    by: Sequence[str],
    statistics: Sequence[str],
    level: float = 0.95,
    bounds: dict[str, tuple[float, float]] | None = None,
) -> list[dict[str, Any]]:
    """Group `rows` by the `by` columns (first-seen order); per statistic: mean, CI, sd, n.

    `bounds` clips an interval to the statistic's range (a rate is never below 0
    or above 1); clipping only ever keeps values the statistic can take.
    """
    bounds = bounds or {}
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(tuple(_hashable(r.get(k)) for k in by), []).append(r)
    out = []
    for members in groups.values():
        head = {k: members[0].get(k) for k in by}
        for s in statistics:
            vals = [float(m[s]) for m in members if m.get(s) is not None]
            mean, lo, hi, sd = mean_ci(vals, level)
            if s in bounds and not math.isnan(lo):
                lo, hi = max(lo, bounds[s][0]), min(hi, bounds[s][1])
            out.append({**head, "statistic": s, "mean": mean, "ci_low": lo, "ci_high": hi, "sd": sd, "n": len(vals)})
    return out


def _hashable(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, _hashable(x)) for k, x in v.items()))
    return v
