"""Search-index side of knowledge writes: scheduling and syncing documents."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from ..indexing import article_doc_id, question_doc_id, schedule_index
from ..models import Article, SearchIndexOutbox


def _schedule_article_and_thread(article: Article) -> None:
    doc_ids = [article_doc_id(article.pk)]
    if article.source_question_id:
        doc_ids.append(question_doc_id(article.source_question_id))
    schedule_index(doc_ids)


def search_sync(*, doc_ids: Iterable[str]) -> None:
    """Bring the index in line with the database for ``doc_ids`` and clear their outbox rows.

    Idempotent: each document is re-read; present and visible → upsert, otherwise → delete.
    With semantic search on, changed documents are (re)embedded and deleted ones lose their
    vector.
    """
    from ..search import get_backend, semantic
    from ..search.documents import document_for

    doc_ids = list(dict.fromkeys(doc_ids))
    if not doc_ids:
        return
    started_at = timezone.now()
    backend = get_backend()
    upserts, deletes = [], []
    for doc_id in doc_ids:
        doc = document_for(doc_id)
        (upserts.append(doc) if doc is not None else deletes.append(doc_id))
    if deletes:
        backend.delete(deletes)
    if upserts:
        backend.upsert(upserts)
    # After the index write, so a document is searchable even while its vector is computed; a
    # document without a vector keeps its lexical place.
    semantic.embeddings_sync(upserts=upserts, deletes=deletes)
    # Rows touched after this sync began describe a newer change: leave them for the next sync.
    SearchIndexOutbox.objects.filter(doc_id__in=doc_ids, created_at__lte=started_at).delete()


def search_outbox_pending(*, older_than_seconds: int = 0, limit: int = 500) -> list[str]:
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    return list(
        SearchIndexOutbox.objects.filter(created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("doc_id", flat=True)[:limit]
    )


def thread_changed_schedule_index(*, question_id: int) -> None:
    """A thread's content changed: re-index the thread (its article text is pinned, unchanged)."""
    schedule_index([question_doc_id(question_id)])


def threads_imported_schedule_index(*, question_ids: Iterable[int]) -> None:
    """Re-index threads created or changed by a bulk import, in one batch."""
    schedule_index([question_doc_id(pk) for pk in question_ids])
