"""What outreach does when apps below it announce something (connected in apps.py)."""

from __future__ import annotations


def on_release_link_created(sender, link_id: int, url: str, channel: str, **kwargs) -> None:
    """A release link was made for the client to sign on their phone: send it to them, by
    the channel staff chose. The link goes into the stored message body only (never into a
    task argument or a log)."""
    from consent.models import ConsentLink

    from .models import Message
    from .services import message_queue

    link = (
        ConsentLink.objects.select_related("client", "organization", "created_by")
        .filter(pk=link_id)
        .first()
    )
    if link is None:
        return
    message_queue(
        client=link.client,
        organization=link.organization,
        kind=Message.Kind.RELEASE_LINK,
        context={"url": url, "channel": channel, "key": f"link-{link.pk}"},
        user=link.created_by,
    )


def on_client_merged(sender, survivor_id: int, duplicate_id: int, **kwargs) -> dict[str, int]:
    """Two client records are one person (clients.services.client_merge, inside its
    transaction): the duplicate's messages, replies and reports now belong to the survivor.
    Of two contact preferences the survivor's stays, but the stricter choice wins: a
    do-not-contact or a STOP on either record holds for the person."""
    from .models import ClientReport, ContactPreference, InboundMessage, Message

    moved = {
        "outreach_messages": Message.objects.filter(client_id=duplicate_id).update(
            client_id=survivor_id
        ),
        "outreach_replies": InboundMessage.objects.filter(client_id=duplicate_id).update(
            client_id=survivor_id
        ),
        "outreach_reports": ClientReport.objects.filter(client_id=duplicate_id).update(
            client_id=survivor_id
        ),
    }
    preferences = {
        p.client_id: p
        for p in ContactPreference.objects.select_for_update().filter(
            client_id__in=[survivor_id, duplicate_id]
        )
    }
    theirs, ours = preferences.get(duplicate_id), preferences.get(survivor_id)
    if theirs is None:
        return moved
    if ours is None:
        theirs.client_id = survivor_id
        theirs.save(update_fields=["client"])
        moved["outreach_preferences"] = 1
        return moved
    if theirs.do_not_contact and not ours.do_not_contact:
        ours.do_not_contact, ours.do_not_contact_at = True, theirs.do_not_contact_at
    if theirs.text_opt_out_at and ours.phone == theirs.phone and ours.text_opt_out_at is None:
        ours.text_opt_out_at = theirs.text_opt_out_at
    ours.save(update_fields=["do_not_contact", "do_not_contact_at", "text_opt_out_at"])
    theirs.delete()
    return moved
