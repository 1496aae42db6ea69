"""Referrals: a request from one organization to another to serve a client for a need.

A referral's life is its events; it closes with an outcome the sender sees (the closed loop).
"""

from __future__ import annotations

import operator
from datetime import datetime
from functools import reduce

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .concepts import Activity, Concept
from .workflow import OPEN, Status

# The stage whose deadline is owed, by status: the receiver owes an answer while the
# referral is requested, and an update while it is accepted or in progress. On hold
# (waitlist, a revoked release), draft and closed referrals owe nothing.
ACK_STAGE = frozenset({Status.REQUESTED})
UPDATE_STAGE = frozenset({Status.ACCEPTED, Status.IN_PROGRESS})

# "Overdue", the one rule: a referral is overdue at `now` when its status is in one of
# these stages and that stage's deadline has come (is at or before `now`: the reminder
# sweep has always fired at the deadline itself). Only the current stage's deadline
# counts: an accepted referral whose old acknowledgement date lingers is not overdue for
# it, and a referral on hold is not overdue at all. Every reader derives from this
# table: the inbox and lists (`overdue_q`), the backbone's stalled list, the measures' SQL
# (metrics.engine builds its condition from it), and the reminder sweep
# (`Referral.overdue_at`).
OVERDUE_DEADLINES: tuple[tuple[frozenset[str], str], ...] = (
    (ACK_STAGE, "ack_due_at"),
    (UPDATE_STAGE, "update_due_at"),
)


# What the owed deadline is called where people read it (rows, the referral page, home).
DEADLINE_LABELS = {"ack_due_at": _("Respond by"), "update_due_at": _("Update by")}


def due_expression() -> models.Case:
    """The deadline the referral owes now (OVERDUE_DEADLINES), as a SQL expression: the
    stage's due date, or NULL when the status owes nothing. Lists sort by it."""
    return models.Case(
        *(
            models.When(status__in=sorted(statuses), then=models.F(field))
            for statuses, field in OVERDUE_DEADLINES
        ),
        default=models.Value(None),
        output_field=models.DateTimeField(),
    )


def overdue_q(now: datetime) -> Q:
    """The overdue rule (OVERDUE_DEADLINES) as a filter on referrals."""
    conditions = [
        Q(status__in=sorted(statuses), **{f"{field}__lte": now})
        for statuses, field in OVERDUE_DEADLINES
    ]
    return reduce(operator.or_, conditions)


class ReferralQuerySet(models.QuerySet):
    def visible_to(self, org) -> ReferralQuerySet:
        """The referrals an organization sent or received. (A client's profile may show more,
        as far as releases allow: see selectors.referrals_for_client.)"""
        return self.filter(Q(sender_organization_id=org.pk) | Q(receiver_organization_id=org.pk))

    def open(self) -> ReferralQuerySet:
        return self.filter(status__in=OPEN)

    def overdue(self, now: datetime) -> ReferralQuerySet:
        """Overdue at `now`, by the one rule (OVERDUE_DEADLINES)."""
        return self.filter(overdue_q(now))


class Referral(models.Model):
    """A referral (FHIR: a ServiceRequest plus its Task)."""

    Status = Status

    class Urgency(models.TextChoices):
        # The IG's Task priority value set: routine | urgent.
        ROUTINE = "routine", _("Routine")
        URGENT = "urgent", _("Urgent")

    class BusinessStatus(models.TextChoices):
        NONE = "", "—"
        OPENED = "opened", _("Opened by the receiver")
        CONTACTED = "contacted", _("Client contacted")
        SCHEDULED = "scheduled", _("Appointment scheduled")
        WAITLISTED = "waitlisted", _("Waitlisted")
        # The backbone as coordination platform (referrals/coordination.py): the referral
        # is with a program the backbone routed it to, or back with the backbone to route
        # again (the program declined, or the routed referral was withdrawn).
        ROUTED = "routed", _("Routed to a program")
        REROUTING = "rerouting", _("Back with the backbone: to route again")

    class Outcome(models.TextChoices):
        NEED_MET = "need-met", _("Service provided – need met")  # noqa: RUF001
        NEED_PARTLY_MET = "need-partly-met", _("Service provided – need partly met")  # noqa: RUF001
        NEED_NOT_MET = "need-not-met", _("Service provided – need not met")  # noqa: RUF001
        NO_LONGER_INTERESTED = "no-longer-interested", _("Client no longer interested")
        UNABLE_TO_CONTACT = "unable-to-contact", _("Unable to contact")
        NOT_ELIGIBLE = "not-eligible", _("Not eligible")
        NO_CAPACITY = "no-capacity", _("No capacity")
        REFERRED_ELSEWHERE = "referred-elsewhere", _("Referred elsewhere")

    class DeclineReason(models.TextChoices):
        # Why the receiver declined, in the words referral networks use (the common
        # non-success reasons: no capacity, not eligible, couldn't contact, no longer
        # interested, referred elsewhere). The codes the outcomes share are the same.
        # FHIR: Task.statusReason.coding, CodeSystem/referral-decline-reason.
        NO_CAPACITY = "no-capacity", _("No capacity")
        NOT_ELIGIBLE = "not-eligible", _("Not eligible")
        OUTSIDE_SERVICE_AREA = "outside-service-area", _("Outside the service area")
        NO_LONGER_INTERESTED = "no-longer-interested", _("Client no longer interested")
        UNABLE_TO_CONTACT = "unable-to-contact", _("Unable to contact")
        REFERRED_ELSEWHERE = "referred-elsewhere", _("Referred elsewhere")
        DUPLICATE = "duplicate", _("Duplicate referral")
        OTHER = "other", _("Other")

    class Source(models.TextChoices):
        PLATFORM = "platform", _("Sent through Linkage")
        FAX = "fax", _("Fax")
        PHONE = "phone", _("Phone")
        WALK_IN = "walk-in", _("Walk-in")
        SELF = "self", _("Self-referral")
        EMAIL = "email", _("Email")
        OTHER = "other", _("Other")

    network = models.ForeignKey(
        "organizations.Network", on_delete=models.PROTECT, related_name="referrals"
    )
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="referrals")
    # The sender: an organization on the platform, or (for logged inbound referrals) a name.
    sender_organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals_sent",
    )
    sender_user = models.ForeignKey(
        "organizations.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals_sent",
    )
    external_sender = models.CharField(
        max_length=200, blank=True, help_text=_("Who referred, when not on Linkage.")
    )
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.PLATFORM)
    receiver_organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="referrals_received"
    )
    # None: addressed to the receiving organization, waiting in its intake queue until the
    # receiver chooses one of its programs when accepting (directory.selectors.resolve_program
    # found no single program for the requested service).
    program = models.ForeignKey(
        "directory.Program",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
    )
    reason = models.TextField("note for the receiver", blank=True)
    # The service requested, coded by the sending system (FHIR ServiceRequest.code):
    # {"system", "code", "display"} (referrals/concepts.py). Empty: the program's service.
    requested_service = models.JSONField(null=True, blank=True)
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    do_not_contact = models.BooleanField(
        "do not contact the client",
        default=False,
        help_text=_(
            "For safety (e.g. intimate-partner violence): the receiver must not reach out "
            "to the client directly (FHIR order detail contacting-subject-prohibited)."
        ),
    )
    release = models.ForeignKey(
        "consent.Release",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
        help_text=_("The release that lets the receiver see what the referral carries."),
    )
    assessment = models.ForeignKey(
        "assessments.Assessment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referrals",
    )
    referred_from = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="onward_referrals",
    )
    # The backbone's routing of a referral it received (the IG's indirect referral): the
    # referral from the backbone to the program it chose points to the one it fulfils.
    # FHIR: its ServiceRequest (intent filler-order) is basedOn the source's, its Task is
    # partOf the source Task. Unlike `referred_from` (a new referral onward), the part's
    # status is reflected on the whole (referrals/coordination.py).
    part_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subreferrals",
        help_text=_("The referral this one fulfils, routed by the backbone."),
    )
    assigned_to = models.ForeignKey(
        "organizations.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_referrals",
    )

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    business_status = models.CharField(
        max_length=20, choices=BusinessStatus.choices, blank=True, default=""
    )
    # The client's next appointment with the receiver, as the receiver last recorded it
    # (referral_schedule_appointment): the client's next-step text and the day-before
    # reminder are written from it.
    appointment_at = models.DateTimeField(null=True, blank=True)
    status_reason = models.TextField(blank=True)
    # Set by the decline (reject) move; `status_reason` is its explanation.
    decline_reason = models.CharField(max_length=30, choices=DeclineReason.choices, blank=True)
    outcome = models.CharField(max_length=30, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(blank=True)
    # What was done, set on completion (FHIR: the Procedure of Task.output, its code and
    # performed date): {"system", "code", "display", "performed"} (referrals/concepts.py).
    resulting_activity = models.JSONField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Due moments the reminder sweep reads through indexes (ARCHITECTURE.md, Reminders).
    ack_due_at = models.DateTimeField(null=True, blank=True)
    update_due_at = models.DateTimeField(null=True, blank=True)
    follow_up_due_at = models.DateTimeField(null=True, blank=True)
    # The reminder sweep's own clock (referrals/reminders/): when the next reminder for the
    # current stage (acknowledge, update, follow up) is due. The deadlines above stay what
    # people see; this one moves on after each overdue reminder, so the sweep's range scan
    # over its index finds only what is newly due, however many referrals there are.
    reminder_due_at = models.DateTimeField(null=True, blank=True)
    # When the current stage began (sent, last update): how long the referral has waited.
    waiting_since = models.DateTimeField(null=True, blank=True)
    # Overdue reminders in the current stage; the network's count escalates to the backbone.
    overdue_count = models.PositiveSmallIntegerField(default=0)
    escalated_at = models.DateTimeField(null=True, blank=True)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["receiver_organization", "status", "-created_at"], name="referral_inbox"
            ),
            models.Index(
                fields=["sender_organization", "status", "-created_at"], name="referral_sent"
            ),
            # The inbox and sent pages list newest first across several statuses (a tab):
            # these let a page be read from the top of an index, whatever the table size.
            models.Index(
                fields=["receiver_organization", "-created_at", "-id"],
                name="referral_inbox_recent",
            ),
            models.Index(
                fields=["sender_organization", "-created_at", "-id"], name="referral_sent_recent"
            ),
            models.Index(fields=["client", "status"], name="referral_client_status"),
            models.Index(fields=["ack_due_at"], name="referral_ack_due"),
            models.Index(fields=["update_due_at"], name="referral_update_due"),
            models.Index(fields=["follow_up_due_at"], name="referral_follow_up_due"),
            # Partial: closed referrals (most of the table) are not in these at all.
            models.Index(
                fields=["reminder_due_at"],
                condition=Q(reminder_due_at__isnull=False),
                name="referral_reminder_due",
            ),
            models.Index(
                fields=["network", "escalated_at"],
                condition=Q(escalated_at__isnull=False),
                name="referral_escalated",
            ),
            # The incremental rollup recomputes a few periods: their referrals by sent date
            # (without it each statement scanned the whole table; -18% at 300k referrals).
            models.Index(fields=["network", "sent_at"], name="referral_network_sent"),
        ]
        constraints = [
            # The duplicate guard in the database: one open referral per client and program.
            # A double-clicked send hits this even when two requests race.
            models.UniqueConstraint(
                fields=["client", "program"],
                condition=Q(
                    status__in=["draft", "requested", "accepted", "in-progress", "on-hold"]
                ),
                name="referral_one_open_per_client_program",
            ),
            # The same guard for referrals in an organization's intake queue: one open
            # referral per client and receiving organization awaiting its program.
            models.UniqueConstraint(
                fields=["client", "receiver_organization"],
                condition=Q(
                    program__isnull=True,
                    status__in=["draft", "requested", "accepted", "in-progress", "on-hold"],
                ),
                name="referral_one_open_intake_per_client_org",
            ),
            # A referral is worked by a program: only one not yet accepted (or closed
            # without being accepted, or held by Linkage for a revoked release before it
            # was) may wait for the receiver to choose it.
            models.CheckConstraint(
                condition=Q(program__isnull=False)
                | Q(
                    status__in=[
                        "draft",
                        "requested",
                        "on-hold",
                        "rejected",
                        "cancelled",
                        "entered-in-error",
                    ]
                ),
                name="referral_program_chosen_once_accepted",
            ),
            models.CheckConstraint(
                condition=~Q(status="completed") | ~Q(outcome=""),
                name="referral_completed_has_outcome",
            ),
            # One routed referral at a time per referral (the parent's row lock is the
            # guard; this is the net under it): two routings racing make one.
            models.UniqueConstraint(
                fields=["part_of"],
                condition=Q(
                    part_of__isnull=False,
                    status__in=["draft", "requested", "accepted", "in-progress", "on-hold"],
                ),
                name="referral_one_open_subreferral",
            ),
        ]

    def __str__(self) -> str:
        return f"Referral {self.pk} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def sender_name(self) -> str:
        if self.sender_organization_id:
            return self.sender_organization.name
        return self.external_sender or self.get_source_display()

    @property
    def in_intake(self) -> bool:
        """Addressed to the organization: the receiver chooses the program on accepting."""
        return self.program_id is None

    @property
    def program_name(self) -> str:
        """The program's name, or who chooses it (for messages and lists)."""
        if self.program_id:
            return self.program.name
        return f"{self.receiver_organization.name} (program to be chosen)"

    @property
    def requested(self) -> Concept | None:
        """The requested service as a concept (None: the program's service)."""
        return Concept.from_json(self.requested_service)

    @property
    def activity(self) -> Activity | None:
        """What was done, once completed (None when the receiver did not say)."""
        return Activity.from_json(self.resulting_activity)

    def deadline(self) -> tuple[str, datetime] | None:
        """The deadline owed now (OVERDUE_DEADLINES) as ("Respond by", when), or None when
        the status owes nothing or no date was set."""
        for statuses, field in OVERDUE_DEADLINES:
            if self.status in statuses:
                due = getattr(self, field)
                return (DEADLINE_LABELS[field], due) if due is not None else None
        return None

    def overdue_at(self, now: datetime) -> bool:
        """Overdue at `now`, by the one rule (OVERDUE_DEADLINES): the row-level twin of
        `Referral.objects.overdue(now)`."""
        owed = self.deadline()
        return owed is not None and owed[1] <= now


class ReferralNeed(models.Model):
    """A need (SDOH category code) the referral is for: a row each, so measures can count
    referrals per need in SQL."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="needs")
    code = models.CharField(max_length=40, db_index=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["referral", "code"], name="referral_need_once")
        ]

    def __str__(self) -> str:
        return self.code


class ReferralEvent(models.Model):
    """One step in a referral's life: a status move, the receiver opening it, a contact."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        TRANSITION = "transition", _("Status changed")
        OPENED = "opened", _("Opened by the receiver")
        CONTACT = "contact", _("Contact recorded")
        ASSIGNED = "assigned", _("Assigned")
        SCHEDULED = "scheduled", _("Appointment scheduled")
        # On a referral the backbone routes: it chose a program (the routed referral is
        # `subreferral`), or the routed referral moved without changing this one's status.
        ROUTED = "routed", _("Routed to a program")
        RELAYED = "relayed", _("Update from the routed referral")

    class ContactType(models.TextChoices):
        PHONE = "phone", _("Phone call")
        TEXT = "text", _("Text message")
        EMAIL = "email", _("Email")
        IN_PERSON = "in-person", _("In person")
        HOME_VISIT = "home-visit", _("Home visit")
        OTHER = "other", _("Other")

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        "organizations.User", on_delete=models.PROTECT, null=True, related_name="+"
    )
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, null=True, related_name="+"
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    business_status = models.CharField(max_length=20, blank=True)
    reason = models.TextField(blank=True)
    contact_type = models.CharField(max_length=20, choices=ContactType.choices, blank=True)
    contact_successful = models.BooleanField(null=True)
    # The routed referral an event of its parent is about (routed, relayed, and the
    # parent's status changes it caused), so a page shows its details only to viewers
    # who may see it.
    subreferral = models.ForeignKey(
        Referral, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A scheduled event's appointment (the referral keeps only the latest one).
    appointment_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["referral", "occurred_at"], name="referral_event_time")]

    def __str__(self) -> str:
        return f"{self.kind} {self.from_status}->{self.to_status}"


class ReferralNote(models.Model):
    """The notes thread between sender and receiver (nobody else sees it)."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey("organizations.User", on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"note {self.pk} on referral {self.referral_id}"


class NotificationQuerySet(models.QuerySet):
    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """A message to one person about a referral: always in the app, and by email.

    Messages name the referral number, the program and organizations — never the client —
    so an email in the wrong inbox discloses nothing about a person.
    """

    user = models.ForeignKey(
        "organizations.User", on_delete=models.CASCADE, related_name="notifications"
    )
    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    kind = models.CharField(max_length=40)
    message = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # When the email was handled: sent on its own or in a daily digest, or found needless
    # (an inactive user, no address). The sender holds the row lock while it sends, so a
    # task that runs twice sends once (referrals/reminders/delivery.py).
    emailed_at = models.DateTimeField(null=True, blank=True)
    # The reminder this notification delivers, if any (one per reminder and person).
    reminder = models.ForeignKey(
        "Reminder",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
    )

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "read_at", "-created_at"], name="notification_inbox"),
            # The sweep re-queues emails a lost broker message left unsent: only those rows.
            models.Index(
                fields=["created_at"],
                condition=Q(emailed_at__isnull=True),
                name="notification_email_pending",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["reminder", "user"],
                condition=Q(reminder__isnull=False),
                name="notification_once_per_reminder",
            )
        ]

    def __str__(self) -> str:
        return f"notification {self.pk} for user {self.user_id}"


# --- Reminders and escalations (ARCHITECTURE.md "Reminders"; referrals/reminders/) ---------


class ReminderRules(models.Model):
    """A network's reminder rules (no partnership), or one partnership's override of them
    (an empty field follows the network's). An empty network field takes Linkage's default
    (referrals/reminders/rules.py)."""

    network = models.ForeignKey(
        "organizations.Network", on_delete=models.CASCADE, related_name="reminder_rules"
    )
    partnership = models.OneToOneField(
        "organizations.Partnership",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminder_rules",
    )
    ack_business_days = models.PositiveSmallIntegerField(
        "acknowledge within (business days)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
    )
    update_every_days = models.PositiveSmallIntegerField(
        "update at least every (days)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
    )
    follow_up_after_days = models.PositiveSmallIntegerField(
        "sender follows up after completion (days)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(180)],
    )
    release_expiry_warning_days = models.PositiveSmallIntegerField(
        "warn before a release expires (days)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(180)],
    )
    escalate_after_overdue_count = models.PositiveSmallIntegerField(
        "escalate to the backbone when overdue (times)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = _("reminder rules")
        constraints = [
            models.UniqueConstraint(
                fields=["network"],
                condition=Q(partnership__isnull=True),
                name="reminder_rules_one_per_network",
            )
        ]

    def __str__(self) -> str:
        return f"reminder rules of partnership {self.partnership_id or '-'} in {self.network_id}"


class NetworkHolidayQuerySet(models.QuerySet):
    def visible_to(self, org) -> NetworkHolidayQuerySet:
        """An organization's network's holidays."""
        return self.filter(network_id=org.network_id)


class NetworkHoliday(models.Model):
    """A day the network's business-day clock skips (weekends are skipped always)."""

    network = models.ForeignKey(
        "organizations.Network", on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField()
    name = models.CharField(max_length=100)

    objects = NetworkHolidayQuerySet.as_manager()

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["network", "date"], name="network_holiday_once")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.date})"


class Reminder(models.Model):
    """One nudge: what it is about (kind and object), the moment it fell due, and who is
    told, resolved when the sweep created it. The unique key (object, kind, due moment)
    makes a repeated sweep harmless; `delivered_at` is set by the one delivery that
    holds the row's lock, so a task that runs twice delivers once."""

    class Kind(models.TextChoices):
        ACK_OVERDUE = "ack_overdue", _("Response overdue")
        UPDATE_OVERDUE = "update_overdue", _("Update overdue")
        FOLLOW_UP_DUE = "follow_up_due", _("Follow up with the client")
        ESCALATION = "escalation", _("Escalated to the backbone")
        RELEASE_EXPIRING = "release_expiring", _("Release expiring")
        # Marks an expiry whose consequences were applied (open referrals it covered put
        # on hold; their notifications tell both sides): applied once per release.
        RELEASE_EXPIRED = "release_expired", _("Release expired")
        RESCREEN_DUE = "rescreen_due", _("Rescreening due")

    class ObjectType(models.TextChoices):
        REFERRAL = "referral", _("Referral")
        RELEASE = "release", _("Release of information")
        ASSESSMENT = "assessment", _("Assessment")

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for delivery")
        DELIVERED = "delivered", _("Delivered")
        # Overtaken before delivery (the referral was answered, the release revoked...).
        SKIPPED = "skipped", _("No longer needed")

    network = models.ForeignKey(
        "organizations.Network", on_delete=models.CASCADE, related_name="reminders"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    object_type = models.CharField(max_length=20, choices=ObjectType.choices)
    object_id = models.PositiveBigIntegerField()
    due_at = models.DateTimeField()
    # User ids, resolved once; delivery tells those still active.
    recipient_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    # Last handed to the broker; the sweep hands it again if it is still undelivered later.
    queued_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-due_at", "-id"]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=Q(delivered_at__isnull=True),
                name="reminder_undelivered",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["object_type", "object_id", "kind", "due_at"], name="reminder_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.object_type} {self.object_id} due {self.due_at:%Y-%m-%d}"


class NotificationPreference(models.Model):
    """How a person wants notification emails: each at once, or one digest a day. In-app
    notifications are always on. No row: immediately."""

    class EmailMode(models.TextChoices):
        IMMEDIATE = "immediate", _("Email me each notification as it happens")
        DIGEST = "digest", _("One email a day with everything new (daily digest)")

    user = models.OneToOneField(
        "organizations.User", on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_mode = models.CharField(
        max_length=20, choices=EmailMode.choices, default=EmailMode.IMMEDIATE
    )
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.email_mode}"


class EmailDigest(models.Model):
    """One person's digest email of one day. The unique key is the claim: the row is
    inserted in the transaction that sends, so a digest task that runs twice (or two
    beats) sends one digest per person per day."""

    user = models.ForeignKey(
        "organizations.User", on_delete=models.CASCADE, related_name="email_digests"
    )
    day = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)
    notification_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="email_digest_once_a_day")
        ]

    def __str__(self) -> str:
        return f"digest for {self.user_id} on {self.day}"
