"""A straightforward Python computation of every source's rollups over the same rows, for
the property-based tests to compare the SQL with."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

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


def scopes(
    network_id, sender_id, receiver_id, partnerships, *, top_level=True, pair_receiver_id=None
):
    """(partnership, organization, as_sender, as_receiver) for one row. A referral the
    backbone routed counts for the network only as its top-level row, and for the
    partnerships of (its sender, `pair_receiver_id`: the receiver of its latest routed
    referral) when it has one."""
    out = [(None, None, True, True)] if top_level else []
    if sender_id is not None:
        out.append((None, sender_id, True, receiver_id == sender_id))
    if receiver_id != sender_id:
        out.append((None, receiver_id, False, True))
    pair = receiver_id if pair_receiver_id is None else pair_receiver_id
    for pk, members in partnerships.items():
        if sender_id in members and pair in members:
            out.append((pk, None, True, True))
    return out


def routing(referrals) -> dict[int, tuple[bool, int | None]]:
    """{referral id: (top level, the receiver of its latest routed referral or None)}: a
    referral with `part_of` is not top level; a parent's latest routed referral is its
    child with the highest id that is not entered in error (any status, any date)."""
    latest: dict[int, object] = {}
    children = [r for r in referrals if r.part_of_id is not None and r.status != "entered-in-error"]
    for r in sorted(children, key=lambda r: r.pk):
        latest[r.part_of_id] = r  # the highest id last
    return {
        r.pk: (
            r.part_of_id is None,
            latest[r.pk].receiver_organization_id if r.pk in latest else None,
        )
        for r in referrals
    }


def referral_rollups(referrals, partnerships, now) -> dict:
    """{(partnership, organization, kind, period_start, measure, breakdown, cell):
    (numerator, denominator, value)} for the referral measures. `referrals`: all of the
    network's (a routed referral's scopes depend on its children)."""
    groups = defaultdict(list)
    routed = routing(referrals)
    for r in referrals:
        if r.sent_at is None or r.status in ("draft", "entered-in-error"):
            continue
        top_level, pair_receiver_id = routed[r.pk]
        for kind in ("month", "quarter"):
            start = period_start(r.sent_at, kind)
            for breakdown, cell in cells(r.client, r.sent_at).items():
                for pk, org, as_sender, as_receiver in scopes(
                    r.network_id,
                    r.sender_organization_id,
                    r.receiver_organization_id,
                    partnerships,
                    top_level=top_level,
                    pair_receiver_id=pair_receiver_id,
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
                r.status == "requested" and r.ack_due_at is not None and r.ack_due_at <= now
            ) or (
                r.status in ("accepted", "in-progress")
                and r.update_due_at is not None
                and r.update_due_at <= now
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


# --- every other source, over the same rows the SQL reads ----------------------------------
#
# Each source's rows become `Fact`s (who, when, which organizations, which cell of the
# source's own breakdown, and the source's own fields); `roll_up` groups them by scope,
# period and breakdown cell as metrics/engine.py describes, and a per-source function
# computes each measure over a group's facts, straight from the definitions.

CLIENT_BREAKDOWNS = ("race_ethnicity", "language", "insurance", "age_band")
HRSN = ("living-situation", "food", "transportation", "utilities", "safety")
# HEDIS SNS-E domains: (measure key part, AHC domain, referral need codes).
SNS = (
    ("food", "food", {"food-insecurity"}),
    ("housing", "living-situation", {"housing-instability", "homelessness", "inadequate-housing"}),
    ("transport", "transportation", {"transportation-insecurity"}),
)


@dataclass
class Fact:
    client: object
    moment: object  # an aware datetime, or a date (ts_is_date sources)
    sender_id: int | None
    receiver_id: int | None
    extra: str | None = None
    partnership_id: int | None = None  # the one partnership of an outcome result
    data: dict = field(default_factory=dict)
    # A referral's routing (see `routing`): the network counts top-level rows only.
    top_level: bool = True
    pair_receiver_id: int | None = None

    @property
    def day(self) -> date:
        if isinstance(self.moment, datetime):
            return timezone.localtime(self.moment).date()
        return self.moment

    @property
    def adult(self) -> bool:
        return age_on(self.client.date_of_birth, self.day) >= 18


def _start(day: date, kind: str) -> date:
    if kind == "month":
        return day.replace(day=1)
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _cells(fact: Fact, *, client_based: bool, extra: str, per_extra: bool) -> dict[str, str]:
    c = fact.client
    age = age_on(c.date_of_birth, fact.day)
    people = {
        "race_ethnicity": "hispanic" if c.ethnicity == "2135-2" else c.race,
        "language": c.preferred_language,
        "insurance": c.insurance_type,
        "age_band": "0-17" if age < 18 else ("18-64" if age < 65 else "65+"),
    }
    out = {"": ""}
    if client_based:
        out.update({b: people[b] for b in CLIENT_BREAKDOWNS})
    if extra:
        out[extra] = fact.extra or ""
        if per_extra:
            for b in CLIENT_BREAKDOWNS:
                # SQL: NULL || ':' || x is NULL, stored as ''.
                out[f"{extra}.{b}"] = f"{fact.extra}:{people[b]}" if fact.extra else ""
    return out


def roll_up(
    facts,
    partnerships,
    compute,
    *,
    client_based=True,
    extra="",
    per_extra=False,
    own_partnership=False,
) -> dict:
    """{(partnership, organization, kind, period_start, measure, breakdown, cell):
    (numerator, denominator, value)} over the facts, zeros left out as the SQL does."""
    groups = defaultdict(list)
    for f in facts:
        for kind in ("month", "quarter"):
            start = _start(f.day, kind)
            breakdown_cells = _cells(f, client_based=client_based, extra=extra, per_extra=per_extra)
            found = scopes(
                None,
                f.sender_id,
                f.receiver_id,
                {} if own_partnership else partnerships,
                top_level=f.top_level,
                pair_receiver_id=f.pair_receiver_id,
            )
            if own_partnership and f.partnership_id is not None:
                found.append((f.partnership_id, None, True, True))
            for breakdown, cell in breakdown_cells.items():
                for pk, org, _, _ in found:
                    groups[(pk, org, kind, start, breakdown, cell)].append(f)
    out = {}
    for (pk, org, kind, start, breakdown, cell), group in groups.items():
        for measure, triple in compute(group).items():
            if triple[0] == 0 and not triple[1]:
                continue
            out[(pk, org, kind, start, measure, breakdown, cell)] = triple
    return out


def _rate(n, d):
    return (n, d, n / d if d else None)


def _count(n):
    return (n, None, float(n))


def _distinct(group, test=lambda f: True) -> int:
    return len({f.client.pk for f in group if test(f)})


def screening_facts(assessments) -> list[Fact]:
    """Completed screenings (instrument kind 'screening'), with their needs counted."""
    return [
        Fact(
            a.client,
            a.completed_at,
            a.organization_id,
            a.organization_id,
            data={"positive_domains": a.needs.count()},
        )
        for a in assessments
        if a.status == "completed" and a.instrument.kind == "screening"
    ]


def screening_rollups(assessments, partnerships) -> dict:
    def compute(group):
        return {
            "screenings_done": _count(len(group)),
            "clients_screened": _count(_distinct(group)),
            "clients_screened_positive": _count(
                _distinct([f for f in group if f.data["positive_domains"] > 0])
            ),
            "screening_positive_share": _rate(
                sum(f.data["positive_domains"] > 0 for f in group), len(group)
            ),
        }

    return roll_up(screening_facts(assessments), partnerships, compute)


def need_rollups(assessments, partnerships) -> dict:
    facts = [
        Fact(a.client, a.completed_at, a.organization_id, a.organization_id, extra=n.category)
        for a in assessments
        if a.status == "completed" and a.instrument.kind == "screening"
        for n in a.needs.all()
    ]
    return roll_up(
        facts,
        partnerships,
        lambda group: {"needs_identified": _count(len(group))},
        client_based=False,
        extra="sdoh_category",
    )


def decline_rollups(referrals, partnerships) -> dict:
    """Declined referrals sent (as the referral measures count them, routing included),
    by the reason chosen ("other" when none was recorded)."""
    routed = routing(referrals)
    facts = [
        Fact(
            r.client,
            r.sent_at,
            r.sender_organization_id,
            r.receiver_organization_id,
            extra=r.decline_reason or "other",
            top_level=routed[r.pk][0],
            pair_receiver_id=routed[r.pk][1],
        )
        for r in referrals
        if r.sent_at is not None and r.status == "rejected"
    ]
    return roll_up(
        facts,
        partnerships,
        lambda group: {"referrals_declined_by_reason": _count(len(group))},
        client_based=False,
        extra="decline_reason",
    )


def contact_rollups(referrals, partnerships) -> dict:
    """Contacts recorded on referrals (any but entered-in-error), by contact type."""
    facts = [
        Fact(
            r.client,
            e.occurred_at,
            r.sender_organization_id,
            r.receiver_organization_id,
            extra=e.contact_type or "",
        )
        for r in referrals
        if r.status != "entered-in-error"
        for e in r.events.all()
        if e.kind == "contact"
    ]
    return roll_up(
        facts,
        partnerships,
        lambda group: {"encounters": _count(len(group))},
        client_based=False,
        extra="contact_type",
    )


def matrix_total(domain_results: dict) -> float:
    """The sum of the numeric domain scores (the matrix's total)."""
    return sum(
        v["score"]
        for v in domain_results.values()
        if isinstance(v, dict)
        and isinstance(v.get("score"), int | float)
        and not isinstance(v.get("score"), bool)
    )


def ssm_rollups(assessments, partnerships) -> dict:
    """Each client's first and latest completed matrix (two or more), as of the latest."""
    by_client = defaultdict(list)
    for a in assessments:
        if a.status == "completed" and a.instrument.kind == "matrix":
            by_client[a.client_id].append(a)
    facts = []
    for taken in by_client.values():
        if len(taken) < 2:
            continue
        taken.sort(key=lambda a: (a.completed_at, a.pk))
        first, latest = taken[0], taken[-1]
        facts.append(
            Fact(
                latest.client,
                latest.completed_at,
                latest.organization_id,
                latest.organization_id,
                data={
                    "first": matrix_total(first.domain_results),
                    "latest": matrix_total(latest.domain_results),
                },
            )
        )

    def compute(group):
        changes = [f.data["latest"] - f.data["first"] for f in group]
        return {
            "ssm_improved": _rate(sum(c > 0 for c in changes), len(group)),
            "ssm_mean_change": (len(group), None, statistics.mean(changes) if changes else None),
        }

    return roll_up(facts, partnerships, compute)


def _status(a, domain) -> str | None:
    found = a.domain_results.get(domain)
    return found.get("status") if isinstance(found, dict) else None


def national_facts(assessments, referrals) -> list[Fact]:
    """Everyone seen: each completed screening with what the national measures ask of it,
    and each referral sent (which counts a client as seen, and nothing else)."""
    facts = []
    sent = [r for r in referrals if r.sent_at and r.status not in ("draft", "entered-in-error")]
    for a in assessments:
        if a.status != "completed" or a.instrument.kind != "screening":
            continue
        statuses = {d: _status(a, d) for d in HRSN}
        theirs = [r for r in referrals if r.client_id == a.client_id]
        # MIPS #498: a contact a community-based organization recorded on a referral for
        # the client, within 60 days after the screening.
        connected = any(
            r.receiver_organization.kind == "cbo"
            and r.status != "entered-in-error"
            and a.completed_at <= e.occurred_at <= a.completed_at + timedelta(days=60)
            for r in theirs
            for e in r.events.all()
            if e.kind == "contact"
        )
        data = {
            "all_five": sum(s in ("positive", "negative") for s in statuses.values()) == 5,
            "any_positive": any(s == "positive" for s in statuses.values()),
            "connected60": connected,
        }
        data.update({f"positive_{d}": statuses[d] == "positive" for d in HRSN})
        for name, domain, codes in SNS:
            status = _status(a, domain)
            data[f"{name}_screened"] = status in ("positive", "negative")
            data[f"{name}_positive"] = status == "positive"
            # HEDIS SNS-E: a referral for the need sent from the screening up to 30 days on.
            data[f"{name}_intervention"] = any(
                r in sent
                and codes & {n.code for n in r.needs.all()}
                and a.completed_at <= r.sent_at <= a.completed_at + timedelta(days=30)
                for r in theirs
            )
        facts.append(
            Fact(a.client, a.completed_at, a.organization_id, a.organization_id, data=data)
        )
    for r in sent:
        facts.append(
            Fact(
                r.client,
                r.sent_at,
                r.sender_organization_id,
                r.receiver_organization_id,
                data=dict.fromkeys(
                    ["all_five", "any_positive", "connected60"]
                    + [f"positive_{d}" for d in HRSN]
                    + [
                        f"{n}_{k}"
                        for n, _, _ in SNS
                        for k in ("screened", "positive", "intervention")
                    ],
                    False,
                ),
            )
        )
    return facts


def national_rollups(assessments, referrals, partnerships) -> dict:
    def has(*keys):
        return lambda f: all(f.data[k] if k != "adult" else f.adult for k in keys)

    def compute(group):
        out = {
            "sdoh_1": _rate(
                _distinct(group, has("adult", "all_five")), _distinct(group, has("adult"))
            ),
            "sdoh_2": _rate(
                _distinct(group, has("adult", "all_five", "any_positive")),
                _distinct(group, has("adult", "all_five")),
            ),
            "mips_498": _rate(
                _distinct(group, has("adult", "any_positive", "connected60")),
                _distinct(group, has("adult", "any_positive")),
            ),
        }
        for d in HRSN:
            out[f"sdoh_2_{d.replace('-', '_')}"] = _rate(
                _distinct(group, has("adult", "all_five", f"positive_{d}")),
                _distinct(group, has("adult", "all_five")),
            )
        for name, _, _ in SNS:
            out[f"sns_e_{name}_screening"] = _rate(
                _distinct(group, has(f"{name}_screened")), _distinct(group)
            )
            out[f"sns_e_{name}_intervention"] = _rate(
                _distinct(group, has(f"{name}_positive", f"{name}_intervention")),
                _distinct(group, has(f"{name}_positive")),
            )
        return out

    return roll_up(national_facts(assessments, referrals), partnerships, compute)


def outcome_rollups(results) -> dict:
    """Outcome results (not entered in error), by the day observed, per outcome measure
    and per measure by each client breakdown; each counted for its measure's partnership
    only."""
    facts = [
        Fact(
            r.client,
            r.observed_on,
            r.organization_id,
            r.organization_id,
            extra=str(r.measure_id),
            partnership_id=r.measure.partnership_id,
            data={"met": r.measure.meets_goal(r.value)},
        )
        for r in results
        if r.entered_in_error_at is None
    ]

    def compute(group):
        return {
            "outcome_results": _count(len(group)),
            "outcome_clients": _count(_distinct(group)),
            "outcome_goal_met": _rate(sum(f.data["met"] for f in group), len(group)),
        }

    return roll_up(
        facts,
        {},
        compute,
        client_based=False,
        extra="outcome",
        per_extra=True,
        own_partnership=True,
    )
