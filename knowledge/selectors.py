"""Knowledge reads for pages and API, filtered by what the viewer may see."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from community.models import Answer
from community.rules import is_staff_member

from .models import Article, ArticleRevision, Validation
from .search.base import SearchFilters, SearchResults


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


def search_run(
    *,
    viewer,
    query: str,
    area: str | None = None,
    tag: str | None = None,
    type: str | None = None,  # mirrors SearchFilters.type and the ?type= parameter
    page: int = 1,
    page_size: int = 10,
) -> SearchResults:
    """Search articles and threads as ``viewer`` (``area``/``tag`` are slugs, ``type`` a DOC_TYPE).

    Customers see public documents only; staff also see internal ones. Reads the search index.
    """
    # Imported here like services.search_sync: the backend module loads lazily from settings.
    from .search import get_backend

    audiences = ("public", "internal") if is_staff_member(viewer) else ("public",)
    filters = SearchFilters(
        area=area or None, tag=tag or None, type=type or None, audiences=audiences
    )
    return get_backend().search(
        query, filters=filters, page=max(1, page), page_size=max(1, page_size)
    )


def article_list_for_threads(*, viewer, question_ids) -> QuerySet[Article]:
    """Articles promoted from the given threads that the viewer may see, oldest first (one query:
    thread pages link to them by title and need no tags)."""
    return (
        article_list(viewer=viewer)
        .filter(source_question_id__in=set(question_ids))
        .prefetch_related(None)
        .order_by("created_at", "id")
    )


def search_similar(*, viewer, text: str, limit: int = 5) -> list:
    """Articles and threads resembling ``text`` (a question being typed), as ``viewer`` may see them.

    Reads the search index; returns SearchHits.
    """
    from .search import get_backend

    audiences = ("public", "internal") if is_staff_member(viewer) else ("public",)
    return get_backend().similar(text, filters=SearchFilters(audiences=audiences), limit=limit)
