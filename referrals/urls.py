from django.urls import include, path

from . import views

urlpatterns = [
    path("referrals/inbox/", views.referral_inbox, name="referral_inbox"),
    path("referrals/sent/", views.referral_sent, name="referral_sent"),
    path("referrals/log/", views.referral_log_inbound, name="referral_log_inbound"),
    path("clients/<int:client_id>/referrals/new/", views.referral_new, name="referral_new"),
    path("referrals/<int:referral_id>/", views.referral_detail, name="referral_detail"),
    path("referrals/<int:referral_id>/move/", views.referral_move, name="referral_move"),
    path("referrals/<int:referral_id>/notes/", views.referral_note, name="referral_note"),
    path("referrals/<int:referral_id>/contacts/", views.referral_contact, name="referral_contact"),
    path(
        "referrals/<int:referral_id>/appointment/",
        views.referral_appointment,
        name="referral_appointment",
    ),
    path("referrals/<int:referral_id>/assign/", views.referral_assign, name="referral_assign"),
    path("referrals/<int:referral_id>/onward/", views.referral_onward, name="referral_onward"),
    # The backbone routes a referral it received to a program ("assign to a program").
    path("referrals/<int:referral_id>/route/", views.referral_route, name="referral_route"),
    path("notifications/", views.notification_list, name="notification_list"),
    path(
        "notifications/<int:notification_id>/read/",
        views.notification_read,
        name="notification_read",
    ),
    path("notifications/bell/", views.notification_bell, name="notification_bell"),
    path("notifications/read-all/", views.notification_read_all, name="notification_read_all"),
    # Reminders: the network's rules, stalled referrals, email preferences.
    path("", include("referrals.reminders.urls")),
]
