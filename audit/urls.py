from django.urls import path

from . import views

urlpatterns = [
    path("audit/access-log/", views.access_log, name="access_log"),
    path("audit/network-activity/", views.network_activity, name="network_activity"),
]
