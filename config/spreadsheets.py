"""CSV cells that a spreadsheet program will not run."""

from __future__ import annotations

import re

# Figures Linkage writes itself ("12", "-2.0", "95.5%", "$1,200.00"): a spreadsheet reads
# them as numbers, so they stay as they are.
_FIGURE = re.compile(r"[+-]?\$?\d[\d,]*(\.\d+)?%?")


def csv_cell(value) -> str:
    """The value as CSV text; text that a spreadsheet would run as a formula (it starts
    with =, +, -, @, a tab or a carriage return) is quoted with a leading apostrophe."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _FIGURE.fullmatch(text):
        return "'" + text
    return text
