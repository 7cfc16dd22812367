"""Spreadsheet columns of organisations and memoranda (import and export alike).

Rows match existing records by identifier (`id`), else by their natural key
(organisation: name and country; memorandum: title). A memorandum's status and
parties are shown for reading: the status changes only through dated transitions
and the parties with their signatories, both recorded in the memorandum's form.
"""

from import_export import fields

from cooperation.models import Event, Memorandum, Organisation, Topic
from deposits.models import Deposit, Mineral
from kernel.spreadsheets import CodesWidget, CodeWidget, IdentifiedResource, ListWidget


class OrganisationResource(IdentifiedResource):
    parent = fields.Field(
        attribute="parent", column_name="parent", widget=CodeWidget(Organisation, "public_id")
    )
    sources = fields.Field(
        attribute="sources", column_name="sources", widget=ListWidget(separator=" | ")
    )

    class Meta(IdentifiedResource.Meta):
        model = Organisation
        import_id_fields = ["name", "country"]
        fields = [
            "id",
            "name",
            "name_ru",
            "name_tg",
            "name_native",
            "acronym",
            "country",
            "kind",
            "parent",
            "website",
            "description",
            "description_ru",
            "description_tg",
            "sources",
        ]
        export_order = fields


class MemorandumResource(IdentifiedResource):
    status = fields.Field(attribute="status", column_name="status", readonly=True)
    parties = fields.Field(column_name="parties", readonly=True)
    topics = fields.Field(
        attribute="topics", column_name="topics", widget=CodesWidget(Topic, "public_id")
    )
    minerals = fields.Field(
        attribute="minerals", column_name="minerals", widget=CodesWidget(Mineral)
    )
    deposits = fields.Field(
        attribute="deposits", column_name="deposits", widget=CodesWidget(Deposit, "public_id")
    )
    events = fields.Field(
        attribute="events", column_name="events", widget=CodesWidget(Event, "public_id")
    )
    sources = fields.Field(
        attribute="sources", column_name="sources", widget=ListWidget(separator=" | ")
    )

    class Meta(IdentifiedResource.Meta):
        model = Memorandum
        import_id_fields = ["title"]
        fields = [
            "id",
            "title",
            "title_ru",
            "title_tg",
            "kind",
            "status",
            "parties",
            "signed_on",
            "signed_on_precision",
            "signed_place",
            "term_years",
            "valid_until",
            "topics",
            "minerals",
            "deposits",
            "events",
            "description",
            "description_ru",
            "description_tg",
            "sources",
            "visibility",
        ]
        export_order = fields

    def dehydrate_parties(self, memorandum):
        organisations = [party.organisation for party in memorandum.parties.all()]
        return "; ".join(f"{o.public_id} {o.acronym or o.name}" for o in organisations)
