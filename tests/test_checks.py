"""The declarative checks: each constraint accepts what it says, refuses the rest, and says so in words."""

from __future__ import annotations

import math
import re
from fractions import Fraction

import numpy as np
import pytest

from dialer.checks import (
    REFUSED,
    Either,
    Flag,
    OneOf,
    OrNone,
    Real,
    Whole,
    check,
    is_number,
    non_negative,
    positive,
    refusal,
)
from dialer.errors import ConfigError, ProtocolError

NAN, INF = math.nan, math.inf
NOT_NUMBERS = [True, False, None, "1", b"1", [1], {"x": 1}, 1j, object()]


def refused(constraint, value) -> bool:
    return constraint.convert(value) is REFUSED and not constraint.accepts(value)


# --- real numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "constraint, words",
    [
        (Real(0, 1, closed="neither", noun="rate"), "a rate strictly between 0 and 1"),
        (Real(0, 1, noun="probability"), "a probability in [0, 1]"),
        (Real(0, 1, closed="right", noun="probability"), "a probability in (0, 1]"),
        (Real(0, 1, closed="left"), "a number in [0, 1)"),
        (Real(0.01, 0.5, noun="relative step"), "a relative step in [0.01, 0.5]"),
        (Real(0, 86400, closed="right", noun="number of seconds"), "a number of seconds in (0, 86400]"),
        (positive("number of seconds"), "a positive number of seconds"),
        (positive("dial level"), "a positive dial level"),
        (non_negative("number of seconds"), "a non-negative number of seconds"),
        (Real(2), "a number >= 2"),
        (Real(2, closed="neither"), "a number > 2"),
        (Real(None, 5), "a number <= 5"),
        (Real(None, 5, closed="left"), "a number < 5"),
        (Real(noun="number of seconds"), "a finite number of seconds"),
        (Real(noun="integer-valued thing", finite=False), "an integer-valued thing"),
        (positive(hint="ring timeout + connect limit"), "a positive number (ring timeout + connect limit)"),
        (Real(0, 1, says="a rate between 0 and 1, such as 0.05"), "a rate between 0 and 1, such as 0.05"),
    ],
)
def test_a_real_constraint_describes_itself(constraint, words):
    assert str(constraint) == words == constraint.requirement


@pytest.mark.parametrize("closed, ok_low, ok_high", [("both", True, True), ("left", True, False),
                                                     ("right", False, True), ("neither", False, False)])
def test_closed_says_which_ends_are_in(closed, ok_low, ok_high):
    c = Real(0, 1, closed=closed)
    assert c.accepts(0) is ok_low and c.accepts(0.0) is ok_low
    assert c.accepts(1) is ok_high and c.accepts(1.0) is ok_high
    assert c.accepts(0.5) and c.accepts(Fraction(1, 2)) and c.accepts(np.float64(0.5))
    assert refused(c, -1e-12) and refused(c, 1 + 1e-12)


def test_a_real_is_returned_as_given():
    c = positive()
    for v in (3, 2.5, Fraction(1, 3), np.float64(0.25), np.int64(7)):
        out = check("x", v, c)
        assert out is v


@pytest.mark.parametrize("value", NOT_NUMBERS)
def test_booleans_and_non_numbers_are_never_real(value):
    for c in (Real(), positive(), non_negative(), Real(0, 1)):
        assert refused(c, value)


def test_nan_and_infinity_are_refused_unless_a_constraint_allows_infinity():
    for c in (Real(), positive(), non_negative(), Real(None, 1)):
        assert refused(c, NAN) and refused(c, INF) and refused(c, -INF)
    assert refused(c, np.float64("nan"))
    lenient = positive(finite=False)
    assert lenient.accepts(INF) and refused(lenient, -INF) and refused(lenient, NAN)
    assert Real(finite=False).accepts(-INF) and refused(Real(finite=False), NAN)


def test_a_whole_number_beyond_any_float_is_an_infinity():
    assert refused(Real(), 10**400) and refused(Real(), -(10**400))
    assert Real(finite=False).accepts(10**400)
    assert refused(positive(finite=False), -(10**400))


def test_is_number_is_a_test_of_type_that_a_bool_fails():
    assert all(is_number(v) for v in (0, -1.5, NAN, INF, Fraction(1, 3), np.float64(2), np.int32(3)))
    assert not any(is_number(v) for v in NOT_NUMBERS)


def test_a_real_constraint_with_an_unknown_closedness_is_a_programming_error():
    with pytest.raises(ValueError, match="closed must be one of both, left, right, neither, got 'open'"):
        Real(0, 1, closed="open")


# --- whole numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "constraint, words",
    [
        (Whole(1), "a whole number >= 1"),
        (Whole(0), "a whole number >= 0"),
        (Whole(None, 9), "a whole number <= 9"),
        (Whole(1, 3660, noun="whole number of days"), "a whole number of days from 1 to 3660"),
        (Whole(1, noun="integer"), "an integer >= 1"),
        (Whole(), "a whole number"),
    ],
)
def test_a_whole_constraint_describes_itself(constraint, words):
    assert str(constraint) == words


def test_whole_numbers_within_bounds_only():
    c = Whole(1, 10)
    assert [c.accepts(v) for v in (0, 1, 10, 11, -5)] == [False, True, True, False, False]
    assert check("n", 10**30, Whole(1)) == 10**30


@pytest.mark.parametrize("value", [*NOT_NUMBERS, 2.5, NAN, INF, 3.0, Fraction(3, 1), np.float64(3.0)])
def test_booleans_floats_and_non_numbers_are_not_whole_by_default(value):
    assert refused(Whole(), value)


def test_a_whole_number_is_returned_as_an_int():
    out = check("n", np.int64(4), Whole(1))
    assert out == 4 and type(out) is int


def test_an_integral_float_is_whole_only_where_the_constraint_says_so():
    c = Whole(1, integral_floats=True)
    out = check("agents", 10.0, c)
    assert out == 10 and type(out) is int
    assert check("agents", np.float64(3.0), c) == 3
    for v in (2.5, NAN, INF, -INF, True, 0.0, "3", 1e400):
        assert refused(c, v), v


# --- flags, choices, None, alternatives ----------------------------------------------------------


def test_a_flag_is_true_or_false_and_nothing_else():
    f = Flag()
    assert str(f) == "true or false"
    assert check("age_aware", True, f) is True and check("age_aware", False, f) is False
    for v in (0, 1, 1.0, "true", "yes", None, np.bool_(True)):
        assert refused(f, v), v


def test_one_of_lists_its_choices_and_compares_by_equality():
    mode = OneOf("power", "fixed-ratio", "predictive")
    assert str(mode) == "one of power, fixed-ratio, predictive"
    assert str(OneOf("hard", "average", quote=True)) == "one of 'hard', 'average'"
    assert str(OneOf("month")) == "month"
    assert mode.accepts("power") and refused(mode, "Power") and refused(mode, None) and refused(mode, ["power"])


def test_one_of_never_takes_a_bool_for_a_number_or_a_number_for_a_bool():
    assert refused(OneOf(1, 2), True) and refused(OneOf(0), False)
    assert refused(OneOf(True), 1) and OneOf(True).accepts(True)
    assert OneOf(1, 2).accepts(1.0)  # equality, as `in` would say


def test_one_of_survives_values_that_cannot_be_compared():
    assert refused(OneOf("a", "b"), np.array(["a", "b"]))


def test_or_none_takes_none_and_what_the_inner_constraint_takes():
    lines = OrNone(Whole(1), meaning="no cap")
    assert str(lines) == "a whole number >= 1 (or None: no cap)"
    assert check("lines", None, lines) is None and check("lines", 3, lines) == 3
    assert refused(lines, 0) and refused(lines, True) and refused(lines, "none")
    assert str(OrNone(Real(0, 1, closed="neither", noun="rate"))) == "a rate strictly between 0 and 1, or None"
    assert str(OrNone(positive("number of seconds"), meaning="forever", none="null")) == (
        "a positive number of seconds (or null: forever)"
    )


def test_either_takes_the_first_option_that_accepts():
    rewash = Either(OneOf("month"), Whole(1, noun="whole number of days"))
    assert str(rewash) == "month or a whole number of days >= 1"
    assert check("dnc_rewash", "month", rewash) == "month" and check("dnc_rewash", 28, rewash) == 28
    assert refused(rewash, 0) and refused(rewash, "week") and refused(rewash, True)


# --- the refusal ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value, constraint",
    [
        ("pacer.target", 1.5, Real(0, 1, closed="neither", noun="rate")),
        ("horizon", True, positive("number of seconds")),
        ("study.agents", 2.5, Whole(1)),
        ("half_life", NAN, positive()),
        ("window", INF, positive()),
        ("variant", "HARD", OneOf("hard", "average", quote=True)),
        ("human", "yes", Flag()),
        ("lines", -3, OrNone(Whole(1), meaning="no cap")),
    ],
)
def test_a_refusal_names_the_field_the_requirement_and_the_value(field, value, constraint):
    with pytest.raises(ConfigError) as info:
        check(field, value, constraint)
    assert str(info.value) == f"{field} must be {constraint}, got {value!r}"
    assert re.match(rf"^{re.escape(field)} must be .*, got {re.escape(repr(value))}$", str(info.value))


def test_a_refusal_may_be_another_error_of_the_project():
    with pytest.raises(ProtocolError, match=r"^CallAnswered\.human must be true or false, got 'yes'$"):
        check("CallAnswered.human", "yes", Flag(), error=ProtocolError)
    err = refusal("x", -1, positive())
    assert isinstance(err, ConfigError) and str(err) == "x must be a positive number, got -1"
    assert isinstance(refusal("x", -1, "zero", ProtocolError), ProtocolError)


def test_a_config_error_is_a_value_error_so_pydantic_validators_can_raise_it():
    with pytest.raises(ValueError):
        check("p", 2.0, Real(0, 1))


def test_a_constraint_is_a_value_that_checking_does_not_change():
    """Its words are made once, on construction; checking values alters nothing."""
    c = Real(0, 1, closed="neither", noun="rate")
    words = c.requirement
    for v in (0.5, 2.0, NAN, True):
        c.accepts(v)
    assert c.requirement == words and (c.low, c.high, c.closed) == (0, 1, "neither")
    with pytest.raises(AttributeError, match="a constraint cannot change"):
        c.low = 0.5
    with pytest.raises(AttributeError):
        c.requirement = "anything"
    assert c.requirement == words and c.low == 0


def test_checks_imports_nothing_of_ours_but_the_errors():
    """A base module: every layer may import it, so it may import only `dialer.errors`."""
    import ast
    from pathlib import Path

    import dialer.checks

    tree = ast.parse(Path(dialer.checks.__file__).read_text(encoding="utf-8"))
    ours = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("dialer")}
    ours |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names if a.name.startswith("dialer")}
    assert ours == {"dialer.errors"}
