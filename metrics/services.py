"""Writes: recomputing rollups, asking for a refresh, the partnership's entered targets.
The outcome measures' writes are in metrics/outcomes/services.py."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from organizations.models import Network, Partnership, User

from . import engine
from .models import PartnershipTarget, Rollup, RollupRun


@transaction.atomic
def rollup_run_request(*, network: Network, requested_by: User | None) -> RollupRun:
    """Queue a recomputation of the network's rollups (after this transaction commits), or
    return the one already queued or running so a double click starts one run. A run that
    has shown no sign of life for METRICS_ROLLUP_STALE_MINUTES (its message lost, its
    worker killed) is marked failed and a new one queued, so one lost run never blocks
    the refresh button or the nightly run."""
    from .tasks import rollup_run_execute

    # One request per network at a time, so two clicks cannot both find nothing pending.
    Network.objects.select_for_update().filter(pk=network.pk).first()
    pending = RollupRun.objects.pending(network.pk).first()
    if pending is not None:
        return pending
    RollupRun.objects.unfinished(network.pk).update(
        status=RollupRun.Status.FAILED, finished_at=timezone.now()
    )
    run = RollupRun.objects.create(network=network, requested_by=requested_by)
    transaction.on_commit(lambda: rollup_run_execute.delay(run.pk))
    return run


def rollup_run_execute_now(*, run_id: int) -> RollupRun:
    """Recompute one run's network: every measure, month and quarter, all at once (the
    old rows are replaced in the same transaction, so dashboards never see half a run).
    The run is claimed first: a queued run's message delivered twice computes once."""
    now = timezone.now()
    claimed = RollupRun.objects.filter(pk=run_id, status=RollupRun.Status.QUEUED).update(
        status=RollupRun.Status.RUNNING, started_at=now, touched_at=now, progress=0
    )
    run = RollupRun.objects.get(pk=run_id)
    if not claimed:
        return run

    def progress(percent: int) -> None:
        RollupRun.objects.filter(pk=run.pk).update(
            progress=min(percent, 99), touched_at=timezone.now()
        )

    # Not one transaction: the progress updates must be visible while the run works. The
    # rows of an unfinished run are never read (pages read the latest finished run).
    try:
        written = engine.recompute(
            [run.network_id], run_id=run.pk, now=timezone.now(), progress=progress
        )
    except Exception:
        Rollup.objects.filter(run_id=run.pk).delete()
        RollupRun.objects.filter(pk=run.pk).update(
            status=RollupRun.Status.FAILED, finished_at=timezone.now()
        )
        raise
    RollupRun.objects.filter(pk=run.pk).update(
        status=RollupRun.Status.DONE,
        progress=100,
        finished_at=timezone.now(),
        rows_written=written,
    )
    # The older runs' rows are no longer read.
    Rollup.objects.filter(network_id=run.network_id, run_id__lt=run.pk).delete()
    run.refresh_from_db()
    return run


def partnership_target_set(
    *, partnership: Partnership, target_population: int, monthly_cost: Decimal
) -> PartnershipTarget:
    """Record what a partnership enters for its funnel and cost measures."""
    with transaction.atomic():
        target, _ = PartnershipTarget.objects.update_or_create(
            partnership=partnership,
            defaults={
                "target_population": target_population,
                "monthly_cost": monthly_cost,
                "updated_at": timezone.now(),
            },
        )
    return target
