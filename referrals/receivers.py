def on_release_ended(sender, release_id: int, **kwargs) -> None:
    """A revoked release puts the open referrals that depended on it on hold at once."""
    from .services import referrals_hold_for_release

    referrals_hold_for_release(release_id)


def on_client_merged(sender, survivor_id: int, duplicate_id: int, **kwargs) -> dict[str, int]:
    """Two client records are one person (clients.services.client_merge, inside its
    transaction): the duplicate's referrals (with their events, notes and outcomes, which
    hang on the referral) now belong to the survivor. Both records with an open referral to
    the same program would break the one-open-referral guard: the merge is refused, naming
    the referrals, and a person closes one first (closing it for them would be a decision
    about someone's service that a merge must not make)."""
    from django.core.exceptions import ValidationError

    from .models import Referral
    from .workflow import OPEN

    referrals = Referral.objects.select_for_update().filter(client_id=duplicate_id)
    mine = list(referrals.values_list("pk", "program_id", "status"))
    open_programs = {program for _, program, status in mine if status in OPEN and program}
    clashes = (
        Referral.objects.filter(
            client_id=survivor_id, status__in=OPEN, program_id__in=open_programs
        )
        .values_list("program_id", flat=True)
        .distinct()
    )
    clashes = set(clashes)
    if clashes:
        numbers = sorted(
            pk for pk, program, status in mine if status in OPEN and program in clashes
        )
        both = sorted(
            Referral.objects.filter(
                client_id=survivor_id, status__in=OPEN, program_id__in=clashes
            ).values_list("pk", flat=True)
        )
        raise ValidationError(
            "Both records have an open referral to the same program (referrals "
            + ", ".join(f"#{n}" for n in sorted([*numbers, *both]))
            + "): close or cancel one of them, then merge."
        )
    return {"referrals": referrals.update(client_id=survivor_id)}
