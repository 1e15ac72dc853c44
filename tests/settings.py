"""Test settings: the real settings module, overridden for speed and isolation."""

import atexit
import shutil
import tempfile
from pathlib import Path

from config.settings import *  # noqa: F403
from config.settings import PEERDESK

_tmp = Path(tempfile.mkdtemp(prefix="peerdesk-tests-"))
atexit.register(shutil.rmtree, _tmp, ignore_errors=True)  # uploaded media of this test run

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tests build state with factories between requests, which no request or service announces; the
# anonymous page cache is tested on its own (tests/community/test_pagecache.py) with the
# ``settings`` fixture.
PEERDESK_PAGE_CACHE = {**PEERDESK_PAGE_CACHE, "SECONDS": 0}  # noqa: F405
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = _tmp / "media"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = "memory://"
PEERDESK_SEARCH = {"BACKEND": "knowledge.search.whoosh_backend.RamWhooshBackend", "PATH": ""}
PEERDESK = {
    **PEERDESK,
    "RATE_LIMITS": dict.fromkeys(PEERDESK["RATE_LIMITS"], 1000),
    # Most tests post as brand-new members; moderation tests turn pre-moderation on with the
    # ``settings`` fixture.
    "PREMODERATION_FIRST_POSTS": 0,
}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
