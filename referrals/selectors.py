"""Reads for the referral pages: the inbox and sent lists (tabs, counts, filters), the detail
page, a client's referrals across the network, and a person's notifications.

Every list here costs a fixed number of queries whatever its length: related rows come with
`select_related`/`prefetch_related`, and per-row facts (overdue, may the viewer see the
client's name) are annotations computed by the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from assessments.models import Assessment
from clients.models import Client
from clients.selectors import client_ids_visible, client_search
from consent import policy
from consent.categories import CARRIED_CATEGORIES, Category
from directory.models import Program
from directory.selectors import Suggestion, suggest_programs
from organizations.models import Membership, Organization, User

# Overdue is one rule, defined with the model (referrals.models.OVERDUE_DEADLINES) and
# shared with the backbone's stalled list, the measures and the reminder sweep.
from .models import (
    Notification,
    Referral,
    ReferralEvent,
    ReferralNote,
    due_expression,
    overdue_q,
)
from .transitions import allowed_moves, open_part
from .workflow import OPEN, ROUTABLE, TERMINAL, Move, Status

INBOX = "inbox"
SENT = "sent"
BOXES = (INBOX, SENT)

_OPEN = sorted(OPEN)
_TERMINAL = sorted(TERMINAL)


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    statuses: tuple[str, ...] | None  # None: every status


def tabs_for(box: str) -> list[Tab]:
    """The status tabs of a list. "Open" is where the work is, so it comes first; a
    referral waiting for the receiver's answer has a tab of its own on both sides so that
    none stays `requested` unnoticed."""
    waiting = gettext("New") if box == INBOX else gettext("Waiting for a response")
    return [
        Tab("open", gettext("Open"), tuple(_OPEN)),
        Tab("requested", waiting, (Status.REQUESTED,)),
        Tab("accepted", gettext("Accepted"), (Status.ACCEPTED,)),
        Tab("in-progress", gettext("In progress"), (Status.IN_PROGRESS,)),
        Tab("on-hold", gettext("On hold"), (Status.ON_HOLD,)),
        Tab("closed", gettext("Closed"), tuple(_TERMINAL)),
        Tab("all", gettext("All"), None),
    ]


DEFAULT_TAB = "open"


@dataclass(frozen=True)
class ListFilters:
    """What an inbox or sent list is narrowed to (every field optional)."""

    program_id: int | None = None
    mine: bool = False  # inbox: assigned to me; sent: sent by me
    overdue: bool = False
    # Only referrals addressed to the organization, awaiting the receiver's program.
    intake: bool = False
    urgency: str = ""
    sent_from: date | None = None
    sent_to: date | None = None
    client_id: int | None = None
    # Typed by the user: it arrives in a POST body only (a name is PHI, never in a URL).
    client_name: str = ""


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def referral_box(
    *, organization: Organization, user: User, box: str, filters: ListFilters, now: datetime
) -> QuerySet[Referral]:
    """The organization's received (`inbox`) or sent referrals narrowed by `filters`, any
    status. Served by the (receiver|sender, status, -created_at) indexes."""
    if box == INBOX:
        # A draft has not been sent: it is not the receiver's yet.
        referrals = Referral.objects.filter(receiver_organization_id=organization.pk).exclude(
            status=Status.DRAFT
        )
    elif box == SENT:
        referrals = Referral.objects.filter(sender_organization_id=organization.pk)
    else:
        raise ValueError(f"Unknown box {box!r}.")
    if filters.program_id:
        referrals = referrals.filter(program_id=filters.program_id)
    if filters.mine:
        mine = {"assigned_to_id": user.pk} if box == INBOX else {"sender_user_id": user.pk}
        referrals = referrals.filter(**mine)
    if filters.overdue:
        referrals = referrals.filter(overdue_q(now))
    if filters.intake:
        referrals = referrals.filter(program__isnull=True)
    if filters.urgency:
        referrals = referrals.filter(urgency=filters.urgency)
    # Dates are the local calendar days people think in; sent_at is when it reached them.
    if filters.sent_from:
        referrals = referrals.filter(sent_at__gte=_start_of(filters.sent_from))
    if filters.sent_to:
        referrals = referrals.filter(sent_at__lt=_start_of(filters.sent_to) + timedelta(days=1))
    if filters.client_id:
        referrals = referrals.filter(client_id=filters.client_id)
    if filters.client_name:
        # Only clients whose names the organization may see can be found by name, so a
        # search never confirms that a hidden person has a referral here.
        found = client_search(organization=organization, name=filters.client_name)
        referrals = referrals.filter(client_id__in=found.values("pk"))
    return referrals


# Counting closed referrals (which only ever grow) stops here: a tab shows "1000+" rather
# than scanning years of history on every page view.
COUNT_CAP = 1000


@dataclass(frozen=True)
class TabCount:
    count: int
    capped: bool = False  # there are more than `count`


def tab_counts(referrals: QuerySet[Referral], tabs: list[Tab]) -> dict[str, TabCount]:
    """How many referrals each tab holds, in two queries whatever the table size: open
    referrals counted exactly per status (bounded by the work in hand, through the
    (organization, status, created_at) indexes), closed ones counted up to COUNT_CAP."""
    per_status = dict(
        referrals.filter(status__in=_OPEN)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    closed = referrals.filter(status__in=_TERMINAL).order_by().values("pk")[: COUNT_CAP + 1]
    closed_count = closed.count()
    closed_capped = closed_count > COUNT_CAP
    closed_count = min(closed_count, COUNT_CAP)
    open_total = sum(per_status.values())
    counts: dict[str, TabCount] = {}
    for tab in tabs:
        if tab.statuses is None:
            counts[tab.key] = TabCount(open_total + closed_count, closed_capped)
        elif set(tab.statuses) <= OPEN:
            counts[tab.key] = TabCount(sum(per_status.get(s, 0) for s in tab.statuses))
        else:
            counts[tab.key] = TabCount(closed_count, closed_capped)
    return counts


def list_order(
    referrals: QuerySet[Referral], *, now: datetime, due_first: bool = False
) -> QuerySet[Referral]:
    """The ids of a list's referrals in its order: newest first (the (organization,
    -created_at, -id) indexes), or, for lists of open work (`due_first`), what is due
    soonest first (the most overdue on top) and then newest, so an unopened referral from
    months ago cannot sink below today's. Read from the referrals table alone, so a page's
    ids cost the same whatever the joins its rows need (`rows_in_order`)."""
    ordered = referrals.annotate(due_at=due_expression())
    if due_first:
        ordered = ordered.order_by(F("due_at").asc(nulls_last=True), "-created_at", "-id")
    else:
        ordered = ordered.order_by("-created_at", "-id")
    return ordered.values_list("pk", flat=True)


def rows_in_order(ids: list[int], *, now: datetime) -> list[Referral]:
    """The referrals `ids` (a page of `list_order`) ready for a list page, in that order."""
    rows = {r.pk: r for r in for_list(Referral.objects.filter(pk__in=ids), now=now)}
    return [rows[pk] for pk in ids if pk in rows]


def for_list(referrals: QuerySet[Referral], *, now: datetime) -> QuerySet[Referral]:
    """Rows ready for a list page: related names fetched with them, needs prefetched,
    `is_overdue` and `due_at` (the deadline owed now) annotated."""
    return (
        referrals.select_related(
            "client",
            "program",
            "sender_organization",
            "sender_user",
            "receiver_organization",
            "assigned_to",
        )
        .prefetch_related("needs")
        .annotate(
            is_overdue=Case(
                When(overdue_q(now), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
            due_at=due_expression(),
        )
    )


def is_work_tab(tab: Tab) -> bool:
    """A tab of open work only: its rows are sorted by what is due first."""
    return tab.statuses is not None and set(tab.statuses) <= set(OPEN)


def mark_names_visible(organization: Organization, referrals: list[Referral]) -> None:
    """Set `client_name_visible` on each row: may the organization see the client's name
    and contact details (the consent policy, asked once for the whole page)."""
    ids = {r.client_id for r in referrals}
    visible = client_ids_visible(organization, ids, Category.DEMOGRAPHICS)
    for referral in referrals:
        referral.client_name_visible = referral.client_id in visible


def filter_tab(referrals: QuerySet[Referral], tab: Tab) -> QuerySet[Referral]:
    if tab.statuses is None:
        return referrals
    return referrals.filter(status__in=tab.statuses)


def program_filter_choices(*, organization: Organization, box: str) -> QuerySet[Program]:
    """Programs to narrow a list by: the organization's own (inbox), or the programs it has
    referred to (sent)."""
    if box == INBOX:
        programs = Program.objects.filter(organization=organization)
    else:
        programs = Program.objects.filter(organization__network_id=organization.network_id).filter(
            Exists(
                Referral.objects.filter(
                    sender_organization_id=organization.pk, program_id=OuterRef("pk")
                )
            )
        )
    return programs.select_related("organization").order_by("name", "id")


# --- one referral ---------------------------------------------------------------------------


def referral_for_page(organization: Organization) -> QuerySet[Referral]:
    """The referrals the organization may open (it sent or received them), with what the
    detail page shows fetched along."""
    return (
        Referral.objects.visible_to(organization)
        .select_related(
            "client",
            "network",
            "program",
            "sender_organization",
            "sender_user",
            "receiver_organization",
            "assigned_to",
            "referred_from__program",
            "referred_from__receiver_organization",
            "referred_from__sender_organization",
        )
        .prefetch_related("needs")
    )


def referral_timeline(referral: Referral) -> QuerySet[ReferralEvent]:
    return referral.events.select_related("actor", "organization").order_by("occurred_at", "id")


def referral_notes(referral: Referral) -> QuerySet[ReferralNote]:
    return referral.notes.select_related("author", "organization").order_by("created_at", "id")


def referrals_for_client(*, organization: Organization, client: Client) -> QuerySet[Referral]:
    """Referrals of `client` the organization may see: those it sent or received, and —
    when the consent policy lets it see the client's referral details — every referral of
    the client in the network. Newest first."""
    referrals = Referral.objects.filter(client_id=client.pk, network_id=organization.network_id)
    if not policy.may_see(organization, Category.REFERRALS, client):
        referrals = referrals.filter(
            Q(sender_organization_id=organization.pk) | Q(receiver_organization_id=organization.pk)
        )
    return referrals.select_related(
        "program", "sender_organization", "receiver_organization"
    ).order_by("-created_at", "-id")


def referral_chain(
    referral: Referral, organization: Organization
) -> tuple[Referral | None, list[Referral]]:
    """Where the referral came from and where it went on, as far as the organization may
    see the client's referrals (the same rule as the client's profile)."""
    visible = referrals_for_client(organization=organization, client=referral.client)
    parent = None
    if referral.referred_from_id:
        parent = visible.filter(pk=referral.referred_from_id).first()
    onward = list(visible.filter(referred_from_id=referral.pk).order_by("created_at", "id"))
    return parent, onward


def assignable_staff(organization: Organization) -> QuerySet[User]:
    """The organization's active people, who may be assigned its received referrals."""
    members = Membership.objects.filter(organization=organization, is_active=True)
    return (
        User.objects.filter(is_active=True, pk__in=members.values("user_id"))
        .order_by("first_name", "last_name", "email")
        .distinct()
    )


@dataclass
class ReferralPage:
    """What one referral's page shows the viewing organization (the consent policy's
    `sight` decides which parts of the client's record), and what it may do there."""

    sight: policy.ReferralSight
    is_sender: bool
    is_receiver: bool
    moves: list[Move]  # the moves it may make now (none on a closed referral)
    staff: QuerySet[User] | None  # whom it may assign the referral to (receiver, open)
    parent: Referral | None
    onward: list[Referral]
    routing: Routing
    events: list[ReferralEvent]  # each with `shows_reason`
    notes: list[ReferralNote]
    withheld_notes: int
    may_route: bool
    may_refer_onward: bool

    @property
    def shown_categories(self) -> list[str]:
        """The client categories the page shows (for the audit trail)."""
        return sorted({Category.REFERRALS.value, *self.sight.categories})


def referral_page(referral: Referral, organization: Organization) -> ReferralPage:
    """Everything the referral's page shows `organization` (a party to it), as far as the
    consent policy lets it see the client: the timeline and notes thread (another
    party's entries only with the referral's details), the chain and the routing around
    it, and the actions open to it."""
    sight = policy.referral_sight(organization, referral)
    is_receiver = referral.receiver_organization_id == organization.pk
    is_open = referral.is_open
    events = list(referral_timeline(referral))
    for event in events:
        # Status and dates are both parties'; a reason is shown as its recorder allows.
        event.shows_reason = sight.shows_entry(event.organization_id)
    all_notes = list(referral_notes(referral))
    notes = policy.visible_entries(sight, all_notes)
    parent, onward = referral_chain(referral, organization)
    return ReferralPage(
        sight=sight,
        is_sender=referral.sender_organization_id == organization.pk,
        is_receiver=is_receiver,
        moves=allowed_moves(referral, organization) if is_open else [],
        staff=assignable_staff(organization) if is_receiver and is_open else None,
        parent=parent,
        onward=onward,
        # The backbone's routing: the routed referrals fulfilling this one (with their
        # progress), or the one this routed referral fulfils, as far as it may see.
        routing=referral_routing(referral, organization),
        events=events,
        notes=notes,
        withheld_notes=len(all_notes) - len(notes),
        may_route=is_open and may_route(referral, organization),
        may_refer_onward=is_receiver and sight.demographics,
    )


def onward_refusal(referral: Referral, organization: Organization) -> str:
    """Why `organization` may not refer the client of `referral` onward ("" when it may:
    it received the referral and may still see who the client is). referral_send checks
    again when it sends."""
    if referral.receiver_organization_id != organization.pk:
        return "Only the receiving organization refers a client onward."
    if not policy.may_see(organization, Category.DEMOGRAPHICS, referral.client):
        return (
            "Your organization may not see this client's details any more (no active release "
            "names it), so it cannot refer them onward."
        )
    return ""


def referral_assessments(
    *, organization: Organization, client: Client, wanted: str = "", latest: int = 5
) -> tuple[list[Assessment], Assessment | None]:
    """The client's `latest` completed assessments the organization may see (a new
    referral may start from one), and the one asked for by id (`wanted`: one of those or
    an older one; None when there is none it may see)."""
    visible = Assessment.objects.visible_to(organization).completed().filter(client=client)
    assessments = list(
        visible.select_related("instrument")
        .prefetch_related("needs")
        .order_by("-completed_at", "-id")[:latest]
    )
    chosen = None
    if wanted:
        chosen = next((a for a in assessments if str(a.pk) == wanted), None)
        if chosen is None and str(wanted).isdigit():
            chosen = visible.filter(pk=int(wanted)).prefetch_related("needs").first()
    return assessments, chosen


def programs_to_refer_to(organization: Organization) -> QuerySet[Program]:
    """The network's directory as the organization sees it, with each program's capacity
    state computable (`capacity_state`)."""
    return with_open_referrals(
        Program.objects.visible_to(organization).select_related("organization")
    ).order_by("name", "organization__name", "id")


def own_programs(organization: Organization) -> QuerySet[Program]:
    """Programs an inbound referral can be logged for: the organization's own."""
    return Program.objects.filter(organization=organization).order_by("name", "id")


# --- notifications --------------------------------------------------------------------------


def notifications_for(user: User) -> QuerySet[Notification]:
    """The person's notifications, newest first (the notification_inbox index)."""
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def notification_names(organization: Organization, notifications) -> dict[int, str]:
    """{notification id: client name} for the notifications whose referral's client the
    organization may see by name (the consent policy, asked once for the page)."""
    about = [n for n in notifications if n.referral_id]
    visible = client_ids_visible(
        organization, {n.referral.client_id for n in about}, Category.DEMOGRAPHICS
    )
    return {n.pk: n.referral.client.display_name for n in about if n.referral.client_id in visible}


def unread_count(user: User) -> int:
    return Notification.objects.filter(user=user).unread().count()


# --- the backbone as coordination platform ---------------------------------------------------


@dataclass
class Routing:
    """A referral's routing as the viewing organization may see it: the referral it fulfils
    (`whole`, when it is a routed one), the routed referrals fulfilling it (`parts`, each
    with its events as `timeline`), how many more there are that it may not see."""

    whole: Referral | None = None
    parts: list[Referral] | None = None
    hidden_parts: int = 0
    is_part: bool = False

    @property
    def visible_part_ids(self) -> set[int]:
        return {p.pk for p in self.parts or ()}


def referral_routing(referral: Referral, organization: Organization) -> Routing:
    """The routing around `referral` for its page, as far as the organization may see the
    client's referrals (the rule of the client's profile: those it is party to, and every
    one when a release lets it see the client's referral details). Nothing is read for a
    referral that is neither routed nor received by the backbone."""
    from django.db.models import Prefetch

    routing = Routing(is_part=referral.part_of_id is not None, parts=[])
    if not routing.is_part and not referral.receiver_organization.is_backbone:
        return routing
    visible = referrals_for_client(organization=organization, client=referral.client)
    if routing.is_part:
        routing.whole = visible.filter(pk=referral.part_of_id).first()
        return routing
    timeline = ReferralEvent.objects.select_related("actor", "organization").order_by(
        "occurred_at", "id"
    )
    routing.parts = list(
        visible.filter(part_of_id=referral.pk)
        .select_related("sender_user")
        .prefetch_related(Prefetch("events", queryset=timeline, to_attr="timeline"))
        .order_by("created_at", "id")
    )
    routing.hidden_parts = Referral.objects.filter(part_of_id=referral.pk).count() - len(
        routing.parts
    )
    return routing


def may_route(referral: Referral, organization: Organization) -> bool:
    """Whether `organization` may route `referral` now (for the page's button): it is the
    network's backbone and received it, it is open in a routable status, and nothing
    routed is open for it. coordination.referral_route checks again under the lock."""
    return (
        organization.is_backbone
        and referral.receiver_organization_id == organization.pk
        and referral.part_of_id is None
        and referral.status in ROUTABLE
        and open_part(referral) is None
    )


@dataclass
class RoutePage:
    """What the backbone's "assign to a program" page shows beside its form."""

    client: Client
    shows_demographics: bool
    suggestions: list[Suggestion]
    routing: Routing

    @property
    def shown_categories(self) -> list[str]:
        """The client categories the page shows (for the audit trail)."""
        shown = [Category.REFERRALS.value, Category.SOCIAL_NEEDS.value]
        if self.shows_demographics:
            shown.append(Category.DEMOGRAPHICS.value)
        return shown


def route_page(referral: Referral, organization: Organization, *, suggestions: int) -> RoutePage:
    """For the backbone routing `referral`: up to `suggestions` programs of other
    organizations for its needs (near the client and in their language only when the
    backbone may see who the client is), and the routings made before."""
    client = referral.client
    shows_demographics = policy.may_see(organization, Category.DEMOGRAPHICS, client)
    found = suggest_programs(
        network=client.network,
        needs=[n.code for n in referral.needs.all()],
        zip_code=client.zip_code if shows_demographics else "",
        language=client.preferred_language if shows_demographics else "",
        age=client.age_at(timezone.now()) if shows_demographics else None,
        # One more than shown: the backbone's own program, if suggested, is left out.
        limit=suggestions + 1,
    )
    return RoutePage(
        client=client,
        shows_demographics=shows_demographics,
        suggestions=[s for s in found if s.program.organization_id != organization.pk][
            :suggestions
        ],
        routing=referral_routing(referral, organization),
    )


def programs_to_route_to(organization: Organization) -> QuerySet[Program]:
    """The programs the backbone may route a referral to: its network's directory as it
    sees it (every program), but not its own, with capacity computable."""
    return programs_to_refer_to(organization).exclude(organization_id=organization.pk)


# The statuses that hold a place in a program: sent and not yet closed, waitlisted ones
# included (a place that opens goes to the waitlist first). A draft is not sent yet.
HOLDS_A_PLACE = OPEN - {Status.DRAFT}


def with_open_referrals(programs: QuerySet[Program]) -> QuerySet[Program]:
    """Annotate `open_referrals`, the number of referrals each program holds open, which
    `Program.capacity_state` compares with its capacity. The directory reaches this through
    `directory.capacity.with_capacity` (registered in `referrals.apps`).

    A correlated subquery (one query in all, no GROUP BY on the programs, so it composes with
    any filter or join of the caller).
    """
    counted = (
        Referral.objects.filter(program=OuterRef("pk"), status__in=HOLDS_A_PLACE)
        .order_by()
        .values("program")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return programs.annotate(
        open_referrals=Coalesce(
            Subquery(counted, output_field=IntegerField()), Value(0, output_field=IntegerField())
        )
    )


@dataclass(frozen=True)
class WorkToday:
    """What needs the signed-in person now, for the home page: counts, each a link to the
    list that holds those referrals, and the next few due in the inbox."""

    to_answer: int  # inbox: new, waiting for our answer
    due_today: int  # inbox: the deadline falls later today
    overdue: int  # inbox: past the deadline (the one rule)
    mine: int  # inbox: open and assigned to me
    news: int  # referrals with unread notifications for me
    waiting_overdue: int  # sent: the receiver's answer is overdue
    rescreen_due: int  # clients screened here whose rescreening is due
    next_due: list[Referral]  # inbox rows, what is due first


def work_today(*, organization: Organization, user: User, now: datetime) -> WorkToday:
    """The home page's work queues, in a handful of count queries whatever the history's
    size (open referrals only, through the status indexes)."""
    inbox = referral_box(
        organization=organization, user=user, box=INBOX, filters=ListFilters(), now=now
    ).filter(status__in=_OPEN)
    end_of_today = _start_of(timezone.localdate(now)) + timedelta(days=1)
    counts = inbox.annotate(due=due_expression()).aggregate(
        to_answer=Count("pk", filter=Q(status=Status.REQUESTED)),
        due_today=Count("pk", filter=Q(due__gt=now, due__lt=end_of_today)),
        overdue=Count("pk", filter=overdue_q(now)),
        mine=Count("pk", filter=Q(assigned_to_id=user.pk)),
    )
    sent_late = (
        referral_box(organization=organization, user=user, box=SENT, filters=ListFilters(), now=now)
        .filter(status=Status.REQUESTED)
        .filter(overdue_q(now))
        .count()
    )
    news = (
        Notification.objects.filter(user=user, read_at__isnull=True, referral__isnull=False)
        .filter(
            Q(referral__sender_organization_id=organization.pk)
            | Q(referral__receiver_organization_id=organization.pk)
        )
        .values("referral_id")
        .distinct()
        .count()
    )
    next_due = rows_in_order(
        list(list_order(inbox, now=now, due_first=True).filter(due_at__isnull=False)[:5]),
        now=now,
    )
    mark_names_visible(organization, next_due)
    return WorkToday(
        **counts,
        news=news,
        waiting_overdue=sent_late,
        rescreen_due=rescreen_due_count(organization=organization, now=now),
        next_due=next_due,
    )


def rescreen_due_count(*, organization: Organization, now: datetime) -> int:
    """Clients this organization screened whose rescreening date has come (within the
    sweep's look-back window) and who were not screened again with the same instrument."""
    from .reminders.sweep import RESCREEN_LOOKBACK

    rescreened = Assessment.objects.filter(
        client_id=OuterRef("client_id"),
        instrument__key=OuterRef("instrument__key"),
        status=Assessment.Status.COMPLETED,
        completed_at__gt=OuterRef("completed_at"),
    )
    return (
        Assessment.objects.filter(
            organization_id=organization.pk,
            status=Assessment.Status.COMPLETED,
            rescreen_due_at__lte=now,
            rescreen_due_at__gt=now - RESCREEN_LOOKBACK,
        )
        .exclude(Exists(rescreened))
        .values("client_id")
        .distinct()
        .count()
    )


def organizations_falling_behind(organization: Organization, now: datetime) -> list[dict]:
    """For the backbone: the receiving organizations with the most overdue referrals now
    (the one rule), most first, with how many of their open referrals that is."""
    if not organization.is_backbone:
        return []
    rows = (
        Referral.objects.filter(network_id=organization.network_id, status__in=_OPEN)
        .values("receiver_organization_id", "receiver_organization__name")
        .annotate(open=Count("pk"), overdue=Count("pk", filter=overdue_q(now)))
        .filter(overdue__gt=0)
        .order_by("-overdue", "receiver_organization__name")[:5]
    )
    return [
        {
            "name": r["receiver_organization__name"],
            "overdue": r["overdue"],
            "open": r["open"],
        }
        for r in rows
    ]


def organizations_covered(
    *, client: Client, organizations: Iterable[Organization], sender: Organization
) -> set[int]:
    """Of `organizations`, the ids a referral from `sender` could go to today without a new
    release: the client's releases already let each see what a referral carries (the check
    sending makes), or it is the sender itself. One policy query per organization: for
    the handful of suggested programs' organizations."""
    covered = set()
    for org in {o.pk: o for o in organizations}.values():
        if org.pk == sender.pk or set(CARRIED_CATEGORIES) <= policy.visible_categories(org, client):
            covered.add(org.pk)
    return covered


def program_need_codes(program: Program) -> list[str]:
    """The needs (SDOH category codes) a program serves, to tick when referring to it."""
    return list(program.categories.values_list("code", flat=True))
