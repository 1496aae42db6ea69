"""Linkage's rows as FHIR R4 resources (plain dicts), after the SDOH Clinical Care IG.

Ids are the domain rows' own: `Task/<referral id>` and `ServiceRequest/<referral id>` (a
referral is one ServiceRequest plus its Task), `Procedure/<referral id>` (what the
receiver did, once the referral is completed; `Procedure/reported-<id>` for one it
POSTed before completing), `Patient/<client id>`,
`Consent/<release id>`, `Organization/<organization id>`, `HealthcareService/<program id>`,
`QuestionnaireResponse/assessment-<assessment id>` (assessments/fhir.py).

Client data passes through the consent policy: a renderer is given the viewing
organization (`viewer`) and shows only what it may see — the patient's name only with
demographics, the needs only with social needs, the requested service, notes and outcome
only with referral details (the sender, who wrote them, always sees them), exactly as the
referral page does. A resource shown with parts withheld carries the security label
REDACTED. Without a viewer (a webhook payload for one of the referral's two parties),
resources carry no names and show what the parties see.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from clients.models import Client
from consent import policy
from consent.categories import Category
from consent.models import Release
from directory.capacity import CapacityState
from directory.models import Program
from organizations.models import Organization
from referrals.concepts import Concept
from referrals.models import Referral
from referrals.workflow import Status

from . import codes


def instant(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def version_id(moment: datetime) -> str:
    """A version id that changes whenever the row's update time does (If-Match / ETag)."""
    return str(int(moment.timestamp() * 1_000_000))


def version_matches(if_match: str | None, version: str) -> bool:
    """Whether an `If-Match` header (or a transaction entry's `request.ifMatch`) names
    `version`: FHIR servers send `W/"<versionId>"` as the ETag and clients send it back
    as read, quoted, or bare; `*` (or no header) matches any version (RFC 9110 13.1.1)."""
    if if_match is None or not if_match.strip():
        return True
    for tag in if_match.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/").strip('"') == version:
            return True
    return False


def meta(kind: str, updated_at: datetime | None = None, *, redacted: bool = False) -> dict:
    out: dict = {"profile": [codes.PROFILE[kind]]}
    if updated_at is not None:
        out["versionId"] = version_id(updated_at)
        out["lastUpdated"] = instant(updated_at)
    if redacted:
        out["security"] = [codes.REDACTED]
    return out


def ref(kind: str, pk, display: str = "") -> dict:
    out = {"reference": f"{kind}/{pk}"}
    if display:
        out["display"] = display
    return out


def _prune(resource: dict) -> dict:
    """Drop empty elements (FHIR forbids empty strings, lists and objects)."""
    return {k: v for k, v in resource.items() if v not in (None, "", [], {})}


# --- what a viewer may see of a referral ------------------------------------------------


# One answer to "what may this organization see of this referral": the consent policy's.
Sight = policy.ReferralSight


# A party that must not get names (no viewer given): status, needs and details.
PARTY_SIGHT = Sight(None, True, False, True, True, True)


def referral_sight(referral: Referral, viewer: Organization | None) -> Sight:
    """The consent policy's answer for `viewer` and this referral."""
    if viewer is None:
        return PARTY_SIGHT
    return policy.referral_sight(viewer, referral)


def _patient_ref(referral: Referral, sight: Sight) -> dict:
    name = referral.client.display_name if sight.demographics else ""
    return ref("Patient", referral.client_id, name)


def _requester(referral: Referral) -> dict:
    if referral.sender_organization_id:
        return ref("Organization", referral.sender_organization_id, referral.sender_name)
    # A referral logged by its receiver (fax, phone...): the sender is a name only.
    return {"display": referral.sender_name}


def _need_codings(referral: Referral) -> list[dict]:
    known = codes.sdoh_categories()
    out = []
    for need in referral.needs.all():
        concept = known.get(need.code)
        if concept is not None:
            out.append({"coding": [concept.coding()]})
    return out


def _part_of_id(referral: Referral) -> int | None:
    # `part_of` is the backbone's routing (referrals/coordination.py).
    return getattr(referral, "part_of_id", None)


def codeable_concept(found: Concept | None) -> dict:
    """A stored concept as a CodeableConcept: its coding (when it has a code) and its
    words as the text ({} for none)."""
    if found is None:
        return {}
    out: dict = {}
    if found.code:
        coding = {"system": found.system, "code": found.code}
        if found.display:
            coding["display"] = found.display
        out["coding"] = [coding]
    if found.display:
        out["text"] = found.display
    return out


def _status_reason(referral: Referral, sight: Sight, free_text: bool) -> dict | None:
    """Task.statusReason: why the referral is where it is — a declined one's reason as a
    code of Linkage's decline-reason system, and the explanation as the text (free text:
    shown with referral details only, and left out of codes-only payloads)."""
    if not sight.receiver_record:
        return None
    out: dict = {}
    if referral.status == Status.REJECTED and referral.decline_reason:
        label = str(referral.get_decline_reason_display())
        out["coding"] = [
            {
                "system": codes.decline_reason_system(),
                "code": referral.decline_reason,
                "display": label,
            }
        ]
    if free_text and sight.details and referral.status_reason:
        out["text"] = referral.status_reason
    return out or None


def _business_status(referral: Referral) -> dict | None:
    if not referral.business_status:
        return None
    label = str(referral.get_business_status_display())
    return {
        "coding": [
            {
                "system": codes.business_status_system(),
                "code": referral.business_status,
                "display": label,
            }
        ],
        "text": label,
    }


# --- Task and ServiceRequest --------------------------------------------------------------


def task_resource(
    referral: Referral,
    *,
    viewer: Organization | None = None,
    sight: Sight | None = None,
    free_text: bool = True,
) -> dict:
    """The referral's Task (SDOHCC Task For Referral Management): the workflow — status,
    businessStatus, owner (the receiving organization), requester, focus (the
    ServiceRequest), for (the Patient), partOf (the referral this one fulfils, when the
    backbone routed it) and, once completed, the resulting activity (a Procedure).

    `viewer`: the organization the Task is shown to (its consent decides what is shown);
    None for a party that must not get names (webhook payloads). `free_text=False` leaves
    out the one free-text element, statusReason's text (for payloads that carry codes
    only: a decline's coded reason stays)."""
    sight = sight or referral_sight(referral, viewer)
    resource = {
        "resourceType": "Task",
        "id": str(referral.pk),
        "meta": meta("Task", referral.updated_at, redacted=sight.redacted),
        "status": referral.status,
        "businessStatus": _business_status(referral),
        "statusReason": _status_reason(referral, sight, free_text),
        "intent": "order",
        "priority": referral.urgency,
        "code": {"coding": [codes.TASK_FULFILL]},
        "focus": ref("ServiceRequest", referral.pk),
        "for": _patient_ref(referral, sight),
        "authoredOn": instant(referral.sent_at or referral.created_at),
        "lastModified": instant(referral.updated_at),
        "requester": _requester(referral),
        "owner": ref(
            "Organization", referral.receiver_organization_id, referral.receiver_organization.name
        ),
        "executionPeriod": _prune(
            {"start": instant(referral.accepted_at), "end": instant(referral.closed_at)}
        ),
    }
    parent = _part_of_id(referral)
    if parent:
        resource["partOf"] = [ref("Task", parent)]
    if referral.status == Status.COMPLETED and sight.receiver_record:
        resource["output"] = [
            {
                "type": {"coding": [codes.resulting_activity()]},
                "valueReference": ref("Procedure", referral.pk),
            }
        ]
    return _prune(resource)


# ServiceRequest.status for each Task status: the request stands while the Task is open,
# is completed with it, and is revoked when the Task ends without the service.
_SR_STATUS = {
    Status.DRAFT: "draft",
    Status.REQUESTED: "active",
    Status.ACCEPTED: "active",
    Status.IN_PROGRESS: "active",
    Status.ON_HOLD: "on-hold",
    Status.COMPLETED: "completed",
    Status.REJECTED: "revoked",
    Status.CANCELLED: "revoked",
    Status.FAILED: "revoked",
    Status.ENTERED_IN_ERROR: "entered-in-error",
}


def requested_service(referral: Referral) -> tuple[dict, str]:
    """ServiceRequest.code (the requested service the sender coded, else the program's
    name) and the note for the receiver."""
    return codeable_concept(referral.requested) or {"text": referral.program_name}, referral.reason


def service_request_resource(
    referral: Referral, *, viewer: Organization | None = None, sight: Sight | None = None
) -> dict:
    """The referral's ServiceRequest (SDOHCC ServiceRequest): what is requested — the SDOH
    categories (the needs), the requested service, the patient, the requester and the
    program (performer: a HealthcareService). A referral the backbone routed is its own
    filler order, basedOn the ServiceRequest it fulfils."""
    sight = sight or referral_sight(referral, viewer)
    code, note = requested_service(referral) if sight.details else ({}, "")
    parent = _part_of_id(referral)
    category = [{"coding": [codes.SOCIAL_SERVICE_PROCEDURE]}]
    if sight.needs:
        category += _need_codings(referral)
    resource = {
        "resourceType": "ServiceRequest",
        "id": str(referral.pk),
        "meta": meta("ServiceRequest", referral.updated_at, redacted=sight.redacted),
        "basedOn": [ref("ServiceRequest", parent)] if parent else None,
        "status": _SR_STATUS[referral.status],
        "intent": "filler-order" if parent else "order",
        "category": category,
        "priority": referral.urgency,
        "code": code or {"text": "Withheld: referral details are not shared with you."},
        "orderDetail": (
            [{"coding": [codes.contacting_subject_prohibited()]}]
            if referral.do_not_contact
            else None
        ),
        "subject": _patient_ref(referral, sight),
        "authoredOn": instant(referral.sent_at or referral.created_at),
        "requester": _requester(referral),
        # In the receiver's intake queue (no program chosen yet) the performer is the
        # organization it was addressed to.
        "performer": [
            ref("HealthcareService", referral.program_id, referral.program.name)
            if referral.program_id
            else ref(
                "Organization",
                referral.receiver_organization_id,
                referral.receiver_organization.name,
            )
        ],
        "supportingInfo": (
            [ref("QuestionnaireResponse", f"assessment-{referral.assessment_id}")]
            if referral.assessment_id and sight.needs
            else None
        ),
        "note": [{"text": note}] if note else None,
    }
    return _prune(resource)


def procedure_resource(referral: Referral, *, sight: Sight) -> dict:
    """What the receiver did (SDOHCC Procedure), for a completed referral: the resulting
    activity's code and date (when the receiver said; else the program's service, on the
    day the referral closed), the outcome, the outcome note."""
    activity = referral.activity
    code = codeable_concept(activity)
    performed = _performed(activity.performed) if activity is not None else None
    rest = referral.outcome_note
    outcome_label = str(referral.get_outcome_display()) if referral.outcome else ""
    category = {"coding": [codes.SOCIAL_SERVICE_PROCEDURE]}
    if sight.needs:
        category["coding"] += [c["coding"][0] for c in _need_codings(referral)]
    resource = {
        "resourceType": "Procedure",
        "id": str(referral.pk),
        "meta": meta("Procedure", referral.updated_at, redacted=sight.redacted),
        "basedOn": [ref("ServiceRequest", referral.pk)],
        "status": "completed",
        "category": category,
        "code": code or {"text": referral.program_name},
        "subject": _patient_ref(referral, sight),
        "performedDateTime": performed or instant(referral.closed_at),
        "performer": [
            {
                "actor": ref(
                    "Organization",
                    referral.receiver_organization_id,
                    referral.receiver_organization.name,
                )
            }
        ],
        "outcome": (
            {
                "coding": [
                    {
                        "system": codes.referral_outcome_system(),
                        "code": referral.outcome,
                        "display": outcome_label,
                    }
                ],
                "text": outcome_label,
            }
            if referral.outcome
            else None
        ),
        "note": [{"text": rest}] if rest else None,
    }
    return _prune(resource)


# The elements of a reported Procedure shown back (its references are the server's own).
_REPORTED_ELEMENTS = ("status", "statusReason", "code", "performedDateTime", "performedPeriod")
_REPORTED_DETAILS = ("outcome", "note")


def reported_procedure_resource(reported, *, sight: Sight) -> dict:
    """A Procedure the referral's receiver POSTed (interop.fhir.models.ReportedProcedure),
    as the viewer may see it: what it did, when, and (with referral details) the outcome
    and notes it sent; the patient's name only with demographics."""
    referral = reported.referral
    sent = reported.resource
    resource = {
        "resourceType": "Procedure",
        "id": reported.fhir_id,
        "meta": meta("Procedure", reported.created_at, redacted=sight.redacted),
        "basedOn": [ref("ServiceRequest", referral.pk)],
        **{name: sent.get(name) for name in _REPORTED_ELEMENTS},
        "category": {"coding": [codes.SOCIAL_SERVICE_PROCEDURE]},
        "subject": _patient_ref(referral, sight),
        "performer": [
            {
                "actor": ref(
                    "Organization",
                    referral.receiver_organization_id,
                    referral.receiver_organization.name,
                )
            }
        ],
    }
    if sight.receiver_record:
        resource.update({name: sent.get(name) for name in _REPORTED_DETAILS})
    return _prune(resource)


def _performed(moment: date | datetime | None) -> str | None:
    if isinstance(moment, datetime):
        return instant(moment)
    return moment.isoformat() if moment is not None else None


# --- Patient --------------------------------------------------------------------------------

_LANGUAGES = {"en", "es", "zh", "vi", "ar"}
_OMB_RACE = {c.value for c in Client.Race} - {"multiple", "declined", "unknown"}
_OMB_ETHNICITY = {c.value for c in Client.Ethnicity} - {"declined", "unknown"}


def patient_resource(client: Client, *, categories, identifiers=()) -> dict:
    """The client as a US Core Patient — with demographics only when `categories` (the
    consent policy's answer for the viewer) includes them; otherwise the id alone,
    labelled REDACTED. `identifiers`: the client's identifiers from other systems."""
    shows = Category.DEMOGRAPHICS in set(categories)
    resource: dict = {
        "resourceType": "Patient",
        "id": str(client.pk),
        "meta": meta("Patient", client.updated_at, redacted=not shows),
    }
    if client.merged_into_id is not None:
        # A record merged into another (a tombstone): the survivor is the Patient now.
        resource["active"] = False
        resource["link"] = [{"other": ref("Patient", client.merged_into_id), "type": "replaced-by"}]
    if not shows:
        return resource
    names = [{"use": "official", "family": client.family_name, "given": [client.given_name]}]
    if client.preferred_name:
        names.append(
            {"use": "usual", "family": client.family_name, "given": [client.preferred_name]}
        )
    telecom = []
    if client.phone:
        telecom.append({"system": "phone", "value": client.phone})
    if client.email:
        telecom.append({"system": "email", "value": client.email})
    address = _prune(
        {
            "line": [client.address_line] if client.address_line else None,
            "city": client.city,
            "state": client.state,
            "postalCode": client.zip_code,
        }
    )
    extensions = []
    race = _omb_extension(codes.US_CORE_RACE, client.race, _OMB_RACE, client.get_race_display())
    if race:
        extensions.append(race)
    ethnicity = _omb_extension(
        codes.US_CORE_ETHNICITY, client.ethnicity, _OMB_ETHNICITY, client.get_ethnicity_display()
    )
    if ethnicity:
        extensions.append(ethnicity)
    resource.update(
        _prune(
            {
                "extension": extensions,
                "identifier": [
                    _prune(
                        {
                            "system": i.system,
                            "value": i.value,
                            "assigner": ref("Organization", i.organization_id),
                        }
                    )
                    for i in identifiers
                ],
                "active": client.merged_into_id is None,
                "name": names,
                "telecom": telecom,
                "gender": client.sex,
                "birthDate": client.date_of_birth.isoformat(),
                "address": [address] if address else None,
                "communication": (
                    [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": lang}]}}]
                    if (lang := client.preferred_language) in _LANGUAGES
                    else None
                ),
                "managingOrganization": ref("Organization", client.created_by_organization_id),
            }
        )
    )
    return resource


def _omb_extension(url: str, value: str, omb: set[str], label: str) -> dict | None:
    """US Core race/ethnicity: the OMB category when there is one; "more than one race",
    declined and unknown as text only (the extension requires the text)."""
    if value in ("unknown", ""):
        return None
    parts = []
    if value in omb:
        parts.append(
            {
                "url": "ombCategory",
                "valueCoding": {
                    "system": codes.OMB_RACE_ETHNICITY,
                    "code": value,
                    "display": label,
                },
            }
        )
    parts.append({"url": "text", "valueString": label})
    return {"url": url, "extension": parts}


# --- the directory ----------------------------------------------------------------------------


def organization_resource(organization: Organization) -> dict:
    """An organization of the network's directory (US Core Organization)."""
    return _prune(
        {
            "resourceType": "Organization",
            "id": str(organization.pk),
            "meta": meta("Organization"),
            "active": organization.is_active,
            "type": [
                {
                    "coding": [
                        {
                            "system": codes.organization_kind_system(),
                            "code": organization.kind,
                            "display": str(organization.get_kind_display()),
                        }
                    ]
                }
            ],
            "name": organization.name,
        }
    )


_CAPACITY = {
    CapacityState.OPEN: "capacity",
    CapacityState.WAITLIST: "waitlist",
    CapacityState.CLOSED: "no-capacity",
}


def healthcare_service_resource(program: Program) -> dict:
    """A program of the directory (SDOHCC HealthcareService): who provides it, its SDOH
    categories (type), its capacity status (characteristic, the IG's capacity codes) and
    contact details. `program` needs `open_referrals` annotated for the capacity."""
    temporary = codes.temporary_codes()
    known = codes.sdoh_categories()
    telecom = []
    if program.phone:
        telecom.append({"system": "phone", "value": program.phone, "use": "work"})
    if program.email:
        telecom.append({"system": "email", "value": program.email, "use": "work"})
    if program.website:
        telecom.append({"system": "url", "value": program.website, "use": "work"})
    characteristic = None
    if hasattr(program, "open_referrals"):
        characteristic = [{"coding": [temporary[_CAPACITY[program.capacity_state]].coding()]}]
    return _prune(
        {
            "resourceType": "HealthcareService",
            "id": str(program.pk),
            "meta": meta("HealthcareService", program.updated_at),
            "active": program.accepting_referrals and program.organization.is_active,
            "providedBy": ref("Organization", program.organization_id, program.organization.name),
            "category": [
                {"coding": [{"system": codes.US_CORE_CATEGORY, "code": "sdoh", "display": "SDOH"}]}
            ],
            "type": [
                {"coding": [known[c.code].coding()]}
                for c in program.categories.all()
                if c.code in known
            ]
            # The services it delivers (SNOMED CT), which route referrals addressed to its
            # organization (directory.selectors.resolve_program).
            + [
                {"coding": [_prune({"system": s.system, "code": s.code, "display": s.display})]}
                for s in program.service_codes.all()
            ],
            "name": program.name,
            "comment": program.description,
            "telecom": telecom,
            "eligibility": ([{"comment": program.eligibility}] if program.eligibility else None),
            "characteristic": characteristic,
            "availabilityExceptions": program.hours,
        }
    )


# --- Consent -----------------------------------------------------------------------------------


def release_changed_at(release: Release) -> datetime:
    """When a release last changed (captured, then perhaps revoked): its Consent's
    lastUpdated and version."""
    return max(d for d in (release.captured_at, release.revoked_at) if d is not None)


def release_version(release: Release) -> str:
    return version_id(release_changed_at(release))


def consent_resource(release: Release) -> dict:
    """A release of information as an SDOHCC Consent. Recipients are provision.actor
    entries with role IRCP (Organizations, or the logical recipient "all active partners
    of the network"); categories are provision.class codes of Linkage's release-category
    system; the expiry is provision.period.end; a revoked or expired release is
    `inactive`. Release rows are shown to their capturing organization and to the
    organizations they name (Release.objects.visible_to); no names of people travel."""
    actors = [
        {
            "role": {"coding": [codes.RECIPIENT_ROLE]},
            "reference": ref("Organization", r.pk, r.name),
        }
        for r in release.recipients.all()
    ]
    if release.all_network_partners:
        actors.append(
            {
                "role": {"coding": [codes.RECIPIENT_ROLE]},
                "reference": {
                    "identifier": {
                        "system": codes.release_recipient_system(),
                        "value": codes.ALL_NETWORK_PARTNERS,
                    },
                    "display": "All active partners in the network",
                },
            }
        )
    classes = [
        {"system": codes.release_category_system(), "code": c.value, "display": str(c.label)}
        for c in release.categories
    ]
    changed = release_changed_at(release)
    attachment = None
    if release.paper_form:
        extension = release.paper_form.name.rsplit(".", 1)[-1].lower()
        attachment = {
            "contentType": _ATTACHMENT_TYPES.get(extension, "application/octet-stream"),
            "language": release.language,
            "title": "Signed release of information",
            "creation": instant(release.captured_at),
        }
    return _prune(
        {
            "resourceType": "Consent",
            "id": str(release.pk),
            "meta": meta("Consent", changed),
            "status": "active"
            if release.status_at() in ("active", "not yet effective")
            else "inactive",
            "scope": {"coding": [codes.CONSENT_SCOPE_PRIVACY]},
            "category": [{"coding": [codes.CONSENT_CATEGORY_DISCLOSURE]}],
            "patient": ref("Patient", release.client_id),
            "dateTime": instant(release.captured_at),
            "organization": [ref("Organization", release.organization_id)],
            "sourceAttachment": attachment,
            "policyRule": {"coding": [codes.CONSENT_POLICY_HIPAA]},
            "provision": {
                "type": "permit",
                "period": {
                    "start": instant(release.effective_at),
                    "end": instant(release.expires_at),
                },
                "actor": actors,
                "purpose": [
                    {
                        "system": codes.release_purpose_system(),
                        "code": release.purpose,
                        "display": str(release.get_purpose_display()),
                    }
                ],
                "class": classes,
            },
        }
    )


_ATTACHMENT_TYPES = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg"}
