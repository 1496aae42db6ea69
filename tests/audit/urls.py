"""Test-only views that write audit events from a real request (through every middleware)."""

from types import SimpleNamespace

from django.http import JsonResponse
from django.urls import path

from audit.services import audit_read, audit_record
from config.urls import urlpatterns as real_patterns
from organizations.tenancy import member_required

# A list page's rows: referral ids and their clients (two rows share client 101).
LIST_ROWS = [(11, 101), (12, 102), (13, 101)]


@member_required()
def record_change(request):
    event = audit_record(
        request=request,
        action="update",
        object_type="client",
        object_ids=[7],
        client_ids=[7],
        detail={"fields": ["phone", "zip_code"]},
    )
    return JsonResponse({"event": event.pk})


@member_required()
def list_rows(request):
    rows = [SimpleNamespace(pk=pk, client_id=client_id) for pk, client_id in LIST_ROWS]
    event = audit_read(
        request, object_type="referral", objects=rows, categories=["referrals"], action="list"
    )
    return JsonResponse({"event": event.pk})


urlpatterns = [
    *real_patterns,
    path("test-audit/change/", record_change),
    path("test-audit/list/", list_rows),
]
