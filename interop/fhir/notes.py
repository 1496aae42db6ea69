"""Where a referral keeps the coded parts of its FHIR resources.

Linkage's referral has no columns for the requested service's code (ServiceRequest.code)
or for the resulting activity's code and date (the Procedure of Task.output), and the
interop app may not add tables (its models are another part's). Both are kept, readable by
people, as the first line of the text the domain already has for them:

- the note for the receiver (`Referral.reason`) starts with
  `Requested service: <display> [<system>|<code>]`, then the ServiceRequest's notes;
- the outcome note (`Referral.outcome_note`) starts with
  `Resulting activity: <display> [<system>|<code>] on <date>`, then the Procedure's notes.

The pages show these lines as they are (the receiver reads what was asked for and what was
done); the FHIR renderers read them back. Text typed in the browser never starts with
these exact shapes by accident in a way that matters: a line that does not parse is
treated as plain text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

REQUESTED = "Requested service: "
RESULTING = "Resulting activity: "

_LINE = re.compile(
    r"^(?P<display>.*?)"
    r"(?: ?\[(?P<system>[^|\]\s]+)\|(?P<code>[^\]\s]+)\])?"
    r"(?: on (?P<date>\d{4}-\d{2}-\d{2}(?:T\S+)?))?$"
)


@dataclass(frozen=True)
class CodedLine:
    display: str
    system: str = ""
    code: str = ""
    date: str = ""

    def concept(self) -> dict:
        """As a CodeableConcept (text only when no code was given)."""
        concept: dict = {}
        if self.code:
            coding = {"system": self.system, "code": self.code}
            if self.display:
                coding["display"] = self.display
            concept["coding"] = [coding]
        if self.display:
            concept["text"] = self.display
        return concept


def compose(prefix: str, line: CodedLine | None, rest: list[str]) -> str:
    """The text to store: the coded line (if any) first, then the free text."""
    parts = []
    if line is not None and (line.display or line.code):
        text = prefix + line.display
        if line.code:
            text += f" [{line.system}|{line.code}]"
        if line.date:
            text += f" on {line.date}"
        parts.append(text.replace("\n", " ").strip())
    parts.extend(r.strip() for r in rest if r and r.strip())
    return "\n".join(parts)


def split(prefix: str, text: str) -> tuple[CodedLine | None, str]:
    """The coded line (None when the text does not start with one) and the rest."""
    first, _, rest = (text or "").partition("\n")
    if not first.startswith(prefix):
        return None, (text or "").strip()
    match = _LINE.match(first[len(prefix) :].strip())
    if match is None:
        return None, (text or "").strip()
    line = CodedLine(
        display=match["display"].strip(),
        system=match["system"] or "",
        code=match["code"] or "",
        date=match["date"] or "",
    )
    return line, rest.strip()
