"""The cooperation admin: editors record memoranda and their lifecycle; viewers only read."""

import datetime
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from cooperation.models import (
    Commitment,
    Event,
    Initiative,
    Memorandum,
    MemorandumParty,
    MemorandumTransition,
    Organisation,
    Person,
    Topic,
)
from cooperation.services import record_transition
from tests.factories import (
    EventFactory,
    EventParticipantFactory,
    EventTopicFactory,
    InitiativeFactory,
    MemorandumFactory,
    MemorandumPartyFactory,
    OrganisationFactory,
    PersonFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

SIGNED_ON = datetime.date(2025, 5, 12)
MODELS = ["organisation", "person", "topic", "event", "memorandum", "initiative"]


class FormFields(HTMLParser):
    """The fields a browser would submit from the page's main form."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "file", "button"):
            if attrs.get("type") == "checkbox" and "checked" not in attrs:
                return
            default = "on" if attrs.get("type") == "checkbox" else ""
            self.data.setdefault(name, []).append(attrs.get("value", default))
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select].append(attrs.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][0] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.data[self._textarea][0] = self.data[self._textarea][0].removeprefix("\n")
            self._textarea = None


def page_form(client, url) -> dict:
    response = client.get(url)
    assert response.status_code == 200
    parser = FormFields()
    parser.feed(response.content.decode())
    data = {k: v if len(v) > 1 else v[0] for k, v in parser.data.items() if v}
    data.pop("csrfmiddlewaretoken", None)
    data.pop("_saveasnew", None)
    return data


def add_rows(data: dict, prefix: str, rows: list[dict]) -> dict:
    """Fill new inline rows after the existing ones, like pressing 'Add another'."""
    start = int(data[f"{prefix}-TOTAL_FORMS"])
    for offset, row in enumerate(rows):
        for field, value in row.items():
            data[f"{prefix}-{start + offset}-{field}"] = value
    data[f"{prefix}-TOTAL_FORMS"] = str(start + len(rows))
    return data


def changelist(model: str) -> str:
    return reverse(f"admin:cooperation_{model}_changelist")


def change_url(obj) -> str:
    return reverse(f"admin:cooperation_{obj._meta.model_name}_change", args=[obj.pk])


def errors_of(response) -> str:
    """The error lists of a re-rendered form, as text."""
    assert response.status_code == 200, "expected the form again, with errors"
    context = response.context
    texts = [str(context["adminform"].form.errors)]
    texts += [str(fs.formset.non_form_errors()) for fs in context["inline_admin_formsets"]]
    texts += [str(fs.formset.errors) for fs in context["inline_admin_formsets"]]
    return " ".join(texts)


@pytest.fixture
def parties():
    survey = OrganisationFactory(name="Main Geology Directorate", country="TJ")
    kigam = OrganisationFactory(name="Korea Institute of Geoscience", acronym="KIGAM", country="KR")
    return {
        "survey": survey,
        "kigam": kigam,
        "head": PersonFactory(name="Ilhomjon Oimuhammadzoda", organisation=survey),
        "president": PersonFactory(name="Pyeong-Koo Lee", organisation=kigam),
    }


@pytest.fixture
def signed(parties):
    memorandum = MemorandumFactory(title="KIGAM memorandum", signed_on=SIGNED_ON)
    MemorandumPartyFactory(
        memorandum=memorandum, organisation=parties["survey"], signatory=parties["head"]
    )
    MemorandumPartyFactory(
        memorandum=memorandum, organisation=parties["kigam"], signatory=parties["president"]
    )
    record_transition(memorandum, Memorandum.Status.PROPOSED, datetime.date(2024, 12, 9))
    record_transition(memorandum, Memorandum.Status.SIGNED, SIGNED_ON)
    return memorandum


class TestStaffGroups:
    def test_editors_may_change_every_record_and_only_read_history(self):
        codenames = set(
            Group.objects.get(name="Cooperation editors").permissions.values_list(
                "codename", flat=True
            )
        )
        for model in [*MODELS, "eventparticipant", "memorandumtransition", "commitment"]:
            assert {f"{a}_{model}" for a in ("view", "add", "change", "delete")} <= codenames
        assert "view_historicalmemorandum" in codenames
        assert "change_historicalmemorandum" not in codenames

    def test_viewers_may_only_view(self):
        codenames = set(
            Group.objects.get(name="Cooperation viewers").permissions.values_list(
                "codename", flat=True
            )
        )
        assert "view_memorandum" in codenames
        assert all(c.startswith("view_") for c in codenames)


class TestListsForAnEditor:
    @pytest.mark.parametrize(
        ("model", "query"),
        [
            ("organisation", "?country__exact=KR&kind__exact=geological-survey"),
            ("person", "?q=Lee"),
            ("topic", "?q=hazards"),
            ("event", "?kind__exact=roundtable&year=2024&host_country=TJ"),
            ("memorandum", "?status__exact=signed&country=KR&year=2025&kind__exact=memorandum"),
            ("initiative", "?status__exact=planned"),
        ],
    )
    def test_lists_open_with_search_and_filters(
        self, cooperation_editor_client, signed, model, query
    ):
        EventFactory(start_date=datetime.date(2024, 12, 9), title="Roundtable")
        TopicFactory(name="Geological hazards")
        InitiativeFactory()

        assert cooperation_editor_client.get(changelist(model)).status_code == 200
        response = cooperation_editor_client.get(changelist(model) + query)
        assert response.status_code == 200
        assert response.context["cl"].result_count >= 1

    def test_memorandum_filters_pick_the_right_rows(self, cooperation_editor_client, signed):
        MemorandumFactory(title="Draft with Finland")
        response = cooperation_editor_client.get(changelist("memorandum") + "?country=KR")
        assert [m.title for m in response.context["cl"].result_list] == ["KIGAM memorandum"]
        response = cooperation_editor_client.get(changelist("memorandum") + "?year=2024")
        assert list(response.context["cl"].result_list) == []
        response = cooperation_editor_client.get(changelist("memorandum") + "?q=KIGAM")
        assert [m.title for m in response.context["cl"].result_list] == ["KIGAM memorandum"]

    @pytest.mark.parametrize("model", MODELS)
    def test_a_longer_list_costs_no_more_queries(
        self, cooperation_editor_client, django_assert_max_num_queries, model
    ):
        def add_rows_of_every_kind():
            organisation = OrganisationFactory(parent=OrganisationFactory())
            PersonFactory(organisation=organisation)
            TopicFactory()
            EventFactory()
            memorandum = MemorandumFactory()
            MemorandumPartyFactory(memorandum=memorandum, organisation=organisation)
            MemorandumPartyFactory(memorandum=memorandum)
            InitiativeFactory(lead_organisation=organisation, memorandum=memorandum)

        add_rows_of_every_kind()
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as one_row:
            cooperation_editor_client.get(changelist(model))
        for _ in range(5):
            add_rows_of_every_kind()
        with django_assert_max_num_queries(len(one_row)):
            response = cooperation_editor_client.get(changelist(model))
        assert response.status_code == 200

    @pytest.mark.parametrize(("field", "term"), [("organisation", "KIG"), ("signatory", "Lee")])
    def test_autocomplete_finds_parties_and_signatories(
        self, cooperation_editor_client, parties, field, term
    ):
        response = cooperation_editor_client.get(
            reverse("admin:autocomplete"),
            {
                "app_label": "cooperation",
                "model_name": "memorandumparty",
                "field_name": field,
                "term": term,
            },
        )
        assert response.status_code == 200
        assert len(response.json()["results"]) == 1


class TestRecordingAMemorandum:
    def fill_new(self, client, parties, *, president=None) -> dict:
        data = page_form(client, reverse("admin:cooperation_memorandum_add"))
        data.update(
            title="Memorandum with KIGAM",
            kind="memorandum",
            signed_on="2025-05-12",
            signed_place="Seoul",
            sources="Main Geology Directorate, news item 111",
        )
        add_rows(
            data,
            "parties",
            [
                {"organisation": parties["survey"].pk, "signatory": parties["head"].pk},
                {"organisation": parties["kigam"].pk, "signatory": president or ""},
            ],
        )
        add_rows(
            data,
            "commitments",
            [{"party": parties["kigam"].pk, "text": "Technological support", "source": "x"}],
        )
        add_rows(
            data,
            "transitions",
            [{"status": "signed", "date": "2025-05-12", "date_precision": "day"}],
        )
        return data

    def test_parties_signatories_and_signature_in_one_save(
        self, cooperation_editor_client, parties
    ):
        data = self.fill_new(cooperation_editor_client, parties, president=parties["president"].pk)

        response = cooperation_editor_client.post(reverse("admin:cooperation_memorandum_add"), data)

        assert response.status_code == 302, errors_of(response)
        memorandum = Memorandum.objects.get()
        assert memorandum.status == "signed"
        assert memorandum.public_id.startswith("MOU-")
        assert memorandum.sources == ["Main Geology Directorate, news item 111"]
        assert [p.signatory for p in memorandum.parties.all()] == [
            parties["head"],
            parties["president"],
        ]
        assert memorandum.transitions.get().date == SIGNED_ON
        assert memorandum.commitments.get().party == parties["kigam"]

    def test_signing_without_a_signatory_is_refused_and_nothing_is_saved(
        self, cooperation_editor_client, parties
    ):
        data = self.fill_new(cooperation_editor_client, parties, president=None)

        response = cooperation_editor_client.post(reverse("admin:cooperation_memorandum_add"), data)

        assert "Every party needs at least one signatory; missing for Korea Institute" in (
            errors_of(response)
        )
        assert not Memorandum.objects.exists()
        assert not MemorandumParty.objects.exists()
        assert not Commitment.objects.exists()

    def test_signing_without_a_date_is_refused(self, cooperation_editor_client, parties):
        data = self.fill_new(cooperation_editor_client, parties, president=parties["president"].pk)
        data["signed_on"] = ""

        response = cooperation_editor_client.post(reverse("admin:cooperation_memorandum_add"), data)

        assert "A signed memorandum needs its signing date." in errors_of(response)
        assert not Memorandum.objects.exists()

    def test_a_commitment_by_a_non_party_is_refused(self, cooperation_editor_client, parties):
        data = self.fill_new(cooperation_editor_client, parties, president=parties["president"].pk)
        outsider = OrganisationFactory(name="Outsider")
        data["commitments-0-party"] = outsider.pk

        response = cooperation_editor_client.post(reverse("admin:cooperation_memorandum_add"), data)

        assert "Outsider is not a party to this memorandum." in errors_of(response)
        assert not Memorandum.objects.exists()

    def test_a_backwards_transition_is_refused_and_nothing_changes(
        self, cooperation_editor_client, signed
    ):
        data = page_form(cooperation_editor_client, change_url(signed))
        data["title"] = "Renamed in the same save"
        add_rows(
            data,
            "transitions",
            [{"status": "proposed", "date": "2025-06-01", "date_precision": "day"}],
        )

        response = cooperation_editor_client.post(change_url(signed), data)

        assert "The memorandum is already signed; it cannot move to proposed." in (
            errors_of(response)
        )
        signed.refresh_from_db()
        assert (signed.title, signed.status, signed.transitions.count()) == (
            "KIGAM memorandum",
            "signed",
            2,
        )

    def test_entry_into_force_is_recorded_from_the_change_page(
        self, cooperation_editor_client, signed
    ):
        data = page_form(cooperation_editor_client, change_url(signed))
        add_rows(
            data,
            "transitions",
            [{"status": "in-force", "date": "2025-06-01", "date_precision": "day"}],
        )

        response = cooperation_editor_client.post(change_url(signed), data)

        assert response.status_code == 302, errors_of(response)
        signed.refresh_from_db()
        assert signed.status == "in-force"
        assert signed.transitions.count() == 3

    def test_a_signed_memorandum_cannot_lose_a_signatory(self, cooperation_editor_client, signed):
        data = page_form(cooperation_editor_client, change_url(signed))
        data["parties-1-signatory"] = ""

        response = cooperation_editor_client.post(change_url(signed), data)

        assert "missing for Korea Institute of Geoscience (KIGAM)" in errors_of(response)
        assert all(p.signatory_id for p in signed.parties.all())

    def test_recorded_transitions_are_neither_edited_nor_deleted(
        self, cooperation_editor_client, signed
    ):
        data = page_form(cooperation_editor_client, change_url(signed))
        assert "transitions-0-status" not in data  # shown as text, not as a field
        data["transitions-0-status"] = "terminated"
        data["transitions-0-DELETE"] = "on"

        response = cooperation_editor_client.post(change_url(signed), data)

        assert response.status_code == 302
        assert list(signed.transitions.values_list("status", flat=True)) == [
            "proposed",
            "signed",
        ]

    def test_history_and_revert_pages_open(self, cooperation_editor_client, signed):
        history = reverse("admin:cooperation_memorandum_history", args=[signed.pk])
        assert cooperation_editor_client.get(history).status_code == 200
        first = signed.history.earliest("history_date")
        revert = reverse(
            "admin:cooperation_memorandum_simple_history", args=[signed.pk, first.history_id]
        )
        assert cooperation_editor_client.get(revert).status_code == 200

    def test_an_event_with_participants_and_topics(self, cooperation_editor_client, parties):
        topic = TopicFactory(name="Joint exploration")
        data = page_form(cooperation_editor_client, reverse("admin:cooperation_event_add"))
        data.update(
            kind="roundtable",
            title="Roundtable",
            start_date="2024-12-09",
            host_country="TJ",
            visibility="public",
        )
        add_rows(
            data,
            "participants",
            [
                {
                    "organisation": parties["kigam"].pk,
                    "person": parties["president"].pk,
                    "role": "head-of-delegation",
                },
            ],
        )
        add_rows(data, "topic_links", [{"topic": topic.pk, "role": "cooperation-area"}])

        response = cooperation_editor_client.post(reverse("admin:cooperation_event_add"), data)

        assert response.status_code == 302, errors_of(response)
        event = Event.objects.get()
        assert event.participants.get().person == parties["president"]
        assert list(event.topics.all()) == [topic]

    def test_an_event_ending_before_it_starts_is_refused(self, cooperation_editor_client):
        data = page_form(cooperation_editor_client, reverse("admin:cooperation_event_add"))
        data.update(kind="forum", title="Forum", start_date="2025-05-12", end_date="2025-05-11")

        response = cooperation_editor_client.post(reverse("admin:cooperation_event_add"), data)

        assert "The event cannot end before it starts (12 May 2025)." in errors_of(response)
        assert not Event.objects.exists()


class TestReadOnlyForAViewer:
    @pytest.fixture
    def records(self, signed, parties):
        event = EventFactory()
        EventParticipantFactory(event=event, organisation=parties["kigam"])
        EventTopicFactory(event=event)
        return [
            parties["kigam"],
            parties["head"],
            TopicFactory(),
            event,
            signed,
            InitiativeFactory(),
        ]

    def test_lists_and_records_can_be_read(self, cooperation_viewer_client, records):
        for obj in records:
            assert cooperation_viewer_client.get(changelist(obj._meta.model_name)).status_code == (
                200
            )
            response = cooperation_viewer_client.get(change_url(obj))
            assert response.status_code == 200
            assert not response.context["has_change_permission"]
            assert b'name="_save"' not in response.content

    @pytest.mark.parametrize("model", MODELS)
    def test_nothing_can_be_added(self, cooperation_viewer_client, model):
        response = cooperation_viewer_client.get(reverse(f"admin:cooperation_{model}_add"))
        assert response.status_code == 403

    def test_nothing_can_be_changed_or_deleted(self, cooperation_viewer_client, signed):
        before = list(Memorandum.objects.values_list("title", "status"))

        response = cooperation_viewer_client.post(
            change_url(signed), {"title": "Changed by a viewer", "kind": "memorandum"}
        )
        assert response.status_code == 403
        delete = reverse("admin:cooperation_memorandum_delete", args=[signed.pk])
        assert cooperation_viewer_client.post(delete, {"post": "yes"}).status_code == 403

        assert list(Memorandum.objects.values_list("title", "status")) == before
        counts = [m.objects.count() for m in (Organisation, Person, Topic, Initiative)]
        assert counts == [2, 2, 0, 0]
        assert MemorandumTransition.objects.count() == 2
