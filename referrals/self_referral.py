"""Self-referral: a person (or a 211 line on their behalf) asks for help on the network's
public page, and the request lands in the backbone's queue like any other referral.

How the model represents it: a referral with `source` "self" and no sender organization on
Linkage (as a logged inbound referral: the person is the sender, named in
`external_sender`), addressed to the receiving organization's intake queue (no program:
the backbone routes it to one). The person's record is created for the receiver, which
therefore sees who they are; the release the person agreed to on the page (all active
partners of the network, for who they are, their needs and the referral) lets the program
the backbone routes them to see what it needs.

Nobody signs in on the public page, yet rows name who recorded them: each receiving
organization has one service user for its page (like an API key's user: no password, it
cannot sign in), named as the actor in the audit trail.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from clients.models import Client
from clients.services import client_create
from consent.categories import CARRIED_CATEGORIES
from consent.forms import add_months, expiry_moment
from consent.models import Release
from consent.services import release_create
from organizations.models import Membership, Network, Organization, User
from organizations.roles import Role

from .models import Referral
from .services import _referral_create, _validate_needs

SERVICE_EMAIL = "self-referral-{pk}@self-referral.invalid"


class ContactMethod:
    TEXT = "text"
    PHONE = "phone"
    EMAIL = "email"
    CHOICES = (
        (TEXT, _("Text message")),
        (PHONE, _("Phone call")),
        (EMAIL, _("Email")),
    )
    LABELS_EN = {TEXT: "text message", PHONE: "phone call", EMAIL: "email"}


@dataclass(frozen=True)
class SelfReferralRequest:
    """What the person told the page (validated by the page's form)."""

    given_name: str
    family_name: str
    date_of_birth: date
    needs: Iterable[str]
    details: str
    contact_method: str
    phone: str
    email: str
    language: str
    helper_name: str = ""  # someone helping (a 211 line): they relay the person's consent


def self_referral_receiver(network: Network) -> Organization | None:
    """Whose queue a self-referral joins: the network's backbone, when active. (A network
    that designates a navigator organization for them would be answered here first;
    Network has no such field yet.)"""
    backbone = network.backbone
    if backbone is None or not backbone.is_active:
        return None
    return backbone


def self_referral_user(organization: Organization) -> User:
    """The organization's service user for its self-referral page (made on first use)."""
    user, made = User.objects.get_or_create(
        email=SERVICE_EMAIL.format(pk=organization.pk),
        defaults={"first_name": "Self-referral page", "last_name": organization.name[:150]},
    )
    if made:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    # Its membership lets it record the person's release for the organization; it holds
    # no password, so nobody acts through it.
    Membership.objects.update_or_create(
        user=user,
        organization=organization,
        defaults={"role": Role.STAFF, "is_active": True},
    )
    return user


@transaction.atomic
def self_referral_submit(*, network: Network, request: SelfReferralRequest) -> Referral:
    """Record a self-referral: the person's record (created by the receiving
    organization), the release they agreed to on the page, and a referral from them in the
    receiver's intake queue. One transaction: a refusal (ValidationError, keyed by field
    where there is one) writes nothing.

    The release: an e-signature by the person (the name they typed), or, when someone
    helps them (a 211 line), verbal consent relayed and witnessed by that helper; all active
    partners of the network, for what a referral carries; care coordination; the network's
    default term. The person's contact preference and their own words go in the referral's
    note for the receiver."""
    receiver = self_referral_receiver(network)
    if receiver is None:
        raise ValidationError(_("This network does not take requests online at the moment."))
    codes = _validate_needs(request.needs)
    if request.contact_method not in ContactMethod.LABELS_EN:
        raise ValidationError({"contact_method": _("Choose how we should contact you.")})
    language = request.language if request.language in Client.Language.values else "en"
    actor = self_referral_user(receiver)
    now = timezone.now()
    client = client_create(
        organization=receiver,
        actor=actor,
        data={
            "given_name": request.given_name,
            "family_name": request.family_name,
            "date_of_birth": request.date_of_birth,
            "phone": request.phone if request.contact_method != ContactMethod.EMAIL else "",
            "email": request.email if request.contact_method == ContactMethod.EMAIL else "",
            "preferred_language": language,
        },
    )
    full_name = f"{client.given_name} {client.family_name}"
    helper = request.helper_name.strip()
    release = release_create(
        client=client,
        organization=receiver,
        captured_by=actor,
        recipients=[],
        all_network_partners=True,
        categories=CARRIED_CATEGORIES,
        purpose=Release.Purpose.CARE_COORDINATION,
        language=language if language in Release.Language.values else Release.Language.EN,
        method=Release.Method.VERBAL if helper else Release.Method.ESIGNATURE,
        esignature_name="" if helper else full_name,
        esignature_confirmed=not helper,
        verbal_witness_name=helper,
        signer=Release.Signer.CLIENT,
        effective_at=now,
        expires_at=expiry_moment(
            add_months(timezone.localdate(now), network.release_default_months)
        ),
    )
    if release.staff_present_id is not None:
        # Agreed on the public page: nobody of the organization was present.
        release.staff_present = None
        release.save(update_fields=["staff_present"])
    # A stored note is read by whoever opens the referral, in whatever language: it is
    # written in English, as the rest of the referral's stored text; the person's own words
    # follow as written.
    with translation.override("en"):
        language_name = str(client.get_preferred_language_display())
    note = [
        "Self-referral from the network's public page"
        + (f", made with the help of {helper}." if helper else "."),
        f"Contact by {ContactMethod.LABELS_EN[request.contact_method]}"
        f" ({client.email if request.contact_method == ContactMethod.EMAIL else client.phone}).",
        f"Language: {language_name}.",
    ]
    if request.details.strip():
        note.append(f"In their words: {request.details.strip()}")
    return _referral_create(
        client=client,
        program=None,
        receiver=receiver,
        codes=codes,
        actor=actor,
        organization=receiver,
        source=Referral.Source.SELF,
        reason="\n".join(note),
        urgency=Referral.Urgency.ROUTINE,
        do_not_contact=False,
        now=now,
        sent_at=now,
        external_sender=("Self-referral (211 or a helper)" if helper else "Self-referral"),
    )
