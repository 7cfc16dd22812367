"""Translation catalogues (locale/*/LC_MESSAGES/django.po): extracted and compiled without gettext.

Django's `makemessages` and `compilemessages` need `xgettext` and `msgfmt`, which a
fresh machine may lack; Babel is a pip package, so `make run`, `make messages` and
`make test` need nothing but python3. Templates go through Django's own
`templatize` (what `makemessages` feeds to xgettext) and then Babel's Python
extractor, so a template's msgids are exactly the ones `{% translate %}` and
`{% blocktranslate %}` look up at run time.
"""

import io
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract, extract_python
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from django.conf import settings

# The folders (under BASE_DIR) whose strings the registry shows; tests, benchmarks and
# migrations (frozen copies of model options) are not read.
SOURCE_DIRS = ("cooperation", "deposits", "kernel", "registry", "reports", "templates")
SKIPPED_DIRS = {"migrations", "__pycache__", "static"}
TEMPLATE_SUFFIXES = {".html", ".txt"}

# Django's translation functions beside Babel's defaults (the same list `makemessages`
# gives xgettext).
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext_lazy": (1, 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
COMMENT_TAGS = ("Translators",)
PO_WIDTH = 100  # the width the catalogues are written with; keeps their diffs small


def extract_django_template(fileobj, keywords, comment_tags, options):
    """Babel extraction method for Django templates: templatize, then read as Python."""
    from django.utils.translation.template import templatize

    source = fileobj.read().decode(options.get("encoding", "utf-8"))
    # templatize keeps the template's lines (blanked out) around the gettext calls it
    # writes; xgettext ignores their indentation, Python's tokenizer would not.
    lines = (line.lstrip() for line in templatize(source).splitlines(keepends=True))
    python_source = io.BytesIO("".join(lines).encode("utf-8"))
    yield from extract_python(python_source, keywords, comment_tags, {"encoding": "utf-8"})


def source_files(base_dir: Path | None = None) -> Iterator[Path]:
    """Every Python file and template whose marked strings belong in the catalogues."""
    base_dir = Path(base_dir or settings.BASE_DIR)
    for folder in SOURCE_DIRS:
        for path in sorted((base_dir / folder).rglob("*")):
            relative_parts = path.relative_to(base_dir).parts
            if SKIPPED_DIRS.intersection(relative_parts) or not path.is_file():
                continue
            if path.suffix == ".py" or path.suffix in TEMPLATE_SUFFIXES:
                yield path


def extract_messages(base_dir: Path | None = None) -> Catalog:
    """A template catalogue (no translations) of every string marked in the sources."""
    base_dir = Path(base_dir or settings.BASE_DIR)
    template = Catalog(project="tj-mineral-registry", fuzzy=False)
    for path in source_files(base_dir):
        method = extract_python if path.suffix == ".py" else extract_django_template
        with path.open("rb") as fileobj:
            found = extract(method, fileobj, keywords=KEYWORDS, comment_tags=COMMENT_TAGS)
            for lineno, message, comments, context in found:
                location = (path.relative_to(base_dir).as_posix(), lineno)
                template.add(message, locations=[location], auto_comments=comments, context=context)
    return template


def catalogue_paths() -> list[Path]:
    """The catalogue (django.po) of every language in LOCALE_PATHS."""
    return [
        po_path
        for locale_path in settings.LOCALE_PATHS
        for po_path in sorted(Path(locale_path).glob("*/LC_MESSAGES/django.po"))
    ]


def read_catalogue(po_path: Path) -> Catalog:
    """A .po file, read for the language of the folder it is in."""
    with po_path.open("rb") as po_file:
        return read_po(po_file, locale=po_path.parent.parent.name)


def update_catalogues(template: Catalog | None = None) -> dict[Path, tuple[int, int]]:
    """Bring each .po in line with the sources, keeping the translations it has.

    New strings arrive untranslated, strings gone from the sources are dropped, and
    nothing is guessed: a guessed ("fuzzy") translation read by nobody would reach
    the pages the day its flag is lost. Returns, per catalogue, (added, removed).
    """
    template = template or extract_messages()
    changes = {}
    for po_path in catalogue_paths():
        catalogue = read_catalogue(po_path)
        before = {message.id for message in catalogue if message.id}
        catalogue.update(template, no_fuzzy_matching=True, update_creation_date=False)
        after = {message.id for message in catalogue if message.id}
        with po_path.open("wb") as po_file:
            write_po(po_file, catalogue, width=PO_WIDTH, no_location=True, ignore_obsolete=True)
        changes[po_path] = (len(after - before), len(before - after))
    return changes


def compile_catalogues(force: bool = False) -> list[Path]:
    """Write each .mo that is missing or older than its .po; return the files written."""
    written = []
    po_paths = (
        po_path
        for locale_path in settings.LOCALE_PATHS
        for po_path in sorted(Path(locale_path).glob("*/LC_MESSAGES/*.po"))
    )
    for po_path in po_paths:
        mo_path = po_path.with_suffix(".mo")
        if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        catalogue = read_catalogue(po_path)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalogue)
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
