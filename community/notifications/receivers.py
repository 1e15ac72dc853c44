"""Notifications' subscriptions to events other apps send through ``community.events``."""

from __future__ import annotations

from django.dispatch import receiver

from .. import events
from ..models import Answer, PostStatus, Question
from . import services

_OUTCOME_TEXT = {
    "dismissed": "A moderator reviewed your flag and left the post as it is.",
    "actioned": "Thanks: a moderator acted on your flag.",
}


@receiver(events.flag_resolved, dispatch_uid="community.notifications.flag_resolved")
def on_flag_resolved(sender, *, flag_id, reporter_id, outcome, action="", **kwargs):
    # ``sender`` is moderation's Flag model: reading the post through it keeps community free of
    # imports from moderation.
    flag = (
        sender._default_manager.select_related("question", "answer__question")
        .filter(pk=flag_id)
        .first()
    )
    answer = getattr(flag, "answer", None)
    question = answer.question if answer is not None else getattr(flag, "question", None)
    text = _OUTCOME_TEXT.get(outcome, f"A moderator resolved your flag ({outcome}).")
    if outcome == "actioned" and action:
        text = f"Thanks: a moderator acted on your flag ({action})."
    services.notify_flag_outcome(
        recipient_id=reporter_id, text=text, question=question, answer=answer
    )


@receiver(events.post_visibility_changed, dispatch_uid="community.notifications.post_approved")
def on_post_visibility_changed(sender, *, post, status, previous, **kwargs):
    # A post held for approval notified nobody when it was written; approval is its publication.
    if previous != PostStatus.PENDING or status != PostStatus.VISIBLE:
        return
    if isinstance(post, Question):
        services.notify_question_created(question=post)
    elif isinstance(post, Answer):
        services.notify_answer_created(answer=post)


@receiver(events.question_directed, dispatch_uid="community.notifications.question_directed")
def on_question_directed(sender, *, directed_id, **kwargs):
    # ``sender`` is the DirectedQuestion model (routing); the chosen person hears about it at once.
    directed = (
        sender._default_manager.select_related("question__author").filter(pk=directed_id).first()
    )
    if directed is not None:
        services.notify_question_directed(
            question=directed.question, expert_id=directed.expert_id, asker=directed.question.author
        )
