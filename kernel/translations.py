"""Compile the translation catalogues (locale/*/LC_MESSAGES/django.po) without GNU gettext.

Django's `compilemessages` needs `msgfmt`, which a fresh machine may lack; Babel
is a pip package, so `make run` and `make test` need nothing but python3.
"""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings


def compile_catalogues(force: bool = False) -> list[Path]:
    """Write each .mo that is missing or older than its .po; return the files written."""
    written = []
    for locale_path in settings.LOCALE_PATHS:
        for po_path in sorted(Path(locale_path).glob("*/LC_MESSAGES/*.po")):
            mo_path = po_path.with_suffix(".mo")
            if (
                not force
                and mo_path.exists()
                and mo_path.stat().st_mtime >= po_path.stat().st_mtime
            ):
                continue
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file, locale=po_path.parent.parent.name)
            with mo_path.open("wb") as mo_file:
                write_mo(mo_file, catalog)
            written.append(mo_path)
    if written:
        _forget_loaded_translations()
    return written


def _forget_loaded_translations() -> None:
    """Make a running process read the new catalogues (as Django does when LOCALE_PATHS change)."""
    from asgiref.local import Local
    from django.utils.translation import trans_real

    trans_real._translations = {}
    trans_real._default = None
    trans_real._active = Local()
    trans_real.translation_catalog_exists.cache_clear()
