"""The service directory pages: search, programs, HSDS import and export.

A form that fails validation (or a search with a filter value that is not one) is shown
again with its errors and the values typed, at 400, and nothing is written.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from organizations.roles import Capability
from organizations.selectors import partnerships_for
from organizations.services import partnership_may_manage
from organizations.tenancy import member_required

from .forms import DirectorySearchForm, HsdsUploadForm, PartnershipProgramsForm, ProgramForm
from .hsds import export_dataset
from .models import HsdsImport, Program
from .partnership_forms import AgreementForm, PartnershipForm
from .partnerships import MESSAGES as PARTNERSHIP_MESSAGES
from .partnerships import (
    agreement_status,
    partnership_create,
    partnership_document_add,
    partnership_document_delete,
    partnership_document_served,
    partnership_update,
)
from .selectors import (
    directory_language_choices,
    directory_programs,
    directory_search,
)
from .services import (
    hsds_import_start,
    partnership_programs_set,
    program_close,
    program_create,
    program_update,
)
from .tasks import hsds_import_task

INVALID = 400
PAGE_SIZE = 20
REPORT_PAGE_SIZE = 50


@member_required(Capability.VIEW_DIRECTORY)
@require_GET
def directory(request):
    """Search the network's programs by need, area, language, capacity and words."""
    org = request.organization
    form = DirectorySearchForm(
        request.GET or None, language_choices=directory_language_choices(org)
    )
    invalid = form.is_bound and not form.is_valid()
    # A filter value that is not one (a retired need code, a language no program speaks any
    # more) is reported over an empty result: ignoring it would list programs the person
    # did not ask for.
    page = (
        None
        if invalid
        else Paginator(directory_search(org, form.filters()), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
    )
    return render(
        request,
        "directory/search.html",
        {
            "form": form,
            "page": page,
            "invalid": invalid,
            "searched": any(v for k, v in request.GET.items() if k != "page"),
            "can_manage": request.membership.has(Capability.MANAGE_PROGRAMS),
        },
        status=INVALID if invalid else 200,
    )


@member_required(Capability.VIEW_DIRECTORY)
@require_GET
def program_detail(request, program_id: int):
    program = get_object_or_404(directory_programs(request.organization), pk=program_id)
    return render(
        request,
        "directory/program_detail.html",
        {"program": program, "can_edit": _can_edit(request, program)},
    )


def _can_edit(request, program: Program) -> bool:
    return (
        request.membership.has(Capability.MANAGE_PROGRAMS)
        and program.organization_id == request.organization.pk
    )


def _editable(request, program_id: int) -> Program:
    """The active organization's own program, or 404 (another organization's program is
    not this organization's to edit, and need not be confirmed to exist)."""
    return get_object_or_404(
        Program.objects.editable_by(request.organization).prefetch_related(
            "categories", "service_areas", "languages", "service_codes"
        ),
        pk=program_id,
    )


@member_required(Capability.MANAGE_PROGRAMS)
@require_http_methods(["GET", "POST"])
def program_create_view(request):
    # Bound on every POST, even an empty one: it then says what is required.
    form = ProgramForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            program = program_create(
                organization=request.organization,
                data=form.to_data(),
                actor=request.user,
                request=request,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request, gettext("%(name)s is in the directory.") % {"name": program.name}
            )
            return redirect("program_detail", program_id=program.pk)
    return render(
        request,
        "directory/program_form.html",
        {"form": form, "program": None},
        status=INVALID if form.is_bound else 200,
    )


@member_required(Capability.MANAGE_PROGRAMS)
@require_http_methods(["GET", "POST"])
def program_edit(request, program_id: int):
    program = _editable(request, program_id)
    form = ProgramForm(request.POST if request.method == "POST" else None, program=program)
    if request.method == "POST" and form.is_valid():
        try:
            changed = program_update(
                program=program, data=form.to_data(), actor=request.user, request=request
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            name = form.cleaned_data["name"]
            messages.success(
                request,
                gettext("Saved %(name)s.") % {"name": name}
                if changed
                else gettext("Nothing was changed."),
            )
            return redirect("program_detail", program_id=program.pk)
    return render(
        request,
        "directory/program_form.html",
        {"form": form, "program": program},
        status=INVALID if form.is_bound else 200,
    )


@member_required(Capability.MANAGE_PROGRAMS)
@require_http_methods(["GET", "POST"])
def program_close_view(request, program_id: int):
    """Stop accepting referrals, after a confirmation page."""
    program = _editable(request, program_id)
    if request.method == "POST":
        if program_close(program=program, actor=request.user, request=request):
            messages.success(
                request, gettext("%(name)s no longer accepts referrals.") % {"name": program.name}
            )
        else:
            messages.info(request, gettext("%(name)s was already closed.") % {"name": program.name})
        return redirect("program_detail", program_id=program.pk)
    return render(request, "directory/program_close.html", {"program": program})


@member_required(Capability.MANAGE_PROGRAMS)
@require_http_methods(["GET", "POST"])
def hsds_import(request):
    """Upload an HSDS dataset; a worker applies it while the status page shows progress."""
    org = request.organization
    posted = request.method == "POST"
    form = HsdsUploadForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            started = hsds_import_start(
                network=org.network,
                organization=org,
                actor=request.user,
                file_name=upload.name,
                payload=upload.read(),
            )
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            # After commit, so the worker finds the row.
            transaction.on_commit(lambda: hsds_import_task.delay(started.pk))
            return redirect("hsds_import_status", import_id=started.pk)
    recent = HsdsImport.objects.visible_to(org).defer("payload", "report")[:10]
    return render(
        request,
        "directory/import.html",
        {"form": form, "recent": recent, "network_wide": org.is_backbone},
        status=INVALID if form.is_bound else 200,
    )


@member_required(Capability.MANAGE_PROGRAMS)
@require_GET
def hsds_import_status(request, import_id: int):
    """Progress while it runs (htmx polls this every 2 s), then the row-by-row report."""
    imp = get_object_or_404(
        HsdsImport.objects.visible_to(request.organization).defer("payload"), pk=import_id
    )
    show = request.GET.get("show", "")
    if show not in ("", "problems"):
        # A filter that is not one is reported, not read as "every row".
        return render(
            request, "directory/import_status.html", {"imp": imp, "bad_filter": True}, status=400
        )
    problems_only = show == "problems"
    rows = imp.report
    if problems_only:
        rows = [r for r in rows if r["action"] == "rejected"]
    context = {
        "imp": imp,
        "problems_only": problems_only,
        "report_page": Paginator(rows, REPORT_PAGE_SIZE).get_page(request.GET.get("page")),
    }
    if request.headers.get("HX-Request"):
        return render(request, "directory/_import_progress.html", context)
    return render(request, "directory/import_status.html", context)


@member_required(Capability.VIEW_DIRECTORY)
@require_GET
def hsds_export(request):
    """The programs this organization sees, as an HSDS zip (`?own=1`: its own only)."""
    org = request.organization
    programs = directory_programs(org)
    if request.GET.get("own"):
        programs = programs.filter(organization=org)
    title = f"{org.network.name}: service directory ({timezone.localdate():%Y-%m-%d})"
    programs = programs.prefetch_related("service_codes")
    content = export_dataset(programs.order_by("organization__name", "name"), title=title)
    response = HttpResponse(content, content_type="application/zip")
    scope = org.slug if request.GET.get("own") else org.network.slug
    response["Content-Disposition"] = (
        f'attachment; filename="hsds-{scope}-{timezone.localdate():%Y%m%d}.zip"'
    )
    return response


def _partnership_page(request, partnership, *, status: int = 200, form=None):
    manage = _may_manage_partnership(request, partnership)
    if manage and form is None:
        form = PartnershipProgramsForm(partnership=partnership)
    today = timezone.localdate()
    return render(
        request,
        "directory/partnership_detail.html",
        {
            "partnership": partnership,
            "parties": partnership.organizations.order_by("name"),
            "agreements": [
                (d, agreement_status(d, today=today)) for d in partnership.documents.all()
            ],
            "programs": partnership.programs.select_related("organization").order_by(
                "organization__name", "name"
            ),
            "programs_form": form if manage else None,
            "may_manage": manage,
        },
        status=status,
    )


def _may_manage_partnership(request, partnership) -> bool:
    """An org admin of one of its organizations, or of the network's backbone."""
    return request.membership.has(Capability.MANAGE_PROGRAMS) and partnership_may_manage(
        partnership=partnership, organization=request.organization
    )


@member_required(Capability.VIEW_PARTNERSHIPS)
def partnership_detail(request, partnership_id: int):
    partnership = get_object_or_404(
        partnerships_for(request.organization, request.user), pk=partnership_id
    )
    return _partnership_page(request, partnership)


@member_required(Capability.MANAGE_PROGRAMS)
@require_POST
def partnership_programs(request, partnership_id: int):
    """Set the programs the partnership covers (its organizations' admins, the backbone's)."""
    partnership = get_object_or_404(
        partnerships_for(request.organization, request.user), pk=partnership_id
    )
    if not partnership_may_manage(partnership=partnership, organization=request.organization):
        raise PermissionDenied(
            gettext("Only the partnership's organizations or the backbone may do this.")
        )
    form = PartnershipProgramsForm(request.POST, partnership=partnership)
    if not form.is_valid():
        return _partnership_page(request, partnership, status=400, form=form)
    try:
        partnership_programs_set(
            partnership=partnership,
            programs=list(form.cleaned_data["programs"]),
            organization=request.organization,
        )
    except ValidationError as error:
        form.add_error(None, error)
        return _partnership_page(request, partnership, status=400, form=form)
    messages.success(request, gettext("The programs this partnership covers are saved."))
    return redirect("partnership_detail", partnership_id=partnership.pk)


# Partnerships and their agreements, kept by the backbone and the partners' org admins.


def _visible_partnership(request, partnership_id: int):
    return get_object_or_404(
        partnerships_for(request.organization, request.user), pk=partnership_id
    )


def _managed_partnership(request, partnership_id: int):
    """The partnership if this organization may change it; 404 when it may not see it,
    403 when it sees it (a granted reviewer) but is not one of its organizations."""
    partnership = _visible_partnership(request, partnership_id)
    if not partnership_may_manage(partnership=partnership, organization=request.organization):
        raise PermissionDenied(PARTNERSHIP_MESSAGES["not_yours"])
    return partnership


@member_required(Capability.MANAGE_PROGRAMS)
@require_http_methods(["GET", "POST"])
def partnership_create_view(request):
    """A new partnership of the network: the backbone's admin between any organizations,
    an org admin between their own organization and others."""
    org = request.organization
    form = PartnershipForm(request.POST if request.method == "POST" else None, acting_for=org)
    if request.method == "POST" and form.is_valid():
        try:
            partnership = partnership_create(
                acting_for=org, actor=request.user, data=form.to_data(), request=request
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, gettext("%(name)s is set up.") % {"name": partnership.name})
            return redirect("partnership_detail", partnership_id=partnership.pk)
    return render(
        request,
        "directory/partnership_form.html",
        {"form": form, "partnership": None},
        status=INVALID if form.is_bound else 200,
    )


@member_required(Capability.MANAGE_PROGRAMS)
@require_http_methods(["GET", "POST"])
def partnership_edit(request, partnership_id: int):
    partnership = _managed_partnership(request, partnership_id)
    org = request.organization
    form = PartnershipForm(
        request.POST if request.method == "POST" else None,
        acting_for=org,
        partnership=partnership,
    )
    if request.method == "POST" and form.is_valid():
        try:
            changed = partnership_update(
                partnership=partnership,
                acting_for=org,
                actor=request.user,
                data=form.to_data(),
                request=request,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            name = form.cleaned_data["name"].strip()
            messages.success(
                request,
                gettext("Saved %(name)s.") % {"name": name}
                if changed
                else gettext("Nothing was changed."),
            )
            return redirect("partnership_detail", partnership_id=partnership.pk)
    return render(
        request,
        "directory/partnership_form.html",
        {"form": form, "partnership": partnership},
        status=INVALID if form.is_bound else 200,
    )


@member_required(Capability.MANAGE_PROGRAMS)
@require_http_methods(["GET", "POST"])
def partnership_agreement_upload(request, partnership_id: int):
    """File a signed (or to-be-signed) agreement: MOU, DSA, BAA or service contract."""
    partnership = _managed_partnership(request, partnership_id)
    posted = request.method == "POST"
    form = AgreementForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        data = form.cleaned_data
        try:
            partnership_document_add(
                partnership=partnership,
                acting_for=request.organization,
                actor=request.user,
                kind=data["kind"],
                title=data["title"],
                signed_on=data["signed_on"],
                expires_on=data["expires_on"],
                upload=data["file"],
                today=timezone.localdate(),
                request=request,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                gettext("The agreement is on file for %(name)s.") % {"name": partnership.name},
            )
            return redirect("partnership_detail", partnership_id=partnership.pk)
    return render(
        request,
        "directory/partnership_agreement_form.html",
        {"form": form, "partnership": partnership},
        status=INVALID if form.is_bound else 200,
    )


@member_required(Capability.VIEW_PARTNERSHIPS)
@require_GET
def partnership_agreement_file(request, partnership_id: int, document_id: int):
    """An agreement's file, to whoever may see the partnership (never a public media URL);
    every download is audited."""
    partnership = _visible_partnership(request, partnership_id)
    document = get_object_or_404(partnership.documents.all(), pk=document_id)
    if not document.file:
        raise Http404("No file is on record for this agreement.")
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        # The row outlived its file (storage restored without it): say so, not 500.
        raise Http404("The agreement's file is missing from storage.") from None
    partnership_document_served(document=document, request=request)
    extension = document.file.name.rsplit(".", 1)[-1].lower()
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"{document.kind}-{partnership.pk}-{document.pk}.{extension}",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@member_required(Capability.MANAGE_PROGRAMS)
@require_http_methods(["GET", "POST"])
def partnership_agreement_delete(request, partnership_id: int, document_id: int):
    """GET: which agreement would go. POST: remove it and its file."""
    partnership = _managed_partnership(request, partnership_id)
    document = get_object_or_404(partnership.documents.all(), pk=document_id)
    if request.method == "POST":
        partnership_document_delete(
            document=document, acting_for=request.organization, actor=request.user, request=request
        )
        messages.success(
            request,
            gettext("Removed %(kind)s: %(title)s.")
            % {"kind": document.get_kind_display(), "title": document.title},
        )
        return redirect("partnership_detail", partnership_id=partnership.pk)
    return render(
        request,
        "directory/partnership_agreement_delete.html",
        {
            "partnership": partnership,
            "document": document,
            "status": agreement_status(document, today=timezone.localdate()),
        },
    )
