"""Keeping the search index in line with the database, without ever failing the user's request.

Services call ``schedule_index`` inside their transaction: it writes outbox rows (so the intent
commits with the change) and, on commit, sends the sync task. If the broker is down the send
fails quietly; the periodic reconcile task drains the outbox when it is back.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterable, Iterator

from django.db import transaction
from django.utils import timezone

from community import broker

from .models import SearchIndexOutbox

logger = logging.getLogger(__name__)
_deferred: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "peerdesk_index_deferred", default=False
)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Batch jobs (demo load, imports): write outbox rows but send no task per change; the caller
    syncs the outbox once at the end (or the reconcile task does)."""
    token = _deferred.set(True)
    try:
        yield
    finally:
        _deferred.reset(token)


def article_doc_id(article_id: int) -> str:
    return f"article:{article_id}"


def question_doc_id(question_id: int) -> str:
    return f"question:{question_id}"


def schedule_index(doc_ids: Iterable[str]) -> None:
    """Record ``doc_ids`` for (re)indexing and send the sync task once the transaction commits."""
    doc_ids = sorted(set(doc_ids))
    if not doc_ids:
        return
    now = timezone.now()
    # Touch created_at on conflict, so a sync that started before this change cannot clear it.
    SearchIndexOutbox.objects.bulk_create(
        [SearchIndexOutbox(doc_id=d, created_at=now) for d in doc_ids],
        update_conflicts=True,
        unique_fields=["doc_id"],
        update_fields=["created_at"],
    )
    if not _deferred.get():
        transaction.on_commit(lambda: _send_sync_task(doc_ids))


def _send_sync_task(doc_ids: list[str]) -> None:
    from .tasks import search_sync_task

    if not broker.publish(search_sync_task, doc_ids):
        logger.info("%d index updates wait in the outbox for the reconcile task.", len(doc_ids))
