"""Multi-source articles: merging further validated answers into an article, and pointing
threads at the article that now answers them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from community.audit import audit_log
from community.models import Answer, Question, User

from .. import rules
from ..indexing import article_doc_id, question_doc_id, schedule_index
from ..models import Article, ArticleSource, QuestionCoverage, Validation
from .articles import _article_revision_add, _compose_solution, _set_solution, _sources_of
from .index import _schedule_article_and_thread


def _set_coverage(*, question: Question, article: Article, actor: User) -> QuestionCoverage:
    coverage, _ = QuestionCoverage.objects.update_or_create(
        question=question,
        defaults={"article": article, "set_by": actor, "set_at": timezone.now()},
    )
    audit_log(
        actor=actor,
        action="knowledge.question.covered",
        target=question,
        data={"article": article.pk},
    )
    return coverage


@transaction.atomic
def question_cover(*, question: Question, article: Article, actor: User) -> QuestionCoverage:
    """Point a thread at the article that now answers it (the thread shows a banner). Audited.
    Raises PermissionDenied, ValidationError (the article is not visible)."""
    rules.check_merge_article(actor, article)
    if not article.is_visible:
        raise ValidationError({"article": "Point threads only at a published article."})
    coverage = _set_coverage(question=question, article=article, actor=actor)
    schedule_index([question_doc_id(question.pk)])
    return coverage


@transaction.atomic
def question_uncover(*, question: Question, actor: User) -> None:
    """Remove a thread's "answered by the knowledge base" pointer. Audited."""
    coverage = QuestionCoverage.objects.select_for_update().filter(question=question).first()
    if coverage is None:
        return
    rules.check_merge_article(actor, coverage.article)
    coverage.delete()
    audit_log(
        actor=actor,
        action="knowledge.question.uncovered",
        target=question,
        data={"article": coverage.article_id},
    )
    schedule_index([question_doc_id(question.pk)])


@transaction.atomic
def article_source_add(*, article: Article, answer: Answer, actor: User) -> ArticleSource:
    """Merge another validated answer (from any thread) into ``article``.

    The answer's validated revision is appended to the solution as a section (new
    ArticleRevision); the answer's own article, if any, is retired as merged; its thread points
    at ``article``. Audited. Raises PermissionDenied, ValidationError.
    """
    rules.check_merge_article(actor, article)
    article = Article.objects.select_for_update().get(pk=article.pk)
    answer = Answer.objects.select_related("question", "author").get(pk=answer.pk)
    if article.source_answer_id is None:
        raise ValidationError(
            {"article": "Answers can be merged only into an article promoted from an answer."}
        )
    if article.status == Article.Status.RETIRED:
        raise ValidationError({"article": "Bring the article back before merging into it."})
    if answer.pk == article.source_answer_id or article.sources.filter(answer=answer).exists():
        raise ValidationError({"answer": "This answer is already a source of the article."})
    validation = (
        Validation.objects.filter(answer=answer, status=Validation.Status.ACTIVE)
        .select_related("revision")
        .order_by("-created_at")
        .first()
    )
    if validation is None:
        raise ValidationError({"answer": "Only a validated answer can be merged into an article."})
    source = ArticleSource.objects.create(
        article=article, answer=answer, revision=validation.revision, added_by=actor
    )
    sources = _sources_of(article)
    _set_solution(article, _compose_solution(article.approved_revision.body, sources))
    article.updated_at = timezone.now()
    article.save(update_fields=["solution", "solution_html", "updated_at"])
    _article_revision_add(
        article=article,
        author=actor,
        answer_revision=validation.revision,
        note=f"Merged answer {answer.pk} (revision {validation.revision.number}) "
        f"from “{answer.question.title}”",
    )
    audit_log(
        actor=actor,
        action="knowledge.article.source_added",
        target=article,
        data={
            "answer": answer.pk,
            "revision": validation.revision.number,
            "question": answer.question_id,
        },
    )
    own = Article.objects.select_for_update().filter(source_answer=answer).first()
    if own is not None and own.status != Article.Status.RETIRED:
        own.status = Article.Status.RETIRED
        own.review_reason = f"Merged into “{article.title}”"[:300]
        own.updated_at = timezone.now()
        own.save(update_fields=["status", "review_reason", "updated_at"])
        audit_log(
            actor=actor,
            action="knowledge.article.retired",
            target=own,
            data={"reason": own.review_reason, "merged_into": article.pk},
        )
        schedule_index([article_doc_id(own.pk)])
    if answer.question_id != article.source_question_id:
        _set_coverage(question=answer.question, article=article, actor=actor)
        schedule_index([question_doc_id(answer.question_id)])
    _schedule_article_and_thread(article)
    return source
