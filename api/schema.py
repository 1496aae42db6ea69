"""OpenAPI generation: every operation documents its error bodies and, for POST, the
`Idempotency-Key` header, so a generated client handles both."""

from __future__ import annotations

import re

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from apikeys.idempotency import HEADER as IDEMPOTENCY_HEADER
from apikeys.idempotency import MAX_KEY_LENGTH


class ErrorDetailSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per request field, for invalid input; empty otherwise.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class LinkageAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if self.view.__module__.startswith("drf_spectacular"):
            return responses
        codes = ["401", "403", "429"]
        if self.method in ("POST", "PUT", "PATCH") or self._is_list_view():
            codes.append("400")
        if self.method == "POST":
            codes += ["409", "422"]
        if "{" in self.path:
            codes.append("404")
        for code in codes:
            responses.setdefault(code, self._get_response_for_code(ErrorSerializer, code))
        return responses

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        # Every path variable is a row id (`{referral_id}`): an integer for clients, whether
        # the route is a router's (a regex, which drf-spectacular types as a string) or
        # `<int:...>`.
        for name in re.findall(r"{(\w+_id)}", self.path):
            thing = name.removesuffix("_id").replace("_", " ")
            parameters.append(
                OpenApiParameter(
                    name, OpenApiTypes.INT, OpenApiParameter.PATH, description=f"The {thing}'s id."
                )
            )
        if self.method == "POST":
            parameters += [
                OpenApiParameter(
                    IDEMPOTENCY_HEADER,
                    {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
                    OpenApiParameter.HEADER,
                    description="Any unique string (a UUID). A retry with the same key and "
                    "body returns the first response and creates nothing new.",
                ),
                OpenApiParameter(
                    "Idempotent-Replayed",
                    {"type": "string", "enum": ["true"]},
                    OpenApiParameter.HEADER,
                    response=["200", "201"],
                    description="Present when this is the stored response to an earlier "
                    "request with the same Idempotency-Key.",
                ),
            ]
        parameters.append(
            OpenApiParameter(
                "Retry-After",
                OpenApiTypes.INT,
                OpenApiParameter.HEADER,
                response=["429"],
                description="Seconds until the key may send requests again.",
            )
        )
        return parameters
