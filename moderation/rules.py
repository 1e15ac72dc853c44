"""Who may flag and moderate. Moderation reuses community's role predicates; this module adds the
flag-specific ones. Protocol and assignment predicates may live here too."""

from __future__ import annotations

from django.conf import settings

from community import rules as community_rules


def is_trusted_flagger(user) -> bool:
    """Staff, certified experts and members with PEERDESK["TRUSTED_FLAG_REPUTATION"] reputation:
    their flags count toward hiding a post automatically."""
    if not community_rules.is_active_member(user):
        return False
    threshold = int(settings.PEERDESK.get("TRUSTED_FLAG_REPUTATION", 200))
    return (
        community_rules.is_staff_member(user)
        or community_rules.is_certified_expert(user)
        or getattr(user, "reputation", 0) >= threshold
    )


def can_work_flag_queue(user) -> bool:
    return community_rules.can_moderate(user)
