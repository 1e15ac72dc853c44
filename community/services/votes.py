"""Votes on questions and answers, with their score and reputation."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from .. import events, ratelimit, reputation, rules
from ..models import Answer, Question, User, Vote
from ._common import _thread_changed


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
