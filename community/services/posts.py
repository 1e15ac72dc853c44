"""Posting: questions, answers, comments, their edits, acceptance, the validated flag and the
urgent mark. New members' posts may wait for approval (``_new_post_status``)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from .. import events, notifications, ratelimit, reputation, routing, rules
from ..audit import audit_log
from ..markdown import render_markdown
from ..models import (
    Answer,
    AnswerRevision,
    Comment,
    PostStatus,
    ProductArea,
    Question,
    QuestionRevision,
    User,
)
from ._common import _clean_text, _thread_changed, tags_get_or_create

MAX_TAGS = 5


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
    question.tags.set(tags_get_or_create(tag_names))
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
    question.tags.set(tags_get_or_create(tag_names))
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
def answer_set_validated(*, answer: Answer, validated: bool) -> None:
    """Record whether ``answer`` holds an active validation (called by knowledge services)."""
    Answer.objects.filter(pk=answer.pk).update(validated_at=timezone.now() if validated else None)
    reputation.validation_changed(answer=answer, validated=validated)
    _thread_changed(answer.question_id)


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
