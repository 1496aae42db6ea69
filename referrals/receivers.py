def on_release_ended(sender, release_id: int, **kwargs) -> None:
    """A revoked release puts the open referrals that depended on it on hold at once."""
    from .services import referrals_hold_for_release

    referrals_hold_for_release(release_id)
