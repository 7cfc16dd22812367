"""Views of the registry as a whole (not of one app)."""

from django.contrib.admin import site
from django.contrib.auth.decorators import permission_required
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache
from django.views.defaults import page_not_found

from registry import quality
from registry.middleware import database_unavailable


def not_found(request, exception):
    """Machines reading /api/ and /ogc get a JSON 404, people the page."""
    if request.path.startswith(("/api/", "/ogc")):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


@never_cache
def healthz(request):
    """For load balancers and monitors: 200 when the database answers, else 503."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return database_unavailable()
    return JsonResponse({"status": "ok", "database": "ok"})


@permission_required("deposits.view_deposit", raise_exception=True)
def data_quality(request):
    """The data-quality report in the admin: each finding links to the record to fix."""
    findings = quality.findings()
    context = {
        **site.each_context(request),
        "title": "Data quality",
        "findings": findings,
        "checks": sorted({f.check for f in findings}),
    }
    return TemplateResponse(request, "admin/data_quality.html", context)
