"""Reads of payments for every face (pages, CSV, print, REST): one place that decides what a
viewer sees of a statement line's client."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from clients.models import Client
from consent.categories import Category
from organizations.models import Organization

from .models import PaymentTerm, Statement, StatementLine


def terms_visible(org: Organization) -> QuerySet[PaymentTerm]:
    """The payment terms the organization pays, is paid under, or (the backbone) oversees."""
    return PaymentTerm.objects.visible_to(org).select_related(
        "partnership", "payer", "payee", "parent"
    )


def statements_visible(org: Organization) -> QuerySet[Statement]:
    """Statements the organization is payer or payee of (every one of its network for the
    backbone), newest month first."""
    return Statement.objects.visible_to(org).select_related(
        "term__partnership", "term__payer", "term__payee", "adjusts"
    )


@dataclass(frozen=True)
class LineView:
    """A statement line as one viewer may see it: the referral or pathway id and the date
    always; the client (id and name) only where the consent policy lets the viewer see the
    client's demographics."""

    line: StatementLine
    client: Client | None

    @property
    def client_name(self) -> str:
        if self.client is None:
            return ""
        return f"{self.client.given_name} {self.client.family_name}"


def statement_lines(org: Organization, statement: Statement) -> list[LineView]:
    """The statement's lines in order, each with its client only if `org` may see that
    client's demographics (consent.policy, through Client.objects.visible_to)."""
    lines = list(statement.lines.order_by("position"))
    ids = {line.client_id for line in lines if line.client_id}
    visible = {
        c.pk: c for c in Client.objects.visible_to(org, Category.DEMOGRAPHICS).filter(pk__in=ids)
    }
    return [LineView(line, visible.get(line.client_id)) for line in lines]


def shown_client_ids(views: list[LineView]) -> list[int]:
    """The clients a face showed (for its audit row)."""
    return sorted({v.client.pk for v in views if v.client is not None})
