from django.urls import path

from . import views

app_name = "knowledge"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("similar/", views.similar, name="similar"),
    path("search/click/", views.search_click, name="search_click"),
    path("search/gaps/", views.search_gaps, name="search_gaps"),
    path("articles/<int:pk>/", views.article_short, name="article_short"),
    path("articles/<int:pk>-<slug:slug>/", views.article, name="article"),
    path("articles/<int:pk>/edit/", views.article_edit, name="article_edit"),
    path("articles/<int:pk>/revisions/", views.article_revisions, name="article_revisions"),
    path("answers/<int:pk>/validate/", views.validate, name="validate"),
    path("validations/<int:pk>/revoke/", views.revoke, name="revoke"),
    path("answers/<int:pk>/correct/", views.correct, name="correct"),
    path("corrections/<int:pk>/reverse/", views.correction_reverse, name="correction_reverse"),
    path("articles/new/", views.article_new, name="article_new"),
    path("articles/<int:pk>/diff/", views.article_diff, name="article_diff"),
    path("articles/<int:pk>/retire/", views.article_retire, name="article_retire"),
    path("articles/<int:pk>/unretire/", views.article_unretire, name="article_unretire"),
    path("articles/<int:pk>/publish/", views.article_publish, name="article_publish"),
    path("articles/<int:pk>/review/", views.article_review, name="article_review"),
    path("articles/<int:pk>/sources/", views.article_source_add, name="article_source_add"),
    path("review/", views.review_queue, name="review_queue"),
    path("agent/", views.agent_console, name="agent_console"),
]
