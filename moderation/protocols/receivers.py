"""Protocols' subscriptions to community events."""

from __future__ import annotations

from django.db import transaction
from django.dispatch import receiver

from community import events


@receiver(events.question_created, dispatch_uid="moderation.protocols.question_created")
def on_question_created(sender, *, question_id, **kwargs):
    # Assign after commit, in the worker: the asker's request never waits on protocol matching,
    # and a rolled-back question is never assigned. The tick is the safety net if this is lost.
    from community import broker

    from ..tasks import protocols_question_created_task

    transaction.on_commit(lambda: broker.publish(protocols_question_created_task, question_id))
