"""The public self-referral form, with its protections against abuse that need no third
party: a question only a person answers (a small sum in words, its answer signed into the
form so the server keeps no state), a field people never see (a bot fills it), and a
minimum time to fill the form in (a script posts at once)."""

from __future__ import annotations

import secrets
import time
from datetime import date

from django import forms
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.models import Client
from clients.validation import normalize_us_phone

from .self_referral import ContactMethod, SelfReferralRequest

CHALLENGE_SALT = "referrals.self-referral.challenge"
# A person takes longer than this to fill the form in; a script posting it at once does not.
MIN_FILL_SECONDS = 3
# A challenge older than this is refused (a page left open overnight gets a new one).
MAX_FILL_SECONDS = 2 * 60 * 60
OLDEST_AGE = 120

NUMBER_WORDS = {
    1: _("one"),
    2: _("two"),
    3: _("three"),
    4: _("four"),
    5: _("five"),
    6: _("six"),
    7: _("seven"),
    8: _("eight"),
    9: _("nine"),
}

# The needs a person can name, in their own terms, with the platform's SDOH category codes
# (organizations/sdoh.py): what the referral's needs are.
NEEDS = [
    ("food-insecurity", _("Food")),
    ("housing-instability", _("Paying rent or keeping my housing")),
    ("homelessness", _("A place to stay")),
    ("inadequate-housing", _("Repairs or safety problems at home")),
    ("utility-insecurity", _("Electric, gas or water bills")),
    ("transportation-insecurity", _("Transportation")),
    ("financial-insecurity", _("Money for basic needs")),
    ("material-hardship", _("Clothing, furniture or other basics")),
    ("employment-status", _("Finding work")),
    ("educational-attainment", _("School or job training")),
    ("health-insurance-coverage-status", _("Health insurance")),
    ("medical-cost-burden", _("Paying medical bills")),
    ("digital-access", _("Internet or a phone")),
    ("digital-literacy", _("Help using a computer or phone")),
    ("language-access", _("Help in my language")),
    ("social-connection", _("Feeling alone")),
    ("stress", _("Stress")),
    ("intimate-partner-violence", _("Safety from someone who hurts me")),
    ("elder-abuse", _("An older person being harmed")),
    ("veteran-status", _("Services for veterans")),
    ("incarceration-status", _("Help after jail or prison")),
    ("sdoh-category-unspecified", _("Something else")),
]


def new_challenge() -> tuple[str, str]:
    """A fresh question and its signed token (the two numbers and the moment it was made)."""
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    token = signing.dumps({"a": a, "b": b, "t": int(time.time())}, salt=CHALLENGE_SALT)
    return question(a, b), token


def question(a: int, b: int) -> str:
    return str(_("What is %(a)s plus %(b)s? Answer with a number.")) % {
        "a": NUMBER_WORDS[a],
        "b": NUMBER_WORDS[b],
    }


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class SelfReferralForm(forms.Form):
    """What a person asks for, who they are, how to reach them, their agreement."""

    needs = forms.MultipleChoiceField(
        choices=NEEDS,
        widget=forms.CheckboxSelectMultiple,
        label=_("What do you need help with?"),
        error_messages={"required": _("Choose at least one thing you need help with.")},
    )
    details = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Tell us more (optional)"),
    )
    given_name = forms.CharField(
        max_length=100,
        label=_("First name"),
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    family_name = forms.CharField(
        max_length=100,
        label=_("Last name"),
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    date_of_birth = forms.DateField(
        widget=DateInput(attrs={"autocomplete": "bday"}), label=_("Date of birth")
    )
    contact_method = forms.ChoiceField(
        choices=ContactMethod.CHOICES,
        widget=forms.RadioSelect,
        label=_("How should we contact you?"),
    )
    phone = forms.CharField(
        required=False,
        max_length=30,
        label=_("Phone number (for a text or a call)"),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    email = forms.EmailField(
        required=False,
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    language = forms.ChoiceField(
        choices=[
            (Client.Language.EN, "English"),
            (Client.Language.ES, "Español"),
            (Client.Language.ZH, "中文"),
            (Client.Language.VI, "Tiếng Việt"),
            (Client.Language.AR, "العربية"),
            (Client.Language.OTHER, _("Another language")),
        ],
        label=_("Language you prefer"),
    )
    helper = forms.BooleanField(
        required=False,
        label=_("I am helping someone else fill this in (for example, a 211 line)"),
    )
    helper_name = forms.CharField(
        required=False,
        max_length=200,
        label=_("Your name and organization, as the helper"),
    )
    agree = forms.BooleanField(
        label=_("I agree to the release of information above."),
        error_messages={"required": _("Tick the box to agree to the release, or we cannot help.")},
    )
    answer = forms.IntegerField(
        label=_("Your answer"),
        error_messages={"required": _("Answer the question with a number.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    challenge = forms.CharField(widget=forms.HiddenInput)
    # People never see this field (it is in a hidden block); scripts that fill every field do.
    website = forms.CharField(required=False, label=_("Leave this empty"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.question, token = new_challenge()
        if not self.is_bound:
            self.initial["challenge"] = token
        self.fresh_challenge = token

    def clean_date_of_birth(self):
        born = self.cleaned_data["date_of_birth"]
        today = timezone.localdate()
        if born > today:
            raise ValidationError(_("The date of birth cannot be in the future."))
        if born < date(today.year - OLDEST_AGE, 1, 1):
            raise ValidationError(_("Check the year of the date of birth."))
        return born

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if not phone:
            return ""
        try:
            return normalize_us_phone(phone)
        except ValidationError:
            raise ValidationError(_("Enter a 10-digit US phone number.")) from None

    def clean(self):
        data = super().clean()
        if data.get("website"):
            # Said plainly: a person who somehow filled it can read why.
            raise ValidationError(
                _("This form could not be accepted. Please leave the last field empty.")
            )
        self._check_challenge(data)
        method = data.get("contact_method")
        wants_phone = method in (ContactMethod.TEXT, ContactMethod.PHONE)
        if wants_phone and not data.get("phone") and "phone" not in self.errors:
            self.add_error("phone", _("Give the phone number to use."))
        wants_email = method == ContactMethod.EMAIL
        if wants_email and not data.get("email") and "email" not in self.errors:
            self.add_error("email", _("Give the email address to use."))
        if data.get("helper") and not (data.get("helper_name") or "").strip():
            self.add_error("helper_name", _("Give your name and organization, as the helper."))
        return data

    def _check_challenge(self, data) -> None:
        try:
            signed = signing.loads(
                data.get("challenge") or "", salt=CHALLENGE_SALT, max_age=MAX_FILL_SECONDS
            )
            elapsed = time.time() - signed["t"]
        except (signing.BadSignature, KeyError, TypeError):  # BadSignature: expired too
            elapsed = None
        if elapsed is None or elapsed > MAX_FILL_SECONDS:
            self.add_error(
                "answer", _("The question expired or was changed. Answer the new question.")
            )
            return
        if elapsed < MIN_FILL_SECONDS:
            raise ValidationError(
                _("The form was sent too quickly. Please check your answers and send it again.")
            )
        if "answer" in data and data["answer"] != signed["a"] + signed["b"]:
            self.add_error("answer", _("That answer is not right. Try the new question."))

    def request(self) -> SelfReferralRequest:
        data = self.cleaned_data
        return SelfReferralRequest(
            given_name=data["given_name"],
            family_name=data["family_name"],
            date_of_birth=data["date_of_birth"],
            needs=data["needs"],
            details=data["details"],
            contact_method=data["contact_method"],
            phone=data["phone"],
            email=data["email"],
            language=data["language"],
            helper_name=data["helper_name"] if data.get("helper") else "",
        )
