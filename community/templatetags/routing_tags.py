"""Template filters of the expert directory."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def duration(seconds) -> str:
    """Seconds as a short human duration ("45 s", "12 min", "3 h", "2 d"); "—" without data."""
    if seconds is None or seconds == "":
        return "—"
    seconds = float(seconds)
    if seconds < 60:
        return f"{round(seconds)} s"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    if seconds < 86400:
        return f"{round(seconds / 3600, 1):g} h"
    return f"{round(seconds / 86400, 1):g} d"


@register.filter
def stars(value) -> str:
    """A mean rating as "4.3"."""
    return "" if value is None else f"{float(value):.1f}"


@register.inclusion_tag("community/_directed_banner.html", takes_context=True)
def directed_banner(context, question):
    """Routing state of a thread for the viewers allowed to see it (asker, expert, staff): who
    it is directed to, by when, and the asker's "rate the help" link."""
    from community import routing

    request = context.get("request")
    viewer = getattr(request, "user", None)
    return {"question": question, **routing.directed_for_question(viewer=viewer, question=question)}
