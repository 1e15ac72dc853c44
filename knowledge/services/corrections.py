"""Correcting an answer with an alternative: "not recommended" (or "obsolete") with a reason and
a validated recommended answer, and a moderator's reversal."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from community import ratelimit
from community import services as community_services
from community.audit import audit_log
from community.models import Answer, User
from community.rules import is_moderator

from .. import rules
from ..models import AnswerCorrection, Validation
from .articles import article_mark_needs_review, article_promote, articles_for_answer
from .validation import _current_revision, validation_record


def _clean_correction_input(
    *, kind: str, reason: str, alternative: Answer | None, alternative_body: str
) -> tuple[str, str]:
    errors: dict[str, str] = {}
    if kind not in AnswerCorrection.Kind.values:
        errors["kind"] = "Choose “not recommended” or “obsolete”."
    reason = (reason or "").strip()
    if len(reason) < 3:
        errors["reason"] = "Say briefly why the answer is not recommended."
    elif len(reason) > 500:
        errors["reason"] = "Keep the reason under 500 characters."
    alternative_body = (alternative_body or "").strip()
    if alternative is not None and alternative_body:
        errors["alternative"] = "Point to an existing answer or write a new one, not both."
    elif kind == AnswerCorrection.Kind.NOT_RECOMMENDED and not (alternative or alternative_body):
        errors["alternative"] = (
            "Point to the recommended answer in this thread or write it (it is validated in the "
            "same step)."
        )
    if errors:
        raise ValidationError(errors)
    return reason, alternative_body


def _validate_alternative(*, alternative: Answer, corrector: User, written_now: bool) -> None:
    """The alternative ends up validated: by the corrector, or already by someone else."""
    if written_now or rules.can_validate_answer(corrector, alternative):
        # An alternative the corrector writes in this step is validated by them: the correction
        # itself is the expert act, audited as such (the own-answer rule guards drive-by
        # self-validation, which this is not).
        revision = _current_revision(alternative)
        validation_record(
            answer=alternative,
            validator=corrector,
            note="Recommended alternative",
            revision=revision,
        )
        article_promote(answer=alternative, revision=revision, actor=corrector)
        return
    if not Validation.objects.filter(answer=alternative, status=Validation.Status.ACTIVE).exists():
        raise PermissionDenied(
            "You cannot validate that answer (it is yours): point to another answer or write "
            "the recommended one."
        )


@transaction.atomic
def answer_correct(
    *,
    answer: Answer,
    corrector: User,
    reason: str,
    kind: str = AnswerCorrection.Kind.NOT_RECOMMENDED,
    alternative: Answer | None = None,
    alternative_body: str = "",
) -> AnswerCorrection:
    """Mark ``answer`` not recommended (or obsolete) with ``reason``, pointing to ``alternative``
    in the same thread or to a new answer written from ``alternative_body`` by the corrector;
    the alternative is validated in the same step. Articles carrying ``answer`` go to review.

    Audited as ``knowledge.answer.corrected``. Raises PermissionDenied, ValidationError,
    RateLimited.
    """
    answer = Answer.objects.select_for_update().select_related("question__area").get(pk=answer.pk)
    rules.check_correct_answer(corrector, answer)
    reason, alternative_body = _clean_correction_input(
        kind=kind, reason=reason, alternative=alternative, alternative_body=alternative_body
    )
    if alternative is not None:
        alternative = (
            Answer.objects.select_for_update()
            .select_related("question__area")
            .get(pk=alternative.pk)
        )
        if alternative.question_id != answer.question_id or alternative.pk == answer.pk:
            raise ValidationError(
                {"alternative": "Choose another answer in the same thread as the alternative."}
            )
    if AnswerCorrection.objects.filter(answer=answer, reversed_at__isnull=True).exists():
        raise ValidationError(
            {"answer": "This answer is already marked; a moderator can reverse that first."}
        )
    ratelimit.consume(user=corrector, kind="validate")
    written_now = False
    if alternative_body:
        try:
            alternative = community_services.answer_create(
                question=answer.question, author=corrector, body=alternative_body
            )
        except ValidationError as exc:
            raise ValidationError(
                {"alternative_body": exc.message_dict.get("body", exc.messages)}
            ) from exc
        written_now = True
    if alternative is not None:
        _validate_alternative(alternative=alternative, corrector=corrector, written_now=written_now)
    correction = AnswerCorrection.objects.create(
        answer=answer,
        kind=kind,
        reason=reason,
        alternative=alternative,
        corrector=corrector,
        as_staff=is_moderator(corrector),
    )
    audit_log(
        actor=corrector,
        action="knowledge.answer.corrected",
        target=answer,
        data={
            "correction": correction.pk,
            "kind": kind,
            "reason": reason,
            "alternative": alternative.pk if alternative else None,
            "alternative_written": written_now,
        },
    )
    label = AnswerCorrection.Kind(kind).label
    for article in articles_for_answer(answer.pk, lock=True):
        article_mark_needs_review(
            article=article,
            reason=f"Source answer marked {label.lower()} by {corrector.public_name}: {reason}",
            actor=corrector,
            trigger="answer_corrected",
            data={"correction": correction.pk},
        )
    return correction


@transaction.atomic
def correction_reverse(
    *, correction: AnswerCorrection, actor: User, reason: str
) -> AnswerCorrection:
    """A moderator withdraws a correction (the alternative keeps its own validation). Audited.
    Raises PermissionDenied, ValidationError."""
    rules.check_reverse_correction(actor, correction)
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise ValidationError({"reason": "Say briefly why the correction is reversed."})
    correction = AnswerCorrection.objects.select_for_update().get(pk=correction.pk)
    if correction.reversed_at is not None:
        return correction
    correction.reversed_at, correction.reversed_by = timezone.now(), actor
    correction.reverse_reason = reason[:500]
    correction.save(update_fields=["reversed_at", "reversed_by", "reverse_reason"])
    audit_log(
        actor=actor,
        action="knowledge.correction.reversed",
        target=correction.answer,
        data={"correction": correction.pk, "reason": reason},
    )
    return correction
