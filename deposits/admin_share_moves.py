"""The admin's warning before a save of reserve estimates moves other deposits' shares.

When a clerk's save (the deposit form with its estimates, or one estimate's own form)
would move another deposit's computed share of a mineral by more than
`SHARE_MOVE_WARNING_POINTS` percentage points, the form comes back unsaved with the
deposits and their shares before and after, and saves once the clerk ticks "I have
checked these figures". The figures come from the one share rule, rehearsing the save
(`deposits.shares.share_moves`); staff see every deposit, so the shares are theirs.

A spreadsheet import of estimates is rehearsed the same way: its preview (a dry run) is
the rehearsed write, and the preview lists the other deposits (those no row of the file
writes) whose share the import would move by more than the threshold; "Confirm import"
then needs the same tick.
"""

import copy

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.forms.models import BaseInlineFormSet, construct_instance
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from deposits.models import Mineral, ReserveEstimate
from deposits.shares import ShareMove, share_moves
from kernel.spreadsheets import RegistryConfirmImportForm

# The checkbox of the warning (templates/admin/deposits/_share_moves.html).
CONFIRM_FIELD = "share_moves_checked"


def _rehearsed(data, write, mineral_ids, own_deposit_id) -> list[ShareMove]:
    """The moves a save would make, unless the clerk has already confirmed them. A write
    that cannot be rehearsed is refused by the real save with its own error, so it warns
    of nothing here."""
    if data.get(CONFIRM_FIELD):
        return []
    try:
        return share_moves(write, mineral_ids, own_deposit_id, settings.SHARE_MOVE_WARNING_POINTS)
    except (DatabaseError, ValidationError, ValueError, TypeError):
        return []


def _refusal(moves: list[ShareMove]) -> ValidationError:
    """The form's error; the table of the moves and the checkbox head the form."""
    return ValidationError(
        _(
            "This save would move other deposits' shares by more than %(points)s "
            "percentage points (%(count)s listed at the top of the form). Check the "
            "figures and tick “I have checked these figures” to save."
        )
        % {"points": settings.SHARE_MOVE_WARNING_POINTS, "count": len(moves)},
        code="share_moves",
    )


class ShareMoveWarningMixin:
    """For the admins whose change form saves estimates: the warning heads the form."""

    def render_change_form(self, request, context, *args, **kwargs):
        context.update(share_moves_context(context))
        return super().render_change_form(request, context, *args, **kwargs)


def _mineral_ids(form) -> set:
    return {form.instance.mineral_id, form.initial.get("mineral")}


class ReserveEstimateAdminForm(forms.ModelForm):
    """One estimate's own form: the save is rehearsed before it is made."""

    share_moves: list[ShareMove] = []

    class Meta:
        model = ReserveEstimate
        fields = ["deposit", *ReserveEstimate.FIGURES, *ReserveEstimate.STANDING, "note"]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        estimate = construct_instance(self, copy.copy(self.instance))
        self.share_moves = _rehearsed(
            self.data,
            estimate.save,
            _mineral_ids(self) | {estimate.mineral_id},
            estimate.deposit_id,
        )
        if self.share_moves:
            raise _refusal(self.share_moves)
        return cleaned


class ReserveEstimateFormSet(BaseInlineFormSet):
    """A deposit's estimates in its form: added, changed and deleted ones are rehearsed
    together, as the save will make them."""

    share_moves: list[ShareMove] = []

    def _touched(self) -> list:
        return [
            form
            for form in self.forms
            if (form.instance.pk and self._should_delete_form(form)) or form.has_changed()
        ]

    def clean(self):
        super().clean()
        if any(form.errors for form in self.forms) or self.non_form_errors():
            return
        touched = self._touched()
        if not touched:
            return

        def write():
            deposit = self.instance
            if deposit.pk is None:  # a new deposit: its estimates need it saved
                deposit = copy.copy(deposit)
                deposit.save()
            for form in touched:
                if self._should_delete_form(form):
                    if form.instance.pk:
                        ReserveEstimate.objects.get(pk=form.instance.pk).delete()
                    continue
                estimate = copy.copy(form.instance)
                estimate.deposit = deposit
                estimate.save()

        mineral_ids = set().union(*(_mineral_ids(form) for form in touched))
        self.share_moves = _rehearsed(self.data, write, mineral_ids, self.instance.pk)
        if self.share_moves:
            raise _refusal(self.share_moves)


def share_moves_context(context) -> dict:
    """What the change form's warning shows (the moves of its form or an inline), for
    `render_change_form`."""
    forms_shown = [context.get("adminform") and context["adminform"].form] + [
        inline.formset for inline in context.get("inline_admin_formsets", [])
    ]
    for shown in forms_shown:
        moves = getattr(shown, "share_moves", None)
        if moves:
            return {
                "share_moves": moves,
                "share_moves_points": settings.SHARE_MOVE_WARNING_POINTS,
                "share_moves_field": CONFIRM_FIELD,
                "share_moves_label": gettext_lazy("I have checked these figures"),
            }
    return {}


# --- the spreadsheet import of estimates ---------------------------------------------


def written_by_file(dataset) -> tuple[set[int], set[str]]:
    """The minerals (ids) and deposits (public ids) a spreadsheet of estimates writes: those
    its rows name, and those of the recorded estimates it names by identifier (a row may
    move one to another mineral or deposit, which moves the shares of the old one too)."""
    headers = set(dataset.headers or ())

    def column(name: str) -> set[str]:
        if name not in headers:
            return set()
        return {str(value).strip() for value in dataset[name] if value not in (None, "")}

    minerals = set(Mineral.objects.filter(code__in=column("mineral")).values_list("pk", flat=True))
    deposits = column("deposit")
    named = ReserveEstimate.objects.filter(public_id__in=column("id"))
    for mineral_id, deposit_id in named.values_list("mineral_id", "deposit__public_id"):
        minerals.add(mineral_id)
        deposits.add(deposit_id)
    return minerals, deposits


def rehearsed_import(dataset, run):
    """The preview of an import of estimates (`run`, the dry run, returning its result)
    rehearsed by the share rule (the `rehearsal` of kernel.spreadsheets.RegistryResource).
    The result carries `share_moves`: the moves of deposits the file does not write (its
    own are the clerk's figures, as the deposit being saved is in the form)."""
    minerals, own = written_by_file(dataset)
    outcome = {}

    def write():
        outcome["result"] = run()

    moves = _rehearsed({}, write, minerals, None)
    result = outcome.get("result")
    if result is None:  # nothing to rehearse, or the rehearsal failed: the preview alone
        result, moves = run(), []
    result.share_moves = [move for move in moves if move.public_id not in own]
    return result


class ShareMoveConfirmImportForm(RegistryConfirmImportForm):
    """The confirmation of an import, which needs the tick when its preview listed share
    moves (and shows the tick then only)."""

    share_moves_listed = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
    share_moves_checked = forms.BooleanField(
        label=gettext_lazy("I have checked these figures"),
        required=False,
        widget=forms.HiddenInput,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        source = self.data if self.is_bound else self.initial
        if source.get("share_moves_listed") not in (None, "", "0", 0):
            self.ask_for_the_tick()

    def ask_for_the_tick(self) -> None:
        self.fields[CONFIRM_FIELD].widget = forms.CheckboxInput(attrs={"required": True})

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("share_moves_listed") and not cleaned.get(CONFIRM_FIELD):
            self.add_error(
                CONFIRM_FIELD,
                _(
                    "This import moves other deposits' shares by more than %(points)s "
                    "percentage points. Check the figures of the preview and tick “I have "
                    "checked these figures” to import."
                )
                % {"points": settings.SHARE_MOVE_WARNING_POINTS},
            )
        return cleaned


class ShareMoveImportWarningMixin:
    """For the admins whose spreadsheet import writes estimates (before
    RegistryImportExportMixin): the preview lists the share moves, and confirming them
    needs the tick."""

    confirm_form_class = ShareMoveConfirmImportForm
    import_template_name = "admin/deposits/share_moves_import.html"

    def get_import_data_kwargs(self, **kwargs):
        data_kwargs = super().get_import_data_kwargs(**kwargs)
        data_kwargs["rehearsal"] = rehearsed_import  # a dry run only (the preview)
        return data_kwargs

    def import_action(self, request, **kwargs):
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None) or {}
        moves = getattr(context.get("result"), "share_moves", None)
        confirm = context.get("confirm_form")
        if moves and confirm is not None:
            confirm.initial["share_moves_listed"] = len(moves)
            confirm.ask_for_the_tick()
            context.update(share_moves=moves, share_moves_points=settings.SHARE_MOVE_WARNING_POINTS)
        return response
