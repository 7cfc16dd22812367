"""Spreadsheet import and export for the admin, shared by both apps.

Built on django-import-export: a dry-run preview row by row, refused rows listed
with their number, column and reason (the model's own validation, the same as the
admin form's), all or nothing unless the clerk ticks "import only the valid rows",
each row written in its own savepoint so a refused row leaves nothing behind, and
history recorded under the importing user. Files that are not what they claim are
refused before anything is read into the registry.
"""

import csv
import io
import itertools
import re
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence

import openpyxl
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets
from import_export.admin import ExportActionMixin, ImportExportMixin
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import ConfirmImportForm, ImportForm
from import_export.results import RowResult
from openpyxl.utils import get_column_letter

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# What one import may hold: far above the registry's own files, far below what would tie
# up a worker (docs/data.md gives the figures). openpyxl parses a whole row before it
# yields it, so the unpacked size (the zip's members as its directory declares them)
# also bounds the one row that could hold every cell.
MAX_UNPACKED_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
MAX_COLUMNS = 100
MAX_CELLS = 500_000
MAX_CHECK_SECONDS = 20
# A cell starting with one of these is a formula to a spreadsheet program.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(\d+[.,]?\d*|[.,]\d+)([eE][+-]?\d+)?")


def escape_formula(value):
    """Text a spreadsheet would evaluate, made inert with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def check_upload(data: bytes, format_name: str) -> None:
    """Refuse a file that is empty, too large, mislabelled, badly encoded, larger than
    the limits below once unpacked, or holds formulas. The check is bounded: a hostile
    file is refused at the first limit it passes, long before it could tie up a worker."""
    if not data.strip():
        raise ValidationError(_("The file is empty."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("The file is %(size)s; files up to %(limit)s can be imported.")
            % {"size": filesizeformat(len(data)), "limit": filesizeformat(MAX_UPLOAD_BYTES)}
        )
    if format_name == "xlsx":
        check_xlsx(data)
    else:
        check_csv(data)


def is_formula(value) -> bool:
    """Text a spreadsheet program would evaluate: what `escape_formula` escapes in exports,
    except a plain number such as -2.5 (a number cell, not a formula)."""
    return (
        isinstance(value, str)
        and value.startswith(FORMULA_PREFIXES)
        and not PLAIN_NUMBER.fullmatch(value)
    )


def check_cells(rows: Iterable[Sequence], place: Callable[[int, int], str]) -> None:
    """Walks the rows (the header first) within MAX_ROWS, MAX_COLUMNS, MAX_CELLS and
    MAX_CHECK_SECONDS, refusing the first formula with its place (`place(row, column)`,
    both counted from 1)."""
    deadline = time.monotonic() + MAX_CHECK_SECONDS
    cells = 0
    for number, row in enumerate(rows, start=1):
        if number > MAX_ROWS + 1:
            raise ValidationError(
                _("The file has more than %(limit)s rows; import it in parts.")
                % {"limit": MAX_ROWS}
            )
        if len(row) > MAX_COLUMNS:
            raise ValidationError(
                _("Row %(row)s has %(count)s columns; at most %(limit)s can be imported.")
                % {"row": number, "count": len(row), "limit": MAX_COLUMNS}
            )
        cells += len(row)
        if cells > MAX_CELLS:
            raise ValidationError(
                _("The file has more than %(limit)s cells; import it in parts.")
                % {"limit": MAX_CELLS}
            )
        if time.monotonic() > deadline:
            raise ValidationError(
                _("The file could not be checked within %(limit)s seconds; import it in parts.")
                % {"limit": MAX_CHECK_SECONDS}
            )
        for column, value in enumerate(row, start=1):
            if is_formula(value):
                raise ValidationError(
                    _("%(place)s holds a formula (%(value)s). Paste values only (a text may "
                      "not start with =, +, -, @, a tab or a line break), then import again.")
                    % {"place": place(number, column), "value": value[:100]}
                )  # fmt: skip


def check_xlsx(data: bytes) -> None:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ValidationError(
            _("This file is not an XLSX workbook (it looks like text, perhaps CSV). "
              "Choose the CSV format, or save the file as .xlsx.")
        )  # fmt: skip
    # The sizes in the zip's directory are what its reader will unpack at most (it stops
    # there even if they lie), so they bound the work before openpyxl parses anything.
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise ValidationError(_("The workbook cannot be read: %(error)s") % {"error": exc}) from exc
    if unpacked > MAX_UNPACKED_BYTES:
        raise ValidationError(
            _("The workbook unpacks to %(size)s; workbooks up to %(limit)s unpacked can be "
              "imported. Import it in parts.")
            % {"size": filesizeformat(unpacked), "limit": filesizeformat(MAX_UNPACKED_BYTES)}
        )  # fmt: skip
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        # In a read-only workbook, a formula cell's value is its formula text ("=...").
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        check_cells(rows, lambda row, column: _("Cell %s") % f"{get_column_letter(column)}{row}")
    except ValidationError:
        raise
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise ValidationError(_("The workbook cannot be read: %(error)s") % {"error": exc}) from exc


def check_csv(data: bytes) -> None:
    if zipfile.is_zipfile(io.BytesIO(data)):
        raise ValidationError(
            _("This file is a workbook (XLSX), not CSV text. Choose the XLSX format.")
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            _("The file is not UTF-8 text (byte %(position)s). Save it as 'CSV UTF-8' and "
              "import again.") % {"position": exc.start}
        ) from exc  # fmt: skip
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])

    def place(row: int, column: int) -> str:
        name = header[column - 1] if column <= len(header) else column
        return _("Row %(row)s, column %(column)s") % {"row": row, "column": name}

    try:
        check_cells(itertools.chain([header], reader), place)
    except csv.Error as exc:
        raise ValidationError(_("The file is not CSV: %(error)s") % {"error": exc}) from exc


class ListWidget(widgets.Widget):
    """A list of strings in one cell, e.g. aliases separated by "; "."""

    def __init__(self, separator: str = "; ", **kwargs):
        self.separator = separator
        super().__init__(**kwargs)

    def clean(self, value, row=None, **kwargs):
        if value is None:
            return []
        return [item.strip() for item in str(value).split(self.separator.strip()) if item.strip()]

    def render(self, value, obj=None, **kwargs):
        return self.separator.join(value or [])


class CodeWidget(widgets.ForeignKeyWidget):
    """A related record named by its code; an unknown code is a clear row error."""

    def __init__(self, model, field="code", **kwargs):
        super().__init__(model, field=field, **kwargs)

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row=row, **kwargs)
        except self.model.DoesNotExist:
            raise ValueError(
                _("unknown %(model)s %(value)s")
                % {"model": self.model._meta.verbose_name, "value": repr(value)}
            ) from None


class CodesWidget(widgets.ManyToManyWidget):
    """Several related records named by their codes ("gold; silver"); unknown codes refused."""

    def __init__(self, model, field="code", **kwargs):
        super().__init__(model, field=field, separator=";", **kwargs)

    def clean(self, value, row=None, **kwargs):
        wanted = ListWidget().clean(value)
        found = super().clean("; ".join(wanted), row=row, **kwargs) if wanted else []
        unknown = set(wanted) - {getattr(record, self.field) for record in found}
        if unknown:
            raise ValueError(
                _("unknown %(model)s %(values)s")
                % {"model": self.model._meta.verbose_name, "values": ", ".join(sorted(unknown))}
            )
        return found

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return "; ".join(str(getattr(record, self.field)) for record in value.all())


class RegistryResource(resources.ModelResource):
    """Every row is validated by the model and written in a savepoint of its own."""

    class Meta:
        abstract = True
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        use_transactions = True

    def export_field(self, field, instance, **kwargs):
        return escape_formula(super().export_field(field, instance, **kwargs))

    def get_instance(self, instance_loader, row):
        try:
            return super().get_instance(instance_loader, row)
        except ValueError as exc:  # a bad value in a column that identifies the record
            raise ValidationError(str(exc)) from exc

    def import_instance(self, instance, row, **kwargs):
        # Many-to-many cells are read only after the record is saved; check them first
        # so an unknown code is a refusal of that column, like any other bad value.
        errors = {}
        for field in self.get_import_fields():
            if isinstance(field.widget, widgets.ManyToManyWidget) and field.column_name in row:
                try:
                    field.clean(row)
                except ValueError as exc:
                    errors[field.column_name] = [str(exc)]
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def before_import_row(self, row, **kwargs):
        # Empty XLSX cells arrive as None; text columns want "", the other widgets
        # read "" as empty too.
        for column, value in row.items():
            if value is None:
                row[column] = ""

    def import_data_inner(
        self, dataset, dry_run, raise_errors, using_transactions, collect_failed_rows, **kwargs
    ):
        """The import; a preview (a dry run in a transaction) may be handed to a
        `rehearsal`, `rehearsal(dataset, run)` -> the result of `run()`, which runs it
        with the rows still written, to read what they would change before all is undone
        (the admin's share-move warning: deposits/admin_share_moves.py)."""
        rehearsal = kwargs.pop("rehearsal", None)

        def run():
            return super(RegistryResource, self).import_data_inner(
                dataset, dry_run, raise_errors, using_transactions, collect_failed_rows, **kwargs
            )

        if rehearsal is None or not (dry_run and using_transactions):
            return run()
        return rehearsal(dataset, run)

    def import_row(self, row, instance_loader, **kwargs):
        # A savepoint per row: a refused row, even one refused by the database,
        # leaves nothing behind and does not spoil the rows after it.
        with transaction.atomic():
            result = super().import_row(row, instance_loader, **kwargs)
            if result.import_type in (RowResult.IMPORT_TYPE_INVALID, RowResult.IMPORT_TYPE_ERROR):
                transaction.set_rollback(True)
        return result


class IdentifiedResource(RegistryResource):
    """Rows name records by their public identifier (`id`); without one, by a natural key.

    The natural key is `import_id_fields` (e.g. an organisation's name and country);
    a subclass may match otherwise by overriding `find_without_id`.
    """

    id = fields.Field(attribute="public_id", column_name="id", readonly=True)

    class Meta(RegistryResource.Meta):
        abstract = True

    def get_instance(self, instance_loader, row):
        public_id = (row.get("id") or "").strip()
        if not public_id:
            return self.find_without_id(instance_loader, row)
        record = self._meta.model.objects.filter(public_id=public_id).first()
        if record is None:
            raise ValidationError(
                {"id": f"unknown identifier {public_id!r}; leave it empty to add a record"}
            )
        return record

    def find_without_id(self, instance_loader, row):
        return super().get_instance(instance_loader, row)


class RegistryImportForm(ImportForm):
    import_valid_rows_only = forms.BooleanField(
        label=_("Import only the valid rows"),
        required=False,
        help_text=_(
            "Without this, a file with any refused row imports nothing. With it, the "
            "refused rows are left out and the others are imported."
        ),
    )

    def __init__(self, formats, resources, **kwargs):
        super().__init__(formats, resources, **kwargs)
        self.formats = formats

    def clean(self):
        data = super().clean()
        upload = data.get("import_file")
        format_index = data.get("format")
        if upload is None or format_index in (None, ""):
            return data
        if upload.size > MAX_UPLOAD_BYTES:
            self.add_error(
                "import_file",
                _("The file is %(size)s; files up to %(limit)s can be imported.")
                % {"size": filesizeformat(upload.size), "limit": filesizeformat(MAX_UPLOAD_BYTES)},
            )
            return data
        format_class = self.formats[int(format_index)]
        content = upload.read()
        upload.seek(0)
        try:
            check_upload(content, "xlsx" if format_class is XLSX else "csv")
        except ValidationError as error:
            self.add_error("import_file", error)
        return data


class RegistryConfirmImportForm(ConfirmImportForm):
    import_valid_rows_only = forms.BooleanField(required=False, widget=forms.HiddenInput)


class RegistryImportExportMixin(ImportExportMixin, ExportActionMixin):
    """Admin import/export in CSV and XLSX with the registry's checks and choices; the
    list's "Export selected" action exports a selection as the Export button exports
    the list."""

    # The action only: each model keeps its own change form (admin/<app>/<model>/).
    change_form_template = None
    show_change_form_export = False

    formats = [CSV, XLSX]
    import_form_class = RegistryImportForm
    confirm_form_class = RegistryConfirmImportForm

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["import_valid_rows_only"] = import_form.cleaned_data.get(
                "import_valid_rows_only", False
            )
        return initial

    def get_import_data_kwargs(self, **kwargs):
        data_kwargs = super().get_import_data_kwargs(**kwargs)
        form = kwargs.get("form")
        valid_only = bool(form and form.cleaned_data.get("import_valid_rows_only"))
        data_kwargs["rollback_on_validation_errors"] = not valid_only
        return data_kwargs

    def import_action(self, request, **kwargs):
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None) or {}
        result, form = context.get("result"), context.get("form")
        if (
            result is not None
            and form is not None
            and form.is_valid()
            and form.cleaned_data.get("import_valid_rows_only")
            and not result.has_errors()
            and result.has_validation_errors()
            and "confirm_form" not in context
        ):
            context["confirm_form"] = self.create_confirm_form(request, import_form=form)
        return response

    def process_dataset(self, dataset, form, request, **kwargs):
        result = super().process_dataset(dataset, form, request, **kwargs)
        valid_only = bool(form.cleaned_data.get("import_valid_rows_only"))
        # import_data rolls the whole file back on these conditions
        result.rolled_back = result.has_errors() or (
            not valid_only and result.has_validation_errors()
        )
        return result

    def process_result(self, result, request):
        if getattr(result, "rolled_back", False):
            refused = len(result.invalid_rows) or len(result.row_errors())
            self.message_user(
                request,
                _("Nothing was imported: %(count)s row(s) were refused. Preview the file "
                  "again to see why.") % {"count": refused},
                level=messages.ERROR,
            )  # fmt: skip
            app_label, model_name = self.get_model_info()
            return HttpResponseRedirect(reverse(f"admin:{app_label}_{model_name}_changelist"))
        return super().process_result(result, request)
