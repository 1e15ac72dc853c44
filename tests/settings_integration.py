"""Integration settings: the production engines on loopback — PostgreSQL, Redis as broker and cache,
an on-disk Whoosh index shared with a real Celery worker subprocess."""

import os
import tempfile

import dj_database_url

from tests.settings import *  # noqa: F403

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("INTEGRATION_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/peerdesk_it")
    )
}
DATABASES["default"]["TEST"] = {"NAME": "peerdesk_it_test"}
REDIS_URL = os.environ.get("INTEGRATION_REDIS_URL", "redis://127.0.0.1:6379/15")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
}
# A worker subprocess may be started on RabbitMQ instead (tests/integration/conftest.py).
CELERY_BROKER_URL = os.environ.get("INTEGRATION_BROKER_URL", REDIS_URL)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_timeout": 2,
    "socket_connect_timeout": 2,
    "max_retries": 1,
}
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_EAGER_PROPAGATES = False
PEERDESK_SEARCH = {
    # The worker subprocess gets the test's backend through this variable (see conftest).
    "BACKEND": os.environ.get(
        "INTEGRATION_SEARCH_BACKEND", "knowledge.search.whoosh_backend.WhooshBackend"
    ),
    "PATH": os.environ.get("SEARCH_INDEX_PATH") or tempfile.mkdtemp(prefix="peerdesk-it-index-"),
}
