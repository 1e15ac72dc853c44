"""``{% cached_include %}``: an include whose output is a pure function of its arguments, cached
under a key made of those arguments.

Signed-in members get no whole-page cache, and a 30-answer thread spent most of its render in the
per-answer includes (votes, signatures, comments, flag forms). This tag renders its template with
*only* the keyword arguments it is given (like ``{% include ... with ... only %}``: no request,
no user, no context processors), and every argument must be a plain value (str, number, bool,
None, a date, or a tuple/list/dict of those — never a model instance). So the HTML depends on
nothing but the key:

- a stale fragment after an edit, vote, validation or moderation cannot be served, because the
  changed value (body, score, status, comment list…) is part of the key — whatever wrote it
  (service, admin, import, task) and without any invalidation step;
- a viewer's controls cannot leak to another viewer: whatever the fragment shows of the viewer
  (can vote, their vote, may flag…) is an argument, so two viewers share a fragment only when
  it would be identical for both.

Fragment templates must not use tags that read the request from the context (``querystring``):
that would be an input outside the key.

What is not in the key: the current time (``naturaltime`` in a cached signature), bounded by the
timeout, which is the anonymous page cache's ``PEERDESK_PAGE_CACHE["SECONDS"]`` (0 turns this
cache off, as in the test settings); and the CSRF token, which differs per request: fragments are
rendered with a placeholder and the request's token is put in on the way out.

Fragments live in a per-process memory cache of their own (``PEERDESK_FRAGMENT_CACHE``:
``MAX_ENTRIES``), so they neither pay a file or network read per answer nor evict whole pages.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

from django import template
from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
from django.template.base import token_kwargs
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.safestring import mark_safe

register = template.Library()

CSRF_PLACEHOLDER = "peerdesk-csrf-placeholder-7f3a9c"
_PLAIN = (str, int, float, bool, type(None), dt.datetime, dt.date, Decimal)
_PLAIN_TYPES = frozenset(_PLAIN)
_ENV_KEY = "peerdesk.fragment_environment"
_cache: LocMemCache | None = None


def _fragment_cache() -> LocMemCache:
    global _cache
    if _cache is None:
        options = getattr(settings, "PEERDESK_FRAGMENT_CACHE", {}) or {}
        _cache = LocMemCache(
            "peerdesk-fragments", {"OPTIONS": {"MAX_ENTRIES": options.get("MAX_ENTRIES", 20000)}}
        )
    return _cache


def fragment_seconds() -> int:
    return int((getattr(settings, "PEERDESK_PAGE_CACHE", {}) or {}).get("SECONDS") or 0)


def _not_plain(name: str, value) -> template.TemplateSyntaxError:
    return template.TemplateSyntaxError(
        f"cached_include: argument {name!r} is a {type(value).__name__}; pass plain values "
        "(str, number, bool, None, date, tuple/list/dict of those)"
    )


def _key_repr(name: str, value) -> str:
    """The key text of argument ``name``: ``repr`` for plain values, whose repr is their content
    (so equal keys mean equal inputs; a different order of the same items only costs a miss),
    naming any subclass, since a SafeString renders unescaped where an equal str is escaped and
    the two must never share a key. Raises TemplateSyntaxError for anything else (a model
    instance). One walk checks and builds: a 30-answer thread builds ~600 of these per render."""
    kind = type(value)
    if kind in _PLAIN_TYPES:
        return repr(value)
    if isinstance(value, dict):
        return (
            "{"
            + ",".join(
                [
                    (repr(key) if type(key) is str else _key_repr(name, key))
                    + ":"
                    + (repr(item) if type(item) in _PLAIN_TYPES else _key_repr(name, item))
                    for key, item in value.items()
                ]
            )
            + "}"
        )
    if isinstance(value, tuple | list | frozenset):
        items = ",".join(
            [repr(item) if type(item) in _PLAIN_TYPES else _key_repr(name, item) for item in value]
        )
        return f"{kind.__name__}({items})"
    if isinstance(value, _PLAIN) and not isinstance(value, Promise):
        # Subclasses such as SafeString or str-based choices.
        return f"{kind.__module__}.{kind.__qualname__}:{value!r}"
    raise _not_plain(name, value)


def _environment(context: template.Context) -> tuple[str, str]:
    """Language and time zone (they change how dates and words render), once per page."""
    root = context.render_context.dicts[0]
    env = root.get(_ENV_KEY)
    if env is None:
        env = root[_ENV_KEY] = (
            translation.get_language(),
            timezone.get_current_timezone_name(),
        )
    return env


def render_cached(context: template.Context, template_name: str, values: dict) -> str:
    """Render ``template_name`` with only ``values`` (plain values) and the CSRF token, through
    the fragment cache. ``context`` supplies the engine and this request's CSRF token."""
    key_text = "".join([f"{name}={_key_repr(name, value)};" for name, value in values.items()])
    seconds = fragment_seconds()
    html = None
    if seconds:
        raw = repr((template_name, _environment(context))) + key_text
        key = "fragment:" + hashlib.sha256(raw.encode()).hexdigest()
        html = _fragment_cache().get(key)
    if html is None:
        tpl = context.template.engine.get_template(template_name)
        html = tpl.render(context.new({**values, "csrf_token": CSRF_PLACEHOLDER}))
        if seconds:
            _fragment_cache().set(key, html, seconds)
    if CSRF_PLACEHOLDER in html:
        html = html.replace(CSRF_PLACEHOLDER, str(context.get("csrf_token", "")))
    return mark_safe(html)  # noqa: S308 (rendered by the template engine, which escaped it)


class CachedIncludeNode(template.Node):
    def __init__(self, template_name, kwargs) -> None:
        self.template_name = template_name
        self.kwargs = kwargs

    def render(self, context: template.Context) -> str:
        values = {name: value.resolve(context) for name, value in self.kwargs.items()}
        return render_cached(context, self.template_name.resolve(context), values)


@register.tag
def cached_include(parser, token) -> CachedIncludeNode:
    """``{% cached_include "community/_author.html" name=post.author.public_name ... %}``"""
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("cached_include takes a template name")
    kwargs = token_kwargs(bits[2:], parser, support_legacy=False)
    if len(kwargs) != len(bits) - 2:
        raise template.TemplateSyntaxError("cached_include takes only name=value arguments")
    return CachedIncludeNode(parser.compile_filter(bits[1]), kwargs)


def question_item_inputs(question) -> dict:
    """Every value ``community/_question_item.html`` shows of a question in a list (its fragment
    key): a vote, an answer, an acceptance, an edit of the title or tags, a status change or a
    renamed author is a new key. Nothing of the viewer is shown, so every viewer shares it."""
    author = question.author
    return {
        "pk": question.pk,
        "title": question.title,
        "score": question.score,
        "answer_count": question.answer_count,
        "accepted_answer_id": question.accepted_answer_id,
        "status": str(question.status),
        "get_status_display": str(question.get_status_display()),
        "area": {"slug": question.area.slug, "name": question.area.name},
        "tag_slugs": tuple(t.slug for t in question.tags.all()),
        "author": {"username": author.username, "public_name": author.public_name},
        "created_at": question.created_at,
        "source_url": question.source_url,
        "source_site": getattr(question, "source_site", ""),
    }


@register.simple_tag(takes_context=True)
def question_item(context: template.Context, question) -> str:
    """``{% question_item q %}``: one list item through the fragment cache."""
    return render_cached(
        context, "community/_question_item.html", {"q": question_item_inputs(question)}
    )
