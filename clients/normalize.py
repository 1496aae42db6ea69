"""Normalization for duplicate detection: case, accents, hyphens, nicknames, phone digits."""

from __future__ import annotations

import re
import unicodedata

# Common English and Spanish nicknames -> a canonical given name. Both sides normalize to the
# canonical form, so "Bill" matches "William" and "Pepe" matches "José".
NICKNAMES: dict[str, str] = {
    "bill": "william",
    "billy": "william",
    "will": "william",
    "willy": "william",
    "liam": "william",
    "bob": "robert",
    "bobby": "robert",
    "rob": "robert",
    "robbie": "robert",
    "dick": "richard",
    "rick": "richard",
    "ricky": "richard",
    "rich": "richard",
    "jim": "james",
    "jimmy": "james",
    "jamie": "james",
    "mike": "michael",
    "mikey": "michael",
    "mick": "michael",
    "tom": "thomas",
    "tommy": "thomas",
    "joe": "joseph",
    "joey": "joseph",
    "chris": "christopher",
    "kit": "christopher",
    "dan": "daniel",
    "danny": "daniel",
    "dave": "david",
    "davey": "david",
    "steve": "stephen",
    "steven": "stephen",
    "tony": "anthony",
    "ed": "edward",
    "eddie": "edward",
    "ted": "edward",
    "ned": "edward",
    "charlie": "charles",
    "chuck": "charles",
    "johnny": "john",
    "jack": "john",
    "jon": "jonathan",
    "matt": "matthew",
    "nick": "nicholas",
    "pat": "patricia",
    "patty": "patricia",
    "trish": "patricia",
    "liz": "elizabeth",
    "beth": "elizabeth",
    "betty": "elizabeth",
    "lizzie": "elizabeth",
    "eliza": "elizabeth",
    "kate": "katherine",
    "katie": "katherine",
    "kathy": "katherine",
    "cathy": "katherine",
    "catherine": "katherine",
    "kathryn": "katherine",
    "maggie": "margaret",
    "meg": "margaret",
    "peggy": "margaret",
    "sue": "susan",
    "suzy": "susan",
    "jen": "jennifer",
    "jenny": "jennifer",
    "debbie": "deborah",
    "deb": "deborah",
    "becky": "rebecca",
    "vicky": "victoria",
    "abby": "abigail",
    "alex": "alexander",
    "sandy": "alexandra",
    "sam": "samuel",
    "ben": "benjamin",
    "andy": "andrew",
    "drew": "andrew",
    "greg": "gregory",
    "larry": "lawrence",
    "pepe": "jose",
    "chepe": "jose",
    "paco": "francisco",
    "pancho": "francisco",
    "frank": "francisco",
    "lupe": "guadalupe",
    "memo": "guillermo",
    "nacho": "ignacio",
    "lalo": "eduardo",
    "chuy": "jesus",
    "quique": "enrique",
    "toni": "antonia",
    "rosy": "rosa",
    "conchita": "concepcion",
    "concha": "concepcion",
    "lola": "dolores",
    "mari": "maria",
}


def fold(text: str) -> str:
    """Lowercase, without accents, hyphens, apostrophes or repeated spaces."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"[-'\u2019.]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def normalize_name(name: str) -> str:
    """The comparison key of a name: folded, spaces removed ("García-López" and
    "garcia lopez" agree), nicknames mapped to the canonical name."""
    folded = fold(name)
    first = folded.split(" ")[0] if folded else ""
    if first in NICKNAMES and " " not in folded:
        folded = NICKNAMES[first]
    return folded.replace(" ", "")


def digits(text: str) -> str:
    return re.sub(r"\D", "", text or "")
