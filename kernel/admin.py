"""Admin plumbing shared by the registry's apps."""

import secrets

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import JSONField, URLField
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from kernel import access, concurrency, names
from kernel.forms import LinesField
from kernel.models import AccessRecord, ApiKey


class BoundedCountPaginator(Paginator):
    """Counts matches up to ADMIN_COUNT_LIMIT only, so no page load counts a whole table.

    Past the limit the admin shows the limit as the count and pages up to it;
    filters and search narrow the list to what a clerk can page through.
    """

    @cached_property
    def count(self) -> int:
        limit = settings.ADMIN_COUNT_LIMIT
        return self.object_list.order_by()[: limit + 1].count()


class NameSearchMixin:
    """The admin's search of a small table (organisations, people) by the name matcher
    (kernel/names.py) over `name_fields`, in any spelling, added to the usual substring
    search of `search_fields` (acronyms, titles, identifiers). The rows' names are read
    and ranked in Python: fine for hundreds of rows; deposits search through their
    kept keys instead (`DepositQuerySet.search`)."""

    name_fields: tuple[str, ...] = ("name", "name_ru", "name_tg")

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if not search_term.strip():
            return found, may_have_duplicates
        rows = queryset.select_related(None).order_by().only("pk", *self.name_fields)
        matched = names.ranked(
            search_term, rows, lambda row: [getattr(row, f) for f in self.name_fields]
        )
        return found | queryset.filter(pk__in=[row.pk for _, row in matched]), may_have_duplicates


class RegistryAdmin(SimpleHistoryAdmin):
    """History with revert, list-valued JSON fields as one-per-line text areas, and no
    lost edits: the change form of a PublicRecord carries the version it showed and a
    save over someone else's refuses with what they changed (kernel/concurrency.py).
    """

    # A web address typed without its scheme is read as https (Django 6's default).
    formfield_overrides = {
        JSONField: {"form_class": LinesField},
        URLField: {"assume_scheme": "https"},
    }
    save_on_top = True

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None and concurrency.is_versioned(self.model):
            kwargs["form"] = concurrency.versioned_form(kwargs.get("form", self.form))
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not concurrency.is_versioned(self.model):
            return fieldsets
        if concurrency.VERSION_FIELD in flatten_fieldsets(fieldsets):
            return fieldsets
        (name, options), *rest = fieldsets
        fields = [*options.get("fields", ()), concurrency.VERSION_FIELD]
        return [(name, {**options, "fields": fields}), *rest]

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # A revert is a save like any other: one transaction, so the version check's
        # row lock holds until the reverted record is written.
        with concurrency.atomic_for(self.model):
            return super().history_form_view(request, object_id, version_id, extra_context)


# --- REST API keys ------------------------------------------------------------------


class ApiKeyAddForm(forms.ModelForm):
    """The add form, with a token of its own rendering (hidden), so that the same form
    sent twice is recognised."""

    form_token = forms.CharField(
        widget=forms.HiddenInput, initial=lambda: secrets.token_urlsafe(16)
    )


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Staff with the permission to add keys issue them here, as `manage.py
    issue_api_token` does (both through `ApiKey.issue` and its rules). The key is shown
    once, on the page that answers the save, and never stored or shown again; here staff
    also see who holds which key, set expiry and revoke."""

    list_display = [
        "prefix",
        "organisation",
        "user",
        "note",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    list_filter = ["revoked_at", "expires_at"]
    list_select_related = ["organisation", "user"]
    # The add forms that issued a key, in the clerk's session: a form sent again (a
    # reload of the page that showed the key) is refused instead of issuing a second key.
    issued_forms_session_key = "registry-api-key-forms-issued"
    search_fields = ["prefix", "note", "organisation__acronym", "user__username"]
    fields = [
        "prefix",
        "organisation",
        "user",
        "note",
        "expires_at",
        "revoked_at",
        "created_at",
        "last_used_at",
    ]
    add_fields = ["organisation", "user", "note", "expires_at", "form_token"]
    readonly_fields = ["prefix", "organisation", "user", "created_at", "last_used_at"]
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        return self.add_fields if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            return super().get_form(request, obj, change=change, **kwargs)
        issued = request.session.get(self.issued_forms_session_key, [])

        class IssueOnceForm(ApiKeyAddForm):
            def clean_form_token(self):
                token = self.cleaned_data["form_token"]
                if token in issued:
                    raise ValidationError(
                        _(
                            "This form has already issued a key, shown once on the page "
                            "that answered it. To issue another key, open the form again."
                        )
                    )
                return token

        return super().get_form(request, obj, change=change, form=IssueOnceForm, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":  # the ones ApiKey.clean accepts
            kwargs["queryset"] = get_user_model().objects.filter(is_active=True, is_staff=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        issued, key = ApiKey.issue(
            organisation=obj.organisation,
            user=obj.user,
            note=obj.note,
            expires_at=obj.expires_at,
        )
        obj.pk = issued.pk
        obj.refresh_from_db()
        used = request.session.get(self.issued_forms_session_key, [])
        request.session[self.issued_forms_session_key] = [
            *used[-19:],
            form.cleaned_data["form_token"],
        ]
        # Kept on this request's object only, for response_add to show once.
        obj.issued_key = key

    def response_add(self, request, obj, post_url_continue=None):
        """The key, once: this page answers the POST and is not stored anywhere (no
        message in the session or a cookie). Reloading it resends the form, which is
        refused (its token has issued a key): it issues nothing and shows nothing."""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("API key issued"),
            "api_key": obj,
            "key": obj.issued_key,
        }
        return TemplateResponse(request, "admin/registry/apikey/issued.html", context)

    @admin.action(description=_("Revoke the selected keys"), permissions=["change"])
    def revoke(self, request, queryset):
        count = 0
        for api_key in queryset.filter(revoked_at__isnull=True):
            api_key.revoke()
            count += 1
        self.message_user(request, _("%d key(s) revoked.") % count, messages.SUCCESS)


@admin.register(AccessRecord)
class AccessRecordAdmin(admin.ModelAdmin):
    """Partner keys' reads (kernel/access.py), as evidence: read-only for everyone. Its
    summary view gives the reads per month, organisation and endpoint; each
    memorandum's page links to the reads of its parties (cooperation/admin.py)."""

    list_display = [
        "at",
        "organisation",
        "key_prefix",
        "endpoint",
        "path",
        "status",
        "returned",
        "identifiers",
    ]
    list_filter = ["organisation", "endpoint", "status"]
    list_select_related = ["organisation"]
    search_fields = ["path", "identifiers", "key_prefix"]
    date_hierarchy = "at"
    paginator = BoundedCountPaginator
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        summary = self.admin_site.admin_view(self.summary_view)
        return [
            path("summary/", summary, name="registry_accessrecord_summary"),
            *super().get_urls(),
        ]

    def summary_view(self, request):
        """The monthly summary, of one organisation (`organisation`, its key) and one
        month (`month`, YYYY-MM) when given."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        records = AccessRecord.objects.all()
        error = None
        organisation = request.GET.get("organisation", "")
        if organisation.isdigit():
            records = records.filter(organisation_id=int(organisation))
        month = request.GET.get("month", "")
        if month:
            try:
                start, end = access.month_bounds(month)
            except ValueError:
                error = _("Give the month as YYYY-MM, e.g. 2026-11.")
            else:
                records = records.filter(at__gte=start, at__lt=end)
        return access_summary(
            request, self.admin_site, records, _("Access record: monthly summary"), error=error
        )


def access_summary(request, site, records, title, *, error=None, note=None) -> TemplateResponse:
    """The page of a summary of access records (this admin's, a memorandum's)."""
    context = {
        **site.each_context(request),
        "opts": AccessRecord._meta,
        "title": title,
        "note": note,
        "error": error,
        "months": access.monthly_summary(records),
        "records_read": access.records_read(records)[:100],
    }
    return TemplateResponse(request, "admin/registry/accessrecord/summary.html", context)
