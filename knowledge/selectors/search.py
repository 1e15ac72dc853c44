"""Searches as the viewer may run them (articles and threads, spelling correction, similar
questions) and the search log's gaps: queries that found nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.db.models import Count, Max

from community.rules import is_staff_member

from ..search.base import SearchFilters, SearchResults


def search_run(
    *,
    viewer,
    query: str,
    area: str | None = None,
    tag: str | None = None,
    type: str | None = None,  # mirrors SearchFilters.type and the ?type= parameter
    page: int = 1,
    page_size: int = 10,
    tier: str | None = None,
    correct: bool = True,
) -> SearchResults:
    """Search articles and threads as ``viewer`` (``area``/``tag`` are slugs, ``type`` a DOC_TYPE,
    ``tier`` a search.base.TIERS name).

    Customers see public documents only; staff also see internal ones. When the query finds
    fewer than CORRECT_BELOW_HITS and its spelling correction finds as many, the corrected results
    come back with ``corrected_query`` set (``correct=False``: "search instead for" the exact
    words). Reads the search index.
    """
    # Imported here like services.search_sync: the backend module loads lazily from settings.
    from ..search import get_backend

    audiences = ("public", "internal") if is_staff_member(viewer) else ("public",)
    filters = SearchFilters(
        area=area or None,
        tag=tag or None,
        type=type or None,
        audiences=audiences,
        tier=tier or None,
    )
    backend = get_backend()
    page, page_size = max(1, page), max(1, page_size)
    results = backend.search(query, filters=filters, page=page, page_size=page_size)
    if not correct or results.total >= CORRECT_BELOW_HITS:
        return results
    suggestion = next(iter(backend.suggest(query, limit=1)), "")
    if not suggestion or suggestion.lower() == (query or "").strip().lower():
        return results
    corrected = backend.search(suggestion, filters=filters, page=page, page_size=page_size)
    # Typo tolerance may already have found the same documents; the corrected words match
    # them exactly, so they win ties (and tell the reader what was searched).
    if corrected.total == 0 or corrected.total < results.total:
        return results
    return dataclasses.replace(corrected, query=query, corrected_query=suggestion)


CORRECT_BELOW_HITS = 3


def search_similar(*, viewer, text: str, limit: int = 5) -> list:
    """Articles and threads resembling ``text`` (a question being typed), as ``viewer`` may see them.

    Reads the search index; returns SearchHits.
    """
    from ..search import get_backend

    audiences = ("public", "internal") if is_staff_member(viewer) else ("public",)
    return get_backend().similar(text, filters=SearchFilters(audiences=audiences), limit=limit)


SEARCH_GAP_DAYS = 30


def search_gaps(*, days: int = SEARCH_GAP_DAYS, limit: int = 100) -> list[dict]:
    """Queries that found nothing in the last ``days``, most frequent first (one query).

    Each row: ``normalized``, ``example`` (one typed form), ``count``, ``last_seen``. Searches
    whose typo was auto-corrected into hits are not gaps (their hit_count is the shown hits).
    """
    from django.utils import timezone

    from ..models import SearchQueryLog

    since = timezone.now() - dt.timedelta(days=days)
    return list(
        SearchQueryLog.objects.filter(hit_count=0, created_at__gte=since)
        .exclude(normalized="")
        .values("normalized")
        .annotate(count=Count("id"), last_seen=Max("created_at"), example=Max("query"))
        .order_by("-count", "-last_seen", "normalized")[:limit]
    )
