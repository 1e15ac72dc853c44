"""Language choices every backend shares: which words carry no meaning in a support question,
and which words mean the same thing.

Both lists are generic (support and web-product vocabulary), not fitted to any data set: a site
adds its own product names and abbreviations with ``PEERDESK_SEARCH["SYNONYMS"]``.
"""

from __future__ import annotations

from collections.abc import Iterable

# Whoosh's short default list plus the scaffolding of a typed question ("how do I ...", "is there
# a way to ...", "I'd like to ..."): in a title those words match every other question.
STOP_WORDS = frozenset(
    """
    a an and are as at be by can for from have if in is it may not of on or tbd that the this to us
    we when will with yet you your
    about after again also am any anybody anyone been before being both but could did does doing
    done each else ever few had has having her hers him his how i i'd i'm i've into its itself just
    me mine my myself now our ours own possible possibly please same she should so some somebody
    someone somehow such than then there these they their theirs those thus too very was way ways
    were what whats whatever which while who whom whose why would
    """.split()  # noqa: SIM905 (a word list reads better as text)
)

# Groups of interchangeable single words. Multi-word forms ("sign in") are left to the phrase
# and proximity scoring; hyphenated forms tokenize to their parts ("e-mail" -> "mail").
SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("delete", "remove", "erase"),
    ("email", "mail", "emails", "mails"),
    ("message", "messages", "msg"),
    ("picture", "photo", "image", "pic", "pictures", "photos", "images", "pics"),
    ("video", "videos", "vid"),
    ("account", "acct", "acc"),
    ("password", "passwd", "pwd"),
    ("login", "signin", "logon"),
    ("logout", "signout"),
    ("several", "multiple", "many"),
    ("app", "application", "program", "software"),
    ("computer", "pc", "laptop", "desktop"),
    ("phone", "smartphone", "mobile", "cellphone"),
    ("settings", "preferences", "options", "configuration"),
    ("wifi", "wireless", "wlan"),
    ("error", "problem", "issue", "fault"),
    ("fix", "repair", "solve", "resolve"),
    ("enable", "activate"),
    ("disable", "deactivate"),
    ("update", "upgrade"),
    ("install", "setup"),
    ("restart", "reboot"),
    ("slow", "sluggish", "laggy"),
    ("buy", "purchase"),
    ("cancel", "unsubscribe"),
    ("big", "large", "huge"),
    ("small", "tiny"),
    ("backup", "back-up"),
    ("quick", "fast", "quickly"),
    ("notification", "notifications", "alert", "alerts"),
    ("folder", "directory"),
    ("link", "url"),
)


def synonym_map(groups: Iterable[Iterable[str]], normalize) -> dict[str, tuple[str, ...]]:
    """Each normalized word → the other normalized words of its group(s).

    ``normalize`` turns a word into the form the index holds (e.g. its stem), or "" to skip it.
    """
    result: dict[str, set[str]] = {}
    for group in groups:
        forms = {f for f in (normalize(word) for word in group) if f}
        for form in forms:
            result.setdefault(form, set()).update(forms - {form})
    return {form: tuple(sorted(others)) for form, others in result.items() if others}
