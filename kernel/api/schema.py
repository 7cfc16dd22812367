"""OpenAPI: every operation documents the status codes the API really answers."""

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from kernel.api.conditional import VERSIONED_WRITES

ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "`detail` explains a 401/403/404/409/412/428/429; a 400 names each bad parameter or "
        'field with a list of reasons, e.g. `{"bbox": ["Give four numbers ..."]}`.'
    ),
    "properties": {"detail": {"type": "string"}},
    # A field's reasons; for a nested record or list (commodities, sources) the errors
    # by field or by position, e.g. `{"sources": {"2": ["This field may not be blank."]}}`.
    "additionalProperties": {
        "anyOf": [
            {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "object"}]}},
            {"type": "object"},
        ]
    },
}

ERROR_DESCRIPTIONS = {
    "400": "Invalid parameter or body; the JSON names each parameter or field and the reason.",
    "401": "Missing credentials for a write, or an invalid, revoked or expired key.",
    "403": "The key may not do this (partner keys are read-only; staff need the permission).",
    "404": "No such record, or one outside the caller's visibility; or a page past the end.",
    "409": "The record is still referred to by others; nothing was deleted.",
    "412": "If-Match does not match the record's current ETag; nothing was changed.",
    "428": "No If-Match (or `If-Match: *`): send the ETag read with GET; nothing was changed.",
    "429": "Too many requests for this key or address; retry after `Retry-After` seconds.",
}


def _model_field(field):
    """The model field behind a ModelSerializer's field, if it maps to one directly."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not field.source or "." in field.source or field.source == "*":
        return None
    try:
        return model._meta.get_field(field.source)
    except FieldDoesNotExist:
        return None


# What `?format=csv` and `?format=geojson` of a list stream (kernel/api/exports.py):
# the whole filtered list, not the paged JSON.
EXPORT_SCHEMAS = {
    "text/csv": {"type": "string", "description": "The filtered list as CSV, one row a record."},
    "application/geo+json": {
        "type": "object",
        "description": "The filtered list as a GeoJSON FeatureCollection.",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": {"type": "object"}},
        },
    },
}


class RegistryAutoSchema(AutoSchema):
    def _if_match(self) -> str | None:
        """Whether the write takes If-Match: required for an update or delete, optional for
        another write on one record (a memorandum's transition), checked when sent."""
        if self.method in VERSIONED_WRITES:
            return "required"
        if self.method == "POST" and getattr(self.view, "detail", False):
            return "optional"
        return None

    def _get_response_for_code(
        self, serializer, status_code, media_types=None, direction="response"
    ):
        response = super()._get_response_for_code(serializer, status_code, media_types, direction)
        if str(status_code).startswith("2"):
            for media_type, content in response.get("content", {}).items():
                if media_type in EXPORT_SCHEMAS:
                    content["schema"] = EXPORT_SCHEMAS[media_type]
        return response

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        # DRF drops allow_blank/allow_null from read-only fields, so the schema would
        # promise a value where the API answers "" (a memorandum without status, a reserve
        # without unit) or null (a participant without a named person).
        model_field = _model_field(field) if field.read_only else None
        if model_field is not None:
            if isinstance(field, serializers.ChoiceField) and model_field.blank:
                field.allow_blank = True
            if model_field.null:
                field.allow_null = True
        return super()._map_serializer_field(field, direction, bypass_extensions)

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self.method == "GET":
            parameters += [
                OpenApiParameter(
                    "If-None-Match",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description="An ETag read earlier: answers 304 while it still matches.",
                ),
                OpenApiParameter(
                    "ETag",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    response=[200, 304],
                    description="Digest of the representation (not sent on streamed exports).",
                ),
            ]
        if self._if_match() == "required":
            parameters.append(
                OpenApiParameter(
                    "If-Match",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    required=True,
                    description=(
                        "The ETag read with GET; a stale one answers 412, none (or `*`) 428."
                    ),
                )
            )
        elif self._if_match() == "optional":
            parameters.append(
                OpenApiParameter(
                    "If-Match",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description="The ETag read with GET, if sent: stale answers 412, `*` 428.",
                )
            )
        parameters.append(
            OpenApiParameter(
                "Retry-After",
                OpenApiTypes.INT,
                OpenApiParameter.HEADER,
                response=[429],
                description="Seconds to wait before the next request.",
            )
        )
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = ["400", "401", "404", "429"]
        if self.method == "GET":
            responses.setdefault(
                "304",
                self._get_response_for_code(None, "304", direction=direction)
                | {"description": "Not modified: If-None-Match matches the current ETag."},
            )
        else:
            codes.append("403")
        if self._if_match():
            codes += ["412", "428"]
        if self.method == "DELETE":
            codes.append("409")
        for code in codes:
            if code not in responses:
                response = self._get_response_for_code(ERROR_SCHEMA, code, direction=direction)
                response["description"] = ERROR_DESCRIPTIONS[code]
                responses[code] = response
        return dict(sorted(responses.items()))


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "kernel.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`: a partner organisation's key or a staff key.",
        }


def api_v1_endpoints_only(endpoints):
    """The OpenAPI document describes API v1; other DRF views (OGC API) document themselves."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/v1/")]


def link_records_to_their_operations(result, generator, request, public):
    """OpenAPI links (drf-spectacular writes none): what a client does next with a record.

    A create (201) or an update (200) answers the record's `id`, which its read, update
    and delete take; a read (200) also answers the ETag, which an update or delete must
    send back as If-Match (kernel/api/conditional.py). Clients and Schemathesis' stateful
    run (tests/test_api_fuzz.py) follow them.
    """
    paths = result["paths"]
    for collection, collection_operations in paths.items():
        record = paths.get(f"{collection}{{id}}/")
        if "{" in collection or record is None:
            continue
        by_id = {"path.id": "$response.body#/id"}
        reads = {"retrieve": (record.get("get"), by_id)}
        writes = {
            name: (operation, by_id | {"header.If-Match": "$response.header.ETag"})
            for name, operation in [
                ("update", record.get("put")),
                ("partial_update", record.get("patch")),
                ("destroy", record.get("delete")),
                ("transition", paths.get(f"{collection}{{id}}/transitions/", {}).get("post")),
            ]
        }
        # Straight after a create the client holds no ETag: its writes answer 428.
        unversioned = {name: (operation, by_id) for name, (operation, _) in writes.items()}
        sources = [
            (collection_operations.get("post"), "201", reads | unversioned),
            (record.get("get"), "200", writes),
            (record.get("put"), "200", reads),
            (record.get("patch"), "200", reads),
        ]
        for source, status, targets in sources:
            if source is None or status not in source["responses"]:
                continue
            source["responses"][status]["links"] = {
                name: {"operationId": target["operationId"], "parameters": parameters}
                for name, (target, parameters) in targets.items()
                if target is not None
            }
    return result
