from django.urls import path

from . import views

urlpatterns = [
    path("network/reminders/", views.reminder_rules, name="reminder_rules"),
    path(
        "network/reminders/partnerships/<int:partnership_id>/",
        views.reminder_partnership_rules,
        name="reminder_partnership_rules",
    ),
    path(
        "network/reminders/holidays/<int:holiday_id>/delete/",
        views.holiday_delete,
        name="network_holiday_delete",
    ),
    path("referrals/stalled/", views.stalled_referrals, name="stalled_referrals"),
    path(
        "notifications/preferences/",
        views.notification_preferences,
        name="notification_preferences",
    ),
]
