"""The messages Linkage marks for translation, extracted the way the real catalogue is built,
and the Spanish catalogue they are checked against.

Extraction runs Django's own `makemessages` (xgettext over templates, text and Python) over
the whole project, but writes into a temporary directory: the committed catalogue under
locale/ is never touched by a test run.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.management.commands import makemessages
from django.test.utils import override_settings

ROOT = Path(settings.BASE_DIR)
CATALOGUE = ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po"
# The same folders `makemessages` leaves out when the catalogue is built (README, Makefile).
IGNORED = [".venv", "node_modules", "var"]


@dataclass
class Entry:
    msgid: str
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    references: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def translated(self) -> bool:
        return bool(self.msgstr) and all(self.msgstr) and "fuzzy" not in self.flags


def _unquote(text: str) -> str:
    body = text.strip()[1:-1]
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), "\\" + m.group(1)), body)


def parse_po(text: str) -> dict[tuple[str | None, str], Entry]:
    """The entries of a PO file by (context, msgid); the header and obsolete (#~) entries
    are left out."""
    entries: dict[tuple[str | None, str], Entry] = {}
    for block in re.split(r"\n\s*\n", text.strip()):
        entry: Entry | None = None
        target: tuple[str, int] | None = None
        comments: list[str] = []
        for line in block.splitlines():
            if line.startswith("#~"):
                entry = None
                break
            if line.startswith("#"):
                comments.append(line)
                continue
            keyword = re.match(
                r"(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")$", line
            )
            if keyword:
                name, index, value = keyword.group(1), keyword.group(2), _unquote(keyword.group(3))
                entry = entry or Entry(msgid="")
                if name == "msgctxt":
                    entry.msgctxt, target = value, ("msgctxt", 0)
                elif name == "msgid":
                    entry.msgid, target = value, ("msgid", 0)
                elif name == "msgid_plural":
                    entry.msgid_plural, target = value, ("msgid_plural", 0)
                else:
                    position = int(index or 0)
                    entry.msgstr.append(value)
                    target = ("msgstr", position)
            elif line.startswith('"') and entry is not None and target is not None:
                value = _unquote(line)
                if target[0] == "msgstr":
                    entry.msgstr[target[1]] += value
                else:
                    setattr(entry, target[0], (getattr(entry, target[0]) or "") + value)
        if entry is None or entry.msgid == "":
            continue
        for comment in comments:
            if comment.startswith("#,"):
                entry.flags |= {f.strip() for f in comment[2:].split(",")}
            elif comment.startswith("#:"):
                entry.references += comment[2:].split()
        entries[entry.key] = entry
    return entries


class _ExtractInto(makemessages.Command):
    """`makemessages` whose every file's messages go to one directory (`target`), instead of
    the locale directory the file would otherwise belong to (the committed one)."""

    target = ""

    def find_files(self, root):
        files = super().find_files(root)
        for translatable in files:
            translatable.locale_dir = self.target
        return files


def extract(tmp_path: Path) -> dict[tuple[str | None, str], Entry]:
    """Every message of the project, as `make messages`' catalogue would list it."""
    target = tmp_path / "locale"
    target.mkdir()
    command = _ExtractInto()
    command.target = str(target)
    previous = os.getcwd()
    os.chdir(ROOT)  # makemessages walks the current directory, as when run by hand
    try:
        with override_settings(LOCALE_PATHS=[str(target)]):
            command.run_from_argv(
                ["manage.py", "makemessages", "-l", "es", "-v", "0"]
                + [f"--ignore={pattern}" for pattern in IGNORED]
            )
    finally:
        os.chdir(previous)
    return parse_po((target / "es" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8"))


def committed() -> dict[tuple[str | None, str], Entry]:
    return parse_po(CATALOGUE.read_text(encoding="utf-8"))


def untranslated(
    found: dict[tuple[str | None, str], Entry],
    catalogue: dict[tuple[str | None, str], Entry],
    *,
    only=None,
) -> list[Entry]:
    """The messages found in the source that the catalogue does not translate (absent,
    empty or fuzzy). `only(reference)` narrows to messages used in some files."""
    missing = []
    for key, entry in sorted(found.items(), key=lambda kv: (kv[0][1], kv[0][0] or "")):
        if only is not None and not any(only(ref) for ref in entry.references):
            continue
        known = catalogue.get(key)
        if known is None or not known.translated:
            missing.append(entry)
    return missing


def describe(missing: list[Entry], limit: int = 200) -> str:
    lines = [
        f"{len(missing)} message(s) lack a Spanish translation in {CATALOGUE.relative_to(ROOT)}:"
    ]
    for entry in missing[:limit]:
        context = f" [context {entry.msgctxt!r}]" if entry.msgctxt else ""
        lines.append(f"  {entry.msgid!r}{context}  <- {', '.join(entry.references[:3])}")
    if len(missing) > limit:
        lines.append(f"  ... and {len(missing) - limit} more")
    lines.append("Translate them in locale/es/LC_MESSAGES/django.po (makemessages, then msgstr).")
    return "\n".join(lines)
