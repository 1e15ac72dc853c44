"""Write rate limits, enforced in services so pages and API share them.

A fixed one-minute window per user and kind, counted in the shared cache. Trusted batch jobs
(demo loading) wrap their work in ``ratelimit.suspended()``.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator

from django.conf import settings
from django.core.cache import cache

_suspended: contextvars.ContextVar[bool] = contextvars.ContextVar("peerdesk_rl_off", default=False)
WINDOW_SECONDS = 60


class RateLimited(Exception):
    def __init__(self, kind: str, retry_after: int) -> None:
        self.kind = kind
        self.retry_after = retry_after
        super().__init__(
            f"Too many {kind} actions. Please wait {retry_after} seconds and try again."
        )


@contextlib.contextmanager
def suspended() -> Iterator[None]:
    token = _suspended.set(True)
    try:
        yield
    finally:
        _suspended.reset(token)


def consume(*, user, kind: str) -> None:
    """Count one ``kind`` write by ``user``; raise RateLimited when the window's allowance is spent."""
    limit = settings.PEERDESK["RATE_LIMITS"].get(kind)
    if not limit or _suspended.get():
        return
    now = int(time.time())
    window = now // WINDOW_SECONDS
    key = f"rl:{kind}:{user.pk}:{window}"
    cache.add(key, 0, timeout=WINDOW_SECONDS + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS + 5)
        count = 1
    if count > limit:
        raise RateLimited(kind, retry_after=(window + 1) * WINDOW_SECONDS - now)
