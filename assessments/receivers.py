"""What assessments does when apps below it announce a change."""


def on_client_merged(sender, survivor_id: int, duplicate_id: int, **kwargs) -> dict[str, int]:
    """Two client records are one person (clients.services.client_merge, inside its
    transaction): the duplicate's assessments (with their answers and needs) now belong to
    the survivor. Nothing is unique per client, so nothing can clash."""
    from .models import Assessment

    moved = Assessment.objects.select_for_update().filter(client_id=duplicate_id)
    return {"assessments": moved.update(client_id=survivor_id)}
