from django.urls import path

from . import api

urlpatterns = [
    path("answers/<int:pk>/validate/", api.AnswerValidateView.as_view(), name="answer-validate"),
    path(
        "validations/<int:pk>/revoke/",
        api.ValidationRevokeView.as_view(),
        name="validation-revoke",
    ),
    path("articles/", api.ArticleListView.as_view(), name="article-list"),
    path("articles/<int:pk>/", api.ArticleDetailView.as_view(), name="article-detail"),
    path("search/", api.SearchView.as_view(), name="search"),
]
