"""The messages the assessments pages mark for translation, found as `makemessages` finds
them (Django's templatize for templates, xgettext with Django's keywords for Python), without
touching the shared catalogue."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parents[2]
FRAGMENT = ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po"
SOURCES = (
    sorted((ROOT / "assessments").glob("*.py"))
    + sorted((ROOT / "assessments" / "templatetags").glob("*.py"))
    + sorted((ROOT / "referrals").glob("summary*.py"))
    + sorted((ROOT / "referrals" / "views").glob("summary.py"))
)
TEMPLATES = sorted((ROOT / "templates" / "assessments").rglob("*.html")) + sorted(
    (ROOT / "templates" / "referrals" / "summary").rglob("*.html")
)
# makemessages' keywords (django/core/management/commands/makemessages.py).
KEYWORDS = [
    "--keyword=gettext_noop",
    "--keyword=gettext_lazy",
    "--keyword=ngettext_lazy:1,2",
    "--keyword=pgettext:1c,2",
    "--keyword=npgettext:1c,2,3",
    "--keyword=pgettext_lazy:1c,2",
    "--keyword=npgettext_lazy:1c,2,3",
]


def extract() -> str:
    """The .pot text of every marked message in the sources above."""
    with tempfile.TemporaryDirectory() as tmp:
        files = [str(p) for p in SOURCES]
        for number, template in enumerate(TEMPLATES):
            out = Path(tmp) / f"t{number}.py"
            out.write_text(templatize(template.read_text(encoding="utf-8"), origin=str(template)))
            files.append(str(out))
        result = subprocess.run(
            [
                "xgettext",
                "--language=Python",
                "--from-code=UTF-8",
                "--no-location",
                "--sort-output",
                "--output=-",
                *KEYWORDS,
                *files,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
    return result.stdout


def _unquote(line: str) -> str:
    import ast

    return ast.literal_eval(line.strip())


def entries(po_text: str) -> dict[tuple[str, str], list[str]]:
    """{(msgctxt, msgid): [msgstr, ...]} of a .po/.pot text (the header left out)."""
    out: dict[tuple[str, str], list[str]] = {}
    current: dict[str, str] = {}
    field = None

    def flush():
        if current.get("msgid"):
            strings = [v for k, v in sorted(current.items()) if k.startswith("msgstr")]
            out[(current.get("msgctxt", ""), current["msgid"])] = strings
        current.clear()

    for raw in po_text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            if not line:
                flush()
                field = None
            continue
        if line.startswith('"'):
            current[field] += _unquote(line)
            continue
        keyword, _, rest = line.partition(" ")
        if keyword == "msgctxt" or (keyword == "msgid" and "msgid" in current):
            flush()
        field = keyword
        current[field] = _unquote(rest)
    flush()
    return out


def msgids(po_text: str) -> set[str]:
    return {msgid for _context, msgid in entries(po_text)}
