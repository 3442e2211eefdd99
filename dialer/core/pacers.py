"""The pacer interface every dialing mode implements, and the two simplest modes.

Owns: `Pacer` (the one small interface: `observe` events, `plan` dials),
`Plan` (what a pacer asks for), and the `Power` and `FixedRatio` pacers.

A pacer only says *how many* dials it wants now, reserved and unreserved.
The controller picks the agents to reserve, caps the plan by free lines and
by the abandon envelope, and returns the decision. A pacer must not know about
SimPy, HTTP, clocks or storage; `now` is always an argument.

Like scikit-learn estimators: keyword-only constructors that store their
arguments verbatim, and one table of parameter constraints (`_constraints`)
checked in one place (`check_params`), so a changed attribute is checked again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from dialer.checks import Constraint, Whole, positive
from dialer.errors import bad

if TYPE_CHECKING:
    from dialer.core.events import Event
    from dialer.core.floor import Floor


@dataclass(frozen=True, slots=True)
class Plan:
    """What a pacer wants now: dials with an agent reserved, dials without, and when to ask again."""

    reserved: int = 0
    unreserved: int = 0
    wake_at: float | None = None


NOTHING = Plan()

# Plans are values: the ones Power asks for again and again are made once. The table is a tuple,
# replaced whole when it grows (never appended to), so a thread reading it mid-growth still finds
# Plan(reserved=k) at every index k.
_RESERVE: tuple[Plan, ...] = (NOTHING,)


def _reserve(n: int) -> Plan:
    """Plan(reserved=n), shared (a plan is frozen)."""
    global _RESERVE
    table = _RESERVE
    if n >= len(table):
        table = table + tuple(Plan(reserved=k) for k in range(len(table), 2 * n + 1))
        _RESERVE = table
    return table[n]


def round_half_up(x: float) -> int:
    """Round to the nearest integer, halves up (2.5 -> 3), as dial levels are usually rounded."""
    return int(math.floor(x + 0.5))


class Pacer:
    """Base class of every pacer: one small interface shared by all dialing modes.

    Subclasses set `mode` (the name used in scenario files), list their
    parameter constraints in `_constraints` as {name: constraint} (the
    constraints of `dialer.checks`, which say what they accept), and implement
    `plan`. `observe` is a hook for pacers that learn.
    """

    mode: ClassVar[str] = ""
    #: True if every dial this pacer plans has an agent reserved (it can never abandon).
    reserves_agents: ClassVar[bool] = False
    #: True if the controller must keep this pacer inside the abandon envelope.
    uses_envelope: ClassVar[bool] = False
    _constraints: ClassVar[dict[str, Constraint]] = {}
    #: keyword arguments that are collaborators, not parameters (a solver): given by whoever builds
    #: the pacer, never read from a scenario or a request, left out of `get_params`
    injected: ClassVar[tuple[str, ...]] = ()

    def check_params(self) -> None:
        """Raise ConfigError naming the first parameter that breaks its constraint (the values stay as set)."""
        for name, constraint in self._constraints.items():
            value = getattr(self, name)
            if not constraint.accepts(value):
                raise bad(f"pacer.{name}", value, f"{constraint} (mode {self.mode!r})")

    def get_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._constraints}

    def observe(self, event: "Event", floor: "Floor") -> None:
        """Learn from an event the floor has just applied (default: nothing to learn)."""

    def plan(self, now: float, floor: "Floor") -> Plan:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


class Power(Pacer):
    """Power (progressive) dialing, norm 4.5: one dial per idle agent, that agent reserved.

    A reserved agent waits for its own call, so no live answer can meet silence.
    """

    mode = "power"
    reserves_agents = True

    def plan(self, now: float, floor: "Floor") -> Plan:
        try:
            return _RESERVE[floor.idle]
        except IndexError:
            return _reserve(floor.idle)


class FixedRatio(Pacer):
    """The naive predictive dialer: keep `ratio` x idle agents dials in flight, none reserved.

    After every event the unreserved dials in flight are topped up to
    round-half-up(ratio x idle agents); dials are never cancelled. Kept as a
    baseline: it knows nothing of the abandon limit.
    """

    mode = "fixed-ratio"
    _constraints = {"ratio": positive()}

    def __init__(self, *, ratio: float = 1.5) -> None:
        self.ratio = ratio

    def plan(self, now: float, floor: "Floor") -> Plan:
        want = round_half_up(self.ratio * floor.idle) - floor.ringing_unreserved
        return Plan(unreserved=want) if want > 0 else NOTHING


class PoissonDialing(Pacer):
    """Open-loop dialing: dials leave as a Poisson stream of `rate` per second, none reserved.

    It looks at nothing on the floor: the textbook open-loop dialer that
    `dialer.theory.poisson_dialing` describes exactly, kept to referee the
    simulator and for teaching. Its arrival times come from its own
    `numpy.random.Generator` seeded with `seed`, so a run is reproducible.
    """

    mode = "poisson"
    _constraints = {
        "rate": positive("number of dials per second"),
        "seed": Whole(0),
    }

    def __init__(self, *, rate: float = 0.1, seed: int = 0) -> None:
        self.rate = rate
        self.seed = seed
        self._rng = None
        self._next: float | None = None

    def plan(self, now: float, floor: "Floor") -> Plan:
        import numpy as np

        if self._rng is None:
            self._rng = np.random.default_rng(self.seed)
        if self._next is None or self._next < now - 1e-6:
            # first call, or not asked at the last arrival (the calling window was closed):
            # by memorylessness, start the stream afresh from now
            self._next = now + float(self._rng.exponential(1.0 / self.rate))
        due = 0
        while self._next <= now + 1e-9:
            due += 1
            self._next += float(self._rng.exponential(1.0 / self.rate))
        return Plan(unreserved=due, wake_at=self._next)
