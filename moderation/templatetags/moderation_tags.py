"""Moderation's template tags for community's thread page, which loads this library by name only
(community never imports moderation).

Shared by two sub-domains — append new tags, don't rewrite the file: ``thread_assignment``
(protocols: the staff-only assignment panel) and the flag tags.
"""

from __future__ import annotations

from django import template
from django.utils import timezone

from community import rules as community_rules

from .. import selectors as flag_selectors
from ..models import Flag
from ..protocols import rules, selectors, services

register = template.Library()


@register.inclusion_tag("moderation/_assignment_panel.html", takes_context=True)
def thread_assignment(context: template.Context, question) -> dict:
    """Who holds the thread, since when, under which protocol and level, and the SLA clock, with
    claim / release / reassign. Renders nothing (and queries nothing) for non-staff viewers."""
    request = context.get("request")
    viewer = getattr(request, "user", None) or context.get("user")
    if not rules.can_view_assignments(viewer):
        return {"visible": False}
    assignment = selectors.assignment_current_for(question=question)
    spec = services.protocol_spec(assignment.protocol) if assignment else None
    return {
        "visible": True,
        "a": assignment,
        "question": question,
        "level_label": services.level_label(spec, assignment.level) if spec else "",
        "guide": spec.guide_for(assignment.level) if spec else "",
        "now": timezone.now(),
        "viewer_id": viewer.pk,
        "staff": list(selectors.staff_member_list()),
        "can_release": assignment is not None and rules.can_release_assignment(viewer, assignment),
        "next": request.get_full_path() if request else "",
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag(takes_context=True)
def thread_flags(context: template.Context, question, answers) -> dict:
    """What the thread page needs for flag forms: the posts (``comment_key``s) the viewer already
    flagged, whether they may flag at all, the reasons, and whether they moderate. One query
    whatever the number of answers."""
    request = context.get("request")
    viewer = getattr(request, "user", None) or context.get("user")
    can_flag = community_rules.is_active_member(viewer)
    return {
        "can_flag": can_flag,
        "flagged": flag_selectors.flagged_post_keys(
            viewer=viewer, question=question, answers=list(answers)
        )
        if can_flag
        else frozenset(),
        "reasons": Flag.Reason.choices,
        "duplicate": Flag.Reason.DUPLICATE,
        "is_moderator": community_rules.can_moderate(viewer),
    }


def flag_form_inputs(context: template.Context, post, kind: str, flaginfo: dict) -> dict:
    """The plain values ``moderation/_flag_form.html`` shows for one post (its fragment key), so
    viewers in the same position share it."""
    request = context.get("request")
    viewer = getattr(request, "user", None) or context.get("user")
    viewer_id = getattr(viewer, "pk", None)
    key = post.comment_key
    return {
        "post": {"pk": post.pk, "author_id": post.author_id, "comment_key": key},
        "kind": kind,
        # The form only asks whether the viewer wrote the post, so other viewers' ids stay
        # out of the key.
        "user": {"pk": viewer_id if viewer_id == post.author_id else None},
        "flaginfo": {
            "is_moderator": flaginfo["is_moderator"],
            "can_flag": flaginfo["can_flag"],
            "flagged": (key,) if key in flaginfo["flagged"] else (),
            "reasons": tuple(tuple(choice) for choice in flaginfo["reasons"]),
            "duplicate": str(flaginfo["duplicate"]),
        },
    }


register.simple_tag(flag_form_inputs, takes_context=True)


@register.simple_tag(takes_context=True)
def flag_form(context: template.Context, post, kind: str, flaginfo: dict) -> str:
    """``moderation/_flag_form.html`` for one post through the fragment cache (a thread page
    renders one per answer)."""
    from community.templatetags.fragment_tags import render_cached

    return render_cached(
        context, "moderation/_flag_form.html", flag_form_inputs(context, post, kind, flaginfo)
    )
