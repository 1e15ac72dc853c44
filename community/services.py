"""Every community write. Each function checks permission, runs in a transaction, writes audit
entries for privileged actions and announces events for other apps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from . import events, ratelimit, rules
from .audit import audit_log
from .markdown import render_markdown
from .models import (
    Answer,
    AnswerRevision,
    Certification,
    Comment,
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


def _clean_text(field: str, value: str, *, min_length: int, max_length: int) -> str:
    value = (value or "").strip()
    if len(value) < min_length:
        raise ValidationError({field: f"Write at least {min_length} characters."})
    if len(value) > max_length:
        raise ValidationError({field: f"Keep it under {max_length} characters."})
    return value


@transaction.atomic
def question_create(
    *, author: User, area: ProductArea, title: str, body: str, tags: Iterable[str] | str = ()
) -> Question:
    """Post a question with its first revision. Raises PermissionDenied, ValidationError, RateLimited."""
    rules.check_ask_question(author)
    title = _clean_text("title", title, min_length=10, max_length=200)
    body = _clean_text("body", body, min_length=20, max_length=30000)
    tag_names = normalize_tag_names(tags)
    ratelimit.consume(user=author, kind="question")
    now = timezone.now()
    question = Question.objects.create(
        area=area,
        author=author,
        title=title,
        body=body,
        body_html=render_markdown(body),
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
    _thread_changed(question.pk)
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
    ratelimit.consume(user=author, kind="answer")
    now = timezone.now()
    answer = Answer.objects.create(
        question=question,
        author=author,
        body=body,
        body_html=render_markdown(body),
        created_at=now,
        updated_at=now,
    )
    AnswerRevision.objects.create(answer=answer, number=1, body=body, author=author, created_at=now)
    Question.objects.filter(pk=question.pk).update(
        answer_count=F("answer_count") + 1, last_activity_at=now
    )
    _thread_changed(question.pk)
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
    question.accepted_answer = answer
    # Acceptance changes the thread's search document (its type), so it counts as an update.
    question.updated_at = timezone.now()
    question.save(update_fields=["accepted_answer", "updated_at"])
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
    ratelimit.consume(user=author, kind="comment")
    comment = Comment.objects.create(
        author=author, body=body, body_html=render_markdown(body), question=question, answer=answer
    )
    question_id = question.pk if question else answer.question_id  # type: ignore[union-attr]
    Question.objects.filter(pk=question_id).update(last_activity_at=timezone.now())
    return comment


@transaction.atomic
def vote_cast(*, user: User, post: Question | Answer, value: int) -> int:
    """Set ``user``'s vote on ``post`` to +1, -1, or 0 (withdraw). Returns the post's new score."""
    if value not in (1, -1, 0):
        raise ValidationError({"value": "A vote is 1 (up), -1 (down) or 0 (withdraw)."})
    rules.check_vote_on(user, post)
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
    post.refresh_from_db(fields=["score"])
    if delta:
        _thread_changed(post.pk if isinstance(post, Question) else post.question_id)
    return post.score


@transaction.atomic
def answer_set_validated(*, answer: Answer, validated: bool) -> None:
    """Record whether ``answer`` holds an active validation (called by knowledge services)."""
    Answer.objects.filter(pk=answer.pk).update(validated_at=timezone.now() if validated else None)
    _thread_changed(answer.question_id)


@transaction.atomic
def certification_grant(
    *, user: User, area: ProductArea, granted_by: User, expires_at: dt.datetime
) -> Certification:
    """Certify ``user`` as an expert for ``area`` until ``expires_at``. Audited."""
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
