"""Whoosh's highlighter, re-tokenizing a snippet's text in one pass.

To highlight, Whoosh runs the field's analyzer over the text again (tokenizer, lowercase, stop
and stem filters: four generators and several attribute writes per token) and then marks the
tokens the query matched: the largest part of a first-time search's snippets (~3 ms of 10 hits
at 100k documents). For the plain analyzer chain of whoosh_schema.py the same tokens, with the
same text, offsets, positions and ``matched`` flags, come from one loop here; merging,
fragmenting, scoring and formatting stay Whoosh's own, except that equally good fragments are
picked in text order instead of by memory address. tests/knowledge/test_whoosh_highlight.py
compares the snippets with Whoosh's on real posts.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from operator import itemgetter
from typing import Any

from whoosh import highlight
from whoosh.analysis import Token

from .whoosh_schema import _plain_chain


def plain_chain_tokens(
    text: str, chain: tuple[Any, frozenset, int, Any], words: frozenset[str]
) -> Iterator[Token]:
    """What ``analyzer(text, positions=True, chars=True, mode="index", removestops=False)``
    followed by Whoosh's ``set_matched_filter(tokens, words)`` yields, one reused token as
    Whoosh's tokenizer reuses its own."""
    expression, stops, minsize, stem = chain
    token = Token(positions=True, chars=True, removestops=False, mode="index")
    pos = -1
    for index, match in enumerate(expression.finditer(text)):
        word = match.group(0).lower()
        token.startchar, token.endchar = match.start(), match.end()
        token.boost = 1.0
        if len(word) < minsize or word in stops:
            token.stopped, token.text, token.pos = True, word, index
        else:
            pos = index if pos < 0 else pos + 1
            token.stopped, token.pos = False, pos
            token.text = stem(word) if stem is not None else word
        token.matched = token.text in words
        yield token


class PlainChainHighlighter(highlight.Highlighter):
    def highlight_hit(
        self, hitobj: Any, fieldname: str, text: str | None = None, top: int = 3, minscore: int = 1
    ) -> str:
        results = hitobj.results
        field = results.searcher.schema[fieldname]
        chain = _plain_chain(field.analyzer)
        if chain is None or text is None or self.can_load_chars(results, fieldname):
            return super().highlight_hit(hitobj, fieldname, text=text, top=top, minscore=minscore)
        # From here on, Whoosh's own retokenizing path with the tokens made above.
        if results.has_matched_terms():
            bterms = (term for term in results.matched_terms() if term[0] == fieldname)
        else:
            bterms = results.query_terms(expand=True, fieldname=fieldname)
        words = frozenset(field.from_bytes(term[1]) for term in bterms)
        tokens = self._merge_matched_tokens(plain_chain_tokens(text, chain, words))
        fragments = self.fragmenter.fragment_tokens(text, tokens)
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
