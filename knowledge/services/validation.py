"""Validating answers, revoking validations, and keeping validations honest when answers change
or a validator's certification ends."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from community import notifications, ratelimit
from community import services as community_services
from community.audit import audit_log
from community.models import Answer, AnswerRevision, Certification, User
from community.rules import is_moderator

from .. import rules
from ..models import Article, CertificationLapse, Validation
from .articles import (
    article_mark_needs_review,
    article_promote,
    articles_for_answer,
    recheck_due,
)
from .index import _schedule_article_and_thread


def _current_revision(answer: Answer) -> AnswerRevision:
    revision = answer.revisions.order_by("-number").first()
    if revision is None:  # imported or legacy rows always get one, but never validate nothing
        revision = AnswerRevision.objects.create(
            answer=answer, number=1, body=answer.body, author=answer.author
        )
    return revision


def validation_record(
    *, answer: Answer, validator: User, note: str = "", revision: AnswerRevision | None = None
) -> Validation:
    """Record ``validator``'s validation of ``answer``'s current revision (no permission check,
    no promotion: callers do both). Validations flagged for re-check on the answer count as
    re-checked. Caller holds the transaction and a lock on the answer."""
    revision = revision or _current_revision(answer)
    existing = Validation.objects.filter(
        answer=answer, validator=validator, status=Validation.Status.ACTIVE
    ).first()
    if existing and existing.revision_id == revision.pk:
        return existing  # validating the same revision twice changes nothing
    if existing:
        existing.status = Validation.Status.STALE
        existing.save(update_fields=["status"])
    now = timezone.now()
    validation = Validation.objects.create(
        answer=answer,
        revision=revision,
        validator=validator,
        note=note,
        as_staff=is_moderator(validator),
        created_at=now,
        recheck_at=recheck_due(now),
    )
    rechecked = list(
        Validation.objects.filter(answer=answer, status=Validation.Status.NEEDS_RECHECK)
        .exclude(validator=validator)
        .values_list("pk", flat=True)
    )
    if rechecked:
        Validation.objects.filter(pk__in=rechecked).update(status=Validation.Status.RECHECKED)
    audit_log(
        actor=validator,
        action="knowledge.answer.validated",
        target=answer,
        data={
            "validation": validation.pk,
            "revision": revision.number,
            "note": note,
            "rechecked": rechecked,
        },
    )
    community_services.answer_set_validated(answer=answer, validated=True)
    return validation


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
    revision = _current_revision(answer)
    existing = Validation.objects.filter(
        answer=answer, validator=validator, status=Validation.Status.ACTIVE, revision=revision
    ).first()
    if existing:
        return existing
    validation = validation_record(answer=answer, validator=validator, note=note, revision=revision)
    article_promote(answer=answer, revision=revision, actor=validator)
    notifications.notify_answer_validated(answer=answer, validator=validator)
    return validation


@transaction.atomic
def validation_revoke(*, validation: Validation, actor: User, reason: str) -> Validation:
    """Revoke a validation. When the answer has no active validation left, its own article is
    unpublished (back to draft) and removed from search; otherwise, and for articles the answer
    was merged into, the article goes to review. Audited."""
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
    review_reason = f"A validation of answer {answer.pk} was revoked: {reason}"
    for article in articles_for_answer(answer.pk, lock=True):
        is_primary = article.source_answer_id == answer.pk
        if is_primary and not still_valid:
            # Revoking the last validation unpublishes: nobody vouches for the text any more.
            if article.status in Article.VISIBLE_STATUSES:
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
        else:
            article_mark_needs_review(
                article=article,
                reason=review_reason,
                actor=actor,
                trigger="validation_revoked",
                data={"validation": validation.pk},
            )
    return validation


def answer_edited_mark_stale(*, answer: Answer, revision: AnswerRevision, editor: User) -> None:
    """React to an answer edit: its active validations go stale and every article carrying its
    text needs review.

    Articles keep the validated text until a reviewer re-approves. Runs inside the edit's
    transaction (called by the ``answer_edited`` receiver).
    """
    stale = list(
        Validation.objects.select_for_update()
        .filter(answer=answer, status=Validation.Status.ACTIVE)
        .values_list("pk", flat=True)
    )
    if stale:
        Validation.objects.filter(pk__in=stale).update(status=Validation.Status.STALE)
        community_services.answer_set_validated(answer=answer, validated=False)
    for article in articles_for_answer(answer.pk, lock=True):
        approved = (
            article.approved_revision.number
            if article.source_answer_id == answer.pk
            else article.sources.get(answer=answer).revision.number
        )
        article_mark_needs_review(
            article=article,
            reason=f"Source answer edited (revision {revision.number}) by {editor.public_name}",
            actor=editor,
            trigger="answer_edited",
            data={
                "answer": answer.pk,
                "revision": revision.number,
                "approved_revision": approved,
            },
        )


def _lapse_reason(cert: Certification, cause: str) -> str:
    when = (cert.revoked_at if cause == "revoked" else cert.expires_at) or timezone.now()
    return (
        f"{cert.user.public_name}'s certification for {cert.area.name} {cause} on "
        f"{when:%d %b %Y}; the validation needs a re-check by another validator"
    )


@transaction.atomic
def certification_lapse_process(
    *, certification: Certification, cause: str, now: dt.datetime | None = None
) -> CertificationLapse:
    """Flag the validations made under an ended certification for re-check and send their
    articles to review. Idempotent: a certification is processed once (CertificationLapse).

    Validations made as staff, or while the member holds another active certification for the
    same area (a renewal), stay trusted. Audited per flagged validation and article.
    """
    now = now or timezone.now()
    cert = (
        Certification.objects.select_for_update()
        .select_related("user", "area")
        .get(pk=certification.pk)
    )
    lapse, created = CertificationLapse.objects.get_or_create(
        certification=cert, defaults={"cause": cause, "processed_at": now}
    )
    if not created:
        return lapse
    renewed = Certification.objects.filter(
        Certification.active_q(now=now), user=cert.user, area=cert.area
    ).exists()
    if renewed:
        return lapse
    flagged = list(
        Validation.objects.select_for_update()
        .filter(
            validator=cert.user,
            status=Validation.Status.ACTIVE,
            as_staff=False,
            answer__question__area=cert.area,
            # Validations from before this term were covered by an earlier certification.
            created_at__gte=cert.granted_at,
        )
        .select_related("answer")
    )
    reason = _lapse_reason(cert, cause)
    for validation in flagged:
        validation.status = Validation.Status.NEEDS_RECHECK
        validation.flagged_at = now
        validation.flag_reason = reason[:300]
        validation.save(update_fields=["status", "flagged_at", "flag_reason"])
        audit_log(
            actor=None,
            action="knowledge.validation.flagged",
            target=validation.answer,
            data={"validation": validation.pk, "certification": cert.pk, "cause": cause},
        )
    for answer_id in sorted({v.answer_id for v in flagged}):
        answer = next(v.answer for v in flagged if v.answer_id == answer_id)
        if not Validation.objects.filter(
            answer_id=answer_id, status=Validation.Status.ACTIVE
        ).exists():
            community_services.answer_set_validated(answer=answer, validated=False)
        for article in articles_for_answer(answer_id, lock=True):
            article_mark_needs_review(
                article=article,
                reason=f"Validator's certification {cause}: {cert.user.public_name} "
                f"({cert.area.name}); validation needs a re-check",
                actor=None,
                trigger="certification_ended",
                data={"certification": cert.pk, "answer": answer_id, "cause": cause},
            )
    lapse.flagged_count = len(flagged)
    lapse.save(update_fields=["flagged_count"])
    return lapse


def certification_lapses_process(*, now: dt.datetime | None = None) -> int:
    """Process every ended certification knowledge has not handled yet (expired since the last
    run, or revoked while the receiver could not run). Returns how many were processed."""
    now = now or timezone.now()
    pending = (
        Certification.objects.filter(knowledge_lapse__isnull=True)
        .exclude(Certification.active_q(now=now))
        .order_by("pk")
    )
    count = 0
    for cert in pending:
        cause = "revoked" if cert.revoked_at else "expired"
        certification_lapse_process(certification=cert, cause=cause, now=now)
        count += 1
    return count
