"""What `import dialer` and `import dialer.core` offer: the pacers alike, and the names they list."""

from __future__ import annotations

import dialer
import dialer.core
from dialer.core.adaptive import Adaptive
from dialer.core.pacers import FixedRatio, PoissonDialing, Power
from dialer.core.predictive import Predictive


def test_the_pacers_are_exported_alike_from_dialer_and_dialer_core():
    for cls in (Power, FixedRatio, Predictive, Adaptive, PoissonDialing):
        name = cls.__name__
        assert getattr(dialer, name) is getattr(dialer.core, name) is cls
        assert name in dialer.__all__ and name in dialer.core.__all__


def test_every_listed_name_is_there():
    for module in (dialer, dialer.core):
        assert [n for n in module.__all__ if not hasattr(module, n)] == []
