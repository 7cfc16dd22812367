"""The framework's floor for `make bench-serve`: a view that does nothing but answer a
fixed JSON body of a given size through the full middleware stack. Routed only by
bench/urls.py (bench/settings.py), never in production."""

import json

from django.http import HttpResponse


def floor(request):
    size = min(int(request.GET.get("bytes", "1000")), 10_000_000)
    body = json.dumps({"pad": "x" * max(0, size - 11)})
    return HttpResponse(body, content_type="application/json")
