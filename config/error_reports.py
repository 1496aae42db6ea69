"""Error reports that carry no client data.

Django's error emails and debug pages include the request's GET/POST parameters and every
local variable of every stack frame; in Linkage those hold names, birth dates and notes. This
filter blanks them all (the traceback's code lines stay, which is what a developer needs).
"""

from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter


class PHISafeExceptionReporterFilter(SafeExceptionReporterFilter):
    def is_active(self, request) -> bool:
        # Unlike Django's default, also with DEBUG on: a demo run is still real-shaped data.
        return True

    def get_post_parameters(self, request):
        if request is None:
            return {}
        return dict.fromkeys(request.POST, self.cleansed_substitute)

    def get_traceback_frame_variables(self, request, tb_frame):
        return []

    def get_safe_request_meta(self, request):
        meta = super().get_safe_request_meta(request)
        # The query string may hold a search term; the cookie holds the session.
        for key in ("QUERY_STRING", "HTTP_COOKIE", "HTTP_REFERER"):
            if key in meta:
                meta[key] = self.cleansed_substitute
        return meta


class PHISafeExceptionReporter(ExceptionReporter):
    """The report's "Request URL" without its query string (a search term could be PHI)."""

    def _get_raw_insecure_uri(self):
        return f"{self.request.scheme}://{self.request._get_raw_host()}{self.request.path}"

    def get_traceback_data(self):
        data = super().get_traceback_data()
        hidden = self.filter.cleansed_substitute
        for key in ("request_GET_items", "request_FILES_items"):
            if data.get(key) is not None:
                data[key] = [(name, hidden) for name, _ in data[key]]
        return data
