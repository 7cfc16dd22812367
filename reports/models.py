"""Webhook subscriptions and their deliveries: the change feed pushed to a key's holder.

A subscription belongs to an API key: what it is sent is what that key may read
(`Caller.of_key`), judged again when each delivery is made. The rules of sending
(signing, retries, what a delivery may carry) are in reports/webhooks.py.
"""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

# The receiver's URL: http or https, nothing else (no file:, ftp:, javascript:).
webhook_url_validator = URLValidator(
    schemes=["http", "https"],
    message=_("Give an http:// or https:// URL of the receiver."),
    code="webhook_url",  # its own code: a form field's "invalid" message would replace it
)


def generate_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookSubscriptionQuerySet(models.QuerySet):
    def of_holder(self, api_key):
        """The subscriptions of the holder of `api_key`: its organisation's, or its user's,
        whichever key of theirs made them."""
        if api_key.organisation_id is not None:
            return self.filter(api_key__organisation_id=api_key.organisation_id)
        return self.filter(api_key__user_id=api_key.user_id)

    def sending(self):
        """Subscriptions that are switched on and whose key may still read."""
        return self.filter(active=True, api_key__revoked_at__isnull=True).select_related(
            "api_key__user"
        )


class WebhookSubscription(models.Model):
    """A URL that is sent the changes an API key may see, in the collections chosen
    (all when none is), optionally only those of some minerals or regions."""

    api_key = models.ForeignKey(
        "registry.ApiKey",
        on_delete=models.CASCADE,
        related_name="webhooks",
        verbose_name=_("API key"),
        help_text=_("Deliveries carry only what this key may read, judged when each is sent."),
    )
    url = models.URLField(_("receiver URL"), max_length=500, validators=[webhook_url_validator])
    collections = models.JSONField(
        _("collections"),
        default=list,
        blank=True,
        help_text=_("The change feed's collections to send; none chosen sends every one."),
    )
    minerals = models.ManyToManyField(
        "deposits.Mineral",
        blank=True,
        related_name="+",
        verbose_name=_("minerals"),
        help_text=_(
            "Only deposits holding one of these minerals, and reserve estimates and balance "
            "lines of them; none chosen: every mineral."
        ),
    )
    regions = models.ManyToManyField(
        "deposits.Region",
        blank=True,
        related_name="+",
        verbose_name=_("regions"),
        help_text=_(
            "Only deposits in these regions, with their reserve estimates and balance lines; "
            "none chosen: every region."
        ),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Switched off, nothing is sent to it.")
    )
    # Kept in clear: signing needs it. Shown once, when the subscription is made.
    secret = models.CharField(max_length=80, default=generate_secret, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = WebhookSubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self) -> str:
        return self.url

    def save(self, *args, **kwargs):
        from reports.changes import MODELS

        # Without repeats and in the feed's order, so one choice is stored one way.
        self.collections = [c for c in MODELS if c in self.collections]
        super().save(*args, **kwargs)

    def clean(self) -> None:
        from reports.changes import MODELS  # the feed's module reads models at import

        errors = {}
        if not isinstance(self.collections, list) or any(
            not isinstance(c, str) or c not in MODELS for c in self.collections
        ):
            errors["collections"] = _("Choose collections among: %(collections)s.") % {
                "collections": ", ".join(MODELS)
            }
        if self._state.adding and self.api_key_id is not None:
            if not self.api_key.is_active:
                errors["api_key"] = _("This API key is revoked or has expired.")
            elif (
                WebhookSubscription.objects.of_holder(self.api_key).count()
                >= settings.WEBHOOK_SUBSCRIPTIONS_PER_HOLDER
            ):
                errors["api_key"] = _(
                    "The key's holder already has the most webhook subscriptions allowed "
                    "(%(count)d): remove one first."
                ) % {"count": settings.WEBHOOK_SUBSCRIPTIONS_PER_HOLDER}
        if errors:
            raise ValidationError(errors)


class WebhookDelivery(models.Model):
    """One batch of changes for one subscription (those of one committed write), with the
    outcome of sending it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")
        WITHHELD = "withheld", _("withheld")

    subscription = models.ForeignKey(
        WebhookSubscription,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("subscription"),
    )
    # The feed's entries as the write left them: [{"model", "id", "action", "at"}]; what is
    # sent is judged again against what the key may read at each attempt.
    changes = models.JSONField(_("changes"), default=list)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(
        _("receiver's answer"), null=True, blank=True
    )
    error = models.CharField(_("error"), max_length=500, blank=True)
    sent_count = models.PositiveIntegerField(
        _("changes sent"), default=0, help_text=_("The changes the last attempt carried.")
    )
    # Set, committed, before an attempt posts: until then the attempt is its worker's; a
    # pending delivery still held past it lost its worker, and the sweep tries it again.
    in_flight_until = models.DateTimeField(_("in flight until"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self) -> str:
        return f"{self.subscription} #{self.pk}"


class WrittenChange(models.Model):
    """The outbox: a history row a write made while anyone subscribed, written in the
    write's own transaction with the `dispatch` task of its `batch` (one per transaction),
    so both exist once the write commits and neither if it rolls back. `dispatch` reads
    its batch's rows and deletes them as it makes the deliveries."""

    batch = models.UUIDField(db_index=True)
    collection = models.CharField(max_length=20)
    history_id = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.collection} {self.history_id}"


class PushedGrantChange(models.Model):
    """A clause's opening or closing (cooperation's `GrantChange`, by its id) that has been
    dispatched to the subscribers, so a moment is pushed once however often it is looked
    at. Kept as long as the sweep looks back (`WEBHOOK_MOMENT_LOOKBACK_HOURS`)."""

    change_id = models.BigIntegerField(unique=True)
    at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.change_id} {self.at:%Y-%m-%d %H:%M}"
