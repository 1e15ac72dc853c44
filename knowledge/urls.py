from django.urls import path

from . import views

app_name = "knowledge"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("similar/", views.similar, name="similar"),
    path("articles/<int:pk>/", views.article_short, name="article_short"),
    path("articles/<int:pk>-<slug:slug>/", views.article, name="article"),
    path("articles/<int:pk>/edit/", views.article_edit, name="article_edit"),
    path("articles/<int:pk>/revisions/", views.article_revisions, name="article_revisions"),
    path("answers/<int:pk>/validate/", views.validate, name="validate"),
    path("validations/<int:pk>/revoke/", views.revoke, name="revoke"),
]
