"""One error body for every API failure:

    {"error": {"status": 400, "code": "invalid", "message": "...", "fields": {...}}}

Refusals from the services (Django's ValidationError and PermissionDenied) are translated
here, so views can call services without wrapping each call.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler


def _from_django(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        return exceptions.ValidationError(exc.message_dict)
    return exceptions.ValidationError({"non_field_errors": exc.messages})


def _conflict(exc: DjangoValidationError) -> bool:
    from referrals.services import DuplicateReferral, TransitionConflict

    return isinstance(exc, TransitionConflict | DuplicateReferral)


class PayloadTooLarge(exceptions.APIException):
    # Django refuses to read a body past DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MiB by default).
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


def exception_handler(exc, context):
    conflict = False
    if isinstance(exc, DjangoValidationError):
        conflict = _conflict(exc)
        exc = _from_django(exc)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if conflict:
        response.status_code = status.HTTP_409_CONFLICT
    response.data = error_body(response.status_code, exc)
    return response


def error_body(status_code: int, exc: exceptions.APIException) -> dict:
    detail = exc.detail
    fields: dict = {}
    if isinstance(detail, dict):
        fields = _flatten(detail)
        non_field = fields.pop("non_field_errors", [])
        message = " ".join(non_field) or "Some fields are not valid: see `fields`."
        code = "invalid"
    elif isinstance(detail, list):
        message = " ".join(str(m) for m in detail)
        code = "invalid"
    else:
        message = str(detail)
        code = getattr(detail, "code", None) or exc.default_code
    return {"error": {"status": status_code, "code": code, "message": message, "fields": fields}}


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """Nested serializer errors as flat keys: {"answers[0].link_id": ["..."]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if not prefix:
                name = key
            elif key == "non_field_errors":
                name = prefix
            elif isinstance(key, int):
                name = f"{prefix}[{key}]"
            else:
                name = f"{prefix}.{key}"
            for k, v in _flatten(value, name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list):
                for k, v in _flatten(value, f"{prefix}[{index}]").items():
                    out.setdefault(k, []).extend(v)
            else:
                out.setdefault(prefix, []).append(str(value))
    else:
        out.setdefault(prefix, []).append(str(detail))
    return out
