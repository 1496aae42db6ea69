"""The measure registry: each measure's key, name, plain-language definition and its
computation as a SQL aggregate over one source's rows (see engine.py for the sources).

Aggregates are written against the columns every source row carries (see
engine.sources): `client_id`, `as_sender`, `as_receiver`, and the source's own columns.
Most are plain SQL both databases read alike; the few that need a dialect's spelling
(intervals, medians) are functions of the dialect (metrics/dialect.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from .dialect import Dialect

# SQL text, or a function giving it in a dialect's spelling.
Expression = str | Callable[[Dialect], str]

# The five HRSN domains of CMS SDOH-1, as the AHC HRSN screening names its domains.
HRSN_DOMAINS = ("living-situation", "food", "transportation", "utilities", "safety")

# The group of the published (national) measures: compared by identity, never evaluated at
# import (a translation needs the app registry).
NATIONAL_GROUP = gettext_lazy("National")

TERMINAL_SQL = "('completed', 'rejected', 'failed', 'cancelled')"

# How referrals the backbone routed are counted (engine._ROUTED_COLUMNS), said once on the
# measures it matters to most and on the dashboard's definitions.
ROUTED_RULE = gettext_lazy(
    "A referral the backbone routed to a program counts once for the network (the "
    "referral the backbone received, whose status and outcome follow the routed one); each "
    "organization counts what it sent or received; a partnership counts it between its "
    "sender and the program it was routed to."
)


@dataclass(frozen=True)
class Measure:
    key: str
    # Lazy translations: the properties below give them as text in the reader's language
    # (pages, CSV, chart labels and payment terms all compare and join plain strings).
    name_text: str
    group_text: str
    definition_text: str
    unit: str  # "count", "rate" (numerator / denominator), "days" (a median) or "points"
    source: str  # engine.sources key
    numerator: Expression
    denominator: Expression | None = None
    value: Expression | None = None
    published_by: str = ""
    # Client-based measures get breakdowns by race/ethnicity, language, insurance, age band.
    client_based: bool = True

    @property
    def name(self) -> str:
        return str(self.name_text)

    @property
    def group(self) -> str:
        return str(self.group_text)

    @property
    def definition(self) -> str:
        return str(self.definition_text)

    def sql(self, part: str, dialect: Dialect) -> str:
        """The numerator's, denominator's or value's SQL ("" when the measure has none)."""
        expression = getattr(self, part)
        if expression is None:
            return ""
        return expression(dialect) if callable(expression) else expression


def _median_days(later: str, earlier: str, where: str) -> Callable[[Dialect], str]:
    return lambda d: d.median(d.days_between(later, earlier), where)


MEASURES: list[Measure] = [
    Measure(
        "referrals_sent",
        gettext_lazy("Referrals sent"),
        gettext_lazy("Process"),
        format_lazy(
            "{}{}",
            gettext_lazy(
                "Referrals sent in the period (by the "
                "organization, for an organization's view). "
                "Drafts and referrals marked entered-in-error are never counted. "
            ),
            ROUTED_RULE,
        ),
        "count",
        "referral",
        "COUNT(*) FILTER (WHERE as_sender)",
    ),
    Measure(
        "referrals_received",
        gettext_lazy("Referrals received"),
        gettext_lazy("Process"),
        format_lazy(
            "{}{}",
            gettext_lazy(
                "Referrals received in the period (by the "
                "organization, for an organization's view). "
            ),
            ROUTED_RULE,
        ),
        "count",
        "referral",
        "COUNT(*) FILTER (WHERE as_receiver)",
    ),
    Measure(
        "referrals_accepted",
        gettext_lazy("Referrals accepted"),
        gettext_lazy("Process"),
        gettext_lazy(
            "Referrals sent in the period that the receiver has accepted (at any time since)."
        ),
        "count",
        "referral",
        "COUNT(*) FILTER (WHERE accepted_at IS NOT NULL)",
    ),
    Measure(
        "referrals_declined",
        gettext_lazy("Referrals declined"),
        gettext_lazy("Process"),
        gettext_lazy("Referrals sent in the period that the receiver declined."),
        "count",
        "referral",
        "COUNT(*) FILTER (WHERE status = 'rejected')",
    ),
    Measure(
        "referrals_declined_by_reason",
        gettext_lazy("Referrals declined, by reason"),
        gettext_lazy("Process"),
        gettext_lazy(
            "Referrals sent in the period that the "
            "receiver declined, by the reason it chose "
            "(no capacity, not eligible, outside the service area, client no longer interested, "
            "unable to contact, referred elsewhere, duplicate, other). Declines recorded before "
            "reasons were coded count as other. The reasons add up to 'Referrals declined'."
        ),
        "count",
        "decline",
        "COUNT(*)",
        client_based=False,
    ),
    Measure(
        "referrals_completed",
        gettext_lazy("Referrals completed"),
        gettext_lazy("Process"),
        gettext_lazy("Referrals sent in the period that were completed with an outcome."),
        "count",
        "referral",
        "COUNT(*) FILTER (WHERE status = 'completed')",
    ),
    Measure(
        "referrals_cancelled",
        gettext_lazy("Referrals cancelled"),
        gettext_lazy("Process"),
        gettext_lazy("Referrals sent in the period that either side cancelled."),
        "count",
        "referral",
        "COUNT(*) FILTER (WHERE status = 'cancelled')",
    ),
    Measure(
        "referrals_failed",
        gettext_lazy("Referrals failed"),
        gettext_lazy("Process"),
        gettext_lazy("Referrals sent in the period that failed (client unreachable, no-show)."),
        "count",
        "referral",
        "COUNT(*) FILTER (WHERE status = 'failed')",
    ),
    Measure(
        "acceptance_rate",
        gettext_lazy("Acceptance rate"),
        gettext_lazy("Process"),
        gettext_lazy(
            "Numerator: referrals sent in the period "
            "that were accepted. Denominator: referrals "
            "sent in the period."
        ),
        "rate",
        "referral",
        "COUNT(*) FILTER (WHERE accepted_at IS NOT NULL)",
        "COUNT(*)",
    ),
    Measure(
        "closed_loop_rate",
        gettext_lazy("Closed-loop rate"),
        gettext_lazy("Process"),
        gettext_lazy(
            "Numerator: referrals sent in the period "
            "that reached a terminal status (completed, "
            "declined, failed or cancelled), which the sender sees with its outcome or reason, "
            "within 30 days of being sent. Denominator: referrals sent in the period."
        ),
        "rate",
        "referral",
        lambda d: (
            f"COUNT(*) FILTER (WHERE status IN {TERMINAL_SQL} "
            f"AND {d.within_days('closed_at', 'sent_at', 30)})"
        ),
        "COUNT(*)",
    ),
    Measure(
        "median_days_to_acceptance",
        gettext_lazy("Median days to acceptance"),
        gettext_lazy("Process"),
        gettext_lazy(
            "The median, over referrals sent in the period and accepted, of the days from "
            "sending to acceptance. Shown with the number of referrals it is the median of."
        ),
        "days",
        "referral",
        "COUNT(*) FILTER (WHERE accepted_at IS NOT NULL)",
        value=_median_days("accepted_at", "sent_at", "accepted_at IS NOT NULL"),
    ),
    Measure(
        "median_days_to_completion",
        gettext_lazy("Median days to completion"),
        gettext_lazy("Process"),
        gettext_lazy(
            "The median, over referrals sent in the "
            "period and completed, of the days from "
            "sending to completion."
        ),
        "days",
        "referral",
        "COUNT(*) FILTER (WHERE status = 'completed')",
        value=_median_days("closed_at", "sent_at", "status = 'completed'"),
    ),
    Measure(
        "referrals_overdue",
        gettext_lazy("Referrals overdue now"),
        gettext_lazy("Process"),
        gettext_lazy(
            "Referrals sent in the period that are "
            "still open and past due when the rollup ran: "
            "not acknowledged by their acknowledgement due date, or accepted and not updated by "
            "their update due date."
        ),
        "count",
        "referral",
        "COUNT(*) FILTER (WHERE overdue)",
    ),
    Measure(
        "unable_to_contact_rate",
        gettext_lazy("Unable-to-contact / no-show rate"),
        gettext_lazy("Process"),
        gettext_lazy(
            "Numerator: accepted referrals sent in "
            "the period that failed or closed with the "
            "outcome 'unable to contact'. Denominator: referrals sent in the period and accepted."
        ),
        "rate",
        "referral",
        "COUNT(*) FILTER (WHERE accepted_at IS NOT NULL "
        "AND (status = 'failed' OR outcome = 'unable-to-contact'))",
        "COUNT(*) FILTER (WHERE accepted_at IS NOT NULL)",
    ),
    Measure(
        "clients_referred",
        gettext_lazy("Unique clients referred"),
        gettext_lazy("Process"),
        gettext_lazy("Distinct clients with at least one referral sent in the period."),
        "count",
        "referral",
        "COUNT(DISTINCT client_id)",
    ),
    Measure(
        "clients_served",
        gettext_lazy("Unique clients served"),
        gettext_lazy("Process"),
        gettext_lazy(
            "Distinct clients with at least one referral sent in the period that was completed."
        ),
        "count",
        "referral",
        "COUNT(DISTINCT client_id) FILTER (WHERE status = 'completed')",
    ),
    Measure(
        "clients_engaged",
        gettext_lazy("Clients engaged"),
        gettext_lazy("Funnel"),
        gettext_lazy(
            "Distinct clients with a referral sent in "
            "the period that was accepted and on which "
            "the receiver recorded at least one contact."
        ),
        "count",
        "referral",
        "COUNT(DISTINCT client_id) FILTER (WHERE accepted_at IS NOT NULL AND contacted)",
    ),
    Measure(
        "clients_need_met",
        gettext_lazy("Clients whose need was met"),
        gettext_lazy("Funnel"),
        gettext_lazy(
            "Distinct clients with a referral sent "
            "in the period completed with the outcome "
            "'service provided – need met'."  # noqa: RUF001
        ),
        "count",
        "referral",
        "COUNT(DISTINCT client_id) FILTER (WHERE status = 'completed' AND outcome = 'need-met')",
    ),
    Measure(
        "need_met_share",
        gettext_lazy("Completed referrals with need met"),
        gettext_lazy("Outcome"),
        gettext_lazy(
            "Numerator: referrals sent in the period completed with the outcome 'service "
            "provided – need met'. Denominator: "  # noqa: RUF001
            "referrals sent in the period and completed."
        ),
        "rate",
        "referral",
        "COUNT(*) FILTER (WHERE status = 'completed' AND outcome = 'need-met')",
        "COUNT(*) FILTER (WHERE status = 'completed')",
    ),
    Measure(
        "ssm_improved",
        gettext_lazy("Self-Sufficiency scores improved"),
        gettext_lazy("Outcome"),
        gettext_lazy(
            "Numerator: clients whose latest "
            "Self-Sufficiency Matrix total (the sum of the "
            "domain ratings, 1 to 5 each) is higher than their first. Denominator: clients with "
            "two or more completed matrices whose latest falls in the period."
        ),
        "rate",
        "ssm",
        "COUNT(*) FILTER (WHERE latest_total > first_total)",
        "COUNT(*)",
    ),
    Measure(
        "ssm_mean_change",
        gettext_lazy("Mean change in Self-Sufficiency score"),
        gettext_lazy("Outcome"),
        gettext_lazy(
            "The mean of (latest total minus first "
            "total) over the clients counted in 'Self-"
            "Sufficiency scores improved'. Shown with the number of clients."
        ),
        "points",
        "ssm",
        "COUNT(*)",
        value="AVG(latest_total - first_total)",
    ),
    Measure(
        "encounters",
        gettext_lazy("Encounters (contacts recorded)"),
        gettext_lazy("Process"),
        gettext_lazy(
            "Contacts with clients the receiving "
            "organization recorded in the period, by type "
            "(phone, text, email, in person, home visit)."
        ),
        "count",
        "contact",
        "COUNT(*)",
        client_based=False,
    ),
    Measure(
        "screenings_done",
        gettext_lazy("Screenings done"),
        gettext_lazy("Process"),
        gettext_lazy("Completed social-needs screenings (screening instruments) in the period."),
        "count",
        "screening",
        "COUNT(*)",
    ),
    Measure(
        "clients_screened",
        gettext_lazy("Clients screened"),
        gettext_lazy("Funnel"),
        gettext_lazy("Distinct clients with a completed social-needs screening in the period."),
        "count",
        "screening",
        "COUNT(DISTINCT client_id)",
    ),
    Measure(
        "clients_screened_positive",
        gettext_lazy("Clients screened positive"),
        gettext_lazy("Funnel"),
        gettext_lazy(
            "Distinct clients with a completed social-needs "
            "screening in the period that found "
            "at least one need (positive in at least one domain)."
        ),
        "count",
        "screening",
        "COUNT(DISTINCT client_id) FILTER (WHERE positive_domains > 0)",
    ),
    Measure(
        "screening_positive_share",
        gettext_lazy("Screenings positive"),
        gettext_lazy("Process"),
        gettext_lazy(
            "Numerator: completed screenings in the "
            "period with at least one positive domain. "
            "Denominator: completed screenings in the period."
        ),
        "rate",
        "screening",
        "COUNT(*) FILTER (WHERE positive_domains > 0)",
        "COUNT(*)",
    ),
    Measure(
        "needs_identified",
        gettext_lazy("Needs identified"),
        gettext_lazy("Process"),
        gettext_lazy(
            "Needs (SDOH categories) that completed screenings in the period found, by category."
        ),
        "count",
        "need",
        "COUNT(*)",
        client_based=False,
    ),
    Measure(
        "sdoh_1",
        gettext_lazy("SDOH-1: screened for all five HRSN domains"),
        NATIONAL_GROUP,
        gettext_lazy(
            "CMS SDOH-1 (Screening for Social Drivers "
            "of Health), as published for the Hospital "
            "IQR and MIPS programs: numerator, adults (18 or older) screened for all five "
            "health-related social needs — food insecurity, housing instability, transportation "
            "needs, utility difficulties and interpersonal safety; denominator, adults (18 or "
            "older) with a completed screening or a referral in the period (Linkage's record of "
            "who was seen; each client once per scope and period)."
        ),
        "rate",
        "national",
        "COUNT(DISTINCT client_id) FILTER (WHERE adult AND all_five)",
        "COUNT(DISTINCT client_id) FILTER (WHERE adult)",
        published_by="CMS Hospital IQR / MIPS measure SDOH-1 (CMIT 1664)",
    ),
    Measure(
        "sdoh_2",
        gettext_lazy("SDOH-2: screen positive rate (any domain)"),
        NATIONAL_GROUP,
        gettext_lazy(
            "CMS SDOH-2 (Screen Positive Rate for Social "
            "Drivers of Health): numerator, adults "
            "screened for all five domains who screened positive for at least one (by domain in "
            "the 'needs identified' table); denominator, adults screened for all five domains."
        ),
        "rate",
        "national",
        "COUNT(DISTINCT client_id) FILTER (WHERE adult AND all_five AND any_positive)",
        "COUNT(DISTINCT client_id) FILTER (WHERE adult AND all_five)",
        published_by="CMS Hospital IQR / MIPS measure SDOH-2 (CMIT 1662)",
    ),
    Measure(
        "mips_498",
        gettext_lazy("MIPS #498: connection to a community service provider"),
        NATIONAL_GROUP,
        gettext_lazy(
            "MIPS Quality ID #498 (Connection to "
            "Community Service Provider): numerator, adults "
            "(18 or older) who screened positive for at least one of the five HRSN domains in "
            "the period and had contact with a community-based organization about a referral "
            "within 60 days after the screening (a contact the organization recorded); "
            "denominator, adults who screened positive for at least one HRSN in the period."
        ),
        "rate",
        "national",
        "COUNT(DISTINCT client_id) FILTER (WHERE adult AND any_positive AND connected60)",
        "COUNT(DISTINCT client_id) FILTER (WHERE adult AND any_positive)",
        published_by="CMS MIPS Quality ID #498 (2024 performance year onward)",
    ),
]


def domain_column(domain: str) -> str:
    """The national source's column: the screening was positive for this HRSN domain."""
    return "positive_" + domain.replace("-", "_")


# CMS reports SDOH-2 as five rates, one per domain, over the same denominator.
_SDOH_2_DOMAINS = [
    ("living-situation", gettext_lazy("housing instability (living situation)")),
    ("food", gettext_lazy("food insecurity")),
    ("transportation", gettext_lazy("transportation needs")),
    ("utilities", gettext_lazy("utility difficulties")),
    ("safety", gettext_lazy("interpersonal safety")),
]
for _domain, _label in _SDOH_2_DOMAINS:
    _column = domain_column(_domain)
    MEASURES.append(
        Measure(
            f"sdoh_2_{_domain.replace('-', '_')}",
            format_lazy(gettext_lazy("SDOH-2: screen positive for {label}"), label=_label),
            NATIONAL_GROUP,
            format_lazy(
                gettext_lazy(
                    "CMS SDOH-2, {label}: numerator, adults screened for all five domains who "
                    "screened positive for {label}; denominator, adults screened for all five "
                    "domains (each client once per scope and period)."
                ),
                label=_label,
            ),
            "rate",
            "national",
            f"COUNT(DISTINCT client_id) FILTER (WHERE adult AND all_five AND {_column})",
            "COUNT(DISTINCT client_id) FILTER (WHERE adult AND all_five)",
            published_by="CMS Hospital IQR / MIPS measure SDOH-2 (CMIT 1662)",
        )
    )

_SNS_DOMAINS = [
    ("food", gettext_lazy("food insecurity")),
    ("housing", gettext_lazy("housing instability")),
    ("transport", gettext_lazy("transportation needs")),
]
for _key, _label in _SNS_DOMAINS:
    MEASURES.append(
        Measure(
            f"sns_e_{_key}_screening",
            format_lazy(gettext_lazy("SNS-E: screened for {label}"), label=_label),
            NATIONAL_GROUP,
            format_lazy(
                gettext_lazy(
                    "HEDIS SNS-E (Social Need Screening and Intervention), {label} screening: "
                    "numerator, clients screened for {label} in the period (positive or "
                    "negative); denominator, clients seen in the period (screened or referred). "
                    "Stratified by age: 17 or younger, 18 to 64, 65 or older (the age band "
                    "breakdown)."
                ),
                label=_label,
            ),
            "rate",
            "national",
            f"COUNT(DISTINCT client_id) FILTER (WHERE {_key}_screened)",
            "COUNT(DISTINCT client_id)",
            published_by="NCQA HEDIS MY 2024 SNS-E (ECDS)",
        )
    )
    MEASURES.append(
        Measure(
            f"sns_e_{_key}_intervention",
            format_lazy(
                gettext_lazy("SNS-E: intervention for {label} within 1 month"), label=_label
            ),
            NATIONAL_GROUP,
            format_lazy(
                gettext_lazy(
                    "HEDIS SNS-E, {label} intervention: numerator, clients who screened positive "
                    "for {label} in the period and had a referral for it sent on the day of the "
                    "positive screen or up to 30 days after; denominator, clients who screened "
                    "positive for {label} in the period."
                ),
                label=_label,
            ),
            "rate",
            "national",
            f"COUNT(DISTINCT client_id) FILTER (WHERE {_key}_positive AND {_key}_intervention)",
            f"COUNT(DISTINCT client_id) FILTER (WHERE {_key}_positive)",
            published_by="NCQA HEDIS MY 2024 SNS-E (ECDS)",
        )
    )

# Outcome measures a partnership defines (metrics.models.OutcomeMeasure): one row per
# defined measure in the "outcome" breakdown (cell: the measure's id), and that measure's
# rows by race/ethnicity, language, insurance and age band in "outcome.<breakdown>" (cells
# "<id>:<code>"). Not `client_based`: pooling an HbA1c with an asthma score by race would
# mean nothing; the engine breaks them down one outcome measure at a time instead.
OUTCOME_RESULTS = "outcome_results"
OUTCOME_CLIENTS = "outcome_clients"
OUTCOME_GOAL_MET = "outcome_goal_met"
MEASURES += [
    Measure(
        OUTCOME_RESULTS,
        gettext_lazy("Outcome results reported"),
        gettext_lazy("Outcome"),
        gettext_lazy(
            "For each outcome measure the partnership defines (for example an HbA1c or an "
            "asthma-control score its partners report): the results observed in the period (by "
            "the day observed). Results marked entered in error are not counted."
        ),
        "count",
        "outcome",
        "COUNT(*)",
        client_based=False,
    ),
    Measure(
        OUTCOME_CLIENTS,
        gettext_lazy("Clients with an outcome result"),
        gettext_lazy("Outcome"),
        gettext_lazy(
            "For each outcome measure: distinct clients "
            "with at least one result observed in "
            "the period."
        ),
        "count",
        "outcome",
        "COUNT(DISTINCT client_id)",
        client_based=False,
    ),
    Measure(
        OUTCOME_GOAL_MET,
        gettext_lazy("Outcome results meeting the goal"),
        gettext_lazy("Outcome"),
        gettext_lazy(
            "For each outcome measure: numerator, "
            "results observed in the period that meet "
            "the measure's goal (for example HbA1c below 8 %); denominator, results observed in "
            "the period. Scored against the measure's current goal: a changed goal re-scores "
            "past results at the next recomputation."
        ),
        "rate",
        "outcome",
        "COUNT(*) FILTER (WHERE goal_met)",
        "COUNT(*)",
        client_based=False,
    ),
]
OUTCOME = [OUTCOME_RESULTS, OUTCOME_CLIENTS, OUTCOME_GOAL_MET]

BY_KEY: dict[str, Measure] = {m.key: m for m in MEASURES}
NATIONAL = [m.key for m in MEASURES if m.group_text is NATIONAL_GROUP]
KEY_MEASURES = [
    "referrals_sent",
    "acceptance_rate",
    "closed_loop_rate",
    "median_days_to_acceptance",
    "need_met_share",
    "clients_served",
    "referrals_overdue",
]
FUNNEL = [
    "clients_screened",
    "clients_screened_positive",
    "clients_referred",
    "clients_engaged",
    "clients_need_met",
]
