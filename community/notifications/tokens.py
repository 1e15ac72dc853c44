"""Signed one-click unsubscribe tokens: they name a (user, kind) pair and work without a session.

A ``TimestampSigner`` token cannot be forged or re-pointed at another member without the secret
key; the embedded timestamp lets old links expire after a year.
"""

from __future__ import annotations

from django.core import signing

from ..models import NotificationKind

SALT = "community.notifications.unsubscribe"
MAX_AGE_SECONDS = 365 * 24 * 3600
# "all" switches every kind to "no email" (the digest's List-Unsubscribe header uses it).
ALL_KINDS = "all"


class InvalidToken(Exception):
    """The token is malformed, tampered with, expired or names an unknown kind."""


def unsubscribe_token(*, user_id: int, kind: str) -> str:
    """A URL-safe token that switches ``kind`` email off for ``user_id``."""
    return signing.TimestampSigner(salt=SALT).sign_object({"u": user_id, "k": kind})


def read_unsubscribe_token(token: str) -> tuple[int, str]:
    """The (user id, kind) a token was issued for. Raises InvalidToken."""
    try:
        data = signing.TimestampSigner(salt=SALT).unsign_object(token, max_age=MAX_AGE_SECONDS)
    except signing.SignatureExpired as exc:
        raise InvalidToken("This unsubscribe link has expired.") from exc
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise InvalidToken("This unsubscribe link is not valid.") from exc
    if not isinstance(data, dict):
        raise InvalidToken("This unsubscribe link is not valid.")
    user_id, kind = data.get("u"), data.get("k")
    if not isinstance(user_id, int) or kind not in {*NotificationKind.values, ALL_KINDS}:
        raise InvalidToken("This unsubscribe link is not valid.")
    return user_id, kind
