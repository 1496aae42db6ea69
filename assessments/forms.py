"""Forms of the assessment pages: choosing an instrument, and one step's questions."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .engine import SOURCE_LANGUAGE, ItemAnswer, Step
from .models import Assessment, Instrument

DECLINED = "declined"
FIELD_PREFIX = "q-"

# The languages a client may be asked in, by their own names (the one an instrument has no
# wording for is refused on starting).
LANGUAGE_NAMES = {"en": "English", "es": "Español"}


class StartForm(forms.Form):
    instrument = forms.ModelChoiceField(
        queryset=Instrument.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        label=_("Instrument"),
        error_messages={"invalid_choice": _("Choose one of the instruments listed.")},
    )
    mode = forms.ChoiceField(
        choices=Assessment.Mode.choices,
        widget=forms.RadioSelect,
        initial=Assessment.Mode.IN_PERSON,
        label=_("How it is given"),
    )
    language = forms.ChoiceField(
        choices=list(LANGUAGE_NAMES.items()),
        widget=forms.RadioSelect,
        initial=SOURCE_LANGUAGE,
        # Left out (an older form, a script): the source language.
        required=False,
        label=_("Language of the questions"),
        help_text=_(
            "The client's language when they answer on their own or you read the questions "
            "aloud. The answers and the result are the same in every language."
        ),
    )
    capture_release = forms.BooleanField(
        required=False,
        label=_("Start with a release of information"),
        help_text=_(
            "Capture the client's consent to share before the questions. Without a "
            "release covering social needs, only your organization sees this assessment."
        ),
    )

    def __init__(self, *args, can_capture_release: bool, client_language: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        instruments = Instrument.objects.filter(is_current=True).order_by("title")
        self.fields["instrument"].queryset = instruments
        self.fields["instrument"].label_from_instance = lambda i: i.title
        # The client's preferred language when some instrument has wording for it.
        offered = {lang for i in instruments for lang in i.languages}
        if client_language in LANGUAGE_NAMES and client_language in offered:
            self.fields["language"].initial = client_language
        self.languages_by_instrument = {i.pk: i.languages for i in instruments}
        if not can_capture_release:
            del self.fields["capture_release"]

    def clean(self):
        data = super().clean()
        language = data["language"] = data.get("language") or SOURCE_LANGUAGE
        instrument = data.get("instrument")
        if instrument is not None and language not in instrument.languages:
            self.add_error(
                "language",
                gettext("%(instrument)s is not available in %(language)s.")
                % {"instrument": instrument.title, "language": LANGUAGE_NAMES[language]},
            )
        return data


def field_name(link_id: str) -> str:
    return f"{FIELD_PREFIX}{link_id}"


class StepForm(forms.Form):
    """The questions of one step. Each question: its answers (one, or several for a
    multi-select question), "Declined to answer", or nothing (skipped).

    `step` is worded in the language the client is asked in; the values are the answers'
    codes whatever the language."""

    def __init__(self, data=None, *, step: Step, initial_answers=None, **kwargs):
        super().__init__(data, **kwargs)
        self.step = step
        initial_answers = initial_answers or {}
        for question in step.questions:
            choices = [(o.code, o.display) for o in question.options]
            choices.append((DECLINED, gettext("Declined to answer")))
            saved = initial_answers.get(question.link_id)
            if question.repeats:
                field = forms.MultipleChoiceField(
                    choices=choices, required=False, widget=forms.CheckboxSelectMultiple
                )
                if saved is not None:
                    field.initial = [DECLINED] if saved.declined else list(saved.codes)
            else:
                field = forms.ChoiceField(choices=choices, required=False, widget=forms.RadioSelect)
                if saved is not None:
                    field.initial = DECLINED if saved.declined else saved.codes[0]
            field.label = question.label
            field.error_messages["invalid_choice"] = gettext(
                "%(value)s is not one of the answers to this question."
            )
            field.question = question
            self.fields[field_name(question.link_id)] = field

    def clean(self):
        data = super().clean()
        # Fields the page never offered (a tampered or stale form): refuse rather than
        # silently dropping an answer someone believes was saved.
        if self.data:
            strangers = sorted(
                k[len(FIELD_PREFIX) :]
                for k in self.data
                if k.startswith(FIELD_PREFIX) and k not in self.fields
            )
            if strangers:
                raise ValidationError(
                    gettext("Question %(questions)s is not part of this step: reload the page.")
                    % {"questions": ", ".join(strangers)}
                )
        return data

    def answers(self) -> dict[str, ItemAnswer]:
        """The step's answers in the engine's shape; skipped questions are left out."""
        out = {}
        for name, field in self.fields.items():
            value = self.cleaned_data.get(name)
            values = value if isinstance(value, list) else [value] if value else []
            if not values:
                continue
            link_id = field.question.link_id
            if DECLINED in values:
                out[link_id] = ItemAnswer(
                    codes=tuple(v for v in values if v != DECLINED), declined=True
                )
            else:
                out[link_id] = ItemAnswer(codes=tuple(values))
        return out
