"""Webhook subscriptions and their deliveries in the admin: staff subscribe any key's
holder, switch subscriptions off, and see each delivery with its outcome."""

import secrets

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from kernel.models import ApiKey
from reports.changes import MODELS
from reports.models import WebhookDelivery, WebhookSubscription, webhook_url_validator


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(
        label=_("receiver URL"),
        max_length=500,
        assume_scheme="https",
        validators=[webhook_url_validator],
    )
    collections = forms.MultipleChoiceField(
        label=_("collections"),
        choices=[(label, label) for label in MODELS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("The change feed's collections to send; none chosen sends every one."),
    )

    class Meta:
        model = WebhookSubscription
        fields = ["api_key", "url", "collections", "minerals", "regions", "note", "active"]


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = ["url", "api_key", "collections", "active", "created_at", "deliveries_link"]
    list_filter = ["active"]
    list_select_related = ["api_key__organisation", "api_key__user"]
    search_fields = ["url", "note", "api_key__prefix", "api_key__organisation__acronym"]
    readonly_fields = ["created_at", "deliveries_link"]

    def get_readonly_fields(self, request, obj=None):
        # The key a subscription reads as is chosen once.
        return [*self.readonly_fields, "api_key"] if obj is not None else self.readonly_fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "api_key":
            kwargs["queryset"] = ApiKey.objects.filter(revoked_at__isnull=True).select_related(
                "organisation", "user"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("deliveries"))
    def deliveries_link(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        url = reverse("admin:reports_webhookdelivery_changelist")
        return format_html(
            '<a href="{}?subscription__id__exact={}">{}</a>', url, obj.pk, _("deliveries")
        )

    # The add forms that saved a subscription, in the clerk's session: the page that shows
    # the secret answers a POST, and reloading it must not save a second subscription.
    saved_forms_session_key = "reports-webhook-forms-saved"

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            return super().get_form(request, obj, change=change, **kwargs)
        saved = request.session.get(self.saved_forms_session_key, [])

        class SaveOnceForm(WebhookSubscriptionForm):
            form_token = forms.CharField(
                widget=forms.HiddenInput, initial=lambda: secrets.token_urlsafe(16)
            )

            def clean_form_token(self):
                token = self.cleaned_data["form_token"]
                if token in saved:
                    raise ValidationError(
                        _(
                            "This form has already saved a subscription, whose secret was "
                            "shown on the page that answered it. To add another, open the "
                            "form again."
                        )
                    )
                return token

        return super().get_form(request, obj, change=change, form=SaveOnceForm, **kwargs)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            used = request.session.get(self.saved_forms_session_key, [])
            request.session[self.saved_forms_session_key] = [
                *used[-19:],
                form.cleaned_data["form_token"],
            ]

    def response_add(self, request, obj, post_url_continue=None):
        """The secret, once: on the page that answers the save, never again in the admin."""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Webhook subscription saved"),
            "subscription": obj,
        }
        return TemplateResponse(request, "admin/reports/webhooksubscription/created.html", context)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Read only: what was sent to whom, and how it went."""

    list_display = [
        "id",
        "subscription",
        "status",
        "attempts",
        "sent_count",
        "response_status",
        "error",
        "created_at",
        "last_attempt_at",
        "next_attempt_at",
        "delivered_at",
    ]
    list_filter = ["status", "created_at"]
    list_select_related = ["subscription"]
    search_fields = ["subscription__url", "error"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
