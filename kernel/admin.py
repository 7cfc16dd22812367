"""Admin plumbing shared by the registry's apps."""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.core.paginator import Paginator
from django.db.models import JSONField
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from kernel import concurrency, names
from kernel.forms import LinesField
from kernel.models import ApiKey


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

    formfield_overrides = {JSONField: {"form_class": LinesField}}
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


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are issued with `manage.py issue_api_token` (the key is shown once);
    here staff see who holds which key, set expiry and revoke."""

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
    readonly_fields = ["prefix", "organisation", "user", "created_at", "last_used_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # the key must be shown to whoever issues it: use the command

    @admin.action(description=_("Revoke the selected keys"), permissions=["change"])
    def revoke(self, request, queryset):
        count = 0
        for api_key in queryset.filter(revoked_at__isnull=True):
            api_key.revoke()
            count += 1
        self.message_user(request, _("%d key(s) revoked.") % count, messages.SUCCESS)
