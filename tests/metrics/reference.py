"""A straightforward Python computation of the referral and screening rollups over the
same rows, for the property-based tests to compare the SQL with."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date, timedelta

from django.utils import timezone

TERMINAL = {"completed", "rejected", "failed", "cancelled"}


def period_start(moment, kind: str) -> date:
    day = timezone.localtime(moment).date()
    if kind == "month":
        return day.replace(day=1)
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def age_on(dob: date, day: date) -> int:
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


def cells(client, moment) -> dict[str, str]:
    age = age_on(client.date_of_birth, timezone.localtime(moment).date())
    return {
        "": "",
        "race_ethnicity": "hispanic" if client.ethnicity == "2135-2" else client.race,
        "language": client.preferred_language,
        "insurance": client.insurance_type,
        "age_band": "0-17" if age < 18 else ("18-64" if age < 65 else "65+"),
    }


def scopes(network_id, sender_id, receiver_id, partnerships):
    """(partnership, organization, as_sender, as_receiver) for one row."""
    out = [(None, None, True, True)]
    if sender_id is not None:
        out.append((None, sender_id, True, receiver_id == sender_id))
    if receiver_id != sender_id:
        out.append((None, receiver_id, False, True))
    for pk, members in partnerships.items():
        if sender_id in members and receiver_id in members:
            out.append((pk, None, True, True))
    return out


def referral_rollups(referrals, partnerships, now) -> dict:
    """{(partnership, organization, kind, period_start, measure, breakdown, cell):
    (numerator, denominator, value)} for the referral measures."""
    groups = defaultdict(list)
    for r in referrals:
        if r.sent_at is None or r.status in ("draft", "entered-in-error"):
            continue
        for kind in ("month", "quarter"):
            start = period_start(r.sent_at, kind)
            for breakdown, cell in cells(r.client, r.sent_at).items():
                for pk, org, as_sender, as_receiver in scopes(
                    r.network_id,
                    r.sender_organization_id,
                    r.receiver_organization_id,
                    partnerships,
                ):
                    groups[(pk, org, kind, start, breakdown, cell)].append(
                        (r, as_sender, as_receiver)
                    )
    out = {}
    for key, rows in groups.items():
        refs = [r for r, _, _ in rows]
        accepted = [r for r in refs if r.accepted_at is not None]
        completed = [r for r in refs if r.status == "completed"]
        contacted = {r.pk for r in refs if r.events.filter(kind="contact").exists()}

        def overdue(r):
            return (
                r.status == "requested" and r.ack_due_at is not None and r.ack_due_at < now
            ) or (
                r.status in ("accepted", "in-progress")
                and r.update_due_at is not None
                and r.update_due_at < now
            )

        def rate(n, d):
            return (n, d, n / d if d else None)

        def count(n):
            return (n, None, float(n))

        def median(values):
            return (len(values), None, statistics.median(values) if values else None)

        n_acc = len(accepted)
        values = {
            "referrals_sent": count(sum(1 for _, s, _ in rows if s)),
            "referrals_received": count(sum(1 for _, _, rc in rows if rc)),
            "referrals_accepted": count(n_acc),
            "referrals_declined": count(sum(r.status == "rejected" for r in refs)),
            "referrals_completed": count(len(completed)),
            "referrals_cancelled": count(sum(r.status == "cancelled" for r in refs)),
            "referrals_failed": count(sum(r.status == "failed" for r in refs)),
            "acceptance_rate": rate(n_acc, len(refs)),
            "closed_loop_rate": rate(
                sum(
                    r.status in TERMINAL and r.closed_at <= r.sent_at + timedelta(days=30)
                    for r in refs
                ),
                len(refs),
            ),
            "median_days_to_acceptance": median(
                [(r.accepted_at - r.sent_at).total_seconds() / 86400 for r in accepted]
            ),
            "median_days_to_completion": median(
                [(r.closed_at - r.sent_at).total_seconds() / 86400 for r in completed]
            ),
            "referrals_overdue": count(sum(overdue(r) for r in refs)),
            "unable_to_contact_rate": rate(
                sum(r.status == "failed" or r.outcome == "unable-to-contact" for r in accepted),
                n_acc,
            ),
            "clients_referred": count(len({r.client_id for r in refs})),
            "clients_served": count(len({r.client_id for r in completed})),
            "clients_engaged": count(len({r.client_id for r in accepted if r.pk in contacted})),
            "clients_need_met": count(
                len({r.client_id for r in completed if r.outcome == "need-met"})
            ),
            "need_met_share": rate(sum(r.outcome == "need-met" for r in completed), len(completed)),
        }
        pk, org, kind, start, breakdown, cell = key
        for measure, triple in values.items():
            if triple[0] == 0 and not triple[1]:
                continue  # zeros are not stored
            out[(pk, org, kind, start, measure, breakdown, cell)] = triple
    return out
