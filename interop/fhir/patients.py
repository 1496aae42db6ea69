"""Patient ⇄ Client: reading a FHIR Patient into a client record, and finding the record a
Patient is.

Matching on create (POST Patient, or a Patient entry of a transaction) works as the
browser's "new client" page does, with the same duplicate detection
(clients.selectors.client_possible_duplicates):

1. an identifier the caller's organization already recorded for a client (system and
   value) is that client;
2. otherwise, when exactly one record across the network is a *likely* match and the
   caller may see its demographics, the Patient is that record;
3. otherwise, with no possible match at all, a new record is created;
4. otherwise, when the Patient carries identifiers the caller's organization has not
   used for any client (the possible matches are records "under another identifier"), a
   new record is created under the sender's identifiers and each possible match is queued
   for its lead navigator to review (clients.models.PossibleDuplicate): an automated
   referral does not stall on a human decision. A warning in the response says so, with
   the same privacy as the refusal below: the matches the caller may see are named, the
   others are only "a record may exist", and both are recorded in the audit trail;
5. otherwise (no identifier to create the record under, or an identifier of the caller's
   that belongs to a record it may no longer see) the request is refused (409,
   `multiple-matches`): the OperationOutcome names the possible matches the caller may see
   (Patient/<id>, and why) and says only "a record may exist" for the others, as the page
   does — and, like the page, records both in the audit trail. The caller then references
   the right Patient/<id>, or repeats the request with the header
   `Linkage-Confirm-New-Patient: <token>` (the token in the OperationOutcome, valid for
   exactly these matches) to create a new record anyway.

Contact details are kept as the EHR sends them (clients.contact): normalized when possible,
else stored as sent (or left blank where the column cannot hold them) and flagged on the
record for the people who see its contact details, with a warning in the response; they
never refuse a Patient.

Every identifier of the Patient is stored as a client identifier of the caller's
organization (clients.services.client_identifier_add). A matched record's demographics
are not overwritten from the Patient.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.crypto import constant_time_compare, salted_hmac

from audit.services import audit_read
from clients.contact import PROBLEMS, SentContact, contact_as_sent
from clients.models import Client, ClientIdentifier
from clients.selectors import Match, client_ids_visible, client_possible_duplicates
from clients.services import (
    DuplicateIdentifierError,
    client_create,
    client_identifier_add,
    possible_duplicates_queue,
    show_possible_duplicates,
)
from consent.categories import Category

from . import codes
from .errors import FhirError, Issue, from_service_error, invalid, required
from .references import Caller
from .validation import day_of

CONFIRM_HEADER = "Linkage-Confirm-New-Patient"

# The client record's fields, as the Patient's elements (for error expressions).
EXPRESSIONS = {
    "given_name": "Patient.name",
    "family_name": "Patient.name",
    "preferred_name": "Patient.name",
    "date_of_birth": "Patient.birthDate",
    "phone": "Patient.telecom",
    "email": "Patient.telecom",
    "address_line": "Patient.address",
    "city": "Patient.address",
    "state": "Patient.address",
    "zip_code": "Patient.address",
    "sex": "Patient.gender",
    "race": "Patient.extension",
    "ethnicity": "Patient.extension",
    "preferred_language": "Patient.communication",
}

_LANGUAGES = {"en", "es", "zh", "vi", "ar"}


@dataclass
class PatientInput:
    data: dict
    identifiers: list[tuple[str, str]]
    where: str
    contact: SentContact = field(default_factory=lambda: SentContact(values={}))


def _current(items: list[dict], *, prefer: tuple[str, ...] = ()) -> dict | None:
    """The entry in force now (no period end), preferring the given `use`s."""
    live = [i for i in items if not (i.get("period") or {}).get("end")] or items
    for use in prefer:
        for item in live:
            if item.get("use") == use:
                return item
    return live[-1] if live else None


def patient_input(resource: dict, *, where: str = "Patient") -> PatientInput:
    """The client record values and identifiers a Patient carries (FhirError 422 naming
    the element for what Linkage needs and cannot find)."""
    name = _current(resource.get("name") or [], prefer=("official", "usual"))
    given = (name or {}).get("given") or []
    family = (name or {}).get("family", "")
    if not name or not family or not given:
        raise required(
            f"{where}.name: a family name and a given name are needed for a client record.",
            expression=f"{where}.name",
        )
    if not resource.get("birthDate"):
        raise required(
            f"{where}.birthDate: the date of birth is needed (the duplicate check uses it).",
            expression=f"{where}.birthDate",
        )
    data = {
        "given_name": given[0],
        "family_name": family,
        "date_of_birth": day_of(resource["birthDate"], where=f"{where}.birthDate"),
        "sex": resource.get("gender") or Client.Sex.UNKNOWN,
    }
    telecom = resource.get("telecom") or []
    phone = _current([t for t in telecom if t.get("system") == "phone"], prefer=("mobile", "home"))
    email = _current([t for t in telecom if t.get("system") == "email"])
    data["phone"] = (phone or {}).get("value", "")
    data["email"] = (email or {}).get("value", "")
    address = _current(resource.get("address") or [], prefer=("home",))
    if address:
        data["address_line"] = ", ".join(address.get("line") or [])[:200]
        data["city"] = address.get("city", "")[:100]
        data["state"] = address.get("state", "")
        data["zip_code"] = address.get("postalCode", "")
    # Kept as sent where it cannot be used (flagged, never refused): before matching, so
    # that a phone number spelled "+1 312-555-0100" matches the record's.
    contact = contact_as_sent(data)
    data.update(contact.values)
    data["preferred_language"] = _language(resource)
    data["race"], data["ethnicity"] = _race_ethnicity(resource)
    identifiers = []
    for index, identifier in enumerate(resource.get("identifier") or []):
        system, value = identifier.get("system", ""), identifier.get("value", "")
        if not system or not value:
            raise required(
                f"{where}.identifier[{index}]: an identifier needs a system and a value.",
                expression=f"{where}.identifier[{index}]",
            )
        if len(system) > 200 or len(value) > 100:
            raise invalid(
                f"{where}.identifier[{index}]: system (200) or value (100 characters) too long.",
                expression=f"{where}.identifier[{index}]",
            )
        identifiers.append((system, value))
    return PatientInput(data=data, identifiers=identifiers, where=where, contact=contact)


def _language(resource: dict) -> str:
    entries = resource.get("communication") or []
    entries = sorted(entries, key=lambda c: not c.get("preferred", False))
    for entry in entries:
        for coding in (entry.get("language") or {}).get("coding") or []:
            code = (coding.get("code") or "").split("-")[0].lower()
            return code if code in _LANGUAGES else Client.Language.OTHER
    return Client.Language.EN


def _race_ethnicity(resource: dict) -> tuple[str, str]:
    race, ethnicity = Client.Race.UNKNOWN, Client.Ethnicity.UNKNOWN
    for extension in resource.get("extension") or []:
        omb = [
            (e.get("valueCoding") or {}).get("code")
            for e in extension.get("extension") or []
            if e.get("url") == "ombCategory"
            and (e.get("valueCoding") or {}).get("system") == codes.OMB_RACE_ETHNICITY
        ]
        if extension.get("url") == codes.US_CORE_RACE and omb:
            race = omb[0] if len(omb) == 1 and omb[0] in Client.Race.values else "multiple"
        elif (
            extension.get("url") == codes.US_CORE_ETHNICITY
            and omb
            and omb[0] in Client.Ethnicity.values
        ):
            ethnicity = omb[0]
    return race, ethnicity


# --- matching and creating ------------------------------------------------------------


@dataclass
class PatientMatch:
    existing: Client | None
    overridden: int = 0  # possible duplicates the caller chose not to use
    # Rule 4: possible duplicates to queue for review once the record is created, and which
    # of them the caller may see.
    queued: list[Match] = field(default_factory=list)
    visible_ids: set[int] = field(default_factory=set)


def match_patient(patient: PatientInput, caller: Caller) -> PatientMatch:
    """Find the record this Patient is (rules 1 to 5 of the module docstring). Writes
    nothing but the audit of what a refusal disclosed (kept: FhirError.keep_writes)."""
    org = caller.organization
    identifier_in_use = False
    for system, value in patient.identifiers:
        known = (
            ClientIdentifier.objects.filter(organization=org, system=system, value=value)
            .select_related("client")
            .first()
        )
        if known is not None:
            if client_ids_visible(org, [known.client_id], Category.DEMOGRAPHICS):
                return PatientMatch(existing=known.client)
            # The record is no longer shared: treat it like a hidden match below, and never
            # as "another identifier" (the identifier is this organization's, in use).
            identifier_in_use = True
            break
    data = patient.data
    matches = client_possible_duplicates(
        network=org.network,
        given_name=data["given_name"],
        family_name=data["family_name"],
        date_of_birth=data["date_of_birth"],
        phone=data.get("phone", ""),
        zip_code=data.get("zip_code", ""),
    )
    if not matches:
        return PatientMatch(existing=None)
    visible_ids = client_ids_visible(org, [m.client.pk for m in matches], Category.DEMOGRAPHICS)
    likely = [m for m in matches if m.is_likely]
    if len(likely) == 1 and likely[0].client.pk in visible_ids:
        return PatientMatch(existing=likely[0].client)
    digest = _digest(matches)
    confirmed = caller.request.headers.get(CONFIRM_HEADER, "")
    if confirmed and constant_time_compare(confirmed, digest):
        return PatientMatch(existing=None, overridden=len(matches))
    if patient.identifiers and not identifier_in_use:
        return PatientMatch(existing=None, queued=matches, visible_ids=visible_ids)
    raise _refuse(patient, caller, matches, visible_ids, digest)


def _digest(matches) -> str:
    ids = ",".join(str(m.client.pk) for m in sorted(matches, key=lambda m: m.client.pk))
    return salted_hmac("interop.fhir.possible-duplicates", ids).hexdigest()[:32]


def _refuse(patient, caller: Caller, matches, visible_ids, digest) -> FhirError:
    shown = show_possible_duplicates(caller.request, matches, visible_ids)
    visible, hidden = shown.visible, shown.hidden
    issues = [
        Issue(
            f"Possible existing record: Patient/{m.client.pk} ({m.reason.lower()}).",
            "multiple-matches",
            severity="error",
            expression=(patient.where,),
        )
        for m in visible
    ]
    if hidden:
        backbone = caller.organization.network.backbone
        who = ", ".join(shown.lead_organizations) or (
            backbone.name if backbone else "the network's backbone"
        )
        issues.append(
            Issue(
                "A record for this person may exist that your organization may not see; "
                f"ask {who} (lead navigator) before creating another.",
                "multiple-matches",
                expression=(patient.where,),
            )
        )
    issues.append(
        Issue(
            "Reference the existing Patient, or repeat the request with the header "
            f"{CONFIRM_HEADER}: {digest} to create a new record for a different person.",
            "multiple-matches",
            severity="information",
        )
    )
    return FhirError(409, issues, keep_writes=True)


def _queued(patient: PatientInput, caller: Caller, found: PatientMatch) -> list[Issue]:
    """Rule 4's warnings: what `_refuse` would have said, as news of the queue."""
    shown = show_possible_duplicates(caller.request, found.queued, found.visible_ids)
    where = (patient.where,)
    issues = [
        Issue(
            f"Possible duplicate of Patient/{m.client.pk} ({m.reason.lower()}): the record was "
            "created under your identifier and the possible match queued for review by the "
            "lead navigator.",
            "multiple-matches",
            severity="warning",
            expression=where,
        )
        for m in shown.visible
    ]
    if shown.hidden:
        who = ", ".join(shown.lead_organizations)
        issues.append(
            Issue(
                "A record for this person may exist that your organization may not see: the "
                "record was created under your identifier and the possible match queued for "
                + (f"review by its lead navigator ({who})." if who else "review."),
                "multiple-matches",
                severity="warning",
                expression=where,
            )
        )
    return issues


def _contact_warnings(patient: PatientInput) -> list[Issue]:
    """What was kept of unusable contact details (no values: the caller knows them)."""
    issues = []
    for name in patient.contact.problems:
        element = EXPRESSIONS[name].replace("Patient", patient.where, 1)
        kept = "kept as sent" if patient.contact.values.get(name) else "not stored"
        issues.append(
            Issue(
                f"{element}: {PROBLEMS[name]}; {kept} and flagged on the client record for "
                "the receiver to check with the client.",
                "value",
                severity="warning",
                expression=(element,),
            )
        )
    return issues


def patient_save(
    patient: PatientInput,
    found: PatientMatch,
    caller: Caller,
    warnings: list[Issue] | None = None,
) -> tuple[Client, bool]:
    """Create the record (or take the matched one) and record the Patient's identifiers
    for the caller's organization; a created record's possible duplicates (rule 4) are
    queued. Returns the client and whether it was created; what was assumed for the
    caller (contact details kept as sent, duplicates queued) is added to `warnings`."""
    org, user, request = caller.organization, caller.user, caller.request
    created = found.existing is None
    try:
        if created:
            client = client_create(
                organization=org,
                actor=user,
                data=patient.data,
                duplicates_overridden=found.overridden,
                contact=patient.contact,
                request=request,
            )
        else:
            client = found.existing
        known = set(
            ClientIdentifier.objects.filter(client=client, organization=org).values_list(
                "system", "value"
            )
        )
        for system, value in patient.identifiers:
            if (system, value) not in known:
                client_identifier_add(
                    client=client,
                    organization=org,
                    actor=user,
                    system=system,
                    value=value,
                    request=request,
                )
    except DuplicateIdentifierError as error:
        raise FhirError(
            409,
            [
                Issue(
                    str(error.messages[0]), "duplicate", expression=(f"{patient.where}.identifier",)
                )
            ],
        ) from None
    except ValidationError as error:
        raise from_service_error(
            error,
            expressions={k: v.replace("Patient", patient.where, 1) for k, v in EXPRESSIONS.items()},
        ) from None
    if created and warnings is not None:
        warnings.extend(_contact_warnings(patient))
    if created and found.queued:
        possible_duplicates_queue(
            client=client, matches=found.queued, organization=org, actor=user, request=request
        )
        issues = _queued(patient, caller, found)
        if warnings is not None:
            warnings.extend(issues)
    if not created:
        # The matched record's details go back in the response: a read of client data.
        audit_read(
            request,
            object_type="client",
            objects=[client],
            client_id_attr="pk",
            categories=[Category.DEMOGRAPHICS],
        )
    return client, created
