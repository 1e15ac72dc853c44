"""Who may do what in the community: pure predicates shared by HTML views, API and services.

Roles are data: the ``Moderators`` and ``CSRs`` groups, superusers (admins), and active
``Certification`` rows per product area. Lookups are memoised on the user instance, so a page
that asks many questions of one user costs one query per kind of fact.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone

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


def is_sanctioned(user) -> bool:
    """Banned, or suspended right now: the member may sign in and read, but not write."""
    if not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "banned_at", None):
        return True
    until = getattr(user, "suspended_until", None)
    return bool(until and until > timezone.now())


def is_active_member(user) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and not user.is_placeholder
        and not is_sanctioned(user)
    )


def is_thread_open(question: Question) -> bool:
    return question.locked_at is None and question.merged_into_id is None


def can_write_in_thread(user, question: Question) -> bool:
    """Locked and merged threads take writes from moderators only."""
    return is_thread_open(question) or is_moderator(user)


def _thread_of(post: Question | Answer) -> Question:
    return post if isinstance(post, Question) else post.question


def can_moderate(user) -> bool:
    """Hide, restore, approve, lock, move and merge posts; sanction members; work the queue."""
    return is_moderator(user)


def can_see_hidden_posts(user) -> bool:
    """Staff see pending and hidden posts everywhere (authors see their own)."""
    return is_staff_member(user)


def can_flag_post(user, post: Question | Answer) -> bool:
    return is_active_member(user) and post.author_id != user.pk


def can_ask_question(user) -> bool:
    return is_active_member(user)


def can_answer_question(user, question: Question) -> bool:
    return is_active_member(user) and can_write_in_thread(user, question)


def can_comment(user) -> bool:
    return is_active_member(user)


def can_edit_question(user, question: Question) -> bool:
    return (
        is_active_member(user)
        and can_write_in_thread(user, question)
        and (question.author_id == user.pk or is_moderator(user) or can_edit_others_posts(user))
    )


def can_edit_answer(user, answer: Answer) -> bool:
    return (
        is_active_member(user)
        and can_write_in_thread(user, answer.question)
        and (answer.author_id == user.pk or is_moderator(user) or can_edit_others_posts(user))
    )


def can_vote_on(user, post: Question | Answer) -> bool:
    return (
        is_active_member(user)
        and post.author_id != user.pk
        and can_write_in_thread(user, _thread_of(post))
    )


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


def sanction_message(user) -> str:
    if getattr(user, "banned_at", None):
        return "Your account is banned from posting."
    until = getattr(user, "suspended_until", None)
    return f"Your account is suspended until {until:%d %b %Y %H:%M} UTC." if until else ""


def check_not_sanctioned(user) -> None:
    """Raise PermissionDenied with the sanction in words for a banned or suspended member."""
    _check(not is_sanctioned(user), sanction_message(user))


def check_write_in_thread(user, question: Question) -> None:
    _check(can_write_in_thread(user, question), "This thread is locked.")


def check_moderate(user) -> None:
    _check(can_moderate(user), "Only moderators can do that.")


def check_flag_post(user, post: Question | Answer) -> None:
    check_not_sanctioned(user)
    if getattr(user, "is_authenticated", False) and post.author_id == user.pk:
        raise PermissionDenied("You cannot flag your own post.")
    _check(can_flag_post(user, post), "Sign in with an active account to flag a post.")


def check_ask_question(user) -> None:
    check_not_sanctioned(user)
    _check(can_ask_question(user), "Sign in with an active account to ask a question.")


def check_answer_question(user, question: Question) -> None:
    check_not_sanctioned(user)
    check_write_in_thread(user, question)
    _check(can_answer_question(user, question), "Sign in with an active account to answer.")


def check_comment(user) -> None:
    check_not_sanctioned(user)
    _check(can_comment(user), "Sign in with an active account to comment.")


def check_edit_question(user, question: Question) -> None:
    check_not_sanctioned(user)
    check_write_in_thread(user, question)
    _check(
        can_edit_question(user, question), "Only the asker or a moderator can edit this question."
    )


def check_edit_answer(user, answer: Answer) -> None:
    check_not_sanctioned(user)
    check_write_in_thread(user, answer.question)
    _check(can_edit_answer(user, answer), "Only the author or a moderator can edit this answer.")


def check_vote_on(user, post: Question | Answer) -> None:
    check_not_sanctioned(user)
    check_write_in_thread(user, _thread_of(post))
    if getattr(user, "is_authenticated", False) and post.author_id == user.pk:
        raise PermissionDenied("You cannot vote on your own post.")
    _check(can_vote_on(user, post), "Sign in with an active account to vote.")


def check_accept_answer(user, answer: Answer) -> None:
    _check(can_accept_answer(user, answer), "Only the person who asked can accept an answer.")


def check_manage_certifications(user) -> None:
    _check(can_manage_certifications(user), "Only moderators can grant or revoke certifications.")


# --- Privileges unlocked by reputation (thresholds in PEERDESK["PRIVILEGES"]) -----------------


def privilege_threshold(name: str) -> int:
    return int(settings.PEERDESK["PRIVILEGES"][name])


_privileges_waived: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "peerdesk_privileges_waived", default=False
)


@contextlib.contextmanager
def privileges_waived() -> Iterator[None]:
    """For trusted batch jobs replaying history (demo loading), like ``ratelimit.suspended``."""
    token = _privileges_waived.set(True)
    try:
        yield
    finally:
        _privileges_waived.reset(token)


def privileges_are_waived() -> bool:
    """True inside ``privileges_waived()``: a trusted job replaying established members' history."""
    return _privileges_waived.get()


def has_privilege(user, name: str) -> bool:
    """Whether ``user`` holds the reputation privilege ``name``; staff hold every privilege."""
    if not is_active_member(user):
        return False
    if _privileges_waived.get() or is_staff_member(user):
        return True
    return getattr(user, "reputation", 0) >= privilege_threshold(name)


def can_vote_down(user) -> bool:
    return has_privilege(user, "vote_down")


def can_edit_others_posts(user) -> bool:
    return has_privilege(user, "edit_others")


def flag_weight(user) -> int:
    """How much one flag by ``user`` counts toward a moderation threshold."""
    return 2 if has_privilege(user, "flag_weight") else 1


def check_vote_down(user) -> None:
    _check(
        can_vote_down(user),
        f"Voting down unlocks at {privilege_threshold('vote_down')} reputation.",
    )


# --- Social routing and the expert program -------------------------------------------------


def is_spotlighted_guest(user) -> bool:
    """Whether ``user`` is featured as a guest expert right now (memoised per instance)."""
    if not getattr(user, "is_authenticated", False):
        return False
    cached = getattr(user, "_peerdesk_spotlight", None)
    if cached is None:
        from django.utils import timezone

        from .models import GuestSpotlight

        now = timezone.now()
        cached = GuestSpotlight.objects.filter(
            user=user, starts_at__lte=now, ends_at__gt=now
        ).exists()
        user._peerdesk_spotlight = cached
    return cached


def is_directory_member(user) -> bool:
    """Who may receive directed questions: certified experts, staff and guests in a spotlight
    (the directory lists CSRs only after they opt in, but staff may always be forwarded to)."""
    return is_active_member(user) and (
        is_certified_expert(user) or is_staff_member(user) or is_spotlighted_guest(user)
    )


def can_view_directed(user, directed) -> bool:
    """The asker, the chosen person and staff see a directed question's routing details."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.pk in (directed.expert_id, directed.question.author_id) or is_staff_member(user)


def can_handle_directed(user, directed) -> bool:
    """Decline or forward: the person it is directed to, or staff on their behalf."""
    return is_active_member(user) and (directed.expert_id == user.pk or is_staff_member(user))


def can_rate_directed(user, directed) -> bool:
    return (
        is_active_member(user)
        and directed.question.author_id == user.pk
        and directed.expert_id != user.pk
    )


def can_view_expert_reports(user) -> bool:
    return is_staff_member(user)


def can_review_expert_applications(user) -> bool:
    return is_moderator(user)


def check_handle_directed(user, directed) -> None:
    _check(
        can_handle_directed(user, directed),
        "Only the person this question is directed to can decline or forward it.",
    )


def check_rate_directed(user, directed) -> None:
    if getattr(user, "is_authenticated", False) and directed.expert_id == user.pk:
        raise PermissionDenied("You cannot rate your own help.")
    _check(can_rate_directed(user, directed), "Only the person who asked can rate the help.")


def check_view_expert_reports(user) -> None:
    _check(can_view_expert_reports(user), "Expert reports are for staff only.")


def check_review_expert_applications(user) -> None:
    _check(
        can_review_expert_applications(user),
        "Only moderators can nominate, review, renew or revoke experts.",
    )


# --- Notifications, follows and urgency (issue 4) ---------------------------------------------


def can_follow(user) -> bool:
    return is_active_member(user)


def can_manage_notifications(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def can_mark_urgent(user, question: Question) -> bool:
    """The asker flags their own thread as urgent; staff may set or clear it for them."""
    return is_active_member(user) and (question.author_id == user.pk or is_staff_member(user))


def check_follow(user) -> None:
    _check(can_follow(user), "Sign in with an active account to follow questions and topics.")


def check_manage_notifications(user) -> None:
    _check(can_manage_notifications(user), "Sign in to change your notification settings.")


def check_mark_urgent(user, question: Question) -> None:
    _check(can_mark_urgent(user, question), "Only the person who asked can mark it urgent.")


# --- The expert program (issue 5) -------------------------------------------------------------


def can_apply_as_expert(user) -> bool:
    return is_active_member(user)


def can_view_validation_inbox(user) -> bool:
    """Certified experts see threads awaiting validation in their areas."""
    return is_active_member(user) and is_certified_expert(user)


def check_apply_as_expert(user) -> None:
    check_not_sanctioned(user)
    _check(can_apply_as_expert(user), "Sign in with an active account to apply.")


def check_view_validation_inbox(user) -> None:
    _check(can_view_validation_inbox(user), "The validation inbox is for certified experts.")
