"""Declarative checks of the values a user gives: constraints that say what they accept, and `check`.

Owns: the constraint objects (`Real`, `Whole`, `Flag`, `OneOf`, `OrNone`,
`Either`; `positive`, `non_negative`), `is_number` (a test of type for code
that branches on it) and `check(field, value, constraint)`, which returns the value
(normalised: a whole number as an `int`) or raises
`dialer.errors.bad(field, value, requirement)`. A constraint's `str()` is its
requirement in words, so every refusal reads "{field} must be {requirement},
got {value!r}".
Must not know about: anything of ours but `dialer.errors`; every layer may
import it. Checks run when a value is made (a constructor, a configuration),
never per event on a hot path.

Rules: a boolean is never a number (True is not 1); NaN is never a number,
and infinity only where a constraint says `finite=False`; an integral float
(10.0) is a whole number only where a constraint says `integral_floats=True`.

    RATE = Real(0, 1, closed="neither", noun="rate")   # "a rate strictly between 0 and 1"
    check("pacer.target", 0.04, RATE)                  # -> 0.04
    check("lines", 0, OrNone(Whole(1), meaning="no cap"))
    # ConfigError: lines must be a whole number >= 1 (or None: no cap), got 0
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from dialer.errors import ConfigError, DialerError, bad

#: what `Constraint.convert` returns for a value it refuses (None may be a good value)
REFUSED: Any = type("Refused", (), {"__repr__": lambda self: "REFUSED", "__slots__": ()})()

_CLOSED = ("both", "left", "right", "neither")


def _a(phrase: str) -> str:
    """The phrase with its indefinite article: "an integer", "a rate"."""
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def _num(x: Any) -> str:
    """A bound as people write it: 1 for 1.0, 0.05 for 0.05, 86400 for 86400.0."""
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


class Constraint:
    """What a good value is: `convert` returns it (normalised) or `REFUSED`; `str()` says it in words.

    `says`: the requirement in a place's own words, instead of the generated
    ones; `hint`: words added in parentheses ("ring timeout + connect limit").
    A constraint is a value: once made it cannot change, so its words never
    go stale.
    """

    __slots__ = ("requirement",)

    def __init__(self, says: str | None = None, hint: str | None = None) -> None:
        text = says if says is not None else self.describe()
        self.requirement = f"{text} ({hint})" if hint else text  # set last: from here on, frozen

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(self, "requirement"):
            raise AttributeError(f"a constraint cannot change ({type(self).__name__}.{name}); make a new one")
        object.__setattr__(self, name, value)

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def convert(self, value: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def accepts(self, value: Any) -> bool:
        return self.convert(value) is not REFUSED

    def __str__(self) -> str:
        return self.requirement

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.requirement}>"


class Real(Constraint):
    """A real number (a bool is not one), finite unless `finite=False`, between optional bounds.

    `closed` says which bounds are included, as in scikit-learn's Interval:
    "both", "left", "right" or "neither". `noun` names what the number is
    ("rate", "number of seconds"). The value is returned as given (an int
    stays an int).
    """

    __slots__ = ("low", "high", "closed", "noun", "finite")

    def __init__(self, low: float | None = None, high: float | None = None, *, closed: str = "both",
                 noun: str = "number", finite: bool = True, says: str | None = None, hint: str | None = None) -> None:
        if closed not in _CLOSED:
            raise ValueError(f"closed must be one of {', '.join(_CLOSED)}, got {closed!r}")
        self.low, self.high, self.closed, self.noun, self.finite = low, high, closed, noun, finite
        super().__init__(says, hint)

    def describe(self) -> str:
        lo, hi, noun = self.low, self.high, self.noun
        left, right = self.closed in ("both", "left"), self.closed in ("both", "right")
        if lo is not None and hi is not None:
            if not left and not right:
                return f"{_a(noun)} strictly between {_num(lo)} and {_num(hi)}"
            return f"{_a(noun)} in {'[' if left else '('}{_num(lo)}, {_num(hi)}{']' if right else ')'}"
        if lo is not None:
            if lo == 0:
                return _a(("non-negative " if left else "positive ") + noun)
            return f"{_a(noun)} {'>=' if left else '>'} {_num(lo)}"
        if hi is not None:
            return f"{_a(noun)} {'<=' if right else '<'} {_num(hi)}"
        return _a(("finite " if self.finite else "") + noun)

    def convert(self, value: Any) -> Any:
        # the live service checks every event's time here: the common cases first, few lookups
        tp = type(value)
        if tp is float:
            x = value
        elif tp is not int and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
            return REFUSED
        else:
            try:
                x = float(value)
            except OverflowError:  # a whole number beyond any float
                x = math.inf if value > 0 else -math.inf
        if x - x != 0.0 and (x != x or self.finite):  # NaN, or an infinity where only finite numbers go
            return REFUSED
        lo = self.low
        if lo is not None and (x < lo or (x == lo and self.closed not in ("both", "left"))):
            return REFUSED
        hi = self.high
        if hi is not None and (x > hi or (x == hi and self.closed not in ("both", "right"))):
            return REFUSED
        return value


class Whole(Constraint):
    """A whole number (a bool is not one) from `low` to `high` (both included, both optional).

    Returned as an `int`. An integral float such as 10.0 is accepted (as 10)
    only with `integral_floats=True`.
    """

    __slots__ = ("low", "high", "noun", "integral_floats")

    def __init__(self, low: int | None = None, high: int | None = None, *, noun: str = "whole number",
                 integral_floats: bool = False, says: str | None = None, hint: str | None = None) -> None:
        self.low, self.high, self.noun, self.integral_floats = low, high, noun, integral_floats
        super().__init__(says, hint)

    def describe(self) -> str:
        lo, hi, noun = self.low, self.high, self.noun
        if lo is not None and hi is not None:
            return f"{_a(noun)} from {lo} to {hi}"
        if lo is not None:
            return f"{_a(noun)} >= {lo}"
        if hi is not None:
            return f"{_a(noun)} <= {hi}"
        return _a(noun)

    def convert(self, value: Any) -> Any:
        if isinstance(value, bool):
            return REFUSED
        if isinstance(value, numbers.Integral):
            k = int(value)
        elif self.integral_floats and isinstance(value, numbers.Real):
            try:
                x = float(value)
            except OverflowError:
                return REFUSED
            if not (math.isfinite(x) and x.is_integer()):
                return REFUSED
            k = int(x)
        else:
            return REFUSED
        if (self.low is not None and k < self.low) or (self.high is not None and k > self.high):
            return REFUSED
        return k


class Flag(Constraint):
    """True or False, and nothing else (not 0, 1, "yes" or None)."""

    __slots__ = ()

    def __init__(self, *, says: str | None = None, hint: str | None = None) -> None:
        super().__init__(says, hint)

    def describe(self) -> str:
        return "true or false"

    def convert(self, value: Any) -> Any:
        return value if isinstance(value, bool) else REFUSED


class OneOf(Constraint):
    """One of a few choices, compared by equality (a bool never equals 1 here); the message lists them.

    `quote`: list them as Python literals ('hard', 'average') rather than as words (hard, average).
    """

    __slots__ = ("choices", "quote", "_hashed", "_others")

    def __init__(self, *choices: Any, quote: bool = False, says: str | None = None, hint: str | None = None) -> None:
        if not choices:
            raise ValueError("OneOf needs at least one choice")
        self.choices, self.quote = choices, quote
        hashed, others = [], []
        for c in choices:
            try:
                hash(c)
            except TypeError:
                others.append(c)
                continue
            (others if isinstance(c, bool) else hashed).append(c)
        self._hashed, self._others = frozenset(hashed), tuple(others)  # a set lookup first: some are per event
        super().__init__(says, hint)

    def describe(self) -> str:
        shown = [repr(c) if self.quote else str(c) for c in self.choices]
        return shown[0] if len(shown) == 1 else "one of " + ", ".join(shown)

    def convert(self, value: Any) -> Any:
        if not isinstance(value, bool):
            try:
                if value in self._hashed:
                    return value
            except TypeError:  # unhashable: only an unhashable choice can equal it
                pass
        for c in self._others:
            if value is c:
                return value
            if isinstance(value, bool) or isinstance(c, bool):
                continue
            try:
                same = value == c
            except Exception:  # a value that cannot be compared is not a choice
                continue
            if same is True:
                return value
        return REFUSED


class OrNone(Constraint):
    """None (which means `meaning`, if given), or what `inner` accepts.

    `none` is how None is spelt to the user: "None" in Python, "null" in JSON.
    """

    __slots__ = ("inner", "meaning", "none")

    def __init__(self, inner: Constraint, *, meaning: str | None = None, none: str = "None",
                 says: str | None = None, hint: str | None = None) -> None:
        self.inner, self.meaning, self.none = inner, meaning, none
        super().__init__(says, hint)

    def describe(self) -> str:
        if self.meaning:
            return f"{self.inner} (or {self.none}: {self.meaning})"
        return f"{self.inner}, or {self.none}"

    def convert(self, value: Any) -> Any:
        return None if value is None else self.inner.convert(value)


class Either(Constraint):
    """What the first of `options` that accepts the value makes of it."""

    __slots__ = ("options",)

    def __init__(self, *options: Constraint, says: str | None = None, hint: str | None = None) -> None:
        if not options:
            raise ValueError("Either needs at least one option")
        self.options = options
        super().__init__(says, hint)

    def describe(self) -> str:
        return " or ".join(str(o) for o in self.options)

    def convert(self, value: Any) -> Any:
        for o in self.options:
            out = o.convert(value)
            if out is not REFUSED:
                return out
        return REFUSED


def is_number(value: Any) -> bool:
    """True for a real number of any kind (int, float, Fraction, numpy's), never for a bool: a test of type only."""
    return not isinstance(value, bool) and isinstance(value, numbers.Real)


def positive(noun: str = "number", *, finite: bool = True, hint: str | None = None) -> Real:
    """A real number > 0: "a positive {noun}"."""
    return Real(0, closed="neither", noun=noun, finite=finite, hint=hint)


def non_negative(noun: str = "number", *, hint: str | None = None) -> Real:
    """A real number >= 0: "a non-negative {noun}"."""
    return Real(0, closed="left", noun=noun, hint=hint)


def refusal(field: str, value: Any, constraint: Constraint | str,
            error: type[DialerError] = ConfigError) -> DialerError:
    """The error `check` raises: "{field} must be {requirement}, got {value!r}", as `error` (ConfigError)."""
    err = bad(field, value, str(constraint))
    return err if error is ConfigError else error(*err.args)


def check(field: str, value: Any, constraint: Constraint, *, error: type[DialerError] = ConfigError) -> Any:
    """The value if `constraint` accepts it (normalised), else raise `refusal(field, value, constraint)`.

    `error`: the exception type (ConfigError; an event's own check raises ProtocolError).
    """
    out = constraint.convert(value)
    if out is REFUSED:
        raise refusal(field, value, constraint, error)
    return out
