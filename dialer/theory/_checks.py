"""Argument checks shared by the theory modules: the constraints of `dialer.checks`, named for them.

Owns: the few kinds of argument the theory takes (a positive number, a
non-negative one, a probability, an integer with a minimum, the Markovian
dialing floor), each returned as the float or int the formulas use.
Must not know about: anything but `dialer.checks` and `dialer.errors`. Every
public function of `dialer.theory` validates its arguments here before it
computes anything, so a bad argument never surfaces as a numpy warning, a NaN
or a ZeroDivisionError.
"""

from __future__ import annotations

from dialer.checks import Real, Whole, check, non_negative as _non_negative, positive as _positive

_POSITIVE = _positive()  # "a positive number"
_NON_NEGATIVE = _non_negative()  # "a non-negative number"
_PROBABILITY = Real(0, 1, noun="probability")  # "a probability in [0, 1]"


def positive(name: str, value: object) -> float:
    """A finite number > 0 (times, service rates)."""
    return float(check(name, value, _POSITIVE))


def non_negative(name: str, value: object) -> float:
    """A finite number >= 0 (arrival rates, loads, grace, patience)."""
    return float(check(name, value, _NON_NEGATIVE))


def probability(name: str, value: object) -> float:
    """A finite number in [0, 1]."""
    return float(check(name, value, _PROBABILITY))


def integer(name: str, value: object, minimum: int) -> int:
    """An integer (bool excluded; an integral float such as 10.0 is accepted) >= minimum."""
    return check(name, value, Whole(minimum, noun="integer", integral_floats=True))


def dialing_floor(agents: object, handle_time: object, ring_time: object, live_prob: object,
                  abandon_limit: object) -> tuple[int, float, float, float, float]:
    """The Markovian dialing floor of `optimal_pacing` and what is built on it, checked in argument order.

    Returns (agents, handle_time, ring_time, live_prob, abandon_limit); the
    limit is a probability here, each caller says what else it needs of it.
    """
    return (integer("agents", agents, 1), positive("handle_time", handle_time), positive("ring_time", ring_time),
            probability("live_prob", live_prob), probability("abandon_limit", abandon_limit))
