"""Argument checks shared by the theory modules.

Owns: turning a bad argument into `dialer.errors.ConfigError` with the
project's one message shape, "{field} must be {requirement}, got {value!r}".
Must not know about: anything but `dialer.errors`. Every public function of
`dialer.theory` validates its arguments here before it computes anything, so a
bad argument never surfaces as a numpy warning, a NaN or a ZeroDivisionError.
"""

from __future__ import annotations

import math
import numbers

from dialer.errors import bad


def _real(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise bad(name, value, "a real number")
    x = float(value)
    if not math.isfinite(x):
        raise bad(name, value, "a finite number")
    return x


def positive(name: str, value: object) -> float:
    """A finite number > 0 (times, service rates)."""
    x = _real(name, value)
    if x <= 0:
        raise bad(name, value, "a positive number")
    return x


def non_negative(name: str, value: object) -> float:
    """A finite number >= 0 (arrival rates, loads, grace, patience)."""
    x = _real(name, value)
    if x < 0:
        raise bad(name, value, "a non-negative number")
    return x


def probability(name: str, value: object) -> float:
    """A finite number in [0, 1]."""
    x = _real(name, value)
    if not 0.0 <= x <= 1.0:
        raise bad(name, value, "a probability in [0, 1]")
    return x


def integer(name: str, value: object, minimum: int) -> int:
    """An integer (bool excluded; an integral float such as 10.0 is accepted) >= minimum."""
    if isinstance(value, bool):
        raise bad(name, value, f"an integer >= {minimum}")
    if isinstance(value, numbers.Integral):
        k = int(value)
    elif isinstance(value, numbers.Real) and math.isfinite(float(value)) and float(value).is_integer():
        k = int(value)
    else:
        raise bad(name, value, f"an integer >= {minimum}")
    if k < minimum:
        raise bad(name, value, f"an integer >= {minimum}")
    return k


def dialing_floor(agents: object, handle_time: object, ring_time: object, live_prob: object,
                  abandon_limit: object) -> tuple[int, float, float, float, float]:
    """The Markovian dialing floor of `optimal_pacing` and what is built on it, checked in argument order.

    Returns (agents, handle_time, ring_time, live_prob, abandon_limit); the
    limit is a probability here, each caller says what else it needs of it.
    """
    return (integer("agents", agents, 1), positive("handle_time", handle_time), positive("ring_time", ring_time),
            probability("live_prob", live_prob), probability("abandon_limit", abandon_limit))
