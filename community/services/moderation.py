"""Moderation: post visibility (hide, restore, approve), thread locks, moves and merges, and
member sanctions. Moderation's queue and flags call these; each checks ``rules.check_moderate``
and audits the change with before/after data."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .. import events, reputation, rules
from ..audit import audit_log
from ..models import Answer, PostStatus, ProductArea, Question, Sanction, User
from ._common import _clean_text, _thread_changed


def _post_kind(post: Question | Answer) -> str:
    return "question" if isinstance(post, Question) else "answer"


def _locked_post(post: Question | Answer) -> Question | Answer:
    return type(post).objects.select_for_update().get(pk=post.pk)


def _visibility_state(post: Question | Answer) -> dict:
    return {
        "status": post.status,
        "hidden_reason": post.hidden_reason,
        "hidden_by": post.hidden_by_id,
        "hidden_at": post.hidden_at.isoformat() if post.hidden_at else None,
    }


def _set_post_status(
    post: Question | Answer,
    *,
    status: str,
    actor: User | None,
    action: str,
    reason: str = "",
    extra: dict | None = None,
) -> Question | Answer:
    """Move ``post`` (locked by the caller) to ``status``; keeps the visible answer count, audits,
    re-indexes the thread and announces ``post_visibility_changed``."""
    before = _visibility_state(post)
    previous = post.status
    now = timezone.now()
    post.status = status
    if status == PostStatus.HIDDEN:
        post.hidden_reason, post.hidden_by, post.hidden_at = reason[:300], actor, now
    else:
        post.hidden_reason, post.hidden_by, post.hidden_at = "", None, None
    post.save(update_fields=["status", "hidden_reason", "hidden_by", "hidden_at"])
    if isinstance(post, Answer) and (previous == PostStatus.VISIBLE) != (
        status == PostStatus.VISIBLE
    ):
        step = 1 if status == PostStatus.VISIBLE else -1
        Question.objects.filter(pk=post.question_id).update(answer_count=F("answer_count") + step)
    audit_log(
        actor=actor,
        action=f"community.{_post_kind(post)}.{action}",
        target=post,
        data={
            "before": before,
            "after": _visibility_state(post),
            "reason": reason,
            **(extra or {}),
        },
    )
    # The hidden-post penalty follows the post's state (applied on hide, lifted on restore).
    reputation.post_hidden_set(post=post, hidden=status == PostStatus.HIDDEN)
    events.post_visibility_changed.send(
        sender=type(post), post=post, status=status, previous=previous, actor=actor
    )
    _thread_changed(post.pk if isinstance(post, Question) else post.question_id)
    return post


@transaction.atomic
def post_hide(
    *, post: Question | Answer, actor: User | None, reason: str, automatic: bool = False
) -> Question | Answer:
    """Hide a post (a restorable soft delete). ``automatic`` is the flag threshold acting: no
    moderator check, no ``hidden_by``. Audited. Raises PermissionDenied, ValidationError."""
    if not automatic:
        rules.check_moderate(actor)
    reason = _clean_text("reason", reason, min_length=3, max_length=300)
    post = _locked_post(post)
    if post.status == PostStatus.HIDDEN:
        return post
    return _set_post_status(
        post,
        status=PostStatus.HIDDEN,
        actor=None if automatic else actor,
        action="hidden",
        reason=reason,
        extra={"automatic": automatic},
    )


@transaction.atomic
def post_restore(*, post: Question | Answer, actor: User, reason: str = "") -> Question | Answer:
    """Make a hidden (or pending) post visible again. Audited. A merged duplicate stays hidden:
    raises ValidationError; raises PermissionDenied for non-moderators."""
    rules.check_moderate(actor)
    post = _locked_post(post)
    if isinstance(post, Question) and post.merged_into_id:
        raise ValidationError({"post": "A merged duplicate cannot be restored."})
    if post.status == PostStatus.VISIBLE:
        return post
    return _set_post_status(
        post, status=PostStatus.VISIBLE, actor=actor, action="restored", reason=reason
    )


@transaction.atomic
def post_approve(*, post: Question | Answer, actor: User) -> Question | Answer:
    """Publish a post that waited for approval (pre-moderation). Audited; no-op unless pending."""
    rules.check_moderate(actor)
    post = _locked_post(post)
    if post.status != PostStatus.PENDING:
        return post
    post = _set_post_status(post, status=PostStatus.VISIBLE, actor=actor, action="approved")
    # An approved post is news to the thread, as if it had just been posted.
    Question.objects.filter(pk=post.pk if isinstance(post, Question) else post.question_id).update(
        last_activity_at=timezone.now()
    )
    return post


@transaction.atomic
def question_lock(*, question: Question, actor: User, reason: str = "") -> Question:
    """Lock a thread: only moderators may answer, comment, vote or edit in it. Audited."""
    rules.check_moderate(actor)
    question = Question.objects.select_for_update().get(pk=question.pk)
    if question.locked_at is None:
        question.locked_at = timezone.now()
        question.save(update_fields=["locked_at"])
        audit_log(
            actor=actor,
            action="community.question.locked",
            target=question,
            data={
                "before": {"locked_at": None},
                "after": {"locked_at": question.locked_at.isoformat()},
                "reason": reason[:300],
            },
        )
    return question


@transaction.atomic
def question_unlock(*, question: Question, actor: User, reason: str = "") -> Question:
    """Reopen a locked thread. Audited."""
    rules.check_moderate(actor)
    question = Question.objects.select_for_update().get(pk=question.pk)
    if question.locked_at is not None:
        before = question.locked_at.isoformat()
        question.locked_at = None
        question.save(update_fields=["locked_at"])
        audit_log(
            actor=actor,
            action="community.question.unlocked",
            target=question,
            data={
                "before": {"locked_at": before},
                "after": {"locked_at": None},
                "reason": reason[:300],
            },
        )
    return question


@transaction.atomic
def question_move(
    *, question: Question, actor: User, area: ProductArea, reason: str = ""
) -> Question:
    """Move a thread to another product area. Audited; re-indexed."""
    rules.check_moderate(actor)
    question = Question.objects.select_for_update().select_related("area").get(pk=question.pk)
    if question.area_id == area.pk:
        return question
    before = question.area.slug
    question.area = area
    question.updated_at = timezone.now()
    question.save(update_fields=["area", "updated_at"])
    audit_log(
        actor=actor,
        action="community.question.moved",
        target=question,
        data={"before": {"area": before}, "after": {"area": area.slug}, "reason": reason[:300]},
    )
    _thread_changed(question.pk)
    return question


@transaction.atomic
def question_merge(
    *, duplicate: Question, canonical: Question, actor: User, reason: str = ""
) -> Question:
    """Merge ``duplicate`` into ``canonical``: its answers move over, it is hidden and its URL
    redirects to the canonical thread. Audited. Raises PermissionDenied, ValidationError."""
    rules.check_moderate(actor)
    if duplicate.pk == canonical.pk:
        raise ValidationError({"canonical": "A question cannot be merged into itself."})
    first, second = sorted([duplicate.pk, canonical.pk])
    # Locked in id order (the default ordering is by activity), so two merges of the same pair
    # cannot wait on each other.
    locked = Question.objects.select_for_update().filter(pk__in=[first, second]).order_by("pk")
    rows = {q.pk: q for q in locked}
    duplicate, canonical = rows[duplicate.pk], rows[canonical.pk]
    if canonical.merged_into_id or canonical.status == PostStatus.HIDDEN:
        raise ValidationError({"canonical": "Merge into a visible thread, not a hidden one."})
    if duplicate.merged_into_id:
        raise ValidationError({"duplicate": "This question is already merged."})
    moved = list(Answer.objects.filter(question=duplicate).values_list("pk", "status"))
    before = {
        **_visibility_state(duplicate),
        "answers": [pk for pk, _ in moved],
        "accepted_answer": duplicate.accepted_answer_id,
    }
    now = timezone.now()
    # The moved answers join the canonical thread; its own acceptance stays the asker's choice.
    Answer.objects.filter(question=duplicate).update(question=canonical)
    visible_moved = sum(1 for _, status in moved if status == PostStatus.VISIBLE)
    Question.objects.filter(pk=canonical.pk).update(
        answer_count=F("answer_count") + visible_moved, last_activity_at=now, updated_at=now
    )
    duplicate.merged_into = canonical
    duplicate.accepted_answer = None
    duplicate.answer_count = 0
    duplicate.status = PostStatus.HIDDEN
    duplicate.hidden_reason = f"Merged into question {canonical.pk}"
    duplicate.hidden_by, duplicate.hidden_at = actor, now
    duplicate.save(
        update_fields=[
            "merged_into",
            "accepted_answer",
            "answer_count",
            "status",
            "hidden_reason",
            "hidden_by",
            "hidden_at",
        ]
    )
    audit_log(
        actor=actor,
        action="community.question.merged",
        target=duplicate,
        data={
            "before": before,
            "after": {**_visibility_state(duplicate), "merged_into": canonical.pk},
            "reason": reason[:300],
        },
    )
    events.post_visibility_changed.send(
        sender=Question,
        post=duplicate,
        status=PostStatus.HIDDEN,
        previous=before["status"],
        actor=actor,
    )
    _thread_changed(duplicate.pk)
    _thread_changed(canonical.pk)
    return canonical


SANCTION_MAX_DAYS = 365


def _sanction_state(user: User) -> dict:
    return {
        "suspended_until": user.suspended_until.isoformat() if user.suspended_until else None,
        "banned_at": user.banned_at.isoformat() if user.banned_at else None,
    }


@transaction.atomic
def member_sanction(
    *,
    user: User,
    actor: User,
    kind: str,
    reason: str,
    duration: dt.timedelta | None = None,
):
    """Warn, suspend (for ``duration``), ban, or lift the sanctions of a member. Suspended and
    banned members fail ``rules.is_active_member``. Audited. Raises PermissionDenied,
    ValidationError."""
    rules.check_moderate(actor)
    if user.pk == actor.pk:
        raise PermissionDenied("You cannot sanction yourself.")
    if rules.is_staff_member(user) and not rules.is_admin(actor):
        raise PermissionDenied("Only an administrator can sanction a member of staff.")
    if kind not in Sanction.Kind.values:
        raise ValidationError({"kind": "Choose warn, suspend, ban or lift."})
    reason = _clean_text("reason", reason, min_length=3, max_length=500)
    user = User.objects.select_for_update().get(pk=user.pk)
    before = _sanction_state(user)
    now = timezone.now()
    ends_at = None
    if kind == Sanction.Kind.SUSPEND:
        if duration is None or duration <= dt.timedelta(0):
            raise ValidationError({"duration": "A suspension needs a duration."})
        if duration > dt.timedelta(days=SANCTION_MAX_DAYS):
            raise ValidationError(
                {"duration": f"Suspend for at most {SANCTION_MAX_DAYS} days; ban for longer."}
            )
        ends_at = now + duration
        user.suspended_until = ends_at
    elif kind == Sanction.Kind.BAN:
        user.banned_at = user.banned_at or now
    elif kind == Sanction.Kind.LIFT:
        user.suspended_until = user.banned_at = None
    user.save(update_fields=["suspended_until", "banned_at"])
    sanction = Sanction.objects.create(
        user=user, kind=kind, reason=reason, issued_by=actor, created_at=now, ends_at=ends_at
    )
    verbs = {"warn": "warned", "suspend": "suspended", "ban": "banned", "lift": "sanctions_lifted"}
    audit_log(
        actor=actor,
        action=f"community.member.{verbs[kind]}",
        target=user,
        data={
            "before": before,
            "after": _sanction_state(user),
            "reason": reason,
            "sanction": sanction.pk,
        },
    )
    return sanction
