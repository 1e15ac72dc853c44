"""Article writes: promotion from validated answers, staff-written articles, edits, the lifecycle
(needs review, retire, unretire), merging further answers and pointing threads at an article."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from community import services as community_services
from community.audit import audit_log
from community.markdown import render_markdown
from community.models import Answer, AnswerRevision, ProductArea, Tag, User

from .. import rules
from ..models import Article, ArticleRevision, ArticleSource, Validation
from .index import _schedule_article_and_thread


def recheck_due(now: dt.datetime | None = None) -> dt.datetime:
    """When something approved at ``now`` is due for another look (PEERDESK["RECHECK_DAYS"])."""
    return (now or timezone.now()) + dt.timedelta(days=settings.PEERDESK["RECHECK_DAYS"])


def articles_for_answer(answer_id: int, *, lock: bool = False) -> list[Article]:
    """Articles that carry ``answer``'s text: as their primary source or as a merged one."""
    qs = Article.objects.filter(Q(source_answer_id=answer_id) | Q(sources__answer_id=answer_id))
    ids = list(qs.values_list("pk", flat=True).distinct())
    rows = Article.objects.filter(pk__in=ids).order_by("pk")
    return list(rows.select_for_update() if lock else rows)


def _merged_section(source: ArticleSource, body: str) -> str:
    answer = source.answer
    title = answer.question.title.replace("[", "\\[").replace("]", "\\]")
    return (
        f"### Also: {title}\n\n{body.strip()}\n\n"
        f"*Merged from [an answer by {answer.author.public_name}]({answer.get_absolute_url()}).*"
    )


def _compose_solution(
    primary_body: str, sources: Iterable[ArticleSource], bodies: dict[int, str] | None = None
) -> str:
    """The article's solution: the primary answer's text, then one section per merged answer.

    ``bodies`` overrides a source's pinned text by source id (used while re-approving).
    """
    bodies = bodies or {}
    parts = [primary_body.strip()]
    for source in sources:
        parts.append(_merged_section(source, bodies.get(source.pk, source.revision.body)))
    return "\n\n".join(parts)


def _sources_of(article: Article) -> list[ArticleSource]:
    return list(
        ArticleSource.objects.filter(article=article)
        .select_related("answer__question", "answer__author", "revision")
        .order_by("added_at", "id")
    )


def _set_solution(article: Article, solution: str) -> None:
    article.solution = solution
    article.solution_html = render_markdown(solution)


def _drifted_source_reason(sources: list[ArticleSource]) -> str:
    """Why a merged source needs a look (edited since it was merged), or ""."""
    for source in sources:
        current = source.answer.revision_count
        if current != source.revision.number:
            return (
                f"Merged answer {source.answer_id} was edited (revision {current}) since revision "
                f"{source.revision.number} was merged"
            )
    return ""


def article_promote(*, answer: Answer, revision: AnswerRevision, actor: User) -> Article:
    """Publish ``revision`` of ``answer`` as its article (creating the article on first promotion).

    A retired article stays retired (staff retired it for a reason); an answer merged into another
    article gets no article of its own (its article is reviewed in the queue). Caller holds the
    transaction and has checked permission (called from ``answer_validate``).
    """
    question = answer.question
    now = timezone.now()
    article = Article.objects.select_for_update().filter(source_answer=answer).first()
    if article is None:
        merged_into = Article.objects.filter(sources__answer=answer).order_by("pk").first()
        if merged_into is not None:
            return merged_into
    elif article.status == Article.Status.RETIRED:
        return article
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
        sources: list[ArticleSource] = []
    else:
        sources = _sources_of(article)
    _set_solution(article, _compose_solution(revision.body, sources))
    article.approved_revision = revision
    drift = _drifted_source_reason(sources)
    article.status = Article.Status.NEEDS_REVIEW if drift else Article.Status.PUBLISHED
    article.review_reason = drift[:300]
    article.published_at = now
    article.updated_at = now
    article.recheck_at = recheck_due(now)
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


def _clean_article_text(title: str, problem: str, solution: str) -> tuple[str, str, str]:
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
    return title, problem, solution


def _clean_audience(audience: str) -> str:
    if audience not in Article.Audience.values:
        raise ValidationError({"audience": "Choose public or internal."})
    return audience


@transaction.atomic
def article_create(
    *,
    author: User,
    area: ProductArea,
    title: str,
    problem: str,
    solution: str,
    audience: str = Article.Audience.INTERNAL,
    tags: Iterable[str] | str = (),
    publish: bool = True,
) -> Article:
    """A staff-written article with no source answer (e.g. an internal procedure for CSRs).

    Published (with a re-check date) or kept as a draft; first ArticleRevision, audited, indexed
    on commit. Raises PermissionDenied, ValidationError.
    """
    rules.check_create_article(author)
    title, problem, solution = _clean_article_text(title, problem, solution)
    audience = _clean_audience(audience)
    tag_names = community_services.normalize_tag_names(tags)
    now = timezone.now()
    article = Article.objects.create(
        title=title,
        problem=problem,
        problem_html=render_markdown(problem),
        solution=solution,
        solution_html=render_markdown(solution),
        area=area,
        audience=audience,
        status=Article.Status.PUBLISHED if publish else Article.Status.DRAFT,
        published_at=now if publish else None,
        recheck_at=recheck_due(now) if publish else None,
        created_at=now,
        updated_at=now,
    )
    if tag_names:
        article.tags.set([Tag.objects.get_or_create(slug=name)[0] for name in tag_names])
    _article_revision_add(
        article=article, author=author, answer_revision=None, note="Written by staff"
    )
    audit_log(
        actor=author,
        action="knowledge.article.created",
        target=article,
        data={"audience": audience, "status": article.status, "area": area.slug},
    )
    _schedule_article_and_thread(article)
    return article


@transaction.atomic
def article_edit(
    *,
    article: Article,
    editor: User,
    title: str,
    problem: str,
    solution: str,
    note: str = "",
    audience: str | None = None,
) -> Article:
    """Staff edit of an article's text (and optionally its audience); recorded as an
    ArticleRevision and audited. Raises PermissionDenied, ValidationError."""
    rules.check_edit_article(editor, article)
    title, problem, solution = _clean_article_text(title, problem, solution)
    article = Article.objects.select_for_update().get(pk=article.pk)
    audience = _clean_audience(audience) if audience else article.audience
    before = {
        "title": article.title,
        "problem": article.problem,
        "solution": article.solution,
        "audience": article.audience,
    }
    article.title, article.problem, article.solution = title, problem, solution
    article.problem_html, article.solution_html = (
        render_markdown(problem),
        render_markdown(solution),
    )
    article.audience = audience
    article.updated_at = timezone.now()
    article.save(
        update_fields=[
            "title",
            "problem",
            "solution",
            "problem_html",
            "solution_html",
            "audience",
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
            "after": {
                "title": title,
                "problem": problem,
                "solution": solution,
                "audience": audience,
            },
        },
    )
    _schedule_article_and_thread(article)
    return article


def article_mark_needs_review(
    *, article: Article, reason: str, actor: User | None, trigger: str, data: dict | None = None
) -> bool:
    """Send a published article to the review queue with ``reason`` (a no-op for any other
    status, so repeated triggers are harmless). Audited with the trigger code; re-indexed.

    Caller holds the transaction (and ideally a row lock on ``article``). Returns whether the
    status changed.
    """
    if article.status != Article.Status.PUBLISHED:
        return False
    article.status = Article.Status.NEEDS_REVIEW
    article.review_reason = reason[:300]
    article.updated_at = timezone.now()
    article.save(update_fields=["status", "review_reason", "updated_at"])
    audit_log(
        actor=actor,
        action="knowledge.article.needs_review",
        target=article,
        data={"trigger": trigger, "reason": reason, **(data or {})},
    )
    _schedule_article_and_thread(article)
    return True


def _clean_reason(reason: str, *, field: str = "reason", what: str = "why") -> str:
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise ValidationError({field: f"Say briefly {what}."})
    if len(reason) > 300:
        raise ValidationError({field: "Keep the reason under 300 characters."})
    return reason


@transaction.atomic
def article_retire(*, article: Article, actor: User, reason: str) -> Article:
    """Retire an article with a reason (e.g. "applies to v1 only"): it leaves pages and search
    for customers. Audited. Raises PermissionDenied, ValidationError."""
    rules.check_retire_article(actor, article)
    reason = _clean_reason(reason, what="why the article is retired")
    article = Article.objects.select_for_update().get(pk=article.pk)
    if article.status == Article.Status.RETIRED:
        return article
    previous = article.status
    article.status = Article.Status.RETIRED
    article.review_reason = reason
    article.updated_at = timezone.now()
    article.save(update_fields=["status", "review_reason", "updated_at"])
    audit_log(
        actor=actor,
        action="knowledge.article.retired",
        target=article,
        data={"reason": reason, "previous_status": previous},
    )
    _schedule_article_and_thread(article)
    return article


def _primary_still_validated(article: Article) -> bool:
    if article.source_answer_id is None:
        return True  # a staff-written article rests on staff authority alone
    return Validation.objects.filter(
        answer_id=article.source_answer_id,
        revision_id=article.approved_revision_id,
        status=Validation.Status.ACTIVE,
    ).exists()


@transaction.atomic
def article_unretire(*, article: Article, actor: User) -> Article:
    """Bring a retired article back: published when its approved text still holds an active
    validation (or it is staff-written), otherwise to the review queue. Audited."""
    rules.check_retire_article(actor, article)
    article = Article.objects.select_for_update().get(pk=article.pk)
    if article.status != Article.Status.RETIRED:
        raise ValidationError({"status": "Only a retired article can be brought back."})
    now = timezone.now()
    if _primary_still_validated(article):
        article.status, article.review_reason = Article.Status.PUBLISHED, ""
        article.published_at, article.recheck_at = now, recheck_due(now)
    else:
        article.status = Article.Status.NEEDS_REVIEW
        article.review_reason = (
            f"Unretired by {actor.public_name}; the approved answer revision is no longer validated"
        )[:300]
    article.updated_at = now
    article.save(
        update_fields=["status", "review_reason", "published_at", "recheck_at", "updated_at"]
    )
    audit_log(
        actor=actor,
        action="knowledge.article.unretired",
        target=article,
        data={"status": article.status},
    )
    _schedule_article_and_thread(article)
    return article


@transaction.atomic
def article_publish(*, article: Article, actor: User) -> Article:
    """Publish a staff-written draft (with a re-check date). Drafts promoted from answers are
    republished by validating the answer again. Audited. Raises PermissionDenied,
    ValidationError."""
    rules.check_edit_article(actor, article)
    article = Article.objects.select_for_update().get(pk=article.pk)
    if article.status != Article.Status.DRAFT:
        raise ValidationError({"status": "Only a draft can be published."})
    if article.source_answer_id is not None:
        raise ValidationError(
            {"status": "Validate the source answer again to republish this article."}
        )
    now = timezone.now()
    article.status, article.review_reason = Article.Status.PUBLISHED, ""
    article.published_at, article.updated_at, article.recheck_at = now, now, recheck_due(now)
    article.save(
        update_fields=["status", "review_reason", "published_at", "updated_at", "recheck_at"]
    )
    audit_log(actor=actor, action="knowledge.article.published", target=article, data={})
    _schedule_article_and_thread(article)
    return article
