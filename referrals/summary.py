"""The client's own summary of a referral: what was requested, where, how they will be
reached, and what happens next — in the client's language (English or Spanish), for a
printed page and for a text message.

Client-facing words live here per language (like the release text, consent/text.py): the
summary is in the client's language whatever the staff member's interface language is, and
a text message is written the same way outside any request.

Consent: everything shown goes through `consent.policy.referral_sight` for the organization
producing the summary (one of the referral's two parties). The client's name and contact
details need the demographics category, the needs the social-needs category, the sender's
coded requested service the referral details; the program, the organizations, the status
and the dates are both parties' (they are the referral's own). The directory's contact
details of the receiving program are public to the network.

Sensitive services (behavioral health, substance use, and services for people facing
violence) are never named: the summary says "your appointment" (the printed page still
gives the organization and its phone, which the client needs to get there), and the text
message names neither the program, the organization nor its number (a phone is read by
others), as every client message does (outreach/texts.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from consent import policy
from consent.categories import Category
from consent.text import format_date
from organizations.models import Organization
from outreach.disclosure import is_sensitive as message_sensitive

from .models import Referral
from .workflow import Status

LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"
# A text message: two SMS segments of plain text at most.
TEXT_LIMIT = 320

# Words of a program or a requested service that mark it sensitive (behavioral health,
# substance use, violence: none has an SDOH code or a directory flag yet). The other signs
# (the referral's safety flag, its needs and the program's categories) are the messages'
# own rule, outreach.disclosure.is_sensitive: the printed summary and every text agree.
SENSITIVE_WORDS = (
    "behavioral",
    "behavioural",
    "mental",
    "psychiatr",
    "psycholog",
    "counsel",
    "therap",
    "substance",
    "addiction",
    "recovery",
    "opioid",
    "alcohol",
    "detox",
    "sobriety",
    "suicid",
    "crisis",
    "domestic violence",
    "abuse",
    "conductual",
    "salud mental",
    "adicci",
    "sustancia",
    "violencia",
)

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Your referral",
        "for_client": "For {name}",
        "sent_on": "Sent by {sender} on {date}.",
        "created_on": "Made by {sender} on {date}.",
        "requested_heading": "What was requested",
        "your_appointment": "Your appointment",
        "help_from": "Help from {organization}",
        "for_needs": "For: {needs}",
        "where_heading": "Where",
        "phone": "Phone",
        "email": "Email",
        "website": "Website",
        "hours": "Hours",
        "no_contact_details": "Ask {sender} how to reach {organization}.",
        "contact_heading": "How they will reach you",
        "will_call": "{organization} will call you at {phone}.",
        "will_email": "{organization} will email you at {email}.",
        "will_contact": "{organization} will contact you by the phone number or email you gave.",
        "do_not_contact": "{organization} will not contact you first. Call them when it is safe "
        "for you.",
        "next_heading": "What happens next",
        "next_draft": "Your referral has not been sent yet.",
        "next_requested_by": "{organization} will look at your referral and answer by {date}.",
        "next_requested": "{organization} will look at your referral soon.",
        "next_accepted": "{organization} accepted your referral and will contact you about the "
        "next step.",
        "next_accepted_call": "{organization} accepted your referral. Call them to set up the "
        "next step.",
        "next_scheduled": "Your appointment is set. If you need to change it, call {organization}.",
        "next_waitlist": "You are on a waiting list. {organization} will contact you when there "
        "is a place.",
        "next_completed": "This referral is complete.",
        "next_closed": "This referral is closed. {sender} can help you find another place.",
        "call_if": "If you do not hear from them, call {phone}.",
        # The text message (short: TEXT_LIMIT characters in all).
        "sms_head": "Your referral: {service} at {organization}.",
        "sms_head_sensitive": "About your appointment:",
        "sms_requested_by": "They will answer by {date}.",
        "sms_requested": "They will contact you soon.",
        "sms_accepted": "It was accepted: they will contact you.",
        "sms_accepted_call": "It was accepted: call them to set up the next step.",
        "sms_scheduled": "Your appointment is set.",
        "sms_waitlist": "You are on a waiting list.",
        "sms_completed": "It is complete.",
        "sms_closed": "It is closed.",
        "sms_draft": "It has not been sent yet.",
        "sms_call": "Call {phone}.",
        "sms_sender": "- {sender}",
        # The page's own controls (hidden when printed).
        "print": "Print",
        "back": "Back to the referral",
        "language": "Language",
        "send_text": "Text this summary to the client",
        "send_queued": "The summary will be texted to the client.",
        "send_refused": "The summary was not sent: the client's contact preferences do not "
        "allow a text (see the client's messages).",
    },
    "es": {
        "title": "Su referencia",
        "for_client": "Para {name}",
        "sent_on": "Enviada por {sender} el {date}.",
        "created_on": "Hecha por {sender} el {date}.",
        "requested_heading": "Qué se pidió",
        "your_appointment": "Su cita",
        "help_from": "Ayuda de {organization}",
        "for_needs": "Para: {needs}",
        "where_heading": "Dónde",
        "phone": "Teléfono",
        "email": "Correo electrónico",
        "website": "Sitio web",
        "hours": "Horario",
        "no_contact_details": "Pregunte a {sender} cómo comunicarse con {organization}.",
        "contact_heading": "Cómo se comunicarán con usted",
        "will_call": "{organization} le llamará al {phone}.",
        "will_email": "{organization} le escribirá a {email}.",
        "will_contact": "{organization} se comunicará con usted por el teléfono o el correo "
        "electrónico que usted dio.",
        "do_not_contact": "{organization} no se comunicará con usted primero. Llámeles cuando "
        "sea seguro para usted.",
        "next_heading": "Qué pasa ahora",
        "next_draft": "Su referencia todavía no se ha enviado.",
        "next_requested_by": "{organization} revisará su referencia y responderá a más tardar "
        "el {date}.",
        "next_requested": "{organization} revisará su referencia pronto.",
        "next_accepted": "{organization} aceptó su referencia y se comunicará con usted para el "
        "siguiente paso.",
        "next_accepted_call": "{organization} aceptó su referencia. Llámeles para acordar el "
        "siguiente paso.",
        "next_scheduled": "Su cita está programada. Si necesita cambiarla, llame a {organization}.",
        "next_waitlist": "Usted está en una lista de espera. {organization} se comunicará con "
        "usted cuando haya lugar.",
        "next_completed": "Esta referencia está completa.",
        "next_closed": "Esta referencia está cerrada. {sender} puede ayudarle a encontrar otro "
        "lugar.",
        "call_if": "Si no sabe nada de ellos, llame al {phone}.",
        "sms_head": "Su referencia: {service} en {organization}.",
        "sms_head_sensitive": "Sobre su cita:",
        "sms_requested_by": "Le responderán a más tardar el {date}.",
        "sms_requested": "Se comunicarán con usted pronto.",
        "sms_accepted": "Fue aceptada: se comunicarán con usted.",
        "sms_accepted_call": "Fue aceptada: llámeles para acordar el siguiente paso.",
        "sms_scheduled": "Su cita está programada.",
        "sms_waitlist": "Usted está en una lista de espera.",
        "sms_completed": "Está completa.",
        "sms_closed": "Está cerrada.",
        "sms_draft": "Todavía no se ha enviado.",
        "sms_call": "Llame al {phone}.",
        "sms_sender": "- {sender}",
        "print": "Imprimir",
        "back": "Volver a la referencia",
        "language": "Idioma",
        "send_text": "Enviar este resumen al cliente por mensaje de texto",
        "send_queued": "El resumen se enviará al cliente por mensaje de texto.",
        "send_refused": "El resumen no se envió: las preferencias de contacto del cliente no "
        "permiten un mensaje de texto (vea los mensajes del cliente).",
    },
}

# The needs in the client's words (SDOH categories; the IG's displays are English terms).
NEED_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "food-insecurity": "food",
        "housing-instability": "housing",
        "homelessness": "a place to live",
        "inadequate-housing": "problems with your home",
        "transportation-insecurity": "transportation",
        "financial-insecurity": "money",
        "material-hardship": "basic needs",
        "educational-attainment": "education",
        "employment-status": "work",
        "veteran-status": "veterans' services",
        "stress": "stress",
        "social-connection": "company and support",
        "intimate-partner-violence": "safety",
        "elder-abuse": "safety",
        "personal-health-literacy": "understanding health information",
        "health-insurance-coverage-status": "health insurance",
        "medical-cost-burden": "medical bills",
        "digital-literacy": "using computers and phones",
        "digital-access": "internet access",
        "utility-insecurity": "utility bills",
        "incarceration-status": "re-entry support",
        "language-access": "language help",
        "protective-factor": "support",
        "sdoh-category-unspecified": "other help",
    },
    "es": {
        "food-insecurity": "alimentos",
        "housing-instability": "vivienda",
        "homelessness": "un lugar donde vivir",
        "inadequate-housing": "problemas con su vivienda",
        "transportation-insecurity": "transporte",
        "financial-insecurity": "dinero",
        "material-hardship": "necesidades básicas",
        "educational-attainment": "educación",
        "employment-status": "trabajo",
        "veteran-status": "servicios para veteranos",
        "stress": "estrés",
        "social-connection": "compañía y apoyo",
        "intimate-partner-violence": "seguridad",
        "elder-abuse": "seguridad",
        "personal-health-literacy": "entender información de salud",
        "health-insurance-coverage-status": "seguro médico",
        "medical-cost-burden": "cuentas médicas",
        "digital-literacy": "uso de computadoras y teléfonos",
        "digital-access": "acceso a internet",
        "utility-insecurity": "cuentas de servicios públicos",
        "incarceration-status": "apoyo para la reintegración",
        "language-access": "ayuda con el idioma",
        "protective-factor": "apoyo",
        "sdoh-category-unspecified": "otra ayuda",
    },
}


def language_or_default(language: str | None) -> str:
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def t(language: str, key: str, **values) -> str:
    """The client-facing string `key` in `language` (English when unknown), filled in."""
    return TEXT[language_or_default(language)][key].format(**values)


def need_text(language: str, code: str) -> str:
    return NEED_TEXT[language_or_default(language)].get(code, code)


def is_sensitive(referral: Referral) -> bool:
    """A service the client would not want named where others may read it: behavioral
    health, substance use, or help for people facing violence (by the referral's needs,
    the program's name and service codes, and the requested service's words). Erring
    towards "sensitive" only makes the summary vaguer."""
    if message_sensitive(referral):
        return True
    words = []
    if referral.program_id:
        words.append(referral.program.name)
        words.extend(c.display for c in referral.program.service_codes.all())
    requested = referral.requested
    if requested is not None:
        words.append(requested.display)
    text = " ".join(words).lower()
    return any(word in text for word in SENSITIVE_WORDS)


@dataclass(frozen=True)
class ClientSummary:
    """What the client's summary says, in `language`, as far as consent lets the
    producing organization show it."""

    language: str
    sensitive: bool
    title: str
    client_name: str  # "" when demographics are not visible
    made: str  # who sent it and when
    service: str  # what was requested ("Your appointment" when sensitive)
    needs: str  # "" when the needs are not visible or sensitive
    organization: str
    program: str  # "" when sensitive or not yet chosen
    phone: str
    email: str
    website: str
    hours: str
    contact: str  # how they will reach the client
    next_steps: tuple[str, ...]
    shown_categories: tuple[str, ...] = field(default=())
    no_contact_details: str = ""

    @property
    def labels(self) -> dict[str, str]:
        """The page's headings and labels in the summary's language."""
        return {key: t(self.language, key) for key in _LABELS}

    @property
    def for_client(self) -> str:
        return t(self.language, "for_client", name=self.client_name) if self.client_name else ""


_LABELS = (
    "requested_heading",
    "where_heading",
    "phone",
    "email",
    "website",
    "hours",
    "contact_heading",
    "next_heading",
    "print",
    "back",
    "language",
    "send_text",
)


def _local_date(language: str, moment: datetime | None) -> str:
    if moment is None:
        return ""
    return format_date(language, timezone.localtime(moment).date())


def _service(referral: Referral, language: str, sensitive: bool) -> str:
    if sensitive:
        return t(language, "your_appointment")
    if referral.program_id:
        # A program's name is its own (not translated).
        return referral.program.name
    return t(language, "help_from", organization=referral.receiver_organization.name)


def _next_steps(referral: Referral, language: str, *, phone: str) -> tuple[str, ...]:
    organization = referral.receiver_organization.name
    sender = referral.sender_name
    status = referral.status
    steps: list[str] = []
    if status == Status.DRAFT:
        steps.append(t(language, "next_draft"))
    elif status == Status.REQUESTED:
        if referral.ack_due_at:
            due = _local_date(language, referral.ack_due_at)
            steps.append(t(language, "next_requested_by", organization=organization, date=due))
        else:
            steps.append(t(language, "next_requested", organization=organization))
    elif status in (Status.ACCEPTED, Status.IN_PROGRESS):
        if referral.business_status == Referral.BusinessStatus.SCHEDULED:
            steps.append(t(language, "next_scheduled", organization=organization))
        elif referral.do_not_contact:
            steps.append(t(language, "next_accepted_call", organization=organization))
        else:
            steps.append(t(language, "next_accepted", organization=organization))
    elif status == Status.ON_HOLD:
        steps.append(t(language, "next_waitlist", organization=organization))
    elif status == Status.COMPLETED:
        steps.append(t(language, "next_completed"))
    else:
        steps.append(t(language, "next_closed", sender=sender))
    if referral.is_open and status != Status.DRAFT and phone and not referral.do_not_contact:
        steps.append(t(language, "call_if", phone=phone))
    return tuple(steps)


def _contact(referral: Referral, language: str, *, demographics: bool) -> str:
    organization = referral.receiver_organization.name
    if referral.do_not_contact:
        # For the client's safety: the receiver must not reach out (FHIR
        # contacting-subject-prohibited); the client calls when it is safe.
        return t(language, "do_not_contact", organization=organization)
    client = referral.client
    if demographics and client.phone:
        return t(language, "will_call", organization=organization, phone=client.phone)
    if demographics and client.email:
        return t(language, "will_email", organization=organization, email=client.email)
    return t(language, "will_contact", organization=organization)


def build_summary(
    referral: Referral, *, organization: Organization, language: str
) -> ClientSummary:
    """The client's summary of `referral` as `organization` (a party to it) may show it,
    in `language` ("en" or "es"; English otherwise)."""
    language = language_or_default(language)
    sight = policy.referral_sight(organization, referral)
    sensitive = is_sensitive(referral)
    program = referral.program if referral.program_id else None
    phone = program.phone if program else ""
    sender = referral.sender_name
    when = referral.sent_at or referral.created_at
    made = t(
        language,
        "sent_on" if referral.sent_at else "created_on",
        sender=sender,
        date=_local_date(language, when),
    )
    needs = ""
    if sight.needs and not sensitive:
        codes = [n.code for n in referral.needs.all()]
        needs = ", ".join(dict.fromkeys(need_text(language, c) for c in codes))
    shown = {Category.REFERRALS.value}
    if sight.demographics:
        shown.add(Category.DEMOGRAPHICS.value)
    if needs:
        shown.add(Category.SOCIAL_NEEDS.value)
    return ClientSummary(
        language=language,
        sensitive=sensitive,
        title=t(language, "title"),
        client_name=referral.client.display_name if sight.demographics else "",
        made=made,
        service=_service(referral, language, sensitive),
        needs=t(language, "for_needs", needs=needs) if needs else "",
        organization=referral.receiver_organization.name,
        program=program.name if program and not sensitive else "",
        phone=phone,
        email=program.email if program else "",
        website=program.website if program else "",
        hours=program.hours if program else "",
        contact=_contact(referral, language, demographics=sight.demographics),
        next_steps=_next_steps(referral, language, phone=phone),
        shown_categories=tuple(sorted(shown)),
        no_contact_details=t(
            language,
            "no_contact_details",
            sender=sender,
            organization=referral.receiver_organization.name,
        ),
    )


def _sms_next(referral: Referral, language: str) -> str:
    status = referral.status
    if status == Status.DRAFT:
        return t(language, "sms_draft")
    if status == Status.REQUESTED:
        if referral.ack_due_at:
            return t(language, "sms_requested_by", date=_local_date(language, referral.ack_due_at))
        return t(language, "sms_requested")
    if status in (Status.ACCEPTED, Status.IN_PROGRESS):
        if referral.business_status == Referral.BusinessStatus.SCHEDULED:
            return t(language, "sms_scheduled")
        if referral.do_not_contact:
            return t(language, "sms_accepted_call")
        return t(language, "sms_accepted")
    if status == Status.ON_HOLD:
        return t(language, "sms_waitlist")
    if status == Status.COMPLETED:
        return t(language, "sms_completed")
    return t(language, "sms_closed")


def summary_text(referral: Referral, *, organization: Organization, language: str) -> str:
    """The summary as a short text message (at most TEXT_LIMIT characters) for the client's
    phone: the service and where, what happens next, the number to call. It never holds the
    client's name or contact details, the needs, or the name of a sensitive service or of
    the organization providing it. `organization` is the one sending it (a party to the
    referral)."""
    language = language_or_default(language)
    if policy.referral_sight(organization, referral).party is False:
        raise ValueError("Only a party to the referral summarizes it.")
    sensitive = is_sensitive(referral)
    # A sensitive service's number would name it too (a reverse lookup, a saved contact).
    phone = referral.program.phone if referral.program_id and not sensitive else ""
    if sensitive:
        head = t(language, "sms_head_sensitive")
    else:
        head = t(
            language,
            "sms_head",
            service=_service(referral, language, sensitive),
            organization=referral.receiver_organization.name,
        )
    parts = [head, _sms_next(referral, language)]
    if phone:
        parts.append(t(language, "sms_call", phone=phone))
    # Signed by the sending organization, unless that too would name a sensitive service.
    signature = [] if sensitive else [t(language, "sms_sender", sender=organization.name)]
    text = " ".join([*parts, *signature])
    if len(text) <= TEXT_LIMIT:
        return text
    # Too long (long names): the signature goes first, then the head is shortened.
    text = " ".join(parts)
    if len(text) <= TEXT_LIMIT:
        return text
    rest = " ".join(parts[1:])
    room = TEXT_LIMIT - len(rest) - 2
    return f"{head[: max(room, 0)].rstrip()}… {rest}"[:TEXT_LIMIT]
