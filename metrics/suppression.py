"""Small-cell suppression for breakdown tables.

A cell whose count (numerator or denominator) is between 1 and threshold-1 is shown as
"<threshold". Because the cells of a breakdown add up to the total shown beside them, one
suppressed cell could be recovered by subtraction; so more cells are suppressed
(complementary suppression, shown as "suppressed") until no suppressed cell's value is
pinned down by the total, the cells shown and the ranges the labels disclose.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_THRESHOLD = 11
_UNBOUNDED = 10**12


@dataclass
class Cell:
    label: str
    numerator: int
    denominator: int | None = None
    value: float | None = None
    suppressed: str = ""  # "", "primary" or "complementary"


def _vectors(cells: list[Cell], complement: bool) -> list[list[int]]:
    out = [[c.numerator for c in cells]]
    if any(c.denominator is not None for c in cells):
        out.append([c.denominator or 0 for c in cells])
        if complement:
            out.append([(c.denominator or 0) - c.numerator for c in cells])
    return out


def _primary(value: int, threshold: int) -> bool:
    return 0 < value < threshold


def _pinned(values: list[int], hidden: list[int], threshold: int) -> bool:
    """Whether some hidden value is the only one consistent with what is shown."""
    total = sum(values[i] for i in hidden)
    ranges = [
        (1, threshold - 1) if _primary(values[i], threshold) else (0, _UNBOUNDED) for i in hidden
    ]
    low_sum = sum(lo for lo, _ in ranges)
    high_sum = sum(hi for _, hi in ranges)
    for lo, hi in ranges:
        lower = max(lo, total - (high_sum - hi))
        upper = min(hi, total - (low_sum - lo))
        if lower >= upper:
            return True
    return False


def suppress(
    cells: list[Cell], threshold: int = DEFAULT_THRESHOLD, *, complement: bool = False
) -> bool:
    """Mark the cells to hide, in place. Returns True when the total must be hidden too
    (when even with every cell hidden it would give a small cell away, e.g. 1 + 1 = 2).

    `complement`: the rate's other side is a count of people too (results meeting a goal
    and results missing it), so denominator minus numerator is protected like the two
    counts: 20 of 24 would tell that 4 missed."""
    vectors = _vectors(cells, complement)
    for i, cell in enumerate(cells):
        if any(_primary(v[i], threshold) for v in vectors):
            cell.suppressed = "primary"
    while True:
        hidden = [i for i, c in enumerate(cells) if c.suppressed]
        if not hidden or not any(_pinned(v, hidden, threshold) for v in vectors):
            return False
        rest = [i for i, c in enumerate(cells) if not c.suppressed]
        if not rest:
            return True
        # The smallest cell still shown gives away least.
        pick = min(rest, key=lambda i: (tuple(v[i] for v in vectors), i))
        cells[pick].suppressed = "complementary"
