"""Dialing modes by name: the registry scenario files and services use to build pacers.

Owns: the mapping from a mode name ("power", "fixed-ratio", ...) to its pacer
class, and `make_pacer`, which checks the parameters and names a bad one.
Must not know about: scenario files, the simulator, the service.
"""

from __future__ import annotations

import inspect
from typing import Any

from dialer.core.adaptive import Adaptive
from dialer.core.pacers import FixedRatio, Pacer, PoissonDialing, Power
from dialer.core.predictive import Predictive
from dialer.errors import ConfigError

#: mode name -> pacer class
PACERS: dict[str, type[Pacer]] = {
    cls.mode: cls for cls in (Power, FixedRatio, PoissonDialing, Adaptive, Predictive)
}


def _accepted(cls: type[Pacer]) -> list[str]:
    """The keyword-only parameters a pacer class takes, in order."""
    return [p.name for p in inspect.signature(cls.__init__).parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]


def make_pacer(mode: str, params: dict[str, Any] | None = None) -> Pacer:
    """Build the pacer of `mode` with keyword `params`; errors name the mode and parameter."""
    cls = PACERS.get(mode)
    if cls is None:
        raise ConfigError(f"mode must be one of {', '.join(PACERS)}, got {mode!r}")
    params = dict(params or {})
    accepted = _accepted(cls)
    for name in params:
        if name not in accepted:
            takes = ", ".join(accepted) if accepted else "no parameters"
            raise ConfigError(f"pacer.{name}: unknown parameter for mode {mode!r} (it takes {takes})")
    pacer = cls(**params)
    pacer.check_params()
    return pacer


#: the share of the campaign's limit a pacer with a `target` aims at unless told otherwise
TARGET_SHARE = 0.8


def pacer_params(mode: str, params: dict[str, Any] | None, abandon_limit: Any,
                 day_length: float | None = None) -> dict[str, Any]:
    """`params` with what the campaign decides filled in where the scenario left it out.

    A pacer that takes a `limit` (Predictive, Adaptive) gets the campaign's
    abandon limit; one that takes a `target` (Predictive) aims at
    `TARGET_SHARE` of that limit (4 % under the Norwegian 5 %); one that
    takes a `day_length` (Predictive) gets `day_length`, the seconds of
    calling in a day, when the caller knows it. A parameter the scenario
    gives is kept as given (and checked by `make_pacer`).
    """
    out = dict(params or {})
    cls = PACERS.get(mode)
    if cls is None:
        return out
    accepted = _accepted(cls)
    limit = float(abandon_limit)
    if "limit" in accepted and "limit" not in out:
        out["limit"] = limit
    if "target" in accepted and "target" not in out:
        out["target"] = round(TARGET_SHARE * min(limit, float(out.get("limit", limit))), 12)
    if "day_length" in accepted and "day_length" not in out and day_length is not None:
        out["day_length"] = float(day_length)
    return out
