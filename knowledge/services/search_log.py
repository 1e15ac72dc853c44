"""Search logging, click tracking and ask-page deflections (content-gap analysis).

Writes are one INSERT or UPDATE each, done in the request: on SQLite (WAL) or PostgreSQL that
costs well under a millisecond, less than handing the row to Celery (a broker round trip, and
with the filesystem broker a file write of its own). A failed log write is logged and
swallowed: it must never fail the search it describes.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from django.core import signing
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from community import rules as community_rules

from ..models import AskDeflection, SearchQueryLog

logger = logging.getLogger(__name__)

_WORD_RE = re.compile(r"\w+", re.UNICODE)
_DOC_ID_RE = re.compile(r"^(article|question):\d{1,12}$")
LOG_TOKEN_SALT = "knowledge.search-log"  # noqa: S105 (a signing salt, not a secret)
# A click counts for the search it came from within this time (a results tab left open).
CLICK_WINDOW = dt.timedelta(hours=6)
# A search-as-you-type box (the agent console) refines one logged search while the person keeps
# typing: a pause longer than this starts a new one.
REFINE_WINDOW = dt.timedelta(minutes=5)
# Deflections are cancelled by a question the same person posts within this time.
DEFLECTION_WINDOW = dt.timedelta(hours=2)
SESSION_DEFLECTIONS_KEY = "ask_deflections"


def viewer_role(user) -> str:
    """The viewer's strongest role, as stored in SearchQueryLog.user_role."""
    if community_rules.is_moderator(user):
        return SearchQueryLog.Role.MODERATOR
    if community_rules.is_csr(user):
        return SearchQueryLog.Role.CSR
    if community_rules.is_certified_expert(user):
        return SearchQueryLog.Role.EXPERT
    if getattr(user, "is_authenticated", False):
        return SearchQueryLog.Role.MEMBER
    return SearchQueryLog.Role.ANONYMOUS


def normalize_query(query: str) -> str:
    return " ".join(_WORD_RE.findall((query or "").lower()))[:300]


def search_log_record(
    *,
    viewer,
    query: str,
    source: str,
    hit_count: int,
    filters: dict | None = None,
    corrected_query: str = "",
    refine: str = "",
) -> SearchQueryLog | None:
    """Log one search (one INSERT). Returns the row, or None when the write failed (logged).

    ``refine`` is the token of the search this one continues (the same person still typing in
    a search-as-you-type box): that row is updated in place instead (one UPDATE), so content
    gaps count the query they settled on rather than every prefix typed on the way. A bad,
    stale (REFINE_WINDOW) or foreign-source token, or a search whose result was already used,
    starts a new row.
    """
    values = {
        "query": (query or "")[:300],
        "normalized": normalize_query(query),
        "filters": {k: v for k, v in (filters or {}).items() if v},
        "hit_count": max(0, hit_count),
        "corrected_query": (corrected_query or "")[:300],
        "user_role": viewer_role(viewer),
        "source": source,
    }
    try:
        outermost = not connection.in_atomic_block
        with transaction.atomic():
            if outermost and connection.vendor == "postgresql":
                _commit_without_waiting_for_disk()
            log_id = _read_token(refine, max_age=REFINE_WINDOW) if refine else None
            if log_id is not None:
                now = timezone.now()
                refined = SearchQueryLog.objects.filter(
                    pk=log_id, source=source, clicked_at__isnull=True
                ).update(**values, created_at=now)
                if refined:
                    return SearchQueryLog(pk=log_id, created_at=now, **values)
            return SearchQueryLog.objects.create(**values)
    except DatabaseError:
        logger.warning("Could not log a search.", exc_info=True)
        return None


def _commit_without_waiting_for_disk() -> None:
    """This transaction only: commit without waiting for the WAL flush (3-5 ms of a search
    request at 100k). A crash may lose the last few log rows, never a post: it applies only
    when the log write is its own transaction, not inside a caller's."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _read_token(token: str, *, max_age: dt.timedelta) -> int | None:
    try:
        log_id = signing.loads(token, salt=LOG_TOKEN_SALT, max_age=max_age)
    except signing.BadSignature:
        return None
    return log_id if isinstance(log_id, int) else None


def search_log_token(log: SearchQueryLog | None) -> str:
    """A signed reference to ``log`` for click links (ids alone would let anyone rewrite the
    clicks of other people's searches)."""
    return signing.dumps(log.pk, salt=LOG_TOKEN_SALT) if log is not None else ""


def search_log_click(*, token: str, doc_id: str, user=None) -> AskDeflection | None:
    """Record that the search behind ``token`` led to ``doc_id`` (the latest click wins).

    A click from the ask page's suggestions also records an AskDeflection. Bad, expired or
    foreign tokens and malformed doc ids are ignored: a click must never fail the redirect.
    Returns the deflection recorded, if any.
    """
    if not _DOC_ID_RE.match(doc_id or ""):
        return None
    log_id = _read_token(token, max_age=CLICK_WINDOW)
    if log_id is None:
        return None
    log = SearchQueryLog.objects.filter(pk=log_id).only("pk", "source").first()
    if log is None:
        return None
    SearchQueryLog.objects.filter(pk=log.pk).update(
        clicked_doc_id=doc_id, clicked_at=timezone.now()
    )
    if log.source != SearchQueryLog.Source.ASK_SIMILAR:
        return None
    return AskDeflection.objects.create(
        search_log=log,
        doc_id=doc_id,
        user=user if getattr(user, "is_authenticated", False) else None,
    )


def ask_deflections_claim(*, deflection_ids: list[int], user) -> int:
    """Attach deflections recorded while signed out (kept in the session) to ``user`` who just
    signed in, so a question they post next cancels them. Returns how many were claimed."""
    if not deflection_ids or not getattr(user, "is_authenticated", False):
        return 0
    return AskDeflection.objects.filter(
        pk__in=deflection_ids[-50:], user__isnull=True, cancelled_at__isnull=True
    ).update(user=user)


def ask_deflections_cancel(*, question) -> int:
    """``question`` was posted: its author's deflections of the last DEFLECTION_WINDOW did not
    deflect anything. Returns how many were cancelled."""
    now = timezone.now()
    return AskDeflection.objects.filter(
        user_id=question.author_id,
        cancelled_at__isnull=True,
        created_at__gte=now - DEFLECTION_WINDOW,
        created_at__lte=question.created_at,
    ).update(cancelled_at=now, cancelled_by_question=question)
