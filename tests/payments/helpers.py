"""Rows the payments tests share."""

from __future__ import annotations

from decimal import Decimal

from payments.models import Pathway


def pathway(tenant, *, code="housing", value=Decimal("500.00"), **fields) -> Pathway:
    fields.setdefault("name", "Housing")
    fields.setdefault("need", "housing-instability")
    fields.setdefault("completion", "Moved into housing, and still housed six months later.")
    fields.setdefault("rule", Pathway.Rule.REFERRAL_NEED_MET)
    fields.setdefault("hold_days", 183)
    return Pathway.objects.create(network=tenant.network, code=code, value=value, **fields)
