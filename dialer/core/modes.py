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


def register(cls: type[Pacer]) -> type[Pacer]:
    """Add a pacer class to the registry under its `mode` (usable as a decorator)."""
    PACERS[cls.mode] = cls
    return cls


def make_pacer(mode: str, params: dict[str, Any] | None = None) -> Pacer:
    """Build the pacer of `mode` with keyword `params`; errors name the mode and parameter."""
    cls = PACERS.get(mode)
    if cls is None:
        raise ConfigError(f"mode must be one of {', '.join(PACERS)}, got {mode!r}")
    params = dict(params or {})
    accepted = [
        p.name
        for p in inspect.signature(cls.__init__).parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    for name in params:
        if name not in accepted:
            takes = ", ".join(accepted) if accepted else "no parameters"
            raise ConfigError(f"pacer.{name}: unknown parameter for mode {mode!r} (it takes {takes})")
    pacer = cls(**params)
    pacer.check_params()
    return pacer
