"""The client pages: search, create (with the duplicate check), profile, edit, lead navigator,
identifiers, a client's accounting of disclosures, and the possible-duplicates queue.

A form that fails validation is shown again with its errors, the values typed kept, at 400;
a refusal because of what is already stored (a possible duplicate person, an identifier the
organization already uses) at 409. Either way nothing is written.
"""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from audit.models import AuditEvent
from audit.selectors import client_disclosures_for, has_full_accounting
from audit.services import audit_read, audit_record
from config.spreadsheets import csv_cell
from consent.categories import Category
from consent.policy import visible_categories
from directory.models import Program
from directory.selectors import directory_programs
from organizations.roles import Capability
from organizations.tenancy import get_visible_or_404, member_required

from . import selectors, services
from .forms import (
    ClientCreateForm,
    ClientForm,
    ClientIdentifierForm,
    ClientSearchForm,
    LeadNavigatorForm,
)
from .models import Client, PossibleDuplicate

INVALID = 400
CONFLICT = 409
SEARCH_PAGE_SIZE = 25
DUPLICATES_PAGE_SIZE = 25
DISCLOSURES_PAGE_SIZE = 50
# The record fields the create and edit forms hand to the services.
RECORD_FIELDS = tuple(ClientForm.Meta.fields)


def _demographics_visible(org):
    return Client.objects.visible_to(org, Category.DEMOGRAPHICS)


def _merged_note(client: Client) -> str:
    return (
        f"Client record #{client.pk} was merged into record #{client.merged_into_id} on "
        f"{timezone.localtime(client.merged_at):%b %-d, %Y}"
        f" by {client.merged_by_organization.name}."
    )


def tombstone_redirect(request, client: Client, url_name: str):
    """A tombstone's page: its survivor's same page (302), saying so. A form posted to a
    tombstone changes nothing: the person sees the survivor and does it again there."""
    if request.method == "POST":
        messages.error(request, _merged_note(client) + " Nothing was changed: use this record.")
        return redirect("client_profile", client_id=client.merged_into_id)
    messages.info(request, _merged_note(client))
    return redirect(url_name, client_id=client.merged_into_id)


def _program_to_refer_to(request) -> Program | None:
    """`refer_to=<program id>` (a program page's "Refer a client"): the program the found
    client is to be referred to, if the directory shows it to this organization."""
    wanted = request.POST.get("refer_to") or request.GET.get("refer_to") or ""
    if not wanted.isdigit():
        return None
    return directory_programs(request.organization).filter(pk=int(wanted)).first()


@member_required(Capability.VIEW_CLIENTS)
def client_search(request):
    """Search by name, date of birth, phone or identifier. A POST form: the terms are PHI and
    must not land in URLs, logs or browser history."""
    page = None
    status = 200
    refer_to = _program_to_refer_to(request)
    if request.method == "POST":
        form = ClientSearchForm(request.POST)
        if not form.is_valid():
            status = INVALID
        else:
            clients = selectors.client_search(organization=request.organization, **form.criteria)
            page = Paginator(clients, SEARCH_PAGE_SIZE).get_page(form.cleaned_data.get("page"))
            page.object_list = list(page.object_list)
            audit_read(
                request,
                object_type="client",
                objects=page.object_list,
                client_id_attr="pk",
                categories=[Category.DEMOGRAPHICS],
                action=AuditEvent.Action.SEARCH,
            )
    else:
        form = ClientSearchForm()
    return render(
        request,
        "clients/search.html",
        {
            "form": form,
            "page": page,
            "can_create": request.membership.has(Capability.EDIT_CLIENTS),
            "refer_to": refer_to,
        },
        status=status,
    )


def _matches_digest(matches) -> str:
    """A keyed digest of the matches the user was shown: "create anyway" counts only for
    exactly those (changing the date of birth after seeing them brings the check back), and
    the ids of hidden records never reach the page."""
    ids = ",".join(str(m.client.pk) for m in sorted(matches, key=lambda m: m.client.pk))
    return salted_hmac("clients.possible-duplicates", ids).hexdigest()


def _present_matches(request, matches) -> tuple[list, list[dict]]:
    """Split matches into those the organization may see (shown, with a link) and the
    others (only "a record may exist" and the lead navigator's organization); audit both."""
    org = request.organization
    visible_ids = selectors.client_ids_visible(
        org, [m.client.pk for m in matches], Category.DEMOGRAPHICS
    )
    shown = services.show_possible_duplicates(request, matches, visible_ids)
    visible, hidden = shown.visible, shown.hidden
    notices: list[dict] = []
    if hidden:
        notices = [{"lead_organization": name} for name in shown.lead_organizations]
        if any(m.client.lead_navigator is None for m in hidden):
            backbone = org.network.backbone
            notices.append(
                {"lead_organization": None, "backbone": backbone.name if backbone else ""}
            )
    return visible, notices


@member_required(Capability.EDIT_CLIENTS)
def client_create(request):
    """New client record. Possible duplicates across the network are shown first (409: the
    record would conflict with one that may exist); the record is created only when there
    are none or the user confirms, having seen exactly those matches, it is a new person."""
    context: dict = {}
    status = 200
    if request.method == "POST":
        form = ClientCreateForm(request.POST)
        status = INVALID
        if form.is_valid():
            data = {name: form.cleaned_data[name] for name in RECORD_FIELDS}
            matches = selectors.client_possible_duplicates(
                network=request.organization.network,
                given_name=data["given_name"],
                family_name=data["family_name"],
                date_of_birth=data["date_of_birth"],
                phone=data["phone"],
                zip_code=data["zip_code"],
            )
            digest = _matches_digest(matches)
            seen = request.POST.get("matches_seen", "")
            seen_these = bool(seen) and constant_time_compare(seen, digest)
            confirmed = form.cleaned_data["confirm_new"] and seen_these
            if not matches or confirmed:
                try:
                    client = services.client_create(
                        organization=request.organization,
                        actor=request.user,
                        data=data,
                        duplicates_overridden=len(matches),
                        request=request,
                    )
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    messages.success(
                        request, gettext("Client record #%(id)s created.") % {"id": client.pk}
                    )
                    return redirect("client_profile", client_id=client.pk)
            else:
                # Say why the record was not created when the user already answered: the
                # box left unticked, or the matches changed since they were shown.
                if seen_these:
                    form.add_error(
                        "confirm_new",
                        gettext(
                            "Tick the box if none of the records above is this person, or open "
                            "the matching record instead."
                        ),
                    )
                elif seen:
                    form.add_error(
                        None,
                        gettext(
                            "The possible matches changed since you checked (the details typed, "
                            "or the records in the network): look at them again below."
                        ),
                    )
                visible, notices = _present_matches(request, matches)
                context = {"visible_matches": visible, "hidden_notices": notices, "digest": digest}
                status = CONFLICT
    else:
        form = ClientCreateForm()
    return render(request, "clients/create.html", {"form": form, **context}, status=status)


@member_required(Capability.EDIT_CLIENTS)
@require_POST
def client_create_from_search(request):
    """ "Create a new record" after a search found nobody: the create form, filled with the
    terms searched (name, date of birth, phone). Posted, so the terms stay out of URLs;
    nothing is written until the form itself is submitted."""
    search = ClientSearchForm(request.POST)
    search.is_valid()
    terms = getattr(search, "cleaned_data", {})
    given, _, family = (terms.get("name") or "").partition(" ")
    initial = {
        "given_name": given,
        "family_name": family,
        "date_of_birth": terms.get("date_of_birth"),
        "phone": terms.get("phone", ""),
    }
    form = ClientCreateForm(initial={k: v for k, v in initial.items() if v})
    return render(request, "clients/create.html", {"form": form})


def _render_profile(request, client: Client, *, lead_form=None, identifier_form=None, status=200):
    """The profile: only the sections the organization's releases allow; audited with the
    categories shown."""
    org, membership = request.organization, request.membership
    categories = visible_categories(org, client)
    shows_demographics = Category.DEMOGRAPHICS in categories
    current = selectors.client_current_assignment(client)
    if lead_form is None and membership.has(Capability.ASSIGN_LEAD_NAVIGATOR):
        lead_form = LeadNavigatorForm(
            organization=org, current_lead=current.membership if current else None
        )
    can_edit = shows_demographics and membership.has(Capability.EDIT_CLIENTS)
    if identifier_form is None and can_edit:
        identifier_form = ClientIdentifierForm(organization=org)
    history = list(selectors.client_lead_history(client)[:10])
    # The survivor's history of merges: which record became this one, when, by whom.
    merged_records = list(selectors.client_merged_records(client))
    context = {
        "client": client,
        "shows_demographics": shows_demographics,
        "category_labels": [c.label for c in Category if c in categories],
        "identifiers": selectors.client_profile_identifiers(client) if shows_demographics else [],
        "current_assignment": current,
        "lead_history": history,
        "merged_records": merged_records,
        "lead_form": lead_form,
        "identifier_form": identifier_form if can_edit else None,
        "can_edit": can_edit,
        "can_view_disclosures": shows_demographics and membership.has(Capability.VIEW_ACCESS_LOG),
    }
    audit_read(
        request,
        object_type="client",
        objects=[client],
        client_id_attr="pk",
        categories=categories,
    )
    return render(request, "clients/profile.html", context, status=status)


@member_required(Capability.VIEW_CLIENTS)
def client_profile(request, client_id: int):
    client = get_visible_or_404(Client, request.organization, pk=client_id)
    if client.is_tombstone:
        return tombstone_redirect(request, client, "client_profile")
    return _render_profile(request, client)


@member_required(Capability.EDIT_CLIENTS)
def client_edit(request, client_id: int):
    """Change the record: for organizations that may see the client's demographics."""
    client = get_object_or_404(_demographics_visible(request.organization), pk=client_id)
    if client.is_tombstone:
        return tombstone_redirect(request, client, "client_edit")
    if request.method == "POST":
        form = ClientForm(request.POST, instance=client)
        if form.is_valid():
            try:
                changed = services.client_update(
                    client=client,
                    actor=request.user,
                    organization=request.organization,
                    data={name: form.cleaned_data[name] for name in RECORD_FIELDS},
                    request=request,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if changed:
                    messages.success(request, gettext("Client record saved."))
                else:
                    messages.info(request, gettext("Nothing was changed."))
                return redirect("client_profile", client_id=client.pk)
    else:
        form = ClientForm(instance=client)
    audit_read(
        request,
        object_type="client",
        objects=[client],
        client_id_attr="pk",
        categories=[Category.DEMOGRAPHICS],
    )
    return render(
        request,
        "clients/edit.html",
        {"form": form, "client": client},
        status=INVALID if request.method == "POST" else 200,
    )


@member_required(Capability.ASSIGN_LEAD_NAVIGATOR)
@require_POST
def client_lead_navigator(request, client_id: int):
    """Make one of the organization's navigators the client's lead navigator: only an
    organization that sees the client's demographics (404 otherwise, as for editing)."""
    client = get_object_or_404(_demographics_visible(request.organization), pk=client_id)
    if client.is_tombstone:
        return tombstone_redirect(request, client, "client_profile")
    current = selectors.client_current_assignment(client)
    form = LeadNavigatorForm(
        request.POST,
        organization=request.organization,
        current_lead=current.membership if current else None,
    )
    if form.is_valid():
        membership = form.cleaned_data["membership"]
        try:
            assignment = services.client_lead_navigator_assign(
                client=client,
                membership=membership,
                actor=request.user,
                organization=request.organization,
                handover_note=form.cleaned_data["handover_note"],
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if current is not None and assignment.pk == current.pk:
                messages.info(request, gettext("That navigator is already the lead navigator."))
            else:
                who = membership.user.get_full_name() or membership.user.email
                messages.success(
                    request, gettext("%(person)s is now the lead navigator.") % {"person": who}
                )
            return redirect("client_profile", client_id=client.pk)
    return _render_profile(request, client, lead_form=form, status=INVALID)


@member_required(Capability.EDIT_CLIENTS)
@require_POST
def client_identifier_add(request, client_id: int):
    """Add the identifier the organization's own system gives the client (an MRN)."""
    client = get_object_or_404(_demographics_visible(request.organization), pk=client_id)
    if client.is_tombstone:
        return tombstone_redirect(request, client, "client_profile")
    form = ClientIdentifierForm(request.POST, organization=request.organization)
    if form.is_valid():
        try:
            services.client_identifier_add(
                client=client,
                organization=request.organization,
                actor=request.user,
                system=form.cleaned_data["system"],
                value=form.cleaned_data["value"],
                request=request,
            )
        except services.DuplicateIdentifierError as error:
            # Lost a race with a concurrent add of the same identifier.
            form.add_error("value", ValidationError(" ".join(error.messages), code="duplicate"))
        except ValidationError as error:
            form.add_error("value", error)
        else:
            messages.success(request, gettext("Identifier added."))
            return redirect("client_profile", client_id=client.pk)
    status = CONFLICT if form.has_error("value", code="duplicate") else INVALID
    return _render_profile(request, client, identifier_form=form, status=status)


def _event_row(event: AuditEvent) -> list[str]:
    actor = event.actor
    return [
        timezone.localtime(event.occurred_at).isoformat(timespec="seconds"),
        event.organization.name if event.organization else "",
        (actor.get_full_name() or actor.email) if actor else "",
        event.get_action_display(),
        event.object_type,
        ", ".join(str(i) for i in event.object_ids),
        ", ".join(event.detail.get("categories", [])) if isinstance(event.detail, dict) else "",
    ]


@member_required(Capability.VIEW_ACCESS_LOG)
def client_disclosures(request, client_id: int):
    """The client's accounting of disclosures (page, `?format=csv`, `?format=print`): in
    full for the privacy role of the organization holding the record, which prints it for
    the client; any other organization reads only its own people's accesses
    (audit.selectors.client_disclosures_for). Viewing, downloading or printing it is
    audited too."""
    client = get_object_or_404(_demographics_visible(request.organization), pk=client_id)
    if client.is_tombstone:
        return tombstone_redirect(request, client, "client_disclosures")
    membership = request.membership
    events = client_disclosures_for(
        client_id=client.pk,
        record_holder_id=client.created_by_organization_id,
        membership=membership,
        merged_ids=selectors.client_record_ids(client)[1:],
    )
    full = has_full_accounting(
        record_holder_id=client.created_by_organization_id, membership=membership
    )
    output = request.GET.get("format")
    if output == "csv":
        audit_record(
            request=request,
            action=AuditEvent.Action.EXPORT,
            object_type="client_disclosures",
            object_ids=[client.pk],
            client_ids=[client.pk],
        )
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(
            ["time", "organization", "user", "action", "object type", "object ids", "categories"]
        )
        for event in events.iterator(chunk_size=2000):
            writer.writerow([csv_cell(v) for v in _event_row(event)])
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="client-{client.pk}-disclosures.csv"'
        )
        return response
    printing = output == "print"
    audit_record(
        request=request,
        action=AuditEvent.Action.PRINT if printing else AuditEvent.Action.VIEW,
        object_type="client_disclosures",
        object_ids=[client.pk],
        client_ids=[client.pk],
        detail={"categories": [Category.DEMOGRAPHICS.value]},
    )
    if printing:
        return render(
            request,
            "clients/disclosures_print.html",
            {"client": client, "events": events, "full": full, "printed_at": timezone.now()},
        )
    page = Paginator(events, DISCLOSURES_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "clients/disclosures.html", {"client": client, "page": page, "full": full}
    )


def _record_side(client: Client, visible_ids) -> dict:
    """One record of a queue row, as far as the organization may see it: the record, or
    only that it exists and its lead navigator's organization (as the duplicate check
    says it: the id of a hidden record never reaches the page)."""
    if client.pk in visible_ids:
        return {"visible": True, "client": client}
    lead = client.lead_navigator
    return {"visible": False, "lead_organization": lead.organization.name if lead else ""}


@member_required(Capability.ASSIGN_LEAD_NAVIGATOR)
def possible_duplicates(request):
    """The duplicates queue: records a system created although they may be a person already
    on file, for the navigators and admins of the organizations that lead (or, without a
    lead navigator, hold) either record. Each record shows as far as the consent policy
    allows; only an organization that may see both decides. Shown records are audited as
    the duplicate check audits them (clients.services.show_possible_duplicates)."""
    org = request.organization
    page = Paginator(selectors.possible_duplicates_open(org), DUPLICATES_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    entries = list(page.object_list)
    records = {c.pk: c for e in entries for c in (e.client, e.match)}
    visible_ids = selectors.client_ids_visible(org, records, Category.DEMOGRAPHICS)
    services.show_possible_duplicates(
        request,
        [selectors.Match(c, selectors.Strength.POSSIBLE, "") for c in records.values()],
        visible_ids,
    )
    rows = []
    for entry in entries:
        both = entry.client_id in visible_ids and entry.match_id in visible_ids
        rows.append(
            {
                "entry": entry,
                "client": _record_side(entry.client, visible_ids),
                "match": _record_side(entry.match, visible_ids),
                # Why they may be one person, and who sent the record, describe the hidden
                # record too: only for an organization that sees both.
                "may_decide": both,
            }
        )
    return render(request, "clients/duplicates.html", {"page": page, "rows": rows})


@member_required(Capability.ASSIGN_LEAD_NAVIGATOR)
@require_POST
def possible_duplicate_dismiss(request, duplicate_id: int):
    """Close a queue entry as "not the same person" (confirmed with a tick). Merging the two
    records instead: possible_duplicate_merge."""
    duplicate = get_visible_or_404(PossibleDuplicate, request.organization, pk=duplicate_id)
    if request.POST.get("confirm") != "yes":
        messages.error(
            request,
            gettext(
                "Tick the box to confirm that the two records are different people: nothing was "
                "changed."
            ),
        )
        return redirect("possible_duplicates")
    try:
        services.possible_duplicate_dismiss(
            duplicate=duplicate,
            organization=request.organization,
            actor=request.user,
            request=request,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, gettext("Marked as two different people: the entry left the queue.")
        )
    return redirect("possible_duplicates")


@member_required(Capability.ASSIGN_LEAD_NAVIGATOR)
@require_POST
def possible_duplicate_merge(request, duplicate_id: int):
    """Close a queue entry as "the same person": merge the two records, the one chosen
    (`survivor`, confirmed with a tick) keeping everything (clients.services.client_merge).
    Only an organization that may see both records' demographics gets this far (404
    otherwise, as for editing either record)."""
    org = request.organization
    entry = get_visible_or_404(PossibleDuplicate, org, pk=duplicate_id)
    visible = _demographics_visible(org)
    records = {pk: get_object_or_404(visible, pk=pk) for pk in (entry.client_id, entry.match_id)}
    if entry.status != PossibleDuplicate.Status.OPEN:
        messages.info(request, gettext("This entry was already decided: nothing was changed."))
        return redirect("possible_duplicates")
    try:
        survivor_id = int(request.POST.get("survivor", ""))
    except ValueError:
        survivor_id = None
    if survivor_id not in records or request.POST.get("confirm") != "yes":
        messages.error(
            request,
            gettext(
                "Choose the record that stays and tick the box to confirm that the two records "
                "are the same person: nothing was changed."
            ),
        )
        return redirect("possible_duplicates")
    (duplicate_id_,) = (pk for pk in records if pk != survivor_id)
    try:
        survivor = services.client_merge(
            survivor=records[survivor_id],
            duplicate=records[duplicate_id_],
            actor=request.user,
            organization=org,
            request=request,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages) + " Nothing was changed.")
        return redirect("possible_duplicates")
    messages.success(
        request,
        gettext("Client record #%(merged)s was merged into record #%(survivor)s.")
        % {"merged": duplicate_id_, "survivor": survivor.pk},
    )
    return redirect("client_profile", client_id=survivor.pk)
