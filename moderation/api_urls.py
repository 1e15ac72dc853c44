from django.urls import path

from . import api

urlpatterns = [
    path("questions/<int:pk>/flag/", api.QuestionFlagView.as_view(), name="question-flag"),
    path("answers/<int:pk>/flag/", api.AnswerFlagView.as_view(), name="answer-flag"),
]
