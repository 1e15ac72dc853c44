"""Knowledge's subscriptions to community events."""

from django.dispatch import receiver

from community import events

from . import services


@receiver(events.answer_edited, dispatch_uid="knowledge.answer_edited")
def on_answer_edited(sender, *, answer, revision, editor, **kwargs):
    services.answer_edited_mark_stale(answer=answer, revision=revision, editor=editor)


@receiver(events.thread_changed, dispatch_uid="knowledge.thread_changed")
def on_thread_changed(sender, *, question_id, **kwargs):
    services.thread_changed_schedule_index(question_id=question_id)


@receiver(events.threads_imported, dispatch_uid="knowledge.threads_imported")
def on_threads_imported(sender, *, question_ids, **kwargs):
    # One outbox write and one task for a whole import, not one per thread.
    services.threads_imported_schedule_index(question_ids=question_ids)
