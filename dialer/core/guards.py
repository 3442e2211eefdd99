"""Guards on *which* lead may be dialled *how*: the redial-after-abandon rule.

Owns: `RedialGuard`, the memory of leads whose last call was abandoned (norm
4.6.3: any later call to that number must be made so that it cannot be
abandoned again, i.e. with an agent reserved) and of leads being dialled right
now (a lead is never dialled twice at once).

Rule 1: the guard *checks* before the floor changes anything (`check_dial`
raises `ProtocolError` and changes nothing) and *remembers* only when told
that a dial was placed or a call ended. `admit` does both for a dial, in that
order: the floor calls it once everything else about the dial has passed.
Rule 2: no clock, no I/O, no SimPy: `now` is an argument. The guard knows
leads and times, nothing about agents, pacers or the abandon budget.

With ``lockout=None`` (Norway, norm 4.6.3) the rule never expires: once
abandoned, every later dial of the lead must be reserved until a call to it is
transferred to an agent. With a lockout in seconds (UK: 72 h, 259200.0) an
unreserved redial is allowed again ``lockout`` seconds after the abandon. A
transferred (successful) later call clears the flag in both cases; a later
abandon starts it again.
"""

from __future__ import annotations

import math
from typing import Hashable

from dialer.checks import OrNone, check, positive
from dialer.core.events import Outcome
from dialer.errors import ProtocolError

_ABANDONED = Outcome.ABANDONED
_TRANSFERRED = Outcome.TRANSFERRED
LOCKOUT = OrNone(positive("number of seconds"), meaning="forever")


class RedialGuard:
    """Which leads must be dialled with an agent reserved, and which are in flight."""

    def __init__(self, *, lockout: float | None = None) -> None:
        lockout = check("redial_lockout", lockout, LOCKOUT)
        self.lockout = None if lockout is None else float(lockout)
        #: lead -> time of its last abandoned call (cleared by a transferred call)
        self.abandoned_at: dict[Hashable, float] = {}
        self._in_flight: set[Hashable] = set()
        self._forget_at = -math.inf

    # --- questions -------------------------------------------------------------

    def must_reserve(self, now: float, lead: Hashable) -> bool:
        """True if a dial of `lead` at `now` must have an agent reserved (norm 4.6.3)."""
        t = self.abandoned_at.get(lead)
        if t is None:
            return False
        return self.lockout is None or now < t + self.lockout

    def flagged(self, now: float) -> frozenset[Hashable]:
        """Every lead that must be dialled reserved at `now`."""
        return frozenset(lead for lead in self.abandoned_at if self.must_reserve(now, lead))

    def in_flight(self, lead: Hashable) -> bool:
        return lead in self._in_flight

    def check_dial(self, now: float, lead: Hashable, *, reserved: bool) -> None:
        """Raise `ProtocolError` if `lead` may not be dialled now as asked; change nothing."""
        if lead in self._in_flight:
            raise ProtocolError(f"DialPlaced: lead {lead!r} is already being dialled")
        if not reserved and self.must_reserve(now, lead):
            until = "" if self.lockout is None else f" until t={self.abandoned_at[lead] + self.lockout!r}"
            raise ProtocolError(
                f"DialPlaced: lead {lead!r} was abandoned before and may only be dialled "
                f"with an agent reserved{until} (norm 4.6.3)"
            )

    # --- memory ----------------------------------------------------------------

    def admit(self, now: float, lead: Hashable, reserved: bool) -> None:
        """`check_dial` then `dialled` in one call: raise `ProtocolError` changing nothing, or
        remember `lead` as being dialled. For a caller that has checked everything else first."""
        if lead in self._in_flight or (not reserved and self.abandoned_at and self.must_reserve(now, lead)):
            self.check_dial(now, lead, reserved=reserved)  # raises, naming the reason
        self._in_flight.add(lead)

    def dialled(self, lead: Hashable) -> None:
        """A dial of `lead` was placed (after `check_dial` passed)."""
        self._in_flight.add(lead)

    def ended(self, now: float, lead: Hashable, outcome: Outcome) -> None:
        """The call to `lead` is over with `outcome`."""
        self._in_flight.discard(lead)
        if outcome is _ABANDONED:
            self.abandoned_at[lead] = now
        elif outcome is _TRANSFERRED and self.abandoned_at:
            self.abandoned_at.pop(lead, None)
        if self.lockout is not None:
            self._forget(now)

    def _forget(self, now: float) -> None:
        """Drop flags whose lockout is over (they can never matter again); at most every lockout/4."""
        if now < self._forget_at:
            return
        lockout: float = self.lockout  # type: ignore[assignment]
        self._forget_at = now + lockout / 4
        for lead in [lead for lead, t in self.abandoned_at.items() if t + lockout <= now]:
            del self.abandoned_at[lead]

    def __repr__(self) -> str:
        return (
            f"RedialGuard(lockout={self.lockout!r}, flagged={len(self.abandoned_at)}, "
            f"in_flight={len(self._in_flight)})"
        )
