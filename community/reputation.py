"""Reputation: an append-only ledger whose per-source sums converge on the current facts.

Every fact that is worth points has a *source* key ("vote:a:12:7" = voter 7's vote on answer 12).
When a fact changes (a vote is withdrawn or flipped, an acceptance moves, a post is hidden) the
service calls ``_converge`` with the points the source is worth *now*; it writes a reversal of the
old worth and an event for the new one. So the ledger keeps full history, a source never counts
twice, and ``User.reputation`` is updated by the same delta in the same transaction.

Callers are community services (votes, acceptance, validation flag, ratings) and moderation
(``post_hidden_set``); this module imports only community models.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from .audit import audit_log
from .models import Answer, Question, ReputationEvent, User

POINTS = {
    "upvote": 10,
    "downvote": -2,
    "accepted": 15,
    "validated": 25,
    "helpful_rating": 5,
    "post_hidden": -20,
}
REVERSAL = "reversal"
SERIAL_REVERSAL = "serial_reversal"
VOTE_KINDS = ("upvote", "downvote")


def _post_key(post: Question | Answer) -> str:
    return f"q:{post.pk}" if isinstance(post, Question) else f"a:{post.pk}"


def _post_area_id(post: Question | Answer) -> int | None:
    if isinstance(post, Question):
        return post.area_id
    return Question.objects.filter(pk=post.question_id).values_list("area_id", flat=True).first()


def _converge(
    *,
    user_id: int,
    source: str,
    kind: str,
    points: int,
    voter_id: int | None = None,
    area_id: int | None = None,
) -> int:
    """Make ``source`` worth ``points`` to ``user_id``: reverse its current worth, then record the
    new one. Returns the change. A source voided by serial-vote reversal stays worth 0.

    Caller holds the transaction (the cached total is updated in it)."""
    events = ReputationEvent.objects.filter(user_id=user_id, source=source)
    if points and events.filter(kind=SERIAL_REVERSAL).exists():
        points = 0
    current = events.aggregate(total=Sum("points"))["total"] or 0
    if current == points:
        return 0
    now = timezone.now()
    rows = []
    if current:
        rows.append(
            ReputationEvent(
                user_id=user_id,
                kind=REVERSAL,
                points=-current,
                source=source,
                voter_id=voter_id,
                area_id=area_id,
                created_at=now,
            )
        )
    if points:
        rows.append(
            ReputationEvent(
                user_id=user_id,
                kind=kind,
                points=points,
                source=source,
                voter_id=voter_id,
                area_id=area_id,
                created_at=now,
            )
        )
    ReputationEvent.objects.bulk_create(rows)
    delta = points - current
    User.objects.filter(pk=user_id).update(reputation=F("reputation") + delta)
    return delta


def vote_changed(*, post: Question | Answer, voter: User, value: int) -> int:
    """Reflect ``voter``'s vote (1, -1 or 0) on ``post`` in its author's reputation."""
    kind = "upvote" if value > 0 else "downvote"
    return _converge(
        user_id=post.author_id,
        source=f"vote:{_post_key(post)}:{voter.pk}",
        kind=kind,
        points=POINTS[kind] if value else 0,
        voter_id=voter.pk,
        area_id=_post_area_id(post),
    )


def acceptance_changed(
    *, question: Question, previous: Answer | None, current: Answer | None
) -> None:
    """Move the accepted-answer points of ``question`` from ``previous``'s author to
    ``current``'s. Accepting one's own answer earns nothing."""
    source = f"accepted:q:{question.pk}"
    if previous is not None:
        _converge(user_id=previous.author_id, source=source, kind="accepted", points=0)
    if current is not None:
        worth = 0 if current.author_id == question.author_id else POINTS["accepted"]
        _converge(
            user_id=current.author_id,
            source=source,
            kind="accepted",
            points=worth,
            area_id=question.area_id,
        )


def validation_changed(*, answer: Answer, validated: bool) -> int:
    """Award or withdraw the validated-answer points of ``answer``."""
    return _converge(
        user_id=answer.author_id,
        source=f"validated:a:{answer.pk}",
        kind="validated",
        points=POINTS["validated"] if validated else 0,
        area_id=_post_area_id(answer),
    )


def rating_changed(*, rating) -> int:
    """Award the helpful-rating points for a 4-5 rating to the rated expert."""
    helpful = rating.score >= 4
    return _converge(
        user_id=rating.expert_id,
        source=f"rating:q:{rating.question_id}",
        kind="helpful_rating",
        points=POINTS["helpful_rating"] if helpful else 0,
        area_id=Question.objects.filter(pk=rating.question_id)
        .values_list("area_id", flat=True)
        .first(),
    )


@transaction.atomic
def post_hidden_set(*, post: Question | Answer, hidden: bool) -> int:
    """Apply (or lift, on restore) the hidden-post penalty. For moderation's hide/restore services."""
    return _converge(
        user_id=post.author_id,
        source=f"hidden:{_post_key(post)}",
        kind="post_hidden",
        points=POINTS["post_hidden"] if hidden else 0,
        area_id=_post_area_id(post),
    )


def ledger_totals(*, user_ids=None) -> dict[int, int]:
    """Reputation recomputed from scratch: the ledger's sum per user (one query)."""
    qs = ReputationEvent.objects.all()
    if user_ids is not None:
        qs = qs.filter(user_id__in=list(user_ids))
    return dict(qs.values("user_id").annotate(total=Sum("points")).values_list("user_id", "total"))


@transaction.atomic
def reputation_resync() -> int:
    """Rewrite every cached ``User.reputation`` from the ledger; returns how many were wrong."""
    totals = ledger_totals()
    wrong = [
        user
        for user in User.objects.only("pk", "reputation")
        if user.reputation != totals.get(user.pk, 0)
    ]
    for user in wrong:
        user.reputation = totals.get(user.pk, 0)
    User.objects.bulk_update(wrong, ["reputation"], batch_size=500)
    return len(wrong)


@transaction.atomic
def serial_votes_reverse(*, now: dt.datetime | None = None) -> int:
    """Void the reputation from serial voting: a voter who cast more than SERIAL_VOTE_LIMIT votes
    on one author's posts within 24 hours. Idempotent (voided sources stay at 0); each reversal
    is audited. Returns how many vote sources were voided."""
    now = now or timezone.now()
    limit = settings.PEERDESK["SERIAL_VOTE_LIMIT"]
    recent = ReputationEvent.objects.filter(
        kind__in=VOTE_KINDS, voter__isnull=False, created_at__gte=now - dt.timedelta(hours=24)
    )
    pairs = (
        recent.values("voter_id", "user_id")
        .annotate(votes=Count("source", distinct=True))
        .filter(votes__gt=limit)
        .values_list("voter_id", "user_id")
    )
    voided = 0
    for voter_id, user_id in pairs:
        sources = set(
            recent.filter(voter_id=voter_id, user_id=user_id).values_list("source", flat=True)
        )
        worth = dict(
            ReputationEvent.objects.filter(user_id=user_id, source__in=sources)
            .values("source")
            .annotate(total=Sum("points"), voided=Count("pk", filter=Q(kind=SERIAL_REVERSAL)))
            .filter(voided=0)
            .exclude(total=0)
            .values_list("source", "total")
        )
        if not worth:
            continue
        ReputationEvent.objects.bulk_create(
            ReputationEvent(
                user_id=user_id,
                kind=SERIAL_REVERSAL,
                points=-total,
                source=source,
                voter_id=voter_id,
                created_at=now,
            )
            for source, total in worth.items()
        )
        User.objects.filter(pk=user_id).update(reputation=F("reputation") - sum(worth.values()))
        user = User.objects.get(pk=user_id)
        audit_log(
            actor=None,
            action="community.reputation.serial_votes_reversed",
            target=user,
            data={"voter": voter_id, "sources": sorted(worth), "points": -sum(worth.values())},
        )
        voided += len(worth)
    return voided


def rank_for(reputation: int) -> str:
    """The rank name for a reputation total (PEERDESK["RANKS"], highest threshold first)."""
    for threshold, name in settings.PEERDESK["RANKS"]:
        if reputation >= threshold:
            return name
    return settings.PEERDESK["RANKS"][-1][1]
