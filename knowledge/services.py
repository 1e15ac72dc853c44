"""Every knowledge write: validating answers, promoting them into articles, keeping articles
honest when their source changes, and syncing the search index."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from community import ratelimit
from community import services as community_services
from community.audit import audit_log
from community.markdown import render_markdown
from community.models import Answer, AnswerRevision, User
from community.rules import is_moderator

from . import rules
from .indexing import article_doc_id, question_doc_id, schedule_index
from .models import Article, ArticleRevision, SearchIndexOutbox, Validation

logger = logging.getLogger(__name__)


def _schedule_article_and_thread(article: Article) -> None:
    schedule_index([article_doc_id(article.pk), question_doc_id(article.source_question_id)])


@transaction.atomic
def answer_validate(*, answer: Answer, validator: User, note: str = "") -> Validation:
    """Validate the current revision of ``answer`` and promote it into the knowledge base.

    Creates or refreshes the answer's Article (new ArticleRevision, status published), audits both
    steps and schedules indexing on commit. Raises PermissionDenied, ValidationError, RateLimited.
    """
    answer = Answer.objects.select_for_update().select_related("question__area").get(pk=answer.pk)
    rules.check_validate_answer(validator, answer)
    note = (note or "").strip()
    if len(note) > 500:
        raise ValidationError({"note": "Keep the note under 500 characters."})
    ratelimit.consume(user=validator, kind="validate")
    revision = answer.revisions.order_by("-number").first()
    if revision is None:  # imported or legacy rows always get one, but never validate nothing
        revision = AnswerRevision.objects.create(
            answer=answer, number=1, body=answer.body, author=answer.author
        )
    existing = Validation.objects.filter(
        answer=answer, validator=validator, status=Validation.Status.ACTIVE
    ).first()
    if existing and existing.revision_id == revision.pk:
        return existing  # validating the same revision twice changes nothing
    if existing:
        existing.status = Validation.Status.STALE
        existing.save(update_fields=["status"])
    validation = Validation.objects.create(
        answer=answer,
        revision=revision,
        validator=validator,
        note=note,
        as_staff=is_moderator(validator),
    )
    audit_log(
        actor=validator,
        action="knowledge.answer.validated",
        target=answer,
        data={"validation": validation.pk, "revision": revision.number, "note": note},
    )
    community_services.answer_set_validated(answer=answer, validated=True)
    article_promote(answer=answer, revision=revision, actor=validator)
    return validation


def article_promote(*, answer: Answer, revision: AnswerRevision, actor: User) -> Article:
    """Publish ``revision`` of ``answer`` as its article (creating the article on first promotion).

    Caller holds the transaction and has checked permission (called from ``answer_validate``).
    """
    question = answer.question
    now = timezone.now()
    article = Article.objects.select_for_update().filter(source_answer=answer).first()
    created = article is None
    if created:
        article = Article(
            title=question.title,
            problem=question.body,
            problem_html=question.body_html,
            area=question.area,
            source_question=question,
            source_answer=answer,
            created_at=now,
        )
    article.solution = revision.body
    article.solution_html = render_markdown(revision.body)
    article.approved_revision = revision
    article.status = Article.Status.PUBLISHED
    article.review_reason = ""
    article.published_at = now
    article.updated_at = now
    article.save()
    if created:
        article.tags.set(question.tags.all())
    _article_revision_add(
        article=article,
        author=actor,
        answer_revision=revision,
        note="Promoted from validated answer"
        if created
        else f"Re-approved answer revision {revision.number}",
    )
    audit_log(
        actor=actor,
        action="knowledge.article.promoted" if created else "knowledge.article.republished",
        target=article,
        data={"answer": answer.pk, "revision": revision.number},
    )
    _schedule_article_and_thread(article)
    return article


def _article_revision_add(
    *, article: Article, author: User, answer_revision: AnswerRevision | None, note: str
) -> ArticleRevision:
    number = (
        article.revisions.order_by("-number").values_list("number", flat=True).first() or 0
    ) + 1
    return ArticleRevision.objects.create(
        article=article,
        number=number,
        title=article.title,
        problem=article.problem,
        solution=article.solution,
        answer_revision=answer_revision,
        author=author,
        note=note[:300],
    )


@transaction.atomic
def validation_revoke(*, validation: Validation, actor: User, reason: str) -> Validation:
    """Revoke a validation. When the answer has no active validation left, its article is
    unpublished (back to draft) and removed from search. Audited."""
    validation = (
        Validation.objects.select_for_update().select_related("answer").get(pk=validation.pk)
    )
    rules.check_revoke_validation(actor, validation)
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise ValidationError({"reason": "Say briefly why the validation is revoked."})
    if validation.status == Validation.Status.REVOKED:
        return validation
    validation.status = Validation.Status.REVOKED
    validation.revoked_at, validation.revoked_by, validation.revoke_reason = (
        timezone.now(),
        actor,
        reason[:500],
    )
    validation.save(update_fields=["status", "revoked_at", "revoked_by", "revoke_reason"])
    audit_log(
        actor=actor,
        action="knowledge.validation.revoked",
        target=validation.answer,
        data={"validation": validation.pk, "reason": reason},
    )
    answer = validation.answer
    still_valid = Validation.objects.filter(answer=answer, status=Validation.Status.ACTIVE).exists()
    if not still_valid:
        community_services.answer_set_validated(answer=answer, validated=False)
        article = Article.objects.select_for_update().filter(source_answer=answer).first()
        if article and article.status != Article.Status.DRAFT:
            article.status = Article.Status.DRAFT
            article.review_reason = f"Validation revoked: {reason}"[:300]
            article.updated_at = timezone.now()
            article.save(update_fields=["status", "review_reason", "updated_at"])
            audit_log(
                actor=actor,
                action="knowledge.article.unpublished",
                target=article,
                data={"reason": reason},
            )
            _schedule_article_and_thread(article)
    return validation


def answer_edited_mark_stale(*, answer: Answer, revision: AnswerRevision, editor: User) -> None:
    """React to an answer edit: its active validations go stale and its article needs review.

    The article keeps the validated text until a validator re-approves. Runs inside the edit's
    transaction (called by the ``answer_edited`` receiver).
    """
    stale = list(
        Validation.objects.select_for_update().filter(
            answer=answer, status=Validation.Status.ACTIVE
        )
    )
    if not stale:
        return
    Validation.objects.filter(pk__in=[v.pk for v in stale]).update(status=Validation.Status.STALE)
    community_services.answer_set_validated(answer=answer, validated=False)
    article = Article.objects.select_for_update().filter(source_answer=answer).first()
    if article and article.status == Article.Status.PUBLISHED:
        article.status = Article.Status.NEEDS_REVIEW
        article.review_reason = (
            f"Source answer edited (revision {revision.number}) by {editor.public_name}"[:300]
        )
        article.updated_at = timezone.now()
        article.save(update_fields=["status", "review_reason", "updated_at"])
        audit_log(
            actor=editor,
            action="knowledge.article.needs_review",
            target=article,
            data={
                "answer": answer.pk,
                "revision": revision.number,
                "approved_revision": article.approved_revision.number,
            },
        )
        _schedule_article_and_thread(article)


@transaction.atomic
def article_edit(
    *, article: Article, editor: User, title: str, problem: str, solution: str, note: str = ""
) -> Article:
    """Staff edit of an article's text; recorded as an ArticleRevision and audited."""
    rules.check_edit_article(editor, article)
    errors = {}
    title, problem, solution = (
        (title or "").strip(),
        (problem or "").strip(),
        (solution or "").strip(),
    )
    if not 10 <= len(title) <= 200:
        errors["title"] = "A title has 10 to 200 characters."
    if len(problem) < 10:
        errors["problem"] = "Describe the problem in at least 10 characters."
    if len(solution) < 10:
        errors["solution"] = "Write a solution of at least 10 characters."
    if errors:
        raise ValidationError(errors)
    article = Article.objects.select_for_update().get(pk=article.pk)
    before = {"title": article.title, "problem": article.problem, "solution": article.solution}
    article.title, article.problem, article.solution = title, problem, solution
    article.problem_html, article.solution_html = (
        render_markdown(problem),
        render_markdown(solution),
    )
    article.updated_at = timezone.now()
    article.save(
        update_fields=[
            "title",
            "problem",
            "solution",
            "problem_html",
            "solution_html",
            "updated_at",
        ]
    )
    _article_revision_add(
        article=article, author=editor, answer_revision=None, note=note or "Edited by staff"
    )
    audit_log(
        actor=editor,
        action="knowledge.article.edited",
        target=article,
        data={
            "before": before,
            "after": {"title": title, "problem": problem, "solution": solution},
        },
    )
    _schedule_article_and_thread(article)
    return article


def search_sync(*, doc_ids: Iterable[str]) -> None:
    """Bring the index in line with the database for ``doc_ids`` and clear their outbox rows.

    Idempotent: each document is re-read; present and visible → upsert, otherwise → delete.
    """
    from .search import get_backend
    from .search.documents import document_for

    doc_ids = list(dict.fromkeys(doc_ids))
    if not doc_ids:
        return
    started_at = timezone.now()
    backend = get_backend()
    upserts, deletes = [], []
    for doc_id in doc_ids:
        doc = document_for(doc_id)
        (upserts.append(doc) if doc is not None else deletes.append(doc_id))
    if deletes:
        backend.delete(deletes)
    if upserts:
        backend.upsert(upserts)
    # Rows touched after this sync began describe a newer change: leave them for the next sync.
    SearchIndexOutbox.objects.filter(doc_id__in=doc_ids, created_at__lte=started_at).delete()


def search_outbox_pending(*, older_than_seconds: int = 0, limit: int = 500) -> list[str]:
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    return list(
        SearchIndexOutbox.objects.filter(created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("doc_id", flat=True)[:limit]
    )


def thread_changed_schedule_index(*, question_id: int) -> None:
    """A thread's content changed: re-index the thread (its article text is pinned, unchanged)."""
    schedule_index([question_doc_id(question_id)])


def threads_imported_schedule_index(*, question_ids: Iterable[int]) -> None:
    """Re-index threads created or changed by a bulk import, in one batch."""
    schedule_index([question_doc_id(pk) for pk in question_ids])
