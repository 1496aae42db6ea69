"""One referral: the client summary (as far as releases allow), the do-not-contact warning,
the timeline, the notes thread, and the actions the viewer's organization may take."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from audit.services import audit_read
from consent.categories import Category
from organizations.roles import Capability
from organizations.tenancy import member_required

from .. import selectors, services
from ..forms import AppointmentForm, AssignForm, ContactForm, MoveForm, NoteForm
from ..models import Referral
from ..transitions import TAKES_ON
from ..workflow import MOVES, WORKING
from .errors import add_errors

# Moves that end or undo the referral: their form opens only on purpose (a second step).
DESTRUCTIVE = frozenset({"reject", "cancel", "fail", "mark_error"})


def referral_or_404(request, referral_id: int) -> Referral:
    """The referral, if the active organization sent or received it; 404 otherwise (a third
    organization cannot learn that it exists)."""
    return get_object_or_404(selectors.referral_for_page(request.organization), pk=referral_id)


@member_required(Capability.VIEW_CLIENTS)
@require_GET
def referral_detail(request, referral_id: int):
    referral = referral_or_404(request, referral_id)
    if referral.receiver_organization_id == request.organization.pk:
        # The receiver has seen it: the sender's page says "opened" from now on.
        services.referral_mark_opened(
            referral=referral, actor=request.user, organization=request.organization
        )
    return render_detail(request, referral)


def render_detail(
    request,
    referral: Referral,
    *,
    status: int = 200,
    conflict: str = "",
    error: str = "",
    failed_move: str = "",
    move_form: MoveForm | None = None,
    contact_form: ContactForm | None = None,
    appointment_form: AppointmentForm | None = None,
    assign_form: AssignForm | None = None,
    note_form: NoteForm | None = None,
):
    """The detail page (also after a refused action, with its errors). Audited as one read
    of the referral, with the client categories the page showed."""
    page = selectors.referral_page(referral, request.organization)
    audit_read(
        request, object_type="referral", objects=[referral], categories=page.shown_categories
    )
    audit_read(
        request,
        object_type="referral",
        objects=page.routing.parts or [],
        categories=[Category.REFERRALS.value],
    )
    moves = [
        {
            "move": move,
            "form": (
                move_form
                if failed_move == move.name and move_form is not None
                else MoveForm(
                    initial={"move": move.name, "expected_status": referral.status},
                    auto_id=f"id_{move.name}_%s",
                )
            ),
            "destructive": move.name in DESTRUCTIVE,
            "open": failed_move == move.name,
        }
        for move in page.moves
    ]
    is_open = referral.is_open
    context = {
        "referral": referral,
        "client": referral.client,
        "shows_demographics": page.sight.demographics,
        "shows_needs": page.sight.needs,
        "shows_details": page.sight.details,
        "sight": page.sight,
        "is_sender": page.is_sender,
        "is_receiver": page.is_receiver,
        "is_open": is_open,
        "moves": moves,
        "conflict": conflict,
        "error": error,
        "events": page.events,
        "notes": page.notes,
        "withheld_notes": page.withheld_notes,
        "note_form": note_form or NoteForm(),
        "contact_form": ((contact_form or ContactForm()) if page.is_receiver and is_open else None),
        "appointment_form": (
            (appointment_form or AppointmentForm())
            if page.is_receiver and referral.status in WORKING
            else None
        ),
        "assign_form": (
            (
                assign_form
                or AssignForm(staff=page.staff, initial={"assignee": referral.assigned_to_id})
            )
            if page.staff is not None
            else None
        ),
        "parent": page.parent,
        "onward": page.onward,
        "routing": page.routing,
        "may_route": page.may_route,
        "may_refer_onward": page.may_refer_onward,
        "outcome_choices": MoveForm.base_fields["outcome"].choices,
        # The intake queue: the receiver chooses the program as it takes the referral on.
        "intake_programs": (
            list(selectors.own_programs(request.organization))
            if page.is_receiver and referral.program_id is None and is_open
            else None
        ),
        "takes_on": TAKES_ON,
    }
    return render(request, "referrals/detail.html", context, status=status)


def _seen(request, referral: Referral) -> None:
    """Whoever acts on a referral has seen its news: their notifications about it are
    marked read (the bell stops counting what they just dealt with)."""
    services.notifications_mark_read(user=request.user, referral_id=referral.pk)


def _fresh(request, referral_id: int) -> Referral:
    return referral_or_404(request, referral_id)


@member_required(Capability.VIEW_CLIENTS)
@require_POST
def referral_move(request, referral_id: int):
    """Make one move of the state machine. The hidden `expected_status` is the status the
    user saw: if someone moved the referral meanwhile, the page says who and shows the
    referral as it is now."""
    referral = referral_or_404(request, referral_id)
    posted = request.POST.get("move", "")
    form = MoveForm(request.POST, auto_id=f"id_{posted if posted in MOVES else 'move'}_%s")
    valid = form.is_valid()
    if posted not in MOVES or {"move", "expected_status"} & set(form.errors):
        messages.error(
            request, gettext("That action is not available. Here is the referral as it is now.")
        )
        return render_detail(request, referral, status=400)
    if not valid:  # the move's own fields (a decline without its reason): say what is missing
        return render_detail(request, referral, status=400, failed_move=posted, move_form=form)
    data = form.cleaned_data
    move = MOVES[data["move"]]
    program = None
    if data.get("program"):
        # Only the active organization's own programs can be chosen: another id is refused
        # as if no program had been chosen, without saying whether it exists.
        program = selectors.own_programs(request.organization).filter(pk=data["program"]).first()
        if program is None:
            form.add_error(None, gettext("Choose one of your own organization's programs."))
            return render_detail(request, referral, status=400, failed_move=posted, move_form=form)
    # Taking a referral on assigns it to whoever took it, unless they unticked the box (a
    # form without the box, e.g. an older page, assigns nobody).
    assign_me = move.name in TAKES_ON and request.POST.get("assign_to_me") == "on"
    try:
        with transaction.atomic():
            services.referral_transition(
                referral_id=referral.pk,
                move=move.name,
                actor=request.user,
                organization=request.organization,
                reason=data["reason"],
                decline_reason=data["decline_reason"],
                outcome=data["outcome"],
                outcome_note=data["outcome_note"],
                expected_status=data["expected_status"],
                program=program,
            )
            if assign_me and referral.assigned_to_id is None:
                services.referral_assign(
                    referral=referral,
                    assignee=request.user,
                    actor=request.user,
                    organization=request.organization,
                )
    except services.TransitionConflict as conflict:
        return render_detail(
            request, _fresh(request, referral.pk), status=409, conflict=" ".join(conflict.messages)
        )
    except ValidationError as error:
        add_errors(form, error)
        return render_detail(
            request,
            _fresh(request, referral.pk),
            status=400,
            failed_move=move.name,
            move_form=form,
        )
    fresh = _fresh(request, referral.pk)
    status = fresh.get_status_display().lower()
    if fresh.outcome:
        status += ": " + fresh.get_outcome_display().lower()
    if assign_me and fresh.assigned_to_id == request.user.pk:
        text = gettext("Referral #%(id)s is now %(status)s, assigned to you.")
    else:
        text = gettext("Referral #%(id)s is now %(status)s.")
    _seen(request, referral)
    messages.success(request, text % {"id": fresh.pk, "status": status})
    # Acting from a list goes back to that list, where the next referral is waiting.
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect("referral_detail", referral_id=referral.pk)


@member_required(Capability.VIEW_CLIENTS)
@require_POST
def referral_note(request, referral_id: int):
    """Add a note to the thread between sender and receiver (closed referrals too)."""
    referral = referral_or_404(request, referral_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            services.referral_note_add(
                referral=referral,
                author=request.user,
                organization=request.organization,
                body=form.cleaned_data["body"],
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            _seen(request, referral)
            messages.success(request, gettext("Note added."))
            return redirect(reverse("referral_detail", args=[referral.pk]) + "#notes")
    return render_detail(request, referral, status=400, note_form=form)


@member_required(Capability.VIEW_CLIENTS)
@require_POST
def referral_contact(request, referral_id: int):
    """Record a contact with the client (receiver only, open referrals)."""
    referral = referral_or_404(request, referral_id)
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            services.referral_record_contact(
                referral=referral,
                actor=request.user,
                organization=request.organization,
                contact_type=form.cleaned_data["contact_type"],
                successful=form.cleaned_data["successful"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            _seen(request, referral)
            messages.success(request, gettext("Contact recorded."))
            return redirect("referral_detail", referral_id=referral.pk)
    fresh = _fresh(request, referral.pk)
    # On a closed referral the contact form is gone: say why at the top instead.
    error = "" if fresh.is_open else " ".join(form.non_field_errors())
    return render_detail(request, fresh, status=400, contact_form=form, error=error)


@member_required(Capability.VIEW_CLIENTS)
@require_POST
def referral_appointment(request, referral_id: int):
    """Record the client's appointment with the receiver (receiver only, accepted or in
    progress); the client is texted the date and reminded the day before."""
    referral = referral_or_404(request, referral_id)
    form = AppointmentForm(request.POST)
    if form.is_valid():
        try:
            services.referral_schedule_appointment(
                referral=referral,
                actor=request.user,
                organization=request.organization,
                when=form.cleaned_data["when"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            _seen(request, referral)
            messages.success(request, gettext("Appointment recorded."))
            return redirect("referral_detail", referral_id=referral.pk)
    fresh = _fresh(request, referral.pk)
    error = "" if fresh.is_open else " ".join(form.non_field_errors())
    return render_detail(request, fresh, status=400, appointment_form=form, error=error)


@member_required(Capability.VIEW_CLIENTS)
@require_POST
def referral_assign(request, referral_id: int):
    """Assign the referral to one of the receiving organization's staff (or nobody)."""
    referral = referral_or_404(request, referral_id)
    form = AssignForm(request.POST, staff=selectors.assignable_staff(request.organization))
    if form.is_valid():
        assignee = form.cleaned_data["assignee"]
        try:
            services.referral_assign(
                referral=referral,
                assignee=assignee,
                actor=request.user,
                organization=request.organization,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            who = str(assignee) if assignee else "nobody"
            _seen(request, referral)
            messages.success(
                request,
                gettext("Referral #%(id)s is assigned to %(person)s.")
                % {"id": referral.pk, "person": who},
            )
            return redirect("referral_detail", referral_id=referral.pk)
    fresh = _fresh(request, referral.pk)
    error = "" if fresh.is_open else " ".join(form.non_field_errors())
    return render_detail(request, fresh, status=400, assign_form=form, error=error)
