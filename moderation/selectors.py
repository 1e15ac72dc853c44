"""Moderation reads: the flag queue, posts waiting for approval, a member's sanctions.

Callers check ``community.rules.can_moderate`` first: everything here shows hidden content.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from community.models import Answer, PostStatus, ProductArea, Question, Sanction, User

from .models import Flag

# Age filters of the queue: label and (older than, newer than) bounds.
QUEUE_AGES: dict[str, tuple[str, dt.timedelta | None, dt.timedelta | None]] = {
    "": ("Any age", None, None),
    "day": ("Last 24 hours", None, dt.timedelta(days=1)),
    "older": ("Older than 24 hours", dt.timedelta(days=1), None),
    "week": ("Older than a week", dt.timedelta(days=7), None),
}


def flag_queue(
    *, reason: str = "", area: ProductArea | None = None, age: str = ""
) -> QuerySet[Flag]:
    """Open flags, oldest first, with their post, thread, area and people loaded."""
    qs = Flag.objects.filter(status=Flag.Status.OPEN).select_related(
        "reporter",
        "duplicate_of",
        "question__area",
        "question__author",
        "answer__author",
        "answer__question__area",
    )
    if reason:
        qs = qs.filter(reason=reason)
    if area is not None:
        qs = qs.filter(Q(question__area=area) | Q(answer__question__area=area))
    _label, older_than, newer_than = QUEUE_AGES.get(age, QUEUE_AGES[""])
    now = timezone.now()
    if older_than is not None:
        qs = qs.filter(created_at__lte=now - older_than)
    if newer_than is not None:
        qs = qs.filter(created_at__gt=now - newer_than)
    return qs.order_by("created_at", "id")


def open_flag_counts(*, flags: list[Flag]) -> Counter:
    """How many open flags each post of ``flags`` carries, keyed by ``Flag.post_key`` (two
    queries for a whole page)."""
    question_ids = {f.question_id for f in flags if f.question_id}
    answer_ids = {f.answer_id for f in flags if f.answer_id}
    counts: Counter = Counter()
    open_flags = Flag.objects.filter(status=Flag.Status.OPEN)
    if question_ids:
        for row in (
            open_flags.filter(question_id__in=question_ids)
            .values("question_id")
            .annotate(n=Count("id"))
        ):
            counts[f"q{row['question_id']}"] = row["n"]
    if answer_ids:
        for row in (
            open_flags.filter(answer_id__in=answer_ids).values("answer_id").annotate(n=Count("id"))
        ):
            counts[f"a{row['answer_id']}"] = row["n"]
    return counts


def flag_get(*, pk: int) -> Flag:
    return get_object_or_404(
        Flag.objects.select_related("question__area", "answer__question__area"), pk=pk
    )


def flags_for_post(*, post: Question | Answer) -> QuerySet[Flag]:
    """Every flag on ``post`` (open first, then newest), with reporters."""
    lookup = {"question": post} if isinstance(post, Question) else {"answer": post}
    return (
        Flag.objects.filter(**lookup)
        .select_related("reporter", "resolved_by", "duplicate_of")
        .order_by("-status", "-created_at")
    )


def open_flags_on(*, post: Question | Answer) -> QuerySet[Flag]:
    lookup = {"question": post} if isinstance(post, Question) else {"answer": post}
    return Flag.objects.filter(status=Flag.Status.OPEN, **lookup)


def flagged_post_keys(*, viewer, question: Question, answers) -> frozenset[str]:
    """Which posts of a thread page ``viewer`` has already flagged ("q<id>", "a<id>"), in one
    query."""
    if not getattr(viewer, "is_authenticated", False):
        return frozenset()
    rows = Flag.objects.filter(
        Q(question=question) | Q(answer__in=[a.pk for a in answers]), reporter=viewer
    ).values_list("question_id", "answer_id")
    return frozenset(f"q{q}" if q else f"a{a}" for q, a in rows)


def pending_questions() -> QuerySet[Question]:
    """Questions waiting for approval, oldest first."""
    return (
        Question.objects.filter(status=PostStatus.PENDING)
        .select_related("author", "area")
        .order_by("created_at", "id")
    )


def pending_answers() -> QuerySet[Answer]:
    """Answers waiting for approval, oldest first, with their thread."""
    return (
        Answer.objects.filter(status=PostStatus.PENDING)
        .select_related("author", "question__area")
        .order_by("created_at", "id")
    )


def post_get(*, kind: str, pk: int) -> Question | Answer:
    """A post of any status for the moderation page (404 when missing)."""
    if kind == "question":
        return get_object_or_404(
            Question.objects.select_related("area", "author", "hidden_by", "merged_into"), pk=pk
        )
    return get_object_or_404(
        Answer.objects.select_related("question__area", "author", "hidden_by"), pk=pk
    )


def member_get(*, username: str) -> User:
    return get_object_or_404(User, username=username)


def sanction_list(*, user: User) -> QuerySet[Sanction]:
    return Sanction.objects.filter(user=user).select_related("issued_by")
