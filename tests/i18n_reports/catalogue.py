"""The Spanish catalogue read as entries, and compiled into a temporary locale folder."""

from __future__ import annotations

import ast
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
CATALOGUE = ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po"


def spanish_po() -> Path:
    """The Spanish catalogue this part of Linkage is checked against."""
    return CATALOGUE


@dataclass(frozen=True)
class Entry:
    msgid: str
    msgid_plural: str | None
    msgctxt: str | None
    msgstr: tuple[str, ...]
    fuzzy: bool

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        return (self.msgctxt, self.msgid, self.msgid_plural)

    @property
    def translated(self) -> bool:
        return not self.fuzzy and bool(self.msgstr) and all(self.msgstr)


def parse_po(text: str) -> list[Entry]:
    """A .po file's entries (the header and obsolete entries left out)."""
    entries: list[Entry] = []
    fields: dict[str, str] = {}
    current: str | None = None
    fuzzy = False

    def flush() -> None:
        nonlocal fields, current, fuzzy
        if fields.get("msgid"):
            strs = [fields[k] for k in sorted(fields) if k.startswith("msgstr")]
            entries.append(
                Entry(
                    fields["msgid"],
                    fields.get("msgid_plural"),
                    fields.get("msgctxt"),
                    tuple(strs),
                    fuzzy,
                )
            )
        fields, current, fuzzy = {}, None, False

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("#~"):
            continue
        elif line.startswith("#,"):
            if "msgid" in fields:
                flush()
            fuzzy = "fuzzy" in line
        elif line.startswith("#"):
            if "msgid" in fields:
                flush()
        elif line.startswith('"'):
            fields[current] += ast.literal_eval(line)
        else:
            keyword, _, value = line.partition(" ")
            if keyword in ("msgctxt", "msgid") and "msgid" in fields:
                flush()
            current = keyword
            fields[current] = ast.literal_eval(value)
    flush()
    return entries


def fragment() -> list[Entry]:
    return parse_po(spanish_po().read_text("utf-8"))


def compile_fragment(locale_dir: Path) -> Path:
    """The Spanish compiled as a catalogue under `locale_dir` (for LOCALE_PATHS)."""
    out = locale_dir / "es" / "LC_MESSAGES"
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["msgfmt", "--check", "-o", str(out / "django.mo"), str(spanish_po())],
        check=True,
        capture_output=True,
    )
    return locale_dir
