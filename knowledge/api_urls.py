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
    path("similar/", api.SimilarView.as_view(), name="similar"),
    path("answers/<int:pk>/standing/", api.AnswerStandingView.as_view(), name="answer-standing"),
    path(
        "questions/<int:pk>/standings/",
        api.QuestionStandingsView.as_view(),
        name="question-standings",
    ),
    path("answers/<int:pk>/correct/", api.AnswerCorrectView.as_view(), name="answer-correct"),
    path(
        "corrections/<int:pk>/reverse/",
        api.CorrectionReverseView.as_view(),
        name="correction-reverse",
    ),
    path("articles/<int:pk>/retire/", api.ArticleRetireView.as_view(), name="article-retire"),
    path("articles/<int:pk>/unretire/", api.ArticleUnretireView.as_view(), name="article-unretire"),
    path("articles/<int:pk>/review/", api.ArticleReviewView.as_view(), name="article-review"),
    path("articles/<int:pk>/sources/", api.ArticleSourcesView.as_view(), name="article-sources"),
    path("review/", api.ReviewQueueView.as_view(), name="review-queue"),
    path("questions/<int:pk>/covered-by/", api.QuestionCoverView.as_view(), name="question-cover"),
    path("agent/search/", api.AgentSearchView.as_view(), name="agent-search"),
    path("agent/search/click/", api.AgentSearchClickView.as_view(), name="agent-search-click"),
    path(
        "agent/articles/<int:pk>/usage/",
        api.AgentArticleUsageView.as_view(),
        name="agent-article-usage",
    ),
    path("agent/recent/", api.AgentRecentView.as_view(), name="agent-recent"),
]
