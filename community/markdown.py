"""The one place user text becomes HTML: CommonMark rendering, then an allowlist sanitizer.

Raw HTML in Markdown is disabled at the parser *and* everything is passed through nh3 (ammonia),
so a parser bug alone cannot let script through.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "code": {"class"},
    "th": {"align"},
    "td": {"align"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


def sanitize_html(html: str) -> str:
    """Return ``html`` reduced to the allowlist; links get rel="nofollow ugc noopener"."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="nofollow ugc noopener noreferrer",
        strip_comments=True,
    )


def render_markdown(text: str) -> str:
    """Render user Markdown to sanitized HTML, safe to mark safe in templates."""
    return sanitize_html(_md.render(text or ""))


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment (for search documents and snippets)."""
    import html as html_lib

    stripped = nh3.clean(html or "", tags=set(), attributes={})
    return " ".join(html_lib.unescape(stripped).split())
