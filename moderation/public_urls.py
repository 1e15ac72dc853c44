"""Member-facing moderation pages (flagging), mounted at /flags/; staff pages are in urls.py."""

from django.urls import path

from . import views

app_name = "flags"
urlpatterns = [
    path("<str:kind>/<int:pk>/", views.flag_create, name="create"),
]
