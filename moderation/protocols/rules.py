"""Who may see and act on assignments, and who may define protocols."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from community import rules as community_rules


def can_view_assignments(user) -> bool:
    """Assignment data is internal: staff (CSRs, moderators, admins) only, never customers."""
    return community_rules.is_staff_member(user)


def can_claim_assignment(user) -> bool:
    return community_rules.is_staff_member(user) and user.is_active


def can_release_assignment(user, assignment) -> bool:
    """The assignee gives a thread back; a moderator may release anyone's."""
    return can_claim_assignment(user) and (
        assignment.assignee_id == user.pk or community_rules.is_moderator(user)
    )


def can_reassign(user) -> bool:
    return can_claim_assignment(user)


def can_manage_protocols(user) -> bool:
    return community_rules.is_moderator(user)


def _check(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def check_view_assignments(user) -> None:
    _check(can_view_assignments(user), "Assignments are visible to staff only.")


def check_claim_assignment(user) -> None:
    _check(can_claim_assignment(user), "Only staff can take threads.")


def check_release_assignment(user, assignment) -> None:
    _check(
        can_release_assignment(user, assignment),
        "Only the assignee or a moderator can release this thread.",
    )


def check_reassign(user) -> None:
    _check(can_reassign(user), "Only staff can reassign threads.")


def check_manage_protocols(user) -> None:
    _check(can_manage_protocols(user), "Only moderators can define protocols.")
