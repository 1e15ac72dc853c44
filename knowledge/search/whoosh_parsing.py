"""What people type, plain words, parsed without Whoosh's query parser.

Whoosh's parser tags, groups, filters and normalizes a query through a dozen plugins: ~3 ms for
a typed question, an eighth of a first-time search at 100k documents. Text without any of its
syntax (quotes, parentheses, operators, boosts, wildcards, a leading sign or quote) always
parses to the same shape: for each whitespace-separated word, the terms its analysis gives in
each field (one term alone, several in an ``Or``), all words under one ``CoordOr``. This module
builds that shape directly; anything else goes to the parser. tests/knowledge/test_whoosh_parsing.py
compares both on thousands of real questions.
"""

from __future__ import annotations

import re
from typing import Any

from whoosh import query as wq

from .whoosh_schema import _plain_chain, _term_positions
from .whoosh_scoring import COORD_SCALE, CoordOr

# Anything the query parser could read as syntax: quotes and brackets, boosts, "*:*", a word
# starting with a sign or a quote, a quote after punctuation, operators. ("?" is a plain
# character: the wildcard plugin is off, most questions end with one.)
SYNTAX_RE = re.compile(
    r"""["()\[\]{}^*:~\\]|(?<!\S)[+\-']|(?<=\W)'|\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE|TO)\b"""
)
WORDS_CACHE_SIZE = 20_000


class PlainWordsParser:
    def __init__(self, schema: Any, fieldnames: tuple[str, ...]):
        self._fields = [
            (name, schema[name], _plain_chain(schema[name].analyzer)) for name in fieldnames
        ]
        self._words: dict[str, tuple[tuple[str, str], ...]] = {}

    def parse(self, text: str) -> wq.Query | None:
        """The normalized query Whoosh's parser would build, ``NullQuery`` when no word is
        left, or None when ``text`` holds syntax (the caller then runs the parser)."""
        if SYNTAX_RE.search(text):
            return None
        clauses: list[wq.Query] = []
        for word in text.split():
            terms = [wq.Term(field, token) for field, token in self._terms(word)]
            if not terms:
                continue
            clause = terms[0] if len(terms) == 1 else wq.Or(terms)
            if clause not in clauses:  # as normalize() drops a repeated word
                clauses.append(clause)
        if not clauses:
            return wq.NullQuery
        if len(clauses) == 1:
            return clauses[0]
        return CoordOr(clauses, scale=COORD_SCALE)

    def _terms(self, word: str) -> tuple[tuple[str, str], ...]:
        """(field, token) pairs of one word, in field order then token order, without repeats.
        Kept per word: questions share most of their words."""
        found = self._words.get(word)
        if found is None:
            pairs: dict[tuple[str, str], None] = {}
            for name, field, chain in self._fields:
                if chain is not None:
                    tokens = list(_term_positions(word, chain))
                else:
                    tokens = list(field.process_text(word, mode="query"))
                for token in tokens:
                    pairs[name, token] = None
            found = tuple(pairs)
            if len(self._words) >= WORDS_CACHE_SIZE:
                self._words.clear()
            self._words[word] = found
        return found
