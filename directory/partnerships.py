"""Writes for partnerships and their agreements, as the backbone and org admins make them
in pages (the admin site and `partnership_get_or_create` remain for provisioning).

Who may do what: the network's backbone, for any organizations of the network; an org
admin, for partnerships their own organization is party to (and stays party to). The views
check the role's capability; these services check the organization's standing, so every
path that calls them holds the same rules. Each write is one transaction, audited, and
writes nothing when it refuses.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_lazy, ngettext

from audit.models import AuditEvent
from audit.services import audit_record
from organizations.models import Organization, Partnership, PartnershipDocument, User
from organizations.services import partnership_may_manage

AGREEMENT_MAX_BYTES = 10 * 1024 * 1024
AGREEMENT_EXTENSIONS = ["pdf", "jpg", "jpeg", "png"]
# What each accepted file starts with: an extension alone does not make a file a PDF, and a
# mislabelled upload would be served under the wrong type.
_SIGNATURES = {
    "pdf": (b"%PDF-",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
}
# An agreement this close to its end is flagged so someone renews it in time.
EXPIRY_WARNING_DAYS = 60

MESSAGES = {
    "not_yours": gettext_lazy(
        "Only the partnership's organizations or the network's backbone may do this."
    ),
    "name": gettext_lazy("Give the partnership a name."),
    "name_taken": gettext_lazy("The network already has a partnership with this name."),
    "too_few": gettext_lazy("Choose at least two organizations for a partnership."),
    "foreign": gettext_lazy("Choose organizations of your network only."),
    "inactive": gettext_lazy("These organizations are no longer active: {names}."),
    "own_missing": gettext_lazy(
        "Your own organization must be one of the partnership's organizations."
    ),
    "status": gettext_lazy("Choose a status."),
    "end_before_start": gettext_lazy("The end date cannot be before the start date."),
    "title": gettext_lazy("Give the agreement a title."),
    "kind": gettext_lazy("Choose the kind of agreement."),
    "signed_future": gettext_lazy("The signing date cannot be in the future."),
    "expires_before_signed": gettext_lazy("The expiry date cannot be before the signing date."),
    "file_missing": gettext_lazy("Choose the agreement's file."),
    "file_type": gettext_lazy("Upload a PDF, JPEG or PNG file."),
    "file_content": gettext_lazy("The file is not the PDF, JPEG or PNG its name says it is."),
    "file_size": gettext_lazy("The file is larger than 10 MB."),
}


@dataclass
class PartnershipData:
    """A partnership's fields as a person sets them."""

    name: str
    organizations: list[Organization] = field(default_factory=list)
    status: str = Partnership.Status.PROPOSED
    start_date: date | None = None
    end_date: date | None = None
    description: str = ""
    referral_protocol: str = ""


SCALAR_FIELDS = ("name", "status", "start_date", "end_date", "description", "referral_protocol")


def partnership_may_create(*, organization: Organization) -> bool:
    """Any organization's admin may propose a partnership that includes it; the backbone's
    for any organizations of the network (the role is checked by the view)."""
    return organization.is_active


def _validate(
    data: PartnershipData,
    *,
    acting_for: Organization,
    network_id: int,
    partnership: Partnership | None = None,
) -> None:
    errors: dict[str, list[str]] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    data.name = data.name.strip()
    if not data.name:
        fail("name", MESSAGES["name"])
    else:
        same = Partnership.objects.filter(network_id=network_id, name__iexact=data.name)
        if partnership is not None:
            same = same.exclude(pk=partnership.pk)
        if same.exists():
            fail("name", MESSAGES["name_taken"])
    chosen = {o.pk: o for o in data.organizations}
    if any(o.network_id != network_id for o in chosen.values()):
        fail("organizations", MESSAGES["foreign"])
    elif len(chosen) < 2:
        fail("organizations", MESSAGES["too_few"])
    already = set(partnership.organizations.values_list("pk", flat=True)) if partnership else set()
    # An organization that closed may stay on the partnerships it had; it joins no new one.
    inactive = sorted(o.name for o in chosen.values() if not o.is_active and o.pk not in already)
    if inactive:
        fail("organizations", MESSAGES["inactive"].format(names=", ".join(inactive)))
    if not acting_for.is_backbone and acting_for.pk not in chosen:
        fail("organizations", MESSAGES["own_missing"])
    if data.status not in Partnership.Status.values:
        fail("status", MESSAGES["status"])
    if data.start_date and data.end_date and data.end_date < data.start_date:
        fail("end_date", MESSAGES["end_before_start"])
    if errors:
        raise ValidationError(errors)


def _name_taken(exc: IntegrityError) -> ValidationError:
    # Two people saving the same name at once: the unique constraint decides.
    if "partnership_unique_name_in_network" in str(exc):
        return ValidationError({"name": [MESSAGES["name_taken"]]})
    raise exc


def partnership_create(
    *,
    acting_for: Organization,
    actor: User | None,
    data: PartnershipData,
    request: HttpRequest | None = None,
) -> Partnership:
    """A new partnership of `acting_for`'s network between `data.organizations` (two or
    more of the network's active organizations, `acting_for` among them unless it is the
    backbone). Raises ValidationError, keyed by field, and writes nothing when refused."""
    if not partnership_may_create(organization=acting_for):
        raise PermissionDenied(MESSAGES["not_yours"])
    _validate(data, acting_for=acting_for, network_id=acting_for.network_id)
    try:
        with transaction.atomic():
            partnership = Partnership.objects.create(
                network_id=acting_for.network_id,
                **{name: getattr(data, name) for name in SCALAR_FIELDS},
            )
            partnership.organizations.set(data.organizations)
            audit_record(
                action=AuditEvent.Action.CREATE,
                object_type="partnership",
                object_ids=[partnership.pk],
                actor=actor,
                organization=acting_for,
                request=request,
                detail={
                    "status": partnership.status,
                    "organization_ids": sorted(o.pk for o in data.organizations),
                },
            )
    except IntegrityError as exc:
        raise _name_taken(exc) from exc
    return partnership


def partnership_update(
    *,
    partnership: Partnership,
    acting_for: Organization,
    actor: User | None,
    data: PartnershipData,
    request: HttpRequest | None = None,
) -> list[str]:
    """Change a partnership to `data`; returns the names of what changed ([] when nothing
    did). The same rules as creating it; an org admin's own organization must stay a party.
    Programs of an organization that leaves stop being covered by the partnership."""
    if not partnership_may_manage(partnership=partnership, organization=acting_for):
        raise PermissionDenied(MESSAGES["not_yours"])
    try:
        with transaction.atomic():
            # Locked: two admins saving at once change it one after the other.
            partnership = Partnership.objects.select_for_update().get(pk=partnership.pk)
            _validate(
                data,
                acting_for=acting_for,
                network_id=partnership.network_id,
                partnership=partnership,
            )
            changed = [n for n in SCALAR_FIELDS if getattr(partnership, n) != getattr(data, n)]
            for name in changed:
                setattr(partnership, name, getattr(data, name))
            if changed:
                partnership.save(update_fields=changed)
            before = set(partnership.organizations.values_list("pk", flat=True))
            after = {o.pk for o in data.organizations}
            if before != after:
                changed.append("organizations")
                partnership.organizations.set(data.organizations)
                leaving = partnership.programs.exclude(organization_id__in=after)
                if leaving.exists():
                    changed.append("programs")
                    partnership.programs.remove(*leaving)
            if changed:
                audit_record(
                    action=AuditEvent.Action.UPDATE,
                    object_type="partnership",
                    object_ids=[partnership.pk],
                    actor=actor,
                    organization=acting_for,
                    request=request,
                    detail={
                        "fields": changed,
                        "added_organization_ids": sorted(after - before),
                        "removed_organization_ids": sorted(before - after),
                    },
                )
    except IntegrityError as exc:
        raise _name_taken(exc) from exc
    return changed


# Agreements


@dataclass(frozen=True)
class AgreementStatus:
    """Where an agreement stands on a day, in words people use."""

    code: str  # unsigned, in_force, expiring, expired
    label: str
    days_left: int | None = None


def agreement_status(document: PartnershipDocument, *, today: date) -> AgreementStatus:
    """Unsigned (no signing date), expired (its expiry date has passed), expires in N days
    (within EXPIRY_WARNING_DAYS), or in force."""
    if document.signed_on is None:
        return AgreementStatus("unsigned", gettext("Unsigned"))
    if document.expires_on is None:
        return AgreementStatus("in_force", gettext("In force"))
    days = (document.expires_on - today).days
    if days < 0:
        return AgreementStatus("expired", gettext("Expired"), days)
    if days == 0:
        return AgreementStatus("expiring", gettext("Expires today"), 0)
    if days <= EXPIRY_WARNING_DAYS:
        label = ngettext("Expires in %(days)s day", "Expires in %(days)s days", days) % {
            "days": days
        }
        return AgreementStatus("expiring", label, days)
    return AgreementStatus("in_force", gettext("In force"), days)


def _extension(name: str) -> str:
    return os.path.splitext(name)[1].lower().lstrip(".")


def agreement_file_validate(upload: UploadedFile | None) -> None:
    """ValidationError unless `upload` is a PDF, JPEG or PNG of at most 10 MB (by its name
    and by its first bytes)."""
    if not upload:
        raise ValidationError(MESSAGES["file_missing"])
    extension = _extension(upload.name or "")
    if extension not in AGREEMENT_EXTENSIONS:
        raise ValidationError(MESSAGES["file_type"])
    if upload.size > AGREEMENT_MAX_BYTES:
        raise ValidationError(MESSAGES["file_size"])
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if not head.startswith(_SIGNATURES[extension]):
        raise ValidationError(MESSAGES["file_content"])


def partnership_document_add(
    *,
    partnership: Partnership,
    acting_for: Organization,
    actor: User | None,
    kind: str,
    title: str,
    signed_on: date | None,
    expires_on: date | None,
    upload: UploadedFile | None,
    today: date,
    request: HttpRequest | None = None,
) -> PartnershipDocument:
    """File an agreement (MOU, DSA, BAA, service contract) for the partnership. The file is
    stored under a random name (an uploaded name may carry anything) and served only through
    the permission-checked view. Raises ValidationError, keyed by field, and keeps nothing
    when refused."""
    if not partnership_may_manage(partnership=partnership, organization=acting_for):
        raise PermissionDenied(MESSAGES["not_yours"])
    errors: dict[str, list[str]] = {}
    title = title.strip()
    if not title:
        errors["title"] = [MESSAGES["title"]]
    if kind not in PartnershipDocument.Kind.values:
        errors["kind"] = [MESSAGES["kind"]]
    if signed_on and signed_on > today:
        errors["signed_on"] = [MESSAGES["signed_future"]]
    if signed_on and expires_on and expires_on < signed_on:
        errors["expires_on"] = [MESSAGES["expires_before_signed"]]
    try:
        agreement_file_validate(upload)
    except ValidationError as exc:
        errors["file"] = exc.messages
    if errors:
        raise ValidationError(errors)
    document = PartnershipDocument(
        partnership=partnership,
        kind=kind,
        title=title,
        signed_on=signed_on,
        expires_on=expires_on,
    )
    document.file.save(f"{uuid.uuid4().hex}.{_extension(upload.name)}", upload, save=False)
    stored = document.file.name
    try:
        with transaction.atomic():
            document.save()
            audit_record(
                action=AuditEvent.Action.CREATE,
                object_type="partnership_document",
                object_ids=[document.pk],
                actor=actor,
                organization=acting_for,
                request=request,
                detail={"partnership_id": partnership.pk, "kind": kind},
            )
    except BaseException:
        # The row was not written: the stored file must not outlive it.
        document.file.storage.delete(stored)
        raise
    return document


def partnership_document_delete(
    *,
    document: PartnershipDocument,
    acting_for: Organization,
    actor: User | None,
    request: HttpRequest | None = None,
) -> None:
    """Remove an agreement and its file (the file once the removal is committed)."""
    partnership = document.partnership
    if not partnership_may_manage(partnership=partnership, organization=acting_for):
        raise PermissionDenied(MESSAGES["not_yours"])
    with transaction.atomic():
        audit_record(
            action=AuditEvent.Action.UPDATE,
            object_type="partnership_document",
            object_ids=[document.pk],
            actor=actor,
            organization=acting_for,
            request=request,
            detail={"partnership_id": partnership.pk, "kind": document.kind, "fields": ["deleted"]},
        )
        stored, storage = document.file.name, document.file.storage
        PartnershipDocument.objects.filter(pk=document.pk).delete()
        if stored:
            transaction.on_commit(lambda: storage.delete(stored))


def partnership_document_served(*, document: PartnershipDocument, request: HttpRequest) -> None:
    """Record that the requesting user downloaded the agreement's file."""
    audit_record(
        action=AuditEvent.Action.VIEW,
        object_type="partnership_document",
        object_ids=[document.pk],
        request=request,
        detail={"partnership_id": document.partnership_id, "kind": document.kind},
    )
