"""No edit is lost in the admin: two clerks editing the same record, the second save refused.

Every PublicRecord carries a `version` (1 when created, one more on every save,
kept in its history rows). The admin's change form carries the version it
showed; a save over a newer version is refused with what changed meanwhile and
who saved it, and nothing is written.
"""

import re

import pytest
from django.test import Client
from django.urls import reverse

from deposits.models import Deposit
from kernel.concurrency import VERSION_FIELD
from tests.factories import (
    DepositFactory,
    EventFactory,
    InitiativeFactory,
    MemorandumFactory,
    OrganisationFactory,
    PersonFactory,
    ReserveEstimateFactory,
    TopicFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# Every admin of a PublicRecord, with a text field a clerk edits in it.
VERSIONED = [
    (DepositFactory, "name"),
    (ReserveEstimateFactory, "source"),
    (OrganisationFactory, "name"),
    (PersonFactory, "name"),
    (TopicFactory, "name"),
    (EventFactory, "title"),
    (MemorandumFactory, "title"),
    (InitiativeFactory, "title"),
]


def change_url(record) -> str:
    meta = record._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[record.pk])


def clerk(username: str) -> Client:
    client = Client()
    client.force_login(UserFactory(username=username, is_superuser=True))
    return client


def _add_field(data: dict, bound_field) -> None:
    value = bound_field.value()
    if value is None or value is False:
        return
    if value is True:
        data[bound_field.html_name] = "on"
    elif isinstance(value, list | tuple):
        data[bound_field.html_name] = [str(v) for v in value]
    else:
        data[bound_field.html_name] = str(value)


def form_data(response) -> dict:
    """What a browser would submit for the change form in `response`, unchanged."""
    data = {}
    for bound_field in response.context["adminform"].form:
        _add_field(data, bound_field)
    for inline in response.context.get("inline_admin_formsets", []):
        formset = inline.formset
        for bound_field in formset.management_form:
            _add_field(data, bound_field)
        for form in formset.forms:
            for bound_field in form:
                _add_field(data, bound_field)
    return data


def open_form(client, record) -> dict:
    response = client.get(change_url(record))
    assert response.status_code == 200
    return form_data(response)


def errors_of(response) -> list[str]:
    return [str(e) for e in response.context["adminform"].form.non_field_errors()]


@pytest.mark.parametrize(("factory", "field"), VERSIONED, ids=lambda v: getattr(v, "__name__", v))
def test_the_second_of_two_concurrent_saves_is_refused(factory, field):
    record = factory()
    assert record.version == 1
    alice, bob = clerk("alice"), clerk("bob")
    alice_form, bob_form = open_form(alice, record), open_form(bob, record)
    assert alice_form[VERSION_FIELD] == bob_form[VERSION_FIELD] == "1"
    history_before = record.history.count()

    alice_form[field] = "Alice's value"
    response = alice.post(change_url(record), alice_form)
    assert response.status_code == 302, errors_of(response)

    bob_form[field] = "Bob's value"
    response = bob.post(change_url(record), bob_form)
    assert response.status_code == 200
    errors = errors_of(response)
    assert re.search(r"saved by alice at .* \(version 1, now 2\)", errors[0]), errors
    assert "your value “Bob's value”, their value “Alice's value”" in " ".join(errors)
    assert "Reload the page" in errors[-1]

    record.refresh_from_db()
    assert getattr(record, field) == "Alice's value"
    assert record.version == 2
    assert record.history.count() == history_before + 1
    # The refused form keeps the version Bob started from: resubmitting it fails again.
    assert bob.post(change_url(record), bob_form).status_code == 200

    # After a reload Bob sees Alice's change and saves over version 2.
    bob_form = open_form(bob, record)
    assert bob_form[field] == "Alice's value"
    bob_form[field] = "Bob's value"
    assert bob.post(change_url(record), bob_form).status_code == 302
    record.refresh_from_db()
    assert (getattr(record, field), record.version) == ("Bob's value", 3)
    assert record.history.latest().version == 3


def test_a_conflict_lists_only_what_the_other_save_changed():
    deposit = DepositFactory(name="Jilau", description="Gold in skarn.")
    alice, bob = clerk("alice"), clerk("bob")
    alice_form, bob_form = open_form(alice, deposit), open_form(bob, deposit)
    alice_form["status"] = Deposit.Status.PRODUCING
    assert alice.post(change_url(deposit), alice_form).status_code == 302

    bob_form["description"] = "Gold-bearing skarn."
    errors = " ".join(errors_of(bob.post(change_url(deposit), bob_form)))
    assert "Status: your value “explored”, their value “producing”" in errors
    assert "Description" not in errors  # Bob's own edit, not a change made meanwhile
    deposit.refresh_from_db()
    assert (deposit.status, deposit.description) == (Deposit.Status.PRODUCING, "Gold in skarn.")


def test_a_change_made_outside_the_admin_is_caught_too():
    """An API write or an import saves the record: its version moves on as well."""
    deposit = DepositFactory(name="Ziddy")
    bob = clerk("bob")
    bob_form = open_form(bob, deposit)
    deposit.name = "Ziddi"
    deposit.save()  # e.g. the REST API, a spreadsheet import, a management command

    bob_form["name"] = "Zidi"
    response = bob.post(change_url(deposit), bob_form)
    errors = " ".join(errors_of(response))
    assert "a script or import" in errors
    assert "your value “Zidi”, their value “Ziddi”" in errors
    deposit.refresh_from_db()
    assert deposit.name == "Ziddi"


def test_a_record_deleted_meanwhile_is_not_recreated():
    deposit = DepositFactory()
    bob = clerk("bob")
    bob_form = open_form(bob, deposit)
    url = change_url(deposit)
    Deposit.objects.filter(pk=deposit.pk).delete()
    response = bob.post(url, bob_form)
    assert response.status_code in (200, 302)
    assert not Deposit.objects.filter(pk=deposit.pk).exists()


def test_a_form_without_its_version_is_refused():
    deposit = DepositFactory(name="Old")
    bob = clerk("bob")
    bob_form = open_form(bob, deposit)
    del bob_form[VERSION_FIELD]
    bob_form["name"] = "New"
    response = bob.post(change_url(deposit), bob_form)
    assert response.status_code == 200
    assert "did not say which version" in " ".join(errors_of(response))
    deposit.refresh_from_db()
    assert deposit.name == "Old"


def test_inline_edits_count_as_a_save_of_the_deposit():
    """Two clerks editing the reserves of one deposit: the second is refused as well."""
    estimate = ReserveEstimateFactory(source="GKZ protocol 1")
    deposit = estimate.deposit
    alice, bob = clerk("alice"), clerk("bob")
    alice_form, bob_form = open_form(alice, deposit), open_form(bob, deposit)
    alice_form["reserves-0-source"] = "GKZ protocol 2"
    assert alice.post(change_url(deposit), alice_form).status_code == 302
    bob_form["reserves-0-source"] = "GKZ protocol 3"
    assert bob.post(change_url(deposit), bob_form).status_code == 200
    estimate.refresh_from_db()
    assert estimate.source == "GKZ protocol 2"


def test_revert_from_history_starts_from_the_current_version():
    deposit = DepositFactory(name="First")
    deposit.name = "Second"
    deposit.save()
    first = deposit.history.earliest()
    alice = clerk("alice")
    url = reverse("admin:deposits_deposit_simple_history", args=[deposit.pk, first.history_id])
    response = alice.get(url)
    data = form_data(response)
    assert data[VERSION_FIELD] == "2"
    assert data["name"] == "First"
    assert alice.post(url, data).status_code == 302
    deposit.refresh_from_db()
    assert (deposit.name, deposit.version) == ("First", 3)


def test_the_add_form_has_no_version_to_check():
    alice = clerk("alice")
    response = alice.get(reverse("admin:deposits_deposit_add"))
    assert VERSION_FIELD not in response.context["adminform"].form.fields


class TestVersionField:
    def test_every_save_moves_the_version_on_and_history_keeps_it(self):
        deposit = DepositFactory()
        deposit.save()
        deposit.save(update_fields=["name"])
        deposit.refresh_from_db()
        assert deposit.version == 3
        assert sorted(deposit.history.values_list("version", flat=True)) == [1, 2, 3]

    def test_a_stale_copy_saves_the_next_version_not_an_old_one(self):
        deposit = DepositFactory()
        stale = Deposit.objects.get(pk=deposit.pk)
        deposit.save()
        stale.save()
        stale.refresh_from_db()
        assert stale.version == 3
