"""Names that show what they are: no control characters, no invisible or direction-changing
ones.

A right-to-left override (U+202E) makes "Konimansur\u202eriaD" display as a different name;
zero-width characters make two names that look alike differ, and a control character
breaks the lines of an export. Every record with a name checks it here, in the model's
validation (`PlainTextFields`), so the admin, the API and the spreadsheet imports refuse
the same characters with the same message.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# C0 and C1 controls with DEL; the Arabic letter mark; zero-width spaces, joiners and
# direction marks; line and paragraph separators with the bidirectional embeddings and
# overrides; word joiner, invisible operators and bidirectional isolates; the byte-order
# mark (zero-width no-break space).
HIDDEN_CHARACTER = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)


def refuse_hidden_characters(value) -> None:
    """Refuses text (or a list of texts) holding a control or invisible character."""
    for text in value if isinstance(value, list | tuple) else [value]:
        found = HIDDEN_CHARACTER.search(text) if isinstance(text, str) else None
        if found:
            character = found.group()
            raise ValidationError(
                _("Character %(code)s (%(name)s) at position %(position)s of %(text)r is "
                  "invisible or a control character and would make the name display as "
                  "another; type the name again without it."),
                code="hidden_character",
                params={
                    "code": f"U+{ord(character):04X}",
                    "name": unicodedata.name(character, "control character"),
                    "position": found.start() + 1,
                    "text": text,
                },
            )  # fmt: skip


class PlainTextFields:
    """A model mixin: the fields named in `plain_text_fields` (text or lists of text)
    are checked by `refuse_hidden_characters` whenever the record is validated."""

    plain_text_fields: tuple[str, ...] = ()

    def clean_fields(self, exclude=None):
        errors = {}
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        for name in self.plain_text_fields:
            if (exclude and name in exclude) or name in errors:
                continue
            try:
                refuse_hidden_characters(getattr(self, name))
            except ValidationError as error:
                errors[name] = error.error_list
        if errors:
            raise ValidationError(errors)
