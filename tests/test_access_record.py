"""The access record: every read by a partner key, kept for the ministry (kernel/access.py)."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from cooperation.services import record_transition
from kernel import access
from kernel.keys import VISIBLE_CHARS
from kernel.models import AccessRecord, ApiKey
from tests.factories import (
    CommodityFactory,
    DepositFactory,
    MemorandumFactory,
    MemorandumPartyFactory,
    MineralFactory,
    OrganisationFactory,
    PersonFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

DEPOSITS = "/api/v1/deposits/"


@pytest.fixture
def deposits():
    silver = MineralFactory(code="silver", name="Silver")
    found = [
        DepositFactory(name="Konimansuri Kalon", visibility="public"),
        DepositFactory(name="Bolshoi Kanimansur", visibility="partners"),
        DepositFactory(name="Hidden", visibility="internal"),
    ]
    for deposit in found:
        CommodityFactory(deposit=deposit, mineral=silver)
    return found


def recorded() -> list[AccessRecord]:
    """What the process noted, written (as the batch, the timer or the exit would)."""
    access.flush()
    return list(AccessRecord.objects.order_by("id"))


def assert_no_key(records, key: str) -> None:
    for record in records:
        fields = [str(getattr(record, f.attname)) for f in AccessRecord._meta.concrete_fields]
        secret = key[VISIBLE_CHARS:]  # what follows the prefix staff see
    assert not any(secret in value for value in fields), fields


@pytest.fixture(params=["uncached", "cached"])
def cache_state(request, settings, either_cache):
    """Each read is recorded as a fresh answer and as one replayed from the API cache."""
    settings.API_CACHE_SECONDS = 300 if request.param == "cached" else 0
    return request.param


@pytest.fixture
def read_twice(cache_state, django_assert_num_queries):
    """Reads twice; in a cached run, the second answer comes from the cache (no query)."""

    def read(client, url, **params):
        first = client.get(url, params)
        if cache_state == "cached":
            with django_assert_num_queries(0):
                second = client.get(url, params)
        else:
            second = client.get(url, params)
        assert first.status_code == second.status_code == 200
        return second

    return read


def test_a_partners_list_and_detail_are_recorded(partner_client, partner_org, deposits, read_twice):
    listed = read_twice(partner_client, DEPOSITS, page_size=1)
    assert listed.json()["count"] == 2  # public and partners
    detail = read_twice(partner_client, f"{DEPOSITS}{deposits[1].public_id}/")
    assert detail.json()["id"] == deposits[1].public_id

    records = recorded()
    assert [(r.endpoint, r.returned, r.identifiers, r.status) for r in records] == [
        ("api:deposit-list", 1, "", 200),
        ("api:deposit-list", 1, "", 200),
        ("api:deposit-detail", 1, deposits[1].public_id, 200),
        ("api:deposit-detail", 1, deposits[1].public_id, 200),
    ]
    key = ApiKey.objects.get()
    assert {(r.organisation_id, r.api_key_id, r.key_prefix) for r in records} == {
        (partner_org.pk, key.pk, key.prefix)
    }
    assert records[0].path == f"{DEPOSITS}?page_size=1"
    assert_no_key(records, partner_client.key)


def test_a_conditional_read_answered_304_is_recorded(partner_client, deposits, read_twice):
    url = f"{DEPOSITS}{deposits[0].public_id}/"
    etag = read_twice(partner_client, url)["ETag"]
    assert partner_client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    last = recorded()[-1]
    assert (last.status, last.identifiers) == (304, deposits[0].public_id)


def test_a_hidden_record_is_recorded_as_the_404_it_was(partner_client, deposits):
    assert partner_client.get(f"{DEPOSITS}{deposits[2].public_id}/").status_code == 404
    [record] = recorded()
    assert (record.status, record.returned, record.identifiers) == (404, None, "")


@pytest.mark.parametrize("export", ["csv", "geojson"])
def test_an_export_records_the_rows_it_streamed(partner_client, deposits, export):
    response = partner_client.get(DEPOSITS, {"format": export})
    assert response.status_code == 200
    body = b"".join(response.streaming_content)  # the record is noted once it is sent
    assert deposits[1].name.encode() in body
    [record] = recorded()
    assert (record.endpoint, record.returned, record.path) == (
        "api:deposit-list",
        2,
        f"{DEPOSITS}?format={export}",
    )


def test_ogc_items_and_item_are_recorded_without_the_key_of_the_query(
    partner_client, deposits, api_client
):
    key = partner_client.key
    items = reverse("ogc-items", args=["deposits"])
    response = api_client.get(items, {"api_key": key, "limit": 10, "f": "json"})
    assert response.status_code == 200
    assert len(response.json()["features"]) == 2
    item = reverse("ogc-item", args=["deposits", deposits[0].public_id])
    assert partner_client.get(item, {"f": "json"}).status_code == 200

    records = recorded()
    assert [(r.endpoint, r.returned, r.identifiers) for r in records] == [
        ("ogc-items", 2, ""),
        ("ogc-item", 1, deposits[0].public_id),
    ]
    assert records[0].path == f"{items}?limit=10&f=json"
    assert_no_key(records, key)


def test_anonymous_and_staff_reads_are_not_recorded(
    api_client, staff_api_client, admin_client, deposits
):
    for client in (api_client, staff_api_client, admin_client):
        assert client.get(DEPOSITS).status_code == 200
        assert client.get(f"{DEPOSITS}{deposits[0].public_id}/").status_code == 200
    assert recorded() == []


def test_notes_are_written_in_one_insert_once_a_batch_waits(
    partner_client, deposits, settings, django_assert_num_queries
):
    settings.ACCESS_RECORD_BATCH = 3
    url = f"{DEPOSITS}{deposits[0].public_id}/"
    for _ in range(2):
        partner_client.get(url)
    assert AccessRecord.objects.count() == 0  # waiting in the process
    access.note(AccessRecord(at=timezone.now(), key_prefix="x", endpoint="e", path="/", status=200))
    assert AccessRecord.objects.count() == 3
    with django_assert_num_queries(1):  # nothing waits: no query but the count
        assert access.flush() == 0 and AccessRecord.objects.count() == 3


# The foreign keys are checked as the insert commits; the database is restored for the
# tests that follow, with what the migrations made (serialized_rollback).
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_reads_by_a_key_deleted_before_the_flush_are_written_without_it(
    partner_client, partner_org, deposits, settings
):
    """A script that deletes a key (the admin only revokes them) leaves its waiting reads
    as SET_NULL leaves its written ones, and holds back no other partner's read."""
    settings.ACCESS_RECORD_BATCH = 100
    doomed, secret = ApiKey.issue(organisation=OrganisationFactory(name="Short-lived partner"))
    url = f"{DEPOSITS}{deposits[0].public_id}/"
    short_lived = APIClient()
    short_lived.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert partner_client.get(url).status_code == short_lived.get(url).status_code == 200
    doomed.organisation.delete()  # and its key with it
    assert access.flush() == 2
    kept = {r.key_prefix: (r.organisation_id, r.api_key_id) for r in AccessRecord.objects.all()}
    assert kept.pop(doomed.prefix) == (None, None)
    [(organisation_id, key_id)] = kept.values()
    assert organisation_id == partner_org.pk and key_id is not None


# --- The report, the admin, retention ----------------------------------------------


@pytest.fixture
def november(partner_org):
    """KIGAM's reads of November 2026 (and one of October), party to one memorandum."""
    key, _secret = ApiKey.issue(organisation=partner_org)
    zone = timezone.get_current_timezone()

    def read(day, endpoint, path, returned, identifiers=""):
        return AccessRecord(
            at=datetime.datetime(2026, 11 if day > 0 else 10, abs(day), 10, 0, tzinfo=zone),
            organisation=partner_org,
            api_key=key,
            key_prefix=key.prefix,
            endpoint=endpoint,
            path=path,
            status=200,
            returned=returned,
            identifiers=identifiers,
        )

    AccessRecord.objects.bulk_create(
        [
            read(3, "api:deposit-list", "/api/v1/deposits/", 50),
            read(4, "api:deposit-list", "/api/v1/deposits/?page=2", 20),
            read(5, "api:deposit-detail", "/api/v1/deposits/TJD-000017/", 1, "TJD-000017"),
            read(6, "api:deposit-detail", "/api/v1/deposits/TJD-000017/", 1, "TJD-000017"),
            read(7, "ogc-items", "/ogc/collections/deposits/items", 9),
            read(-30, "api:deposit-list", "/api/v1/deposits/", 50),  # October
        ]
    )
    # In force (signed) from the 4th: the read of the 3rd was made before it.
    memorandum = MemorandumFactory(
        title="KIGAM exploration memorandum", signed_on=datetime.date(2026, 11, 4)
    )
    for party in (partner_org, OrganisationFactory(name="Ministry of Geology")):
        MemorandumPartyFactory(
            memorandum=memorandum, organisation=party, signatory=PersonFactory(organisation=party)
        )
    record_transition(memorandum, "signed", memorandum.signed_on)
    return key


def report(*args, language="en") -> str:
    out = io.StringIO()
    call_command("access_report", *args, language=language, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(
    "name", ["KIGAM", "kigam", "Korea Institute of Geoscience and Mineral Resources"]
)
def test_the_report_of_an_organisations_month(november, partner_org, name):
    text = report(name, "--month", "2026-11")
    assert "KIGAM" in text and "November 2026" in text
    assert "Reads: 5; records returned: 81" in text
    lines = text.splitlines()
    assert any(line.split() == ["api:deposit-list", "2", "70"] for line in lines), text
    assert any(line.split() == ["api:deposit-detail", "2", "2"] for line in lines), text
    assert any(line.split()[:2] == ["TJD-000017", "2"] for line in lines), text
    memorandum = partner_org.memorandum_parties.get().memorandum
    assert f"{memorandum.public_id} KIGAM exploration memorandum: 4" in text
    assert november.prefix in text
    by_identifier = report(partner_org.public_id, "--month", "2026-11")
    assert by_identifier == text


def test_a_month_without_reads_says_so(november):
    assert "No reads" in report("KIGAM", "--month", "2026-09")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["NOBODY", "--month", "2026-11"], "No organisation"),
        (["KIGAM", "--month", "2026-13"], "YYYY-MM"),
        (["KIGAM", "--month", "November"], "YYYY-MM"),
    ],
)
def test_the_report_refuses_bad_input(november, args, message):
    with pytest.raises(CommandError, match=message):
        report(*args)


def test_the_report_names_an_ambiguous_organisation(november):
    OrganisationFactory(name="KIGAM field office", acronym="KIGAM")
    with pytest.raises(CommandError, match="ambiguous"):
        report("KIGAM", "--month", "2026-11")


def test_records_past_their_retention_are_removed(november, settings):
    settings.ACCESS_RECORD_DAYS = 400
    now = datetime.datetime(2027, 12, 5, tzinfo=datetime.UTC)  # 400 days after 2026-11-01
    assert access.purge(now) == 1  # the October read
    out = io.StringIO()
    call_command("purge_access_records", stdout=out)
    assert AccessRecord.objects.count() == 5  # the rest are younger than 400 days today
    settings.ACCESS_RECORD_DAYS = 0
    call_command("purge_access_records", stdout=out)
    assert AccessRecord.objects.count() == 0
    assert "5" in out.getvalue()


def test_staff_read_the_record_and_its_summary_in_the_admin(admin_client, november, partner_org):
    changelist = reverse("admin:registry_accessrecord_changelist")
    page = admin_client.get(changelist, {"organisation__id__exact": partner_org.pk})
    assert page.status_code == 200 and b"TJD-000017" in page.content
    summary = admin_client.get(
        reverse("admin:registry_accessrecord_summary"), {"organisation": partner_org.pk}
    )
    text = summary.content.decode()
    assert summary.status_code == 200
    assert "api:deposit-list" in text and "70" in text and "2026" in text
    record = AccessRecord.objects.first()
    change = reverse("admin:registry_accessrecord_change", args=[record.pk])
    assert admin_client.post(change, {"path": "/changed"}).status_code == 403
    assert admin_client.get(reverse("admin:registry_accessrecord_add")).status_code == 403


def test_a_memorandums_access_page_shows_its_parties_reads(admin_client, november):
    from cooperation.models import Memorandum

    memorandum = Memorandum.objects.get(title="KIGAM exploration memorandum")
    page = admin_client.get(reverse("admin:cooperation_memorandum_access", args=[memorandum.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "from 2026-11-04 to today" in text
    assert "api:deposit-detail" in text and "TJD-000017" in text
    assert "<td>50</td>" not in text  # the list read of the 3rd, before it was signed
    assert "<td>20</td>" in text


def test_reads_while_a_memorandum_was_suspended_are_not_under_it(november):
    from cooperation.access import reads_under
    from cooperation.models import Memorandum

    memorandum = Memorandum.objects.get(title="KIGAM exploration memorandum")
    record_transition(memorandum, "suspended", datetime.date(2026, 11, 5), "Under review.")
    record_transition(memorandum, "resumed", datetime.date(2026, 11, 7), "Review closed.")
    days = sorted(timezone.localtime(r.at).day for r in reads_under(memorandum))
    assert days == [4, 7]  # the 3rd before signing, the 5th and 6th while suspended


def test_a_suspended_memorandums_access_page_names_each_stretch_in_force(admin_client, november):
    from cooperation.models import Memorandum

    memorandum = Memorandum.objects.get(title="KIGAM exploration memorandum")
    record_transition(memorandum, "suspended", datetime.date(2026, 11, 5), "Under review.")
    record_transition(memorandum, "resumed", datetime.date(2026, 11, 7), "Review closed.")
    page = admin_client.get(reverse("admin:cooperation_memorandum_access", args=[memorandum.pk]))
    assert (
        "while it was in force: from 2026-11-04 to 2026-11-04; from 2026-11-07 to today."
        in page.content.decode()
    )


def test_nothing_is_read_under_a_memorandum_never_signed(admin_client, november, partner_org):
    memorandum = MemorandumFactory(title="Draft")
    MemorandumPartyFactory(memorandum=memorandum, organisation=partner_org)
    page = admin_client.get(reverse("admin:cooperation_memorandum_access", args=[memorandum.pk]))
    assert "Never in force" in page.content.decode() and "TJD-000017" not in page.content.decode()


def test_clerks_without_the_permission_do_not_see_the_record(client, november):
    clerk = UserFactory(username="clerk", groups=["Registry editors"])
    client.force_login(clerk)
    assert client.get(reverse("admin:registry_accessrecord_summary")).status_code == 403
