"""Member-facing template tags for notifications: the inbox count in the nav, follow buttons and
the "mark urgent" control on a thread."""

from __future__ import annotations

from django import template

from .. import rules
from ..models import ProductArea, Question, Tag
from ..notifications import selectors

register = template.Library()


def _viewer(context: template.Context):
    request = context.get("request")
    return getattr(request, "user", None) or context.get("user")


@register.simple_tag(takes_context=True)
def unread_notification_count(context: template.Context) -> int:
    """The viewer's unread notifications (one query; 0 for visitors)."""
    return selectors.notification_unread_count(viewer=_viewer(context))


@register.inclusion_tag("community/notifications/_follow_button.html", takes_context=True)
def follow_button(context: template.Context, thing) -> dict:
    """A follow/unfollow button for a question, tag or product area (nothing for visitors)."""
    viewer = _viewer(context)
    if isinstance(thing, Question):
        target, label = "question", "question"
    elif isinstance(thing, Tag):
        target, label = "tag", f"tag {thing.slug}"
    elif isinstance(thing, ProductArea):
        target, label = "area", thing.name
    else:
        raise template.TemplateSyntaxError("follow_button takes a question, tag or area.")
    visible = rules.can_follow(viewer)
    request = context.get("request")
    return {
        "visible": visible,
        "target": target,
        "pk": thing.pk,
        "label": label,
        "following": visible and selectors.is_following(viewer=viewer, **{target: thing}),
        "next": request.get_full_path() if request else "",
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("community/notifications/_urgent_button.html", takes_context=True)
def urgent_button(context: template.Context, question: Question) -> dict:
    """The asker's "mark urgent" toggle (staff may use it too); nothing for anyone else."""
    viewer = _viewer(context)
    return {
        "visible": rules.can_mark_urgent(viewer, question),
        "question": question,
        "csrf_token": context.get("csrf_token"),
    }
