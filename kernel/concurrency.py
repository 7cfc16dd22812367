"""No lost edits in the admin: optimistic concurrency on the record's `version`.

The change form carries, in a hidden field, the version of the record it showed.
On save the record's row is locked (inside the admin's transaction) and its
stored version compared with the one the clerk started from: if someone saved
in between, the save is refused with a form error that lists, field by field,
the clerk's value and the value saved meanwhile, and who saved it when (from
the record's history). Nothing is overwritten silently; the clerk reloads the
form, sees the other changes and makes theirs again.
"""

from django import forms
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import router, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from kernel.models import PublicRecord

VERSION_FIELD = "loaded_version"
EMPTY = "—"


def is_versioned(model) -> bool:
    return issubclass(model, PublicRecord)


class VersionCheckForm(forms.ModelForm):
    """Mixed into the admin's ModelForm of a PublicRecord by RegistryAdmin.get_form."""

    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and not self.is_bound:
            # The stored version, not the instance's: a revert from history edits an old
            # copy of the record, and starts from the record as it is now.
            stored = (
                type(self.instance)
                ._base_manager.filter(pk=self.instance.pk)
                .values_list("version", flat=True)
                .first()
            )
            self.initial[VERSION_FIELD] = stored or self.instance.version

    def clean(self):
        cleaned_data = super().clean()
        if self.instance.pk is not None:
            self.check_version(cleaned_data.get(VERSION_FIELD))
        return cleaned_data

    def check_version(self, loaded: int | None) -> None:
        model = type(self.instance)
        using = router.db_for_write(model, instance=self.instance)
        # The admin's change view is one transaction: the lock holds until the save commits.
        current = model._base_manager.using(using).select_for_update().filter(pk=self.instance.pk)
        current = current.first()
        if current is None:
            raise ValidationError(
                _("Someone deleted this record while you were editing it; nothing was saved.")
            )
        if loaded is None:
            raise ValidationError(
                _("The form did not say which version of the record it showed; reload it.")
            )
        if current.version != loaded:
            raise ValidationError(self.conflict_messages(current, loaded))

    def conflict_messages(self, current, loaded: int) -> list[str]:
        history = getattr(current, "history", None)
        saves = list(history.filter(version__gt=loaded).order_by("history_date")) if history else []
        base = history.filter(version=loaded).order_by("-history_date").first() if history else None
        who = "; ".join(_saved_by(save) for save in saves) or _("someone")
        messages = [
            _(
                "This record was saved by %(who)s while you were editing it (version "
                "%(loaded)s, now %(current)s). Nothing was saved, so nothing was overwritten."
            )
            % {"who": who, "loaded": loaded, "current": current.version}
        ]
        for field, yours, theirs in self.changed_meanwhile(current, base):
            messages.append(
                _("%(field)s: your value “%(yours)s”, their value “%(theirs)s”.")
                % {"field": field, "yours": yours, "theirs": theirs}
            )
        messages.append(_("Reload the page to see their changes, then make yours again."))
        return messages

    def changed_meanwhile(self, current, base):
        """(label, your value, their value) for each field the other save changed (every
        field that differs from what you submitted when the starting version is unknown)."""
        for name, form_field in self.fields.items():
            try:
                field = current._meta.get_field(name)
            except FieldDoesNotExist:  # a form-only field
                continue
            if not field.concrete or field.many_to_many or name not in self.cleaned_data:
                continue
            theirs = field.value_from_object(current)
            if base is not None:
                if getattr(base, field.attname) == theirs:
                    continue
            elif _comparable(field, self.cleaned_data[name]) == theirs:
                continue
            yours = self.cleaned_data[name]
            if _comparable(field, yours) == theirs:
                continue  # you made the same change
            yield (
                form_field.label or field.verbose_name,
                _shown(field, yours),
                _shown(field, getattr(current, name)),
            )


def _saved_by(save) -> str:
    return _("%(user)s at %(when)s") % {
        "user": save.history_user or _("a script or import"),
        "when": formats.date_format(timezone.localtime(save.history_date), "DATETIME_FORMAT"),
    }


def _comparable(field, value):
    """A form's cleaned value in the terms of `field.value_from_object` (FK → key)."""
    if field.is_relation and value is not None and hasattr(value, "pk"):
        return value.pk
    return value


def _shown(field, value) -> str:
    if value in (None, "", []):
        return EMPTY
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    text = str(value)
    return text if len(text) <= 200 else text[:199] + "…"


def versioned_form(form_class):
    """`form_class` with the hidden version and the check (once, however often asked)."""
    if issubclass(form_class, VersionCheckForm):
        return form_class
    return type(form_class.__name__, (VersionCheckForm, form_class), {})


def atomic_for(model):
    return transaction.atomic(using=router.db_for_write(model))
