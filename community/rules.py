"""Who may do what in the community: pure predicates shared by HTML views, API and services.

Roles are data: the ``Moderators`` and ``CSRs`` groups, superusers (admins), and active
``Certification`` rows per product area. Lookups are memoised on the user instance, so a page
that asks many questions of one user costs one query per kind of fact.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from .models import Answer, Certification, ProductArea, Question

MODERATORS_GROUP = "Moderators"
CSRS_GROUP = "CSRs"


def _group_names(user) -> frozenset[str]:
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_peerdesk_groups", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._peerdesk_groups = cached
    return cached


def certified_area_ids(user) -> frozenset[int]:
    """Ids of the areas ``user`` currently holds an active certification for."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_peerdesk_cert_areas", None)
    if cached is None:
        cached = frozenset(
            Certification.objects.filter(Certification.active_q(), user=user).values_list(
                "area_id", flat=True
            )
        )
        user._peerdesk_cert_areas = cached
    return cached


def is_admin(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_superuser)


def is_moderator(user) -> bool:
    return is_admin(user) or MODERATORS_GROUP in _group_names(user)


def is_csr(user) -> bool:
    return CSRS_GROUP in _group_names(user)


def is_staff_member(user) -> bool:
    """Company staff: moderators, CSRs and admins."""
    return is_moderator(user) or is_csr(user)


def is_certified_expert(user, area: ProductArea | None = None) -> bool:
    areas = certified_area_ids(user)
    return bool(areas) if area is None else area.pk in areas


def is_active_member(user) -> bool:
    return bool(
        getattr(user, "is_authenticated", False) and user.is_active and not user.is_placeholder
    )


def can_ask_question(user) -> bool:
    return is_active_member(user)


def can_answer_question(user, question: Question) -> bool:
    return is_active_member(user)


def can_comment(user) -> bool:
    return is_active_member(user)


def can_edit_question(user, question: Question) -> bool:
    return is_active_member(user) and (question.author_id == user.pk or is_moderator(user))


def can_edit_answer(user, answer: Answer) -> bool:
    return is_active_member(user) and (answer.author_id == user.pk or is_moderator(user))


def can_vote_on(user, post: Question | Answer) -> bool:
    return is_active_member(user) and post.author_id != user.pk


def can_accept_answer(user, answer: Answer) -> bool:
    """The asker accepts; a moderator may fix an acceptance on the asker's behalf."""
    return is_active_member(user) and (answer.question.author_id == user.pk or is_moderator(user))


def can_manage_certifications(user) -> bool:
    return is_moderator(user)


def can_view_audit_log(user) -> bool:
    return is_moderator(user)


def _check(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def check_ask_question(user) -> None:
    _check(can_ask_question(user), "Sign in with an active account to ask a question.")


def check_answer_question(user, question: Question) -> None:
    _check(can_answer_question(user, question), "Sign in with an active account to answer.")


def check_comment(user) -> None:
    _check(can_comment(user), "Sign in with an active account to comment.")


def check_edit_question(user, question: Question) -> None:
    _check(
        can_edit_question(user, question), "Only the asker or a moderator can edit this question."
    )


def check_edit_answer(user, answer: Answer) -> None:
    _check(can_edit_answer(user, answer), "Only the author or a moderator can edit this answer.")


def check_vote_on(user, post: Question | Answer) -> None:
    if getattr(user, "is_authenticated", False) and post.author_id == user.pk:
        raise PermissionDenied("You cannot vote on your own post.")
    _check(can_vote_on(user, post), "Sign in with an active account to vote.")


def check_accept_answer(user, answer: Answer) -> None:
    _check(can_accept_answer(user, answer), "Only the person who asked can accept an answer.")


def check_manage_certifications(user) -> None:
    _check(can_manage_certifications(user), "Only moderators can grant or revoke certifications.")
