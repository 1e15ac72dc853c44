from django.urls import path

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
]
