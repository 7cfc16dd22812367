"""The guides of docs/ served under /docs/ (registry/guides.py): rendered from the files,
sanitised, with their contents and links between them working on the served pages."""

import os
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.urls import reverse

from registry.guides import GUIDES, anchor, render_markdown

pytestmark = pytest.mark.django_db

DOCS = Path(settings.BASE_DIR) / "docs"


class Page(HTMLParser):
    def __init__(self, text: str):
        super().__init__()
        self.hrefs, self.ids, self.tags, self.attributes = [], [], [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [name for name, _value in attrs]
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        if attrs.get("id"):
            self.ids.append(attrs["id"])


def article(html: str) -> str:
    return html[html.index('<article class="guide"') : html.index("</article>")]


def test_the_index_lists_every_guide_and_the_services(client):
    response = client.get("/docs/")
    assert response.status_code == 200
    page = Page(response.content.decode())
    for guide in GUIDES:
        assert f"/docs/{guide.slug}/" in page.hrefs
    assert "/api/docs/" in page.hrefs
    assert "/ogc/?f=html" in page.hrefs


def test_the_header_of_every_page_links_the_guides(client):
    assert 'href="/docs/"' in client.get("/").content.decode()


@pytest.mark.parametrize("slug", [guide.slug for guide in GUIDES])
def test_each_guide_is_its_file_rendered_with_its_contents(client, slug):
    response = client.get(f"/docs/{slug}/")
    assert response.status_code == 200
    html = response.content.decode()
    page = Page(html)
    source = (DOCS / f"{slug}.md").read_text()
    title = re.search(r"^# (.+)$", source, re.M).group(1)
    assert f'<h1 lang="en">{title}</h1>' in html.replace("&#x27;", "'")
    # every second-level heading of the file is in the contents, and leads to itself
    headings = re.findall(r"^## (.+)$", re.sub(r"```.*?```", "", source, flags=re.S), re.M)
    assert headings
    for heading in headings:
        words = heading.replace("`", "")
        assert f"#{anchor(words)}" in page.hrefs, heading
        assert anchor(words) in page.ids
    assert len(page.ids) == len(set(page.ids)), "an id twice on one page"


@pytest.mark.parametrize("slug", [guide.slug for guide in GUIDES])
def test_the_pages_carry_no_script_or_style_of_their_own(client, slug):
    """The strict Content-Security-Policy holds: no inline script, style or handler."""
    body = article(client.get(f"/docs/{slug}/").content.decode())
    page = Page(body)
    assert not {"script", "style", "img", "iframe"} & set(page.tags)
    assert not [a for a in page.attributes if a == "style" or a.startswith("on")]


def test_every_link_between_guides_leads_to_a_served_page_and_heading(client):
    links = 0
    for guide in GUIDES:
        body = article(client.get(f"/docs/{guide.slug}/").content.decode())
        for href in Page(body).hrefs:
            parts = urlsplit(href)
            if parts.scheme or not parts.path.startswith("/docs/"):
                continue
            links += 1
            target = client.get(parts.path)
            assert target.status_code == 200, href
            if parts.fragment:
                assert parts.fragment in Page(target.content.decode()).ids, href
    assert links >= 5  # the guides do link each other


def test_links_to_guides_are_rewritten_and_links_into_the_repository_dropped():
    guide = render_markdown(
        "# T\n\n[the OGC guide](ogc.md), [its QGIS steps](./ogc.md#qgis), "
        "[the Makefile](../Makefile), [architecture](architecture.md), "
        "[OGC](https://ogcapi.ogc.org/features/), [here](#t)\n"
    )
    assert '<a href="/docs/ogc/" rel="noopener noreferrer">the OGC guide</a>' in guide.html
    assert 'href="/docs/ogc/#qgis"' in guide.html
    assert "the Makefile" in guide.html and "the Makefile</a>" not in guide.html
    assert "architecture" in guide.html and "architecture</a>" not in guide.html
    assert "architecture.md" not in guide.html
    assert 'href="https://ogcapi.ogc.org/features/"' in guide.html
    assert 'href="#t"' in guide.html


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">click</a>',
        "<style>body{display:none}</style>",
        '<p style="color:red">red</p>',
        "![picture](https://example.org/x.png)",
        '<iframe src="https://example.org"></iframe>',
    ],
)
def test_markup_in_a_guide_never_reaches_the_page(markdown):
    html = render_markdown(f"# T\n\n{markdown}\n").html
    page = Page(html)
    assert not {"script", "style", "img", "iframe"} & set(page.tags)
    assert not [a for a in page.attributes if a == "style" or a.startswith("on")]
    assert not [h for h in page.hrefs if h.lower().startswith("javascript")]


def test_aligned_table_columns_become_classes_not_styles():
    html = render_markdown("# T\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n").html
    assert '<td class="align-right">2</td>' in html
    assert "style" not in html
    assert '<div class="table-scroll" tabindex="0"><table>' in html


def test_headings_get_githubs_anchors_and_repeated_ones_a_number():
    guide = render_markdown("# T\n\n## The registry in GIS: OGC API – Features\n\n## A\n\n## A\n")
    assert [h.anchor for h in guide.contents] == [
        "the-registry-in-gis-ogc-api--features",
        "a",
        "a-1",
    ]
    assert guide.title == "T"
    assert "<h1" not in guide.html  # the page shows the title itself


@pytest.mark.parametrize("path", ["/docs/nothing/", "/docs/architecture/", "/docs/README/"])
def test_an_unknown_or_unserved_guide_is_a_404(client, path):
    assert client.get(path).status_code == 404


def test_a_path_out_of_docs_is_a_404(client):
    for path in ("/docs/../README/", "/docs/%2e%2e%2fREADME/", "/docs/..%2fMakefile/"):
        assert client.get(path).status_code == 404


def test_an_edited_guide_shows_on_the_next_request(client, settings, tmp_path):
    settings.GUIDES_DIR = tmp_path
    path = tmp_path / "api.md"
    path.write_text("# First\n\n## One\n")
    assert "First" in client.get("/docs/api/").content.decode()
    path.write_text("# Second\n\n## Two\n")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert "Second" in client.get("/docs/api/").content.decode()
    path.unlink()
    assert client.get("/docs/api/").status_code == 404


def test_the_guide_is_marked_english_and_the_reader_told_so(client):
    english = client.get("/docs/api/").content.decode()
    assert '<article class="guide" lang="en">' in english
    assert 'role="note"' not in english
    russian = client.get("/docs/api/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert '<html lang="ru">' in russian
    assert '<article class="guide" lang="en">' in russian
    assert 'role="note"' in russian


def test_swagger_links_the_api_guide(client):
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/json").json()
    assert "(/docs/api/)" in schema["info"]["description"]
