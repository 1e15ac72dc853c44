"""Thin, idempotent periodic tasks of the community app (scheduled in CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task

from . import badges, expert_program, notifications, reputation, routing


@shared_task
def directed_fallback_task() -> int:
    """Move overdue directed questions back to the open community."""
    return routing.directed_fallback_overdue()


@shared_task
def badges_award_task() -> int:
    """Award badges whose rules now hold."""
    return badges.badges_award()


@shared_task
def serial_votes_reverse_task() -> int:
    """Void reputation from serial voting in the last 24 hours."""
    return reputation.serial_votes_reverse()


@shared_task
def certification_expiry_remind_task() -> int:
    """Remind experts whose certification is about to lapse (once per term)."""
    return expert_program.certification_expiry_remind()


# --- Notifications (issue 4) -------------------------------------------------------------------


@shared_task(
    bind=True,
    autoretry_for=(Exception,),
    retry_backoff=2,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def notifications_email_task(self, notification_ids: list[int]) -> int:
    """Email instant notifications by id; ones already emailed are skipped, so a retry or a
    duplicate delivery never sends twice. Retried with backoff (SMTP outages)."""
    return sum(notifications.notification_email_send(notification_id=pk) for pk in notification_ids)


@shared_task(
    bind=True,
    autoretry_for=(Exception,),
    retry_backoff=60,
    retry_backoff_max=1800,
    max_retries=5,
)
def notifications_digest_task(self) -> int:
    """Send the daily digests; members already sent are skipped on a retry."""
    return notifications.notifications_send_digests()


@shared_task
def notifications_email_sweep_task() -> int:
    """Send instant emails that no task delivered (the broker was down when they were created)."""
    from .notifications.email import notifications_unsent_instant_ids

    ids = notifications_unsent_instant_ids()
    return sum(notifications.notification_email_send(notification_id=pk) for pk in ids)
