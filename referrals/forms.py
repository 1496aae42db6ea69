"""Forms of the referral pages. Foreign-key inputs are narrowed to what the active
organization may reference; the services re-check every rule."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from directory.capacity import CapacityState
from directory.models import Program
from organizations.models import Organization
from organizations.sdoh import SDOHCategory

from .models import Referral, ReferralEvent
from .selectors import ListFilters

# Shown in the page's language (organizations.sdoh lists the names for the catalogue).
NEED_CHOICES = [
    (code, _(label))
    for code, label in SDOHCategory.choices
    if code != SDOHCategory.SDOH_CATEGORY_UNSPECIFIED
] + [(SDOHCategory.SDOH_CATEGORY_UNSPECIFIED.value, _("Other / not listed"))]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class ProgramLabelMixin:
    def label_from_instance(self, program: Program) -> str:
        return f"{program.name} — {program.organization.name}"


class ProgramChoiceField(ProgramLabelMixin, forms.ModelChoiceField):
    pass


class ListFilterForm(forms.Form):
    """The GET filters of the inbox and sent pages (no names: those are POSTed)."""

    tab = forms.CharField(required=False, widget=forms.HiddenInput())
    program = ProgramChoiceField(
        queryset=Program.objects.none(),
        required=False,
        label=_("Program"),
        empty_label=_("Any program"),
    )
    mine = forms.BooleanField(required=False, label=_("Assigned to me"))
    overdue = forms.BooleanField(required=False, label=_("Overdue only"))
    intake = forms.BooleanField(
        required=False, label=_("Intake queue (sent to the organization: choose the program)")
    )
    urgency = forms.ChoiceField(
        required=False,
        label=_("Urgency"),
        choices=[("", _("Any urgency")), *Referral.Urgency.choices],
    )
    sent_from = forms.DateField(required=False, label=_("Sent from"), widget=DateInput())
    sent_to = forms.DateField(required=False, label=_("Sent until"), widget=DateInput())
    client = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput())

    def __init__(self, *args, programs, mine_label: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs
        self.fields["mine"].label = mine_label

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("sent_from"), cleaned.get("sent_to")
        if start and end and end < start:
            self.add_error("sent_to", gettext("The end date is before the start date."))
        return cleaned

    def filters(self, client_name: str = "") -> ListFilters:
        """The valid filters (a field with an error is left out, and the page says so)."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        program = data.get("program")
        return ListFilters(
            program_id=program.pk if program else None,
            mine=bool(data.get("mine")),
            overdue=bool(data.get("overdue")),
            intake=bool(data.get("intake")),
            urgency=data.get("urgency") or "",
            sent_from=data.get("sent_from"),
            sent_to=data.get("sent_to"),
            client_id=data.get("client"),
            client_name=client_name,
        )

    @property
    def has_filters(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return any(data.get(k) for k in self.fields if k != "tab")


class ClientNameSearchForm(forms.Form):
    """Find a list's referrals by the client's name: always POSTed (a name is PHI)."""

    client_name = forms.CharField(
        max_length=200,
        label=_("Client name"),
        help_text=_("Clients whose names your organization may see."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput())

    def clean_client_name(self) -> str:
        name = " ".join(self.cleaned_data["client_name"].split())
        if not name:
            raise forms.ValidationError(gettext("Type a name to search for."))
        return name


class NeedsField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("choices", NEED_CHOICES)
        kwargs.setdefault("label", _("Needs"))
        kwargs.setdefault("error_messages", {"required": _("Choose at least one need.")})
        super().__init__(**kwargs)


def _do_not_contact_field() -> forms.BooleanField:
    return forms.BooleanField(
        required=False,
        label=_("Do not contact the client directly"),
        help_text=_(
            "For the client's safety (e.g. intimate-partner violence): the receiver "
            "must not call, text or visit the client."
        ),
    )


class ReferralForm(forms.Form):
    """A new referral (or one onward): needs, program, note, urgency, do-not-contact.

    Instead of a program, the picker may name an organization (`program` = "org-<id>"):
    "send to the organization, let them choose the program" (its intake queue)."""

    needs = NeedsField(help_text=_("What the client needs help with (SDOH categories)."))
    program = ProgramChoiceField(
        queryset=Program.objects.none(),
        widget=forms.RadioSelect,
        required=False,
        label=_("Program"),
        error_messages={
            "required": _("Choose a program."),
            "invalid_choice": _("Choose a program from the directory of your network."),
        },
    )
    reason = forms.CharField(
        label=_("Note for the receiving program"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What they should know to help. Both organizations see it."),
    )
    urgency = forms.ChoiceField(
        label=_("Urgency"),
        choices=Referral.Urgency.choices,
        initial=Referral.Urgency.ROUTINE,
        widget=forms.RadioSelect,
    )
    do_not_contact = _do_not_contact_field()
    receiver_organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("Choose an organization of your network's directory.")},
    )

    ORGANIZATION_PREFIX = "org-"

    def __init__(self, *args, programs, organizations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs
        self.fields["receiver_organization"].queryset = (
            organizations if organizations is not None else Organization.objects.none()
        )
        chosen = self.data.get("program", "") if self.is_bound else ""
        if chosen.startswith(self.ORGANIZATION_PREFIX):
            # The organization option of the picker: the same radio group, another field.
            self.data = self.data.copy()
            self.data["program"] = ""
            self.data["receiver_organization"] = chosen.removeprefix(self.ORGANIZATION_PREFIX)
            self._chosen = chosen

    def clean_program(self) -> Program | None:
        program = self.cleaned_data["program"]
        if program is not None and program.capacity_state == CapacityState.CLOSED:
            raise forms.ValidationError(
                gettext("%(program)s is not accepting referrals now.") % {"program": program.name}
            )
        return program

    def clean(self):
        cleaned = super().clean()
        if (
            not cleaned.get("program")
            and not cleaned.get("receiver_organization")
            and "program" not in self.errors
            and "receiver_organization" not in self.errors
        ):
            self.add_error("program", self.fields["program"].error_messages["required"])
        if "receiver_organization" in self.errors:
            self.add_error("program", self.errors.pop("receiver_organization"))
        return cleaned

    @property
    def chosen_needs(self) -> list[str]:
        """The needs ticked, valid or not (for suggestions before the form is complete)."""
        if self.is_bound:
            valid = dict(NEED_CHOICES)
            return [c for c in self.data.getlist("needs") if c in valid]
        return list(self.initial.get("needs", []))

    @property
    def chosen_program_id(self) -> str:
        if self.is_bound:
            return getattr(self, "_chosen", "") or self.data.get("program", "")
        program = self.initial.get("program")
        return str(program) if program else ""


class LogInboundForm(forms.Form):
    """A referral that reached the organization by fax, phone, walk-in, email or a client
    referring themself."""

    SOURCES = [c for c in Referral.Source.choices if c[0] != Referral.Source.PLATFORM]

    program = forms.ModelChoiceField(
        queryset=Program.objects.none(),
        label=_("For your program"),
        empty_label=_("Choose a program"),
        error_messages={"required": _("Choose the program it is for.")},
    )
    source = forms.ChoiceField(choices=SOURCES, label=_("How it arrived"), widget=forms.RadioSelect)
    external_sender = forms.CharField(
        required=False,
        max_length=200,
        label=_("Who referred"),
        help_text=_(
            "The organization or person who referred (when not on Linkage). Leave "
            "empty for a self-referral."
        ),
    )
    received_at = forms.DateTimeField(
        required=False,
        label=_("Received"),
        help_text=_("When it arrived (empty: now)."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    needs = NeedsField()
    reason = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    urgency = forms.ChoiceField(
        label=_("Urgency"),
        choices=Referral.Urgency.choices,
        initial=Referral.Urgency.ROUTINE,
        widget=forms.RadioSelect,
    )
    do_not_contact = _do_not_contact_field()

    def __init__(self, *args, programs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs

    def clean_received_at(self):
        value = self.cleaned_data.get("received_at")
        if value and value > timezone.now():
            raise forms.ValidationError(gettext("The referral cannot arrive in the future."))
        return value

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("source") == Referral.Source.SELF:
            cleaned["external_sender"] = ""
        return cleaned


class MoveForm(forms.Form):
    """One state-machine move. `expected_status` is the status the user saw, so a move made
    meanwhile by someone else is reported instead of overwritten."""

    move = forms.CharField(widget=forms.HiddenInput())
    expected_status = forms.CharField(widget=forms.HiddenInput())
    reason = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    outcome = forms.ChoiceField(
        required=False, choices=[("", _("Choose the outcome")), *Referral.Outcome.choices]
    )
    outcome_note = forms.CharField(
        required=False,
        max_length=2000,
        label=_("Outcome note"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # Taking on a referral from the intake queue: the receiver's own program (the view
    # narrows the id to the active organization's programs).
    program = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput())
    # Declining: the reason is chosen from the list (the measures count declines by it);
    # `reason` is then the explanation, needed only for "Other" (the service checks).
    decline_reason = forms.ChoiceField(
        required=False,
        label=_("Reason"),
        choices=[("", _("Choose the reason")), *Referral.DeclineReason.choices],
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("move") == "reject" and not cleaned.get("decline_reason"):
            self.add_error("decline_reason", gettext("Choose why you decline."))
        elif cleaned.get("move") != "reject":
            cleaned["decline_reason"] = ""  # only a decline has one
        return cleaned


class ContactForm(forms.Form):
    contact_type = forms.ChoiceField(
        choices=[("", _("How?")), *ReferralEvent.ContactType.choices], label=_("Contact by")
    )
    successful = forms.TypedChoiceField(
        choices=[("yes", _("Reached the client")), ("no", _("Could not reach the client"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        label=_("Result"),
        error_messages={"required": _("Say whether the client was reached.")},
    )
    note = forms.CharField(
        required=False, label=_("Note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class AppointmentForm(forms.Form):
    when = forms.DateTimeField(
        label=_("Date and time"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={
            "required": _("Give the appointment's date and time."),
            "invalid": _("Give the date and time like 2027-01-15 14:30."),
        },
    )
    note = forms.CharField(
        required=False,
        label=_("Note for the sender"),
        help_text=_("Where to go, what to bring. The client's texts never include it."),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        queryset=None, required=False, empty_label=_("Nobody (unassigned)"), label=_("Assign to")
    )

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff


class NoteForm(forms.Form):
    body = forms.CharField(
        label=_("Note"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Write the note first.")},
    )


class RouteForm(forms.Form):
    """The backbone's "assign to a program": the program it routes a referral it received
    to, and its note for that program. `expected_status` is the status the user saw."""

    program = ProgramChoiceField(
        queryset=Program.objects.none(),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose the program to route the referral to."),
            "invalid_choice": _("Choose a program of another organization in your network."),
        },
    )
    reason = forms.CharField(
        label=_("Note for the receiving program"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "What they should know to help (the referring organization's note is "
            "copied here; edit it as needed). The backbone and the program see it."
        ),
    )
    expected_status = forms.CharField(widget=forms.HiddenInput())

    def __init__(self, *args, programs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs

    def clean_program(self) -> Program:
        program = self.cleaned_data["program"]
        if program.capacity_state == CapacityState.CLOSED:
            raise forms.ValidationError(
                gettext("%(program)s is not accepting referrals now.") % {"program": program.name}
            )
        return program

    @property
    def chosen_program_id(self) -> str:
        return self.data.get("program", "") if self.is_bound else ""
