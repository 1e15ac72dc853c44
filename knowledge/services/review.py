"""The review queue: triggers that send articles to review (score drop, re-check date) and the
reviewer's actions (re-approve the current text, keep the approved text)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from community.audit import audit_log
from community.models import Answer, User

from .. import rules
from ..models import Article
from .articles import (
    _article_revision_add,
    _compose_solution,
    _set_solution,
    _sources_of,
    article_mark_needs_review,
    articles_for_answer,
    recheck_due,
)
from .index import _schedule_article_and_thread
from .validation import _current_revision, validation_record


def _lock_for_review(article: Article, reviewer: User) -> Article:
    rules.check_review_article(reviewer, article)
    article = Article.objects.select_for_update().get(pk=article.pk)
    if article.status != Article.Status.NEEDS_REVIEW:
        raise ValidationError({"status": "This article is not waiting for review."})
    return article


@transaction.atomic
def article_review_reapprove(*, article: Article, reviewer: User, note: str = "") -> Article:
    """Re-approve an article in review at its sources' *current* text: the reviewer validates
    each source answer's current revision, the solution is rebuilt and published with a new
    re-check date. Audited. Raises PermissionDenied (e.g. the reviewer wrote a source answer),
    ValidationError."""
    article = _lock_for_review(article, reviewer)
    note = (note or "").strip()[:300]
    previous_reason = article.review_reason
    sources = _sources_of(article)
    approved = None
    if article.source_answer_id is not None:
        answers = [article.source_answer_id, *(s.answer_id for s in sources)]
        locked = {
            a.pk: a
            for a in Answer.objects.select_for_update()
            .select_related("question__area")
            .filter(pk__in=answers)
        }
        for answer in locked.values():
            rules.check_validate_answer(reviewer, answer)
        primary = locked[article.source_answer_id]
        approved = _current_revision(primary)
        validation_record(answer=primary, validator=reviewer, note=note, revision=approved)
        for source in sources:
            current = _current_revision(locked[source.answer_id])
            validation_record(
                answer=locked[source.answer_id], validator=reviewer, note=note, revision=current
            )
            source.revision = current
            source.save(update_fields=["revision"])
        article.approved_revision = approved
        _set_solution(article, _compose_solution(approved.body, sources))
    now = timezone.now()
    article.status, article.review_reason = Article.Status.PUBLISHED, ""
    article.published_at, article.updated_at, article.recheck_at = now, now, recheck_due(now)
    article.save()
    _article_revision_add(
        article=article,
        author=reviewer,
        answer_revision=approved,
        note=f"Re-approved in review{': ' + note if note else ''}",
    )
    audit_log(
        actor=reviewer,
        action="knowledge.article.reapproved",
        target=article,
        data={
            "previous_reason": previous_reason,
            "revision": approved.number if approved else None,
            "note": note,
        },
    )
    _schedule_article_and_thread(article)
    return article


@transaction.atomic
def article_review_keep(*, article: Article, reviewer: User, note: str = "") -> Article:
    """Keep an article in review as it is: the approved revisions stay published (later edits
    to the answers are not taken) and the re-check date moves on. Audited."""
    article = _lock_for_review(article, reviewer)
    note = (note or "").strip()[:300]
    previous_reason = article.review_reason
    now = timezone.now()
    article.status, article.review_reason = Article.Status.PUBLISHED, ""
    article.updated_at, article.recheck_at = now, recheck_due(now)
    article.save(update_fields=["status", "review_reason", "updated_at", "recheck_at"])
    audit_log(
        actor=reviewer,
        action="knowledge.article.review_kept",
        target=article,
        data={
            "previous_reason": previous_reason,
            "approved_revision": article.approved_revision.number
            if article.approved_revision_id
            else None,
            "recheck_at": article.recheck_at.isoformat(),
            "note": note,
        },
    )
    _schedule_article_and_thread(article)
    return article


@transaction.atomic
def answer_score_changed_check(*, answer: Answer, score: int, previous_score: int) -> int:
    """When votes take a source answer below PEERDESK["REVIEW_BELOW_SCORE"], its articles go to
    review. Only the crossing counts, so further down-votes do not undo a reviewer's decision.
    Returns how many articles changed status."""
    threshold = settings.PEERDESK["REVIEW_BELOW_SCORE"]
    if not (previous_score >= threshold > score):
        return 0
    changed = 0
    for article in articles_for_answer(answer.pk, lock=True):
        changed += article_mark_needs_review(
            article=article,
            reason=f"Source answer {answer.pk} dropped to a score of {score} (below {threshold})",
            actor=None,
            trigger="score_dropped",
            data={"answer": answer.pk, "score": score, "threshold": threshold},
        )
    return changed


@transaction.atomic
def articles_recheck_due(*, now: dt.datetime | None = None) -> int:
    """Send published articles whose re-check date has passed to review. Idempotent (only
    published articles move). Returns how many moved."""
    now = now or timezone.now()
    due = Article.objects.select_for_update().filter(
        status=Article.Status.PUBLISHED, recheck_at__lte=now
    )
    changed = 0
    for article in due:
        changed += article_mark_needs_review(
            article=article,
            reason=f"Re-check date passed ({article.recheck_at:%d %b %Y})",
            actor=None,
            trigger="recheck_due",
            data={"recheck_at": article.recheck_at.isoformat()},
        )
    return changed


@transaction.atomic
def answer_hidden_send_to_review(*, answer: Answer, actor: User | None) -> int:
    """A moderator (or the flag threshold) hid a source answer: its published articles go to
    review so a person decides whether the text still stands. Returns how many changed."""
    changed = 0
    for article in articles_for_answer(answer.pk, lock=True):
        changed += article_mark_needs_review(
            article=article,
            reason=f"Source answer {answer.pk} was hidden by moderation",
            actor=actor,
            trigger="answer_hidden",
            data={"answer": answer.pk},
        )
    return changed
