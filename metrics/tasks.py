"""Background work of the metrics app: the nightly rollup and refreshes asked for."""

from celery import shared_task

from organizations.models import Network

from .models import RollupRun
from .services import rollup_changes_apply, rollup_run_execute_now, rollup_run_request


@shared_task(ignore_result=True)
def rollup_run_execute(run_id: int) -> None:
    """Recompute one queued run (the id only). A run already done is left alone."""
    if RollupRun.objects.filter(pk=run_id).exists():
        rollup_run_execute_now(run_id=run_id)


@shared_task(ignore_result=True)
def rollup_nightly() -> None:
    """Beat runs this each night: one run per network."""
    for network in Network.objects.order_by("pk"):
        rollup_run_request(network=network, requested_by=None)


@shared_task(ignore_result=True)
def rollup_incremental(network_id: int | None = None) -> None:
    """Beat runs this every minute: apply each network's recorded changes to its rollup
    rows (or one network's, when the dashboard's refresh asks). Safe to run twice at once:
    a network's application holds its run's row lock."""
    networks = Network.objects.order_by("pk").values_list("pk", flat=True)
    if network_id is not None:
        networks = networks.filter(pk=network_id)
    for pk in networks:
        rollup_changes_apply(network_id=pk)
