"""The release form's words: every language says everything."""

from consent.categories import Category
from consent.models import Release
from consent.text import CATEGORY_TEXT, MONTHS, PURPOSE_TEXT, TEXT, format_date, t


def test_every_language_of_a_release_has_every_string():
    assert set(TEXT) == set(Release.Language.values)
    for language in TEXT:
        assert set(TEXT[language]) == set(TEXT["en"]), language
        assert set(CATEGORY_TEXT[language]) == set(Category), language
        assert set(PURPOSE_TEXT[language]) == set(Release.Purpose.values), language
        assert len(MONTHS[language]) == 12


def test_spanish_is_spanish():
    from datetime import date

    assert format_date("es", date(2026, 3, 5)) == "5 de marzo de 2026"
    assert format_date("en", date(2026, 3, 5)) == "March 5, 2026"
    assert t("es", "title") == "Autorización para compartir información"
    assert t("zz", "title") == t("en", "title")  # unknown language: English
