"""Log lines as JSON objects (LOG_FORMAT=json), one per line, for log shippers."""

from __future__ import annotations

import logging
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

# Extra attributes a record may carry into the line: Django's request logger's status code.
# Every other extra is left out: Django's request logger also attaches the request itself,
# whose text holds the query string (a search may hold a client's name), and third-party
# libraries attach what they like.
EXTRA_FIELDS = frozenset({"status_code"})


class JsonFormatter(_JsonFormatter):
    """python-json-logger's formatter keeping only the fields of its format, the timestamp,
    a traceback, the allowed extras, and the keys of a dict logged as the message."""

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        if log_data.get("request_id", "-") == "-":
            # Django's request logger writes its line after the middleware (and with it the
            # request id's context) has finished, but hands over the request.
            request = getattr(record, "request", None)
            log_data["request_id"] = getattr(request, "request_id", None) or "-"
        keep = {self._get_rename(field) for field in self._required_fields}
        keep |= {self._get_rename(field) for field in EXTRA_FIELDS}
        keep |= {"timestamp", "exc_info", "stack_info", *message_dict}
        for key in [key for key in log_data if key not in keep]:
            del log_data[key]
