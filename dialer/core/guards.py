"""Guards on *which* number may be dialled *how*: the redial-after-abandon rule of norm 4.6.3.

Owns: `AbandonedNumbers` (a call centre's memory of numbers whose call was
abandoned, shared by every campaign of a store or a simulated floor) and
`RedialGuard` (one campaign's view of it, and of the numbers it is dialling
right now: a number is never dialled twice at once). Norm 4.6.3: any later
call to a number abandoned before must be made so that it cannot be
abandoned again (an agent reserved); a later call that reaches an agent
does not change that, and a preset's lockout (UK: 72 h) is the only end.
Must not know about: agents, pacers, the abandon budget; clocks (`now` is an
argument), phone number plans (a `key` function maps a lead or its phone
to the key numbers are compared on: `dialer.rules.phone.number_key`).

    numbers = AbandonedNumbers()                      # one per call centre
    a = RedialGuard(numbers=numbers, key=number_key())
    b = RedialGuard(numbers=numbers, key=number_key())
    a.ended(10.0, "912 34 567", Outcome.ABANDONED)
    b.must_reserve(20.0, "+4791234567")               # True: the same number, another campaign
"""

from __future__ import annotations

from typing import Callable, Hashable, Iterator, KeysView

from dialer.checks import OrNone, check, positive
from dialer.core.events import Outcome
from dialer.errors import ProtocolError

_ABANDONED = Outcome.ABANDONED
LOCKOUT = OrNone(positive("number of seconds"), meaning="forever")


class AbandonedNumbers:
    """Number key -> the instant of its last abandoned call, on a clock every campaign sharing it uses.

    `on_abandon(key, at)`, if set, hears every abandon (a store keeps them).
    Entries are never dropped: whether one still binds depends on the asking
    campaign's lockout (none: for ever).
    """

    def __init__(self, entries: dict[Hashable, float] | None = None) -> None:
        self._at: dict[Hashable, float] = dict(entries or {})
        self.on_abandon: Callable[[Hashable, float], None] | None = None

    def __len__(self) -> int:
        return len(self._at)

    def __eq__(self, other: object) -> bool:  # the same memory: the same numbers at the same instants
        return isinstance(other, AbandonedNumbers) and self._at == other._at

    __hash__ = None  # type: ignore[assignment]  (mutable)

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self._at)

    def keys(self) -> KeysView[Hashable]:
        """The keys of the numbers abandoned, a live view: a caller may keep it to ask, without a call,
        whether any number was abandoned yet."""
        return self._at.keys()

    def get(self, key: Hashable) -> float | None:
        """When `key`'s last abandoned call ended (None: never)."""
        return self._at.get(key)

    def abandoned(self, key: Hashable, at: float) -> None:
        """A call to `key` was abandoned at `at` (the latest abandon is kept)."""
        last = self._at.get(key)
        if last is None or at > last:
            self._at[key] = at
        if self.on_abandon is not None:
            self.on_abandon(key, at)

    def items(self) -> list[tuple[Hashable, float]]:
        return list(self._at.items())


def _same(x: Hashable) -> Hashable:
    return x


class RedialGuard:
    """One campaign's redial rule: which numbers must be dialled with an agent reserved, and which are in flight.

    `lockout`: seconds after an abandon during which an unreserved redial is
    refused (None: for ever, norm 4.6.3; UK: 259200.0). `numbers`: the
    memory of abandoned numbers, shared with other campaigns (default: one
    of its own). `key`: lead (or phone) -> the key numbers are compared on
    (default: the lead itself). `offset`: added to this campaign's times to
    put them on the clock `numbers` keeps (campaigns with different time
    origins share one memory in Unix seconds).
    """

    def __init__(self, *, lockout: float | None = None, numbers: AbandonedNumbers | None = None,
                 key: Callable[[Hashable], Hashable] | None = None, offset: float = 0.0) -> None:
        lockout = check("redial_lockout", lockout, LOCKOUT)
        self.lockout = None if lockout is None else float(lockout)
        self.numbers = numbers if numbers is not None else AbandonedNumbers()
        self.key = _same if key is None else key
        self._keyed = key is not None
        self.offset = float(offset)
        self._in_flight: set[Hashable] = set()

    # --- questions -------------------------------------------------------------

    def must_reserve(self, now: float, number: Hashable) -> bool:
        """True if a dial of `number` (a lead, or its phone) at `now` must have an agent reserved."""
        t = self.numbers.get(self.key(number) if self._keyed else number)
        if t is None:
            return False
        return self.lockout is None or now + self.offset < t + self.lockout

    def flagged(self, now: float) -> frozenset[Hashable]:
        """The keys of every number that must be dialled reserved at `now`."""
        if self.lockout is None:
            return frozenset(self.numbers)
        cut = now + self.offset - self.lockout
        return frozenset(k for k, t in self.numbers.items() if t > cut)

    def in_flight(self, number: Hashable) -> bool:
        return (self.key(number) if self._keyed else number) in self._in_flight

    def check_dial(self, now: float, number: Hashable, *, reserved: bool) -> None:
        """Raise `ProtocolError` if `number` may not be dialled now as asked; change nothing."""
        if self.in_flight(number):
            raise ProtocolError(f"DialPlaced: number {number!r} is already being dialled")
        if not reserved and self.must_reserve(now, number):
            t = self.numbers.get(self.key(number))
            until = "" if self.lockout is None else f" until t={t - self.offset + self.lockout!r}"  # type: ignore[operator]
            raise ProtocolError(
                f"DialPlaced: number {number!r} was abandoned before and may only be dialled "
                f"with an agent reserved{until} (norm 4.6.3)"
            )

    # --- memory ----------------------------------------------------------------

    def admit(self, now: float, number: Hashable, reserved: bool) -> None:
        """`check_dial` then remember `number` as being dialled, in one call: raise `ProtocolError`
        changing nothing, or remember. For a caller that has checked everything else first."""
        k = self.key(number) if self._keyed else number
        # (the memory's own dict: whether any number was abandoned, without a call to its __len__)
        if k in self._in_flight or (not reserved and self.numbers._at and self.must_reserve(now, number)):
            self.check_dial(now, number, reserved=reserved)  # raises, naming the reason
        self._in_flight.add(k)

    def ended(self, now: float, number: Hashable, outcome: Outcome) -> None:
        """The call to `number` is over with `outcome` (an abandon is remembered, on the shared clock)."""
        k = self.key(number) if self._keyed else number
        self._in_flight.discard(k)
        if outcome is _ABANDONED:
            self.numbers.abandoned(k, now + self.offset)

    def __repr__(self) -> str:
        return (f"RedialGuard(lockout={self.lockout!r}, flagged={len(self.numbers)}, "
                f"in_flight={len(self._in_flight)})")
