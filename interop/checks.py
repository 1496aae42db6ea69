"""Deploy checks for outbound requests: no private targets and no plain http in production."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def check_outbound_targets(app_configs, **kwargs):
    problems = []
    if settings.WEBHOOK_ALLOW_PRIVATE_TARGETS and not settings.DEBUG:
        problems.append(
            Error(
                "WEBHOOK_ALLOW_PRIVATE_TARGETS is on without DEBUG: webhooks could be aimed "
                "at the internal network (SSRF).",
                hint="Unset WEBHOOK_ALLOW_PRIVATE_TARGETS in production.",
                id="interop.E001",
            )
        )
    if not settings.WEBHOOK_REQUIRE_HTTPS and not settings.DEBUG:
        problems.append(
            Warning(
                "WEBHOOK_REQUIRE_HTTPS is off: referral events may be posted unencrypted.",
                hint="Unset WEBHOOK_REQUIRE_HTTPS (it defaults to on without DEBUG).",
                id="interop.W001",
            )
        )
    return problems
