"""The shape of a LOINC code, checked without a copy of LOINC: digits, a hyphen, and the
check digit LOINC computes with its "Mod 10" algorithm (LOINC Users' Guide, "Calculating Mod
10 check digits"). That catches typos (a swapped or mistyped digit); whether the code names
the test a partnership means is theirs to look up at loinc.org — Linkage never invents or
suggests codes."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

# LOINC numbers run to 7 digits before the check digit today ("4548-4", "96777-8").
_SHAPE = re.compile(r"^(\d{1,7})-(\d)$")


def check_digit(number: str) -> int:
    """LOINC's Mod 10 check digit of the digits before the hyphen: from the right, every
    other digit (the rightmost first) is doubled, the digits of the results and of the
    remaining digits are added, and the check digit brings the sum up to a multiple of 10."""
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
        total += digit // 10 + digit % 10
    return (10 - total % 10) % 10


def validate_loinc(value: str) -> None:
    """Raise ValidationError unless `value` has the shape of a LOINC code with a correct
    check digit (blank is allowed: the code is optional)."""
    if not value:
        return
    found = _SHAPE.match(value)
    if not found:
        raise ValidationError(
            gettext("A LOINC code is digits, a hyphen and one check digit, e.g. 4548-4."),
            code="loinc_shape",
        )
    number, given = found.groups()
    if check_digit(number) != int(given):
        raise ValidationError(
            gettext(
                "That is not a LOINC code: its check digit does not match. Copy the code from "
                "loinc.org or the laboratory's report."
            ),
            code="loinc_check_digit",
        )
