"""Paging of OGC items by cursor (`deposits/ogc/paging.py`, `kernel/keyset.py`), the lean
single feature, and the OGC answers kept in the shared cache."""

from decimal import Decimal

import pytest
from django.db.models import F

from deposits.models import Deposit
from kernel.api import caching
from kernel.keyset import Keyset
from kernel.models import Visibility
from tests.factories import (
    BeltFactory,
    CommodityFactory,
    DepositFactory,
    MineralFactory,
    RegionFactory,
    issue_api_key,
)
from tests.test_ogc import PAGE_QUERIES, link, query_of

pytestmark = pytest.mark.django_db

ITEMS = "/ogc/collections/deposits/items"


@pytest.fixture
def alphabet(db):
    """Twelve public deposits named A… to L… (some without a region or belt), one for
    partners and one internal."""
    silver = MineralFactory()
    khatlon = RegionFactory(code="TJ-KT", name="Khatlon")
    belt = BeltFactory()
    deposits = {}
    for index, letter in enumerate("ABCDEFGHIJKL"):
        deposits[letter] = DepositFactory(
            name=f"{letter} deposit",
            region=[None, khatlon, RegionFactory()][index % 3],
            belt=belt if index % 2 else None,
            latitude=Decimal("39.5"),
            longitude=Decimal("69.5"),
        )
        CommodityFactory(deposit=deposits[letter], mineral=silver)
    deposits["partners"] = DepositFactory(name="C½ partners", visibility=Visibility.PARTNERS)
    deposits["internal"] = DepositFactory(name="C¾ internal", visibility=Visibility.INTERNAL)
    return deposits


def ids(document) -> list[str]:
    return [feature["id"] for feature in document["features"]]


def walk(client, href, rel="next") -> tuple[list[str], int]:
    """Every feature from `href` on, following `rel`, and the number of pages read."""
    seen, pages = [], 0
    while href:
        document = client.get(href).json()
        seen += ids(document) if rel == "next" else list(reversed(ids(document)))
        pages += 1
        following = [item for item in document["links"] if item["rel"] == rel]
        href = following[0]["href"] if following else None
    return seen, pages


def public_order():
    public = Deposit.objects.filter(visibility=Visibility.PUBLIC)
    return list(public.order_by("name", "pk").values_list("public_id", flat=True))


# --- cursors in the links ----------------------------------------------------------


def test_next_links_carry_a_cursor_and_walk_every_feature_once(client, alphabet):
    seen, pages = walk(client, f"http://testserver{ITEMS}?limit=5")
    assert seen == public_order()
    assert pages == 3
    document = client.get(ITEMS, {"limit": 5}).json()
    following = query_of(link(document, "next")["href"])
    assert set(following) == {"limit", "cursor"}  # an opaque cursor, no offset


def test_a_sorted_walk_by_cursor_reads_the_order_sortby_names(client, alphabet):
    public = Deposit.objects.filter(visibility=Visibility.PUBLIC)
    for sortby, ordering in [
        ("-region,name", ("-region__code", "name", "pk")),
        ("district,-updated_at", ("district__name", "-updated_at", "pk")),
    ]:
        seen, pages = walk(client, f"http://testserver{ITEMS}?limit=5&sortby={sortby}")
        assert seen == list(public.order_by(*ordering).values_list("public_id", flat=True))
        assert pages == 3


def test_prev_links_walk_back_by_reverse_cursor(client, alphabet):
    last = client.get(ITEMS, {"limit": 5}).json()
    while any(item["rel"] == "next" for item in last["links"]):
        last = client.get(link(last, "next")["href"]).json()
    assert ids(last) == public_order()[10:]
    # from the last page back to the first, each page once
    back, pages = walk(client, link(last, "prev")["href"], rel="prev")
    assert list(reversed(back)) == public_order()[:10]
    assert pages == 2
    first = client.get(link(last, "prev")["href"]).json()
    first = client.get(link(first, "prev")["href"]).json()
    assert ids(first) == public_order()[:5]
    assert not [item for item in first["links"] if item["rel"] == "prev"]


def test_an_offset_page_links_next_by_cursor_and_prev_by_offset(client, alphabet):
    document = client.get(ITEMS, {"limit": 3, "offset": 4, "region": "TJ-KT,TJ-SU"}).json()
    order = [
        d.public_id
        for d in Deposit.objects.filter(visibility="public", region__isnull=False).order_by(
            "name", "pk"
        )
    ]
    assert ids(document) == order[4:7]
    assert query_of(link(document, "self")["href"])["offset"] == ["4"]
    assert query_of(link(document, "prev")["href"]) == {
        "limit": ["3"],
        "offset": ["1"],
        "region": ["TJ-KT,TJ-SU"],
    }
    following = query_of(link(document, "next")["href"])
    assert "offset" not in following
    assert following["region"] == ["TJ-KT,TJ-SU"]  # every other parameter kept
    assert ids(client.get(link(document, "next")["href"]).json()) == order[7:8]


def test_cursor_links_keep_every_parameter_and_the_key_in_the_address(
    client, alphabet, partner_org
):
    key = issue_api_key(organisation=partner_org)
    params = {"limit": 2, "api_key": key, "mineral": "silver", "critical": "false", "f": "json"}
    document = client.get(ITEMS, params).json()
    following = query_of(link(document, "next")["href"])
    assert following.keys() == {"limit", "api_key", "mineral", "critical", "f", "cursor"}
    assert following["api_key"] == [key]
    second = client.get(link(document, "next")["href"]).json()
    assert query_of(link(second, "self")["href"])["cursor"] == following["cursor"]


def test_an_empty_cursor_starts_a_walk(client, alphabet):
    document = client.get(ITEMS, {"limit": 5, "cursor": ""}).json()
    assert ids(document) == public_order()[:5]
    assert not [item for item in document["links"] if item["rel"] == "prev"]
    assert "cursor" in query_of(link(document, "next")["href"])


def test_the_page_of_a_cursor_says_how_many_it_shows(client, alphabet):
    document = client.get(ITEMS, {"limit": 5}).json()
    page = client.get(link(document, "next")["href"].replace("f=json", "") + "&f=html")
    assert page.status_code == 200
    assert "5 deposits of 12 on this page." in page.content.decode()


# --- stable while records come and go --------------------------------------------


def test_records_added_and_removed_between_pages_are_neither_skipped_nor_repeated(client, alphabet):
    first = client.get(ITEMS, {"limit": 4}).json()
    assert [f["properties"]["name"][0] for f in first["features"]] == list("ABCD")
    # Before the cursor: one added, one removed; after it: the same, and the record the
    # cursor points at (D) removed too.
    DepositFactory(name="Aa added before")
    alphabet["B"].delete()
    DepositFactory(name="Ez added after")
    alphabet["G"].delete()
    alphabet["D"].delete()
    rest, _pages = walk(client, link(first, "next")["href"])
    names = [Deposit.objects.get(public_id=i).name[:2] for i in rest]
    assert names == ["E ", "Ez", "F ", "H ", "I ", "J ", "K ", "L "]
    assert not set(rest) & set(ids(first))


def test_a_cursor_past_every_record_is_an_empty_page_that_leads_back(client, alphabet):
    first = client.get(ITEMS, {"limit": 11}).json()
    alphabet["L"].delete()
    end = client.get(link(first, "next")["href"]).json()
    assert (end["numberReturned"], end["numberMatched"]) == (0, 11)
    assert not [item for item in end["links"] if item["rel"] == "next"]
    assert ids(client.get(link(end, "prev")["href"]).json())[-1] == alphabet["K"].public_id


# --- refused cursors ---------------------------------------------------------------


@pytest.mark.parametrize("how", ["garbage", "tampered", "another list", "with offset"])
def test_a_malformed_or_forged_cursor_is_a_400_naming_cursor(client, alphabet, how, api_client):
    document = client.get(ITEMS, {"limit": 2}).json()
    cursor = query_of(link(document, "next")["href"])["cursor"][0]
    params = {"limit": 2}
    if how == "garbage":
        params["cursor"] = "not-a-cursor"
    elif how == "tampered":
        params["cursor"] = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    elif how == "another list":  # a cursor of the REST API's deposit list
        body = api_client.get("/api/v1/deposits/", {"cursor": "", "page_size": 2}).json()
        params["cursor"] = query_of(body["next"])["cursor"][0]
    else:
        params.update(cursor=cursor, offset=2)
    response = client.get(ITEMS, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "InvalidParameterValue"
    assert list(body["parameters"]) == ["cursor"]


# --- any order, generic over directions and NULLs -----------------------------------

ORDERINGS = [
    ("name", "pk"),
    ("-name", "-pk"),
    ("region__code", "name", "pk"),  # NULL regions: first on SQLite, last on PostgreSQL
    ("-region__code", "-pk"),
    (F("belt__code").asc(nulls_first=True), "-name", "pk"),
    (F("belt__code").desc(nulls_last=True), "name", "-pk"),
    (F("belt__code").asc(nulls_last=True), F("region__code").desc(nulls_first=True), "pk"),
    ("-updated_at", "pk"),
]


@pytest.mark.parametrize("ordering", ORDERINGS, ids=str)
def test_a_cursor_pages_any_order_as_the_database_sorts_it(alphabet, ordering):
    deposits = Deposit.objects.all()
    keyset = Keyset(deposits, ordering)
    expected = list(deposits.order_by(*ordering).values_list("pk", flat=True))
    assert len(expected) == 14

    def page(cursor, size=3):
        window = keyset.window(deposits, cursor, size)
        rows = list(keyset.annotated(deposits.filter(pk__in=window)).order_by(*ordering).values())
        return rows

    forward, cursor = [], None
    while rows := page(cursor):
        forward += [row["id"] for row in rows]
        cursor = keyset.decode(keyset.encode(rows[-1]))
    assert forward == expected
    backward = [expected[-1]]
    cursor = keyset.decode(keyset.encode(rows_at(keyset, deposits, expected[-1]), before=True))
    while rows := page(cursor):
        backward = [row["id"] for row in rows] + backward
        cursor = keyset.decode(keyset.encode(rows[0], before=True))
    assert backward == expected


def rows_at(keyset, deposits, pk) -> dict:
    return keyset.annotated(deposits.filter(pk=pk)).values(*keyset.names).get()


# --- queries -----------------------------------------------------------------------


def test_a_cursor_page_takes_the_queries_of_the_first_page(
    client, alphabet, django_assert_num_queries
):
    first = client.get(ITEMS, {"limit": 3}).json()
    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(link(first, "next")["href"])
    assert response.json()["numberReturned"] == 3
    with django_assert_num_queries(PAGE_QUERIES):
        client.get(ITEMS, {"limit": 3, "offset": 6})


# The deposit's row, its minerals with their shares (and for a mineral's collection the
# mineral it is named after, first).
@pytest.mark.parametrize(("collection", "queries"), [("deposits", 2), ("deposits-silver", 3)])
def test_a_single_feature_takes_two_queries(
    client, alphabet, collection, queries, django_assert_num_queries
):
    public_id = alphabet["E"].public_id
    with django_assert_num_queries(queries):
        response = client.get(f"/ogc/collections/{collection}/items/{public_id}")
    assert response.status_code == 200
    assert response.json()["id"] == public_id


# --- answers kept in the shared cache (kernel/api/caching.py) ------------------------


@pytest.fixture
def cache_on(either_cache, settings):
    settings.API_CACHE_SECONDS = 300


def test_a_kept_page_is_served_without_the_database_until_a_write(
    client, alphabet, cache_on, django_assert_num_queries, commit
):
    commit()  # the fixtures' writes
    first = client.get(ITEMS, {"limit": 3})
    with django_assert_num_queries(0):
        again = client.get(ITEMS, {"limit": 3})
    assert again.content == first.content
    assert again["Content-Type"] == "application/geo+json"
    assert again["Vary"] == first["Vary"]
    generation = caching.registry_generation()
    renamed = alphabet["B"]
    renamed.name = "Zz renamed"
    renamed.save()
    commit()  # the write moves the generation
    assert caching.registry_generation() > generation
    fresh = client.get(ITEMS, {"limit": 3}).json()
    assert "Zz renamed" not in [f["properties"]["name"] for f in fresh["features"]]
    assert [f["properties"]["name"][0] for f in fresh["features"]] == list("ACD")


def test_a_kept_answer_keeps_the_crs_of_its_coordinates(
    client, alphabet, cache_on, django_assert_num_queries, commit
):
    commit()  # the fixtures' writes
    utm = {"limit": 3, "crs": "http://www.opengis.net/def/crs/EPSG/0/32642"}
    first = client.get(ITEMS, utm)
    with django_assert_num_queries(0):
        again = client.get(ITEMS, utm)
    assert again.content == first.content
    assert again["Content-Crs"] == "<http://www.opengis.net/def/crs/EPSG/0/32642>"
    plain = client.get(ITEMS, {"limit": 3})
    assert plain["Content-Crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    assert plain.content != first.content


def test_a_kept_feature_is_fresh_after_a_write(client, alphabet, cache_on, commit):
    commit()  # the fixtures' writes
    url = f"{ITEMS}/{alphabet['C'].public_id}"
    assert client.get(url).json()["properties"]["name"] == "C deposit"
    deposit = alphabet["C"]
    deposit.name = "C deposit, renamed"
    deposit.save()
    commit()
    assert client.get(url).json()["properties"]["name"] == "C deposit, renamed"


def test_a_partner_key_and_an_anonymous_caller_never_share_an_answer(
    client, alphabet, cache_on, partner_org
):
    key = issue_api_key(organisation=partner_org)
    header = {"HTTP_AUTHORIZATION": f"Token {key}"}
    anonymous = client.get(ITEMS, {"limit": 100}).json()
    partner = client.get(ITEMS, {"limit": 100}, **header).json()
    assert (anonymous["numberMatched"], partner["numberMatched"]) == (12, 13)
    assert client.get(ITEMS, {"limit": 100}).json()["numberMatched"] == 12
    assert client.get(ITEMS, {"limit": 100}, **header).json()["numberMatched"] == 13


def test_a_hidden_feature_never_leaks_through_the_cache(client, alphabet, cache_on, editor):
    url = f"{ITEMS}/{alphabet['internal'].public_id}"
    staff = issue_api_key(user=editor)
    assert client.get(url, HTTP_AUTHORIZATION=f"Token {staff}").status_code == 200
    assert client.get(url).status_code == 404
    page = {"limit": 100}
    every = client.get(ITEMS, page, HTTP_AUTHORIZATION=f"Token {staff}").json()
    assert alphabet["internal"].public_id in ids(every)
    assert alphabet["internal"].public_id not in ids(client.get(ITEMS, page).json())


def test_etags_answer_304_fresh_and_kept(client, alphabet, cache_on):
    url = f"{ITEMS}/{alphabet['C'].public_id}"
    etag = client.get(url)["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304  # from the cache
    assert client.get(url, HTTP_IF_NONE_MATCH='"other"').status_code == 200
    page = client.get(ITEMS, {"limit": 2})
    replayed = client.get(ITEMS, {"limit": 2}, HTTP_IF_NONE_MATCH=page["ETag"])
    assert replayed.status_code == 304


def test_pages_for_people_are_not_kept(client, alphabet, cache_on, django_assert_num_queries):
    client.get(ITEMS, {"limit": 2, "f": "html"})
    with django_assert_num_queries(PAGE_QUERIES):
        page = client.get(ITEMS, {"limit": 2, "f": "html"})
    assert page["Content-Type"].startswith("text/html")
