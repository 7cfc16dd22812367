"""Cooperation records: the memorandum lifecycle, the other rules, and the cross-app queries."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from cooperation import demo as cooperation_demo
from cooperation import models as cooperation_models
from cooperation.models import (
    Commitment,
    Event,
    Initiative,
    Memorandum,
    MemorandumTransition,
    Organisation,
    Topic,
)
from cooperation.services import (
    cooperation_for_deposit,
    cooperation_for_mineral,
    cooperation_for_organisation,
    record_transition,
)
from kernel.visibility import ANONYMOUS
from tests.factories import (
    CommodityFactory,
    DepositFactory,
    EventFactory,
    EventParticipantFactory,
    EventTopicFactory,
    InitiativeFactory,
    MemorandumFactory,
    MemorandumPartyFactory,
    MineralFactory,
    OrganisationFactory,
    PersonFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

Status = Memorandum.Status
PROPOSED_ON = datetime.date(2024, 12, 9)
SIGNED_ON = datetime.date(2025, 5, 12)


def messages(error: ValidationError) -> dict[str, list[str]]:
    return {field: [str(m) for m in msgs] for field, msgs in error.message_dict.items()}


def snapshot(memorandum: Memorandum) -> tuple:
    """What a refused transition must leave untouched."""
    memorandum.refresh_from_db()
    return (
        memorandum.status,
        list(memorandum.transitions.values_list("status", "date")),
        memorandum.history.count(),
    )


@pytest.fixture
def tajik_survey():
    return OrganisationFactory(name="Main Geology Directorate", country="TJ")


@pytest.fixture
def kigam():
    return OrganisationFactory(name="KIGAM", acronym="KIGAM", country="KR")


@pytest.fixture
def memorandum(tajik_survey, kigam):
    """Two parties, each with its signatory, a signing date, proposed in December 2024."""
    memorandum = MemorandumFactory(signed_on=SIGNED_ON, signed_place="Seoul")
    MemorandumPartyFactory(
        memorandum=memorandum,
        organisation=tajik_survey,
        signatory=PersonFactory(organisation=tajik_survey),
    )
    MemorandumPartyFactory(
        memorandum=memorandum, organisation=kigam, signatory=PersonFactory(organisation=kigam)
    )
    record_transition(memorandum, Status.PROPOSED, PROPOSED_ON)
    return memorandum


@pytest.fixture
def signed(memorandum):
    record_transition(memorandum, Status.SIGNED, SIGNED_ON)
    return memorandum


@pytest.fixture
def in_force(signed):
    record_transition(signed, Status.IN_FORCE, datetime.date(2025, 6, 1))
    return signed


class TestLifecycle:
    def test_status_follows_the_recorded_transitions(self, memorandum):
        assert memorandum.status == Status.PROPOSED
        record_transition(memorandum, Status.UNDER_NEGOTIATION, datetime.date(2025, 1, 15))
        record_transition(memorandum, Status.SIGNED, SIGNED_ON)
        record_transition(memorandum, Status.IN_FORCE, SIGNED_ON)
        memorandum.refresh_from_db()
        assert memorandum.status == Status.IN_FORCE
        assert list(memorandum.transitions.values_list("status", flat=True)) == [
            "proposed",
            "under-negotiation",
            "signed",
            "in-force",
        ]
        assert memorandum.entered_into_force_on == SIGNED_ON

    def test_a_stage_may_be_skipped_forwards(self, memorandum):
        record_transition(memorandum, Status.SIGNED, SIGNED_ON)
        assert Memorandum.objects.get(pk=memorandum.pk).status == Status.SIGNED

    def test_each_status_change_is_in_the_history(self, memorandum):
        record_transition(memorandum, Status.SIGNED, SIGNED_ON)
        statuses = list(memorandum.history.order_by("history_id").values_list("status", flat=True))
        assert statuses[-2:] == ["proposed", "signed"]

    def test_signing_without_a_date_is_refused(self, memorandum):
        Memorandum.objects.filter(pk=memorandum.pk).update(signed_on=None)
        before = snapshot(memorandum)

        with pytest.raises(ValidationError) as error:
            record_transition(memorandum, Status.SIGNED, SIGNED_ON)

        assert messages(error.value)["signed_on"] == ["A signed memorandum needs its signing date."]
        assert snapshot(memorandum) == before

    def test_signing_without_a_signatory_for_each_party_is_refused(self, memorandum, kigam):
        memorandum.parties.filter(organisation=kigam).update(signatory=None)
        before = snapshot(memorandum)

        with pytest.raises(ValidationError) as error:
            record_transition(memorandum, Status.SIGNED, SIGNED_ON)

        assert messages(error.value)["__all__"] == [
            "Every party needs at least one signatory; missing for KIGAM (KIGAM)."
        ]
        assert snapshot(memorandum) == before

    def test_signing_with_a_single_party_is_refused(self, memorandum, kigam):
        memorandum.parties.filter(organisation=kigam).delete()
        before = snapshot(memorandum)

        with pytest.raises(ValidationError) as error:
            record_transition(memorandum, Status.SIGNED, SIGNED_ON)

        assert "two or more parties; 1 recorded" in messages(error.value)["__all__"][0]
        assert snapshot(memorandum) == before

    def test_entering_into_force_unsigned_is_refused_like_signing(self, memorandum, kigam):
        memorandum.parties.filter(organisation=kigam).update(signatory=None)
        before = snapshot(memorandum)

        with pytest.raises(ValidationError) as error:
            record_transition(memorandum, Status.IN_FORCE, SIGNED_ON)

        assert "missing for KIGAM" in messages(error.value)["__all__"][0]
        assert snapshot(memorandum) == before

    def test_the_signature_is_dated_on_the_signing_date(self, memorandum):
        before = snapshot(memorandum)

        with pytest.raises(ValidationError) as error:
            record_transition(memorandum, Status.SIGNED, datetime.date(2025, 5, 13))

        assert messages(error.value)["date"] == [
            "The signature is dated on the signing date, 12 May 2025."
        ]
        assert snapshot(memorandum) == before

    def test_a_backwards_transition_is_refused(self, signed):
        before = snapshot(signed)

        with pytest.raises(ValidationError) as error:
            record_transition(signed, Status.UNDER_NEGOTIATION, datetime.date(2025, 6, 1))

        assert messages(error.value)["status"] == [
            "The memorandum is already signed; it cannot move to under negotiation. "
            "If the earlier entry was a mistake, record a correction with a note."
        ]
        assert snapshot(signed) == before

    def test_the_same_status_twice_is_refused_unless_a_correction(self, signed):
        before = snapshot(signed)
        with pytest.raises(ValidationError) as error:
            record_transition(signed, Status.SIGNED, SIGNED_ON)
        assert "already signed" in messages(error.value)["status"][0]
        assert snapshot(signed) == before

    def test_a_correction_is_a_new_transition_and_both_are_kept(self, in_force):
        record_transition(
            in_force,
            Status.SIGNED,
            SIGNED_ON,
            "Entry into force was recorded by mistake; ratification is pending.",
            correction=True,
        )

        in_force.refresh_from_db()
        assert in_force.status == Status.SIGNED
        assert list(in_force.transitions.values_list("status", "correction")) == [
            ("proposed", False),
            ("signed", False),
            ("in-force", False),
            ("signed", True),
        ]
        assert in_force.entered_into_force_on is None

    def test_a_correction_must_say_why(self, in_force):
        before = snapshot(in_force)

        with pytest.raises(ValidationError) as error:
            record_transition(in_force, Status.SIGNED, SIGNED_ON, correction=True)

        assert messages(error.value)["note"] == ["Say in the note what the correction corrects."]
        assert snapshot(in_force) == before

    def test_expiry_before_entry_into_force_is_refused(self, in_force):
        before = snapshot(in_force)

        for day in (datetime.date(2025, 5, 31), datetime.date(2025, 6, 1)):
            with pytest.raises(ValidationError) as error:
                record_transition(in_force, Status.EXPIRED, day)
            assert messages(error.value)["date"] == [
                f"Expired on {day.day} {day:%B} 2025 would come before in force on 1 June 2025."
            ]
        assert snapshot(in_force) == before

    def test_expiry_after_entry_into_force_is_recorded(self, in_force):
        record_transition(in_force, Status.EXPIRED, datetime.date(2028, 6, 1))
        assert Memorandum.objects.get(pk=in_force.pk).status == Status.EXPIRED

    def test_only_a_memorandum_in_force_can_expire(self, signed):
        before = snapshot(signed)

        with pytest.raises(ValidationError) as error:
            record_transition(signed, Status.EXPIRED, datetime.date(2028, 1, 1))

        assert messages(error.value)["status"] == [
            "Only a memorandum in force can expire; record its entry into force first."
        ]
        assert snapshot(signed) == before

    def test_entry_into_force_cannot_precede_the_signature(self, signed):
        before = snapshot(signed)

        with pytest.raises(ValidationError) as error:
            record_transition(signed, Status.IN_FORCE, datetime.date(2025, 5, 1))

        assert messages(error.value)["date"] == [
            "In force on 1 May 2025 would come before signed on 12 May 2025."
        ]
        assert snapshot(signed) == before

    def test_a_terminated_memorandum_need_not_have_been_signed(self, memorandum):
        record_transition(memorandum, Status.TERMINATED, datetime.date(2025, 2, 1), "Talks ended.")
        assert Memorandum.objects.get(pk=memorandum.pk).status == Status.TERMINATED

    def test_stated_expiry_must_follow_entry_into_force(self, in_force):
        in_force.valid_until = datetime.date(2025, 6, 1)

        with pytest.raises(ValidationError) as error:
            in_force.full_clean()

        assert messages(error.value)["valid_until"] == [
            "The expiry date must be after the entry into force, 1 June 2025."
        ]

    def test_entry_into_force_must_precede_the_stated_expiry(self, signed):
        Memorandum.objects.filter(pk=signed.pk).update(valid_until=datetime.date(2025, 5, 20))
        before = snapshot(signed)

        with pytest.raises(ValidationError) as error:
            record_transition(signed, Status.IN_FORCE, datetime.date(2025, 6, 1))

        assert messages(error.value)["date"] == [
            "Entry into force must be before the expiry date, 20 May 2025."
        ]
        assert snapshot(signed) == before

    def test_a_signed_memorandum_keeps_its_signing_date(self, signed):
        signed.signed_on = None

        with pytest.raises(ValidationError) as error:
            signed.full_clean()

        assert messages(error.value) == {
            "signed_on": ["A signed memorandum needs its signing date."]
        }

    def test_a_new_transition_row_is_checked_by_the_same_rule(self, signed):
        """The model's clean() (used by the admin formset) applies the service's rule."""
        transition = MemorandumTransition(
            memorandum=signed, status=Status.PROPOSED, date=datetime.date(2025, 6, 1)
        )

        with pytest.raises(ValidationError) as error:
            transition.full_clean()

        assert "already signed" in messages(error.value)["status"][0]


class TestOtherRules:
    def test_a_commitment_is_made_by_a_party(self, memorandum):
        outsider = OrganisationFactory(name="Outsider")
        commitment = Commitment(memorandum=memorandum, party=outsider, text="Field studies")

        with pytest.raises(ValidationError) as error:
            commitment.full_clean()

        assert messages(error.value) == {"party": ["Outsider is not a party to this memorandum."]}

    def test_an_event_cannot_end_before_it_starts(self):
        event = EventFactory.build(
            start_date=datetime.date(2024, 12, 9), end_date=datetime.date(2024, 12, 8)
        )

        with pytest.raises(ValidationError) as error:
            event.full_clean()

        assert messages(error.value) == {
            "end_date": ["The event cannot end before it starts (9 December 2024)."]
        }

    def test_an_organisation_cannot_be_its_own_ancestor(self):
        ministry = OrganisationFactory()
        survey = OrganisationFactory(parent=ministry)
        ministry.parent = survey

        with pytest.raises(ValidationError) as error:
            ministry.full_clean()

        assert messages(error.value) == {
            "parent": ["An organisation cannot be its own parent or ancestor."]
        }

    @pytest.mark.parametrize("country", ["Korea", "K1", "KOR", "kr"])
    def test_a_country_is_an_iso_code(self, country):
        organisation = OrganisationFactory.build(country=country)

        with pytest.raises(ValidationError) as error:
            organisation.full_clean()

        assert messages(error.value)["country"][0] == (
            "Give the two-letter ISO 3166-1 code in capitals, e.g. TJ or KR."
        )

    def test_records_get_stable_public_identifiers(self, memorandum):
        assert OrganisationFactory().public_id.startswith("ORG-")
        assert PersonFactory().public_id.startswith("PER-")
        assert EventFactory().public_id.startswith("EVT-")
        assert TopicFactory().public_id.startswith("TOP-")
        assert memorandum.public_id.startswith("MOU-")
        assert InitiativeFactory().public_id.startswith("INI-")


class TestSignedDocument:
    def validate(self, name: str, content: bytes):
        memorandum = MemorandumFactory.build(document=SimpleUploadedFile(name, content))
        memorandum.full_clean()

    def test_a_pdf_is_accepted(self):
        self.validate("memorandum.pdf", b"%PDF-1.7 ...")

    def test_another_format_is_refused(self):
        with pytest.raises(ValidationError) as error:
            self.validate("memorandum.exe", b"MZ...")
        assert "File extension “exe” is not allowed" in messages(error.value)["document"][0]

    def test_content_that_does_not_match_the_extension_is_refused(self):
        with pytest.raises(ValidationError) as error:
            self.validate("memorandum.pdf", b"<html>not a pdf</html>")
        assert messages(error.value)["document"] == ["The file's content is not a PDF document."]

    def test_a_file_over_20_mb_is_refused(self, monkeypatch):
        monkeypatch.setattr(cooperation_models, "SIGNED_DOCUMENT_MAX_BYTES", 1024)
        with pytest.raises(ValidationError) as error:
            self.validate("scan.png", b"\x89PNG\r\n\x1a\n" + b"0" * 2 * 1024 * 1024)
        assert messages(error.value)["document"] == ["The file is 2.0 MB; the limit is 20 MB."]


@pytest.fixture
def konimansur_world():
    """A silver deposit with lead; topics, events, memoranda and initiatives around it."""
    silver = MineralFactory(code="silver", symbol="Ag", name="Silver")
    lead = MineralFactory(code="lead", symbol="Pb", name="Lead")
    lithium = MineralFactory(code="lithium", symbol="Li", name="Lithium", group="rare")
    gold = MineralFactory(code="gold", symbol="Au", name="Gold")
    konimansur = DepositFactory(name="Konimansuri Kalon")
    CommodityFactory(deposit=konimansur, mineral=silver)
    CommodityFactory(deposit=konimansur, mineral=lead, role="associated")
    pegmatite = DepositFactory(name="Lithium pegmatite")
    CommodityFactory(deposit=pegmatite, mineral=lithium)
    jilau = DepositFactory(name="Jilau")
    CommodityFactory(deposit=jilau, mineral=gold)

    w = {"konimansur": konimansur, "lithium": lithium, "silver": silver, "jilau": jilau}
    w["konimansur_topic"] = TopicFactory(name="Konimansur silver")
    w["konimansur_topic"].deposits.add(konimansur)
    w["lead_topic"] = TopicFactory(name="Lead")  # through the deposit's associated mineral
    w["lead_topic"].minerals.add(lead)
    w["rare_metals"] = TopicFactory(name="Rare metals")
    w["rare_metals"].minerals.add(lithium)
    w["pegmatite_topic"] = TopicFactory(name="Pegmatite field")  # lithium through its deposit
    w["pegmatite_topic"].deposits.add(pegmatite)
    w["gold_topic"] = TopicFactory(name="Gold deposits")
    w["gold_topic"].minerals.add(gold)
    w["training"] = TopicFactory(name="Workforce training")

    w["roundtable"] = EventFactory(title="Roundtable")
    for topic in ("konimansur_topic", "rare_metals", "gold_topic", "training", "lead_topic"):
        EventTopicFactory(event=w["roundtable"], topic=w[topic])  # no duplicates expected
    w["gold_visit"] = EventFactory(title="Gold visit")
    EventTopicFactory(event=w["gold_visit"], topic=w["gold_topic"])
    w["lithium_visit"] = EventFactory(title="Lithium visit")
    EventTopicFactory(event=w["lithium_visit"], topic=w["pegmatite_topic"])

    w["silver_mou"] = MemorandumFactory(title="Silver memorandum")
    w["silver_mou"].minerals.add(silver)
    w["deposit_mou"] = MemorandumFactory(title="Konimansur memorandum")
    w["deposit_mou"].deposits.add(konimansur)
    w["topic_mou"] = MemorandumFactory(title="Rare metals memorandum")
    w["topic_mou"].topics.add(w["rare_metals"], w["konimansur_topic"])
    w["gold_mou"] = MemorandumFactory(title="Gold memorandum")
    w["gold_mou"].minerals.add(gold)

    w["lab"] = InitiativeFactory(title="Laboratory")
    w["lab"].topics.add(w["konimansur_topic"])
    w["follow_up"] = InitiativeFactory(title="Follow-up", memorandum=w["deposit_mou"])
    w["training_centre"] = InitiativeFactory(title="Training centre")
    w["training_centre"].topics.add(w["training"])
    return w


def titles(queryset) -> list[str]:
    return sorted(str(getattr(item, "title", None) or item.name) for item in queryset)


class TestCooperationOfADeposit:
    def test_konimansur_gets_what_names_it_or_its_minerals(
        self, konimansur_world, django_assert_num_queries
    ):
        w = konimansur_world
        found = cooperation_for_deposit(w["konimansur"])

        with django_assert_num_queries(1):
            topics = titles(found.topics)
        with django_assert_num_queries(1):
            events = titles(found.events)
        with django_assert_num_queries(1):
            memoranda = titles(found.memoranda)
        with django_assert_num_queries(1):
            initiatives = titles(found.initiatives)

        assert topics == ["Konimansur silver", "Lead"]
        assert events == ["Roundtable"]
        assert memoranda == [
            "Konimansur memorandum",
            "Rare metals memorandum",
            "Silver memorandum",
        ]
        assert initiatives == ["Follow-up", "Laboratory"]

    def test_a_gold_deposit_gets_the_gold_topic_without_being_named(self, konimansur_world):
        found = cooperation_for_deposit(konimansur_world["jilau"])
        assert titles(found.topics) == ["Gold deposits"]
        assert titles(found.events) == ["Gold visit", "Roundtable"]
        assert titles(found.memoranda) == ["Gold memorandum"]

    def test_hidden_items_are_left_out_for_the_public(self, konimansur_world):
        w = konimansur_world
        Memorandum.objects.filter(pk=w["silver_mou"].pk).update(visibility="internal")
        Event.objects.filter(pk=w["roundtable"].pk).update(visibility="partners")
        Initiative.objects.filter(pk=w["lab"].pk).update(visibility="internal")

        found = cooperation_for_deposit(w["konimansur"]).visible_to(ANONYMOUS)

        assert titles(found.events) == []
        assert titles(found.memoranda) == ["Konimansur memorandum", "Rare metals memorandum"]
        assert titles(found.initiatives) == ["Follow-up"]


class TestCooperationOfAMineral:
    def test_lithium_gets_what_names_it_or_its_deposits(
        self, konimansur_world, django_assert_num_queries
    ):
        found = cooperation_for_mineral(konimansur_world["lithium"])

        with django_assert_num_queries(1):
            topics = titles(found.topics)
        with django_assert_num_queries(1):
            events = titles(found.events)
        with django_assert_num_queries(1):
            memoranda = titles(found.memoranda)
        with django_assert_num_queries(1):
            initiatives = titles(found.initiatives)

        assert topics == ["Pegmatite field", "Rare metals"]
        assert events == ["Lithium visit", "Roundtable"]
        assert memoranda == ["Rare metals memorandum"]
        assert initiatives == []

    def test_silver_gets_the_topics_of_its_deposits(self, konimansur_world):
        found = cooperation_for_mineral(konimansur_world["silver"])
        assert titles(found.topics) == ["Konimansur silver"]
        assert titles(found.initiatives) == ["Follow-up", "Laboratory"]


class TestCooperationOfAnOrganisation:
    def test_an_organisation_knows_its_events_memoranda_and_initiatives(
        self, signed, kigam, django_assert_num_queries
    ):
        topic = TopicFactory(name="Geological hazards")
        signed.topics.add(topic)
        roundtable = EventFactory(title="Roundtable")
        EventParticipantFactory(event=roundtable, organisation=kigam)
        EventParticipantFactory(event=roundtable, organisation=kigam, role="speaker")
        EventFactory(title="Elsewhere")
        led = InitiativeFactory(title="Led", lead_organisation=kigam)
        partnered = InitiativeFactory(title="Partnered")
        partnered.partners.add(kigam)
        InitiativeFactory(title="Unrelated")

        found = cooperation_for_organisation(kigam)

        for queryset, expected in [
            (found.events, ["Roundtable"]),
            (found.memoranda, [signed.title]),
            (found.initiatives, ["Led", "Partnered"]),
            (found.topics, ["Geological hazards"]),
        ]:
            with django_assert_num_queries(1):
                assert titles(queryset) == expected
        assert led in Initiative.objects.involving(kigam)

    def test_organisations_reach_memoranda_through_their_parties(self, signed, kigam):
        assert list(Memorandum.objects.with_party(kigam)) == [signed]
        assert list(Organisation.objects.get(pk=kigam.pk).memoranda.all()) == [signed]


def test_the_cooperation_demo_alone_reports_the_deposits_it_cannot_link_yet():
    """Without the deposits demo (tests/test_cooperation_demo.py reads both, loaded
    together for that module), a topic's deposits are reported missing, not invented."""
    out = io.StringIO()
    cooperation_demo.load(out)
    assert "not in the registry yet: Konimansuri Kalon" in out.getvalue()
    assert Topic.objects.get(name="Konimansur silver").deposits.count() == 0
