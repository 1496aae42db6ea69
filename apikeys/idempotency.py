"""`Idempotency-Key` on POST: a retry of the same request returns the first response and
creates nothing new.

The record is inserted before the view runs, inside the request's transaction, so a second
request with the same key waits on the unique index until the first commits and then
replays it. A failed request rolls back its record with everything else, so fixing the body
and retrying with the same key works. Only successful (2xx) responses are remembered.
"""

from __future__ import annotations

import hashlib
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response

from .models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


class IdempotencyMismatch(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = (
        "This Idempotency-Key was already used for a different request (another body or "
        "path). Use a new key for a new request."
    )


class IdempotencyInProgress(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_key_in_progress"
    default_detail = "A request with this Idempotency-Key is still being processed; retry."


class _Replay(Exception):
    def __init__(self, record: IdempotencyRecord):
        self.record = record


class IdempotentPostMixin:
    """For API views: applies `Idempotency-Key` to every POST."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._idempotency_record = None
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None:
            return
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ValidationError(
                {HEADER: f"Send 1 to {MAX_KEY_LENGTH} characters (a UUID is a good choice)."}
            )
        body_hash = hashlib.sha256(request.body).hexdigest()
        try:
            with transaction.atomic():
                self._idempotency_record = IdempotencyRecord.objects.create(
                    user=request.user,
                    key=key,
                    method=request.method,
                    path=request.path,
                    body_hash=body_hash,
                )
        except IntegrityError:
            existing = IdempotencyRecord.objects.get(user=request.user, key=key)
            if (existing.method, existing.path, existing.body_hash) != (
                request.method,
                request.path,
                body_hash,
            ):
                raise IdempotencyMismatch() from None
            if existing.response_status is None:
                raise IdempotencyInProgress() from None
            raise _Replay(existing) from None

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            response = Response(exc.record.response_body, status=exc.record.response_status)
            response["Idempotent-Replayed"] = "true"
            return response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record = getattr(self, "_idempotency_record", None)
        if record is not None and not response.has_header("Idempotent-Replayed"):
            if 200 <= response.status_code < 300:
                record.response_status = response.status_code
                record.response_body = json.loads(json.dumps(response.data, cls=DjangoJSONEncoder))
                record.save(update_fields=["response_status", "response_body"])
            elif not transaction.get_connection().needs_rollback:
                # Not remembered: a refused request wrote nothing and may be retried fixed.
                # (A refusal raised as an exception rolls the record back with the rest.)
                record.delete()
        return response
