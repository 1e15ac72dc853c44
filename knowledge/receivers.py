"""Knowledge's subscriptions to community events."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from community import events
from community.models import Answer, PostStatus, Question

from . import services
from .services import search_log


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


@receiver(events.answer_score_changed, dispatch_uid="knowledge.answer_score_changed")
def on_answer_score_changed(sender, *, answer, score, previous_score, **kwargs):
    services.answer_score_changed_check(answer=answer, score=score, previous_score=previous_score)


@receiver(events.certification_ended, dispatch_uid="knowledge.certification_ended")
def on_certification_ended(sender, *, certification, cause, **kwargs):
    services.certification_lapse_process(certification=certification, cause=cause)


@receiver(events.post_visibility_changed, dispatch_uid="knowledge.post_visibility_changed")
def on_post_visibility_changed(sender, *, post, status, previous, actor, **kwargs):
    if isinstance(post, Answer) and status == PostStatus.HIDDEN:
        services.answer_hidden_send_to_review(answer=post, actor=actor)


@receiver(events.question_created, dispatch_uid="knowledge.question_created_deflections")
def on_question_created_cancel_deflections(sender, *, question_id, **kwargs):
    question = Question.objects.filter(pk=question_id).only("pk", "author", "created_at").first()
    if question is not None:
        search_log.ask_deflections_cancel(question=question)


@receiver(user_logged_in, dispatch_uid="knowledge.login_claim_deflections")
def on_user_logged_in_claim_deflections(sender, *, request, user, **kwargs):
    # Suggestions clicked while signed out belong to whoever signs in on that session.
    session = getattr(request, "session", None)
    if session is not None:
        ids = session.get(search_log.SESSION_DEFLECTIONS_KEY) or []
        search_log.ask_deflections_claim(deflection_ids=ids, user=user)
