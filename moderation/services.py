"""Moderation writes: members' flags and the moderator's actions on flagged and pending posts.

Community-level changes (hide, restore, approve, lock, move, merge, edit, sanction) are community
services that check ``rules.check_moderate`` and audit themselves; these functions call them and
resolve the flags the action answers, auditing each resolution and announcing ``flag_resolved``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from community import events, ratelimit
from community import rules as community_rules
from community import services as community_services
from community.audit import audit_log
from community.models import Answer, PostStatus, ProductArea, Question, User

from .models import Flag
from .rules import is_trusted_flagger

NOTE_MAX = 500


def _post_lookup(post: Question | Answer) -> dict:
    return {"question": post} if isinstance(post, Question) else {"answer": post}


def _thread_id(post: Question | Answer) -> int:
    return post.pk if isinstance(post, Question) else post.question_id


@transaction.atomic
def flag_create(
    *,
    reporter: User,
    post: Question | Answer,
    reason: str,
    note: str = "",
    duplicate_of: Question | None = None,
) -> Flag:
    """Flag ``post`` for moderators. Once trusted members' open flags on a post reach
    PEERDESK["AUTO_HIDE_FLAGS"], the post is hidden until a moderator reviews it.

    Raises PermissionDenied (own post, no active account), ValidationError (unknown reason,
    missing duplicate target, already flagged by this member), RateLimited (kind "flag").
    """
    community_rules.check_flag_post(reporter, post)
    if reason not in Flag.Reason.values:
        raise ValidationError({"reason": "Choose a reason for flagging."})
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": f"Keep the note under {NOTE_MAX} characters."})
    if reason == Flag.Reason.DUPLICATE:
        if not isinstance(post, Question):
            raise ValidationError({"reason": "Only a question can be a duplicate."})
        if duplicate_of is None or duplicate_of.pk == post.pk:
            raise ValidationError(
                {"duplicate_of": "Give the number of the question this one duplicates."}
            )
    else:
        duplicate_of = None
    lookup = _post_lookup(post)
    if Flag.objects.filter(reporter=reporter, **lookup).exists():
        raise ValidationError({"reason": "You have already flagged this post."})
    ratelimit.consume(user=reporter, kind="flag")
    try:
        with transaction.atomic():
            flag = Flag.objects.create(
                reporter=reporter,
                reason=reason,
                note=note,
                duplicate_of=duplicate_of,
                trusted=is_trusted_flagger(reporter),
                **lookup,
            )
    except IntegrityError as exc:  # the same member flagging twice at once
        raise ValidationError({"reason": "You have already flagged this post."}) from exc
    events.post_flagged.send(
        sender=Flag, flag_id=flag.pk, question_id=_thread_id(post), reason=reason
    )
    if flag.trusted:
        _auto_hide_if_due(post)
    return flag


def _auto_hide_if_due(post: Question | Answer) -> None:
    threshold = int(settings.PEERDESK.get("AUTO_HIDE_FLAGS", 0))
    if threshold <= 0:
        return
    trusted_open = Flag.objects.filter(
        status=Flag.Status.OPEN, trusted=True, **_post_lookup(post)
    ).count()
    if trusted_open >= threshold and post.status == PostStatus.VISIBLE:
        community_services.post_hide(
            post=post,
            actor=None,
            reason=f"Hidden automatically after {trusted_open} flags from trusted members",
            automatic=True,
        )


def _resolve(
    flags: Iterable[Flag], *, actor: User, status: str, action: str, note: str = ""
) -> int:
    """Close open ``flags`` as ``status`` (dismissed/actioned) because of ``action``; one audit
    entry and one ``flag_resolved`` event per flag. Caller holds the transaction."""
    now = timezone.now()
    count = 0
    for flag in flags:
        if flag.status != Flag.Status.OPEN:
            continue
        flag.status, flag.resolved_by, flag.resolved_at = status, actor, now
        flag.resolution = (f"{action}: {note}" if note else action)[:300]
        flag.save(update_fields=["status", "resolved_by", "resolved_at", "resolution"])
        audit_log(
            actor=actor,
            action=f"moderation.flag.{status}",
            target=flag,
            data={
                "before": {"status": Flag.Status.OPEN},
                "after": {"status": status, "resolution": flag.resolution},
                "post": flag.post_key,
                "reason": flag.reason,
                "reporter": flag.reporter_id,
            },
        )
        events.flag_resolved.send(
            sender=Flag,
            flag_id=flag.pk,
            reporter_id=flag.reporter_id,
            outcome=status,
            action=action,
        )
        count += 1
    return count


def _resolve_post_flags(post: Question | Answer, *, actor: User, action: str, note: str) -> int:
    flags = list(
        Flag.objects.select_for_update().filter(status=Flag.Status.OPEN, **_post_lookup(post))
    )
    return _resolve(flags, actor=actor, status=Flag.Status.ACTIONED, action=action, note=note)


@transaction.atomic
def flag_dismiss(*, flag: Flag, actor: User, note: str = "") -> Flag:
    """Dismiss one flag. When it was the last open trusted flag on a post the threshold hid, the
    post is restored. Audited. Raises PermissionDenied for non-moderators."""
    community_rules.check_moderate(actor)
    flag = Flag.objects.select_for_update().select_related("question", "answer").get(pk=flag.pk)
    if flag.status != Flag.Status.OPEN:
        return flag
    _resolve([flag], actor=actor, status=Flag.Status.DISMISSED, action="dismissed", note=note)
    post = flag.post
    auto_hidden = post.status == PostStatus.HIDDEN and post.hidden_by_id is None
    merged = isinstance(post, Question) and post.merged_into_id
    still_flagged = Flag.objects.filter(
        status=Flag.Status.OPEN, trusted=True, **_post_lookup(post)
    ).exists()
    if auto_hidden and not merged and not still_flagged:
        community_services.post_restore(post=post, actor=actor, reason="Flags dismissed")
    return flag


@transaction.atomic
def post_hide(*, post: Question | Answer, actor: User, reason: str) -> Question | Answer:
    """Hide a post and close its open flags as actioned."""
    post = community_services.post_hide(post=post, actor=actor, reason=reason)
    _resolve_post_flags(post, actor=actor, action="hidden", note=reason)
    return post


@transaction.atomic
def post_restore(*, post: Question | Answer, actor: User, reason: str = "") -> Question | Answer:
    """Restore a hidden post; its open flags were not borne out, so they are dismissed."""
    post = community_services.post_restore(post=post, actor=actor, reason=reason)
    flags = list(
        Flag.objects.select_for_update().filter(status=Flag.Status.OPEN, **_post_lookup(post))
    )
    _resolve(flags, actor=actor, status=Flag.Status.DISMISSED, action="restored", note=reason)
    return post


@transaction.atomic
def post_approve(*, post: Question | Answer, actor: User) -> Question | Answer:
    """Approve a post that waited for pre-moderation."""
    return community_services.post_approve(post=post, actor=actor)


@transaction.atomic
def post_edit(
    *,
    post: Question | Answer,
    actor: User,
    reason: str,
    body: str,
    title: str | None = None,
    tags: Iterable[str] | str | None = None,
) -> Question | Answer:
    """Edit a post as a moderator with a required reason (kept as the revision summary and in the
    community edit's audit entry); closes the post's open flags as actioned."""
    community_rules.check_moderate(actor)
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise ValidationError({"reason": "Say briefly why you are editing this post."})
    if isinstance(post, Question):
        post = community_services.question_edit(
            question=post,
            editor=actor,
            title=title if title is not None else post.title,
            body=body,
            tags=tags if tags is not None else [t.slug for t in post.tags.all()],
            summary=reason,
        )
    else:
        post = community_services.answer_edit(answer=post, editor=actor, body=body, summary=reason)
    _resolve_post_flags(post, actor=actor, action="edited", note=reason)
    return post


@transaction.atomic
def thread_lock(*, question: Question, actor: User, reason: str = "") -> Question:
    """Lock a thread and close the question's open flags as actioned."""
    question = community_services.question_lock(question=question, actor=actor, reason=reason)
    _resolve_post_flags(question, actor=actor, action="locked", note=reason)
    return question


@transaction.atomic
def thread_unlock(*, question: Question, actor: User, reason: str = "") -> Question:
    return community_services.question_unlock(question=question, actor=actor, reason=reason)


@transaction.atomic
def thread_move(
    *, question: Question, actor: User, area: ProductArea, reason: str = ""
) -> Question:
    """Move a thread to another area and close the question's open flags as actioned."""
    question = community_services.question_move(
        question=question, actor=actor, area=area, reason=reason
    )
    _resolve_post_flags(question, actor=actor, action=f"moved to {area.slug}", note=reason)
    return question


@transaction.atomic
def thread_merge(
    *, duplicate: Question, canonical: Question, actor: User, reason: str = ""
) -> Question:
    """Merge a duplicate into its canonical thread and close the duplicate's open flags."""
    canonical = community_services.question_merge(
        duplicate=duplicate, canonical=canonical, actor=actor, reason=reason
    )
    _resolve_post_flags(duplicate, actor=actor, action=f"merged into {canonical.pk}", note=reason)
    return canonical


@transaction.atomic
def member_sanction(
    *,
    user: User,
    actor: User,
    kind: str,
    reason: str,
    duration: dt.timedelta | None = None,
    flag: Flag | None = None,
):
    """Warn, suspend, ban or lift sanctions (community service); when acting from a flag, the
    flagged post's open flags close as actioned."""
    sanction = community_services.member_sanction(
        user=user, actor=actor, kind=kind, reason=reason, duration=duration
    )
    if flag is not None:
        _resolve_post_flags(flag.post, actor=actor, action=f"author {kind}", note=reason)
    return sanction


BULK_ACTIONS = {"dismiss": "Dismiss", "hide": "Hide the posts"}


@transaction.atomic
def flags_bulk(*, flag_ids: Iterable[int], actor: User, action: str, reason: str = "") -> int:
    """Apply ``action`` ("dismiss" or "hide") to many queue rows at once; all or nothing.
    Returns how many flags were resolved. Raises PermissionDenied, ValidationError."""
    community_rules.check_moderate(actor)
    if action not in BULK_ACTIONS:
        raise ValidationError({"action": "Choose dismiss or hide."})
    flags = list(
        Flag.objects.select_related("question", "answer")
        .filter(pk__in=list(flag_ids), status=Flag.Status.OPEN)
        .order_by("pk")
    )
    if not flags:
        raise ValidationError({"flags": "Select at least one open flag."})
    if action == "dismiss":
        for flag in flags:
            flag_dismiss(flag=flag, actor=actor, note=reason)
        return len(flags)
    reason = reason.strip() or "Hidden from the moderation queue"
    resolved = 0
    seen: set[str] = set()
    for flag in flags:
        if flag.post_key in seen:
            continue
        seen.add(flag.post_key)
        before = Flag.objects.filter(status=Flag.Status.OPEN, **_post_lookup(flag.post)).count()
        post_hide(post=flag.post, actor=actor, reason=reason)
        resolved += before
    return resolved
