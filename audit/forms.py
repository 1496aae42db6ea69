"""Filters for the audit pages. They travel in the query string, so they carry no PHI:
a member chosen from the organization's own staff, a numeric client id, dates, an action."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from organizations.models import Membership, Organization, User

from .models import AuditEvent

# Bounds keep a typed-in year such as 0001 or 9999 from overflowing when the day is turned
# into a moment in the installation's time zone.
_EARLIEST = date(2000, 1, 1)
_LATEST = date(2999, 12, 31)
_DATE_RANGE_MESSAGE = gettext_lazy("Choose a date between 2000 and 2999.")
# Postgres bigint: a larger "client id" is simply not one (and must not reach the query).
_MAX_ID = 2**63 - 1


def _date_field(label: str) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        # ISO always: <input type="date"> sends and expects it whatever the language.
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[
            MinValueValidator(_EARLIEST, message=_DATE_RANGE_MESSAGE),
            MaxValueValidator(_LATEST, message=_DATE_RANGE_MESSAGE),
        ],
    )


class DateRangeForm(forms.Form):
    """From/to days, both included, in the installation's time zone."""

    since = _date_field(gettext_lazy("From"))
    until = _date_field(gettext_lazy("To"))

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", gettext("The end date must be on or after the start date."))
        return cleaned

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """The period as [since, until) moments: the start of the first day and the start
        of the day after the last."""
        zone = timezone.get_current_timezone()
        since, until = self.cleaned_data.get("since"), self.cleaned_data.get("until")
        start = datetime.combine(since, time.min, tzinfo=zone) if since else None
        end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=zone) if until else None
        return start, end


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        name = obj.get_full_name()
        return f"{name} ({obj.email})" if name else obj.email


class AccessLogFilterForm(DateRangeForm):
    """Who, which client, when, what: an org admin's filters on the own access log."""

    user = MemberChoiceField(
        label=gettext_lazy("Staff member"),
        queryset=User.objects.none(),
        required=False,
        empty_label=gettext_lazy("Anyone"),
        error_messages={"invalid_choice": gettext_lazy("Choose a member of your organization.")},
    )
    client = forms.IntegerField(
        label=gettext_lazy("Client ID"),
        required=False,
        min_value=1,
        max_value=_MAX_ID,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "invalid": gettext_lazy("A client ID is a number."),
            "min_value": gettext_lazy("A client ID is a positive number."),
            "max_value": gettext_lazy("No client has an ID that large."),
        },
    )
    action = forms.ChoiceField(
        label=gettext_lazy("Action"),
        required=False,
        choices=[("", gettext_lazy("Any action")), *AuditEvent.Action.choices],
        error_messages={"invalid_choice": gettext_lazy("Choose one of the listed actions.")},
    )
    field_order = ["user", "client", "action", "since", "until"]

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        # Past members too: their events stay in the log after they leave.
        self.fields["user"].queryset = (
            User.objects.filter(memberships__in=Membership.objects.visible_to(organization))
            .distinct()
            .order_by("last_name", "first_name", "email")
        )

    def selector_filters(self) -> dict:
        """Keyword arguments for `selectors.access_log_for`."""
        since, until = self.bounds()
        user = self.cleaned_data.get("user")
        return {
            "user_id": user.pk if user else None,
            "client_id": self.cleaned_data.get("client"),
            "since": since,
            "until": until,
            "action": self.cleaned_data.get("action") or None,
        }


class PeriodForm(DateRangeForm):
    """The network activity period: the last 30 days (today included) unless chosen."""

    DEFAULT_DAYS = 30

    def __init__(self, data=None, **kwargs):
        data = data.copy() if data is not None else {}
        if not data.get("until"):
            data["until"] = timezone.localdate().isoformat()
        if not data.get("since"):
            # Count back from the chosen end when there is one, so "until" alone works.
            back = timedelta(days=self.DEFAULT_DAYS - 1)
            try:
                start = date.fromisoformat(data["until"]) - back
            except (ValueError, OverflowError):
                # The "until" field reports its own error; any start will do meanwhile.
                start = timezone.localdate() - back
            data["since"] = start.isoformat()
        super().__init__(data, **kwargs)
