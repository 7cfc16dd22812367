"""ETags on reads (304 for a matching If-None-Match) and If-Match on writes (412 if stale).

An ETag is a digest of the representation's data as JSON, so it changes with
anything the record shows (a reserve share moves when another deposit's
reserves change, too). The ETag a client reads with GET is the one it sends
back in If-Match.

An update or delete must say which version it changes: without If-Match it is a
428 (RFC 6585), so a client that never reads first cannot overwrite someone else's
edit. `If-Match: *` names no version (it matches any), so it is refused the same way.
A list of ETags passes if any of them is the current one.
"""

import hashlib
import json

from django.http import HttpResponseNotModified
from django.utils.http import parse_etags
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from kernel.api.exceptions import PreconditionFailed, PreconditionRequired

# The writes that replace or remove a record the client must have read first.
VERSIONED_WRITES = frozenset({"PUT", "PATCH", "DELETE"})


def etag_for(data, representation: str = "json") -> str:
    canonical = json.dumps(data, cls=JSONEncoder, sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(f"{representation}\n{canonical}".encode()).hexdigest()
    return f'"{digest[:40]}"'


class ConditionalRequestMixin:
    """For DRF views: ETag + 304 on GET/HEAD, and `check_if_match(instance)` for writes."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if (
            request.method in ("GET", "HEAD")
            and isinstance(response, Response)
            and response.status_code == 200
            and response.data is not None
        ):
            renderer = getattr(request, "accepted_renderer", None)
            etag = etag_for(response.data, getattr(renderer, "format", "json"))
            response["ETag"] = etag
            if_none_match = request.headers.get("If-None-Match")
            if if_none_match and (etag in parse_etags(if_none_match) or if_none_match == "*"):
                not_modified = HttpResponseNotModified()
                not_modified["ETag"] = etag
                if response.has_header("Vary"):
                    not_modified["Vary"] = response["Vary"]
                return not_modified
        return response

    def check_if_match(self, instance) -> None:
        """428 for an update or delete without a version (or with `*`), 412 if stale.
        Other writes on a record (a memorandum's transition) are checked when they
        send If-Match."""
        header = self.request.headers.get("If-Match", "").strip()
        if not header and self.request.method not in VERSIONED_WRITES:
            return
        tags = parse_etags(header)
        if not tags or "*" in tags:
            raise PreconditionRequired()
        serializer = self.get_serializer_class()(instance, context=self.get_serializer_context())
        if etag_for(serializer.data) not in tags:
            raise PreconditionFailed()
