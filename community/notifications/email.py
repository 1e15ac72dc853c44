"""Notification email: one message per instant notification, one daily digest per member, each
with a one-click unsubscribe link (RFC 8058 headers). Sent by ``community.tasks``; idempotent
through ``Notification.emailed_at``, set in the transaction that sends."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string, select_template
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from ..models import DeliveryMode, Notification, NotificationKind, User
from . import selectors
from .tokens import ALL_KINDS, unsubscribe_token


def _absolute(path: str) -> str:
    if not path or "://" in path:
        return path
    return settings.PEERDESK_SITE_URL.rstrip("/") + path


def unsubscribe_url(*, user_id: int, kind: str) -> str:
    token = unsubscribe_token(user_id=user_id, kind=kind)
    return _absolute(reverse("notifications:unsubscribe", kwargs={"token": token}))


def _can_email(user: User) -> bool:
    return bool(user.email) and user.is_active and not user.is_placeholder


def _message(*, user: User, subject: str, body: str, unsubscribe: str) -> EmailMessage:
    return EmailMessage(
        subject=subject,
        body=body,
        to=[user.email],
        headers={
            # RFC 8058: mail clients offer a one-click button that POSTs to this URL.
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


@transaction.atomic
def notification_email_send(*, notification_id: int) -> bool:
    """Email one instant notification unless it already went out. Returns whether it was sent.

    Holds the row lock while sending so concurrent deliveries of the same id send once; a failure
    to send rolls back and leaves ``emailed_at`` empty for the task's retry. If the member changed
    their mind since (daily or off), the row follows the new preference instead.
    """
    notification = (
        Notification.objects.select_for_update(of=("self",))
        .select_related("recipient")
        .filter(pk=notification_id)
        .first()
    )
    if notification is None or notification.emailed_at or notification.delivery != "instant":
        return False
    user = notification.recipient
    mode = selectors.delivery_modes(user_ids={user.pk}, kinds={notification.kind})[
        (user.pk, notification.kind)
    ]
    if mode != DeliveryMode.INSTANT or not _can_email(user):
        notification.delivery = mode if _can_email(user) else DeliveryMode.OFF
        notification.save(update_fields=["delivery"])
        return False
    unsubscribe = unsubscribe_url(user_id=user.pk, kind=notification.kind)
    # A kind may add its own explanation (``email_instant_<kind>.txt`` extends the plain one).
    template = select_template(
        [
            f"community/notifications/email_instant_{notification.kind}.txt",
            "community/notifications/email_instant.txt",
        ]
    )
    body = template.render(
        {
            "user": user,
            "notification": notification,
            "link": _absolute(notification.url),
            "unsubscribe_url": unsubscribe,
            "preferences_url": _absolute(reverse("notifications:preferences")),
            "kind_label": NotificationKind(notification.kind).label,
            "site_url": _absolute("/").rstrip("/"),
        },
    )
    subject = f"[Peerdesk] {Truncator(notification.text).chars(120)}"
    _message(user=user, subject=subject, body=body, unsubscribe=unsubscribe).send()
    notification.emailed_at = timezone.now()
    notification.save(update_fields=["emailed_at"])
    return True


def notifications_send_digests(*, now=None) -> int:
    """Send each member one email with their pending daily notifications. Returns emails sent.

    Idempotent: each member's rows are marked ``emailed_at`` in the transaction that sends them,
    so a second run (or an overlapping one) finds nothing left to send.
    """
    now = now or timezone.now()
    user_ids = (
        Notification.objects.filter(
            delivery=DeliveryMode.DAILY, emailed_at__isnull=True, created_at__lte=now
        )
        .order_by()
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    return sum(_digest_send_one(user_id=user_id, now=now) for user_id in list(user_ids))


@transaction.atomic
def _digest_send_one(*, user_id: int, now) -> int:
    rows = list(
        Notification.objects.select_for_update()
        .filter(
            recipient_id=user_id,
            delivery=DeliveryMode.DAILY,
            emailed_at__isnull=True,
            created_at__lte=now,
        )
        .order_by("created_at", "id")
    )
    user = User.objects.filter(pk=user_id).first()
    if not rows or user is None:
        return 0
    modes = selectors.delivery_modes(user_ids={user_id}, kinds={r.kind for r in rows})
    # Switched to "no email" since: those rows will never be sent; say so rather than retry daily.
    dropped = [r.pk for r in rows if modes[(user_id, r.kind)] == DeliveryMode.OFF]
    rows = [r for r in rows if r.pk not in dropped]
    if not _can_email(user):
        dropped += [r.pk for r in rows]
        rows = []
    if dropped:
        Notification.objects.filter(pk__in=dropped).update(delivery=DeliveryMode.OFF)
    if not rows:
        return 0
    sections: dict[str, list[Notification]] = {}
    for row in rows:
        sections.setdefault(row.kind, []).append(row)
    body = render_to_string(
        "community/notifications/email_digest.txt",
        {
            "user": user,
            "sections": [
                {
                    "label": NotificationKind(kind).label,
                    "items": [{"text": n.text, "link": _absolute(n.url)} for n in items],
                    "unsubscribe_url": unsubscribe_url(user_id=user_id, kind=kind),
                }
                for kind, items in sections.items()
            ],
            "preferences_url": _absolute(reverse("notifications:preferences")),
        },
    )
    count = len(rows)
    subject = f"[Peerdesk] Your daily digest: {count} update{'s' if count != 1 else ''}"
    unsubscribe_all = unsubscribe_url(user_id=user_id, kind=ALL_KINDS)
    _message(user=user, subject=subject, body=body, unsubscribe=unsubscribe_all).send()
    Notification.objects.filter(pk__in=[r.pk for r in rows]).update(emailed_at=timezone.now())
    return 1


def notifications_unsent_instant_ids(
    *, older_than_minutes: int = 5, within_days: int = 2
) -> list[int]:
    """Instant notifications whose email task never ran (broker outage, exhausted retries)."""
    now = timezone.now()
    return list(
        Notification.objects.filter(
            delivery=DeliveryMode.INSTANT,
            emailed_at__isnull=True,
            created_at__lte=now - timezone.timedelta(minutes=older_than_minutes),
            created_at__gte=now - timezone.timedelta(days=within_days),
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:1000]
    )
