"""The data-quality report in the admin."""

from django.contrib.admin import site
from django.contrib.auth.decorators import permission_required
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from reports import quality


@permission_required("deposits.view_deposit", raise_exception=True)
def data_quality(request):
    """The data-quality report in the admin: each finding links to the record to fix."""
    findings = quality.findings()
    context = {
        **site.each_context(request),
        "title": _("Data quality"),
        "findings": findings,
        "checks": sorted({f.check for f in findings}),
    }
    return TemplateResponse(request, "admin/data_quality.html", context)
