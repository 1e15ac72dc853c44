"""Members: the public profile and expert certifications."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from .. import events, notifications, rules
from ..audit import audit_log
from ..models import Certification, ProductArea, User
from ._common import _clean_text

AVATAR_CONTENT_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


@transaction.atomic
def certification_grant(
    *,
    user: User,
    area: ProductArea,
    granted_by: User,
    expires_at: dt.datetime,
    notify_expert: bool = True,
) -> Certification:
    """Certify ``user`` as an expert for ``area`` until ``expires_at``. Audited; the expert is
    notified unless the caller sends its own message (``notify_expert=False``)."""
    rules.check_manage_certifications(granted_by)
    if expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The certification must expire in the future."})
    if user.is_placeholder or not user.is_active:
        raise ValidationError({"user": "Only active members can be certified."})
    cert = Certification.objects.create(
        user=user, area=area, granted_by=granted_by, expires_at=expires_at
    )
    audit_log(
        actor=granted_by,
        action="community.certification.granted",
        target=cert,
        data={"user": user.pk, "area": area.slug, "expires_at": expires_at.isoformat()},
    )
    if notify_expert:
        notifications.notify_certification_granted(certification=cert)
    return cert


@transaction.atomic
def certification_revoke(
    *, certification: Certification, revoked_by: User, reason: str
) -> Certification:
    """Revoke an active certification with a reason. Audited."""
    rules.check_manage_certifications(revoked_by)
    reason = _clean_text("reason", reason, min_length=3, max_length=300)
    cert = Certification.objects.select_for_update().get(pk=certification.pk)
    if cert.revoked_at is None:
        cert.revoked_at, cert.revoked_by, cert.revoked_reason = timezone.now(), revoked_by, reason
        cert.save(update_fields=["revoked_at", "revoked_by", "revoked_reason"])
        audit_log(
            actor=revoked_by,
            action="community.certification.revoked",
            target=cert,
            data={"user": cert.user_id, "area": cert.area_id, "reason": reason},
        )
        events.certification_ended.send(sender=Certification, certification=cert, cause="revoked")
        notifications.notify_certification_revoked(certification=cert)
    return cert


def _validate_avatar(avatar: UploadedFile, max_bytes: int) -> None:
    from PIL import Image, UnidentifiedImageError

    if avatar.size and avatar.size > max_bytes:
        raise ValidationError({"avatar": f"The image must be smaller than {max_bytes // 1024} KB."})
    try:
        image = Image.open(avatar)
        image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ValidationError({"avatar": "Upload a PNG, JPEG, GIF or WebP image."}) from exc
    if Image.MIME.get(image.format or "") not in AVATAR_CONTENT_TYPES:
        raise ValidationError({"avatar": "Upload a PNG, JPEG, GIF or WebP image."})
    avatar.seek(0)


@transaction.atomic
def profile_update(
    *,
    user: User,
    display_name: str,
    bio: str,
    avatar: UploadedFile | None = None,
    clear_avatar: bool = False,
) -> User:
    """Update the public profile; validates the avatar's real image type and size."""
    display_name = (display_name or "").strip()
    if len(display_name) > 80:
        raise ValidationError({"display_name": "Keep it under 80 characters."})
    if len(bio or "") > 2000:
        raise ValidationError({"bio": "Keep it under 2000 characters."})
    user.display_name, user.bio = display_name, (bio or "").strip()
    fields = ["display_name", "bio"]
    if avatar is not None:
        _validate_avatar(avatar, settings.AVATAR_MAX_BYTES)
        user.avatar = avatar
        fields.append("avatar")
    elif clear_avatar and user.avatar:
        user.avatar = None
        fields.append("avatar")
    user.save(update_fields=fields)
    return user
