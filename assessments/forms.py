"""Forms of the assessment pages: choosing an instrument, and one step's questions."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from .engine import ItemAnswer, Step
from .models import Assessment, Instrument

DECLINED = "declined"
FIELD_PREFIX = "q-"


class StartForm(forms.Form):
    instrument = forms.ModelChoiceField(
        queryset=Instrument.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        label="Instrument",
        error_messages={"invalid_choice": "Choose one of the instruments listed."},
    )
    mode = forms.ChoiceField(
        choices=Assessment.Mode.choices,
        widget=forms.RadioSelect,
        initial=Assessment.Mode.IN_PERSON,
        label="How it is given",
    )
    capture_release = forms.BooleanField(
        required=False,
        label="Start with a release of information",
        help_text="Capture the client's consent to share before the questions. Without a "
        "release covering social needs, only your organization sees this assessment.",
    )

    def __init__(self, *args, can_capture_release: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["instrument"].queryset = Instrument.objects.filter(is_current=True).order_by(
            "title"
        )
        self.fields["instrument"].label_from_instance = lambda i: i.title
        if not can_capture_release:
            del self.fields["capture_release"]


def field_name(link_id: str) -> str:
    return f"{FIELD_PREFIX}{link_id}"


class StepForm(forms.Form):
    """The questions of one step. Each question: its answers (one, or several for a
    multi-select question), "Declined to answer", or nothing (skipped)."""

    def __init__(self, data=None, *, step: Step, initial_answers=None, **kwargs):
        super().__init__(data, **kwargs)
        self.step = step
        initial_answers = initial_answers or {}
        for question in step.questions:
            choices = [(o.code, o.display) for o in question.options]
            choices.append((DECLINED, "Declined to answer"))
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
            field.error_messages["invalid_choice"] = (
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
                    f"Question {', '.join(strangers)} is not part of this step: reload the page."
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
