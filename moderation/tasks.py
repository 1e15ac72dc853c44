"""Thin, idempotent Celery tasks of moderation. They take ids, re-read the database and call
services; the services make repeats harmless."""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.cache import cache

from .protocols import services as protocol_services

logger = logging.getLogger(__name__)

TICK_LOCK = "moderation:protocols-tick"
TICK_LOCK_SECONDS = 300


@shared_task
def protocols_tick_task() -> dict[str, int]:
    """The beat's protocol evaluation (every minute). Overlapping runs skip rather than queue up:
    a slow tick is followed by one that catches up, which the services make safe."""
    if not cache.add(TICK_LOCK, "1", timeout=TICK_LOCK_SECONDS):
        logger.info("Protocol tick skipped: the previous one is still running.")
        return {}
    try:
        result = protocol_services.protocols_tick()
    finally:
        cache.delete(TICK_LOCK)
    return vars(result)


@shared_task(
    bind=True,
    autoretry_for=(Exception,),
    retry_backoff=5,
    retry_backoff_max=120,
    max_retries=5,
)
def protocols_question_created_task(self, question_id: int) -> int:
    """Apply new-question protocols to one thread now; the tick covers it if this never runs."""
    return protocol_services.protocols_evaluate_question(question_id=question_id).assigned
