"""The pages' maps, server side: the compact map data, its queries, the note naming the
deposits without coordinates, the active box, the outlines' files. In Chromium:
tests/test_pages_map_browser.py."""

import gzip
import json
from decimal import Decimal

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from deposits.models import Deposit, Region
from kernel.languages import localized, localized_column
from kernel.models import Visibility
from tests.factories import CommodityFactory, DepositFactory, MineralFactory, RegionFactory

pytestmark = pytest.mark.django_db

LIST = reverse("deposit-list")
MAP_DATA = reverse("deposit-map-data")


@pytest.fixture(autouse=True)
def _pages(pages_settings):
    pass


@pytest.fixture
def silver():
    return MineralFactory()


def located(name, mineral, **fields):
    deposit = DepositFactory(
        name=name, latitude=Decimal("39.5"), longitude=Decimal("69.25"), **fields
    )
    CommodityFactory(deposit=deposit, mineral=mineral)
    return deposit


def unlocated(name, mineral, **fields):
    deposit = DepositFactory(name=name, **fields)
    CommodityFactory(deposit=deposit, mineral=mineral)
    return deposit


def map_config(response) -> dict:
    return response.context["map_config"]


def note(response) -> str:
    html = response.content.decode()
    start = html.find('class="map-unlocated"')
    if start < 0:
        return ""
    text = html[start : html.index("</p>", start)]
    return " ".join(text.split())


# --- the map data ----------------------------------------------------------------------


def test_map_data_are_one_compact_document_of_the_located_deposits(client, silver):
    ridge = located("Silver Ridge", silver, name_ru="Серебряный хребет")
    unlocated("Lost Adit", silver)
    located("Hidden Vein", silver, visibility=Visibility.INTERNAL)

    data = client.get(MAP_DATA, {"mineral": "silver"}).json()

    assert data["deposits"] == [[ridge.public_id, "Silver Ridge", 39.5, 69.25]]
    assert data["truncated"] is False
    head, tail = data["url"]
    assert head + ridge.public_id + tail == ridge.get_absolute_url()


def test_map_data_name_the_deposits_in_the_readers_language(client, silver):
    located("Silver Ridge", silver, name_ru="Серебряный хребет")
    located("Tin Hill", silver, name_ru="")

    names = {
        language: [
            row[1] for row in client.get(MAP_DATA, HTTP_ACCEPT_LANGUAGE=language).json()["deposits"]
        ]
        for language in ("en", "ru", "tg")
    }

    assert names == {
        "en": ["Silver Ridge", "Tin Hill"],
        "ru": ["Серебряный хребет", "Tin Hill"],
        "tg": ["Silver Ridge", "Tin Hill"],  # no Tajik name: the English one
    }


def test_map_data_go_compressed_to_a_browser_that_takes_gzip(client, silver):
    for number in range(30):
        located(f"Deposit {number}", silver)
    plain = client.get(MAP_DATA)
    packed = client.get(MAP_DATA, HTTP_ACCEPT_ENCODING="gzip")
    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.content) == plain.content
    assert len(packed.content) < len(plain.content) / 2


def test_bad_map_data_filters_answer_400_with_the_field(client):
    response = client.get(MAP_DATA, {"bbox": "70,40,69,39"})
    assert response.status_code == 400
    assert "bbox" in response.json()["errors"]


def queries_of(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params or {}).status_code == 200
    return len(queries)


# The map data, anonymous: the located deposits in one query; validating a mineral and a
# region filter adds one query each.
MAP_DATA_QUERIES = 1


@pytest.mark.parametrize(
    ("params", "extra"), [({}, 0), ({"mineral": "silver", "region": "TJ-SU"}, 2)]
)
def test_map_data_queries_are_pinned_whatever_the_rows(client, silver, params, extra):
    for number in range(3):
        located(f"Few {number}", silver, region=RegionFactory())
    few = queries_of(client, MAP_DATA, params)
    for number in range(60):
        located(f"Many {number}", silver, region=RegionFactory())
        unlocated(f"Unlocated {number}", silver)
    assert queries_of(client, MAP_DATA, params) == few == MAP_DATA_QUERIES + extra


def test_localized_column_is_the_localized_rule_in_the_database():
    """A Russian name filled in, a Tajik one blank: each language reads what `localized`
    gives a record."""
    region = RegionFactory(code="TJ-SU", name="Sughd", name_ru="Согдийская область", name_tg="")
    for language in ("en", "ru", "tg"):
        column = Region.objects.values_list(localized_column("name", language), flat=True)
        assert list(column) == [localized(region, "name", language).text]


# --- the note naming the deposits the map cannot show -----------------------------------


def test_the_list_names_the_matching_deposits_without_coordinates(client, silver):
    located("Silver Ridge", silver)
    unlocated("Lost Adit", silver)
    unlocated("Blind Shaft", silver)
    unlocated("Elsewhere", MineralFactory(code="gold", symbol="Au", name="Gold"))

    response = client.get(LIST, {"mineral": "silver"})

    text = note(response)
    assert "2 of the 3 matching deposits have no published coordinates" in text
    assert ">Blind Shaft</a>, <a" in text and ">Lost Adit</a>" in text  # the list's order
    assert "Silver Ridge" not in text and "Elsewhere" not in text
    lost = Deposit.objects.get(name="Lost Adit")
    assert f'href="{lost.get_absolute_url()}"' in text


def test_the_note_when_no_matching_deposit_has_coordinates(client, silver):
    for name in ("Lost Adit", "Blind Shaft", "Dry Well"):
        unlocated(name, silver)
    assert "None of the 3 matching deposits has published coordinates" in note(
        client.get(LIST, {"mineral": "silver"})
    )
    Deposit.objects.exclude(name="Dry Well").delete()
    assert "The matching deposit has no published coordinates" in note(
        client.get(LIST, {"mineral": "silver"})
    )


def test_the_note_names_the_first_deposits_and_counts_the_others(client, silver, settings):
    settings.PAGES_MAP_UNLOCATED_SHOWN = 3
    for number in range(7):
        unlocated(f"Adit {number}", silver)
    located("Silver Ridge", silver)

    text = note(client.get(LIST))

    assert "7 of the 8 matching deposits have no published coordinates" in text
    assert text.count("<a ") == 3 and "Adit 0" in text and "Adit 3" not in text
    assert ", and 4 more." in text


def test_no_note_when_every_matching_deposit_is_on_the_map(client, silver):
    located("Silver Ridge", silver)
    unlocated("Lost Adit", MineralFactory(code="gold", symbol="Au", name="Gold"))
    assert note(client.get(LIST, {"mineral": "silver"})) == ""


def test_the_note_counts_only_what_the_reader_may_see(client, silver):
    unlocated("Lost Adit", silver)
    unlocated("Secret Adit", silver, visibility=Visibility.INTERNAL)
    located("Silver Ridge", silver)
    text = note(client.get(LIST))
    assert "1 of the 2 matching deposits has no published coordinates" in text
    assert "Secret" not in text


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ru", "найденные месторождения без опубликованных координат (2 из 3)"),
        ("tg", "2 аз 3 кони ёфтшуда координатаҳои нашршуда надоранд"),
    ],
)
def test_the_note_speaks_russian_and_tajik(client, silver, language, expected):
    located("Silver Ridge", silver)
    unlocated("Lost Adit", silver)
    unlocated("Blind Shaft", silver)
    response = client.get(LIST, {"mineral": "silver"}, HTTP_ACCEPT_LANGUAGE=language)
    assert expected in note(response)


def test_a_region_page_names_its_deposits_without_coordinates(client, silver):
    sughd = RegionFactory()
    located("Silver Ridge", silver, region=sughd)
    unlocated("Lost Adit", silver, region=sughd)
    unlocated("Far Away", silver, region=RegionFactory(code="TJ-KT", name="Khatlon"))

    response = client.get(reverse("region-detail", args=["TJ-SU"]))

    text = note(response)
    assert "1 of the region's 2 deposits has no published coordinates" in text
    assert "Lost Adit" in text and "Far Away" not in text


# --- the box and the outlines -----------------------------------------------------------


def test_the_list_map_draws_outlines_and_offers_the_box(client, silver):
    located("Silver Ridge", silver)
    response = client.get(LIST, {"mineral": "silver", "region": "TJ-SU", "page": "1"})
    config = map_config(response)
    assert config["regions"].endswith("tajikistan_regions_ne10m.geojson")
    assert config["highlight"] == ["TJ-SU"]
    assert config["filterUrl"] == f"{LIST}?mineral=silver&region=TJ-SU"  # no page, no bbox
    assert config["box"] is None
    assert "map-active-box" not in response.content.decode()


def test_an_active_box_is_drawn_said_once_and_removable(client, silver):
    inside = located("Silver Ridge", silver)
    DepositFactory(name="Outside", latitude=Decimal("37.1"), longitude=Decimal("72.0"))
    response = client.get(LIST, {"mineral": "silver", "bbox": "69,39.25,69.5,39.75"})
    assert [d.name for d in response.context["page"].object_list] == [inside.name]
    assert map_config(response)["box"] == [69.0, 39.25, 69.5, 39.75]
    assert map_config(response)["filterUrl"] == f"{LIST}?mineral=silver"
    area = [c for c in response.context["chips"] if c["label"] == "Area"]
    assert area == [
        {"label": "Area", "value": "69–69.5° E, 39.25–39.75° N", "url": f"{LIST}?mineral=silver"}
    ]
    html = response.content.decode()
    assert html.count("69–69.5° E") == 1  # said once, by its chip
    assert "inside the box" not in html and "map-active-box" not in html


@pytest.mark.parametrize(
    ("language", "said"),
    [("en", ["68–70° E", "38–39.5° N"]), ("ru", ["68–70° ", "38–39,5° "])],
)
def test_the_area_chip_writes_the_readers_numbers(client, language, said):
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(LIST, {"bbox": "68,38,70,39.5"})
    [chip] = response.context["chips"]
    assert all(part in chip["value"] for part in said), chip["value"]


def test_a_box_across_the_meridian_names_both_sides(client):
    response = client.get(LIST, {"bbox": "-1.5,-2,3.0049,-1"})
    [chip] = response.context["chips"]
    assert chip["value"] == "1.5° W – 3° E, 2–1° S"  # to a hundredth of a degree


def test_a_bad_box_is_a_form_error_and_draws_nothing(client):
    response = client.get(LIST, {"bbox": "69,40,abc,41"})
    assert response.context["valid"] is False
    html = response.content.decode()
    assert "Every bbox value must be a number." in html
    assert "map-active-box" not in html and "data-map=" not in html


def test_a_region_page_map_frames_its_region_and_filters_the_list(client):
    RegionFactory()
    config = map_config(client.get(reverse("region-detail", args=["TJ-SU"])))
    assert config["highlight"] == ["TJ-SU"] and config["fit"] == "regions"
    assert config["filterUrl"] == f"{LIST}?region=TJ-SU"


def test_a_deposit_page_map_has_its_point_and_no_box(client, silver):
    ridge = located("Silver Ridge", silver, name_ru="Серебряный хребет")
    with translation.override("ru"):
        config = map_config(client.get(ridge.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="ru"))
    assert config["points"]["deposits"] == [[ridge.public_id, "Серебряный хребет", 39.5, 69.25]]
    assert "filterUrl" not in config


def test_the_outlines_and_the_cluster_plugin_are_served_by_the_app():
    regions = finders.find("boundaries/tajikistan_regions_ne10m.geojson")
    with open(regions, encoding="utf-8") as handle:
        codes = {f["properties"]["iso_3166_2"] for f in json.load(handle)["features"]}
    assert codes == {"TJ-DU", "TJ-GB", "TJ-KT", "TJ-RA", "TJ-SU"}
    for asset in (
        "leaflet-markercluster/leaflet.markercluster-src.js",
        "leaflet-markercluster/MarkerCluster.css",
        "leaflet-markercluster/MarkerCluster.Default.css",
    ):
        assert finders.find(asset), asset


def test_collectstatic_leaves_out_the_script_whose_source_map_is_missing():
    """The package's minified script names a map it does not ship; the manifest storage
    would refuse to collect it, and the pages load the `-src` script instead."""
    collected = {
        f"{storage.prefix}/{path}" if getattr(storage, "prefix", None) else path
        for finder in finders.get_finders()
        for path, storage in finder.list(["CVS", ".*", "*~"])
    }
    assert "leaflet-markercluster/leaflet.markercluster-src.js" in collected
    assert "leaflet-markercluster/leaflet.markercluster.js" not in collected
    assert "leaflet/leaflet.js" in collected
