"""Every community write. Each function checks permission, runs in a transaction, writes audit
entries for privileged actions and announces events for other apps."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from . import events, notifications, ratelimit, reputation, routing, rules
from .audit import audit_log
from .markdown import render_markdown
from .models import (
    Answer,
    AnswerRevision,
    Certification,
    Comment,
    PostStatus,
    ProductArea,
    Question,
    QuestionRevision,
    Tag,
    User,
    Vote,
)

MAX_TAGS = 5
AVATAR_CONTENT_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


def normalize_tag_names(names: Iterable[str] | str) -> list[str]:
    """Slugified, de-duplicated tag names in input order; raises ValidationError past the limits."""
    if isinstance(names, str):
        names = names.replace(",", " ").split()
    result: list[str] = []
    for raw in names:
        slug = slugify(raw)[:64]
        if slug and slug not in result:
            result.append(slug)
    if len(result) > MAX_TAGS:
        raise ValidationError({"tags": f"Use at most {MAX_TAGS} tags."})
    return result


def _tags_for(names: list[str]) -> list[Tag]:
    existing = {t.slug: t for t in Tag.objects.filter(slug__in=names)}
    missing = [Tag(slug=n) for n in names if n not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.slug: t for t in Tag.objects.filter(slug__in=names)}
    return [existing[n] for n in names]


def _thread_changed(question_id: int) -> None:
    events.thread_changed.send(sender=Question, question_id=question_id)


def _approved_post_count(user: User) -> int:
    return (
        Question.objects.filter(author=user, status=PostStatus.VISIBLE).count()
        + Answer.objects.filter(author=user, status=PostStatus.VISIBLE).count()
    )


_URL_RE = re.compile(r"(?i)\b(?:https?://|www\.)")
_ANCHOR_RE = re.compile(r"(?i)<a\s")


def count_links(body: str, body_html: str) -> int:
    """Links in a post: written URLs or rendered anchors, whichever finds more."""
    return max(len(_URL_RE.findall(body)), len(_ANCHOR_RE.findall(body_html)))


def _new_post_status(*, author: User, body: str, body_html: str) -> str:
    """The status a new post starts in; raises ValidationError when a new member's post carries
    too many links. Staff and certified experts are never new members."""
    if rules.is_staff_member(author) or rules.is_certified_expert(author):
        return PostStatus.VISIBLE
    if rules.privileges_are_waived():  # replaying established members' history (demo load)
        return PostStatus.VISIBLE
    product = settings.PEERDESK
    premoderated = int(product.get("PREMODERATION_FIRST_POSTS", 0))
    new_member_posts = int(product.get("NEW_MEMBER_POSTS", 0))
    if not premoderated and not new_member_posts:
        return PostStatus.VISIBLE
    approved = _approved_post_count(author)
    max_links = product.get("NEW_MEMBER_MAX_LINKS")
    too_many_links = max_links is not None and count_links(body, body_html) > int(max_links)
    if approved < new_member_posts and too_many_links:
        raise ValidationError(
            {"body": f"New members can include at most {max_links} links in a post."}
        )
    return PostStatus.PENDING if approved < premoderated else PostStatus.VISIBLE


def _clean_text(field: str, value: str, *, min_length: int, max_length: int) -> str:
    value = (value or "").strip()
    if len(value) < min_length:
        raise ValidationError({field: f"Write at least {min_length} characters."})
    if len(value) > max_length:
        raise ValidationError({field: f"Keep it under {max_length} characters."})
    return value


@transaction.atomic
def question_create(
    *,
    author: User,
    area: ProductArea,
    title: str,
    body: str,
    tags: Iterable[str] | str = (),
    directed_to: User | None = None,
    private: bool = False,
) -> Question:
    """Post a question with its first revision; with ``directed_to`` it also lands in that
    person's queue (``private`` hides it from everyone but asker, expert and staff).
    Raises PermissionDenied, ValidationError (``directed_to``: full queue, not an expert), RateLimited."""
    rules.check_ask_question(author)
    title = _clean_text("title", title, min_length=10, max_length=200)
    body = _clean_text("body", body, min_length=20, max_length=30000)
    tag_names = normalize_tag_names(tags)
    body_html = render_markdown(body)
    status = _new_post_status(author=author, body=body, body_html=body_html)
    ratelimit.consume(user=author, kind="question")
    now = timezone.now()
    question = Question.objects.create(
        area=area,
        author=author,
        title=title,
        body=body,
        body_html=body_html,
        status=status,
        created_at=now,
        updated_at=now,
        last_activity_at=now,
    )
    question.tags.set(_tags_for(tag_names))
    QuestionRevision.objects.create(
        question=question,
        number=1,
        title=title,
        body=body,
        tag_names=" ".join(tag_names),
        author=author,
        created_at=now,
    )
    if directed_to is not None:
        routing.directed_open(question=question, expert=directed_to, asker=author, private=private)
    _thread_changed(question.pk)
    notifications.notify_question_created(question=question)
    events.question_created.send(sender=Question, question_id=question.pk)
    return question


@transaction.atomic
def question_edit(
    *,
    question: Question,
    editor: User,
    title: str,
    body: str,
    tags: Iterable[str] | str,
    summary: str = "",
) -> Question:
    """Edit a question, keeping the previous text as a revision. Moderator edits are audited."""
    rules.check_edit_question(editor, question)
    title = _clean_text("title", title, min_length=10, max_length=200)
    body = _clean_text("body", body, min_length=20, max_length=30000)
    tag_names = normalize_tag_names(tags)
    question = Question.objects.select_for_update().get(pk=question.pk)
    before = {"title": question.title, "body": question.body}
    now = timezone.now()
    question.title, question.body, question.body_html = title, body, render_markdown(body)
    question.updated_at = question.last_activity_at = now
    question.save(update_fields=["title", "body", "body_html", "updated_at", "last_activity_at"])
    question.tags.set(_tags_for(tag_names))
    number = (
        question.revisions.order_by("-number").values_list("number", flat=True).first() or 0
    ) + 1
    QuestionRevision.objects.create(
        question=question,
        number=number,
        title=title,
        body=body,
        tag_names=" ".join(tag_names),
        author=editor,
        summary=summary[:300],
        created_at=now,
    )
    if editor.pk != question.author_id:
        audit_log(
            actor=editor,
            action="community.question.edited",
            target=question,
            data={"before": before, "after": {"title": title, "body": body}, "summary": summary},
        )
    _thread_changed(question.pk)
    return question


@transaction.atomic
def answer_create(*, question: Question, author: User, body: str) -> Answer:
    """Answer a question (first revision included). Raises PermissionDenied, ValidationError, RateLimited."""
    rules.check_answer_question(author, question)
    body = _clean_text("body", body, min_length=15, max_length=30000)
    body_html = render_markdown(body)
    status = _new_post_status(author=author, body=body, body_html=body_html)
    ratelimit.consume(user=author, kind="answer")
    now = timezone.now()
    answer = Answer.objects.create(
        question=question,
        author=author,
        body=body,
        body_html=body_html,
        status=status,
        created_at=now,
        updated_at=now,
    )
    AnswerRevision.objects.create(answer=answer, number=1, body=body, author=author, created_at=now)
    routing.directed_answered(answer=answer)
    # ``answer_count`` counts what everyone sees: a pending answer counts once approved.
    if status == PostStatus.VISIBLE:
        Question.objects.filter(pk=question.pk).update(
            answer_count=F("answer_count") + 1, last_activity_at=now
        )
    _thread_changed(question.pk)
    notifications.notify_answer_created(answer=answer)
    return answer


@transaction.atomic
def answer_edit(*, answer: Answer, editor: User, body: str, summary: str = "") -> Answer:
    """Edit an answer as a new revision; announces ``answer_edited`` (validations go stale)."""
    rules.check_edit_answer(editor, answer)
    body = _clean_text("body", body, min_length=15, max_length=30000)
    answer = Answer.objects.select_for_update().get(pk=answer.pk)
    if body == answer.body:
        return answer
    before = answer.body
    now = timezone.now()
    answer.revision_count += 1
    answer.body, answer.body_html, answer.updated_at = body, render_markdown(body), now
    answer.save(update_fields=["body", "body_html", "updated_at", "revision_count"])
    revision = AnswerRevision.objects.create(
        answer=answer,
        number=answer.revision_count,
        body=body,
        author=editor,
        summary=summary[:300],
        created_at=now,
    )
    Question.objects.filter(pk=answer.question_id).update(last_activity_at=now)
    if editor.pk != answer.author_id:
        audit_log(
            actor=editor,
            action="community.answer.edited",
            target=answer,
            data={"before": before, "after": body, "summary": summary},
        )
    events.answer_edited.send(sender=Answer, answer=answer, revision=revision, editor=editor)
    _thread_changed(answer.question_id)
    return answer


@transaction.atomic
def answer_accept(*, answer: Answer, user: User) -> Question:
    """Mark ``answer`` as the accepted one for its question (replacing any earlier choice)."""
    rules.check_accept_answer(user, answer)
    question = Question.objects.select_for_update().get(pk=answer.question_id)
    previous = question.accepted_answer_id
    previous_answer = question.accepted_answer if previous else None
    question.accepted_answer = answer
    # Acceptance changes the thread's search document (its type), so it counts as an update.
    question.updated_at = timezone.now()
    question.save(update_fields=["accepted_answer", "updated_at"])
    reputation.acceptance_changed(question=question, previous=previous_answer, current=answer)
    if previous != answer.pk:
        notifications.notify_answer_accepted(answer=answer, actor=user)
    if user.pk != question.author_id:
        audit_log(
            actor=user,
            action="community.answer.accepted",
            target=answer,
            data={"question": question.pk, "previous": previous},
        )
    _thread_changed(question.pk)
    return question


@transaction.atomic
def answer_unaccept(*, question: Question, user: User) -> Question:
    """Clear the accepted answer of ``question``."""
    question = Question.objects.select_for_update().get(pk=question.pk)
    if question.accepted_answer is None:
        return question
    rules.check_accept_answer(user, question.accepted_answer)
    previous = question.accepted_answer_id
    reputation.acceptance_changed(
        question=question, previous=question.accepted_answer, current=None
    )
    question.accepted_answer = None
    question.updated_at = timezone.now()
    question.save(update_fields=["accepted_answer", "updated_at"])
    if user.pk != question.author_id:
        audit_log(
            actor=user,
            action="community.answer.unaccepted",
            target=question,
            data={"previous": previous},
        )
    _thread_changed(question.pk)
    return question


@transaction.atomic
def comment_create(
    *, author: User, body: str, question: Question | None = None, answer: Answer | None = None
) -> Comment:
    """Comment on exactly one post."""
    rules.check_comment(author)
    if (question is None) == (answer is None):
        raise ValueError("A comment belongs to exactly one of question or answer.")
    body = _clean_text("body", body, min_length=2, max_length=2000)
    thread = question if question is not None else answer.question  # type: ignore[union-attr]
    rules.check_write_in_thread(author, thread)
    ratelimit.consume(user=author, kind="comment")
    comment = Comment.objects.create(
        author=author, body=body, body_html=render_markdown(body), question=question, answer=answer
    )
    question_id = question.pk if question else answer.question_id  # type: ignore[union-attr]
    Question.objects.filter(pk=question_id).update(last_activity_at=timezone.now())
    notifications.notify_comment_created(comment=comment)
    return comment


@transaction.atomic
def vote_cast(*, user: User, post: Question | Answer, value: int) -> int:
    """Set ``user``'s vote on ``post`` to +1, -1, or 0 (withdraw). Returns the post's new score."""
    if value not in (1, -1, 0):
        raise ValidationError({"value": "A vote is 1 (up), -1 (down) or 0 (withdraw)."})
    rules.check_vote_on(user, post)
    if value == -1:
        rules.check_vote_down(user)
    ratelimit.consume(user=user, kind="vote")
    model = type(post)
    lookup = {"question": post} if isinstance(post, Question) else {"answer": post}
    existing = Vote.objects.select_for_update().filter(user=user, **lookup).first()
    delta = value - (existing.value if existing else 0)
    if existing and value == 0:
        existing.delete()
    elif existing:
        existing.value = value
        existing.save(update_fields=["value"])
    elif value:
        Vote.objects.create(user=user, value=value, **lookup)
    if delta:
        model.objects.filter(pk=post.pk).update(score=F("score") + delta)
        reputation.vote_changed(post=post, voter=user, value=value)
    post.refresh_from_db(fields=["score"])
    if delta:
        if isinstance(post, Answer):
            events.answer_score_changed.send(
                sender=Answer, answer=post, score=post.score, previous_score=post.score - delta
            )
        _thread_changed(post.pk if isinstance(post, Question) else post.question_id)
    return post.score


@transaction.atomic
def answer_set_validated(*, answer: Answer, validated: bool) -> None:
    """Record whether ``answer`` holds an active validation (called by knowledge services)."""
    Answer.objects.filter(pk=answer.pk).update(validated_at=timezone.now() if validated else None)
    reputation.validation_changed(answer=answer, validated=validated)
    _thread_changed(answer.question_id)


@transaction.atomic
def certification_grant(
    *,
    user: User,
    area: ProductArea,
    granted_by: User,
    expires_at: dt.datetime,
    notify_expert: bool = True,
) -> Certification:
    """Certify ``user`` as an expert for ``area`` until ``expires_at``. Audited; the expert is
    notified unless the caller sends its own message (``notify_expert=False``)."""
    rules.check_manage_certifications(granted_by)
    if expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The certification must expire in the future."})
    if user.is_placeholder or not user.is_active:
        raise ValidationError({"user": "Only active members can be certified."})
    cert = Certification.objects.create(
        user=user, area=area, granted_by=granted_by, expires_at=expires_at
    )
    audit_log(
        actor=granted_by,
        action="community.certification.granted",
        target=cert,
        data={"user": user.pk, "area": area.slug, "expires_at": expires_at.isoformat()},
    )
    if notify_expert:
        notifications.notify_certification_granted(certification=cert)
    return cert


@transaction.atomic
def certification_revoke(
    *, certification: Certification, revoked_by: User, reason: str
) -> Certification:
    """Revoke an active certification with a reason. Audited."""
    rules.check_manage_certifications(revoked_by)
    reason = _clean_text("reason", reason, min_length=3, max_length=300)
    cert = Certification.objects.select_for_update().get(pk=certification.pk)
    if cert.revoked_at is None:
        cert.revoked_at, cert.revoked_by, cert.revoked_reason = timezone.now(), revoked_by, reason
        cert.save(update_fields=["revoked_at", "revoked_by", "revoked_reason"])
        audit_log(
            actor=revoked_by,
            action="community.certification.revoked",
            target=cert,
            data={"user": cert.user_id, "area": cert.area_id, "reason": reason},
        )
        events.certification_ended.send(sender=Certification, certification=cert, cause="revoked")
        notifications.notify_certification_revoked(certification=cert)
    return cert


def _validate_avatar(avatar: UploadedFile, max_bytes: int) -> None:
    from PIL import Image, UnidentifiedImageError

    if avatar.size and avatar.size > max_bytes:
        raise ValidationError({"avatar": f"The image must be smaller than {max_bytes // 1024} KB."})
    try:
        image = Image.open(avatar)
        image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ValidationError({"avatar": "Upload a PNG, JPEG, GIF or WebP image."}) from exc
    if Image.MIME.get(image.format or "") not in AVATAR_CONTENT_TYPES:
        raise ValidationError({"avatar": "Upload a PNG, JPEG, GIF or WebP image."})
    avatar.seek(0)


@transaction.atomic
def profile_update(
    *,
    user: User,
    display_name: str,
    bio: str,
    avatar: UploadedFile | None = None,
    clear_avatar: bool = False,
) -> User:
    """Update the public profile; validates the avatar's real image type and size."""
    from django.conf import settings

    display_name = (display_name or "").strip()
    if len(display_name) > 80:
        raise ValidationError({"display_name": "Keep it under 80 characters."})
    if len(bio or "") > 2000:
        raise ValidationError({"bio": "Keep it under 2000 characters."})
    user.display_name, user.bio = display_name, (bio or "").strip()
    fields = ["display_name", "bio"]
    if avatar is not None:
        _validate_avatar(avatar, settings.AVATAR_MAX_BYTES)
        user.avatar = avatar
        fields.append("avatar")
    elif clear_avatar and user.avatar:
        user.avatar = None
        fields.append("avatar")
    user.save(update_fields=fields)
    return user


# --- Moderation: visibility, locks, moves, merges and sanctions (issue 4) ---------------------
# Moderation's queue and flags call these; each checks ``rules.check_moderate`` and audits the
# change with before/after data.


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
    rows = {q.pk: q for q in Question.objects.select_for_update().filter(pk__in=[first, second])}
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
    from .models import Sanction

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


@transaction.atomic
def question_set_urgent(*, question: Question, user: User, urgent: bool = True) -> Question:
    """Mark a thread urgent (or not): protocols with the "customer marks it urgent" trigger pick it
    up on their next tick. Staff changes are audited. Raises PermissionDenied."""
    rules.check_mark_urgent(user, question)
    question = Question.objects.select_for_update().get(pk=question.pk)
    if (question.urgent_at is not None) == urgent:
        return question
    question.urgent_at = timezone.now() if urgent else None
    question.save(update_fields=["urgent_at"])
    if user.pk != question.author_id:
        verb = "urgent_set" if urgent else "urgent_cleared"
        audit_log(
            actor=user,
            action=f"community.question.{verb}",
            target=question,
            data={"urgent_at": question.urgent_at.isoformat() if question.urgent_at else None},
        )
    return question
