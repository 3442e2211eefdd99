"""The value a controller answers with: which agents to reserve and how many dials to place now.

Owns: `Decision`, the shared `NO_DIALS` and `new_decision` (the controller's
quick constructor). A leaf of the core: the controller makes decisions and
the lead picker spends them, and neither needs the other to know what one is.
Must not know about: floors, pacers, ledgers; anything but the value itself.

    d = Decision(reserve=("ann",), unreserved=2)
    d.dials        # 3
    NO_DIALS.dials # 0: "nothing to dial" is a value, never an exception
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable


@dataclass(frozen=True, slots=True)
class Decision:
    """What to dial now: one reserved dial per agent in `reserve`, plus `unreserved` dials.

    `wake_at`: ask again at this time even if no event arrives (None: only on events).
    A decision with no dials is a value, not an exception.
    """

    reserve: tuple[Hashable, ...] = ()
    unreserved: int = 0
    wake_at: float | None = None

    @property
    def dials(self) -> int:
        return len(self.reserve) + self.unreserved


#: The decision "nothing to dial, ask again on the next event", as `decide` returns it: one shared
#: value, so a dialer may test `decision is NO_DIALS` (equal decisions made elsewhere are == to it).
NO_DIALS = Decision()

_set_reserve = Decision.reserve.__set__  # type: ignore[attr-defined]
_set_unreserved = Decision.unreserved.__set__  # type: ignore[attr-defined]
_set_wake_at = Decision.wake_at.__set__  # type: ignore[attr-defined]


def new_decision(reserve: tuple[Hashable, ...], unreserved: int, wake_at: float | None) -> Decision:
    """Decision(reserve=..., unreserved=..., wake_at=...) without the dataclass's checks, for the hot path."""
    d = object.__new__(Decision)
    _set_reserve(d, reserve)
    _set_unreserved(d, unreserved)
    _set_wake_at(d, wake_at)
    return d
