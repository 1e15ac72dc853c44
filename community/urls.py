from django.urls import path, register_converter

from . import expert_program_views, routing_views, views


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
    path("questions/<int:pk>/urgent/", views.question_urgent, name="question_urgent"),
    path("answers/<int:pk>/edit/", views.answer_edit, name="answer_edit"),
    path("answers/<int:pk>/revisions/", views.answer_revisions, name="answer_revisions"),
    path("answers/<int:pk>/accept/", views.accept, name="accept"),
    path("answers/<int:pk>/unaccept/", views.unaccept, name="unaccept"),
    path("vote/<post_kind:kind>/<int:pk>/", views.vote, name="vote"),
    path("comments/<post_kind:kind>/<int:pk>/", views.comment, name="comment"),
    path("users/<str:username>/", views.profile, name="profile"),
    path("experts/", routing_views.directory, name="experts"),
    path("experts/inbox/", routing_views.inbox, name="expert_inbox"),
    path(
        "experts/inbox/validate/",
        expert_program_views.validation_inbox,
        name="validation_inbox",
    ),
    path("experts/apply/", expert_program_views.apply, name="expert_apply"),
    # Before staff/experts/<username>/, which would otherwise take "program" for a username.
    path("staff/experts/program/", expert_program_views.program, name="expert_program"),
    path(
        "staff/experts/program/nominate/",
        expert_program_views.nominate,
        name="expert_nominate",
    ),
    path(
        "staff/experts/applications/<int:pk>/review/",
        expert_program_views.review,
        name="expert_application_review",
    ),
    path(
        "staff/experts/certifications/<int:pk>/renew/",
        expert_program_views.renew,
        name="certification_renew",
    ),
    path("experts/me/", routing_views.expert_profile_edit, name="expert_profile_edit"),
    path(
        "experts/directed/<int:pk>/decline/",
        routing_views.directed_decline,
        name="directed_decline",
    ),
    path(
        "experts/directed/<int:pk>/forward/",
        routing_views.directed_forward,
        name="directed_forward",
    ),
    path("questions/<int:pk>/rate/", routing_views.rate, name="rate"),
    path("leaderboard/", routing_views.leaderboard, name="leaderboard"),
    path("staff/experts/<str:username>/", routing_views.expert_report, name="expert_report"),
    path("settings/profile/", views.profile_edit, name="profile_edit"),
]
