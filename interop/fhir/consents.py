"""Consent ⇄ Release (the client's release of information), through consent.services.

The mapping (README.md, "FHIR R4"):

- recipients: `provision.actor` entries with role IRCP (v3-ParticipationType) referencing
  Organizations of the network — or, for "all active partners in the network", a logical
  reference with identifier `<FHIR_CANONICAL_BASE>/CodeSystem/release-recipient` |
  `all-network-partners`;
- data categories: `provision.class` (or `provision.securityLabel`) codings of
  `<FHIR_CANONICAL_BASE>/CodeSystem/release-category`: demographics, social_needs,
  referrals, health, behavioral_health, sud (42 CFR Part 2: named recipients only); none
  (as in the IG's own example): what a referral carries, said in a warning;
- expiry: `provision.period.end` (default: the network's release period from the start);
  effect: `provision.period.start` (default: now);
- purpose: `provision.purpose` codings of `.../CodeSystem/release-purpose` (default
  care_coordination);
- the signed form: `sourceAttachment` (PDF, PNG or JPEG, inline `data`, up to 10 MB) — a
  Consent is recorded as a release on an uploaded signed form, signed by the patient;
- revocation: an update with `status = inactive` (release_revoke; nothing else may
  change: a changed release is a new Consent).
"""

from __future__ import annotations

import base64
import binascii

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from assessments.services import add_months
from consent.categories import Category
from consent.models import Release
from consent.services import release_create, release_revoke
from organizations.models import Organization
from referrals.transitions import CARRIED_CATEGORIES

from . import codes
from .errors import FhirError, Issue, code_invalid, from_service_error, invalid, required
from .references import Resolver
from .referrals import check_update_id
from .render import release_version, version_matches
from .validation import has_coding, moment

MAX_FORM_BYTES = 10 * 1024 * 1024
_FORM_TYPES = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}
REVOKED_REASON = "Revoked through the FHIR interface (Consent.status set to inactive)."

EXPRESSIONS = {
    "categories": "Consent.provision.class",
    "recipients": "Consent.provision.actor",
    "all_network_partners": "Consent.provision.actor",
    "expires_at": "Consent.provision.period.end",
    "purpose": "Consent.provision.purpose",
    "paper_form": "Consent.sourceAttachment",
    "language": "Consent.sourceAttachment.language",
}


def consent_create(
    *,
    consent: dict,
    where: str,
    resolver: Resolver,
    warnings: list[Issue],
    referred_to: list[Organization] = (),
) -> Release:
    """Record the release a Consent describes (FhirError, nothing written, when it is
    incomplete or refused by consent.services.release_create). What was assumed for the
    caller (a default it did not send) is appended to `warnings`. `referred_to`: the
    organizations the same transaction refers the patient to, the recipients of a
    Consent that names none (the IG's own example names none)."""
    caller = resolver.caller
    expressions = {k: v.replace("Consent", where, 1) for k, v in EXPRESSIONS.items()}
    if consent.get("status") != "active":
        raise invalid(
            f"{where}.status: a new Consent is active (revoke it later by setting inactive).",
            expression=f"{where}.status",
        )
    if not has_coding(
        consent.get("scope"), codes.CONSENT_SCOPE_PRIVACY["system"], "patient-privacy"
    ):
        raise code_invalid(
            f"{where}.scope: Linkage records privacy consents (consentscope patient-privacy).",
            expression=f"{where}.scope",
        )
    for index, organization in enumerate(consent.get("organization") or []):
        here = f"{where}.organization[{index}]"
        target = resolver.target(organization, where=here, kinds=("Organization",))
        if target.id != str(caller.organization.pk):
            raise invalid(
                f"{here}: the organization that records the consent is yours "
                f"(Organization/{caller.organization.pk}).",
                expression=here,
            )
    patient = resolver.target(consent.get("patient"), where=f"{where}.patient", kinds=("Patient",))
    client = resolver.client(patient, where=f"{where}.patient")
    for index, performer in enumerate(consent.get("performer") or []):
        here = f"{where}.performer[{index}]"
        target = resolver.target(performer, where=here, kinds=("Patient", "RelatedPerson"))
        if target.kind != "Patient" or resolver.client(target, where=here).pk != client.pk:
            raise invalid(
                f"{here}: over FHIR, Linkage records releases signed by the patient; a legal "
                "representative's release is captured in the browser.",
                code="not-supported",
                expression=here,
            )
    provision = consent.get("provision") or {}
    pwhere = f"{where}.provision"
    if provision.get("type", "permit") != "permit":
        raise invalid(
            f"{pwhere}.type: a release permits (deny provisions are not supported).",
            code="not-supported",
            expression=f"{pwhere}.type",
        )
    if provision.get("provision"):
        raise invalid(
            f"{pwhere}.provision: nested provisions are not supported.",
            code="not-supported",
            expression=f"{pwhere}.provision",
        )
    recipients, all_partners = _recipients(provision, pwhere, resolver, referred_to, warnings)
    categories = _categories(provision, pwhere, warnings)
    purpose = _purpose(provision, pwhere)
    period = provision.get("period") or {}
    effective = (
        moment(period["start"], where=f"{pwhere}.period.start")
        if period.get("start")
        else timezone.now()
    )
    expires = (
        moment(period["end"], where=f"{pwhere}.period.end", end_of_day=True)
        if period.get("end")
        else add_months(effective, client.network.release_default_months)
    )
    form, language = _signed_form(consent, where)
    try:
        return release_create(
            client=client,
            organization=caller.organization,
            captured_by=caller.user,
            recipients=recipients,
            all_network_partners=all_partners,
            categories=categories,
            purpose=purpose,
            language=language,
            method=Release.Method.PAPER,
            paper_form=form,
            signer=Release.Signer.CLIENT,
            effective_at=effective,
            expires_at=expires,
        )
    except ValidationError as error:
        raise from_service_error(error, expressions=expressions) from None


def _recipients(
    provision: dict,
    where: str,
    resolver: Resolver,
    referred_to: list[Organization],
    warnings: list[Issue],
) -> tuple[list[Organization], bool]:
    recipients, all_partners = [], False
    for index, actor in enumerate(provision.get("actor") or []):
        here = f"{where}.actor[{index}]"
        if not has_coding(actor.get("role"), codes.V3_PARTICIPATION_TYPE, "IRCP"):
            raise code_invalid(
                f"{here}.role: Linkage reads the release's recipients: role IRCP "
                "(v3-ParticipationType, information recipient).",
                expression=f"{here}.role",
            )
        reference = actor.get("reference") or {}
        identifier = reference.get("identifier") or {}
        if not reference.get("reference") and identifier:
            if (
                identifier.get("system") == codes.release_recipient_system()
                and identifier.get("value") == codes.ALL_NETWORK_PARTNERS
            ):
                all_partners = True
                continue
            raise invalid(
                f"{here}.reference.identifier: the one logical recipient is "
                f"{codes.release_recipient_system()}|{codes.ALL_NETWORK_PARTNERS}.",
                expression=f"{here}.reference",
            )
        target = resolver.target(reference, where=f"{here}.reference", kinds=("Organization",))
        recipients.append(resolver.organization(target, where=f"{here}.reference"))
    if not recipients and not all_partners and not provision.get("actor") and referred_to:
        # A Consent sent with the referral it authorizes: it releases to whom the referral
        # goes, and to nobody else; the caller is told.
        recipients = list({o.pk: o for o in referred_to}.values())
        warnings.append(
            Issue(
                f"{where}.actor is absent: the release names the organizations this "
                "transaction refers the patient to ("
                + ", ".join(f"Organization/{o.pk} {o.name}" for o in recipients)
                + "). Send provision.actor (role IRCP) to name others.",
                "incomplete",
                severity="warning",
                expression=(f"{where}.actor",),
            )
        )
    if not recipients and not all_partners:
        raise required(
            f"{where}.actor: name the recipients (role IRCP, Organization references); "
            "without them, a Consent releases only to the organizations a referral in the "
            "same transaction goes to.",
            expression=f"{where}.actor",
        )
    return recipients, all_partners


def _categories(provision: dict, where: str, warnings: list[Issue]) -> list[str]:
    system = codes.release_category_system()
    found = []
    labelled = [(f"{where}.class[{i}]", c) for i, c in enumerate(provision.get("class") or [])]
    labelled += [
        (f"{where}.securityLabel[{i}]", c)
        for i, c in enumerate(provision.get("securityLabel") or [])
    ]
    for here, coding in labelled:
        if coding.get("system") != system or coding.get("code") not in Category.values:
            raise code_invalid(
                f"{here}: release categories are codes of {system}: {', '.join(Category.values)}.",
                expression=here,
            )
        found.append(coding["code"])
    if not found:
        # The IG's own example names no classes. Such a release covers what a referral
        # carries and never behavioral health or 42 CFR Part 2 data; the caller is told.
        carried = [c.value for c in CARRIED_CATEGORIES]
        warnings.append(
            Issue(
                f"{where}.class is absent: the release covers what a referral carries ("
                + ", ".join(Category(c).label.lower() for c in carried)
                + "), never health, behavioral health or 42 CFR Part 2 data. Send "
                f"{where}.class (codes of {system}) to say otherwise.",
                "incomplete",
                severity="warning",
                expression=(f"{where}.class",),
            )
        )
        return sorted(carried)
    return sorted(set(found))


def _purpose(provision: dict, where: str) -> str:
    system = codes.release_purpose_system()
    for index, coding in enumerate(provision.get("purpose") or []):
        if coding.get("system") == system:
            if coding.get("code") not in Release.Purpose.values or coding["code"] == "other":
                raise code_invalid(
                    f"{where}.purpose[{index}]: one of care_coordination, treatment, payment.",
                    expression=f"{where}.purpose[{index}]",
                )
            return coding["code"]
    return Release.Purpose.CARE_COORDINATION


def _signed_form(consent: dict, where: str) -> tuple[SimpleUploadedFile, str]:
    attachment = consent.get("sourceAttachment")
    here = f"{where}.sourceAttachment"
    if not attachment or not attachment.get("data"):
        raise required(
            f"{here}: attach the signed release form (PDF, PNG or JPEG, inline data); Linkage "
            "keeps it with the release.",
            expression=here,
        )
    extension = _FORM_TYPES.get(attachment.get("contentType", ""))
    if extension is None:
        raise code_invalid(
            f"{here}.contentType: the signed form is application/pdf, image/png or image/jpeg.",
            expression=f"{here}.contentType",
        )
    try:
        content = base64.b64decode(attachment["data"], validate=True)
    except (binascii.Error, ValueError):
        raise invalid(f"{here}.data is not base64.", expression=f"{here}.data") from None
    if len(content) > MAX_FORM_BYTES:
        raise invalid(f"{here}: the form is larger than 10 MB.", expression=f"{here}.data")
    language = (attachment.get("language") or "en").split("-")[0].lower()
    if language not in Release.Language.values:
        language = Release.Language.EN
    upload = SimpleUploadedFile(f"consent.{extension}", content, attachment["contentType"])
    return upload, language


def consent_update(
    *,
    release: Release,
    consent: dict,
    where: str,
    resolver: Resolver,
    if_match: str | None = None,
) -> Release:
    """An update of a Consent: `status = inactive` revokes the release (consent.services);
    sent again as it is, nothing changes; a change of its categories or recipients is
    refused (a changed release is a new Consent). With `if_match` (If-Match), a release
    changed since that version is refused with 412."""
    caller = resolver.caller
    check_update_id(consent, release.pk, where)
    if not version_matches(if_match, release_version(release)):
        raise FhirError(
            412,
            [
                Issue(
                    f"Consent/{release.pk} changed since version {if_match} (If-Match): read "
                    "it again and decide anew.",
                    "conflict",
                )
            ],
        )
    _unchanged_provision(release, consent, where)
    status = consent.get("status")
    current = "active" if release.status_at() in ("active", "not yet effective") else "inactive"
    if status == current:
        return release
    if status != "inactive":
        raise invalid(
            f"{where}.status: a release is revoked with status inactive; {status!r} cannot be "
            "set by update.",
            expression=f"{where}.status",
        )
    try:
        return release_revoke(
            release=release,
            actor=caller.user,
            organization=caller.organization,
            reason=REVOKED_REASON,
        )
    except ValidationError as error:
        raise from_service_error(error, expressions={"": f"{where}.status"}) from None


def _unchanged_provision(release: Release, consent: dict, where: str) -> None:
    """An update may not change what the release covers or names: compared as sent."""
    provision = consent.get("provision")
    if provision is None:
        return
    classes = {
        c.get("code")
        for c in [*(provision.get("class") or []), *(provision.get("securityLabel") or [])]
        if c.get("system") == codes.release_category_system()
    }
    if classes and classes != {c.value for c in release.categories}:
        raise invalid(
            f"{where}.provision.class: the categories of a release do not change; capture a "
            "new Consent instead.",
            expression=f"{where}.provision.class",
        )
    named = {
        (a.get("reference") or {}).get("reference", "").rsplit("/", 1)[-1]
        for a in provision.get("actor") or []
        if (a.get("reference") or {}).get("reference")
    }
    if named and named != {str(r.pk) for r in release.recipients.all()}:
        raise invalid(
            f"{where}.provision.actor: the recipients of a release do not change; capture a "
            "new Consent instead.",
            expression=f"{where}.provision.actor",
        )
