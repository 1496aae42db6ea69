"""Writes: capturing and revoking releases of information."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from audit.models import AuditEvent
from audit.services import audit_record
from organizations.models import Membership, Organization, User

from . import policy
from .categories import FIELD_FOR, NAMED_RECIPIENTS_ONLY, Category
from .models import Release
from .signals import release_ended

# Messages shared with the form, so the page and the service say the same thing.
MESSAGES = {
    "no_category": "Choose at least one kind of information to share.",
    "no_recipient": "Name at least one organization, or choose all active partners.",
    "part2_all_partners": (
        "Substance-use-disorder records (42 CFR Part 2) may only be released to organizations "
        "named one by one: untick “all active partners” or the substance-use-disorder "
        "category."
    ),
    "recipient_outside": "Recipients must be active organizations of the client's network.",
    "esignature_name": "Type the signer's full name to sign electronically.",
    "esignature_confirmed": "The signer must tick the box to agree to this release.",
    "paper_form": "Upload the signed paper form.",
    "verbal_witness": "Name the witness to the verbal consent.",
    "representative_name": "Give the legal representative's name.",
    "representative_relationship": "Give the representative's relationship to the client.",
    "expiry_order": "The expiry date must be after the effective date.",
    "purpose_other": "Describe the purpose.",
}


def release_create(
    *,
    client,
    organization: Organization,
    captured_by: User,
    recipients: Iterable[Organization],
    all_network_partners: bool,
    categories: Iterable[Category | str],
    purpose: str,
    purpose_other: str = "",
    language: str,
    method: str,
    esignature_name: str = "",
    esignature_confirmed: bool = False,
    paper_form: UploadedFile | None = None,
    verbal_witness_name: str = "",
    signer: str,
    representative_name: str = "",
    representative_relationship: str = "",
    effective_at: datetime,
    expires_at: datetime,
) -> Release:
    """Record a client's release of information captured by `captured_by` for
    `organization`.

    Every rule is checked here as well as in the form (the assessment flow and the API call
    this directly): the organization may see the client's demographics, at least one
    category, recipients (named ones must be active organizations of the client's network)
    or all partners, never SUD records to all partners (42 CFR Part 2), a complete signature
    for the method, a named representative, expiry after effective. Raises ValidationError
    (keyed by field) and writes nothing when one fails. For an e-signature the time of
    signing and the staff member present are recorded.
    """
    recipients = list(recipients)
    categories = sorted({Category(c) for c in categories})
    purpose_other = purpose_other.strip()
    esignature_name = esignature_name.strip()
    verbal_witness_name = verbal_witness_name.strip()
    representative_name = representative_name.strip()
    representative_relationship = representative_relationship.strip()

    errors: dict[str, list[str]] = {}

    def fail(field: str, key: str) -> None:
        errors.setdefault(field, []).append(MESSAGES[key])

    if not policy.may_see(organization, Category.DEMOGRAPHICS, client):
        raise ValidationError(
            gettext("Your organization may not capture a release for this client.")
        )
    client.ensure_current()  # a merged record: its survivor takes new releases
    if not Membership.objects.filter(
        user=captured_by, organization=organization, is_active=True
    ).exists():
        raise ValidationError(
            gettext("Only staff of the capturing organization can record a release.")
        )

    if not categories:
        fail("categories", "no_category")
    if not recipients and not all_network_partners:
        fail("recipients", "no_recipient")
    if all_network_partners and NAMED_RECIPIENTS_ONLY.intersection(categories):
        fail("all_network_partners", "part2_all_partners")
    if any(r.network_id != client.network_id or not r.is_active for r in recipients):
        fail("recipients", "recipient_outside")
    if purpose not in Release.Purpose.values:
        errors.setdefault("purpose", []).append("Choose a purpose.")
    elif purpose == Release.Purpose.OTHER and not purpose_other:
        fail("purpose_other", "purpose_other")
    if language not in Release.Language.values:
        errors.setdefault("language", []).append("Choose the language of the form.")

    if method == Release.Method.ESIGNATURE:
        if not esignature_name:
            fail("esignature_name", "esignature_name")
        if not esignature_confirmed:
            fail("esignature_confirmed", "esignature_confirmed")
    elif method == Release.Method.PAPER:
        if not paper_form:
            fail("paper_form", "paper_form")
    elif method == Release.Method.VERBAL:
        if not verbal_witness_name:
            fail("verbal_witness_name", "verbal_witness")
    else:
        errors.setdefault("method", []).append("Choose how consent is given.")

    if signer == Release.Signer.REPRESENTATIVE:
        if not representative_name:
            fail("representative_name", "representative_name")
        if not representative_relationship:
            fail("representative_relationship", "representative_relationship")
    elif signer != Release.Signer.CLIENT:
        errors.setdefault("signer", []).append("Choose who signs.")

    if expires_at <= effective_at:
        fail("expires_at", "expiry_order")
    if errors:
        raise ValidationError(errors)

    now = timezone.now()
    is_esignature = method == Release.Method.ESIGNATURE
    is_representative = signer == Release.Signer.REPRESENTATIVE
    with transaction.atomic():
        # Only what belongs to the chosen method and signer is kept, so a release never
        # carries a stray witness or file from a method that was abandoned on the form.
        release = Release(
            client=client,
            organization=organization,
            captured_by=captured_by,
            captured_at=now,
            all_network_partners=all_network_partners,
            purpose=purpose,
            purpose_other=purpose_other if purpose == Release.Purpose.OTHER else "",
            language=language,
            method=method,
            esignature_name=esignature_name if is_esignature else "",
            esignature_confirmed=is_esignature and bool(esignature_confirmed),
            esignature_signed_at=now if is_esignature else None,
            staff_present=captured_by if is_esignature else None,
            verbal_witness_name=verbal_witness_name if method == Release.Method.VERBAL else "",
            signer=signer,
            representative_name=representative_name if is_representative else "",
            representative_relationship=(representative_relationship if is_representative else ""),
            effective_at=effective_at,
            expires_at=expires_at,
            **{FIELD_FOR[c]: True for c in categories},
        )
        if method == Release.Method.PAPER:
            # The uploaded name often carries the client's name; stored files get a random
            # one so no PHI ends up in paths or URLs.
            extension = os.path.splitext(paper_form.name)[1].lower()[:10]
            release.paper_form.save(f"{uuid.uuid4().hex}{extension}", paper_form, save=False)
        release.save()
        release.recipients.set(recipients)
        audit_record(
            action=AuditEvent.Action.CREATE,
            object_type="release",
            object_ids=[release.pk],
            client_ids=[client.pk],
            actor=captured_by,
            organization=organization,
            detail={
                "categories": [c.value for c in categories],
                "method": method,
                "all_network_partners": all_network_partners,
                "recipient_ids": sorted(r.pk for r in recipients),
            },
        )
    return release


def release_revoke(
    *, release: Release, actor: User, organization: Organization, reason: str
) -> Release:
    """Revoke a release now: from this moment its recipients lose access to what it
    covered (the policy checks `revoked_at`). Only the capturing organization records a
    revocation — whoever of its staff the client tells. Refuses a release already revoked or
    expired, and a blank reason. Announces `release_ended` once committed."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": ["Give the reason for the revocation."]})
    with transaction.atomic():
        # Lock and re-check: two people revoking at once must not both succeed.
        locked = Release.objects.select_for_update().get(pk=release.pk)
        if locked.organization_id != organization.pk:
            raise ValidationError(
                gettext(
                    "Only the organization that captured this release can record its revocation."
                )
            )
        if not Membership.objects.filter(
            user=actor, organization=organization, is_active=True
        ).exists():
            raise ValidationError(
                gettext("Only staff of the capturing organization can revoke it.")
            )
        now = timezone.now()
        status = locked.status_at(now)
        if status == "revoked":
            when = timezone.localtime(locked.revoked_at)
            raise ValidationError(
                gettext("This release was already revoked on %(date)s.")
                % {"date": date_format(when, "M d, Y")}
            )
        if status == "expired":
            when = timezone.localtime(locked.expires_at)
            raise ValidationError(
                gettext("This release expired on %(date)s; there is nothing left to revoke.")
                % {"date": date_format(when, "M d, Y")}
            )
        locked.revoked_at = now
        locked.revoked_by = actor
        locked.revocation_reason = reason
        locked.save(update_fields=["revoked_at", "revoked_by", "revocation_reason"])
        audit_record(
            action=AuditEvent.Action.REVOKE,
            object_type="release",
            object_ids=[locked.pk],
            client_ids=[locked.client_id],
            actor=actor,
            organization=organization,
            # The reason is free text and may hold PHI: it stays on the release only.
            detail={"categories": [c.value for c in locked.categories]},
        )
        release_id = locked.pk
        transaction.on_commit(
            lambda: release_ended.send(sender=Release, release_id=release_id, reason="revoked")
        )
    return locked


def releases_move_to_client(*, from_client_id: int, to_client_id: int) -> int:
    """The releases of a client record merged into another now belong to the surviving
    record (clients.services.client_merge calls this inside its transaction: consent sits
    below clients and is told by a call, not a signal). The release is the client's word,
    whichever record it was captured on; nothing is unique per client. Returns how many."""
    moved = Release.objects.select_for_update().filter(client_id=from_client_id)
    return moved.update(client_id=to_client_id)
