"""Protocol and assignment reads for staff pages. Callers check ``rules.can_view_assignments``
(or ``can_manage_protocols``) first: none of this is ever shown to customers."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db.models import F, Q, QuerySet
from django.shortcuts import get_object_or_404

from community.models import Question, User
from community.rules import CSRS_GROUP, MODERATORS_GROUP

from ..models import Assignment, Protocol


def protocol_list() -> QuerySet[Protocol]:
    """Every protocol, highest priority first, with what the list page shows."""
    return (
        Protocol.objects.select_related("area", "assignee", "team")
        .prefetch_related("tags", "steps")
        .order_by("-active", "-priority", "id")
    )


def protocol_get(*, pk: int) -> Protocol:
    return get_object_or_404(Protocol.objects.prefetch_related("tags"), pk=pk)


def _current() -> QuerySet[Assignment]:
    return Assignment.objects.filter(released_at__isnull=True).select_related(
        "question", "question__area", "protocol", "assignee", "team"
    )


def assignment_current_for(*, question: Question) -> Assignment | None:
    """The thread's current assignment with its protocol and people (one query)."""
    return _current().filter(question=question).first()


def assignment_queue_for(*, viewer) -> QuerySet[Assignment]:
    """Threads currently assigned to ``viewer``, the next deadline first, claimed ones last."""
    return _current().filter(assignee=viewer).order_by(F("deadline_at").asc(nulls_last=True), "pk")


def assignment_pool_for(*, viewer) -> QuerySet[Assignment]:
    """Unclaimed threads waiting in the pools of ``viewer``'s teams (or in no team at all)."""
    team_ids = viewer.groups.values("pk")
    return (
        _current()
        .filter(assignee__isnull=True)
        .filter(Q(team__isnull=True) | Q(team__in=team_ids))
        .order_by(F("deadline_at").asc(nulls_last=True), "pk")
    )


def staff_member_list() -> QuerySet[User]:
    """Active staff who can take threads (for reassignment choices), by name."""
    # Group members as an id set: joining every member to their groups and de-duplicating
    # cost 4 ms per thread page for staff with 20k members.
    in_staff_groups = User.groups.through.objects.filter(
        group__name__in=[MODERATORS_GROUP, CSRS_GROUP]
    ).values("user_id")
    return (
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(pk__in=in_staff_groups))
        .order_by("display_name", "username")
    )


def team_list() -> QuerySet[Group]:
    return Group.objects.order_by("name")
