"""Who may validate answers and curate the knowledge base."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from community import rules as community_rules
from community.models import Answer

from .models import AnswerCorrection, Article, Validation


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
    """Staff see every article; others see published (or in-review) public ones."""
    if community_rules.is_staff_member(user):
        return True
    return article.is_visible and not article.is_internal


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


def can_use_console(user) -> bool:
    """The CSR console (search with internal articles, "used for case"): CSRs and staff only."""
    return community_rules.is_staff_member(user)


def check_use_console(user) -> None:
    if not can_use_console(user):
        raise PermissionDenied("The agent console is for support agents and staff.")


# --- Trust: audiences, corrections, the article lifecycle (issue 3) -------------------------


def can_view_internal_articles(user) -> bool:
    """Internal articles are for CSRs and staff: never customers, in pages, API or search."""
    return community_rules.is_staff_member(user)


def can_correct_answer(user, answer: Answer) -> bool:
    """Moderators, and experts certified for the question's area, may mark an answer not
    recommended (with an alternative) or obsolete."""
    return community_rules.is_active_member(user) and (
        community_rules.is_moderator(user)
        or community_rules.is_certified_expert(user, answer.question.area)
    )


def can_reverse_correction(user, correction: AnswerCorrection) -> bool:
    return community_rules.is_active_member(user) and community_rules.is_moderator(user)


def can_create_article(user) -> bool:
    """KB editors (moderators) write articles directly, e.g. internal procedures for CSRs."""
    return community_rules.is_moderator(user)


def can_retire_article(user, article: Article) -> bool:
    return community_rules.is_moderator(user)


def can_merge_article(user, article: Article) -> bool:
    """Merging answers into an article and pointing threads at it."""
    return community_rules.is_moderator(user)


def can_view_review_queue(user) -> bool:
    return community_rules.is_staff_member(user)


def can_review_article(user, article: Article) -> bool:
    return community_rules.is_moderator(user)


def check_correct_answer(user, answer: Answer) -> None:
    if not can_correct_answer(user, answer):
        raise PermissionDenied(
            f"Only moderators and experts certified for {answer.question.area} can mark this "
            "answer not recommended."
        )


def check_reverse_correction(user, correction: AnswerCorrection) -> None:
    if not can_reverse_correction(user, correction):
        raise PermissionDenied("Only moderators can reverse a correction.")


def check_create_article(user) -> None:
    if not can_create_article(user):
        raise PermissionDenied("Only moderators can write knowledge-base articles.")


def check_retire_article(user, article: Article) -> None:
    if not can_retire_article(user, article):
        raise PermissionDenied("Only moderators can retire or bring back an article.")


def check_merge_article(user, article: Article) -> None:
    if not can_merge_article(user, article):
        raise PermissionDenied("Only moderators can merge answers into an article.")


def check_view_review_queue(user) -> None:
    if not can_view_review_queue(user):
        raise PermissionDenied("The review queue is for knowledge-base editors.")


def check_review_article(user, article: Article) -> None:
    if not can_review_article(user, article):
        raise PermissionDenied("Only moderators can review knowledge-base articles.")


def check_view_article_history(user, article: Article) -> None:
    if not can_view_article_history(user, article):
        raise PermissionDenied("Only staff can see an article's history.")


def can_view_search_gaps(user) -> bool:
    """Zero-result searches (content gaps) are staff insight: CSRs, moderators, admins."""
    return community_rules.is_staff_member(user)


def check_view_search_gaps(user) -> None:
    if not can_view_search_gaps(user):
        raise PermissionDenied("Search gaps are visible to staff only.")
