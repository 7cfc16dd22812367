"""Admin plumbing shared by the registry's apps."""

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import JSONField
from django.utils.functional import cached_property
from simple_history.admin import SimpleHistoryAdmin

from registry.forms import LinesField


class BoundedCountPaginator(Paginator):
    """Counts matches up to ADMIN_COUNT_LIMIT only, so no page load counts a whole table.

    Past the limit the admin shows the limit as the count and pages up to it;
    filters and search narrow the list to what a clerk can page through.
    """

    @cached_property
    def count(self) -> int:
        limit = settings.ADMIN_COUNT_LIMIT
        return self.object_list.order_by()[: limit + 1].count()


class RegistryAdmin(SimpleHistoryAdmin):
    """History with revert, list-valued JSON fields as one-per-line text areas."""

    formfield_overrides = {JSONField: {"form_class": LinesField}}
    save_on_top = True
