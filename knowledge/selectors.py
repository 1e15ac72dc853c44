"""Knowledge reads for pages and API, filtered by what the viewer may see."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from community.models import Answer
from community.rules import is_staff_member

from .models import Article, ArticleRevision, Validation


def article_list(*, viewer, area=None, tag=None) -> QuerySet[Article]:
    """Articles the viewer may read: published (or in review) for everyone; all for staff."""
    qs = Article.objects.select_related("area", "source_question").prefetch_related("tags")
    if not is_staff_member(viewer):
        qs = qs.filter(status__in=Article.VISIBLE_STATUSES)
    if area is not None:
        qs = qs.filter(area=area)
    if tag is not None:
        qs = qs.filter(tags=tag)
    return qs


def article_get(*, viewer, pk: int) -> Article:
    """One article with its provenance (404 when missing or not visible to the viewer)."""
    qs = (
        article_list(viewer=viewer)
        .select_related("source_answer__author", "approved_revision", "source_question__author")
        .prefetch_related(
            Prefetch(
                "source_answer__validations",
                queryset=Validation.objects.select_related("validator", "revision").order_by(
                    "-created_at"
                ),
            )
        )
    )
    return get_object_or_404(qs, pk=pk)


def article_revisions(*, article: Article) -> QuerySet[ArticleRevision]:
    return article.revisions.select_related("author", "answer_revision").order_by("-number")


def validations_by_answer(*, answers: list[Answer]) -> dict[int, list[Validation]]:
    """Active and stale validations of ``answers`` (one query), newest first, keyed by answer id."""
    result: dict[int, list[Validation]] = defaultdict(list)
    qs = (
        Validation.objects.filter(answer__in=[a.pk for a in answers])
        .exclude(status=Validation.Status.REVOKED)
        .select_related("validator", "revision")
        .order_by("-created_at")
    )
    for validation in qs:
        result[validation.answer_id].append(validation)
    return result


def articles_by_answer(*, viewer, answers: list[Answer]) -> dict[int, Article]:
    """The article each answer was promoted into, if the viewer may see it (one query)."""
    qs = article_list(viewer=viewer).filter(source_answer__in=[a.pk for a in answers])
    return {article.source_answer_id: article for article in qs}


def validation_get(*, pk: int) -> Validation:
    return get_object_or_404(
        Validation.objects.select_related("answer__question", "validator"), pk=pk
    )
