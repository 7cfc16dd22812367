"""Shared building blocks of the registry's records."""

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _


class IdentifierSequence(models.Model):
    """The last number handed out for one kind of public identifier.

    Public identifiers ("TJD-000017") must never be reused, even after a record
    is deleted; database primary keys do not promise that (SQLite reuses the
    highest rowid), so the registry keeps its own counters.
    """

    prefix = models.CharField(max_length=10, unique=True)
    last_value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.prefix}: {self.last_value}"

    @classmethod
    def next_identifier(cls, prefix: str, width: int = 6) -> str:
        with transaction.atomic():
            sequence, _created = cls.objects.select_for_update().get_or_create(prefix=prefix)
            sequence.last_value += 1
            sequence.save(update_fields=["last_value"])
        return f"{prefix}-{sequence.last_value:0{width}d}"


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    PARTNERS = "partners", _("Partners")
    INTERNAL = "internal", _("Internal")


class PublicRecord(models.Model):
    """A record addressed by a stable public identifier, with created/updated stamps."""

    ID_PREFIX: str = ""

    public_id = models.CharField(
        _("identifier"),
        max_length=20,
        unique=True,
        editable=False,
        help_text=_("Stable public identifier; never changes and is never reused."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    class Meta:
        abstract = True

    def full_clean(self, exclude=None, validate_unique=True, validate_constraints=True):
        # A new record gets its identifier on save; until then there is nothing to check.
        if not self.public_id:
            exclude = {*(exclude or ()), "public_id"}
        super().full_clean(exclude, validate_unique, validate_constraints)

    def save(self, *args, **kwargs):
        if not self.public_id:
            self.public_id = IdentifierSequence.next_identifier(self.ID_PREFIX)
        super().save(*args, **kwargs)
