"""Articles as the viewer may see them: lists and pages with their provenance, revisions and
their diffs, merged sources, and the queue of articles waiting for review."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from community.models import Answer
from community.rules import is_staff_member

from .. import rules
from ..diffs import FieldDiff, diff_fields, diff_lines
from ..models import Article, ArticleRevision, ArticleSource, Validation


def article_list(*, viewer, area=None, tag=None) -> QuerySet[Article]:
    """Articles the viewer may read: published (or in review) public ones for everyone; all,
    internal included, for staff (CSRs, moderators, admins)."""
    qs = Article.objects.select_related("area", "source_question").prefetch_related("tags")
    if not is_staff_member(viewer):
        qs = qs.filter(status__in=Article.VISIBLE_STATUSES)
    if not rules.can_view_internal_articles(viewer):
        # Customers never see internal articles, in any status (see rules.can_view_article).
        qs = qs.filter(audience=Article.Audience.PUBLIC)
    if area is not None:
        qs = qs.filter(area=area)
    if tag is not None:
        qs = qs.filter(tags=tag)
    return qs


def article_get(*, viewer, pk: int) -> Article:
    """One article with its provenance (404 when missing or not visible to the viewer)."""
    qs = (
        article_list(viewer=viewer)
        .select_related(
            "source_answer__author",
            "source_answer__question__author",
            "approved_revision",
            "source_question__author",
        )
        .prefetch_related(
            Prefetch(
                "source_answer__validations",
                queryset=Validation.objects.select_related("validator", "revision").order_by(
                    "-created_at"
                ),
            ),
            Prefetch(
                "sources",
                queryset=ArticleSource.objects.select_related(
                    "answer__author", "answer__question", "revision", "added_by"
                ),
            ),
        )
    )
    return get_object_or_404(qs, pk=pk)


def article_revisions(*, article: Article) -> QuerySet[ArticleRevision]:
    return article.revisions.select_related("author", "answer_revision").order_by("-number")


def article_sources(*, article: Article) -> list[ArticleSource]:
    """An article's merged answers (beyond the primary), oldest first."""
    return list(
        article.sources.select_related(
            "answer__author", "answer__question", "revision", "added_by"
        ).order_by("added_at", "id")
    )


@dataclass(frozen=True)
class ReviewSourceDiff:
    """How one source answer moved since the revision the article publishes."""

    answer: Answer
    approved_number: int
    current_number: int
    lines: tuple


@dataclass(frozen=True)
class ReviewItem:
    article: Article
    diffs: tuple[ReviewSourceDiff, ...]


def review_queue(*, viewer) -> list[ReviewItem]:
    """Articles waiting for review, oldest change first, each with the diff of every source
    answer between its approved revision and its current text (a fixed number of queries).

    Raises PermissionDenied unless the viewer may see the queue.
    """
    rules.check_view_review_queue(viewer)
    articles = list(
        Article.objects.filter(status=Article.Status.NEEDS_REVIEW)
        .select_related("area", "source_answer__question", "approved_revision")
        .prefetch_related(
            Prefetch(
                "sources",
                queryset=ArticleSource.objects.select_related("answer__question", "revision"),
            )
        )
        .order_by("updated_at", "id")
    )
    items = []
    for article in articles:
        pairs = []
        if article.source_answer_id:
            pairs.append((article.source_answer, article.approved_revision))
        pairs.extend((source.answer, source.revision) for source in article.sources.all())
        diffs = tuple(
            ReviewSourceDiff(
                answer=answer,
                approved_number=revision.number,
                current_number=answer.revision_count,
                lines=diff_lines(revision.body, answer.body),
            )
            for answer, revision in pairs
        )
        items.append(ReviewItem(article=article, diffs=diffs))
    return items


def article_revision_diff(
    *, viewer, article: Article, from_number: int, to_number: int
) -> tuple[ArticleRevision, ArticleRevision, list[FieldDiff]]:
    """Two revisions of ``article`` and the diff of title, problem and solution between them.

    Raises PermissionDenied unless the viewer may see the history; Http404 for a missing number.
    """
    rules.check_view_article_history(viewer, article)
    revisions = {
        r.number: r
        for r in article.revisions.select_related("author").filter(
            number__in={from_number, to_number}
        )
    }
    if from_number not in revisions or to_number not in revisions:
        raise Http404("No such revision.")
    before, after = revisions[from_number], revisions[to_number]
    fields = ("title", "problem", "solution")
    return (
        before,
        after,
        diff_fields(
            {name: getattr(before, name) for name in fields},
            {name: getattr(after, name) for name in fields},
        ),
    )


def article_list_with_sources(*, viewer, area=None, tag=None) -> QuerySet[Article]:
    """``article_list`` with what ``standings_for_articles`` needs joined in (API lists)."""
    return article_list(viewer=viewer, area=area, tag=tag).select_related(
        "source_answer", "source_question__author"
    )
