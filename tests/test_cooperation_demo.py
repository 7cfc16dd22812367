"""The demo cooperation data: the facts of cooperation_facts.md, sourced, loadable twice."""

import datetime
import io

import pytest
from django.apps import apps
from django.core.management import call_command

from cooperation import demo
from cooperation.models import Event, EventTopic, Initiative, Memorandum, Organisation, Topic
from cooperation.services import cooperation_for_deposit, cooperation_for_mineral
from deposits.models import Deposit, Mineral

pytestmark = pytest.mark.django_db

ROUNDTABLE = demo.ROUNDTABLE_TITLE


def row_counts() -> dict[str, int]:
    """Rows of every cooperation table, history tables included."""
    return {
        model.__name__: model.objects.count()
        for model in apps.get_app_config("cooperation").get_models()
    }


@pytest.fixture
def loaded(demo_for_module, db):
    """What `load_demo` loads (once a run, then restored once for the module:
    tests/conftest.py)."""


def topic_names(queryset) -> list[str]:
    return sorted(t.name for t in queryset)


class TestLoading:
    def test_loading_twice_adds_nothing_not_even_history(self, loaded):
        before = row_counts()
        call_command("load_demo", stdout=io.StringIO())
        assert row_counts() == before
        assert before["Organisation"] == 9
        assert before["Memorandum"] == 3

    def test_every_record_keeps_its_source(self, loaded):
        for model in (Organisation, Event, Topic, Memorandum, Initiative):
            assert not model.objects.filter(sources=[]).exists(), model.__name__
        assert all(p.sources for p in Organisation.objects.get(acronym="KIGAM").people.all())


class TestTheRoundtable:
    def test_date_host_and_participants(self, loaded):
        event = Event.objects.get(title=ROUNDTABLE)
        assert (event.kind, event.start_date, event.host_country) == (
            "roundtable",
            datetime.date(2024, 12, 9),
            "TJ",
        )
        participants = {
            (p.organisation.acronym or p.organisation.name, p.person and p.person.name, p.role)
            for p in event.participants.select_related("organisation", "person")
        }
        assert participants == {
            (demo.MGD, None, "participant"),
            (demo.MFA_TJ, None, "participant"),
            (demo.MINDUSTRY_TJ, None, "participant"),
            (demo.GKZ_TJ, None, "participant"),
            (demo.EMBASSY_KR, "Jong Song Sik", "head-of-delegation"),
            ("MOTIE", None, "delegation-member"),
            ("KIGAM", None, "delegation-member"),
        }

    def test_four_topics_four_areas_and_the_minerals_in_focus(self, loaded):
        links = EventTopic.objects.filter(event__title=ROUNDTABLE)
        by_role = {
            role: topic_names(Topic.objects.filter(event_links__in=links.filter(role=role)))
            for role in EventTopic.Role.values
        }
        assert by_role == {
            "discussed": [
                "Extraction and processing",
                "Geological exploration with advanced technologies",
                "Investment",
                "Workforce training",
            ],
            "cooperation-area": [
                "Joint exploration",
                "Mining infrastructure",
                "Technology transfer",
                "Training in sustainable mining",
            ],
            "in-focus": [
                "Antimony of the Zeravshan-Hissar belt",
                "Gold deposits of Tajikistan",
                "Konimansur silver",
                "Rare earths and lithium for supply chains",
                "Rare metals",
            ],
        }
        in_focus = Topic.objects.filter(event_links__in=links.filter(role="in-focus"))
        codes = set(
            Mineral.objects.filter(cooperation_topics__in=in_focus).values_list("code", flat=True)
        )
        assert codes == {
            "gold",
            "antimony",
            "tantalum",
            "niobium",
            "lithium",
            "beryllium",
            "rare-earth-elements",
        }
        assert list(Deposit.objects.filter(cooperation_topics__in=in_focus)) == [
            Deposit.objects.get(name="Konimansuri Kalon")
        ]


class TestTheDocuments:
    def test_kigam_memorandum_proposed_at_the_roundtable_and_signed_in_seoul(self, loaded):
        kigam = Memorandum.objects.get(title=demo.KIGAM_MOU_TITLE)
        assert (kigam.status, kigam.signed_on, kigam.signed_place.split(",")[0]) == (
            "signed",
            datetime.date(2025, 5, 12),
            "Seoul",
        )
        assert list(kigam.transitions.values_list("status", "date")) == [
            ("proposed", datetime.date(2024, 12, 9)),
            ("signed", datetime.date(2025, 5, 12)),
        ]
        assert {
            (p.organisation.acronym or p.organisation.name, p.signatory.name)
            for p in kigam.parties.all()
        } == {
            (demo.MGD, "Ilhomjon Oimuhammadzoda"),
            ("KIGAM", "Pyeong-Koo Lee"),
        }
        assert topic_names(kigam.topics.all()) == sorted(demo.KIGAM_AREAS)
        assert kigam.events.filter(title=ROUNDTABLE).exists()
        assert {c.party.acronym or c.party.name for c in kigam.commitments.all()} == {
            "KIGAM",
            demo.MGD,
        }

    def test_gtk_memorandum_has_no_status_while_its_signatories_are_unknown(self, loaded):
        gtk = Memorandum.objects.get(title=demo.GTK_MOU_TITLE)
        assert gtk.status == ""
        assert gtk.signed_on_display == "September 2014"
        assert {p.organisation.acronym or p.organisation.name for p in gtk.parties.all()} == {
            demo.MGD,
            "GTK",
        }

    def test_rosnedra_programme_signed_in_dushanbe_for_three_years(self, loaded):
        programme = Memorandum.objects.get(title=demo.ROSNEDRA_TITLE)
        assert (programme.kind, programme.status, programme.term_years) == (
            "programme",
            "signed",
            3,
        )
        assert programme.signed_on_display == "November 2022"
        assert {p.signatory.name for p in programme.parties.all()} == {
            "Yevgeny Petrov",
            "Ilhomjon Oimuhammadzoda",
        }

    def test_initiatives_follow_from_the_roundtable(self, loaded):
        initiatives = {i.title: i for i in Initiative.objects.all()}
        assert set(initiatives) == {
            "Laboratory for geological data processing",
            "Research infrastructure for geological hazards",
            "Geology Development Program for 2021-2030",
        }
        programme = initiatives["Geology Development Program for 2021-2030"]
        assert (programme.start_date.year, programme.end_date.year) == (2021, 2030)
        for initiative in initiatives.values():
            assert initiative.events.filter(title=ROUNDTABLE).exists()


class TestCrossAppOnTheDemo:
    def test_konimansur(self, loaded):
        found = cooperation_for_deposit(Deposit.objects.get(name="Konimansuri Kalon"))
        assert topic_names(found.topics) == ["Konimansur silver"]
        assert [e.title for e in found.events] == [ROUNDTABLE]

    def test_lithium(self, loaded):
        found = cooperation_for_mineral(Mineral.objects.get(code="lithium"))
        assert topic_names(found.topics) == [
            "Rare earths and lithium for supply chains",
            "Rare metals",
        ]
        assert [e.title for e in found.events] == [ROUNDTABLE]

    @pytest.mark.parametrize("name", ["Jilau", "Taror", "Chore", "Pakrut", "Konchoch", "Jakhsu"])
    def test_every_gold_deposit_through_the_gold_topic(self, loaded, name):
        found = cooperation_for_deposit(Deposit.objects.get(name=name))
        assert "Gold deposits of Tajikistan" in topic_names(found.topics)
        assert [e.title for e in found.events] == [ROUNDTABLE]
