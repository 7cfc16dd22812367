"""Factories for the test suite, all in one place."""

import functools
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from deposits.models import (
    Deposit,
    DepositCommodity,
    District,
    MetallogenicBelt,
    Mineral,
    Region,
    ReserveEstimate,
)


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ["code"]

    code = "TJ-SU"
    name = "Sughd"
    name_ru = "Согдийская область"
    name_tg = "Вилояти Суғд"


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District
        django_get_or_create = ["code"]

    code = "TJ-SU-10"
    region = factory.SubFactory(RegionFactory)
    name = "Asht"
    name_ru = "Аштский район"


class MineralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Mineral
        django_get_or_create = ["code"]

    code = "silver"
    symbol = "Ag"
    name = "Silver"
    name_ru = "Серебро"
    name_tg = "Нуқра"
    group = Mineral.Group.PRECIOUS
    unit = "t"


class BeltFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MetallogenicBelt
        django_get_or_create = ["code"]

    code = "zeravshan-hissar"
    name = "Zeravshan-Hissar mercury-antimony belt"


class DepositFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Deposit

    name = factory.Sequence(lambda n: f"Test deposit {n}")
    region = factory.SubFactory(RegionFactory)
    status = Deposit.Status.EXPLORED
    sources = factory.LazyFunction(lambda: ["test fixture"])


class CommodityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DepositCommodity

    deposit = factory.SubFactory(DepositFactory)
    mineral = factory.SubFactory(MineralFactory)
    role = DepositCommodity.Role.MAIN


class ReserveEstimateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReserveEstimate

    deposit = factory.SubFactory(DepositFactory)
    mineral = factory.SubFactory(MineralFactory)
    category = "C1"
    balance = True
    quantity = Decimal("100")
    unit = "t"
    source = "test fixture"


PASSWORD = "correct horse battery"


@functools.cache
def password_hash() -> str:
    """`PASSWORD` hashed as the registry stores passwords (PBKDF2, a million rounds: about
    0.25 s of CPU), once a run: every user the factory makes shares it, so logging in with
    it checks the real hash while making a user costs no hashing."""
    return make_password(PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    is_staff = True
    password = factory.LazyFunction(password_hash)

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*(Group.objects.get(name=name) for name in extracted))
        self.save()


# --- REST API (tests/test_api_*.py) -------------------------------------------------


class PartnerOrganisationFactory(factory.django.DjangoModelFactory):
    """A partner agency that holds a read key."""

    class Meta:
        model = "cooperation.Organisation"
        django_get_or_create = ["name", "country"]

    name = "Korea Institute of Geoscience and Mineral Resources"
    acronym = "KIGAM"
    country = "KR"
    kind = "geological-survey"


def issue_api_key(*, organisation=None, user=None, **kwargs) -> str:
    """A fresh API key for a partner organisation or a user; returns the key itself."""
    from kernel.models import ApiKey

    _api_key, key = ApiKey.issue(organisation=organisation, user=user, **kwargs)
    return key


# --- cooperation (tests/test_cooperation_*.py) --------------------------------------

import datetime  # noqa: E402


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cooperation.Organisation"

    name = factory.Sequence(lambda n: f"Test geological survey {n}")
    country = "TJ"
    kind = "geological-survey"
    sources = factory.LazyFunction(lambda: ["test fixture"])


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cooperation.Person"

    name = factory.Sequence(lambda n: f"Test person {n}")
    title = "Head"
    organisation = factory.SubFactory(OrganisationFactory)


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cooperation.Topic"

    name = factory.Sequence(lambda n: f"Test topic {n}")


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cooperation.Event"

    kind = "roundtable"
    title = factory.Sequence(lambda n: f"Test roundtable {n}")
    start_date = factory.Sequence(lambda n: datetime.date(2024, 1, 1) + datetime.timedelta(n))
    host_country = "TJ"
    sources = factory.LazyFunction(lambda: ["test fixture"])


class EventTopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cooperation.EventTopic"

    event = factory.SubFactory(EventFactory)
    topic = factory.SubFactory(TopicFactory)


class EventParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cooperation.EventParticipant"

    event = factory.SubFactory(EventFactory)
    organisation = factory.SubFactory(OrganisationFactory)


class MemorandumFactory(factory.django.DjangoModelFactory):
    """A memorandum without parties or transitions (status empty)."""

    class Meta:
        model = "cooperation.Memorandum"

    title = factory.Sequence(lambda n: f"Test memorandum {n}")
    kind = "memorandum"
    sources = factory.LazyFunction(lambda: ["test fixture"])


class MemorandumPartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cooperation.MemorandumParty"

    memorandum = factory.SubFactory(MemorandumFactory)
    organisation = factory.SubFactory(OrganisationFactory)


class InitiativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "cooperation.Initiative"

    title = factory.Sequence(lambda n: f"Test initiative {n}")
    kind = "project"
    status = "planned"
