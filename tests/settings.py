"""Test settings: the real settings module, overridden for speed and isolation."""

import tempfile
from pathlib import Path

from config.settings import *  # noqa: F403
from config.settings import PEERDESK

_tmp = Path(tempfile.mkdtemp(prefix="peerdesk-tests-"))

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = _tmp / "media"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = "memory://"
PEERDESK_SEARCH = {"BACKEND": "knowledge.search.whoosh_backend.RamWhooshBackend", "PATH": ""}
PEERDESK = {**PEERDESK, "RATE_LIMITS": dict.fromkeys(PEERDESK["RATE_LIMITS"], 1000)}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
