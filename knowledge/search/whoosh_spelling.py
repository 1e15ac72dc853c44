"""Indexed words near a misspelled one, found in C instead of Python.

A query word the index lacks also matches its closest indexed spelling (whoosh_backend.py,
``_spellings``). Whoosh finds the candidates by walking every term that shares the word's first
letter and running its pure-Python Damerau-Levenshtein on each (on a multi-segment index;
a single segment uses a Levenshtein automaton): ~9 ms per unknown word at 100k documents, the
largest cost of first-time queries holding a typo. Here each segment's terms are listed once
per first letter (kept with the segment's other arrays), filtered by length, and measured with
RapidFuzz's optimal string alignment distance, the same measure as Whoosh's
``damerau_levenshtein`` (adjacent transpositions count one edit).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import OSA
from whoosh.searching import Searcher

from .whoosh_scoring import segment_cache


def words_within(searcher: Searcher, fieldname: str, word: str, maxdist: int) -> list[str]:
    """The indexed words of ``fieldname`` that start with ``word``'s first letter and lie within
    ``maxdist`` edits of it, in the index's (sorted) term order."""
    if not word:
        return []
    found: set[str] = set()
    for leaf, _offset in searcher.leaf_searchers():
        reader = leaf.reader()
        if reader.segment() is None:  # an empty index
            continue
        terms, lengths = _terms_by_initial(
            reader, segment_cache(reader, searcher), fieldname, word[0]
        )
        near = np.flatnonzero(np.abs(lengths - len(word)) <= maxdist)
        if near.size:
            candidates = [terms[i] for i in near]
            matches = process.extract(
                word, candidates, scorer=OSA.distance, score_cutoff=maxdist, limit=None
            )
            found.update(match for match, _distance, _index in matches)
    return sorted(found)


def _terms_by_initial(
    reader: Any, cache: dict[str, Any], fieldname: str, initial: str
) -> tuple[list[str], np.ndarray]:
    by_initial: dict[tuple[str, str], tuple[list[str], np.ndarray]] = cache.setdefault(
        "terms_by_initial", {}
    )
    found = by_initial.get((fieldname, initial))
    if found is None:
        terms = []
        if fieldname in reader.schema:
            from_bytes = reader.schema[fieldname].from_bytes
            terms = [from_bytes(t) for t in reader.expand_prefix(fieldname, initial)]
        lengths = np.fromiter((len(t) for t in terms), dtype=np.int64, count=len(terms))
        found = by_initial[(fieldname, initial)] = (terms, lengths)
    return found
