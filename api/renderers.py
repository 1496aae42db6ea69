"""The API's JSON renderer: DRF's JSONRenderer, encoding with orjson."""

from __future__ import annotations

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

# DRF writes these two as escapes (JSON that is also a valid JavaScript literal).
_LINE_SEPARATOR, _PARAGRAPH_SEPARATOR = "\u2028".encode(), "\u2029".encode()
_DRF_DEFAULT = JSONEncoder().default


class OrjsonRenderer(JSONRenderer):
    """The same JSON as DRF's JSONRenderer (compact, UTF-8), several times faster on a page
    of results: orjson encodes, and whatever it does not encode as DRF would (a moment, a
    decimal, a lazy string) goes through DRF's own encoder. What orjson refuses (an integer
    beyond 64 bits, a key that is not a string) and an indented answer asked for in the
    Accept header are DRF's to render."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        renderer_context = renderer_context or {}
        indent = self.get_indent(accepted_media_type, renderer_context)
        if indent is not None or self.ensure_ascii or not self.compact:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            out = orjson.dumps(data, default=_DRF_DEFAULT, option=orjson.OPT_PASSTHROUGH_DATETIME)
        except TypeError:
            return super().render(data, accepted_media_type, renderer_context)
        if _LINE_SEPARATOR in out or _PARAGRAPH_SEPARATOR in out:
            out = out.replace(_LINE_SEPARATOR, b"\\u2028").replace(_PARAGRAPH_SEPARATOR, b"\\u2029")
        return out
