"""Search layer entry point: ``get_backend()`` returns the configured backend (long-lived)."""

from __future__ import annotations

import threading

from django.conf import settings
from django.utils.module_loading import import_string

from .base import (
    DOC_TYPE_LABELS,
    DOC_TYPES,
    SearchBackend,
    SearchDocument,
    SearchFilters,
    SearchHit,
    SearchResults,
    SearchUnavailable,
)

__all__ = [
    "DOC_TYPES",
    "DOC_TYPE_LABELS",
    "SearchBackend",
    "SearchDocument",
    "SearchFilters",
    "SearchHit",
    "SearchResults",
    "SearchUnavailable",
    "get_backend",
    "reset_backend",
]

_backend: SearchBackend | None = None
_backend_lock = threading.Lock()


def get_backend() -> SearchBackend:
    """The process-wide backend built from ``settings.PEERDESK_SEARCH`` (created on first use).

    Kept for the life of the process so its searcher stays open between queries. With
    ``SEMANTIC`` on, it is wrapped in ``semantic.SemanticRerankBackend``.
    """
    global _backend
    backend = _backend
    if backend is None:
        with _backend_lock:
            if _backend is None:
                config = settings.PEERDESK_SEARCH
                backend_class = import_string(config["BACKEND"])
                backend = backend_class(config.get("PATH", ""), **config.get("OPTIONS", {}))
                if config.get("SEMANTIC"):
                    # Imports no model: that loads on the first query that needs it.
                    from .semantic import wrap

                    backend = wrap(backend, config)
                _backend = backend
            backend = _backend
    return backend


def reset_backend() -> None:
    """Drop the cached backend (after changing settings in tests, or to reopen the index)."""
    global _backend
    with _backend_lock:
        backend, _backend = _backend, None
    close = getattr(backend, "close", None)
    if close is not None:
        close()
