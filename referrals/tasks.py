"""Background delivery for referrals. Tasks take ids only (never client data)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone

from .models import Notification


@shared_task(acks_late=True, ignore_result=True)
def deliver_notification_email(notification_id: int) -> bool:
    """Email one notification, at most once: the row is claimed with a conditional UPDATE
    before sending, so a task delivered twice (acks_late, a retried message) sends once."""
    claimed = Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )
    if not claimed:
        return False
    notification = Notification.objects.select_related("user").get(pk=notification_id)
    if not notification.user.is_active or not notification.user.email:
        return False
    link = ""
    if notification.referral_id:
        link = (
            f"\n\n{settings.SITE_URL}{reverse('referral_detail', args=[notification.referral_id])}"
        )
    send_mail(
        subject=f"Linkage: {notification.message}"[:150],
        message=f"{notification.message}{link}\n\nSign in to Linkage to see the details.",
        from_email=None,
        recipient_list=[notification.user.email],
    )
    return True
