"""The audit log writer. The acting request's IP is taken from a context variable set by
``community.middleware.RequestContextMiddleware`` so services need no request parameter."""

from __future__ import annotations

import contextvars
from typing import Any

from django.db import models

from .models import AuditEntry

current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("peerdesk_ip", default=None)


def audit_log(
    *, actor, action: str, target: models.Model, data: dict[str, Any] | None = None
) -> AuditEntry:
    """Append one audit entry (``action`` is ``app.entity.verb``). Call inside the service's transaction."""
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_repr=str(target)[:200],
        data=data or {},
        ip=current_ip.get(),
    )


def audit_log_many(
    *, actor, action: str, entries: list[tuple[models.Model, dict[str, Any]]]
) -> list[AuditEntry]:
    """Append one entry per (target, data) pair in a single insert: periodic jobs (the protocol
    tick) that act on thousands of rows at once. Call inside the job's transaction."""
    actor = actor if getattr(actor, "pk", None) else None
    ip = current_ip.get()
    return AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                actor=actor,
                action=action,
                target_type=target._meta.label_lower,
                target_id=str(target.pk),
                target_repr=str(target)[:200],
                data=data or {},
                ip=ip,
            )
            for target, data in entries
        ]
    )
