"""What metrics does when apps below it announce a change."""

from django.utils import timezone


def on_client_merged(
    sender, survivor_id: int, duplicate_id: int, actor_id: int, **kwargs
) -> dict[str, int]:
    """Two client records are one person (clients.services.client_merge, inside its
    transaction): the duplicate's outcome results now belong to the survivor. A result for
    the same measure and day as one of the survivor's is the same observation counted
    twice: it is kept, marked entered in error (not counted), so the person counts once.
    Rollups count distinct clients from the rows themselves, so the next run counts the
    person once without anything else done here."""
    from .models import OutcomeResult

    results = OutcomeResult.objects.select_for_update().filter(client_id=duplicate_id)
    taken = OutcomeResult.objects.counted().filter(client_id=survivor_id)
    twice = results.counted().filter(
        measure_id__in=taken.values("measure_id"), observed_on__in=taken.values("observed_on")
    )
    # Narrow to exact (measure, day) pairs: the two IN lists above may cross-match.
    pairs = set(taken.values_list("measure_id", "observed_on"))
    ids = [
        pk for pk, m, d in twice.values_list("pk", "measure_id", "observed_on") if (m, d) in pairs
    ]
    OutcomeResult.objects.filter(pk__in=ids).update(
        entered_in_error_at=timezone.now(), entered_in_error_by_id=actor_id
    )
    moved = results.update(client_id=survivor_id)
    # The duplicate's referrals, screenings and results now count for the survivor.
    from .changes import client_merged

    client_merged(survivor_id=survivor_id)
    return {"outcome_results": moved}
