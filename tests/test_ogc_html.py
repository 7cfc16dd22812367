"""The OGC service's pages: every resource answers HTML to a browser (`f=html`, or an
Accept header preferring text/html) and JSON to everyone else, the page showing the JSON
document's own content and links, read once."""

import html
import json
import re
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from kernel.models import ApiKey
from tests import test_ogc
from tests.test_ogc import GEOJSON, ITEMS, JSON, PAGE_QUERIES

# test_ogc's fixtures: five deposits of every visibility, and a partner's key
registry = test_ogc.registry
partner_key = test_ogc.partner_key

pytestmark = pytest.mark.django_db

HTML = "text/html"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
HTML_CONFORMANCE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html"


class Page(HTMLParser):
    """The links, ids and text of a page."""

    def __init__(self, text: str):
        super().__init__()
        self.hrefs, self.ids, self.words = [], [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        if attrs.get("id"):
            self.ids.append(attrs["id"])

    def handle_data(self, data):
        self.words.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.words).split())


def without_f(href: str) -> str:
    parts = urlsplit(href)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "f"])
    return urlunsplit(parts._replace(query=query))


def resources(registry) -> dict[str, str]:
    pakrut = registry["pakrut"].public_id
    return {
        "landing": "/ogc/",
        "conformance": "/ogc/conformance",
        "api": "/ogc/api",
        "collections": "/ogc/collections",
        "collection": "/ogc/collections/deposits",
        "queryables": "/ogc/collections/deposits/queryables",
        "items": ITEMS,
        "item": f"{ITEMS}/{pakrut}",
    }


RESOURCES = ("landing", "conformance", "api", "collections", "collection", "queryables")
RESOURCES += ("items", "item")


@pytest.mark.parametrize("resource", RESOURCES)
def test_a_browser_gets_a_page_and_a_gis_tool_json(client, registry, resource):
    url = resources(registry)[resource]
    page = client.get(url, HTTP_ACCEPT=BROWSER)
    assert page.status_code == 200
    assert page["Content-Type"].startswith(HTML)
    assert "Accept" in page["Vary"]
    assert client.get(url, {"f": "html"})["Content-Type"].startswith(HTML)
    for accept in ("*/*", JSON, GEOJSON, f"{JSON}, {HTML}", f"{HTML};q=0.5, {GEOJSON}"):
        response = client.get(url, HTTP_ACCEPT=accept)
        assert not response["Content-Type"].startswith(HTML), accept
        assert "Accept" in response["Vary"]
        response.json()
    # f wins over the Accept header, either way
    assert not client.get(url, {"f": "json"}, HTTP_ACCEPT=BROWSER)["Content-Type"].startswith(HTML)
    assert client.get(url, {"f": "html"}, HTTP_ACCEPT=JSON)["Content-Type"].startswith(HTML)


@pytest.mark.parametrize("resource", [r for r in RESOURCES if r != "api"])
def test_the_page_links_what_the_document_links(client, registry, resource):
    """The HTML class: all the document's links are <a> elements of the page."""
    url = resources(registry)[resource]
    document = client.get(url).json()
    page = Page(client.get(url, {"f": "html"}).content.decode())
    shown = {without_f(href) for href in page.hrefs}
    linked = list(document["links"])
    for collection in document.get("collections", []):
        linked += collection["links"]
    assert linked
    for item in linked:
        assert without_f(item["href"]) in shown, item


def test_the_json_links_its_page_and_the_page_its_json(client, registry):
    document = client.get("/ogc/collections/deposits").json()
    [alternate] = [item for item in document["links"] if item["rel"] == "alternate"]
    assert alternate["type"] == HTML
    assert alternate["href"] == "http://testserver/ogc/collections/deposits?f=html"
    page = client.get(alternate["href"])
    assert page["Content-Type"].startswith(HTML)
    as_json = "http://testserver/ogc/collections/deposits?f=json"
    assert as_json in Page(page.content.decode()).hrefs
    assert client.get(as_json).json()["id"] == "deposits"


def test_conformance_claims_html(client):
    assert HTML_CONFORMANCE in client.get("/ogc/conformance").json()["conformsTo"]


def test_the_items_page_lists_the_features_of_the_json_page_with_their_links(client, registry):
    params = {"limit": 2, "mineral": "silver,gold,antimony"}
    document = client.get(ITEMS, params).json()
    page = client.get(ITEMS, {**params, "f": "html"})
    text = page.content.decode()
    parsed = Page(text)
    ids = [f["id"] for f in document["features"]]
    assert len(ids) == 2
    for feature in document["features"]:
        item = f"http://testserver{ITEMS}/{feature['id']}?f=html"
        assert item in parsed.hrefs
        assert feature["properties"]["url"] in parsed.hrefs
    table = text[text.index("<tbody>") :]
    assert table.index(ids[0]) < table.index(ids[1])  # in the JSON's order
    assert "Deposits 1–2 of 3." in parsed.text
    # the next page keeps the filter and stays a page
    [next_page] = {h for h in parsed.hrefs if "cursor=" in h and "f=html" in h}
    following = dict(parse_qsl(urlsplit(next_page).query))
    assert following.pop("cursor")
    assert following == {"mineral": "silver,gold,antimony", "f": "html", "limit": "2"}
    last = Page(client.get(next_page).content.decode())
    assert "1 deposit of 3 on this page." in last.text  # a cursor's page: no position
    back = re.search(r'href="([^"]+)" rel="prev"', client.get(next_page).content.decode())
    previous = Page(client.get(html.unescape(back.group(1))).content.decode())
    assert "2 deposits of 3 on this page." in previous.text


def test_the_items_page_maps_the_located_features_only(client, registry):
    page = client.get(ITEMS, {"f": "html"}).content.decode()
    assert 'id="ogc-map-config"' in page
    assert "leaflet/leaflet.js" in page
    config = re.search(r'id="ogc-map-config"[^>]*>(.*?)</script>', page, re.S).group(1)
    mapped = [row[0] for row in json.loads(config)["points"]["deposits"]]
    assert len(mapped) == 2  # Konimansur and Pakrut; Dzhizhikrut has none
    assert "Dzhizhikrut" in page  # listed all the same
    empty = client.get(ITEMS, {"f": "html", "bbox": "67,36,67.1,36.1"}).content.decode()
    assert "ogc-map-config" not in empty and "leaflet" not in empty
    assert "No deposits on this page; 0 match the request." in Page(empty).text


def test_the_feature_page_shows_every_property(client, registry):
    pakrut = registry["pakrut"].public_id
    document = client.get(f"{ITEMS}/{pakrut}").json()
    page = client.get(f"{ITEMS}/{pakrut}", {"f": "html"})
    text = Page(page.content.decode()).text
    for name in document["properties"]:
        assert name in text
    assert "Pakrut" in text and "69.3, 38.9" in text
    assert 'id="ogc-map-config"' in page.content.decode()


@pytest.mark.parametrize("limit", [1, 3, 100])
def test_the_items_page_reads_as_the_json_does(client, registry, limit, django_assert_num_queries):
    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(ITEMS, {"limit": limit, "f": "html"})
    assert response.status_code == 200


def test_an_unknown_format_is_a_400_with_the_reason(client, registry):
    response = client.get(ITEMS, {"f": "xml"})
    assert response.status_code == 400
    assert response["Content-Type"] == JSON
    error = response.json()
    assert list(error["parameters"]) == ["f"]
    assert "'xml'" in error["description"] and "html" in error["description"]
    # a browser is told the same on a page
    page = client.get(ITEMS, {"f": "xml"}, HTTP_ACCEPT=BROWSER)
    assert page.status_code == 400
    assert page["Content-Type"].startswith(HTML)
    assert "Unknown format 'xml'" in Page(page.content.decode()).text


@pytest.mark.parametrize(
    ("url", "params", "status", "words"),
    [
        (ITEMS, {"limit": "ten"}, 400, "Give a whole number"),
        (ITEMS, {"sortby": "colour"}, 400, "Cannot sort by 'colour'"),
        (ITEMS, {"filter": "colour = 'red'"}, 400, "Unknown property 'colour'"),
        (ITEMS, {"nonsense": "1"}, 400, "Unknown parameter"),
        ("/ogc/collections/deposits-unobtainium", {}, 404, "No collection"),
        (f"{ITEMS}/TJD-999999", {}, 404, "No feature"),
        ("/ogc/nowhere", {}, 404, "No such resource"),
    ],
)
def test_errors_come_as_pages_to_a_page_reader(client, registry, url, params, status, words):
    response = client.get(
        url, {**params, "f": "html"} if "nowhere" not in url else params, HTTP_ACCEPT=BROWSER
    )
    assert response.status_code == status
    assert response["Content-Type"].startswith(HTML)
    assert words in Page(response.content.decode()).text
    as_json = client.get(url, params)
    assert as_json.status_code == status
    assert as_json["Content-Type"] == JSON


def test_a_bad_key_is_a_401_page_to_a_browser(client, registry, partner_key):
    ApiKey.objects.find(partner_key).revoke()
    response = client.get(ITEMS, {"api_key": partner_key}, HTTP_ACCEPT=BROWSER)
    assert response.status_code == 401
    assert response["Content-Type"].startswith(HTML)
    assert "InvalidApiKey" in Page(response.content.decode()).text
    assert partner_key not in Page(response.content.decode()).text


def test_hidden_deposits_are_as_absent_from_the_pages(client, registry):
    page = client.get(ITEMS, {"f": "html"}).content.decode()
    assert "Partner gold" not in page and "Internal antimony" not in page
    hidden = registry["partner"].public_id
    assert client.get(f"{ITEMS}/{hidden}", {"f": "html"}).status_code == 404


def test_a_key_in_the_address_is_kept_by_the_pages_links(client, registry, partner_key):
    page = Page(client.get(ITEMS, {"f": "html", "api_key": partner_key}).content.decode())
    assert "Partner gold" in page.text
    items = [h for h in page.hrefs if f"{ITEMS}/" in h]
    assert items and all(f"api_key={partner_key}" in h for h in items)


def test_the_operations_page_is_read_from_the_openapi_document(client):
    document = client.get("/ogc/api").json()
    assert document["components"]["parameters"]["f"]["schema"]["enum"] == [
        "json",
        "geojson",
        "html",
    ]
    assert document["externalDocs"]["url"] == "http://testserver/docs/ogc/"
    page = Page(client.get("/ogc/api", {"f": "html"}).content.decode())
    for path in document["paths"]:
        assert f"GET {path}" in page.text
    for parameter in document["components"]["parameters"]:
        assert parameter in page.text
