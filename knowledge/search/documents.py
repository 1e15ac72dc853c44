"""The one mapping from database rows to search documents.

Doc ids are ``"article:<pk>"`` and ``"question:<pk>"``. Visible articles and every thread are
indexable; anything else maps to ``None`` (the sync deletes it from the index).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Max, Prefetch, QuerySet

from community.markdown import html_to_text
from community.models import Answer, Question

from ..indexing import article_doc_id, question_doc_id
from ..models import Article
from .base import SearchDocument

MAX_SOLUTION_CHARS = 20_000


def _article_queryset() -> QuerySet[Article]:
    return (
        Article.objects.filter(status__in=Article.VISIBLE_STATUSES)
        .select_related("area", "source_question")
        .prefetch_related("tags")
    )


def _question_queryset() -> QuerySet[Question]:
    answers = Answer.objects.only(
        "id", "question_id", "body_html", "score", "created_at", "updated_at"
    ).order_by("-score", "created_at", "id")
    return Question.objects.select_related("area").prefetch_related(
        "tags", Prefetch("answers", queryset=answers)
    )


def _tag_slugs(obj: Article | Question) -> tuple[str, ...]:
    return tuple(sorted(tag.slug for tag in obj.tags.all()))


def thread_updated_at(question_updated_at: dt.datetime, answers_updated_at: dt.datetime | None):
    """A thread document changes when the question or any answer does."""
    if answers_updated_at is None:
        return question_updated_at
    return max(question_updated_at, answers_updated_at)


def _article_document(article: Article) -> SearchDocument:
    return SearchDocument(
        id=article_doc_id(article.pk),
        type="article",
        title=article.title,
        problem=html_to_text(article.problem_html),
        solution=html_to_text(article.solution_html),
        tags=_tag_slugs(article),
        area=article.area.slug,
        url=article.get_absolute_url(),
        updated_at=article.updated_at,
        # Articles promoted from imported threads keep their CC BY-SA attribution link.
        source_url=article.source_question.source_url,
        audience="public",
    )


def _thread_document(question: Question) -> SearchDocument:
    answers = list(question.answers.all())  # prefetched, best score first
    accepted = [a for a in answers if a.pk == question.accepted_answer_id]
    ordered = accepted + [a for a in answers if a.pk != question.accepted_answer_id]
    parts: list[str] = []
    length = 0
    for answer in ordered:
        if length >= MAX_SOLUTION_CHARS:
            break
        text = html_to_text(answer.body_html)[: MAX_SOLUTION_CHARS - length]
        if text:
            parts.append(text)
            length += len(text) + 2
    return SearchDocument(
        id=question_doc_id(question.pk),
        type="thread_accepted" if question.accepted_answer_id else "thread",
        title=question.title,
        problem=html_to_text(question.body_html),
        solution="\n\n".join(parts),
        tags=_tag_slugs(question),
        area=question.area.slug,
        url=question.get_absolute_url(),
        updated_at=thread_updated_at(
            question.updated_at, max((a.updated_at for a in answers), default=None)
        ),
        source_url=question.source_url,
        audience="public",
    )


def _parse_doc_id(doc_id: str) -> tuple[str, int] | None:
    kind, _, pk = (doc_id or "").partition(":")
    if kind not in ("article", "question") or not pk.isdigit():
        return None
    return kind, int(pk)


def document_for(doc_id: str) -> SearchDocument | None:
    """The document ``doc_id`` should be indexed as, or None when it must not be in the index
    (unknown id, deleted row, article not visible)."""
    parsed = _parse_doc_id(doc_id)
    if parsed is None:
        return None
    kind, pk = parsed
    if kind == "article":
        article = _article_queryset().filter(pk=pk).first()
        return _article_document(article) if article else None
    question = _question_queryset().filter(pk=pk).first()
    return _thread_document(question) if question else None


def _chunked(qs: QuerySet, batch_size: int) -> Iterator[list]:
    """Keyset pagination by pk: constant memory and each batch's prefetches in a few queries."""
    last_pk = 0
    while True:
        batch = list(qs.filter(pk__gt=last_pk).order_by("pk")[:batch_size])
        if not batch:
            return
        yield batch
        last_pk = batch[-1].pk


def iter_documents(batch_size: int = 500) -> Iterator[SearchDocument]:
    """Every indexable document: articles first, then threads. A few queries per batch."""
    for articles in _chunked(_article_queryset(), batch_size):
        yield from (_article_document(article) for article in articles)
    for questions in _chunked(_question_queryset(), batch_size):
        yield from (_thread_document(question) for question in questions)


def count_documents() -> int:
    """How many documents ``iter_documents`` yields (for progress reporting)."""
    return (
        Article.objects.filter(status__in=Article.VISIBLE_STATUSES).count()
        + Question.objects.count()
    )


def all_doc_versions() -> dict[str, dt.datetime]:
    """Every doc id that belongs in the index with the ``updated_at`` its document carries."""
    versions: dict[str, dt.datetime] = {
        article_doc_id(pk): updated_at
        for pk, updated_at in Article.objects.filter(
            status__in=Article.VISIBLE_STATUSES
        ).values_list("pk", "updated_at")
    }
    threads = Question.objects.annotate(answers_updated_at=Max("answers__updated_at")).values_list(
        "pk", "updated_at", "answers_updated_at"
    )
    for pk, updated_at, answers_updated_at in threads:
        versions[question_doc_id(pk)] = thread_updated_at(updated_at, answers_updated_at)
    return versions


def all_doc_ids() -> set[str]:
    """Ids of every document that should be in the index (for verify_index)."""
    return set(all_doc_versions())
