from django.urls import path

from . import api, routing_api

urlpatterns = [
    path("auth/token/", api.TokenObtainView.as_view(), name="auth-token"),
    path("areas/", api.AreaListView.as_view(), name="area-list"),
    path("experts/", routing_api.ExpertListView.as_view(), name="expert-list"),
    path("questions/", api.QuestionListView.as_view(), name="question-list"),
    path("questions/<int:pk>/", api.QuestionDetailView.as_view(), name="question-detail"),
    path("questions/<int:pk>/answers/", api.QuestionAnswersView.as_view(), name="question-answers"),
    path("questions/<int:pk>/vote/", api.QuestionVoteView.as_view(), name="question-vote"),
    path("answers/<int:pk>/", api.AnswerDetailView.as_view(), name="answer-detail"),
    path("answers/<int:pk>/vote/", api.AnswerVoteView.as_view(), name="answer-vote"),
    path("answers/<int:pk>/accept/", api.AnswerAcceptView.as_view(), name="answer-accept"),
]
