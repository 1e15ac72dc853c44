"""The one mapping from database rows to search documents.

Doc ids are ``"article:<pk>"`` and ``"question:<pk>"``. Visible articles and visible threads (with
their visible answers) are indexable; anything else maps to ``None`` (the sync deletes it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count, Exists, F, Max, OuterRef, Prefetch, Q, QuerySet

from community.markdown import html_to_text
from community.models import Answer, PostStatus, Question
from community.routing import private_question_ids_q

from ..indexing import article_doc_id, question_doc_id
from ..models import AnswerCorrection, Article, Validation
from .base import TIERS, SearchDocument

MAX_SOLUTION_CHARS = 20_000


TIER_ACCEPTED, TIER_ENDORSED, TIER_EXPERT, TIER_STAFF = (
    TIERS.index(name) for name in ("accepted", "endorsed", "validated_expert", "validated_staff")
)


def _active_validations(answer_ref: str, **extra) -> Exists:
    return Exists(
        Validation.objects.filter(
            answer=OuterRef(answer_ref), status=Validation.Status.ACTIVE, **extra
        )
    )


def _article_queryset() -> QuerySet[Article]:
    # Ranking signals ride along as annotations: no extra query per batch.
    return (
        Article.objects.filter(status__in=Article.VISIBLE_STATUSES)
        .select_related("area", "source_question")
        .prefetch_related("tags")
        .annotate(
            signal_staff=_active_validations("source_answer", as_staff=True),
            signal_validated=_active_validations("source_answer"),
            signal_votes=F("source_answer__score"),
            signal_usage=Count("usages", distinct=True),
        )
    )


def _article_tier(article: Article) -> int:
    """Staff validation or a staff-written article (no source answer) → staff; an expert
    validation → expert; an article whose validation went stale (in review) still passed one
    validation once → endorsed."""
    if article.signal_staff or not article.source_answer_id:
        return TIER_STAFF
    if article.signal_validated:
        return TIER_EXPERT
    return TIER_ENDORSED


def _answer_tier(answer: Answer, accepted_id: int | None, endorse_score: int) -> int:
    if answer.signal_corrected:  # not recommended or obsolete: earns nothing
        return 0
    if answer.signal_staff:
        return TIER_STAFF
    if answer.validated_at:
        return TIER_EXPERT
    if answer.score >= endorse_score:
        return TIER_ENDORSED
    return TIER_ACCEPTED if answer.pk == accepted_id else 0


def _question_queryset() -> QuerySet[Question]:
    # Pending and hidden posts are for their author and staff only: never in the index.
    answers = (
        Answer.objects.filter(status=PostStatus.VISIBLE)
        .only("id", "question_id", "body_html", "score", "validated_at", "created_at", "updated_at")
        .annotate(
            signal_staff=_active_validations("pk", as_staff=True),
            signal_corrected=Exists(
                AnswerCorrection.objects.filter(answer=OuterRef("pk"), reversed_at__isnull=True)
            ),
        )
        .order_by("-score", "created_at", "id")
    )
    # Private directed questions are for their asker, experts and staff: never indexed.
    return (
        Question.objects.filter(status=PostStatus.VISIBLE)
        .exclude(private_question_ids_q())
        .select_related("area")
        .prefetch_related("tags", Prefetch("answers", queryset=answers))
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
        source_url=article.source_question.source_url if article.source_question_id else "",
        # Internal articles are filtered out of customer searches by this field.
        audience=article.audience,
        tier=_article_tier(article),
        votes=article.signal_votes or 0,
        usage=article.signal_usage,
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
        # A hidden accepted answer is not in the document, so the thread does not claim one.
        type="thread_accepted" if accepted else "thread",
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
        tier=max(
            (
                _answer_tier(a, question.accepted_answer_id, settings.PEERDESK["ENDORSE_SCORE"])
                for a in answers
            ),
            default=0,
        ),
        # How many people had the problem plus how good its best answer is.
        votes=question.score + max((a.score for a in answers), default=0),
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
        + Question.objects.filter(status=PostStatus.VISIBLE)
        .exclude(private_question_ids_q())
        .count()
    )


def all_doc_versions() -> dict[str, dt.datetime]:
    """Every doc id that belongs in the index with the ``updated_at`` its document carries."""
    versions: dict[str, dt.datetime] = {
        article_doc_id(pk): updated_at
        for pk, updated_at in Article.objects.filter(
            status__in=Article.VISIBLE_STATUSES
        ).values_list("pk", "updated_at")
    }
    threads = (
        Question.objects.filter(status=PostStatus.VISIBLE)
        .exclude(private_question_ids_q())
        .annotate(
            answers_updated_at=Max(
                "answers__updated_at", filter=Q(answers__status=PostStatus.VISIBLE)
            )
        )
        .values_list("pk", "updated_at", "answers_updated_at")
    )
    for pk, updated_at, answers_updated_at in threads:
        versions[question_doc_id(pk)] = thread_updated_at(updated_at, answers_updated_at)
    return versions


def all_doc_ids() -> set[str]:
    """Ids of every document that should be in the index (for verify_index)."""
    return set(all_doc_versions())
