"""Helpers shared by the community service modules; ``tags_get_or_create`` is public (routing
sets expert skills with it)."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from .. import events
from ..models import Question, Tag


def tags_get_or_create(names: list[str]) -> list[Tag]:
    """The tags of these (normalized) slugs, in order, creating the missing ones."""
    existing = {t.slug: t for t in Tag.objects.filter(slug__in=names)}
    missing = [Tag(slug=n) for n in names if n not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.slug: t for t in Tag.objects.filter(slug__in=names)}
    return [existing[n] for n in names]


def _thread_changed(question_id: int) -> None:
    events.thread_changed.send(sender=Question, question_id=question_id)


def _clean_text(field: str, value: str, *, min_length: int, max_length: int) -> str:
    value = (value or "").strip()
    if len(value) < min_length:
        raise ValidationError({field: f"Write at least {min_length} characters."})
    if len(value) > max_length:
        raise ValidationError({field: f"Keep it under {max_length} characters."})
    return value
