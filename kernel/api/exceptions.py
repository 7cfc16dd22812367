"""Every error as JSON: a 400 names the parameter or field, nothing answers 500 for bad input."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _(
        "The record changed since you read it (If-Match does not match its ETag); "
        "nothing was changed. Read it again and retry."
    )
    default_code = "precondition_failed"


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = _(
        "Send the record's ETag (read it with GET) in an If-Match header: an update or "
        "delete must name the version it changes, and If-Match: * names none. "
        "Nothing was changed."
    )
    default_code = "precondition_required"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("Other records still refer to this one; nothing was deleted.")
    default_code = "conflict"


def django_validation_error_detail(error: DjangoValidationError) -> dict:
    """A Django ValidationError as DRF's {field: [messages]} ("non_field_errors" for the rest)."""
    return as_serializer_error(error)


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(django_validation_error_detail(exc))
    elif isinstance(exc, ProtectedError | RestrictedError):
        exc = Conflict()
    return drf_exception_handler(exc, context)
