"""Record content in the reader's language: one rule for names and for free text.

A record keeps its text in English (`name`, `title`, `description`) and, where staff
entered them, in Russian and Tajik beside it (`name_ru`, `name_tg`, `title_ru`,
`description_tg`, ...). A reader gets the version in the active language when there is
one, and the English otherwise, never a blank. Names fall back without a word (a place
is called by its name in any language); free text that falls back says so: the pages
write it with `lang="en"` and "(in English)" after it (`{% free_text %}` in
kernel/templatetags/languages.py), so a reader knows no translation was made and a
screen reader reads it as English.
"""

from typing import NamedTuple

from django.db.models import F, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils.translation import get_language

ORIGINAL_LANGUAGE = "en"
# The languages staff may enter a record's text in beside English (the `_ru`, `_tg` fields).
TRANSLATED_LANGUAGES = ("ru", "tg")


class LocalText(NamedTuple):
    """A record's text as one reader gets it."""

    text: str
    language: str  # the language `text` is written in
    asked: str  # the reader's language

    @property
    def in_english(self) -> bool:
        """English given to a reader who asked for another language (no translation)."""
        return bool(self.text) and self.language != self.asked

    def __str__(self) -> str:
        return self.text


def reader_language(language: str | None = None) -> str:
    """`language`, else the active language, as its two-letter code ("ru" of "ru-ru")."""
    return (language or get_language() or ORIGINAL_LANGUAGE)[:2]


def localized(record, field: str, language: str | None = None) -> LocalText:
    """The text of `record.field` in `language` (the active one by default): its `_ru` or
    `_tg` version when that is filled in, else the English."""
    asked = reader_language(language)
    if asked in TRANSLATED_LANGUAGES:
        text = getattr(record, f"{field}_{asked}", "")
        if text:
            return LocalText(text, asked, asked)
    return LocalText(getattr(record, field) or "", ORIGINAL_LANGUAGE, asked)


def localized_column(field: str, language: str | None = None):
    """`localized(record, field).text` as a database expression, for reads of many rows
    as values (a map's 100,000 names): the `_ru` or `_tg` column when it is filled in,
    else the English."""
    asked = reader_language(language)
    if asked not in TRANSLATED_LANGUAGES:
        return Coalesce(F(field), Value(""))
    return Coalesce(NullIf(F(f"{field}_{asked}"), Value("")), F(field), Value(""))
