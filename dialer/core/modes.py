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


def accepted(mode: str) -> list[str]:
    """The parameters a mode's pacer takes (its keyword-only arguments but the injected ones), in order."""
    cls = PACERS[mode]
    return [p.name for p in inspect.signature(cls.__init__).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name not in cls.injected]


def make_pacer(mode: str, params: dict[str, Any] | None = None, **injected: Any) -> Pacer:
    """Build the pacer of `mode` with keyword `params`; errors name the mode and parameter.

    `injected`: collaborators such as a Predictive pacer's `solver`, passed
    to the pacers that take them (`Pacer.injected`) and ignored by the others.
    """
    cls = PACERS.get(mode)
    if cls is None:
        raise ConfigError(f"mode must be one of {', '.join(PACERS)}, got {mode!r}")
    params = dict(params or {})
    takes = accepted(mode)
    for name in params:
        if name not in takes:
            listed = ", ".join(takes) if takes else "no parameters"
            raise ConfigError(f"pacer.{name}: unknown parameter for mode {mode!r} (it takes {listed}), got {name!r}")
    pacer = cls(**params, **{k: v for k, v in injected.items() if k in cls.injected})
    pacer.check_params()
    return pacer
