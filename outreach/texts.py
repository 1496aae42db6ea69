"""The words of every message a client receives, in English and Spanish (gettext; the
Spanish is in the catalogue). Rendered under `translation.override(<client's language>)`.

Two rules decide the wording, not the caller:
- `named`: the organization is named only when the consent policy allows it
  (outreach.disclosure.may_name); otherwise the message says "an organization".
- `sensitive`: a referral for a sensitive service (intimate-partner violence, behavioral
  health, substance use: outreach.disclosure.is_sensitive) never names the service, the
  organization or its phone number — someone else may read the phone; the message says
  "your appointment".
No template ever names a program: the organization (when allowed) is enough to act on.

`SAMPLES` lists every variant with example values, for the page an org admin reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .models import MESSAGE_LANGUAGES, Message

Kind = Message.Kind

# Texts that answer a keyword the client sent carry no footer: they are the answer.
KEYWORD_KINDS = frozenset({Kind.STOP_CONFIRMATION, Kind.HELP_ANSWER, Kind.START_CONFIRMATION})


def message_language(code: str | None) -> str:
    """The language a message is written in: the client's when we have the templates in
    it, English otherwise."""
    code = (code or "").split("-")[0].lower()
    return code if code in MESSAGE_LANGUAGES else "en"


def _when(value) -> str:
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return formats.date_format(value, "DATETIME_FORMAT")
    return str(value)


def _body(kind: str, ctx: dict, named: bool, sensitive: bool) -> str:
    named = named and not sensitive and bool(ctx.get("organization"))
    values = {k: ctx[k] for k in ("organization", "phone", "days", "url") if ctx.get(k)}
    if ctx.get("when"):
        values["when"] = _when(ctx["when"])
    days = ctx.get("days")
    phone = ctx.get("phone") if named else ""

    if kind == Kind.REFERRAL_SENT:
        if named and phone and days:
            return (
                ngettext(
                    "%(organization)s will call you within %(days)s business day from %(phone)s.",
                    "%(organization)s will call you within %(days)s business days from %(phone)s.",
                    days,
                )
                % values
            )
        if named and phone:
            return _("%(organization)s will call you soon from %(phone)s.") % values
        if named and days:
            return (
                ngettext(
                    "%(organization)s will contact you within %(days)s business day.",
                    "%(organization)s will contact you within %(days)s business days.",
                    days,
                )
                % values
            )
        if named:
            return _("%(organization)s will contact you soon.") % values
        if days:
            return (
                ngettext(
                    "An organization will contact you within %(days)s business day about "
                    "your referral.",
                    "An organization will contact you within %(days)s business days about "
                    "your referral.",
                    days,
                )
                % values
            )
        return _("An organization will contact you soon about your referral.")

    if kind == Kind.REFERRAL_ACCEPTED:
        if named:
            return (
                _(
                    "Good news: %(organization)s accepted your referral. They will contact you "
                    "about next steps."
                )
                % values
            )
        return _("Good news: your referral was accepted. You will be contacted about next steps.")

    text = _appointment_body(kind, values, named)
    if text is not None:
        # English dates end "p.m.": the sentence's own full stop is not written twice.
        when = values.get("when", "")
        return text.replace(f"{when}.", when) if when.endswith(".") else text

    if kind == Kind.COMPLETED_ASK:
        question = _("Did you get the help you needed? Reply 1 yes / 2 partly / 3 no")
        if named:
            return _("%(organization)s says your referral is complete.") % values + " " + question
        return _("Your referral is complete.") + " " + question

    if kind == Kind.RELEASE_LINK:
        if named:
            return (
                _(
                    "%(organization)s asks you to read and sign a release of information: "
                    "%(url)s (the link works once and expires)."
                )
                % values
            )
        return (
            _(
                "Please read and sign your release of information: %(url)s (the link works "
                "once and expires)."
            )
            % values
        )

    if kind == Kind.SUMMARY:
        # The summary's own text (referrals.summary.summary_text: consent-aware, already in
        # the client's language), or a link to it.
        if ctx.get("text"):
            return str(ctx["text"])
        return _("Your referral summary: %(url)s") % values

    if kind == Kind.STOP_CONFIRMATION:
        return _(
            "Linkage: you will not get any more texts from us. Reply START to get texts again."
        )
    if kind == Kind.HELP_ANSWER:
        return _(
            "Linkage sends texts about your referrals. Reply STOP to stop all texts, START to "
            "get them again. For help, call the organization that referred you."
        )
    if kind == Kind.START_CONFIRMATION:
        return _("Linkage: you will get texts from us again. Reply STOP to stop, HELP for help.")
    raise ValueError(f"No template for message kind {kind!r}.")


def _appointment_body(kind: str, values: dict, named: bool) -> str | None:
    if kind == Kind.NEXT_STEP:
        if values.get("when") and named:
            return _("Your appointment with %(organization)s is on %(when)s.") % values
        if values.get("when"):
            return _("Your appointment is on %(when)s.") % values
        if named:
            return _("%(organization)s has a next step for you and will contact you.") % values
        return _("There is a next step for your referral. You will be contacted soon.")

    if kind == Kind.REMINDER:
        if values.get("when") and named:
            return _("Reminder: your appointment with %(organization)s is on %(when)s.") % values
        if values.get("when"):
            return _("Reminder: your appointment is on %(when)s.") % values
        return _("Reminder: you have an appointment coming up.")

    return None


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def render(
    kind: str, ctx: dict, *, language: str, channel: str, named: bool, sensitive: bool
) -> Rendered:
    """The message in `language` (en or es; anything else falls back to English)."""
    with translation.override(message_language(language)):
        body = _body(kind, ctx, named, sensitive)
        if channel == Message.Channel.SMS and kind not in KEYWORD_KINDS:
            stop = _("Reply STOP to stop texts.")
            body = f"{body} {stop}"
        subject = _("A message about your referral") if channel == Message.Channel.EMAIL else ""
    return Rendered(subject=subject, body=body)


@dataclass(frozen=True)
class Sample:
    kind: str
    label: object  # which variant (lazy text), for the admin's page
    ctx: dict
    named: bool = True
    sensitive: bool = False


_ORG = {"organization": "Riverbend Food Bank"}
_APPOINTMENT = {**_ORG, "when": datetime(2031, 5, 7, 14, 30)}

# Every variant of every template, with example values (the admin's page renders them).
_PHONE = "(555) 010-0123"
_LINK = "https://linkage.example/r/abc"
_NAMED = gettext_lazy("named")
_NOT_NAMED = gettext_lazy("not named")
_APPOINTMENT_HIDDEN = gettext_lazy("appointment, not named or sensitive")
SAMPLES: tuple[Sample, ...] = (
    Sample(
        Kind.REFERRAL_SENT,
        gettext_lazy("named, with phone and response time"),
        {**_ORG, "phone": _PHONE, "days": 2},
    ),
    Sample(Kind.REFERRAL_SENT, gettext_lazy("named, with phone"), {**_ORG, "phone": _PHONE}),
    Sample(Kind.REFERRAL_SENT, gettext_lazy("named, with response time"), {**_ORG, "days": 2}),
    Sample(Kind.REFERRAL_SENT, _NAMED, _ORG),
    Sample(
        Kind.REFERRAL_SENT,
        gettext_lazy("consent does not cover naming, with response time"),
        {**_ORG, "days": 2},
        named=False,
    ),
    Sample(
        Kind.REFERRAL_SENT,
        gettext_lazy("consent does not cover naming, or a sensitive service"),
        _ORG,
        named=False,
    ),
    Sample(Kind.REFERRAL_ACCEPTED, _NAMED, _ORG),
    Sample(Kind.REFERRAL_ACCEPTED, _NOT_NAMED, _ORG, named=False),
    Sample(Kind.NEXT_STEP, gettext_lazy("appointment, named"), _APPOINTMENT),
    Sample(Kind.NEXT_STEP, _APPOINTMENT_HIDDEN, _APPOINTMENT, sensitive=True),
    Sample(Kind.NEXT_STEP, gettext_lazy("next step, named"), _ORG),
    Sample(Kind.NEXT_STEP, gettext_lazy("next step, not named"), _ORG, named=False),
    Sample(Kind.REMINDER, gettext_lazy("appointment, named"), _APPOINTMENT),
    Sample(Kind.REMINDER, _APPOINTMENT_HIDDEN, _APPOINTMENT, sensitive=True),
    Sample(Kind.REMINDER, gettext_lazy("no date"), _ORG, named=False),
    Sample(Kind.COMPLETED_ASK, _NAMED, _ORG),
    Sample(Kind.COMPLETED_ASK, _NOT_NAMED, _ORG, named=False),
    Sample(Kind.RELEASE_LINK, _NAMED, {**_ORG, "url": _LINK}),
    Sample(Kind.RELEASE_LINK, _NOT_NAMED, {"url": _LINK}, named=False),
    Sample(Kind.SUMMARY, gettext_lazy("link"), {"url": "https://linkage.example/s/abc"}),
    Sample(Kind.STOP_CONFIRMATION, gettext_lazy("answer to STOP"), {}),
    Sample(Kind.HELP_ANSWER, gettext_lazy("answer to HELP"), {}),
    Sample(Kind.START_CONFIRMATION, gettext_lazy("answer to START"), {}),
)
