"""Serializer pieces shared by the apps: the registry's `ModelSerializer`, and the admin's
validation for API writes."""

import copy

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import ManyToManyField
from rest_framework import serializers
from rest_framework.settings import api_settings


class ModelSerializer(serializers.ModelSerializer):
    """DRF's ModelSerializer, its fields built from the model once per class.

    DRF builds a ModelSerializer's fields from the model (field mapping, validators) each
    time a serializer is made, and they come out the same every time: a record's read
    made its three serializers' 50 fields again on every request. They are built once,
    kept on the class, and each serializer gets its own deep copy, as DRF gives it its
    declared fields. A serializer whose fields depended on the request could not be a
    subclass; none does (its context is read in `validate` and `to_representation`)."""

    def get_fields(self):
        kept = type(self).__dict__.get("_kept_fields")
        if kept is None:
            kept = super().get_fields()
            type(self)._kept_fields = kept
        return copy.deepcopy(kept)


class FullCleanMixin:
    """Runs the model's `full_clean()` on the record as it would be saved.

    The admin validates through the model (field validators, `clean()`, unique
    checks); so does the API, with errors keyed by the API's field names. Only
    the fields this serializer writes are checked, as a ModelForm checks only
    its own fields.
    """

    def validate(self, attrs):
        attrs = super().validate(attrs)
        model = self.Meta.model
        concrete = {
            f.name: f for f in model._meta.get_fields() if f.concrete and not f.auto_created
        }
        candidate = copy.copy(self.instance) if self.instance is not None else model()
        for name, value in attrs.items():
            field = concrete.get(name)
            if field is not None and not isinstance(field, ManyToManyField):
                setattr(candidate, name, value)
        for name in getattr(self.Meta, "clean_attributes", ()):
            setattr(candidate, name, attrs.get(name, ""))
        written = {
            field.source
            for field in self.fields.values()
            if not field.read_only and field.source in concrete
        }
        try:
            candidate.full_clean(exclude=[name for name in concrete if name not in written])
        except DjangoValidationError as error:
            raise serializers.ValidationError(self._api_errors(error)) from None
        self.validate_candidate(candidate, attrs)
        return attrs

    def validate_candidate(self, candidate, attrs) -> None:
        """Hook for rules that involve related rows (raise serializers.ValidationError)."""

    def _api_errors(self, error: DjangoValidationError) -> dict:
        field_names = {field.source: name for name, field in self.fields.items()}
        errors = {}
        for name, messages in error.message_dict.items():
            if name == "__all__":
                name = api_settings.NON_FIELD_ERRORS_KEY
            errors[field_names.get(name, name)] = messages
        return errors


class SlugReferenceField(serializers.SlugRelatedField):
    """A related record named by its identifier or code.

    A NUL character names no record, but PostgreSQL cannot even compare it with a text
    column (DataError: a 500, and on SQLite a plain "does not exist"): it is refused
    before the lookup, as DRF's CharField refuses it, on both databases alike.
    """

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            raise serializers.ValidationError(ProhibitNullCharactersValidator.message)
        return super().to_internal_value(data)
