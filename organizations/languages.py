"""Languages a program serves people in: ISO 639-1 codes (ISO 639-3 where no 639-1 code
exists), as HSDS's language table records them."""

from __future__ import annotations

# The languages most often spoken at home in the United States (Census ACS), plus American
# Sign Language. Programs imported from HSDS may carry others; those are kept as given.
COMMON_LANGUAGES: list[tuple[str, str]] = [
    ("en", "English"),
    ("es", "Spanish"),
    ("zh", "Chinese"),
    ("tl", "Tagalog"),
    ("vi", "Vietnamese"),
    ("ar", "Arabic"),
    ("fr", "French"),
    ("ko", "Korean"),
    ("ru", "Russian"),
    ("ht", "Haitian Creole"),
    ("pt", "Portuguese"),
    ("de", "German"),
    ("hi", "Hindi"),
    ("pl", "Polish"),
    ("ur", "Urdu"),
    ("uk", "Ukrainian"),
    ("fa", "Persian"),
    ("so", "Somali"),
    ("am", "Amharic"),
    ("ne", "Nepali"),
    ("my", "Burmese"),
    ("sw", "Swahili"),
    ("bn", "Bengali"),
    ("pa", "Punjabi"),
    ("gu", "Gujarati"),
    ("it", "Italian"),
    ("ja", "Japanese"),
    ("hmn", "Hmong"),
    ("ase", "American Sign Language"),
]
_NAMES = dict(COMMON_LANGUAGES)
_CODES_BY_NAME = {name.lower(): code for code, name in COMMON_LANGUAGES}
# ISO 639-2/3 codes that have a 639-1 equivalent in the list above.
_ISO639_3 = {
    "eng": "en",
    "spa": "es",
    "zho": "zh",
    "chi": "zh",
    "tgl": "tl",
    "vie": "vi",
    "ara": "ar",
    "fra": "fr",
    "fre": "fr",
    "kor": "ko",
    "rus": "ru",
    "hat": "ht",
    "por": "pt",
    "deu": "de",
    "ger": "de",
    "hin": "hi",
    "pol": "pl",
    "urd": "ur",
    "ukr": "uk",
    "fas": "fa",
    "per": "fa",
    "som": "so",
    "amh": "am",
    "nep": "ne",
    "mya": "my",
    "bur": "my",
    "swa": "sw",
    "ben": "bn",
    "pan": "pa",
    "guj": "gu",
    "ita": "it",
    "jpn": "ja",
}


def language_code(value: str) -> str:
    """A code for a language given as a code or an English name; "" when it is neither a
    code-shaped string nor a name in the list."""
    text = (value or "").strip()
    if not text:
        return ""
    lowered = text.lower()
    if lowered in _CODES_BY_NAME:
        return _CODES_BY_NAME[lowered]
    if lowered in _ISO639_3:
        return _ISO639_3[lowered]
    # An ISO 639 code, optionally with a region or script subtag (zh-Hant, pt-BR).
    primary = lowered.split("-")[0].split("_")[0]
    if primary.isalpha() and 2 <= len(primary) <= 3:
        return _ISO639_3.get(primary, primary) if len(lowered) <= 12 else ""
    return ""


def language_name(code: str) -> str:
    """The English name of a code in the list; the code itself otherwise."""
    return _NAMES.get(code, code)
