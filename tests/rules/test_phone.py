"""Phone numbers to E.164: the messy ways Norwegians write them, and garbage refused in one line."""

from __future__ import annotations

import pytest

from dialer.rules.phone import normalise
from dialer.errors import ConfigError


@pytest.mark.parametrize(
    "text",
    ["+4791234567", "+47 912 34 567", "0047 91234567", "0047-912-34-567", "91234567", "912 34 567",
     "912-34-567", "4791234567", "(+47) 912.34.567", "\u00a0912\u00a034\u00a0567 ", "+47\t91234567"],
)
def test_norwegian_mobile(text: str) -> None:
    assert normalise(text) == "+4791234567"


def test_landline_and_foreign() -> None:
    assert normalise("22 33 44 55") == "+4722334455"
    assert normalise("+46 8 123 456 78") == "+46812345678"
    assert normalise("0044 20 7946 0958") == "+442079460958"


@pytest.mark.parametrize(
    "text, message",
    [
        ("abc", "phone must be a phone number"),
        ("", "phone must be a phone number"),
        ("9123456", "Norwegian number of 8 digits"),
        ("912345678", "Norwegian number of 8 digits"),
        ("+47 0123 4567", "starting with 2-9"),
        ("+47 912345678", "Norwegian number of 8 digits"),
        ("+1 234", "E.164 number of 8 to 15 digits"),
        ("+1234567890123456", "E.164 number of 8 to 15 digits"),
        ("91234567x", "phone must be a phone number"),
        ("++4791234567", "phone must be a phone number"),
    ],
)
def test_garbage_is_refused_naming_the_text(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        normalise(text)
    assert str(err.value).endswith(f"got {text!r}")


def test_every_spelling_of_a_number_is_one_key_and_anything_else_is_its_own():
    from dialer.rules.dnc import Hasher
    from dialer.rules.phone import number_key

    key = number_key()
    spellings = ["91234567", "912 34 567", "+47 912 34 567", "0047-91234567", "4791234567"]
    assert {key(s) for s in spellings} == {"+4791234567"}
    assert key("L17") == "L17" and key(91234567) == 91234567 and key("12345678") == "12345678"
    hashed = number_key(Hasher(b"a secret of sixteen bytes or more"))
    assert len({hashed(s) for s in spellings}) == 1 and hashed(spellings[0]) != "+4791234567"
    assert hashed("L17") == "L17"
