"""Health endpoints for load balancers and orchestrators.

``/health/live`` answers while the process can serve HTTP at all (no database, nothing else).
``/health/ready`` checks what a request needs: the database, the broker and the search index.
A failing check makes it 503 and names the check; details go to the log, not to the caller,
since the endpoint is public and error texts carry internal host names.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from kombu import Connection

from .search import get_backend

logger = logging.getLogger(__name__)

# Below the request budget: a hung dependency makes readiness fail, never hang the probe.
CHECK_TIMEOUT_S = 1.5


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_broker() -> None:
    options = dict(settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    if not settings.CELERY_BROKER_URL.startswith(("filesystem://", "memory://")):
        options.update(socket_timeout=CHECK_TIMEOUT_S, socket_connect_timeout=CHECK_TIMEOUT_S)
    broker = Connection(
        settings.CELERY_BROKER_URL, connect_timeout=CHECK_TIMEOUT_S, transport_options=options
    )
    try:
        # The Redis transport pings on connect, so a broker that accepts and then hangs fails too.
        broker.ensure_connection(max_retries=0, timeout=CHECK_TIMEOUT_S)
    finally:
        broker.release()


def _check_search() -> None:
    get_backend().search("health", page_size=1)


READINESS_CHECKS: dict[str, Callable[[], None]] = {
    "database": _check_database,
    "broker": _check_broker,
    "search": _check_search,
}


@never_cache
@require_safe
def live(request: HttpRequest) -> JsonResponse:
    """Liveness: 200 whenever the process answers. Touches no database or service."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def ready(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when every check passes, else 503 with the failing checks named."""
    checks: dict[str, str] = {}
    timings: dict[str, float] = {}
    for name, check in READINESS_CHECKS.items():
        started = time.monotonic()
        try:
            check()
        except Exception:
            logger.warning("Readiness check %r failed.", name, exc_info=True)
            checks[name] = "failing"
        else:
            checks[name] = "ok"
        timings[name] = round((time.monotonic() - started) * 1000, 1)
    failing = [name for name, state in checks.items() if state != "ok"]
    body = {
        "status": "unavailable" if failing else "ok",
        "failing": failing,
        "checks": checks,
        "ms": timings,
    }
    return JsonResponse(body, status=503 if failing else 200)
