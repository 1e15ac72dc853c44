"""Plain-word queries scored a whole posting list at a time, with NumPy.

Whoosh runs a query through a tree of pure-Python matchers: each posting of each word costs
several method calls (``id``, ``skip_to``, ``score``, quality checks), so a first-time query
that matches a few thousand documents at 100k documents took 0.2-1 s, however well the tree
prunes. What people type (words, no syntax) always parses to the same few shapes — unions of
field terms, with the coordination bonus, and "and maybe" (the common-terms rewrite of
whoosh_backend.py builds one) — so this module scores those shapes the way Whoosh's matchers
do, the same BM25F, field lengths, trust factors and coordination formula, but one posting list
at a time as arrays. Every match is scored (no pruning), so the ranking is exact and the total is
an exact count. ``compile_query`` returns None for anything else (phrases, NOT, AND, ranges) and
the caller keeps Whoosh's matchers for those.

Postings come from each segment's array sidecar (whoosh_postings.py) when it has one. Without it
(an index written before), they are read in the block layout of Whoosh 2.7.4's ``whoosh3`` codec
(pinned in pyproject.toml; the project is frozen): each block is a pickled, optionally
zlib-compressed ``(delta-encoded ids, weights, values)`` tuple. tests/knowledge/test_whoosh_vector.py checks
scores and order against Whoosh's own matchers, deletions and several segments included.
"""

from __future__ import annotations

import weakref
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from io import BytesIO
from pickle import load, loads
from typing import Any

import numpy as np
from whoosh import query as wq
from whoosh.codec.whoosh3 import _INT_SIZE, LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.matching import WrappingMatcher
from whoosh.query.compound import DefaultOr
from whoosh.reading import TermNotFound
from whoosh.searching import Results, Searcher
from whoosh.util.numeric import byte_to_length

from .whoosh_postings import open_sidecar
from .whoosh_scoring import CoordOr, SignalWeighting, column_array, segment_cache

# Whoosh stores a field's length in one byte (a lossy log scale); this table decodes them all.
_BYTE_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
# Decoded posting lists kept per segment (whoosh_scoring.segment_cache), least recently used
# out first: words recur across searches, and reading a list costs a term lookup and a matcher
# (~50-100 µs) plus ~6 µs per 128-posting block. Each entry counts its dictionary overhead.
POSTINGS_CACHE_BYTES = 32 * 1024 * 1024
CACHE_ENTRY_OVERHEAD_BYTES = 300
# Term impacts (_impacts) kept per segment: ~1,300 common terms of a 50k-document segment.
IMPACTS_CACHE_BYTES = 16 * 1024 * 1024
_NOT_OPENED = object()


@dataclass(frozen=True)
class TermNode:
    field: str
    text: str
    boost: float


@dataclass(frozen=True)
class UnionNode:
    children: tuple[Node, ...]
    boost: float
    coord_scale: float | None  # CoordOr's coordination bonus, None for a plain union


@dataclass(frozen=True)
class AndMaybeNode:
    required: Node
    optional: Node


Node = TermNode | UnionNode | AndMaybeNode


def compile_query(q: wq.Query, searcher: Searcher) -> Node | None:
    """``q`` as a tree this module can score, or None when it holds anything else."""
    schema = searcher.schema
    if type(q) is wq.Term:
        if q.fieldname not in schema or not schema[q.fieldname].scorable:
            return None
        return TermNode(q.fieldname, q.text, q.boost)
    if isinstance(q, CoordOr) or type(q) in (wq.Or, DefaultOr):
        scale = q.scale if isinstance(q, CoordOr) else None
        if q.minmatch or (scale is None and q.scale) or not q.subqueries:
            return None
        children = [compile_query(child, searcher) for child in q.subqueries]
        if any(child is None for child in children):
            return None
        if len(children) == 1:  # Whoosh uses the only child's matcher: no boost, no bonus
            return children[0]
        return UnionNode(tuple(children), q.boost, scale)
    if type(q) is wq.AndMaybe:
        required, optional = compile_query(q.a, searcher), compile_query(q.b, searcher)
        if required is None or optional is None:
            return None
        return AndMaybeNode(required, optional)
    return None


@dataclass(frozen=True)
class _Segment:
    """One segment of the searcher, as a query's scoring sees it."""

    reader: Any
    top: Searcher  # global statistics (idf, average field lengths) come from the whole index
    size: int
    factors: np.ndarray | None  # each document's trust factor, None when no signal counts
    cache: dict[str, Any]  # arrays computed from the segment (whoosh_scoring.segment_cache)


@dataclass
class _Scored:
    """One node's result over one segment: dense arrays indexed by the segment's docnums."""

    scores: np.ndarray  # float64
    matched: np.ndarray  # bool
    matching_terms: np.ndarray  # int32: how many of the node's term postings hit each doc
    term_count: int  # the node's terms present in the segment (Whoosh's "term matchers")


class VectorScorer:
    """Scores compiled queries over a searcher's segments with ``weighting``'s BM25F
    parameters and trust factors."""

    def __init__(self, weighting: SignalWeighting):
        self._weighting = weighting

    def top(
        self,
        searcher: Searcher,
        q: wq.Query,
        node: Node,
        allowed: set[int] | None,
        excluded: set[int] | None,
        limit: int,
    ) -> tuple[Results, int]:
        """Whoosh ``Results`` holding the best ``limit`` matches (score descending, then
        docnum, as Whoosh's collector orders ties) and the exact number of matches."""
        allowed_mask = _mask(searcher, allowed)
        excluded_mask = _mask(searcher, excluded)
        found_docs: list[np.ndarray] = []
        found_scores: list[np.ndarray] = []
        for leaf, offset in searcher.leaf_searchers():
            reader = leaf.reader()
            size = reader.doc_count_all()
            if not size:
                continue
            cache = segment_cache(reader, searcher)
            factors = self._weighting.factor_array(reader)
            segment = _Segment(reader, searcher, size, factors, cache)
            scored = self._score(node, segment)
            keep = scored.matched
            if allowed_mask is not None:
                keep = keep & allowed_mask[offset : offset + size]
            if excluded_mask is not None:
                keep = keep & ~excluded_mask[offset : offset + size]
            local = np.flatnonzero(keep)
            found_docs.append(local + offset)
            found_scores.append(scored.scores[local])
        docs = np.concatenate(found_docs) if found_docs else np.empty(0, dtype=np.int64)
        scores = np.concatenate(found_scores) if found_scores else np.empty(0)
        total = int(docs.size)
        if total > limit:
            # Every document scoring at least the limit-th best score, then exact order.
            threshold = np.partition(scores, total - limit)[total - limit]
            candidates = np.flatnonzero(scores >= threshold)
            docs, scores = docs[candidates], scores[candidates]
        order = np.lexsort((docs, -scores))[:limit]
        top_n = [(float(scores[i]), int(docs[i])) for i in order]
        return Results(searcher, q, top_n), total

    # --- scoring -------------------------------------------------------------------------

    def _score(self, node: Node, segment: _Segment) -> _Scored:
        if isinstance(node, TermNode):
            return self._union(UnionNode((node,), 1.0, None), segment)
        if isinstance(node, AndMaybeNode):
            required = self._score(node.required, segment)
            optional = self._score(node.optional, segment)
            both = required.matched & optional.matched
            return _Scored(
                scores=required.scores + np.where(both, optional.scores, 0.0),
                matched=required.matched,
                matching_terms=required.matching_terms + np.where(both, optional.matching_terms, 0),
                term_count=required.term_count + optional.term_count,
            )
        return self._union(node, segment)

    def _union(self, node: UnionNode, segment: _Segment) -> _Scored:
        # Term children are summed in one pass (bincount over their concatenated postings);
        # any other child is scored densely and added.
        size = segment.size
        scores = np.zeros(size)
        matching_terms = np.zeros(size, dtype=np.int32)
        term_count = 0
        ids_parts: list[np.ndarray] = []
        value_parts: list[np.ndarray] = []
        for child in node.children:
            if isinstance(child, TermNode):
                found = self._term_scores(child, segment)
                if found is not None:
                    ids_parts.append(found[0])
                    value_parts.append(found[1])
                    term_count += 1
            else:
                part = self._score(child, segment)
                scores += part.scores
                matching_terms += part.matching_terms
                term_count += part.term_count
        if ids_parts:
            ids = np.concatenate(ids_parts)
            scores += np.bincount(ids, weights=np.concatenate(value_parts), minlength=size)
            matching_terms += np.bincount(ids, minlength=size).astype(np.int32)
        matched = matching_terms > 0
        if node.boost != 1.0:
            scores *= node.boost
        if node.coord_scale is not None and term_count > 1:
            # Whoosh's CoordMatcher ("SQR"), applied to the boosted union score of each match.
            scale = node.coord_scale
            bonus = (matching_terms - 1) / (term_count - scale) ** 2
            sqr = (scores + bonus) * ((term_count - 1) / term_count)
            scores = np.where(matched, sqr, 0.0)
        return _Scored(scores, matched, matching_terms, term_count)

    def _term_scores(
        self, node: TermNode, segment: _Segment
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """(docnums, scores) of one term in one segment, or None when the segment lacks it
        (Whoosh then builds no term matcher: it does not count for the coordination bonus)."""
        reader = segment.reader
        k1, b = self._weighting.bm25_params(node.field)
        avgfl = segment.top.avg_field_length(node.field) or 1
        found = _impacts(segment, node.field, node.text, (k1, b, avgfl))
        if found is None:
            return None
        ids, impacts = found
        if reader.has_deletions() and ids.size:
            ids, impacts = _without_deleted(reader, ids, impacts)
        return ids, impacts * (segment.top.idf(node.field, node.text) * node.boost)


def _impacts(
    segment: _Segment, field: str, text: str, bm25: tuple[float, float, float]
) -> tuple[np.ndarray, np.ndarray] | None:
    """(docnums, BM25F term-frequency part times trust factor) of a term in one segment, deleted
    documents included: a term's score is this times its idf and boost.

    Kept per segment, least recently used out first: the arithmetic over a common word's tens
    of thousands of postings costs more than the lookup, and common words recur across
    searches. An entry holds while the BM25 parameters, the average field length (any commit
    that adds documents moves it) and the factor array (one object per segment reader, weights
    and day) are the ones it was computed with; otherwise it is recomputed. Between edits a
    first-time query's common words are a multiplication each (CPU p95 ~14-16 -> ~11-12 ms
    at 100k documents, docs/performance.md)."""
    cache: OrderedDict[tuple[str, str], tuple[Any, ...]] = segment.cache.setdefault(
        "impacts", OrderedDict()
    )
    key = (field, text)
    entry = cache.get(key)
    factors = segment.factors
    if entry is not None and entry[0] == bm25 and _same_factors(entry[1], factors):
        cache.move_to_end(key)
        return entry[2]
    found = postings(segment.reader, segment.cache, field, text)
    if found is not None:
        ids, weights = found
        k1, b, avgfl = bm25
        lengths = _field_lengths(segment.reader, segment.cache, field)[ids]
        impacts = (weights * (k1 + 1)) / (weights + k1 * ((1 - b) + b * lengths / avgfl))
        if factors is not None:
            impacts = impacts * factors[ids]
        found = (ids, impacts)
    if entry is not None:
        segment.cache["impacts_bytes"] -= _impact_bytes(entry[2])
    # A weak reference: an entry left stale by a commit must not keep its reader's factor
    # array (8 bytes per document of the segment) alive.
    cache[key] = (bm25, None if factors is None else weakref.ref(factors), found)
    cache.move_to_end(key)
    cached_bytes = segment.cache.get("impacts_bytes", 0) + _impact_bytes(found)
    while cached_bytes > IMPACTS_CACHE_BYTES and len(cache) > 1:
        _, old = cache.popitem(last=False)
        cached_bytes -= _impact_bytes(old[2])
    segment.cache["impacts_bytes"] = cached_bytes
    return found


def _same_factors(reference: weakref.ref[np.ndarray] | None, factors: np.ndarray | None) -> bool:
    """Whether an entry made with ``reference`` (None: no factors) holds for ``factors``; a
    reference whose array is gone holds for nothing."""
    if reference is None:
        return factors is None
    return factors is not None and reference() is factors


def _impact_bytes(found: tuple[np.ndarray, np.ndarray] | None) -> int:
    if found is None:
        return CACHE_ENTRY_OVERHEAD_BYTES
    return _entry_bytes(*found)


# --- reading the index -------------------------------------------------------------------


def postings(
    reader: Any, segment: dict[str, Any], field: str, text: str
) -> tuple[np.ndarray, np.ndarray] | None:
    """(docnums, weights) of a term in one segment, deleted documents included, or None when
    the segment lacks the term."""
    cache: OrderedDict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = segment.setdefault(
        "postings", OrderedDict()
    )
    found = cache.get((field, text))
    if found is not None:
        cache.move_to_end((field, text))
        return found
    sidecar = segment.get("sidecar", _NOT_OPENED)
    if sidecar is _NOT_OPENED:
        sidecar = segment["sidecar"] = open_sidecar(reader)
    if sidecar is not None:
        # The segment's postings as arrays (whoosh_postings.py): a slice, nothing to cache.
        try:
            terminfo = reader.term_info(field, text)
        except TermNotFound:
            return None
        if not terminfo.is_inlined():
            found = sidecar.postings(terminfo.extent()[0])
            if found is not None:
                return found
    try:
        matcher = reader.postings(field, text)
    except TermNotFound:
        return None
    while isinstance(matcher, WrappingMatcher):  # deletions are filtered by the caller
        matcher = matcher.child
    if isinstance(matcher, W3LeafMatcher):
        ids, weights = _read_blocks(matcher)
    else:  # inlined postings (a term in one document) or another codec: the slow, sure way
        id_list, weight_list = [], []
        while matcher.is_active():
            id_list.append(matcher.id())
            weight_list.append(matcher.weight())
            matcher.next()
        ids, weights = np.array(id_list, dtype=np.int64), np.array(weight_list)
    cache[(field, text)] = (ids, weights)
    cached_bytes = segment.get("postings_bytes", 0) + _entry_bytes(ids, weights)
    while cached_bytes > POSTINGS_CACHE_BYTES and len(cache) > 1:
        _, (old_ids, old_weights) = cache.popitem(last=False)
        cached_bytes -= _entry_bytes(old_ids, old_weights)
    segment["postings_bytes"] = cached_bytes
    return ids, weights


def _entry_bytes(ids: np.ndarray, weights: np.ndarray) -> int:
    return ids.nbytes + weights.nbytes + CACHE_ENTRY_OVERHEAD_BYTES


def _read_blocks(matcher: W3LeafMatcher) -> tuple[np.ndarray, np.ndarray]:
    """Every posting of a term, block by block, from the layout ``W3LeafMatcher._goto`` reads:
    a length (negative for the last block), a pickled info tuple, then the block's data.
    Each block is fetched with one ``get`` and unpickled from bytes: Whoosh's own path unpickles
    the info from the file object, ~30 small reads a block."""
    id_parts: list[np.ndarray] = []
    weight_parts: list[np.ndarray] = []
    postfile = matcher._postfile
    position = matcher._baseoffset
    while True:
        length = postfile.get_int(position)
        raw = postfile.get(position + _INT_SIZE, abs(length))
        header = BytesIO(raw)
        count, _maxid, _maxweight, compression, _minlength, _maxlength = load(header)  # noqa: S301
        data = raw[header.tell() :]
        if compression:
            data = zlib.decompress(data)
        ids, weights = _ids_and_weights(data)
        block_ids = np.array(ids, dtype=np.int64)
        id_parts.append(block_ids if matcher._byteids else np.cumsum(block_ids))
        if weights is None:
            weight_parts.append(np.ones(count))
        elif isinstance(weights, float):
            weight_parts.append(np.full(count, weights))
        else:
            weight_parts.append(np.array(weights, dtype=np.float64))
        if length < 0:
            break
        position += _INT_SIZE + length
    return np.concatenate(id_parts), np.concatenate(weight_parts)


# How Python 3 pickles bytes at protocol 2: a call of _codecs.encode(text, "latin1") per value.
_VALUES_GLOBAL = b"c_codecs\nencode\n"
_MARK, _NONE_TUPLE3_STOP = b"(", b"N\x87."


def _ids_and_weights(data: bytes) -> tuple[Any, Any]:
    """A block's (ids, weights), without building its values.

    The block is the pickle of ``(ids, weights, values)``; for fields with positions the values
    are one bytes object per posting, each unpickled through a ``_codecs.encode`` call: 95 % of
    the time (112 of 118 µs a block, measured). Scoring needs no positions, so the pickle is cut
    where the values start (the first ``_codecs.encode`` global; the ids and weights before it
    are ints and floats whose opcodes cannot spell it) and closed with ``None``."""
    start = data.find(_VALUES_GLOBAL)
    if start == -1:  # values are None or fixed-size bytes: cheap to unpickle
        ids, weights, _values = loads(data)  # noqa: S301 -- our own index file, as Whoosh reads it
        return ids, weights
    if data[start - 1 : start] == _MARK:  # a tuple of more than three values opens with MARK
        start -= 1
    ids, weights, _none = loads(data[:start] + _NONE_TUPLE3_STOP)  # noqa: S301
    return ids, weights


def _without_deleted(
    reader: Any, ids: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    # Keyed by the number of deletions too, should Whoosh ever hand back a reader it reused.
    deleted_count = reader.doc_count_all() - reader.doc_count()
    cached = reader.__dict__.get("_peerdesk_live")
    if cached is None or cached[0] != deleted_count:
        live = np.ones(reader.doc_count_all(), dtype=bool)
        deleted = np.fromiter(reader._perdoc.deleted_docs(), dtype=np.int64)
        live[deleted] = False
        cached = reader.__dict__["_peerdesk_live"] = (deleted_count, live)
    keep = cached[1][ids]
    return ids[keep], weights[keep]


def _field_lengths(reader: Any, segment: dict[str, Any], field: str) -> np.ndarray:
    """Every document's length of ``field`` in one segment, as Whoosh's scorer reads it."""
    cache: dict[str, np.ndarray] = segment.setdefault("lengths", {})
    found = cache.get(field)
    if found is None:
        size = reader.doc_count_all()
        column = reader._perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
        if column is None:
            found = np.zeros(size)
        else:
            found = _BYTE_LENGTHS[column_array(column, size, dtype=np.uint8)]
        cache[field] = found
    return found


def _mask(searcher: Searcher, docnums: set[int] | None) -> np.ndarray | None:
    """A boolean array over the searcher's documents, cached with the (never mutated) set."""
    if docnums is None:
        return None
    cache: dict[int, tuple[set[int], np.ndarray]] = searcher.__dict__.setdefault(
        "_peerdesk_masks", {}
    )
    found = cache.get(id(docnums))
    if found is None or found[0] is not docnums:
        mask = np.zeros(searcher.doc_count_all(), dtype=bool)
        if docnums:
            mask[np.fromiter(docnums, dtype=np.int64, count=len(docnums))] = True
        if len(cache) >= 64:
            cache.clear()
        found = cache[id(docnums)] = (docnums, mask)
    return found[1]
