"""Writes: recomputing rollups, asking for a refresh, the partnership's entered targets.
The outcome measures' writes are in metrics/outcomes/services.py."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from organizations.models import Network, Partnership, User

from . import engine, incremental
from .models import PartnershipTarget, Rollup, RollupChange, RollupRun


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
    # The changes committed by now are in the data this run reads (an UPDATE marks exactly
    # the rows visible, not those a transaction still open will commit).
    RollupChange.objects.filter(network_id=run.network_id).update(covered_by_run_id=run.pk)

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
    disagreements = _compare_with_kept(run)
    RollupRun.objects.filter(pk=run.pk).update(
        status=RollupRun.Status.DONE,
        progress=100,
        finished_at=timezone.now(),
        rows_written=written,
        data_as_of=now,
        disagreements=disagreements,
    )
    # The changes this run covers are applied; those recorded meanwhile stay pending for
    # the incremental rollup (recomputing a cell again is harmless). The older runs' rows
    # are no longer read.
    RollupChange.objects.filter(covered_by_run_id=run.pk).delete()
    Rollup.objects.filter(network_id=run.network_id, run_id__lt=run.pk).delete()
    run.refresh_from_db()
    return run


def _compare_with_kept(run: RollupRun) -> int | None:
    """The safety net's report: how many cells of the full recompute differ from the
    incrementally kept rows of the run it replaces (logged by their keys, no client data),
    leaving out cells with changes still pending. None when there is no such run."""
    kept = (
        RollupRun.objects.filter(
            network_id=run.network_id, status=RollupRun.Status.DONE, pk__lt=run.pk
        )
        .order_by("-pk")
        .first()
    )
    if kept is None:
        return None
    pending = RollupChange.objects.filter(network_id=run.network_id)
    skip = incremental.plan_changes(pending.values_list("what", "day", "client_ref")).cells()
    cells = incremental.compare_runs(kept_run_id=kept.pk, full_run_id=run.pk, skip=skip)
    incremental.log_disagreements(run.network_id, run.pk, cells)
    return len(cells)


# Changes applied per transaction: a burst of edits is applied in batches, each one
# replacing its cells' rows at once.
CHANGES_PER_BATCH = 5_000


def rollup_changes_apply(*, network_id: int, batch_size: int = CHANGES_PER_BATCH) -> int | None:
    """Apply the network's pending changes to its latest finished run's rows: recompute
    only the (source, period) cells they touch and replace those cells' rows, one
    transaction per batch (pages never see half a batch). Returns the number of changes
    applied, or None when there is no finished run to apply them to or a full recompute
    is under way (its rows will hold the changes; those recorded meanwhile wait for it).
    Also moves the run's "as of" to now when nothing is pending."""
    applied = 0
    while True:
        with transaction.atomic():
            started = timezone.now()
            latest = (
                RollupRun.objects.filter(network_id=network_id, status=RollupRun.Status.DONE)
                .order_by("-finished_at", "-pk")  # the run pages read (selectors.latest_run)
                .values_list("pk", flat=True)
                .first()
            )
            # One application per network at a time: the lock is the run's row, and a tick
            # finding it held leaves the work to the holder (beat ticks never queue up).
            run = RollupRun.objects.select_for_update(skip_locked=True).filter(pk=latest).first()
            if run is None or RollupRun.objects.pending(network_id).filter(pk__gt=run.pk).exists():
                return None
            batch = list(
                RollupChange.objects.filter(network_id=network_id)
                .order_by("pk")
                .values_list("pk", "what", "day", "client_ref")[:batch_size]
            )
            if batch:
                cells = incremental.plan_changes(c[1:] for c in batch).cells()
                for (source, kind), periods in cells.items():
                    rows = Rollup.objects.filter(
                        run=run, period_kind=kind, measure__in=engine.source_measures(source)
                    )
                    if periods is not None:
                        rows = rows.filter(period_start__in=periods)
                    rows.delete()
                engine.recompute_cells(network_id, run_id=run.pk, now=started, cells=cells)
                # Exactly the changes read: one committed meanwhile stays for the next batch.
                RollupChange.objects.filter(pk__in=[c[0] for c in batch]).delete()
            RollupRun.objects.filter(pk=run.pk).update(
                data_as_of=started, changes_applied=run.changes_applied + len(batch)
            )
        applied += len(batch)
        if len(batch) < batch_size:
            return applied


def rollup_refresh_request(*, network: Network, requested_by: User | None) -> RollupRun | None:
    """The dashboard's refresh: apply the recorded changes now (in the background, the
    incremental path). Only a network with no finished run yet gets a full recompute,
    returned so the page can show its progress."""
    from .tasks import rollup_incremental

    if not RollupRun.objects.filter(network=network, status=RollupRun.Status.DONE).exists():
        return rollup_run_request(network=network, requested_by=requested_by)
    transaction.on_commit(lambda: rollup_incremental.delay(network.pk))
    return None


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
