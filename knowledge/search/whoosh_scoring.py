"""How Whoosh scores: BM25F times each document's trust factor, the coordination bonus, and
running a query so block-max pruning stays exact."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import math
import threading
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from whoosh import qparser
from whoosh import query as wq
from whoosh.columns import NumericColumn
from whoosh.matching import CoordMatcher
from whoosh.query.compound import DefaultOr
from whoosh.scoring import BM25F, BaseScorer, WeightingModel
from whoosh.searching import Searcher
from whoosh.util.times import datetime_to_long

COORD_SCALE = 0.9
BM25_PARAMS = {False: {}, True: {"K1": 1.2, "B": 0.75, "solution_B": 0.9, "title_B": 0.5}}
_MICROSECONDS_PER_DAY = 86_400 * 1_000_000


def flatten_unions(q: wq.Query) -> wq.Query:
    """``Or(Or(a, b), c)`` as ``Or(a, b, c)`` (same scores: sums are associative, boosts are
    multiplied in). Whoosh's block-max pruning drops real top hits inside nested unions
    (tests/knowledge/test_whoosh_scale.py shows it); over one flat union it is exact."""
    if isinstance(q, wq.Not) or q.is_leaf():
        return q
    q = q.apply(flatten_unions)
    if not isinstance(q, wq.Or):
        return q
    leaves: list[wq.Query] = []
    for child in q.subqueries:
        if type(child) is wq.Or:
            for grandchild in child.subqueries:
                inlined = copy.copy(grandchild)
                inlined.boost = grandchild.boost * child.boost
                leaves.append(inlined)
        else:
            leaves.append(child)
    flat = copy.copy(q)
    flat.subqueries = leaves
    return flat


def top_results(
    searcher: Searcher,
    q: wq.Query,
    allowed: set[int] | None,
    excluded: set[int] | None,
    limit: int,
) -> Any:
    """``searcher.search(q, limit=...)`` without Whoosh's periodic matcher replacement: it walks
    the whole matcher tree every ten matches, costs more than it saves on these queries (10-15 %
    of a query at 100k) and is not needed for block-max skipping."""
    collector = searcher.collector(limit=limit, filter=allowed, mask=excluded)
    top = collector
    while hasattr(top, "child"):  # the filter collector wraps the top-N one
        top = top.child
    top.replace = 0
    searcher.search_with_collector(q, collector)
    return collector.results()


class _SignalScorer(BaseScorer):
    """BM25F times the document's trust factor. Per-document factors are linear, so scaling
    every term's score scales the document's sum by the same factor.

    Block-max pruning stays on: a block's best possible score is BM25F's bound times the largest
    factor in the segment, so Whoosh can still skip blocks that cannot reach the top N (without
    it, a query scores every matching document: seconds at 100k documents)."""

    def __init__(self, inner: BaseScorer, factors: _SignalFactors):
        self._inner = inner
        self._factors = factors

    def supports_block_quality(self) -> bool:
        return self._inner.supports_block_quality()

    def max_quality(self) -> float:
        return self._inner.max_quality() * self._factors.max_factor

    def block_quality(self, matcher: Any) -> float:
        return self._inner.block_quality(matcher) * self._factors.max_factor

    def score(self, matcher: Any) -> float:
        return self._inner.score(matcher) * self._factors(matcher.id())


class _SignalFactors:
    """Per segment reader: document number → 1 + weighted signals, computed on first use."""

    def __init__(self, reader: Any, weights: Mapping[str, float], now_long: int):
        self._weights = weights
        self._now = now_long
        # NUMERIC columns hold sortable encodings (shifted by 2**(bits-1)), so they are read
        # translated; the datetime column is compared raw, against datetime_to_long(now).
        self._columns = {
            name: reader.column_reader(name, translate=name != "updated_at")
            for name in ("tier", "votes", "usage", "updated_at")
        }

    @functools.cached_property
    def max_factor(self) -> float:
        """An upper bound of every document's factor (freshness is at most 1)."""
        w, cols = self._weights, self._columns
        size = len(cols["tier"])

        def top(name: str) -> float:
            if w[name] <= 0 or not size:
                return 0
            return max(float(column_array(cols[name], size).max()), 0)

        # A negative weight only ever lowers a factor, so it adds nothing to the bound.
        return (
            1.0
            + max(w["tier"], 0.0) * top("tier")
            + max(w["votes"], 0.0) * math.log1p(top("votes"))
            + max(w["usage"], 0.0) * math.log1p(top("usage"))
            + max(w["freshness"], 0.0)
        )

    @functools.cached_property
    def array(self) -> np.ndarray:
        """Every document's factor, computed once for the segment (both scoring paths read it)."""
        w, cols = self._weights, self._columns
        size = len(cols["tier"])
        factor = np.ones(size)
        if w["tier"]:
            factor += w["tier"] * column_array(cols["tier"], size)
        if w["votes"]:
            factor += w["votes"] * np.log1p(np.maximum(column_array(cols["votes"], size), 0))
        if w["usage"]:
            factor += w["usage"] * np.log1p(np.maximum(column_array(cols["usage"], size), 0))
        if w["freshness"]:
            updated = column_array(cols["updated_at"], size, dtype=np.int64)
            age_days = np.maximum(self._now - updated, 0) / _MICROSECONDS_PER_DAY
            half_life = max(w["freshness_half_life_days"], 1.0)
            factor += w["freshness"] * np.power(0.5, age_days / half_life)
        return factor

    def __call__(self, docnum: int) -> float:
        return float(self.array[docnum])


# Arrays computed from a segment (decoded postings, field lengths) are kept per
# segment, not per reader: Whoosh opens a new reader for every segment after any commit (its
# reader reuse never matches), while a segment never changes once written (deletions are kept
# apart). Without this, every edit cost each web process seconds of recomputation at 100k.
# Keys pair a token of the index (stable across its searchers' refreshes) with the segment id:
# Whoosh draws segment ids from the global ``random``, which a seeded program can repeat.
SEGMENT_CACHES = 64
_segment_caches: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
_segment_caches_lock = threading.Lock()


def segment_cache(reader: Any, searcher: Searcher) -> dict[str, Any]:
    """A dict for values computed from ``reader``'s segment, shared by every reader of it that
    ``searcher``'s index opens (a new, unshared dict for a searcher opened without an index).

    What a segment holds can map its file (the postings sidecar), and a mapped file keeps its
    disk space after it is deleted: entries go as soon as their segment leaves the index (a
    merge) or their index object is dropped (a rebuild swaps in a new one), not only when 64
    newer segments push them out."""
    index = getattr(searcher, "_ix", None)
    if index is None:
        return {}
    token = index.__dict__.get("_peerdesk_token")
    if token is None:
        with _segment_caches_lock:
            token = index.__dict__.get("_peerdesk_token")
            if token is None:
                token = index.__dict__["_peerdesk_token"] = uuid.uuid4().hex
                weakref.finalize(index, _forget_segments, token, ())
    key = (token, reader.segment().segment_id())
    with _segment_caches_lock:
        cache = _segment_caches.get(key)
        if cache is not None:
            _segment_caches.move_to_end(key)
            return cache
    # A segment this process has not seen: the index changed, so forget its merged-away ones.
    live = tuple(
        leaf.reader().segment().segment_id()
        for leaf, _offset in searcher.leaf_searchers()
        if leaf.reader().segment() is not None
    )
    _forget_segments(token, live)
    with _segment_caches_lock:
        cache = _segment_caches.setdefault(key, {})
        while len(_segment_caches) > SEGMENT_CACHES:
            _segment_caches.popitem(last=False)
        return cache


def _forget_segments(token: str, keep: tuple[str, ...]) -> None:
    """Drop the cached segments of index ``token`` except those in ``keep``."""
    with _segment_caches_lock:
        for key in [k for k in _segment_caches if k[0] == token and k[1] not in keep]:
            del _segment_caches[key]


def column_array(column: Any, size: int, dtype: Any = np.float64) -> np.ndarray:
    """Every document's value of a column, as Whoosh's reader returns them one by one.

    Numeric columns (fixed-size big-endian values, then the default for documents past the
    last one written) are read in one slice; a translated column's distinct values go through
    its translation once each. Anything else is iterated: one Python call per document, ~1 s
    for seven columns at 100k documents."""
    translate = getattr(column, "_translate", None)
    raw = column.raw_column() if translate is not None else column
    if type(raw) is not NumericColumn.Reader or raw._reverse:
        return np.fromiter(iter(column), dtype=dtype, count=size)
    kind = "f" if raw._typecode in "fd" else ("u" if raw._typecode.isupper() else "i")
    stored = np.frombuffer(
        raw._dbfile.get(raw._basepos, raw._count * raw._fixedlen),
        dtype=np.dtype(f">{kind}{raw._fixedlen}"),
    )
    values = np.full(size, raw._default, dtype=stored.dtype.newbyteorder("="))
    values[: min(raw._count, size)] = stored[:size]
    if translate is not None:
        distinct, positions = np.unique(values, return_inverse=True)
        values = np.array([translate(value.item()) for value in distinct])[positions]
    return values.astype(dtype)


class SignalWeighting(WeightingModel):
    """BM25F scaled by trust signals with weights read from settings at each query."""

    def __init__(self, bm25: BM25F, weights: Callable[[], dict[str, float]] | None):
        self._bm25 = bm25
        self._weights = weights

    def current_weights(self) -> tuple[tuple[str, float], ...]:
        return tuple(sorted(self._weights().items())) if self._weights else ()

    def idf(self, searcher: Searcher, fieldname: str, text: str) -> float:
        return self._bm25.idf(searcher, fieldname, text)

    def supports_block_quality(self) -> bool:
        return self._bm25.supports_block_quality()

    def bm25_params(self, fieldname: str) -> tuple[float, float]:
        """(K1, B) for ``fieldname``, as BM25F's scorer picks them."""
        return self._bm25.K1, self._bm25._field_B.get(fieldname, self._bm25.B)

    def factor_array(self, reader: Any) -> np.ndarray | None:
        """Every document's trust factor in one segment, or None when no signal counts. Kept
        with the reader's factors, so both scoring paths use the same clock for freshness."""
        if self._weights is None:
            return None
        weights = self._weights()
        if not any(weights[k] for k in ("tier", "votes", "usage", "freshness")):
            return None
        return self._factors(reader, weights).array

    def scorer(self, searcher: Searcher, fieldname: str, text: str, qf: float = 1) -> BaseScorer:
        inner = self._bm25.scorer(searcher, fieldname, text, qf=qf)
        if self._weights is None:
            return inner
        weights = self._weights()
        if not any(weights[k] for k in ("tier", "votes", "usage", "freshness")):
            return inner
        return _SignalScorer(inner, self._factors(searcher.reader(), weights))

    @staticmethod
    def _factors(reader: Any, weights: dict[str, float]) -> _SignalFactors:
        # One cache per segment reader, weights and day: a long-lived searcher keeps it until
        # the index changes; freshness moves by the day.
        now = datetime_to_long(dt.datetime.now(dt.UTC).replace(tzinfo=None))
        key = (tuple(sorted(weights.items())), now // _MICROSECONDS_PER_DAY)
        cached = getattr(reader, "_peerdesk_factors", None)
        if cached is None or cached[0] != key:
            cached = (key, _SignalFactors(reader, weights, now))
            reader._peerdesk_factors = cached
        return cached[1]


class _CoordMatcher(CoordMatcher):
    """Whoosh's coordination bonus, minus its bug: with one (or, after a matcher replacement,
    zero) query terms in the index it multiplies every score by (n - 1) / n, which is 0 (the
    ranking is lost) or a ZeroDivisionError."""

    def _sqr(self, score: float, matching: int) -> float:
        if self._termcount <= 1:
            return score
        return super()._sqr(score, matching)


class CoordOr(wq.Or):
    def apply(self, fn: Callable[[wq.Query], wq.Query]) -> wq.Query:
        # Whoosh's CompoundQuery.apply rebuilds a query from its boost alone: every rewrite
        # (synonyms, spelling alternatives) silently dropped the coordination bonus.
        q = super().apply(fn)
        q.scale, q.minmatch = self.scale, self.minmatch
        return q

    def _matcher(self, subs: list[wq.Query], searcher: Searcher, context: Any) -> Any:
        matcher = DefaultOr(subs, boost=self.boost).matcher(searcher, context)
        if self.scale and any(True for _ in matcher.term_matchers()):
            matcher = _CoordMatcher(matcher, scale=self.scale)
        return matcher


class CoordOrGroup(qparser.OrGroup):
    """``OrGroup.factory(COORD_SCALE)`` producing ``CoordOr``: any word may match (long
    questions still find something) and documents matching more words rank higher."""

    qclass = CoordOr

    def __init__(self, nodes: Any = None, **kwargs: Any):
        kwargs.pop("scale", None)
        super().__init__(nodes=nodes, scale=COORD_SCALE, **kwargs)
