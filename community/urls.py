from django.urls import path, register_converter

from . import views


class PostKindConverter:
    """``question`` or ``answer``: the two kinds of post that take votes and comments."""

    regex = "question|answer"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(PostKindConverter, "post_kind")

app_name = "community"
urlpatterns = [
    path("", views.home, name="home"),
    path("areas/<slug:slug>/", views.area, name="area"),
    path("tags/<slug:slug>/", views.tag, name="tag"),
    path("unanswered/", views.unanswered, name="unanswered"),
    path("ask/", views.ask, name="ask"),
    path("questions/<int:pk>/", views.question_detail, name="question"),
    path("questions/<int:pk>/answer/", views.answer_create, name="answer"),
    path("questions/<int:pk>/edit/", views.question_edit, name="question_edit"),
    path("questions/<int:pk>/revisions/", views.question_revisions, name="question_revisions"),
    path("answers/<int:pk>/edit/", views.answer_edit, name="answer_edit"),
    path("answers/<int:pk>/revisions/", views.answer_revisions, name="answer_revisions"),
    path("answers/<int:pk>/accept/", views.accept, name="accept"),
    path("answers/<int:pk>/unaccept/", views.unaccept, name="unaccept"),
    path("vote/<post_kind:kind>/<int:pk>/", views.vote, name="vote"),
    path("comments/<post_kind:kind>/<int:pk>/", views.comment, name="comment"),
    path("users/<str:username>/", views.profile, name="profile"),
    path("settings/profile/", views.profile_edit, name="profile_edit"),
]
