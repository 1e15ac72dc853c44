"""Notification reads for pages, templates and the services' delivery decisions."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from ..models import (
    DeliveryMode,
    Notification,
    NotificationKind,
    NotificationPreference,
    ProductArea,
    Question,
    Subscription,
    Tag,
)

# Following a topic can be busy: its posts arrive as a digest unless the member asks otherwise.
DEFAULT_MODES: dict[str, str] = {
    **dict.fromkeys(NotificationKind.values, DeliveryMode.INSTANT),
    NotificationKind.FOLLOWED: DeliveryMode.DAILY,
}


def delivery_modes(*, user_ids: Iterable[int], kinds: Iterable[str]) -> dict[tuple[int, str], str]:
    """The email mode of every (user, kind) pair asked about, defaults filled in (one query)."""
    user_ids, kinds = set(user_ids), set(kinds)
    modes = {(u, k): DEFAULT_MODES[k] for u in user_ids for k in kinds}
    rows = NotificationPreference.objects.filter(user_id__in=user_ids, kind__in=kinds)
    modes.update({(u, k): m for u, k, m in rows.values_list("user_id", "kind", "mode")})
    return modes


def preference_modes(*, user) -> dict[str, str]:
    """``user``'s email mode for every kind, in display order (one query)."""
    kinds = NotificationKind.values
    modes = delivery_modes(user_ids={user.pk}, kinds=kinds)
    return {kind: modes[(user.pk, kind)] for kind in kinds}


def notification_list(*, viewer) -> QuerySet[Notification]:
    """The viewer's inbox, newest first, with actors loaded."""
    return Notification.objects.filter(recipient=viewer).select_related("actor")


def notification_unread_count(*, viewer) -> int:
    """How many unread notifications the viewer has (one query; 0 for visitors)."""
    if not getattr(viewer, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=viewer, read_at__isnull=True).count()


def subscription_list(*, viewer) -> QuerySet[Subscription]:
    """What the viewer follows, with each target loaded."""
    return (
        Subscription.objects.filter(user=viewer)
        .select_related("question", "tag", "area")
        .order_by("-created_at", "-id")
    )


def is_following(
    *,
    viewer,
    question: Question | None = None,
    tag: Tag | None = None,
    area: ProductArea | None = None,
) -> bool:
    if not getattr(viewer, "is_authenticated", False):
        return False
    target = {"question": question, "tag": tag, "area": area}
    target = {k: v for k, v in target.items() if v is not None}
    return Subscription.objects.filter(user=viewer, **target).exists()
