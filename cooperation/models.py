"""Partner agencies, events, topics, memoranda and initiatives.

The ministry's international work in geology: who it meets (organisations and
their people), what is discussed (events and their topics), what is agreed and
signed (memoranda with a dated lifecycle) and what follows (initiatives).
Topics and memoranda point at minerals and deposits, which is how a deposit
finds the cooperation that concerns it (see `cooperation.services`).
"""

import datetime
from collections.abc import Sequence

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import FileExtensionValidator, RegexValidator
from django.db import models
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from deposits.models import (
    LATITUDE_RANGE,
    LONGITUDE_RANGE,
    Deposit,
    Mineral,
    Region,
    TranslatedNameMixin,
)
from kernel.models import PublicRecord, Visibility
from kernel.visibility import VisibleQuerySet

SIGNED_DOCUMENT_EXTENSIONS = ["pdf", "docx", "odt", "jpg", "jpeg", "png"]
SIGNED_DOCUMENT_MAX_BYTES = 20 * 1024 * 1024

# The first bytes of each accepted format: a file renamed to .pdf is refused.
# DOCX and ODT are ZIP containers.
_FILE_SIGNATURES = {
    "pdf": (b"%PDF-",),
    "docx": (b"PK\x03\x04",),
    "odt": (b"PK\x03\x04",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
}


def validate_signed_document(upload) -> None:
    """At most 20 MB, and the content must match the extension."""
    if upload.size > SIGNED_DOCUMENT_MAX_BYTES:
        raise ValidationError(
            _("The file is %(size)s MB; the limit is 20 MB."),
            params={"size": f"{upload.size / 1024 / 1024:.1f}"},
            code="file_too_large",
        )
    extension = upload.name.rsplit(".", 1)[-1].lower()
    signatures = _FILE_SIGNATURES.get(extension)
    if signatures is None:
        return  # FileExtensionValidator reports the extension
    position = upload.tell() if hasattr(upload, "tell") else 0
    upload.seek(0)
    head = upload.read(8)
    upload.seek(position)
    if not head.startswith(signatures):
        raise ValidationError(
            _("The file's content is not a %(format)s document."),
            params={"format": extension.upper()},
            code="file_content_mismatch",
        )


country_code_validator = RegexValidator(
    r"^[A-Z]{2}$", _("Give the two-letter ISO 3166-1 code in capitals, e.g. TJ or KR.")
)


def country_field(verbose_name, **kwargs):
    return models.CharField(
        verbose_name,
        max_length=2,
        validators=[country_code_validator],
        help_text=_("ISO 3166-1 alpha-2 code, e.g. TJ, KR, FI, RU."),
        **kwargs,
    )


def sources_field():
    return models.JSONField(
        _("sources"), default=list, blank=True, help_text=_("One source per line.")
    )


def visibility_field():
    return models.CharField(
        _("visibility"),
        max_length=10,
        choices=Visibility.choices,
        default=Visibility.PUBLIC,
        db_index=True,
    )


class DatePrecision(models.TextChoices):
    """How much of a date the source states; a month or year is stored as its first day."""

    DAY = "day", _("day")
    MONTH = "month", _("month")
    YEAR = "year", _("year")


def format_date(value: datetime.date | None, precision: str = DatePrecision.DAY) -> str:
    if value is None:
        return ""
    if precision == DatePrecision.YEAR:
        return str(value.year)
    if precision == DatePrecision.MONTH:
        return date_format(value, "F Y")
    return date_format(value, "j F Y")


class Organisation(TranslatedNameMixin, PublicRecord):
    """A partner agency or domestic body: ministry, survey, institute, embassy, ..."""

    ID_PREFIX = "ORG"
    plain_text_fields = (*TranslatedNameMixin.plain_text_fields, "name_native", "acronym")

    class Kind(models.TextChoices):
        MINISTRY = "ministry", _("ministry")
        GEOLOGICAL_SURVEY = "geological-survey", _("geological survey")
        RESEARCH_INSTITUTE = "research-institute", _("research institute")
        STATE_COMMISSION = "state-commission", _("state commission")
        STATE_AGENCY = "state-agency", _("state agency")
        EMBASSY = "embassy", _("embassy")
        COMPANY = "company", _("company")
        INTERNATIONAL = "international", _("international organisation")

    name = models.CharField(_("name"), max_length=200)
    name_ru = models.CharField(_("name (Russian)"), max_length=200, blank=True)
    name_tg = models.CharField(_("name (Tajik)"), max_length=200, blank=True)
    name_native = models.CharField(
        _("name in its own language"),
        max_length=200,
        blank=True,
        help_text=_("Only where different from English, Russian and Tajik, e.g. Korean."),
    )
    acronym = models.CharField(_("acronym"), max_length=30, blank=True, db_index=True)
    country = country_field(_("country"), db_index=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        related_name="children",
        null=True,
        blank=True,
        verbose_name=_("parent organisation"),
    )
    website = models.URLField(_("website"), blank=True)
    description = models.TextField(_("description"), blank=True)
    description_ru = models.TextField(_("description (Russian)"), blank=True)
    description_tg = models.TextField(_("description (Tajik)"), blank=True)
    sources = sources_field()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.UniqueConstraint(fields=["name", "country"], name="one_organisation_per_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.acronym})" if self.acronym else self.name

    def clean(self) -> None:
        ancestor, seen = self.parent, set()
        while ancestor is not None and ancestor.pk not in seen:
            if self.pk is not None and ancestor.pk == self.pk:
                raise ValidationError(
                    {"parent": _("An organisation cannot be its own parent or ancestor.")}
                )
            seen.add(ancestor.pk)
            ancestor = ancestor.parent


class Person(TranslatedNameMixin, PublicRecord):
    """A head of delegation, signatory or speaker, with the post held."""

    ID_PREFIX = "PER"

    name = models.CharField(_("name"), max_length=160)
    name_ru = models.CharField(_("name (Russian)"), max_length=160, blank=True)
    name_tg = models.CharField(_("name (Tajik)"), max_length=160, blank=True)
    title = models.CharField(
        pgettext_lazy("post held", "title"),
        max_length=200,
        blank=True,
        help_text=_("Post held, e.g. Head, Ambassador."),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="people",
        null=True,
        blank=True,
        verbose_name=_("organisation"),
    )
    sources = sources_field()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self) -> str:
        return f"{self.name}, {self.title}" if self.title else self.name


class Topic(TranslatedNameMixin, PublicRecord):
    """An area of cooperation, possibly about particular minerals or deposits."""

    ID_PREFIX = "TOP"

    name = models.CharField(_("name"), max_length=200, unique=True)
    name_ru = models.CharField(_("name (Russian)"), max_length=200, blank=True)
    name_tg = models.CharField(_("name (Tajik)"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    description_ru = models.TextField(_("description (Russian)"), blank=True)
    description_tg = models.TextField(_("description (Tajik)"), blank=True)
    minerals = models.ManyToManyField(
        Mineral, related_name="cooperation_topics", blank=True, verbose_name=_("minerals")
    )
    deposits = models.ManyToManyField(
        Deposit, related_name="cooperation_topics", blank=True, verbose_name=_("deposits")
    )
    sources = sources_field()
    history = HistoricalRecords(m2m_fields=[minerals, deposits])

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")

    def __str__(self) -> str:
        return self.name


class Event(PublicRecord):
    """A roundtable, forum, visit or commission meeting, with who took part."""

    ID_PREFIX = "EVT"

    class Kind(models.TextChoices):
        ROUNDTABLE = "roundtable", _("roundtable")
        FORUM = "forum", _("forum")
        CONFERENCE = "conference", _("conference")
        WORKING_VISIT = "working-visit", _("working visit")
        INTERGOVERNMENTAL_COMMISSION = "commission", _("intergovernmental commission")
        MEETING = "meeting", _("meeting")
        TRAINING = "training", _("training")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=300)
    title_ru = models.CharField(_("title (Russian)"), max_length=300, blank=True)
    title_tg = models.CharField(_("title (Tajik)"), max_length=300, blank=True)
    start_date = models.DateField(_("start date"), db_index=True)
    end_date = models.DateField(
        _("end date"), null=True, blank=True, help_text=_("Leave empty for a one-day event.")
    )
    place = models.CharField(_("place"), max_length=200, blank=True)
    host_country = country_field(_("host country"), blank=True, db_index=True)
    description = models.TextField(_("description"), blank=True)
    description_ru = models.TextField(_("description (Russian)"), blank=True)
    description_tg = models.TextField(_("description (Tajik)"), blank=True)
    outcome = models.TextField(_("outcome notes"), blank=True)
    topics = models.ManyToManyField(
        Topic, through="EventTopic", related_name="events", verbose_name=_("topics")
    )
    organisations = models.ManyToManyField(
        Organisation,
        through="EventParticipant",
        related_name="events",
        verbose_name=_("organisations"),
    )
    sources = sources_field()
    visibility = visibility_field()
    history = HistoricalRecords()
    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["-start_date", "title", "id"]
        verbose_name = _("event")
        verbose_name_plural = _("events")
        constraints = [
            models.UniqueConstraint(fields=["title", "start_date"], name="one_event_per_title_day")
        ]

    def __str__(self) -> str:
        return f"{self.title} ({format_date(self.start_date)})"

    def clean(self) -> None:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError(
                {
                    "end_date": _("The event cannot end before it starts (%(start)s).")
                    % {"start": format_date(self.start_date)}
                }
            )


class EventParticipant(models.Model):
    """An organisation at an event, optionally with the person who represented it."""

    class Role(models.TextChoices):
        HOST = "host", _("host")
        HEAD_OF_DELEGATION = "head-of-delegation", _("head of delegation")
        DELEGATION_MEMBER = "delegation-member", _("member of a delegation")
        PARTICIPANT = "participant", _("participant")
        SPEAKER = "speaker", _("speaker")
        OBSERVER = "observer", _("observer")

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="participants", verbose_name=_("event")
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="participations",
        verbose_name=_("organisation"),
    )
    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        related_name="participations",
        null=True,
        blank=True,
        verbose_name=_("person"),
    )
    role = models.CharField(
        _("role"), max_length=20, choices=Role.choices, default=Role.PARTICIPANT
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        verbose_name = _("participant")
        verbose_name_plural = _("participants")

    def __str__(self) -> str:
        who = f"{self.person.name} ({self.organisation})" if self.person else str(self.organisation)
        return f"{who}: {self.get_role_display()}"


class EventTopic(models.Model):
    """A topic at an event: discussed there, or named as an area for cooperation."""

    class Role(models.TextChoices):
        DISCUSSED = "discussed", _("discussed")
        COOPERATION_AREA = "cooperation-area", _("area of cooperation identified")
        IN_FOCUS = "in-focus", _("minerals or deposits in focus")

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="topic_links", verbose_name=_("event")
    )
    topic = models.ForeignKey(
        Topic, on_delete=models.PROTECT, related_name="event_links", verbose_name=_("topic")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.DISCUSSED)
    history = HistoricalRecords()

    class Meta:
        ordering = ["role", "topic__name"]
        verbose_name = _("event topic")
        verbose_name_plural = _("event topics")
        constraints = [
            models.UniqueConstraint(fields=["event", "topic"], name="one_row_per_event_topic")
        ]

    def __str__(self) -> str:
        return f"{self.topic} ({self.get_role_display()})"


class MemorandumStatus(models.TextChoices):
    PROPOSED = "proposed", _("proposed")
    UNDER_NEGOTIATION = "under-negotiation", _("under negotiation")
    SIGNED = "signed", _("signed")
    IN_FORCE = "in-force", _("in force")
    EXPIRED = "expired", _("expired")
    TERMINATED = "terminated", _("terminated")
    # Not stages: an interruption of a signed memorandum, and its end. In context: a
    # deposit's "suspended" is its mining's.
    SUSPENDED = "suspended", pgettext_lazy("memorandum", "suspended")
    RESUMED = "resumed", pgettext_lazy("memorandum", "resumed")


# The lifecycle's order. Expired and terminated are both ends of it. Suspension and
# resumption are no stage of it: they interrupt a signed memorandum, which keeps its stage.
STATUS_RANK = {
    MemorandumStatus.PROPOSED: 0,
    MemorandumStatus.UNDER_NEGOTIATION: 1,
    MemorandumStatus.SIGNED: 2,
    MemorandumStatus.IN_FORCE: 3,
    MemorandumStatus.EXPIRED: 4,
    MemorandumStatus.TERMINATED: 4,
}
# Statuses that say the document was signed: each needs the signing facts.
SIGNED_STATUSES = {
    MemorandumStatus.SIGNED,
    MemorandumStatus.IN_FORCE,
    MemorandumStatus.EXPIRED,
    MemorandumStatus.SUSPENDED,
}
SUSPENSION_STATUSES = {MemorandumStatus.SUSPENDED, MemorandumStatus.RESUMED}
ENDS = {MemorandumStatus.EXPIRED, MemorandumStatus.TERMINATED}
# What a memorandum's own status may be: a resumption gives back the stage it interrupted.
MEMORANDUM_STATUSES = [c for c in MemorandumStatus.choices if c[0] != MemorandumStatus.RESUMED]


def status_label(status: str) -> str:
    return str(MemorandumStatus(status).label)


class MemorandumQuerySet(VisibleQuerySet):
    def with_party(self, organisation) -> "MemorandumQuerySet":
        return self.filter(
            pk__in=MemorandumParty.objects.filter(organisation=organisation).values("memorandum_id")
        )


class Memorandum(PublicRecord):
    """A memorandum, agreement, protocol or programme between two or more parties.

    Its status is never edited: it is the status of the last recorded
    `MemorandumTransition` (a resumption gives back the stage its suspension
    interrupted: `status_after`), written by `cooperation.services.record_transition`,
    which checks the rules in `transition_errors` first.
    """

    ID_PREFIX = "MOU"

    class Kind(models.TextChoices):
        MEMORANDUM = "memorandum", _("memorandum of understanding")
        AGREEMENT = "agreement", _("agreement")
        PROTOCOL = "protocol", _("protocol")
        PROGRAMME = "programme", _("programme of cooperation")

    Status = MemorandumStatus

    title = models.CharField(_("title"), max_length=300)
    title_ru = models.CharField(_("title (Russian)"), max_length=300, blank=True)
    title_tg = models.CharField(_("title (Tajik)"), max_length=300, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=MEMORANDUM_STATUSES,
        blank=True,
        editable=False,
        db_index=True,
        help_text=_("The last recorded transition; empty until one is recorded."),
    )
    signed_on = models.DateField(_("signing date"), null=True, blank=True, db_index=True)
    signed_on_precision = models.CharField(
        _("signing date precision"),
        max_length=5,
        choices=DatePrecision.choices,
        default=DatePrecision.DAY,
        help_text=_("A signing known by month only is stored as the 1st of that month."),
    )
    signed_place = models.CharField(_("place of signing"), max_length=200, blank=True)
    term_years = models.PositiveSmallIntegerField(
        _("term (years)"), null=True, blank=True, help_text=_("Validity term as stated.")
    )
    valid_until = models.DateField(
        _("valid until"),
        null=True,
        blank=True,
        help_text=_("Stated expiry date; must be after the entry into force."),
    )
    description = models.TextField(_("description"), blank=True)
    description_ru = models.TextField(_("description (Russian)"), blank=True)
    description_tg = models.TextField(_("description (Tajik)"), blank=True)
    organisations = models.ManyToManyField(
        Organisation,
        through="MemorandumParty",
        related_name="memoranda",
        verbose_name=_("organisations"),
    )
    topics = models.ManyToManyField(
        Topic, related_name="memoranda", blank=True, verbose_name=_("topics covered")
    )
    minerals = models.ManyToManyField(
        Mineral, related_name="cooperation_memoranda", blank=True, verbose_name=_("minerals")
    )
    deposits = models.ManyToManyField(
        Deposit, related_name="cooperation_memoranda", blank=True, verbose_name=_("deposits")
    )
    events = models.ManyToManyField(
        Event,
        related_name="memoranda",
        blank=True,
        verbose_name=_("events"),
        help_text=_("Events where it was proposed, negotiated or signed."),
    )
    document = models.FileField(
        _("signed document"),
        upload_to="memoranda/",
        blank=True,
        validators=[
            FileExtensionValidator(SIGNED_DOCUMENT_EXTENSIONS),
            validate_signed_document,
        ],
        help_text=_("PDF, DOCX, ODT, JPEG or PNG, at most 20 MB."),
    )
    sources = sources_field()
    visibility = visibility_field()
    history = HistoricalRecords(m2m_fields=[topics, minerals, deposits, events])
    objects = MemorandumQuerySet.as_manager()

    class Meta:
        ordering = ["-signed_on", "title", "id"]
        verbose_name = _("memorandum")
        verbose_name_plural = _("memoranda")

    def __str__(self) -> str:
        return self.title

    @property
    def signed_on_display(self) -> str:
        return format_date(self.signed_on, self.signed_on_precision)

    # --- The lifecycle rules: one implementation for the admin, the API and imports.

    def recorded_transitions(self) -> list["MemorandumTransition"]:
        if self.pk is None:
            return []
        return list(self.transitions.order_by("id"))

    # The parties as being edited right now: the admin's parties formset sets this
    # after validating, so that the signature and commitments entered in the same
    # save are checked against the submitted parties, not the saved ones.
    parties_in_edit: Sequence["MemorandumParty"] | None = None

    def current_parties(self) -> Sequence["MemorandumParty"]:
        if self.parties_in_edit is not None:
            return self.parties_in_edit
        if self.pk is None:
            return []
        return list(self.parties.select_related("organisation", "signatory"))

    def signing_errors(self, parties: Sequence["MemorandumParty"] | None = None) -> dict:
        """What is missing for the document to count as signed (empty when nothing)."""
        parties = self.current_parties() if parties is None else parties
        errors: dict[str, list[str]] = {}
        if self.signed_on is None:
            errors["signed_on"] = [_("A signed memorandum needs its signing date.")]
        if len(parties) < 2:
            errors.setdefault("__all__", []).append(
                _("A memorandum is signed by two or more parties; %(count)s recorded.")
                % {"count": len(parties)}
            )
        unsigned = [str(p.organisation) for p in parties if p.signatory_id is None]
        if unsigned:
            errors.setdefault("__all__", []).append(
                _("Every party needs at least one signatory; missing for %(parties)s.")
                % {"parties": ", ".join(unsigned)}
            )
        return errors

    def transition_errors(
        self,
        status: str,
        on: datetime.date | None,
        *,
        correction: bool = False,
        note: str = "",
        parties: Sequence["MemorandumParty"] | None = None,
        previous: Sequence["MemorandumTransition"] | None = None,
    ) -> dict:
        """Why the transition to `status` on `on` may not be recorded (empty when it may).

        `parties` default to `current_parties()`, `previous` to the recorded
        transitions.
        """
        previous = self.recorded_transitions() if previous is None else previous
        errors: dict[str, list[str]] = {}
        if status not in STATUS_RANK and status not in SUSPENSION_STATUSES:
            return {"status": [_("Unknown status %(status)s.") % {"status": status}]}
        if on is None:
            return {"date": [_("Give the date of the transition.")]}
        if status in SUSPENSION_STATUSES:
            return suspension_errors(previous, status, on, correction=correction, note=note)

        current = stage_of(previous)
        periods = suspensions(previous)
        if periods and periods[-1][1] is None and status not in ENDS and not correction:
            errors["status"] = [
                _(
                    "The memorandum is suspended; record its resumption first (it may be "
                    "terminated or expire while suspended)."
                )
            ]
        if current and STATUS_RANK[status] <= STATUS_RANK[current]:
            if not correction:
                errors["status"] = [
                    _(
                        "The memorandum is already %(current)s; it cannot move to %(status)s. "
                        "If the earlier entry was a mistake, record a correction with a note."
                    )
                    % {"current": status_label(current), "status": status_label(status)}
                ]
            elif not note.strip():
                errors["note"] = [_("Say in the note what the correction corrects.")]

        effective = effective_dates(previous)
        for earlier, earlier_date in effective.items():
            if STATUS_RANK[earlier] >= STATUS_RANK[status]:
                continue
            strictly = status == MemorandumStatus.EXPIRED and earlier == MemorandumStatus.IN_FORCE
            if on < earlier_date or (strictly and on == earlier_date):
                errors.setdefault("date", []).append(
                    _("%(status)s on %(date)s would come before %(earlier)s on %(earlier_date)s.")
                    % {
                        "status": status_label(status).capitalize(),
                        "date": format_date(on),
                        "earlier": status_label(earlier),
                        "earlier_date": format_date(earlier_date),
                    }
                )

        if status in SIGNED_STATUSES:
            for field, messages in self.signing_errors(parties).items():
                errors.setdefault(field, []).extend(messages)
        if status == MemorandumStatus.SIGNED and self.signed_on and on != self.signed_on:
            errors.setdefault("date", []).append(
                _("The signature is dated on the signing date, %(signed_on)s.")
                % {"signed_on": format_date(self.signed_on)}
            )
        if status == MemorandumStatus.IN_FORCE and self.valid_until and on >= self.valid_until:
            errors.setdefault("date", []).append(
                _("Entry into force must be before the expiry date, %(valid_until)s.")
                % {"valid_until": format_date(self.valid_until)}
            )
        if status == MemorandumStatus.EXPIRED and MemorandumStatus.IN_FORCE not in effective:
            errors.setdefault("status", []).append(
                _("Only a memorandum in force can expire; record its entry into force first.")
            )
        return errors

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.status in SIGNED_STATUSES:
            errors.update(self.signing_errors())
            errors.pop("__all__", None)  # parties are checked where they are edited
        entry = effective_dates(self.recorded_transitions()).get(MemorandumStatus.IN_FORCE)
        if self.valid_until and entry and self.valid_until <= entry:
            errors["valid_until"] = [
                _("The expiry date must be after the entry into force, %(entry)s.")
                % {"entry": format_date(entry)}
            ]
        if errors:
            raise ValidationError(errors)

    @property
    def entered_into_force_on(self) -> datetime.date | None:
        return effective_dates(self.recorded_transitions()).get(MemorandumStatus.IN_FORCE)


def effective_dates(transitions) -> dict[str, datetime.date]:
    """The date of each lifecycle stage that still stands after corrections.

    Transitions are read in the order they were recorded. A correction back to
    an earlier stage withdraws the later stages recorded before it; a stage
    recorded twice keeps its latest date.
    """
    dates: dict[str, datetime.date] = {}
    for transition in transitions:
        if transition.status in SUSPENSION_STATUSES:
            continue  # no stage: see `suspensions`
        if transition.correction:
            rank = STATUS_RANK[transition.status]
            dates = {s: d for s, d in dates.items() if STATUS_RANK[s] < rank}
        dates[transition.status] = transition.date
    return dates


def stage_of(transitions) -> str:
    """The lifecycle stage last recorded (suspensions and resumptions aside), or ""."""
    return next((t.status for t in reversed(transitions) if t.status in STATUS_RANK), "")


def suspensions(transitions) -> list[tuple[datetime.date, datetime.date | None]]:
    """The memorandum's suspensions that still stand, oldest first: (first day suspended,
    day of resumption or None while it lasts).

    Transitions are read in the order they were recorded. A correction of a suspension
    restates the date of the latest one, a correction of a resumption the date of its
    end: a resumption corrected to the suspension's own day withdraws a suspension
    recorded by mistake. A correction back before the signing withdraws them all."""
    periods: list[tuple[datetime.date, datetime.date | None]] = []
    for transition in transitions:
        if transition.status == MemorandumStatus.SUSPENDED:
            if transition.correction and periods:
                periods[-1] = (transition.date, periods[-1][1])
            else:
                periods.append((transition.date, None))
        elif transition.status == MemorandumStatus.RESUMED:
            if periods:
                periods[-1] = (periods[-1][0], transition.date)
        elif transition.correction and STATUS_RANK[transition.status] < STATUS_RANK["signed"]:
            periods = []
    return [(start, end) for start, end in periods if end is None or end > start]


def status_after(transitions) -> str:
    """The memorandum's status once `transitions` are recorded: the last stage, or
    `suspended` while a suspension of a signed memorandum not yet ended lasts."""
    stage = stage_of(transitions)
    periods = suspensions(transitions)
    signed = stage in STATUS_RANK and STATUS_RANK[stage] >= STATUS_RANK[MemorandumStatus.SIGNED]
    if signed and stage not in ENDS and periods and periods[-1][1] is None:
        return MemorandumStatus.SUSPENDED
    return stage


def suspension_errors(
    previous, status: str, on: datetime.date, *, correction: bool, note: str
) -> dict:
    """Why a suspension or resumption on `on` may not follow `previous` (empty when it
    may): only a signed memorandum not yet ended is suspended, one suspension at a time,
    dated from its signing (or entry into force) on; a resumption ends the suspension
    that lasts, after it began. A correction restates the date of the latest one."""
    errors: dict[str, list[str]] = {}
    if correction and not note.strip():
        errors["note"] = [_("Say in the note what the correction corrects.")]
    effective = effective_dates(previous)
    periods = suspensions(previous)
    lasting = bool(periods) and periods[-1][1] is None
    signing = (MemorandumStatus.SIGNED, MemorandumStatus.IN_FORCE)
    starts = [effective[s] for s in signing if s in effective]
    if status == MemorandumStatus.SUSPENDED:
        if not starts or any(s in effective for s in ENDS):
            errors["status"] = [_("Only a signed memorandum that has not ended can be suspended.")]
            return errors
        if correction:
            if not periods:
                errors["status"] = [_("There is no suspension to correct.")]
                return errors
            earlier = periods[:-1]
            end = periods[-1][1]
        else:
            if lasting:
                errors["status"] = [_("The memorandum is already suspended.")]
                return errors
            earlier, end = periods, None
        floor = max([min(starts), *(e for _s, e in earlier if e is not None)])
        if on < floor:
            errors["date"] = [
                _("The suspension cannot begin before %(date)s.") % {"date": format_date(floor)}
            ]
        elif end is not None and on >= end:
            errors["date"] = [
                _("The suspension must begin before its resumption, %(date)s.")
                % {"date": format_date(end)}
            ]
        return errors
    # A resumption.
    if not periods or (not correction and not lasting):
        errors["status"] = [_("Only a suspended memorandum can be resumed.")]
        return errors
    start = periods[-1][0]
    if on < start or (on == start and not correction):
        errors["date"] = [
            _("The resumption must come after the suspension, %(date)s.")
            % {"date": format_date(start)}
        ]
    return errors


class MemorandumParty(models.Model):
    """A party to a memorandum and the person who signed for it."""

    memorandum = models.ForeignKey(
        Memorandum, on_delete=models.CASCADE, related_name="parties", verbose_name=_("memorandum")
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="memorandum_parties",
        verbose_name=_("organisation"),
    )
    signatory = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        related_name="signatures",
        null=True,
        blank=True,
        verbose_name=_("signatory"),
        help_text=_("Required once the memorandum is signed."),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        constraints = [
            models.UniqueConstraint(
                fields=["memorandum", "organisation"], name="one_row_per_memorandum_party"
            )
        ]

    def __str__(self) -> str:
        return str(self.organisation)


class Commitment(models.Model):
    """What one party undertakes under a memorandum."""

    memorandum = models.ForeignKey(
        Memorandum,
        on_delete=models.CASCADE,
        related_name="commitments",
        verbose_name=_("memorandum"),
    )
    party = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="commitments",
        verbose_name=_("party"),
    )
    text = models.TextField(_("commitment"))
    source = models.TextField(_("source"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")

    def __str__(self) -> str:
        return f"{self.party}: {self.text[:60]}"

    def clean(self) -> None:
        if self.party_id is None or not hasattr(self, "memorandum"):
            return
        if self.party_id not in {p.organisation_id for p in self.memorandum.current_parties()}:
            raise ValidationError(
                {
                    "party": _("%(organisation)s is not a party to this memorandum.")
                    % {"organisation": self.party}
                }
            )


class MemorandumTransition(models.Model):
    """A dated step of a memorandum's lifecycle. Never edited: a correction is a new row."""

    memorandum = models.ForeignKey(
        Memorandum,
        on_delete=models.CASCADE,
        related_name="transitions",
        verbose_name=_("memorandum"),
    )
    status = models.CharField(_("status"), max_length=20, choices=MemorandumStatus.choices)
    date = models.DateField(_("date"))
    date_precision = models.CharField(
        _("date precision"), max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    correction = models.BooleanField(
        _("correction"),
        default=False,
        help_text=_("Corrects an earlier entry; may move the status back. Explain in the note."),
    )
    note = models.TextField(_("note"), blank=True)
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        verbose_name = _("status transition")
        verbose_name_plural = _("status transitions")

    def __str__(self) -> str:
        return f"{self.get_status_display()} {format_date(self.date, self.date_precision)}"

    def clean(self) -> None:
        """A new transition must pass the lifecycle rules; recorded ones are never edited."""
        if self.pk is not None or not hasattr(self, "memorandum") or not self.status:
            return
        errors = self.memorandum.transition_errors(
            self.status, self.date, correction=self.correction, note=self.note
        )
        # A missing signing date or signatory is the memorandum's, not this row's.
        own = {"status", "date", "note"}
        merged: dict[str, list] = {}
        for field, messages in errors.items():
            merged.setdefault(field if field in own else NON_FIELD_ERRORS, []).extend(messages)
        if merged:
            raise ValidationError(merged)


class InitiativeQuerySet(VisibleQuerySet):
    def involving(self, organisation) -> "InitiativeQuerySet":
        return self.filter(
            pk__in=Initiative.objects.filter(
                models.Q(lead_organisation=organisation) | models.Q(partners=organisation)
            ).values("pk")
        )


class Initiative(PublicRecord):
    """A planned or running action that follows from events or memoranda."""

    ID_PREFIX = "INI"

    class Kind(models.TextChoices):
        PROGRAMME = "programme", _("programme")
        PROJECT = "project", _("project")
        LABORATORY = "laboratory", _("laboratory")
        INFRASTRUCTURE = "infrastructure", _("research infrastructure")
        TRAINING = "training", _("training")

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("proposed")
        PLANNED = "planned", _("planned")
        RUNNING = "running", _("running")
        COMPLETED = "completed", _("completed")
        CANCELLED = "cancelled", _("cancelled")

    title = models.CharField(_("title"), max_length=300, unique=True)
    title_ru = models.CharField(_("title (Russian)"), max_length=300, blank=True)
    title_tg = models.CharField(_("title (Tajik)"), max_length=300, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    description = models.TextField(_("description"), blank=True)
    description_ru = models.TextField(_("description (Russian)"), blank=True)
    description_tg = models.TextField(_("description (Tajik)"), blank=True)
    lead_organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="led_initiatives",
        null=True,
        blank=True,
        verbose_name=_("lead organisation"),
    )
    partners = models.ManyToManyField(
        Organisation, related_name="partner_initiatives", blank=True, verbose_name=_("partners")
    )
    start_date = models.DateField(_("start"), null=True, blank=True)
    end_date = models.DateField(_("end"), null=True, blank=True)
    date_precision = models.CharField(
        _("date precision"),
        max_length=5,
        choices=DatePrecision.choices,
        default=DatePrecision.DAY,
        help_text=_("A year only is stored as 1 January of it."),
    )
    memorandum = models.ForeignKey(
        Memorandum,
        on_delete=models.PROTECT,
        related_name="initiatives",
        null=True,
        blank=True,
        verbose_name=_("memorandum"),
    )
    events = models.ManyToManyField(
        Event, related_name="initiatives", blank=True, verbose_name=_("events")
    )
    topics = models.ManyToManyField(
        Topic, related_name="initiatives", blank=True, verbose_name=_("topics")
    )
    sources = sources_field()
    visibility = visibility_field()
    history = HistoricalRecords(m2m_fields=[partners, events, topics])
    objects = InitiativeQuerySet.as_manager()

    class Meta:
        ordering = ["title", "id"]
        verbose_name = _("initiative")
        verbose_name_plural = _("initiatives")

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": _("The end cannot be before the start.")})


# --- Data-sharing clauses: what a memorandum opens to one of its parties.


def area_geometry(value):
    """The shapely geometry of a grant's `area` (GeoJSON Polygon or MultiPolygon), or a
    ValidationError message saying why it is not one."""
    from shapely.errors import GEOSException
    from shapely.geometry import shape

    if not isinstance(value, dict) or value.get("type") not in ("Polygon", "MultiPolygon"):
        return None, _(
            "Give a GeoJSON Polygon or MultiPolygon in longitude and latitude (WGS84), or a "
            "box as [west, south, east, north]."
        )
    try:
        geometry = shape(value)
    except (GEOSException, ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None, _("The area is not a valid polygon.")
    if geometry.is_empty or not geometry.is_valid or geometry.area == 0:
        return None, _("The area is not a valid polygon (its outline must not cross itself).")
    return geometry, None


def box_polygon(box) -> dict:
    """A box [west, south, east, north] as the GeoJSON Polygon a grant keeps."""
    west, south, east, north = (float(v) for v in box)
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


class DataGrant(models.Model):
    """A data-sharing clause of a memorandum: what it opens to one of its parties.

    The scope is the named deposits, and the deposits matching every criterion given
    among minerals, regions and an area (any mineral of those named, in any region named,
    inside the area): OR within a criterion, AND across them, as the list filters read.
    What it opens is the deposit record, or also its reserve estimates and balance
    movements. It is in force while its memorandum is, by date (its `periods`, from
    `opens_on` to `closes_on` less the memorandum's suspensions, derived from the
    memorandum's lifecycle by `cooperation.grants`); which
    deposits it covers is kept in `GrantedDeposit`. The visibility rule reads both
    (kernel.visibility, registered by cooperation.grants)."""

    memorandum = models.ForeignKey(
        Memorandum, on_delete=models.CASCADE, related_name="grants", verbose_name=_("memorandum")
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="data_grants",
        verbose_name=_("receiving organisation"),
        help_text=_("A party to the memorandum; its partner keys see what the clause opens."),
    )
    deposits = models.ManyToManyField(
        Deposit, related_name="data_grants", blank=True, verbose_name=_("named deposits")
    )
    minerals = models.ManyToManyField(
        Mineral, related_name="data_grants", blank=True, verbose_name=_("minerals")
    )
    regions = models.ManyToManyField(
        Region, related_name="data_grants", blank=True, verbose_name=_("regions")
    )
    area = models.JSONField(
        _("area"),
        null=True,
        blank=True,
        help_text=_(
            "A GeoJSON Polygon or MultiPolygon inside Tajikistan (longitude, latitude), or a "
            "box written [west, south, east, north]."
        ),
    )
    shares_reserves = models.BooleanField(
        _("shares reserve figures"),
        default=False,
        help_text=_("Also open the deposits' reserve estimates and balance movements."),
    )
    note = models.TextField(_("note"), blank=True, help_text=_("The clause as worded, or where."))
    opens_on = models.DateField(_("in force from"), null=True, editable=False)
    closes_on = models.DateField(
        _("in force until (exclusive)"),
        null=True,
        editable=False,
        help_text=_("The first day the clause is no longer in force."),
    )
    history = HistoricalRecords(m2m_fields=[deposits, minerals, regions])

    # The named deposits, minerals and regions as being edited (the admin's form and the
    # API's serializer set them before `full_clean`), so an empty scope is refused before
    # anything is saved; None: read the saved ones.
    scope_in_edit: dict | None = None

    class Meta:
        ordering = ["memorandum", "organisation", "id"]
        verbose_name = _("data-sharing clause")
        verbose_name_plural = _("data-sharing clauses")

    def __str__(self) -> str:
        return _("Data for %(organisation)s under %(memorandum)s") % {
            "organisation": self.organisation,
            "memorandum": self.memorandum,
        }

    def scope(self) -> dict:
        """{"deposits", "minerals", "regions"}: the primary keys named, as edited or saved."""
        if self.scope_in_edit is not None:
            return self.scope_in_edit
        if self.pk is None:
            return {"deposits": [], "minerals": [], "regions": []}
        return {
            "deposits": [d.pk for d in self.deposits.all()],
            "minerals": [m.pk for m in self.minerals.all()],
            "regions": [r.pk for r in self.regions.all()],
        }

    def area_shape(self):
        """The area as a shapely geometry (None without one)."""
        return None if self.area is None else area_geometry(self.area)[0]

    def clean(self) -> None:
        errors: dict[str, list] = {}
        if isinstance(self.area, list | tuple):
            self.area = self._box(errors)
        if self.area is not None and "area" not in errors:
            geometry, problem = area_geometry(self.area)
            if problem:
                errors["area"] = [problem]
            else:
                west, south, east, north = geometry.bounds
                inside_box = float(LONGITUDE_RANGE[0]) <= west <= east <= float(
                    LONGITUDE_RANGE[1]
                ) and float(LATITUDE_RANGE[0]) <= south <= north <= float(LATITUDE_RANGE[1])
                from deposits.geo import overlaps_tajikistan

                if not inside_box or not overlaps_tajikistan(geometry):
                    errors["area"] = [
                        _(
                            "The area must lie inside Tajikistan (longitude %(west)s to "
                            "%(east)s, latitude %(south)s to %(north)s) and cover part of it."
                        )
                        % {
                            "west": LONGITUDE_RANGE[0],
                            "east": LONGITUDE_RANGE[1],
                            "south": LATITUDE_RANGE[0],
                            "north": LATITUDE_RANGE[1],
                        }
                    ]
        if self.organisation_id is not None and hasattr(self, "memorandum"):
            parties = {p.organisation_id for p in self.memorandum.current_parties()}
            if self.organisation_id not in parties:
                errors["organisation"] = [
                    _("%(organisation)s is not a party to this memorandum.")
                    % {"organisation": self.organisation}
                ]
        scope = self.scope()
        if not any(scope.values()) and self.area is None and "area" not in errors:
            errors[NON_FIELD_ERRORS] = [
                _("Say what the clause opens: name deposits, or give minerals, regions or an area.")
            ]
        if errors:
            raise ValidationError(errors)

    def _box(self, errors) -> dict | None:
        try:
            west, south, east, north = (float(v) for v in self.area)
        except (TypeError, ValueError):
            errors["area"] = [_("A box is four numbers: [west, south, east, north].")]
            return self.area
        if not (west < east and south < north):
            errors["area"] = [
                _("A box is [west, south, east, north], west of east and south of north.")
            ]
            return self.area
        return box_polygon([west, south, east, north])


class GrantPeriod(models.Model):
    """Derived: a stretch of days a data-sharing clause is in force, from `opens_on` to
    the day before `closes_on` (None: no end known). A clause has one per stretch of its
    memorandum in force between suspensions, none when it never is; kept by
    cooperation.grants with the clause's `opens_on` and `closes_on` (the first and the
    last), which the rule joins to compare with today's date."""

    grant = models.ForeignKey(DataGrant, on_delete=models.CASCADE, related_name="periods")
    opens_on = models.DateField()
    closes_on = models.DateField(null=True)

    class Meta:
        ordering = ["grant", "opens_on"]
        indexes = [models.Index(fields=["grant", "opens_on"], name="grant_period_by_grant")]

    def __str__(self) -> str:
        return f"{self.grant_id}: {self.opens_on} to {self.closes_on or '…'}"


class GrantedDeposit(models.Model):
    """Derived: a deposit a data-sharing clause covers, whether or not it is in force.
    Kept by cooperation.grants on every clause, deposit and deposit-mineral write, so the
    visibility rule reads a few indexed rows instead of matching areas on each request.

    The deposit's visibility is kept beside it (`visibility`, refreshed on every deposit
    save): a partner key already sees the `public` and `partners` deposits a clause
    covers, so the rule reads only the rows beyond its levels, by an index. A clause by
    mineral or region covers most of a large registry, and the rule's subquery is built
    again by every query of a request; reading the covered rows in full made a partner
    with 50 clauses 1.5× slower at 100,000 deposits (docs/performance.md)."""

    grant = models.ForeignKey(DataGrant, on_delete=models.CASCADE, related_name="covered")
    deposit = models.ForeignKey(Deposit, on_delete=models.CASCADE, related_name="+")
    visibility = models.CharField(max_length=10, choices=Visibility.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["grant", "deposit"], name="one_row_per_granted_deposit")
        ]
        indexes = [
            models.Index(fields=["deposit", "grant"], name="granted_deposit_by_deposit"),
            models.Index(
                fields=["grant", "visibility", "deposit"], name="granted_deposit_by_level"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grant_id}: {self.deposit_id}"


class GrantChange(models.Model):
    """Derived: a deposit entering (`created`) or leaving (`deleted`) what a clause opens
    to its organisation, at the moment it does: written by cooperation.grants whenever a
    clause, its scope or its memorandum's lifecycle changes, ahead of time for the days a
    clause opens and closes, is suspended and resumed (no job runs on those days). The
    change feed lists the rows whose moment has come (reports/changes.py), and reads in
    them what was open to an organisation at any past moment: rows of the past are
    never rewritten, only those ahead are."""

    CREATED, DELETED = "created", "deleted"

    grant = models.ForeignKey(
        DataGrant, on_delete=models.SET_NULL, null=True, related_name="changes"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    # The log outlives a deleted deposit: the feed reads in it that the deposit was open to
    # the partner when it was deleted, and so reports the deletion to them.
    deposit = models.ForeignKey(
        Deposit, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    figures = models.BooleanField(default=False)
    action = models.CharField(max_length=7, choices=[(CREATED, CREATED), (DELETED, DELETED)])
    at = models.DateTimeField(db_index=True)
    day = models.DateField()

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["organisation", "at"], name="grant_change_by_organisation"),
            # The feed asks, per change, what was open to the organisation at its moment.
            models.Index(fields=["organisation", "deposit", "at"], name="grant_change_by_deposit"),
        ]

    def __str__(self) -> str:
        return f"{self.deposit_id} {self.action} {self.at:%Y-%m-%d %H:%M}"
