"""The network-wide client record, identifiers from other systems, and lead navigators."""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from consent import policy

from .contact import contact_notes
from .normalize import digits, normalize_name


class ClientQuerySet(models.QuerySet):
    def visible_to(self, org, category=None, at=None) -> ClientQuerySet:
        """Clients the organization may see (a category of, or any); the consent policy
        decides."""
        # A tombstone (a record merged into another) stays readable by id to whoever may
        # see the survivor, so that old links and references find their way to it.
        # (One policy filter, used twice: asking twice would repeat its partner check.)
        sight = policy.client_q(org, category, at)
        # Correlated to the row's own survivor: an uncorrelated `merged_into__in` subquery
        # over every client made PostgreSQL's estimate large enough to JIT-compile the
        # inbox's query (42 of its 43 ms), for a branch that matches no one most of the time.
        survivor = Exists(Client.objects.filter(sight, pk=OuterRef("merged_into_id")))
        return self.filter(sight | (Q(merged_into__isnull=False) & Q(survivor)))

    def current(self) -> ClientQuerySet:
        """Records that are not tombstones: what searches and lists show."""
        return self.filter(merged_into__isnull=True)


class Client(models.Model):
    """One person, once per network ("patient" to an HCO)."""

    class Language(models.TextChoices):
        EN = "en", _("English")
        ES = "es", _("Spanish")
        ZH = "zh", _("Chinese")
        VI = "vi", _("Vietnamese")
        AR = "ar", _("Arabic")
        OTHER = "other", _("Other")

    # OMB race and ethnicity categories, with the codes of the SDOH Clinical Care IG value sets
    # (urn:oid:2.16.840.1.113883.6.238); "declined" and "unknown" are Linkage's own.
    class Race(models.TextChoices):
        AIAN = "1002-5", _("American Indian or Alaska Native")
        ASIAN = "2028-9", _("Asian")
        BLACK = "2054-5", _("Black or African American")
        NHPI = "2076-8", _("Native Hawaiian or Other Pacific Islander")
        WHITE = "2106-3", _("White")
        MULTIPLE = "multiple", _("More than one race")
        DECLINED = "declined", _("Declined to answer")
        UNKNOWN = "unknown", _("Unknown")

    class Ethnicity(models.TextChoices):
        HISPANIC = "2135-2", _("Hispanic or Latino")
        NOT_HISPANIC = "2186-5", _("Not Hispanic or Latino")
        DECLINED = "declined", _("Declined to answer")
        UNKNOWN = "unknown", _("Unknown")

    class Sex(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other")
        UNKNOWN = "unknown", _("Unknown")

    class InsuranceType(models.TextChoices):
        MEDICAID = "medicaid", _("Medicaid")
        MEDICARE = "medicare", _("Medicare")
        DUAL = "dual", _("Medicare and Medicaid")
        COMMERCIAL = "commercial", _("Commercial")
        MARKETPLACE = "marketplace", _("Marketplace")
        OTHER = "other", _("Other")
        UNINSURED = "uninsured", _("Uninsured")
        UNKNOWN = "unknown", _("Unknown")

    network = models.ForeignKey(
        "organizations.Network", on_delete=models.PROTECT, related_name="clients"
    )
    created_by_organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="created_clients"
    )
    created_by = models.ForeignKey(
        "organizations.User", on_delete=models.PROTECT, related_name="created_clients"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField()
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    address_line = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    zip_code = models.CharField("ZIP code", max_length=10, blank=True)
    preferred_language = models.CharField(
        max_length=10, choices=Language.choices, default=Language.EN
    )

    race = models.CharField(max_length=10, choices=Race.choices, default=Race.UNKNOWN)
    ethnicity = models.CharField(
        max_length=10, choices=Ethnicity.choices, default=Ethnicity.UNKNOWN
    )
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    gender_identity = models.CharField(max_length=100, blank=True)
    insurance_type = models.CharField(
        max_length=20, choices=InsuranceType.choices, default=InsuranceType.UNKNOWN
    )
    insurance_payer = models.CharField(max_length=200, blank=True)
    insurance_member_id = models.CharField(max_length=100, blank=True)

    # Kept in step with the fields above by save(); duplicate detection reads these.
    given_name_key = models.CharField(max_length=100, editable=False, db_index=True)
    family_name_key = models.CharField(max_length=100, editable=False, db_index=True)
    phone_digits = models.CharField(max_length=15, editable=False, blank=True, db_index=True)
    # Contact details another system sent that cannot be used as sent (field -> the value as
    # sent; clients.contact): shown to whoever may see the contact details, so that someone
    # checks them with the client. A person's correction of the field clears its entry.
    contact_problems = models.JSONField(default=dict, blank=True, editable=False)

    lead_navigator = models.ForeignKey(
        "organizations.Membership",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="lead_clients",
    )

    # A tombstone: this record was found to be the same person as `merged_into`, which holds
    # everything that pointed here (clients.services.client_merge). Never reused.
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="merged_records",
    )
    merged_at = models.DateTimeField(null=True, blank=True, editable=False)
    merged_by = models.ForeignKey(
        "organizations.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    merged_by_organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    objects = ClientQuerySet.as_manager()

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        indexes = [
            models.Index(fields=["network", "date_of_birth"], name="client_network_dob"),
            models.Index(fields=["network", "family_name_key"], name="client_network_family"),
        ]

    def __str__(self) -> str:
        # Used in admin and debugging only; pages render names explicitly after the policy.
        return f"Client {self.pk}"

    def save(self, *args, **kwargs):
        self.given_name_key = normalize_name(self.given_name)
        self.family_name_key = normalize_name(self.family_name)
        # An extension (kept from what a system sent) is not part of the number.
        self.phone_digits = digits(self.phone.split(" ext. ")[0])[-10:]
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = set(kwargs["update_fields"]) | {
                "given_name_key",
                "family_name_key",
                "phone_digits",
                "updated_at",
            }
        super().save(*args, **kwargs)

    @property
    def is_tombstone(self) -> bool:
        return self.merged_into_id is not None

    def ensure_current(self) -> None:
        """ValidationError for a tombstone: nothing new is recorded on a merged record (the
        faces lead callers to the survivor; this is the services' last line)."""
        if self.merged_into_id is not None:
            raise ValidationError(
                gettext(
                    "Client record #%(id)s was merged into record #%(survivor)s: use that record."
                )
                % {"id": self.pk, "survivor": self.merged_into_id}
            )

    @property
    def display_name(self) -> str:
        given = self.preferred_name or self.given_name
        return f"{given} {self.family_name}"

    @property
    def contact_notes(self) -> list[str]:
        """What a person reads about contact details that cannot be used as sent."""
        return contact_notes(self.contact_problems or {})

    def age_on(self, day: date) -> int:
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))

    def age_at(self, moment: datetime) -> int:
        """The client's age on the local calendar day of `moment` (program age limits)."""
        return self.age_on(timezone.localdate(moment))


class ClientIdentifier(models.Model):
    """An identifier another system gives the client (an EHR's MRN, a payer's member id)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="identifiers")
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="client_identifiers"
    )
    system = models.CharField(
        max_length=200, help_text=_("e.g. MRN, or a FHIR identifier system URI")
    )
    value = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["organization__name", "system"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "system", "value"], name="client_identifier_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.system} {self.value}"


class LeadNavigatorAssignment(models.Model):
    """The history of who led a client's care coordination, one at a time."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="lead_assignments")
    membership = models.ForeignKey(
        "organizations.Membership", on_delete=models.PROTECT, related_name="lead_assignments"
    )
    assigned_by = models.ForeignKey(
        "organizations.User", on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    handover_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            # At most one current lead navigator per client, enforced by the database.
            models.UniqueConstraint(
                fields=["client"], condition=Q(ended_at__isnull=True), name="one_current_lead"
            )
        ]

    def __str__(self) -> str:
        return f"lead for client {self.client_id} from {self.started_at:%Y-%m-%d}"


class PossibleDuplicateQuerySet(models.QuerySet):
    def visible_to(self, org) -> PossibleDuplicateQuerySet:
        """The queue entries the organization reviews: those where it leads either record's
        care coordination (its navigator is the lead navigator) or, for a record without a
        lead navigator, holds it (created it). What a row shows of each record is still the
        consent policy's call."""
        steward = Q()
        for side in ("client", "match"):
            steward |= Q(**{f"{side}__lead_navigator__organization": org}) | Q(
                **{f"{side}__lead_navigator__isnull": True, f"{side}__created_by_organization": org}
            )
        return self.filter(steward, client__network_id=org.network_id)


class PossibleDuplicate(models.Model):
    """Two client records that may be one person, queued for the lead navigator to decide.

    Made when a system creates a record although the duplicate check found possible matches
    under other identifiers (FHIR Patient create): an automated referral does not stall on a
    human decision. A person who may see both records decides: not the same person
    (dismissed), or the same person (merged: clients.services.client_merge)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DISMISSED = "dismissed", _("Not the same person")
        MERGED = "merged", _("Merged")

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="possible_duplicates"
    )  # the record created
    match = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="possible_duplicate_of"
    )  # the existing record it may be
    strength = models.CharField(max_length=10)  # clients.selectors.Strength
    reason = models.CharField(max_length=200)  # which fields matched (no values)
    created_by_organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey("organizations.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        "organizations.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_by_organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = PossibleDuplicateQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["client", "match"], name="possible_duplicate_pair")
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="possible_duplicate_queue")]

    def __str__(self) -> str:
        return f"possible duplicate: client {self.client_id} / {self.match_id}"
