"""API v1 cooperation resources: shape, filters, visibility of linked records, writes."""

import datetime

import pytest

from cooperation.models import (
    Event,
    EventParticipant,
    EventTopic,
    Initiative,
    Memorandum,
    MemorandumParty,
    Organisation,
    Person,
    Topic,
)
from cooperation.services import record_transition
from tests.factories import DepositFactory, MineralFactory, PartnerOrganisationFactory

pytestmark = pytest.mark.django_db

V1 = "/api/v1"


@pytest.fixture
def cooperation(db):
    """A roundtable with KIGAM and the ministry, a memorandum and an initiative."""
    kigam = PartnerOrganisationFactory()
    ministry = Organisation.objects.create(
        name="Ministry of Industry and New Technologies",
        acronym="MINT",
        country="TJ",
        kind="ministry",
    )
    head = Person.objects.create(name="Kim", title="President", organisation=kigam)
    topic = Topic.objects.create(name="Critical minerals")
    silver = MineralFactory()
    public_deposit = DepositFactory(name="Public deposit")
    hidden_deposit = DepositFactory(name="Hidden deposit", visibility="internal")
    topic.minerals.add(silver)
    topic.deposits.add(public_deposit, hidden_deposit)
    event = Event.objects.create(
        kind="roundtable",
        title="Roundtable",
        start_date=datetime.date(2024, 12, 9),
        host_country="TJ",
    )
    EventParticipant.objects.create(event=event, organisation=kigam, person=head, role="speaker")
    EventParticipant.objects.create(event=event, organisation=ministry, role="host")
    EventTopic.objects.create(event=event, topic=topic)
    memorandum = Memorandum.objects.create(
        title="MoU on geology", kind="memorandum", signed_on=datetime.date(2024, 12, 9)
    )
    MemorandumParty.objects.create(memorandum=memorandum, organisation=kigam, signatory=head)
    MemorandumParty.objects.create(memorandum=memorandum, organisation=ministry)
    memorandum.minerals.add(silver)
    memorandum.deposits.add(public_deposit, hidden_deposit)
    record_transition(memorandum, "proposed", datetime.date(2024, 6, 1))
    hidden_memorandum = Memorandum.objects.create(
        title="Internal draft", kind="agreement", visibility="internal"
    )
    initiative = Initiative.objects.create(
        title="Joint laboratory",
        kind="laboratory",
        status="planned",
        lead_organisation=kigam,
        memorandum=hidden_memorandum,
    )
    initiative.partners.add(ministry)
    return {
        "kigam": kigam,
        "ministry": ministry,
        "head": head,
        "topic": topic,
        "event": event,
        "memorandum": memorandum,
        "hidden_memorandum": hidden_memorandum,
        "initiative": initiative,
        "public_deposit": public_deposit,
        "hidden_deposit": hidden_deposit,
    }


def results(client, path, **params):
    response = client.get(f"{V1}/{path}/", params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_organizations_with_country(api_client, cooperation):
    kigam = api_client.get(f"{V1}/organizations/{cooperation['kigam'].public_id}/").json()
    assert kigam["acronym"] == "KIGAM" and kigam["country"] == "KR"
    assert [o["acronym"] for o in results(api_client, "organizations", country="kr")] == ["KIGAM"]
    person = results(api_client, "people")[0]
    assert person["organisation"] == cooperation["kigam"].public_id


def test_events_with_participants_and_topics(api_client, cooperation):
    [event] = results(api_client, "events")
    assert event["id"] == cooperation["event"].public_id
    assert {(p["organisation"], p["role"]) for p in event["participants"]} == {
        (cooperation["kigam"].public_id, "speaker"),
        (cooperation["ministry"].public_id, "host"),
    }
    assert event["topics"] == [{"topic": cooperation["topic"].public_id, "role": "discussed"}]


@pytest.mark.parametrize(
    ("params", "count"),
    [
        ({"country": "KR"}, 1),  # attended by a Korean organisation
        ({"country": "TJ"}, 1),  # held in Tajikistan
        ({"country": "FI"}, 0),
        ({"year": 2024}, 1),
        ({"year": 2023}, 0),
    ],
)
def test_event_filters(api_client, cooperation, params, count):
    assert len(results(api_client, "events", **params)) == count


def test_event_filter_by_organisation(api_client, cooperation):
    assert len(results(api_client, "events", organisation=cooperation["kigam"].public_id)) == 1
    response = api_client.get(f"{V1}/events/", {"organisation": "ORG-999999"})
    assert response.status_code == 400 and "organisation" in response.json()


def test_memoranda_with_parties_lifecycle_and_links(api_client, cooperation):
    [memorandum] = results(api_client, "memoranda")
    assert memorandum["status"] == "proposed"
    assert memorandum["signed_on"] == "2024-12-09"
    assert [t["status"] for t in memorandum["transitions"]] == ["proposed"]
    assert {p["organisation"] for p in memorandum["parties"]} == {
        cooperation["kigam"].public_id,
        cooperation["ministry"].public_id,
    }
    assert memorandum["minerals"] == ["silver"]
    assert "commitments" in memorandum


@pytest.mark.parametrize(
    ("params", "count"),
    [
        ({"status": "proposed"}, 1),
        ({"status": "signed"}, 0),
        ({"country": "KR"}, 1),
        ({"year": 2024}, 1),
        ({"year": 2020}, 0),
    ],
)
def test_memorandum_filters(api_client, cooperation, params, count):
    assert len(results(api_client, "memoranda", **params)) == count


def test_memorandum_filter_by_party(api_client, cooperation):
    assert len(results(api_client, "memoranda", party=cooperation["kigam"].public_id)) == 1


@pytest.mark.parametrize("params", [{"status": "dreaming"}, {"year": "soon"}, {"country": "KOR"}])
def test_bad_memorandum_filters_are_400s(api_client, cooperation, params):
    response = api_client.get(f"{V1}/memoranda/", params)
    assert response.status_code == 400 and set(params) <= set(response.json())


def test_hidden_records_are_absent_and_links_to_them_are_not_shown(
    api_client, staff_api_client, cooperation
):
    public_id = cooperation["public_deposit"].public_id
    [memorandum] = results(api_client, "memoranda")
    assert memorandum["deposits"] == [public_id]
    [topic] = results(api_client, "topics")
    assert topic["deposits"] == [public_id]
    hidden = cooperation["hidden_memorandum"].public_id
    assert api_client.get(f"{V1}/memoranda/{hidden}/").status_code == 404
    [initiative] = results(api_client, "initiatives")
    assert initiative["memorandum"] is None
    # Staff see everything.
    assert len(results(staff_api_client, "memoranda")) == 2
    assert results(staff_api_client, "initiatives")[0]["memorandum"] == hidden
    assert len(results(staff_api_client, "topics")[0]["deposits"]) == 2


def test_cooperation_writes_need_the_cooperation_permission(
    api_client, partner_client, staff_api_client, key_client, cooperation_editor, cooperation
):
    payload = {
        "name": "Geological Survey of Finland",
        "acronym": "GTK",
        "country": "FI",
        "kind": "geological-survey",
    }
    assert api_client.post(f"{V1}/organizations/", payload, format="json").status_code == 401
    assert partner_client.post(f"{V1}/organizations/", payload, format="json").status_code == 403
    # A deposits editor is staff but holds no cooperation permission.
    assert staff_api_client.post(f"{V1}/organizations/", payload, format="json").status_code == 403
    assert not Organisation.objects.filter(acronym="GTK").exists()

    editor = key_client(user=cooperation_editor)
    response = editor.post(f"{V1}/organizations/", payload, format="json")
    assert response.status_code == 201, response.content
    created = Organisation.objects.get(acronym="GTK")
    assert created.history.get().history_user == cooperation_editor


def test_cooperation_write_errors_name_the_field_and_change_nothing(
    key_client, cooperation_editor, cooperation
):
    editor = key_client(user=cooperation_editor)
    count = Event.objects.count()
    for payload, field in [
        (
            {
                "kind": "roundtable",
                "title": "X",
                "start_date": "2024-05-02",
                "end_date": "2024-05-01",
            },
            "end_date",
        ),
        ({"kind": "party", "title": "X", "start_date": "2024-05-02"}, "kind"),
        ({"kind": "roundtable", "title": "X", "start_date": "someday"}, "start_date"),
        (
            {
                "kind": "roundtable",
                "title": "X",
                "start_date": "2024-05-02",
                "host_country": "Korea",
            },
            "host_country",
        ),
    ]:
        response = editor.post(f"{V1}/events/", payload, format="json")
        assert response.status_code == 400 and field in response.json(), response.content
    assert Event.objects.count() == count


def test_recording_a_transition_follows_the_lifecycle_rules(
    key_client, cooperation_editor, cooperation
):
    editor = key_client(user=cooperation_editor)
    url = f"{V1}/memoranda/{cooperation['memorandum'].public_id}/transitions/"
    # Signing needs every party's signatory: the ministry has none.
    response = editor.post(url, {"status": "signed", "date": "2024-12-09"}, format="json")
    assert response.status_code == 400
    assert cooperation["memorandum"].transitions.count() == 1
    response = editor.post(
        url, {"status": "under-negotiation", "date": "2024-07-01"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "under-negotiation"
