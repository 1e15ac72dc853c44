"""Who may validate answers and curate the knowledge base."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from community import rules as community_rules
from community.models import Answer

from .models import Article, Validation


def can_validate_answer(user, answer: Answer) -> bool:
    """Moderators, and experts certified for the question's area; never one's own answer."""
    if not community_rules.is_active_member(user) or answer.author_id == user.pk:
        return False
    return community_rules.is_moderator(user) or community_rules.is_certified_expert(
        user, answer.question.area
    )


def can_revoke_validation(user, validation: Validation) -> bool:
    return community_rules.is_active_member(user) and (
        validation.validator_id == user.pk or community_rules.is_moderator(user)
    )


def can_edit_article(user, article: Article) -> bool:
    return community_rules.is_moderator(user)


def can_view_article(user, article: Article) -> bool:
    return article.is_visible or community_rules.is_staff_member(user)


def check_validate_answer(user, answer: Answer) -> None:
    if getattr(user, "is_authenticated", False) and answer.author_id == user.pk:
        raise PermissionDenied("You cannot validate your own answer.")
    if not can_validate_answer(user, answer):
        raise PermissionDenied(
            f"Only moderators and experts certified for {answer.question.area} can validate this answer."
        )


def check_revoke_validation(user, validation: Validation) -> None:
    if not can_revoke_validation(user, validation):
        raise PermissionDenied("Only the validator or a moderator can revoke this validation.")


def check_edit_article(user, article: Article) -> None:
    if not can_edit_article(user, article):
        raise PermissionDenied("Only moderators can edit knowledge-base articles.")


def can_view_article_history(user, article: Article) -> bool:
    """Staff see an article's revisions and review state; customers see only the current text."""
    return community_rules.is_staff_member(user)
