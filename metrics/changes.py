"""Recording what changed for the incremental rollups: receivers of the source models'
post_save / post_delete (connected in MetricsConfig.ready) write RollupChange rows in the
changing transaction, so a change and its record commit or roll back together.

Each record names the rows' local day and client, the old one and the new one when a save
moves a row (a referral re-dated into another month, a result moved to another client):
metrics/incremental.py turns them into the (source, period) cells to recompute. What the
models looked like when loaded is kept on the instance (post_init), read from its
`__dict__` only, so deferred fields are never fetched. Bulk paths (bulk_create,
queryset.update) send no signals: the nightly full recompute is their safety net.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Model

from .models import RollupChange

What = RollupChange.What
_WAS = "_metrics_was"
_MISSING = object()

# The fields whose old values a save needs, per model label.
TRACKED = {
    "referrals.Referral": (
        "network_id",
        "client_id",
        "sent_at",
        "status",
        "part_of_id",
        "sender_organization_id",
        "receiver_organization_id",
    ),
    "referrals.ReferralEvent": ("referral_id", "kind", "occurred_at"),
    "assessments.Assessment": ("client_id", "organization_id", "status", "completed_at"),
    "metrics.OutcomeResult": ("measure_id", "client_id", "observed_on"),
    "clients.Client": (
        "network_id",
        "date_of_birth",
        "race",
        "ethnicity",
        "preferred_language",
        "insurance_type",
    ),
}


def local_day(value: datetime | date | None) -> date | None:
    """The day of a moment in the networks' time zone (the zone the engine's periods use);
    a date is its own day."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo(settings.TIME_ZONE)).date()
    return value


def _values(instance: Model, fields: tuple[str, ...]) -> dict:
    return {f: instance.__dict__.get(f, _MISSING) for f in fields}


def _current(instance: Model, fields: tuple[str, ...]) -> dict:
    """The saved values; a field not loaded was not saved either, so it is read back."""
    now = _values(instance, fields)
    missing = [f for f, v in now.items() if v is _MISSING]
    if missing and instance.pk is not None:
        row = type(instance)._base_manager.filter(pk=instance.pk).values(*missing).first() or {}
        now.update({f: row.get(f) for f in missing})
    return now


def remember(sender, instance: Model, **kwargs) -> None:
    """post_init: what the row was when loaded (or created in memory)."""
    setattr(instance, _WAS, _values(instance, TRACKED[sender._meta.label]))


def _states(sender, instance: Model, created: bool) -> list[dict]:
    """The row's old and new states (one when they are the same or it is new)."""
    fields = TRACKED[sender._meta.label]
    new = _current(instance, fields)
    old = getattr(instance, _WAS, None)
    setattr(instance, _WAS, dict(new))
    if created or not old:
        return [new]
    old = {f: (new[f] if v is _MISSING else v) for f, v in old.items()}
    return [new] if old == new else [old, new]


def _write(records: set[tuple[int | None, str, date | None, int | None]]) -> None:
    rows = [
        RollupChange(network_id=network, what=what, day=day, client_ref=client)
        for network, what, day, client in records
        if network is not None
    ]
    if rows:
        RollupChange.objects.bulk_create(rows)


# --- referrals ------------------------------------------------------------------------


# What places a referral's rows in the national source (its referral rows, the SNS-E
# interventions and the contacts within 60 days): not its progress through the states.
_PLACEMENT = (
    "network_id",
    "client_id",
    "sent_at",
    "sender_organization_id",
    "receiver_organization_id",
)


def _placement(state: dict) -> tuple:
    status = state["status"]
    return (*(state[f] for f in _PLACEMENT), status == "draft", status == "entered-in-error")


def _referral_records(states: list[dict], created: bool = True) -> set:
    from referrals.models import Referral

    # Worked only (accepted, completed, ...): the referral and decline sources; placed,
    # moved, counted or not counted any more: the national source too.
    moved = created or (len(states) == 2 and _placement(states[0]) != _placement(states[1]))
    what = What.REFERRAL if moved else What.WORK
    records = set()
    for s in states:
        if s["sent_at"] is not None:
            records.add((s["network_id"], what, local_day(s["sent_at"]), s["client_id"]))
    parents = {s["part_of_id"] for s in states if s["part_of_id"]}
    # A routed referral decides its parent's partnership pair (engine._ROUTED_COLUMNS).
    for p in Referral.objects.filter(pk__in=parents).values("network_id", "client_id", "sent_at"):
        if p["sent_at"] is not None:
            records.add((p["network_id"], What.WORK, local_day(p["sent_at"]), p["client_id"]))
    return records


def _contacts_move(states: list[dict]) -> bool:
    """Whether the referral's contacts change rows: entered in error or back, another
    client, network, sender or receiver."""
    if len(states) < 2:
        return False
    old, new = states
    error = "entered-in-error"
    keys = ("network_id", "client_id", "sender_organization_id", "receiver_organization_id")
    return (old["status"] == error) != (new["status"] == error) or any(
        old[k] != new[k] for k in keys
    )


def _contact_records(referral_id: int, states: list[dict]) -> set:
    from referrals.models import ReferralEvent

    days = {
        local_day(at)
        for at in ReferralEvent.objects.filter(
            referral_id=referral_id, kind=ReferralEvent.Kind.CONTACT
        ).values_list("occurred_at", flat=True)
    }
    return {(s["network_id"], What.CONTACT, d, s["client_id"]) for s in states for d in days}


def on_referral_saved(sender, instance, created: bool, **kwargs) -> None:
    states = _states(sender, instance, created)
    records = _referral_records(states, created)
    if _contacts_move(states):
        records |= _contact_records(instance.pk, states)
    _write(records)


def on_referral_deleted(sender, instance, **kwargs) -> None:
    # Its events and needs are deleted first (cascade) and record themselves.
    _write(_referral_records([_values(instance, TRACKED[sender._meta.label])]))


def _event_records(states: list[dict]) -> set:
    from referrals.models import Referral, ReferralEvent

    records = set()
    ids = {s["referral_id"] for s in states}
    referrals = {
        r["pk"]: r
        for r in Referral.objects.filter(pk__in=ids).values(
            "pk", "network_id", "client_id", "sent_at", "status"
        )
    }
    for s in states:
        r = referrals.get(s["referral_id"])
        if r is None:
            continue  # the referral is being deleted: it records itself
        # Any event may stand for a change its service made with queryset.update (a
        # routing, an opening): the referral's own cells are recomputed.
        if r["sent_at"] is not None:
            records.add((r["network_id"], What.WORK, local_day(r["sent_at"]), r["client_id"]))
        if s["kind"] == ReferralEvent.Kind.CONTACT:
            records.add(
                (r["network_id"], What.CONTACT, local_day(s["occurred_at"]), r["client_id"])
            )
    return records


def on_event_saved(sender, instance, created: bool, **kwargs) -> None:
    _write(_event_records(_states(sender, instance, created)))


def on_event_deleted(sender, instance, **kwargs) -> None:
    _write(_event_records([_values(instance, TRACKED[sender._meta.label])]))


def on_referral_need_changed(sender, instance, **kwargs) -> None:
    """A referral's needs decide the SNS-E interventions of its client's screenings."""
    from referrals.models import Referral

    r = (
        Referral.objects.filter(pk=instance.referral_id)
        .values("network_id", "client_id", "sent_at")
        .first()
    )
    if r and r["sent_at"] is not None:
        _write({(r["network_id"], What.REFERRAL, local_day(r["sent_at"]), r["client_id"])})


# --- assessments ------------------------------------------------------------------------


def _assessment_records(states: list[dict]) -> set:
    from organizations.models import Organization

    counted = [s for s in states if s["status"] == "completed" and s["completed_at"] is not None]
    networks = dict(
        Organization.objects.filter(pk__in={s["organization_id"] for s in counted}).values_list(
            "pk", "network_id"
        )
    )
    return {
        (
            networks.get(s["organization_id"]),
            What.ASSESSMENT,
            local_day(s["completed_at"]),
            s["client_id"],
        )
        for s in counted
    }


def on_assessment_saved(sender, instance, created: bool, **kwargs) -> None:
    _write(_assessment_records(_states(sender, instance, created)))


def on_assessment_deleted(sender, instance, **kwargs) -> None:
    _write(_assessment_records([_values(instance, TRACKED[sender._meta.label])]))


def on_need_changed(sender, instance, **kwargs) -> None:
    from assessments.models import Assessment

    a = (
        Assessment.objects.filter(pk=instance.assessment_id)
        .values("client_id", "organization_id", "status", "completed_at")
        .first()
    )
    if a:
        _write(_assessment_records([a]))


# --- outcome results and measures -------------------------------------------------------


def _outcome_records(states: list[dict]) -> set:
    from .models import OutcomeMeasure

    networks = dict(
        OutcomeMeasure.objects.filter(pk__in={s["measure_id"] for s in states}).values_list(
            "pk", "partnership__network_id"
        )
    )
    return {
        (networks.get(s["measure_id"]), What.OUTCOME, s["observed_on"], s["client_id"])
        for s in states
    }


def on_outcome_result_saved(sender, instance, created: bool, **kwargs) -> None:
    _write(_outcome_records(_states(sender, instance, created)))


def on_outcome_result_deleted(sender, instance, **kwargs) -> None:
    _write(_outcome_records([_values(instance, TRACKED[sender._meta.label])]))


def on_outcome_measure_saved(sender, instance, created: bool, **kwargs) -> None:
    """A goal or threshold changed: every result of the measure may count otherwise."""
    if not created:
        network_id = (
            type(instance.partnership)
            .objects.filter(pk=instance.partnership_id)
            .values_list("network_id", flat=True)
            .first()
        )
        _write({(network_id, What.OUTCOME, None, None)})


# --- clients ----------------------------------------------------------------------------


def on_client_saved(sender, instance, created: bool, **kwargs) -> None:
    """The client's breakdown cells (race, language, insurance, age) may have moved."""
    states = _states(sender, instance, created)
    if len(states) == 2:
        _write({(s["network_id"], What.CLIENT, None, instance.pk) for s in states})


def client_merged(*, survivor_id: int) -> None:
    """Called on a merge (inside its transaction): the duplicate's rows moved to the
    survivor by queryset.update, so every cell of the survivor's rows is recomputed."""
    from clients.models import Client

    network_id = Client.objects.filter(pk=survivor_id).values_list("network_id", flat=True).first()
    _write({(network_id, What.CLIENT, None, survivor_id)})


def connect() -> None:
    """Connect the receivers (MetricsConfig.ready)."""
    from django.db.models.signals import post_delete, post_init, post_save

    from assessments.models import Assessment, Need
    from clients.models import Client
    from referrals.models import Referral, ReferralEvent, ReferralNeed

    from .models import OutcomeMeasure, OutcomeResult

    for model in (Referral, ReferralEvent, Assessment, OutcomeResult, Client):
        post_init.connect(remember, sender=model, dispatch_uid=f"metrics_was_{model._meta.label}")
    hooks = [
        (Referral, on_referral_saved, on_referral_deleted),
        (ReferralEvent, on_event_saved, on_event_deleted),
        (ReferralNeed, on_referral_need_changed, on_referral_need_changed),
        (Assessment, on_assessment_saved, on_assessment_deleted),
        (Need, on_need_changed, on_need_changed),
        (OutcomeResult, on_outcome_result_saved, on_outcome_result_deleted),
        (OutcomeMeasure, on_outcome_measure_saved, None),
        (Client, on_client_saved, None),
    ]
    for model, saved, deleted in hooks:
        label = model._meta.label
        post_save.connect(saved, sender=model, dispatch_uid=f"metrics_saved_{label}")
        if deleted:
            post_delete.connect(deleted, sender=model, dispatch_uid=f"metrics_deleted_{label}")
