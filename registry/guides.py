"""The guides in `docs/` served as pages under `/docs/`, for partners and staff who read
them from the registry rather than from its repository.

The Markdown files stay the one text: a page is rendered from the file when it is first
asked for, kept until the file changes (its modification time is part of the cache key,
so an edited guide shows on the next request without a restart), and sanitised by nh3
whatever the file holds. Raw HTML in a guide is shown as text, never passed through, and
nothing rendered carries a style or a script, so the pages keep the strict
Content-Security-Policy. Links between guides (`[the OGC guide](ogc.md#qgis)`) lead to
the served pages; a link to a file that is not served (`../Makefile`) keeps its text and
loses its link, so no page points into the repository's tree.
"""

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import nh3
from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from markdown_it import MarkdownIt
from markdown_it.token import Token


@dataclass(frozen=True)
class GuideEntry:
    slug: str  # the file docs/<slug>.md and the page /docs/<slug>/
    title: str
    summary: str


# The guides served, in the order the index lists them. The developers' notes
# (architecture, performance, reliability, translation, deployment) stay in the repository.
GUIDES = (
    GuideEntry(
        "api",
        _("REST API"),
        _(
            "For partner agencies: keys, who sees what, resources, filters, formats, paging, "
            "the change feed, errors and limits."
        ),
    ),
    GuideEntry(
        "ogc",
        _("OGC API – Features"),
        _(
            "The deposits as a layer in QGIS, ArcGIS Pro, GDAL and OWSLib: addresses, "
            "parameters, keys."
        ),
    ),
    GuideEntry(
        "data",
        _("Bulk data in and out"),
        _(
            "For staff: spreadsheet import and export, MinMod records, the data-quality "
            "report, critical minerals, backups."
        ),
    ),
    GuideEntry(
        "reserves",
        _("Reserves and shares"),
        _(
            "Which estimates count, what a reserve share is a share of, figures as of a day, "
            "the yearly State Balance."
        ),
    ),
    GuideEntry(
        "search",
        _("Searching names"),
        _("How a name is found in any spelling, Latin or Cyrillic, and how duplicates are caught."),
    ),
)
BY_SLUG = {guide.slug: guide for guide in GUIDES}

ALLOWED_TAGS = {
    *("h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "blockquote"),
    *("ul", "ol", "li", "a", "em", "strong", "del", "code", "pre"),
    *("table", "thead", "tbody", "tr", "th", "td"),
}
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
ALIGNMENTS = {"text-align:left": "left", "text-align:center": "center", "text-align:right": "right"}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "ol": {"start"},
    **{heading: {"id"} for heading in HEADINGS},
}
ALLOWED_CLASSES = {cell: {f"align-{a}" for a in ALIGNMENTS.values()} for cell in ("th", "td")}
TOC_LEVELS = ("h2", "h3")


@dataclass(frozen=True)
class Heading:
    level: int  # 2 or 3
    text: str
    anchor: str


@dataclass(frozen=True)
class Guide:
    title: str  # the text of its first level-1 heading, which the page shows above the rest
    html: str  # sanitised, without that heading
    contents: tuple[Heading, ...]


def _markdown() -> MarkdownIt:
    # CommonMark with GitHub's tables and strikethrough, as the files are written for;
    # raw HTML is escaped (html=False), so a guide can hold no markup of its own.
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


MARKDOWN = _markdown()


def anchor(text: str) -> str:
    """A heading's id as GitHub makes it (lower case, punctuation dropped, spaces to
    hyphens), so `guide.md#anchor` links work on GitHub and here alike."""
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def _plain_text(inline: Token) -> str:
    return "".join(
        child.content for child in inline.children or () if child.type in ("text", "code_inline")
    )


def served_href(href: str) -> str | None:
    """Where a link of a guide leads on the served pages: another served guide's page,
    an address outside the repository as it is, or None (a file of the repository that is
    not served)."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path:
        return href  # an outside address, or an anchor on the same page
    path = Path(parts.path)
    if path.suffix == ".md" and path.parent == Path("."):
        guide = BY_SLUG.get(path.stem)
        if guide is not None:
            page = reverse("guide", args=[guide.slug])
            return f"{page}#{parts.fragment}" if parts.fragment else page
    return None


def _relink(inline: Token) -> None:
    """Rewrite the links of one inline run; a link to an unserved file keeps its text."""
    children, dropping = [], False
    for child in inline.children or ():
        if child.type == "link_open":
            target = served_href(child.attrGet("href") or "")
            if target is None:
                dropping = True
                continue
            child.attrSet("href", target)
        elif child.type == "link_close" and dropping:
            dropping = False
            continue
        children.append(child)
    inline.children = children


def render_markdown(text: str) -> Guide:
    """A guide's Markdown as sanitised HTML, with an id on every heading and the table of
    contents of its second- and third-level headings."""
    tokens = MARKDOWN.parse(text)
    title, contents, used, first_heading = "", [], {}, None
    for index, token in enumerate(tokens):
        if token.type == "heading_open":
            words = _plain_text(tokens[index + 1])
            base = anchor(words)
            # GitHub's rule for a repeated heading: -1, -2, ... after the first
            seen = used.get(base, 0)
            used[base] = seen + 1
            slug = f"{base}-{seen}" if seen else base
            token.attrSet("id", slug)
            if token.tag == "h1" and not title:
                title = words  # the page's own heading, above the contents: not repeated
                first_heading = slice(index, index + 3)
            elif token.tag in TOC_LEVELS:
                contents.append(Heading(int(token.tag[1]), words, slug))
        elif token.type in ("th_open", "td_open") and token.attrGet("style"):
            alignment = ALIGNMENTS.get(str(token.attrGet("style")))
            token.attrs = {"class": f"align-{alignment}"} if alignment else {}
        elif token.type == "inline":
            _relink(token)
    if title:
        del tokens[first_heading]
    html = MARKDOWN.renderer.render(tokens, MARKDOWN.options, {})
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
    # Wide tables and code scroll inside themselves on a phone, as the pages' own tables
    # do, and take the keyboard's focus so they can be scrolled without a mouse; the
    # wrapper and the attribute are added to the sanitised text, the only markup nh3 did
    # not see.
    clean = (
        clean.replace("<table>", '<div class="table-scroll" tabindex="0"><table>')
        .replace("</table>", "</table></div>")
        .replace("<pre>", '<pre tabindex="0">')
    )
    return Guide(title=title, html=clean, contents=tuple(contents))


@functools.lru_cache(maxsize=len(GUIDES) * 2)
def _rendered(path: Path, modified_ns: int) -> Guide:
    return render_markdown(path.read_text(encoding="utf-8"))


def read_guide(slug: str) -> Guide:
    """The served guide `slug`, or 404 (a guide not served, or its file missing)."""
    if slug not in BY_SLUG:
        raise Http404("No such guide.")
    path = Path(settings.GUIDES_DIR) / f"{slug}.md"
    try:
        modified_ns = path.stat().st_mtime_ns
    except FileNotFoundError:
        raise Http404("No such guide.") from None
    return _rendered(path, modified_ns)


def guide_index(request):
    return render(request, "guides/index.html", {"guides": GUIDES})


def guide_page(request, slug: str):
    guide = read_guide(slug)
    return render(
        request,
        "guides/guide.html",
        {"guide": guide, "entry": BY_SLUG[slug], "guides": GUIDES},
    )
