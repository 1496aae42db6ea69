"""The API's JSON parser: DRF's, with every unreadable body a 4xx."""

from __future__ import annotations

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from .exceptions import PayloadTooLarge


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, and:

    - a body past DATA_UPLOAD_MAX_MEMORY_SIZE is refused (413) as Django refuses it for
      forms and `request.body`; DRF reads the stream itself, where no limit applies;
    - JSON nested thousands of levels deep is a 400: DRF turns a ValueError into one but
      not the RecursionError the decoder raises then."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        if limit is not None and request is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                raise PayloadTooLarge()
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
