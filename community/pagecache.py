"""Whole-page cache for anonymous visitors, invalidated by every write.

A visitor without a session or messages cookie sees a page that depends only on its URL and the
database: no CSRF token, no vote state, no flash message. Such GET pages of the views listed in
``settings.PEERDESK_PAGE_CACHE["VIEWS"]`` are cached under a key that includes a *content
generation*. The generation changes after every unsafe request (any POST/PUT/PATCH/DELETE through a
page, the API or the admin, whatever its outcome) and on commit of every ``thread_changed`` /
``threads_imported`` event (so imports, commands and worker tasks that go through services count
too). A write therefore never leaves a stale page behind: the next visitor misses and renders.
Time-based changes (naturaltime, lapsing certifications) are bounded by the entry timeout.

The generation lives in the ``default`` cache (shared by every web process and the worker); the
pages live in the ``pages`` cache alias when one is configured (a per-process locmem by default,
so a hit costs no I/O beyond reading the generation).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import caches
from django.core.paginator import Paginator
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils.functional import cached_property

from . import events

GENERATION_KEY = "peerdesk:pages:generation"
HEADER = "X-Page-Cache"
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")


def _config() -> dict:
    return getattr(settings, "PEERDESK_PAGE_CACHE", {}) or {}


def _page_cache():
    return caches["pages"] if "pages" in settings.CACHES else caches["default"]


def content_generation() -> str:
    """The current content generation (created on first use or after eviction)."""
    cache = caches["default"]
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        # A fresh random value, never a counter: an evicted counter restarting at 1 would make
        # pages cached under the old 1 current again.
        generation = uuid.uuid4().hex
        if not cache.add(GENERATION_KEY, generation, timeout=None):
            generation = cache.get(GENERATION_KEY) or generation
    return generation


def bump_content_generation() -> None:
    """Make every cached page stale. Call after the change has committed."""
    caches["default"].set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)


def bump_on_commit() -> None:
    """Bump once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(bump_content_generation)


@receiver(events.thread_changed, dispatch_uid="community.pagecache.thread_changed")
def _on_thread_changed(sender, **kwargs) -> None:
    bump_on_commit()


@receiver(events.threads_imported, dispatch_uid="community.pagecache.threads_imported")
def _on_threads_imported(sender, **kwargs) -> None:
    bump_on_commit()


def _is_cacheable_request(request: HttpRequest) -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    # Anyone with a session may be signed in or carry a flash message: always render for them.
    return settings.SESSION_COOKIE_NAME not in request.COOKIES and "messages" not in request.COOKIES


def _key(request: HttpRequest, generation: str) -> str:
    raw = f"{request.method}|{request.get_host()}|{request.get_full_path()}"
    return f"peerdesk:page:{generation}:{hashlib.sha256(raw.encode()).hexdigest()}"


class AnonymousPageCacheMiddleware:
    """Serves cached pages to anonymous visitors and bumps the generation after unsafe requests.

    Place it last in MIDDLEWARE: it needs the resolved view, and every outer middleware still
    processes the cached response (security headers, clickjacking, and so on).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in _SAFE_METHODS:
            try:
                return self.get_response(request)
            finally:
                # Services commit before the view returns, so the next reader sees the change.
                bump_content_generation()
        response = self.get_response(request)
        key = getattr(request, "_peerdesk_page_key", None)
        if key is not None and response.get(HEADER) != "hit":
            if _is_cacheable_response(response):
                headers = [(k, v) for k, v in response.items() if k.lower() != HEADER.lower()]
                _page_cache().set(key, (headers, response.content), _config()["SECONDS"])
            response[HEADER] = "miss"
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        config = _config()
        match = request.resolver_match
        if (
            not config.get("SECONDS")
            or match is None
            or match.view_name not in config.get("VIEWS", ())
            or not _is_cacheable_request(request)
        ):
            return None
        # The generation is read before the view reads the database: a write that commits while
        # this page renders bumps past the key it is stored under, so it is never served stale.
        key = _key(request, content_generation())
        cached = _page_cache().get(key)
        if cached is None:
            request._peerdesk_page_key = key
            return None
        headers, content = cached
        response = HttpResponse(content)
        for name, value in headers:
            response[name] = value
        response[HEADER] = "hit"
        return response


def _is_cacheable_response(response: HttpResponse) -> bool:
    cache_control = response.get("Cache-Control", "")
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and "private" not in cache_control
        and "no-store" not in cache_control
    )


# --- Values derived from the whole table, cached until the next write ------------------------


def generation_cached(name: str, compute: Callable[[], Any]) -> Any:
    """``compute()``, cached under the content generation: exact after any announced write (the
    generation changes) and free on repeat. For aggregates every signed-in page would recompute,
    such as counts over every question. Values must be picklable."""
    return generation_cached_many({name: name}, lambda _missing: {name: compute()})[name]


K = TypeVar("K")
V = TypeVar("V")


def generation_cached_many(
    names: Mapping[K, str], compute_missing: Callable[[list[K]], Mapping[K, V]]
) -> dict[K, V]:
    """``generation_cached`` for several values at once: one cache read for all of ``names``
    (item → name), then ``compute_missing`` for the items not cached, whose values are stored
    in one write. An item ``compute_missing`` leaves out is missing from the result."""
    seconds = _config().get("SECONDS")
    if not seconds:
        return dict(compute_missing(list(names)))
    prefix = f"peerdesk:derived:{content_generation()}:"
    keys = {item: prefix + name for item, name in names.items()}
    cache = _page_cache()
    found = cache.get_many(list(keys.values()))
    values = {item: found[key] for item, key in keys.items() if key in found}
    missing = [item for item in names if item not in values]
    if missing:
        computed = compute_missing(missing)
        cache.set_many({keys[item]: value for item, value in computed.items()}, seconds)
        values.update(computed)
    return values


class CountCachingPaginator(Paginator):
    """A Paginator whose total comes from ``generation_cached``, keyed by the count query's SQL
    (so every filter and the viewer's visibility are part of the key)."""

    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if query is None:
            return super().count
        sql, params = query.sql_with_params()
        digest = hashlib.sha256(f"{sql}|{params!r}".encode()).hexdigest()
        return generation_cached(f"count:{digest}", lambda: Paginator.count.func(self))
