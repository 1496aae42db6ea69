"""The words of the release form, per language (no gettext compile step).

`TEXT[language][key]` is a format string; the form, the capture page and the printed copy
all read from here, so what is shown on screen is exactly what is printed and signed.
Every language holds every key (a test checks).
"""

from __future__ import annotations

from datetime import date

from .categories import Category

DEFAULT_LANGUAGE = "en"

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Authorization to share information",
        "client": "Client",
        "date_of_birth": "Date of birth",
        "intro": (
            "I authorize {organization} to share the information listed below about me with "
            "the organizations named below, for the purpose stated."
        ),
        "recipients_heading": "Organizations that may receive the information",
        "all_partners": (
            "All organizations that are active partners in the {network} network at the time "
            "the information is shared"
        ),
        "no_recipients": "No organization chosen yet",
        "categories_heading": "Information that may be shared",
        "no_categories": "No information chosen yet",
        "purpose_heading": "Purpose",
        "dates_heading": "Dates",
        "effective": "This authorization takes effect on {date}.",
        "expires": "It expires on {date}, unless I revoke it earlier.",
        "signer_heading": "Signed by",
        "signer_client": "The client",
        "signer_representative": "{name}, legal representative ({relationship}) of the client",
        "method_heading": "How consent was given",
        "method_esignature": "Electronic signature typed on screen by {name} on {date}",
        "method_esignature_pending": "Electronic signature typed on screen",
        "method_paper": "Signed paper form, kept on file",
        "method_verbal": "Verbal consent, witnessed by {witness}",
        "rights_heading": "My rights",
        "right_revoke": (
            "I may revoke this authorization at any time by telling {organization}. "
            "Revoking stops future sharing; it does not undo what was already shared."
        ),
        "right_refuse": (
            "I do not have to sign this authorization to receive services from {organization}."
        ),
        "right_copy": "I have the right to a copy of this authorization.",
        "right_redisclosure": (
            "Information shared with an organization that is not bound by federal privacy "
            "rules could be shared again by it and no longer protected by those rules."
        ),
        "part2_notice": (
            "Substance-use-disorder records are protected by federal law (42 CFR Part 2). "
            "They may only be shared with the organizations named above, one by one, and may "
            "not be shared again without my written consent."
        ),
        "revoked": "Revoked on {date}.",
        "signature_line": "Signature",
        "date_line": "Date",
        "captured_by": "Captured by {organization}",
        "agree": "I, the signer, agree to this release.",
        "print": "Print",
    },
    "es": {
        "title": "Autorización para compartir información",
        "client": "Cliente",
        "date_of_birth": "Fecha de nacimiento",
        "intro": (
            "Autorizo a {organization} a compartir la información indicada abajo sobre mí con "
            "las organizaciones nombradas abajo, para el propósito indicado."
        ),
        "recipients_heading": "Organizaciones que pueden recibir la información",
        "all_partners": (
            "Todas las organizaciones que son socias activas de la red {network} en el "
            "momento en que se comparte la información"
        ),
        "no_recipients": "Todavía no se eligió ninguna organización",
        "categories_heading": "Información que se puede compartir",
        "no_categories": "Todavía no se eligió ninguna información",
        "purpose_heading": "Propósito",
        "dates_heading": "Fechas",
        "effective": "Esta autorización entra en vigor el {date}.",
        "expires": "Vence el {date}, a menos que yo la revoque antes.",
        "signer_heading": "Firmado por",
        "signer_client": "El cliente",
        "signer_representative": "{name}, representante legal ({relationship}) del cliente",
        "method_heading": "Cómo se dio el consentimiento",
        "method_esignature": "Firma electrónica escrita en pantalla por {name} el {date}",
        "method_esignature_pending": "Firma electrónica escrita en pantalla",
        "method_paper": "Formulario en papel firmado, guardado en el expediente",
        "method_verbal": "Consentimiento verbal, con {witness} como testigo",
        "rights_heading": "Mis derechos",
        "right_revoke": (
            "Puedo revocar esta autorización en cualquier momento avisando a {organization}. "
            "La revocación detiene lo que se comparta en el futuro; no deshace lo que ya se "
            "compartió."
        ),
        "right_refuse": (
            "No tengo que firmar esta autorización para recibir servicios de {organization}."
        ),
        "right_copy": "Tengo derecho a una copia de esta autorización.",
        "right_redisclosure": (
            "La información compartida con una organización que no está obligada por las "
            "normas federales de privacidad podría volver a compartirse y ya no estar "
            "protegida por esas normas."
        ),
        "part2_notice": (
            "Los registros de trastornos por uso de sustancias están protegidos por la ley "
            "federal (42 CFR Parte 2). Solo se pueden compartir con las organizaciones "
            "nombradas arriba, una por una, y no se pueden volver a compartir sin mi "
            "consentimiento por escrito."
        ),
        "revoked": "Revocada el {date}.",
        "signature_line": "Firma",
        "date_line": "Fecha",
        "captured_by": "Registrada por {organization}",
        "agree": "Yo, quien firma, acepto esta autorización.",
        "print": "Imprimir",
    },
}

CATEGORY_TEXT: dict[str, dict[str, str]] = {
    "en": {
        Category.DEMOGRAPHICS: "Demographics and contact information",
        Category.SOCIAL_NEEDS: "Social needs and screening results",
        Category.REFERRALS: "Referral details and outcomes",
        Category.HEALTH: "Health information",
        Category.BEHAVIORAL_HEALTH: "Behavioral (mental) health information",
        Category.SUD: "Substance-use-disorder records (42 CFR Part 2)",
    },
    "es": {
        Category.DEMOGRAPHICS: "Datos demográficos y de contacto",
        Category.SOCIAL_NEEDS: "Necesidades sociales y resultados de evaluaciones",
        Category.REFERRALS: "Detalles y resultados de las referencias",
        Category.HEALTH: "Información de salud",
        Category.BEHAVIORAL_HEALTH: "Información de salud mental y conductual",
        Category.SUD: "Registros de trastornos por uso de sustancias (42 CFR Parte 2)",
    },
}

PURPOSE_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "care_coordination": "Care coordination and referrals to services",
        "treatment": "Treatment",
        "payment": "Payment for services",
        "other": "Other",
    },
    "es": {
        "care_coordination": "Coordinación de cuidados y referencias a servicios",
        "treatment": "Tratamiento",
        "payment": "Pago de servicios",
        "other": "Otro",
    },
}

MONTHS: dict[str, tuple[str, ...]] = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "es": (
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ),
}


def language_or_default(language: str | None) -> str:
    return language if language in TEXT else DEFAULT_LANGUAGE


def t(language: str, key: str, **values) -> str:
    """The string `key` in `language` (English when the language is unknown), filled in."""
    return TEXT[language_or_default(language)][key].format(**values)


def category_text(language: str, category: Category | str) -> str:
    return CATEGORY_TEXT[language_or_default(language)][Category(category)]


def purpose_text(language: str, purpose: str, other: str = "") -> str:
    label = PURPOSE_TEXT[language_or_default(language)].get(purpose, purpose)
    return f"{label}: {other}" if purpose == "other" and other else label


def format_date(language: str, day: date) -> str:
    """ "March 5, 2026" / "5 de marzo de 2026"."""
    language = language_or_default(language)
    month = MONTHS[language][day.month - 1]
    if language == "es":
        return f"{day.day} de {month} de {day.year}"
    return f"{month} {day.day}, {day.year}"


def agreement(
    *,
    language: str,
    organization_name: str,
    network_name: str,
    recipient_names: list[str],
    all_partners: bool,
    categories: list[str],
    purpose: str,
    purpose_other: str = "",
    effective: date | None,
    expires: date | None,
    signer: str,
    representative_name: str = "",
    representative_relationship: str = "",
    method: str = "",
    esignature_name: str = "",
    signed_on: date | None = None,
    verbal_witness_name: str = "",
    revoked_on: date | None = None,
) -> dict:
    """Everything the client agrees to, as sentences in `language`: the capture page shows
    it next to the signature and the printed form prints it."""
    lang = language_or_default(language)
    org = {"organization": organization_name}
    recipients = [t(lang, "all_partners", network=network_name)] if all_partners else []
    recipients += sorted(recipient_names)
    cats = [c for c in Category if c.value in set(categories)]
    if signer == "representative":
        signed_by = t(
            lang,
            "signer_representative",
            name=representative_name or "…",
            relationship=representative_relationship or "…",
        )
    else:
        signed_by = t(lang, "signer_client")
    if method == "esignature":
        how = (
            t(lang, "method_esignature", name=esignature_name, date=format_date(lang, signed_on))
            if esignature_name and signed_on
            else t(lang, "method_esignature_pending")
        )
    elif method == "paper":
        how = t(lang, "method_paper")
    elif method == "verbal":
        how = t(lang, "method_verbal", witness=verbal_witness_name or "…")
    else:
        how = ""
    rights = [
        t(lang, "right_revoke", **org),
        t(lang, "right_refuse", **org),
        t(lang, "right_copy"),
        t(lang, "right_redisclosure"),
    ]
    return {
        "language": lang,
        "title": t(lang, "title"),
        "intro": t(lang, "intro", **org),
        "recipients_heading": t(lang, "recipients_heading"),
        "recipients": recipients or [t(lang, "no_recipients")],
        "categories_heading": t(lang, "categories_heading"),
        "categories": [category_text(lang, c) for c in cats] or [t(lang, "no_categories")],
        "part2_notice": t(lang, "part2_notice") if Category.SUD in cats else "",
        "purpose_heading": t(lang, "purpose_heading"),
        "purpose": purpose_text(lang, purpose, purpose_other) if purpose else "",
        "dates_heading": t(lang, "dates_heading"),
        "effective": t(lang, "effective", date=format_date(lang, effective)) if effective else "",
        "expires": t(lang, "expires", date=format_date(lang, expires)) if expires else "",
        "signer_heading": t(lang, "signer_heading"),
        "signer": signed_by,
        "method_heading": t(lang, "method_heading"),
        "method": how,
        "rights_heading": t(lang, "rights_heading"),
        "rights": rights,
        "revoked": t(lang, "revoked", date=format_date(lang, revoked_on)) if revoked_on else "",
        "agree": t(lang, "agree"),
        "client_label": t(lang, "client"),
        "date_of_birth_label": t(lang, "date_of_birth"),
        "signature_line": t(lang, "signature_line"),
        "date_line": t(lang, "date_line"),
        "captured_by": t(lang, "captured_by", **org),
        "print": t(lang, "print"),
    }
