"""Referral pieces other pages show: the notification bell in the header, a client's
referrals on the profile, a referral's age and its timeline wording."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.core.paginator import Paginator
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext

from audit.models import AuditEvent
from audit.services import audit_read
from consent import policy
from consent.categories import Category
from organizations.middleware import TWO_FACTOR_EXEMPT_URL_NAMES
from organizations.roles import Capability
from organizations.sdoh import sdoh_label

from .. import selectors
from ..models import Referral, ReferralEvent
from ..workflow import Status

register = template.Library()

CLIENT_REFERRALS_PAGE_SIZE = 10


@register.inclusion_tag("referrals/_bell.html", takes_context=True)
def notification_bell(context) -> dict:
    """The bell in the header: a link to the notifications whose unread count loads right
    after the page (htmx), so the bell adds no query to any page's own budget. Without
    JavaScript it is a plain link to the list, which shows the count.

    Not shown on the pages a user reaches before the second factor: the count endpoint
    would answer them with a redirect to the very page they are on."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    match = getattr(request, "resolver_match", None)
    if match is not None and match.url_name in TWO_FACTOR_EXEMPT_URL_NAMES:
        return {"show": False}
    return {"show": True}


@register.inclusion_tag("referrals/_client_referrals.html", takes_context=True)
def client_referrals(context, client) -> dict:
    """The client's referrals across the network as far as releases allow: those the
    viewer's organization sent or received, and every one when a release lets it see the
    client's referral details. Status, program, sender, receiver, outcome; the page shown
    is audited as one read."""
    request = context["request"]
    org = getattr(request, "organization", None)
    membership = getattr(request, "membership", None)
    if org is None or membership is None:
        return {"client": client, "allowed": False}
    referrals = selectors.referrals_for_client(organization=org, client=client)
    page = Paginator(referrals, CLIENT_REFERRALS_PAGE_SIZE).get_page(
        request.GET.get("referrals_page")
    )
    page.object_list = list(page.object_list)
    audit_read(
        request,
        object_type="referral",
        objects=page.object_list,
        categories=[Category.REFERRALS.value],
        action=AuditEvent.Action.LIST,
    )
    rows = [
        {
            "referral": r,
            "is_party": org.pk in (r.sender_organization_id, r.receiver_organization_id),
        }
        for r in page.object_list
    ]
    may_refer = membership.has(Capability.VIEW_CLIENTS) and policy.may_see(
        org, Category.DEMOGRAPHICS, client
    )
    return {
        "client": client,
        "allowed": True,
        "rows": rows,
        "page": page,
        "may_refer": may_refer,
    }


@register.filter
def age(moment: datetime | None) -> str:
    """ "3 days ago", "2 hours ago", "just now": how long a referral has been waiting."""
    if moment is None:
        return ""
    now = timezone.now()
    if (now - moment).total_seconds() < 60:
        return gettext("just now")
    return gettext("%(time)s ago") % {"time": timesince(moment, now, depth=1)}


@register.simple_tag
def event_title(event: ReferralEvent, referral: Referral) -> str:
    """What happened, in the words people use: "Sent", "Opened by the receiver",
    "Accepted", "Contacted by phone call: reached the client", "Completed: need met",
    "Declined: no capacity"."""
    kind = event.kind
    if kind == ReferralEvent.Kind.CREATED:
        if referral.source == Referral.Source.PLATFORM:
            return gettext("Sent")
        return gettext("Logged (%(source)s)") % {"source": referral.get_source_display().lower()}
    if kind == ReferralEvent.Kind.OPENED:
        return gettext("Opened by the receiver")
    if kind == ReferralEvent.Kind.CONTACT:
        how = (
            ReferralEvent.ContactType(event.contact_type).label.lower()
            if event.contact_type
            else ""
        )
        if event.contact_successful:
            result = gettext("reached the client")
        else:
            result = gettext("could not reach the client")
        if how:
            return gettext("Contacted by %(how)s: %(result)s") % {"how": how, "result": result}
        return gettext("Contact: %(result)s") % {"result": result}
    if kind == ReferralEvent.Kind.ASSIGNED:
        if event.reason == "Unassigned":
            return gettext("Unassigned")
        return gettext("Assigned to %(person)s") % {"person": event.reason}
    if kind == ReferralEvent.Kind.ROUTED:
        return gettext("Routed to a program")
    if kind == ReferralEvent.Kind.RELAYED:
        label = Status(event.to_status).label if event.to_status in Status.values else ""
        if not label:
            return event.get_kind_display()
        return gettext("Routed program: %(status)s") % {"status": label.lower()}
    if kind == ReferralEvent.Kind.TRANSITION:
        label = Status(event.to_status).label if event.to_status in Status.values else ""
        if event.to_status == Status.ON_HOLD and event.business_status == "waitlisted":
            label = gettext("Waitlisted")
        if event.business_status == "rerouting":
            return gettext("Back with the backbone to route again")
        if event.to_status == Status.COMPLETED and referral.outcome:
            return f"{label}: {referral.get_outcome_display()}"
        if event.to_status == Status.REJECTED and referral.decline_reason:
            # A referral is declined once (a terminal status): its reason is this event's.
            return f"{label}: {referral.get_decline_reason_display()}"
        return label or event.get_kind_display()
    return event.get_kind_display()


@register.filter
def need_label(code: str) -> str:
    """An SDOH category code as people read it ("food-insecurity": "Food Insecurity")."""
    return sdoh_label(code)


@register.filter
def status_class(status: str) -> str:
    """A CSS class per status (colours in referrals.css)."""
    return f"status-{status}"


@register.filter
def overdue_now(referral: Referral) -> bool:
    """Overdue at this moment, by the one rule (Referral.overdue_at)."""
    return referral.overdue_at(timezone.now())


@register.filter
def due_in(moment: datetime | None) -> str:
    """ "due in 2 days", "due in 3 hours", "2 days overdue": how long until (or since) a
    deadline, beside the date itself."""
    if moment is None:
        return ""
    now = timezone.now()
    if moment <= now:
        return f"{timesince(moment, now, depth=1)} overdue"
    return f"due in {timeuntil(moment, now, depth=1)}"


@register.inclusion_tag("referrals/_work_today.html", takes_context=True)
def work_today(context) -> dict:
    """The home page's "needs you now": the signed-in person's queues (new to answer, due
    today, overdue, mine, news, the sent side's overdue answers, rescreenings due), the
    next few referrals due, and for the backbone the organizations falling behind. The
    rows name clients only as the consent policy allows; reading them is audited."""
    request = context.get("request")
    membership = getattr(request, "membership", None)
    if membership is None or not membership.has(Capability.VIEW_CLIENTS):
        return {"show": False}
    now = timezone.now()
    work = selectors.work_today(organization=request.organization, user=request.user, now=now)
    if work.next_due:
        categories = [Category.REFERRALS.value]
        if any(r.client_name_visible for r in work.next_due):
            categories.append(Category.DEMOGRAPHICS.value)
        audit_read(
            request,
            object_type="referral",
            objects=work.next_due,
            categories=categories,
            action=AuditEvent.Action.LIST,
        )
    return {
        "show": True,
        "work": work,
        "behind": selectors.organizations_falling_behind(request.organization, now),
        "is_backbone": request.organization.is_backbone,
    }
