"""Record content in the reader's language, as every page and paper writes it
(the rule: kernel/languages.py).

`{% free_text record "description" lines=True %}` writes a record's free text in the
active language; where staff entered no translation, the English with `lang="en"` and
"(in English)" after it. `{{ record|in_language:"title" }}` is the bare text, for the
places that take no markup (a page's <title>, an attribute).
"""

from django import template
from django.template.defaultfilters import linebreaksbr
from django.utils.html import conditional_escape, format_html
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from kernel.languages import ORIGINAL_LANGUAGE, localized

register = template.Library()


@register.simple_tag
def free_text(record, field: str, lines: bool = False, words: int | None = None) -> str:
    """`record.field` in the reader's language, marked when it is English instead: with
    `lines`, its line breaks kept; with `words`, cut after that many words."""
    local = localized(record, field)
    text = Truncator(local.text).words(words, truncate=" …") if words else local.text
    html = linebreaksbr(text, autoescape=True) if lines else conditional_escape(text)
    if not local.in_english:
        return html
    return format_html(
        '<span lang="{}">{}</span> <span class="in-english">{}</span>',
        ORIGINAL_LANGUAGE,
        html,
        _("(in English)"),
    )


@register.filter
def in_language(record, field: str) -> str:
    """`record.field` in the reader's language, else the English, as plain text."""
    return localized(record, field).text
