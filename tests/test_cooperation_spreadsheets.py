"""Organisations and memoranda in spreadsheets: same rules as the admin forms, idempotent."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cooperation.models import Memorandum, Organisation

pytestmark = pytest.mark.django_db

CSV_FORMAT = "0"


@pytest.fixture
def clerk_client(cooperation_editor_client, cooperation_editor):
    cooperation_editor_client.clerk = cooperation_editor
    return cooperation_editor_client


@pytest.fixture
def demo(demo_for_module, db):
    """The demo registry, loaded once for the module (tests/conftest.py)."""


def upload(rows):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile("data.csv", buffer.getvalue().encode(), "text/csv")


def preview(client, model, file):
    return client.post(
        reverse(f"admin:cooperation_{model}_import"),
        {"import_file": file, "format": CSV_FORMAT, "resource": "0"},
    )


def confirm(client, model, response):
    form = response.context["confirm_form"]
    data = {name: form.initial.get(name, "") for name in form.fields}
    return client.post(reverse(f"admin:cooperation_{model}_process_import"), data, follow=True)


def export(client, model):
    url = reverse(f"admin:cooperation_{model}_export")
    form = client.get(url).context["form"]
    data = {name: "on" for name in form.fields if name.startswith(f"{model}resource_")}
    data.update(format=CSV_FORMAT, resource="0")
    return client.post(url, data).content.decode("utf-8-sig")


def refusals(response):
    return {
        (row.number, field): " ".join(messages)
        for row in response.context["result"].invalid_rows
        for field, messages in row.error_dict.items()
    }


def test_new_organisation_with_parent_and_history(clerk_client, demo):
    parent = Organisation.objects.get(acronym="KIGAM")
    response = preview(
        clerk_client,
        "organisation",
        upload(
            [
                {
                    "name": "Mineral Resources Division",
                    "country": "KR",
                    "kind": "research-institute",
                    "parent": parent.public_id,
                    "sources": "test register",
                }
            ]
        ),
    )
    assert response.context["result"].totals["new"] == 1
    confirm(clerk_client, "organisation", response)
    division = Organisation.objects.get(name="Mineral Resources Division")
    assert division.parent == parent
    assert division.history.get().history_user == clerk_client.clerk


def test_organisation_refusals_name_row_and_column(clerk_client, demo):
    count = Organisation.objects.count()
    rows = [
        {"name": "Lower case country", "country": "kr", "kind": "company", "parent": ""},
        {"name": "Unknown parent", "country": "KR", "kind": "company", "parent": "ORG-999999"},
        {"name": "Unknown kind", "country": "KR", "kind": "guild", "parent": ""},
    ]
    response = preview(clerk_client, "organisation", upload(rows))
    found = refusals(response)
    assert set(found) == {(1, "country"), (2, "parent"), (3, "kind")}
    assert "ORG-999999" in found[(2, "parent")]
    assert "confirm_form" not in response.context
    assert Organisation.objects.count() == count


def test_exported_organisations_and_memoranda_reimport_unchanged(clerk_client, demo):
    for model, manager in [
        ("organisation", Organisation.history),
        ("memorandum", Memorandum.history),
    ]:
        history = manager.count()
        content = export(clerk_client, model)
        response = preview(
            clerk_client, model, SimpleUploadedFile("export.csv", content.encode(), "text/csv")
        )
        result = response.context["result"]
        assert result.totals["new"] == result.totals["update"] == 0, model
        assert not result.has_validation_errors(), model
        confirm(clerk_client, model, response)
        assert manager.count() == history


def test_memoranda_export_shows_status_and_parties(clerk_client, demo):
    rows = list(csv.DictReader(io.StringIO(export(clerk_client, "memorandum"))))
    kigam = next(r for r in rows if "KIGAM" in r["parties"])
    assert kigam["status"] == "signed"
    assert kigam["signed_on"] == "2025-05-12"


def test_memorandum_links_update_and_unknown_codes_are_refused(clerk_client, demo):
    memorandum = Memorandum.objects.get(parties__organisation__acronym="KIGAM")
    good = {"id": memorandum.public_id, "title": memorandum.title, "kind": memorandum.kind,
            "minerals": "lithium; rare-earth-elements", "visibility": "public"}  # fmt: skip
    bad = {**good, "id": "", "title": "Another", "minerals": "lithium; kryptonite"}
    response = preview(clerk_client, "memorandum", upload([good, bad]))
    assert "kryptonite" in refusals(response)[(2, "minerals")]
    assert "confirm_form" not in response.context

    response = preview(clerk_client, "memorandum", upload([good]))
    confirm(clerk_client, "memorandum", response)
    memorandum.refresh_from_db()
    assert set(memorandum.minerals.values_list("code", flat=True)) == {
        "lithium",
        "rare-earth-elements",
    }
    assert memorandum.status == "signed"  # never touched by an import
