"""Phone numbers to E.164: the one spelling every register, lead and dial log compares on.

Owns: `normalise`, which turns what people type ("+47 912 34 567",
"0047-91234567", "912 34 567", "(+47) 22.33.44.55") into "+4791234567", and
refuses anything else with one error naming the text; `number_key`, the key
a dialled number is compared on (its E.164 form, or that form's keyed hash).

Rule 1: a Norwegian national number has exactly 8 digits and starts with 2-9;
it is read as Norwegian with or without +47 / 0047 / 47. Other countries are
accepted only with their + or 00 prefix, 8 to 15 digits in all (E.164); no
number plan beyond Norway's is checked.
Rule 2: pure text in, text out: no I/O, no registers, no hashing (that is
`dialer.rules.dnc`).
"""

from __future__ import annotations

import re
from typing import Callable, Protocol

from dialer.errors import ConfigError

_SEPARATORS = re.compile(r"[\s\-./()\u00a0\u2009\u202f]")
_DIGITS = re.compile(r"^\d+$")


def normalise(text: object, *, default_country: str = "47") -> str:
    """The E.164 form of a phone number ("+4791234567"); `ConfigError` naming the text if it is none.

    `default_country`: the calling code assumed for a number written without
    one (Norway, 47: the only plan for which a bare national number is read).
    """
    if not isinstance(text, str):
        raise ConfigError(f"phone must be a phone number, got {text!r}")
    raw = text
    s = _SEPARATORS.sub("", text)
    if s.startswith("+"):
        international, digits = True, s[1:]
    elif s.startswith("00"):
        international, digits = True, s[2:]
    else:
        international, digits = False, s
    if not digits or not _DIGITS.match(digits):
        raise ConfigError(f"phone must be a phone number (digits, spaces, dashes, + or 00 prefix), got {raw!r}")
    if not international:
        if default_country == "47":
            if len(digits) == 10 and digits.startswith("47"):
                digits = digits[2:]
            if len(digits) != 8:
                raise ConfigError(f"phone must be a Norwegian number of 8 digits, or start with + or 00, got {raw!r}")
        digits = default_country + digits
    if digits.startswith("47"):
        national = digits[2:]
        if len(national) != 8 or national[0] in "01":
            raise ConfigError(f"phone must be a Norwegian number of 8 digits starting with 2-9, got {raw!r}")
    elif not 8 <= len(digits) <= 15 or digits[0] == "0":
        raise ConfigError(f"phone must be an E.164 number of 8 to 15 digits, got {raw!r}")
    return "+" + digits


class _Hasher(Protocol):
    def number(self, e164: str) -> str: ...


def number_key(hasher: _Hasher | None = None) -> Callable[[object], object]:
    """The key a dialled number is compared on, as a function of a lead (or its phone).

    A string that reads as a phone number is that number, in E.164 (every
    spelling of one number is one key), or its keyed hash
    (`dialer.rules.dnc.Hasher.number`) when a `hasher` is given, so that
    nothing kept needs the number in clear. Anything else (an opaque lead id,
    a whole number) is its own key: the dialer then says the number in
    `DialPlaced.phone`, or compares on its ids alone.

        key = number_key()
        key("912 34 567") == key("+47 912 34 567") == "+4791234567"
    """
    return NumberKey(hasher)


class NumberKey:
    """`number_key`'s function, as a plain object (a controller holding it can be copied and pickled)."""

    __slots__ = ("hasher",)

    def __init__(self, hasher: _Hasher | None = None) -> None:
        self.hasher = hasher

    def __call__(self, value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            e164 = normalise(value)
        except ConfigError:
            return value
        return e164 if self.hasher is None else self.hasher.number(e164)

    def __eq__(self, other: object) -> bool:  # the same keys: no hasher on either, or the same secret
        if not isinstance(other, NumberKey):
            return False
        a, b = self.hasher, other.hasher
        return a is b or (a is not None and b is not None and a.fingerprint == b.fingerprint)  # type: ignore[attr-defined]

    __hash__ = object.__hash__
