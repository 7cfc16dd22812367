"""Shared building blocks of the registry's records."""

import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, router, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kernel.keys import VISIBLE_CHARS, generate_key, hash_key


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


class RegistryGeneration(models.Model):
    """The registry's generation: a number every committed write of a registry record
    moves on, so that an answer kept in the API cache at an older one is never served
    (kernel/api/caching.py).

    Kept in the database, moved by one statement of its own right after each write
    commits (the write's transaction never holds its row, so writers do not queue on
    it); the shared cache only holds a copy, for a few seconds."""

    value = models.BigIntegerField()

    ROW = 1

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def current(cls, using: str | None = None) -> int:
        rows = cls.objects.using(using).filter(pk=cls.ROW)
        value = rows.values_list("value", flat=True).first()
        if value is None:
            # A lost row (a flushed database) restarts from the clock, never from a
            # number already handed out and perhaps still in the cache.
            row, _created = rows.get_or_create(pk=cls.ROW, defaults={"value": time.time_ns()})
            value = row.value
        return value

    @classmethod
    def move_on(cls, using: str | None = None) -> None:
        """One step on."""
        rows = cls.objects.using(using).filter(pk=cls.ROW)
        while not rows.update(value=F("value") + 1):
            cls.current(using)  # brings a lost row back, then it is moved on


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
    # Optimistic concurrency: 1 when created, one more on every save. The admin's change
    # form carries the version it showed and refuses a save if the record moved on
    # meanwhile (kernel.admin.RegistryAdmin); history rows keep the version they saved.
    version = models.PositiveIntegerField(
        _("version"),
        default=1,
        editable=False,
        help_text=_("Goes up by one with every save; guards against lost edits."),
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self.public_id:
            self.public_id = IdentifierSequence.next_identifier(self.ID_PREFIX)
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=False):
            self.version = self._next_version(using)
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "version"}
            super().save(*args, **kwargs)

    def _next_version(self, using: str) -> int:
        """One more than the stored version, read under a row lock so that two saves of the
        same record never hand out the same number (the in-memory value may be stale: a
        revert from history, or a process that read the record before another saved it)."""
        if self._state.adding or self.pk is None:
            return 1
        stored = (
            type(self)
            ._base_manager.using(using)
            .select_for_update()
            .filter(pk=self.pk)
            .values_list("version", flat=True)
            .first()
        )
        return 1 if stored is None else stored + 1

    def full_clean(self, exclude=None, validate_unique=True, validate_constraints=True):
        # A new record gets its identifier on save; until then there is nothing to check.
        if not self.public_id:
            exclude = {*(exclude or ()), "public_id"}
        super().full_clean(exclude, validate_unique, validate_constraints)


class ApiKeyQuerySet(models.QuerySet):
    def find(self, presented: str) -> "ApiKey | None":
        """The key matching a presented secret, whatever its state (None if unknown),
        with its staff user, whose being active is checked on every request."""
        return self.select_related("user").filter(key_hash=hash_key(presented)).first()


class ApiKey(models.Model):
    """A key to the REST API, for a partner organisation (read, partner visibility)
    or for a staff user (acts as that user: staff visibility, the user's permissions).

    Only the SHA-256 of the key is stored; the key is shown once, when issued.
    """

    prefix = models.CharField(
        _("key starts with"), max_length=16, editable=False, help_text=_("To tell keys apart.")
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    organisation = models.ForeignKey(
        "cooperation.Organisation",
        on_delete=models.CASCADE,
        related_name="api_keys",
        null=True,
        blank=True,
        verbose_name=_("partner organisation"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_keys",
        null=True,
        blank=True,
        verbose_name=_("staff user"),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    # How stale `last_used_at` may get before a request writes it again.
    TOUCH_INTERVAL_SECONDS = 300

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(organisation__isnull=False, user__isnull=True)
                    | models.Q(organisation__isnull=True, user__isnull=False)
                ),
                name="api_key_for_organisation_or_user",
                violation_error_message=_("A key belongs to a partner organisation or to a user."),
            )
        ]

    def __str__(self) -> str:
        holder = self.organisation or self.user
        return f"{self.prefix}… ({holder})"

    def clean(self) -> None:
        """The rules of issuing a key, whoever issues it (`issue_api_token`, the admin):
        a staff user's key goes to an active staff user, and a new key's expiry lies
        ahead. Keys already issued keep their holder; revoking or expiring them is a
        change, not an issue."""
        if not self._state.adding:
            return
        errors = {}
        if self.user is not None and not (self.user.is_active and self.user.is_staff):
            errors["user"] = _("User %(user)s is not an active staff user.") % {
                "user": repr(self.user.get_username())
            }
        if self.expires_at is not None and self.expires_at <= timezone.now():
            errors["expires_at"] = _("A new key must expire in the future.")
        if errors:
            raise ValidationError(errors)

    @classmethod
    def issue(cls, *, organisation=None, user=None, note: str = "", expires_at=None):
        """Create a key; returns (ApiKey, key). The key cannot be recovered later.

        The one way keys are made: the command and the admin both call it, and it
        refuses what `clean()` and the one-holder constraint refuse."""
        key = generate_key()
        api_key = cls(
            prefix=key[:VISIBLE_CHARS],
            key_hash=hash_key(key),
            organisation=organisation,
            user=user,
            note=note,
            expires_at=expires_at,
        )
        api_key.full_clean()
        api_key.save()
        return api_key, key

    @property
    def grants_partner_access(self) -> bool:
        """Partner organisation keys read `partners` records (see kernel.visibility)."""
        return self.organisation_id is not None

    @property
    def is_active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])

    def touch(self) -> bool:
        """Record use, at most once per TOUCH_INTERVAL_SECONDS (not one write per request);
        whether it wrote."""
        now = timezone.now()
        if (
            self.last_used_at is not None
            and (now - self.last_used_at).total_seconds() <= self.TOUCH_INTERVAL_SECONDS
        ):
            return False
        ApiKey.objects.filter(pk=self.pk).update(last_used_at=now)
        self.last_used_at = now
        return True


class AccessRecord(models.Model):
    """One read by a partner organisation's key: who, with which key, where, when, and
    what the answer carried (kernel/access.py writes them in bulk, after the response).

    The key is named by its public prefix only, never by the key; the organisation and
    key are kept as references that outlive neither (a deleted organisation's records
    lose their organisation, not their rows, until their retention ends)."""

    at = models.DateTimeField(_("time"), db_index=True)
    organisation = models.ForeignKey(
        "cooperation.Organisation",
        on_delete=models.SET_NULL,
        related_name="access_records",
        null=True,
        verbose_name=_("partner organisation"),
    )
    api_key = models.ForeignKey(
        ApiKey,
        on_delete=models.SET_NULL,
        related_name="access_records",
        null=True,
        verbose_name=_("API key"),
    )
    key_prefix = models.CharField(_("key starts with"), max_length=16)
    endpoint = models.CharField(
        _("endpoint"), max_length=100, help_text=_("The name of the route that answered.")
    )
    path = models.CharField(_("address"), max_length=500)
    status = models.PositiveSmallIntegerField(_("status"))
    returned = models.PositiveIntegerField(
        _("records returned"),
        null=True,
        help_text=_("How many records the answer carried: a page, an export, one record."),
    )
    identifiers = models.CharField(
        _("records read"),
        max_length=200,
        blank=True,
        help_text=_("The identifiers of a record read on its own (and of its deposit)."),
    )

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("access record")
        verbose_name_plural = _("access records")
        indexes = [models.Index(fields=["organisation", "at"], name="access_by_organisation")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.key_prefix}… {self.path}"
