"""Whoosh's highlighter, re-tokenizing a snippet's text in one pass.

To highlight, Whoosh runs the field's analyzer over the text again (tokenizer, lowercase, stop
and stem filters), marks the tokens the query matched, merges overlapping matches and cuts
fragments around them: a generator layer and several attribute writes per token, most of a
first-time search's snippets (~5 ms for 10 hits at 100k documents). For the plain analyzer
chain of whoosh_schema.py the same steps run here over (start, end, text, matched) spans, each
a copy of Whoosh's own logic; fragment scoring and formatting stay Whoosh's, except that
equally good fragments are picked in text order instead of by memory address.
tests/knowledge/test_whoosh_highlight.py compares the snippets with Whoosh's on real posts.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterator
from operator import itemgetter
from typing import Any

from whoosh import highlight

from .whoosh_schema import _plain_chain


class _Match:
    """A matched token kept in a fragment: what Whoosh's scorer and formatter read of it."""

    __slots__ = ("endchar", "startchar", "text")
    boost = 1.0

    def __init__(self, startchar: int, endchar: int, text: str):
        self.startchar, self.endchar, self.text = startchar, endchar, text


Span = tuple[int, int, str, bool]  # startchar, endchar, token text, matched


def plain_chain_tokens(
    text: str, chain: tuple[Any, frozenset, int, Any], words: frozenset[str]
) -> Iterator[Span]:
    """The tokens ``analyzer(text, chars=True, mode="index", removestops=False)`` yields, with
    Whoosh's ``set_matched_filter(tokens, words)`` applied: stop words stay (unstemmed, and
    they can match), every other word is stemmed."""
    expression, stops, minsize, stem = chain
    for match in expression.finditer(text):
        word = match.group(0).lower()
        if stem is not None and len(word) >= minsize and word not in stops:
            word = stem(word)
        yield match.start(), match.end(), word, word in words


def _merged(spans: Iterator[Span]) -> Iterator[Span]:
    """``Highlighter._merge_matched_tokens``: overlapping matched tokens become one."""
    pending: list[Any] | None = None
    for start, end, text, matched in spans:
        if not matched:
            if pending is not None:
                yield pending[0], pending[1], pending[2], True
                pending = None
            yield start, end, text, False
        elif pending is None:
            pending = [start, end, text]
        elif start <= pending[1]:
            if end > pending[1]:
                pending[2] += text[pending[1] - end :]
                pending[1] = end
        else:
            yield pending[0], pending[1], pending[2], True
            pending = None
            yield start, end, text, True
    if pending is not None:
        yield pending[0], pending[1], pending[2], True


def _context_fragments(
    text: str, spans: Iterator[Span], fragmenter: highlight.ContextFragmenter
) -> Iterator[highlight.Fragment]:
    """``ContextFragmenter.fragment_tokens``, step for step, over spans instead of tokens."""
    maxchars, surround, charlimit = fragmenter.maxchars, fragmenter.surround, fragmenter.charlimit
    first: int | None = None
    firsts: deque[int] = deque()
    countdown = -1
    matches: list[_Match] = []
    endchar = None
    currentlen = 0
    for startchar, endchar, token_text, matched in spans:
        length = endchar - startchar
        if charlimit and endchar > charlimit:
            break
        if countdown < 0 and not matched:
            firsts.append(startchar)
            while firsts and endchar - firsts[0] > surround:
                firsts.popleft()
        elif currentlen + length > maxchars:
            countdown = 0
        elif matched:
            countdown = surround
            if first is None:
                if firsts:
                    first = firsts[0]
                else:
                    first = startchar
                    countdown += surround
            matches.append(_Match(startchar, endchar, token_text))
        if countdown >= 0:
            currentlen += length
            countdown -= length
            if countdown <= 0:
                yield highlight.mkfrag(text, matches, startchar=first, endchar=endchar)
                matches, firsts, first, currentlen = [], deque(), None, 0
    if matches:
        yield highlight.mkfrag(text, matches, startchar=first, endchar=endchar)


class PlainChainHighlighter(highlight.Highlighter):
    def highlight_hit(
        self, hitobj: Any, fieldname: str, text: str | None = None, top: int = 3, minscore: int = 1
    ) -> str:
        results = hitobj.results
        field = results.searcher.schema[fieldname]
        chain = _plain_chain(field.analyzer)
        if (
            chain is None
            or text is None
            or type(self.fragmenter) is not highlight.ContextFragmenter
            or self.can_load_chars(results, fieldname)
        ):
            return super().highlight_hit(hitobj, fieldname, text=text, top=top, minscore=minscore)
        # From here on, Whoosh's own retokenizing path, over spans instead of token objects.
        if results.has_matched_terms():
            bterms = (term for term in results.matched_terms() if term[0] == fieldname)
        else:
            bterms = results.query_terms(expand=True, fieldname=fieldname)
        words = frozenset(field.from_bytes(term[1]) for term in bterms)
        spans = _merged(plain_chain_tokens(text, chain, words))
        fragments = _context_fragments(text, spans, self.fragmenter)
        return self.formatter.format(self._top_fragments(fragments, top, minscore))

    def _top_fragments(self, fragments: Any, count: int, minscore: int) -> list[Any]:
        """Whoosh's ``top_fragments``, but a tie goes to the earlier fragment: Whoosh compares
        tied fragments by memory address, so the same search could show another snippet in
        another process."""
        scored = ((self.scorer(f), -f.startchar, f) for f in fragments)
        best = [
            f
            for score, _, f in heapq.nlargest(count, scored, key=itemgetter(0, 1))
            if score >= minscore
        ]
        best.sort(key=self.order)
        return best
