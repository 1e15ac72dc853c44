"""Thin, idempotent Celery tasks. They take ids, re-read the database and call services."""

from __future__ import annotations

import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    autoretry_for=(Exception,),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def search_sync_task(self, doc_ids: list[str]) -> None:
    """Index or remove ``doc_ids`` according to the database. Retried with backoff (e.g. on a
    Whoosh LockError); after the last retry the outbox row remains for the reconcile task."""
    services.search_sync(doc_ids=doc_ids)


@shared_task
def search_reconcile_task() -> int:
    """Drain outbox rows that no sync task cleared (broker outage, exhausted retries)."""
    pending = services.search_outbox_pending(older_than_seconds=60)
    if pending:
        logger.info("Reconciling %d search documents from the outbox.", len(pending))
        services.search_sync(doc_ids=pending)
    return len(pending)


@shared_task
def certification_lapses_task() -> int:
    """Flag validations made under certifications that ended since the last run (expiry has no
    event; revocations missed by the receiver are caught too). Idempotent."""
    return services.certification_lapses_process()


@shared_task
def article_recheck_due_task() -> int:
    """Send published articles whose re-check date passed to the review queue. Idempotent."""
    return services.articles_recheck_due()
