"""Spreadsheet columns of organisations and memoranda (import and export alike).

Rows match existing records by identifier (`id`), else by their natural key
(organisation: name and country; memorandum: title). A memorandum's status and
parties are shown for reading: the status changes only through dated transitions
and the parties with their signatories, both recorded in the memorandum's form.
"""

from django.core.exceptions import ValidationError
from import_export import fields

from cooperation.models import Event, Memorandum, Organisation, Topic
from deposits.models import Deposit, Mineral
from registry.spreadsheets import CodesWidget, CodeWidget, ListWidget, RegistryResource


class IdentifiedResource(RegistryResource):
    """Matches a row by `id` (public identifier) or, without one, by NATURAL_KEY columns."""

    NATURAL_KEY: tuple[str, ...] = ()

    id = fields.Field(attribute="public_id", column_name="id", readonly=True)

    class Meta(RegistryResource.Meta):
        abstract = True
        import_id_fields = ["id"]

    def get_instance(self, instance_loader, row):
        model = self._meta.model
        public_id = (row.get("id") or "").strip()
        if public_id:
            record = model.objects.filter(public_id=public_id).first()
            if record is None:
                raise ValidationError(
                    {"id": f"unknown identifier {public_id!r}; leave it empty to add a record"}
                )
            return record
        lookup = {key: (row.get(key) or "").strip() for key in self.NATURAL_KEY}
        if not all(lookup.values()):
            return None
        return model.objects.filter(**lookup).first()


class OrganisationResource(IdentifiedResource):
    NATURAL_KEY = ("name", "country")

    parent = fields.Field(
        attribute="parent", column_name="parent", widget=CodeWidget(Organisation, "public_id")
    )
    sources = fields.Field(
        attribute="sources", column_name="sources", widget=ListWidget(separator=" | ")
    )

    class Meta(IdentifiedResource.Meta):
        model = Organisation
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
            "sources",
        ]
        export_order = fields


class MemorandumResource(IdentifiedResource):
    NATURAL_KEY = ("title",)

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
        fields = [
            "id",
            "title",
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
            "sources",
            "visibility",
        ]
        export_order = fields

    def dehydrate_parties(self, memorandum):
        organisations = [party.organisation for party in memorandum.parties.all()]
        return "; ".join(f"{o.public_id} {o.acronym or o.name}" for o in organisations)
