"""Peerdesk settings: one module, driven by environment variables, with safe local defaults.

The embedded default (no variables set) runs on SQLite in WAL mode, a local Whoosh index and a
filesystem Celery broker, so `make run` needs no external server. Production sets
PEERDESK_ENV=production plus DATABASE_URL, CELERY_BROKER_URL and SECRET_KEY; see README "Operations".
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


PRODUCTION = env("PEERDESK_ENV", "development") == "production"
DEBUG = env_bool("DEBUG", not PRODUCTION)
VAR_DIR = Path(env("PEERDESK_VAR_DIR", str(BASE_DIR / "var")))

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when PEERDESK_ENV=production.")
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", "" if PRODUCTION else "localhost,127.0.0.1,[::1],testserver"
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "community",
    "knowledge",
    "moderation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "community.middleware.RequestContextMiddleware",
    # Last: it needs the resolved view (see community/pagecache.py).
    "community.pagecache.AnonymousPageCacheMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "community.context_processors.roles",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'peerdesk.sqlite3'}")
# Connections are kept for a minute between requests; a kept one is checked at the start of the
# next request, so a database restart or failover costs a reconnect, not a 500 per worker.
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=0 if DEBUG else 60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers proceed while the worker writes; IMMEDIATE avoids "database is locked"
        # upgrades in the middle of a write transaction.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "community.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "community:home"

# --- allauth: email log-in, mandatory verification ------------------------------------------
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key", "signup": "20/m/ip"}
ACCOUNT_FORMS = {"signup": "community.forms.SignupForm"}

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25") or 25)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Peerdesk <no-reply@peerdesk.localhost>")
# Emails carry absolute links (threads, one-click unsubscribe); there is no request to build them from.
PEERDESK_SITE_URL = env("SITE_URL", "http://localhost:8000") or "http://localhost:8000"

# --- Cache ----------------------------------------------------------------------------------
CACHE_URL = env("CACHE_URL", "")
if CACHE_URL.startswith("redis://"):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
else:
    # A file cache is shared by the web server and the worker of the embedded default, which
    # the rate limiter needs; locmem would give each process its own counters.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
# Anonymous pages (community/pagecache.py): per process, so a hit reads no file or socket; the
# content generation that keys them lives in "default", shared by every process.
CACHES["pages"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "peerdesk-pages",
    "OPTIONS": {"MAX_ENTRIES": int(env("PAGE_CACHE_MAX_ENTRIES", "500") or 500)},
}
PEERDESK_PAGE_CACHE = {
    # Bounds only what no request or service announces (relative times, lapsing certifications).
    "SECONDS": int(env("PAGE_CACHE_SECONDS", "60") or 0),
    "VIEWS": {
        "community:home",
        "community:area",
        "community:tag",
        "community:unanswered",
        "community:question",
        "knowledge:home",
        "knowledge:article",
    },
}
# Signed-in renders reuse per-answer and per-list-item HTML (community/templatetags/
# fragment_tags.py) from a per-process memory cache keyed by every input of the fragment.
# A 30-answer thread is about 30 entries of a few KB each; this bounds the memory per process.
PEERDESK_FRAGMENT_CACHE = {"MAX_ENTRIES": int(env("FRAGMENT_CACHE_ENTRIES", "20000"))}

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# In development WhiteNoise serves straight from the finders; production serves collectstatic output.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
AVATAR_MAX_BYTES = 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Celery ---------------------------------------------------------------------------------
# The embedded default uses kombu's filesystem transport: a real broker queue on local disk, so
# `make run` starts a real worker without Redis or RabbitMQ.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = str(VAR_DIR / "broker")
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": _queue_dir,
        "data_folder_out": _queue_dir,
        "processed_folder": str(VAR_DIR / "broker-processed"),
        "control_folder": str(VAR_DIR / "broker-control"),
        "store_processed": False,
    }
    for _folder in (_queue_dir, VAR_DIR / "broker-processed", VAR_DIR / "broker-control"):
        Path(_folder).mkdir(parents=True, exist_ok=True)
else:
    # A hung broker must never hold a web request: fail fast and let the outbox/reconcile catch up.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_timeout": 2,
        "socket_connect_timeout": 2,
        "max_retries": 1,
    }
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ROUTES = {
    # Whoosh allows one writer: every index write goes to one queue served with concurrency 1.
    "knowledge.tasks.search_*": {"queue": "search"},
}
CELERY_BEAT_SCHEDULE = {
    # Protocols: fire triggers, escalate overdue threads, close resolved ones (idempotent).
    "protocols-tick": {"task": "moderation.tasks.protocols_tick_task", "schedule": 60.0},
    # One email per member with their pending "daily digest" notifications, at 07:00 UTC.
    "notifications-digest": {
        "task": "community.tasks.notifications_digest_task",
        "schedule": crontab(hour=7, minute=0),
    },
    "search-reconcile": {"task": "knowledge.tasks.search_reconcile_task", "schedule": 300.0},
    "notifications-sweep": {
        "task": "community.tasks.notifications_email_sweep_task",
        "schedule": 300.0,
    },
    "directed-fallback": {"task": "community.tasks.directed_fallback_task", "schedule": 60.0},
    "badges-award": {"task": "community.tasks.badges_award_task", "schedule": 900.0},
    "serial-votes": {"task": "community.tasks.serial_votes_reverse_task", "schedule": 3600.0},
    # Experts hear that their certification ends within 30 days (once per term).
    "certification-expiry-reminders": {
        "task": "community.tasks.certification_expiry_remind_task",
        "schedule": 3600.0,
    },
    # Knowledge upkeep: ended certifications flag their validations; due articles go to review.
    "certification-lapses": {
        "task": "knowledge.tasks.certification_lapses_task",
        "schedule": 900.0,
    },
    "article-rechecks": {"task": "knowledge.tasks.article_recheck_due_task", "schedule": 3600.0},
}

# --- Search ---------------------------------------------------------------------------------
PEERDESK_SEARCH = {
    "BACKEND": env("SEARCH_BACKEND", "knowledge.search.whoosh_backend.WhooshBackend"),
    "PATH": env("SEARCH_INDEX_PATH", str(VAR_DIR / "index")),
    # PostgreSQL backend: a search statement running longer is cancelled and the page answers
    # 503 "try again" (0: no limit). Whoosh queries run in-process and take no limit.
    "TIMEOUT_MS": int(env("SEARCH_TIMEOUT_MS", "2000")),
    # Semantic re-ranking (knowledge/search/semantic.py, docs/search.md): a local embedding model
    # re-orders the top lexical candidates. Needs the "semantic" extra (PyTorch CPU, ~1.4 GB).
    "SEMANTIC": env_bool("SEARCH_SEMANTIC", False),
    "SEMANTIC_OPTIONS": {
        "candidates": int(env("SEARCH_SEMANTIC_CANDIDATES", "50")),
        "fusion": env("SEARCH_SEMANTIC_FUSION", "minmax"),
        "weight": float(env("SEARCH_SEMANTIC_WEIGHT", "0.8")),
    },
    # Torch threads per process for embedding (more only helps a dedicated, idle machine).
    "SEMANTIC_THREADS": int(env("SEARCH_SEMANTIC_THREADS", "1")),
}
# How trust signals re-order text matches (docs/search.md): final score =
#   text score * (1 + tier·w_tier + log1p(votes⁺)·w_votes + 0.5^(age/half-life)·w_freshness
#                 + log1p(usage)·w_usage)
# tier is 0 (unverified) … 4 (validated by staff). Text relevance stays dominant: with these
# weights a staff-validated, much-used, fresh article scores at most ~2.4 times an equal-text thread.
PEERDESK_SEARCH_RANKING = {
    "tier": 0.15,
    "votes": 0.05,
    "freshness": 0.2,
    "freshness_half_life_days": 365,
    "usage": 0.1,
}

# --- Product rules --------------------------------------------------------------------------
PEERDESK = {
    "PAGE_SIZE": 20,
    # Answer standing: a score at or above this is "endorsed by the community".
    "ENDORSE_SCORE": 5,
    # A validation (and the article it publishes) is due for another look after this many days.
    "RECHECK_DAYS": 180,
    # An article goes to review when one of its source answers drops below this score.
    "REVIEW_BELOW_SCORE": -2,
    # Open directed questions one person may hold; a full queue is shown before anyone asks.
    "DIRECTED_QUEUE_CAP": 10,
    # Reputation needed to unlock a privilege (staff have them all), read by community.rules.
    "PRIVILEGES": {"vote_down": 50, "edit_others": 1000, "flag_weight": 200},
    # Ranks by reputation, highest first.
    "RANKS": [
        (5000, "Luminary"),
        (1000, "Guide"),
        (200, "Regular"),
        (50, "Contributor"),
        (0, "Newcomer"),
    ],
    # More than this many votes from one voter to one author within 24 hours counts as serial voting.
    "SERIAL_VOTE_LIMIT": 5,
    "ANSWERS_PAGE_SIZE": 30,
    # Writes per user per minute, by kind; enforced identically on pages and API.
    "RATE_LIMITS": {
        "question": 5,
        "answer": 10,
        "comment": 20,
        "vote": 60,
        "validate": 60,
        "usage": 120,
        "flag": 20,
    },
    # Moderation (issue 4). A member's posts wait for approval until this many of theirs are
    # approved (0 turns pre-moderation off); staff and certified experts post straight away.
    "PREMODERATION_FIRST_POSTS": 2,
    # A member is "new" until this many of their posts are approved; new members' posts may carry
    # at most NEW_MEMBER_MAX_LINKS links.
    "NEW_MEMBER_POSTS": 2,
    "NEW_MEMBER_MAX_LINKS": 2,
    # This many open flags from trusted members (staff, experts, or reputation at least
    # TRUSTED_FLAG_REPUTATION) hide a post until a moderator reviews it.
    "AUTO_HIDE_FLAGS": 3,
    "TRUSTED_FLAG_REPUTATION": 200,
}

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an anonymous write gets 401 with WWW-Authenticate rather than 403.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "community.api_pagination.CountCachingPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "community.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Peerdesk API",
    "DESCRIPTION": "Questions, answers, validation and knowledge-base search.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status" or "reason" field; name their enums explicitly.
    "ENUM_NAME_OVERRIDES": {
        "PostStatusEnum": "community.models.PostStatus",
        "FlagReasonEnum": "moderation.models.Flag.Reason",
        "FlagStatusEnum": "moderation.models.Flag.Status",
        "ArticleStatusEnum": "knowledge.models.Article.Status",
    },
}

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Probes call the web nodes directly over plain HTTP; a redirect would hide a failing check.
    SECURE_REDIRECT_EXEMPT = [r"^health/"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000") or 0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
