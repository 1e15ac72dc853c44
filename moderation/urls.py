from django.urls import include, path

from . import views

app_name = "moderation"
urlpatterns = [
    path("", views.home, name="home"),
    path("audit/", views.audit_log, name="audit_log"),
    path("certifications/", views.certifications, name="certifications"),
    path(
        "certifications/<int:pk>/revoke/",
        views.certification_revoke,
        name="certification_revoke",
    ),
    # Moderation (issue 4)
    path("audit.csv", views.audit_csv, name="audit_csv"),
    path("queue/", views.queue, name="queue"),
    path("queue/bulk/", views.queue_bulk, name="queue_bulk"),
    path(
        "flags/<int:pk>/<str:action>/",
        views.flag_action,
        name="flag_action",
    ),
    path("posts/<str:kind>/<int:pk>/", views.post_moderate, name="post"),
    path("members/<str:username>/", views.member, name="member"),
    # Protocols, assignment and "my queue" (issue 4)
    path("", include("moderation.protocols.urls")),
]
