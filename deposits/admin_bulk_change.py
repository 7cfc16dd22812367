"""Admin actions that set one field of a selection of deposits (their status, their
visibility): the clerk chooses the new value, reads what will change, deposit by deposit,
and confirms. Each deposit is saved as the change form saves it, in one transaction, so
its history records the change with the reason and the kept figures follow (a visibility
change moves the deposit's estimates between the totals of each level)."""

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.template.response import TemplateResponse
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from deposits.models import Deposit

SHOWN = 200  # rows listed on a step; a larger selection (all matching a filter) says how many more


class BulkChangeForm(forms.Form):
    value = forms.ChoiceField()

    def __init__(self, field, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["value"].label = capfirst(field.verbose_name)
        self.fields["value"].choices = field.choices


def bulk_change(modeladmin, request, queryset, name: str):
    """The action's three steps: choose (the selection with its current values), confirm
    (old → new for each deposit that changes), apply (saved, then back to the list)."""
    field = Deposit._meta.get_field(name)
    submitted = "bulk_value" in request.POST
    form = BulkChangeForm(field, {"value": request.POST.get("bulk_value")} if submitted else None)
    ordered = queryset.select_related(None).prefetch_related(None).order_by("name", "pk")
    selection = list(ordered.only("pk", "public_id", "name", name))
    if submitted and form.is_valid():
        value = form.cleaned_data["value"]
        changing = [deposit for deposit in selection if getattr(deposit, name) != value]
        if "bulk_apply" in request.POST:
            return _apply(modeladmin, request, field, value, changing, len(selection))
        step, rows = "confirm", [(deposit, getattr(deposit, name), value) for deposit in changing]
    else:
        step, rows = "choose", [(deposit, getattr(deposit, name), None) for deposit in selection]
    labels = dict(field.choices)
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.model._meta,
        "title": _("Change the %(field)s of the selected deposits") % {"field": field.verbose_name},
        "action": request.POST.get("action"),
        "select_across": request.POST.get("select_across") == "1",
        "selected": [deposit.pk for deposit in selection],
        "field_name": field.verbose_name,
        "form": form,
        "step": step,
        "rows": [
            (deposit, labels.get(old, old), labels.get(new, new)) for deposit, old, new in rows
        ][:SHOWN],
        "count": len(rows),
        "more": max(len(rows) - SHOWN, 0),
        "unchanged": len(selection) - len(rows),
        "chosen": form.cleaned_data["value"] if step == "confirm" else "",
        "chosen_label": labels.get(form.cleaned_data["value"]) if step == "confirm" else "",
    }
    return TemplateResponse(request, "admin/deposits/deposit/bulk_change.html", context)


def _apply(modeladmin, request, field, value, changing, selected: int):
    reason = gettext("%(field)s set for a selection") % {"field": capfirst(field.verbose_name)}
    with transaction.atomic():
        locked = Deposit.objects.filter(pk__in=[d.pk for d in changing]).select_for_update()
        for deposit in locked.order_by("pk"):
            setattr(deposit, field.name, value)
            deposit._change_reason = reason
            deposit.save()
    modeladmin.message_user(
        request,
        _("Changed: %(changed)s. Already so: %(unchanged)s.")
        % {"changed": len(changing), "unchanged": selected - len(changing)},
        messages.SUCCESS,
    )
    return None  # back to the list, as after any action


class BulkChangeActions:
    """Mixed into the deposit admin: the actions, each needing the change permission."""

    @admin.action(
        description=_("Change the status of the selected deposits"), permissions=["change"]
    )
    def change_status(self, request, queryset):
        return bulk_change(self, request, queryset, "status")

    @admin.action(
        description=_("Change the visibility of the selected deposits"), permissions=["change"]
    )
    def change_visibility(self, request, queryset):
        return bulk_change(self, request, queryset, "visibility")
