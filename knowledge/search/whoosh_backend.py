"""Whoosh backends: an on-disk index (the embedded default) and a RAM index for tests.

Whoosh allows one writer per index. Writers wait up to ``lock_timeout`` seconds and then raise
``whoosh.index.LockError``, which the Celery task retries. Searchers are long-lived (opening an
index costs far more than a query) and are refreshed when another writer or process committed.

Relevance (measured by ``bench/relevance.py``; see docs/search.md): BM25F over title, problem,
solution and tags with a question-aware stop list; at query time synonyms and the closest indexed
spelling of unknown words are added as weaker alternatives, and words that stay together in a
title score extra. The text score is then multiplied by the trust signals (validation tier,
votes, freshness, usage) with the weights of ``PEERDESK_SEARCH_RANKING``.
"""

from __future__ import annotations

import bisect
import datetime as dt
import html
import itertools
import logging
import math
import mmap
import multiprocessing
import os
import re
import shutil
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from django.conf import settings
from whoosh import highlight, qparser, writing
from whoosh import query as wq
from whoosh.filedb.filestore import FileStorage, RamStorage
from whoosh.filedb.structfile import StructFile
from whoosh.index import FileIndex, LockError
from whoosh.scoring import BM25F
from whoosh.searching import Hit, Searcher

from .analysis import SYNONYM_GROUPS, synonym_map
from .base import (
    AUDIENCES,
    COMMON_TERM_FRACTION,
    COMMON_TERMS_MIN_DOCS,
    FACET_SAMPLE,
    TIERS,
    ProgressCallback,
    ResultsCache,
    SearchBackend,
    SearchDocument,
    SearchFilters,
    SearchHit,
    SearchResults,
    combine_suggestions,
)
from .ranking import DEFAULT_RANKING, ranking_weights
from .whoosh_facets import count_facets
from .whoosh_highlight import PlainChainHighlighter
from .whoosh_parsing import PlainWordsParser

# Whoosh pickles the schema, analyzer classes included, into every index's table of contents:
# indexes written before whoosh_schema.py existed name the stem filter under this module.
from .whoosh_schema import (
    _CachedStemFilter,  # noqa: F401
    build_schema,
    fields_for,
    tags_of,
    text_analyzer,
    utc,
)
from .whoosh_scoring import (
    BM25_PARAMS,
    COORD_SCALE,
    CoordOr,
    CoordOrGroup,
    SignalWeighting,
    flatten_unions,
    top_results,
)
from .whoosh_spelling import words_within
from .whoosh_vector import VectorScorer, compile_query

__all__ = ["RamWhooshBackend", "WhooshBackend", "build_schema", "ranking_weights"]

logger = logging.getLogger(__name__)

TEXT_FIELDS = ("title", "solution", "problem", "tags")
BODY_FIELDS = ("title", "solution", "problem")
SNIPPET_FIELDS = ("solution", "problem")
SNIPPET_FALLBACK_CHARS = 200
# Highlighting re-analyses the text it is given (tokenize, lowercase, stem: a few µs a word) for
# every hit shown, most of a search page's CPU. Whoosh is handed only the HIGHLIGHT_WINDOW_CHARS
# where the query's words cluster, found by a regex of their stems' beginnings (a Porter stem keeps
# the word's beginning) in the first HIGHLIGHT_SCAN_CHARS of the field (Elasticsearch's
# max_analyzed_offset, Lucene's maxDocCharsToAnalyze). A field with no match shows its start.
HIGHLIGHT_SCAN_CHARS = 2_000
HIGHLIGHT_WINDOW_CHARS = 600
HIGHLIGHT_LEAD_CHARS = 60
MAX_SIMILAR_TERMS = 32
MAX_SIMILAR_CHARS = 4000
# Each word becomes one clause per field: bound what a pasted log file can cost a query.
MAX_QUERY_CHARS = 500
MAX_SUGGEST_WORDS = 20
# Words of a question that a small index may not contain but that are never typos.
_FUNCTION_WORDS_TEXT = """
    about after again all also any been before being but can could did does doing done each few
    get got had has have her him his how into its just mine more most much must not now off once
    only other our out over own same she should some such than then there these they those
    through too under until very was were what where which while who whom why would
"""
FUNCTION_WORDS = frozenset(_FUNCTION_WORDS_TEXT.split())
PROGRESS_EVERY = 500
# Rebuild processes: indexing is CPU-bound pure Python, one process per core pays off.
MAX_PROCS = 4

# Every analysis choice, on by default. bench/relevance.py turns them on one at a time to
# measure what each buys (relevance and latency); production uses the defaults.
RELEVANCE_DEFAULTS: dict[str, bool] = {
    "stopwords": True,  # drop question scaffolding ("how do I", "is there a way") everywhere
    "weights": True,  # field weights and length normalisation fitted to Q&A documents
    "synonyms": True,  # query words also match their synonyms (analysis.SYNONYM_GROUPS)
    "typos": True,  # a query word missing from the index also matches its closest spelling
    "proximity": False,  # title word-pair bonus: measured no gain (docs/search.md), so off
    "similar_terms": True,  # similar(): the most distinctive words (tf-idf), not the first ones
}
SYNONYM_WEIGHT = 0.6
TYPO_WEIGHT = 0.8
PROXIMITY_BOOST = 1.0
PROXIMITY_SLOP = 3

_WORD_RE = re.compile(r"\w+", re.UNICODE)


def _has_positive_clause(q: wq.Query) -> bool:
    if q is wq.NullQuery or isinstance(q, wq.Not):
        return False
    if isinstance(q, wq.AndNot):
        return _has_positive_clause(q.a)
    if q.is_leaf():
        return True
    return any(_has_positive_clause(child) for child in q.children())


FACET_NAMES = ("area", "type", "tag", "tier")
# Filter sets kept per searcher (each distinct facet selection is one entry).
DOCSET_CACHE_SIZE = 64
# Query words whose synonyms and closest spelling are kept per index reader.
ALTERNATIVES_CACHE_SIZE = 20_000


def _highlight_pattern(results: Any) -> re.Pattern[str] | None:
    """A regex finding where the query's words may stand in a snippet field (cached per results)."""
    if "_peerdesk_highlight" not in results.__dict__:
        stems = {text for field, text in results.q.iter_all_terms() if field in SNIPPET_FIELDS}
        prefixes = sorted({stem[:-1] if len(stem) > 3 else stem for stem in stems}, key=len)
        results.__dict__["_peerdesk_highlight"] = (
            re.compile(r"\b(?:" + "|".join(map(re.escape, reversed(prefixes))) + ")", re.I)
            if prefixes
            else None
        )
    return results.__dict__["_peerdesk_highlight"]


def _highlight_window(text: str, pattern: re.Pattern[str]) -> str | None:
    """The part of ``text`` holding the most candidate words, cut at spaces, or None."""
    text = text[:HIGHLIGHT_SCAN_CHARS]
    starts = [m.start() for m in pattern.finditer(text)]
    if not starts:
        return None
    span = HIGHLIGHT_WINDOW_CHARS - 2 * HIGHLIGHT_LEAD_CHARS
    counts = [bisect.bisect_left(starts, start + span) - i for i, start in enumerate(starts)]
    anchor = starts[counts.index(max(counts))]  # the earliest window with the most words
    begin = max(0, anchor - HIGHLIGHT_LEAD_CHARS)
    if begin:
        space = text.find(" ", begin, anchor)
        begin = space + 1 if space != -1 else begin
    end = begin + HIGHLIGHT_WINDOW_CHARS
    if end < len(text):
        space = text.rfind(" ", anchor, end)
        end = space if space != -1 else end
    return text[begin:end]


class _BaseWhooshBackend(SearchBackend):
    """Everything but storage: schema, parsing, searching, highlighting, writing.

    ``relevance`` switches analysis choices (RELEVANCE_DEFAULTS); ``ranking`` fixes the signal
    weights (default: settings.PEERDESK_SEARCH_RANKING per query; False: text relevance only).
    ``synonyms`` adds site-specific groups to analysis.SYNONYM_GROUPS. ``common_terms_min_docs``
    is the index size from which common words stop selecting documents on their own.
    ``vectorized`` scores plain-word queries with NumPy (whoosh_vector.py); False keeps
    Whoosh's matchers for every query (tests compare the two).
    """

    def __init__(
        self,
        path: str = "",
        *,
        lock_timeout: float = 10.0,
        limitmb: int = 256,
        procs: int | None = None,
        relevance: Mapping[str, bool] | None = None,
        ranking: Mapping[str, float] | bool | None = None,
        synonyms: Iterable[Iterable[str]] = (),
        common_terms_min_docs: int = COMMON_TERMS_MIN_DOCS,
        vectorized: bool = True,
    ):
        self.path = path
        self.vectorized = vectorized
        self.common_terms_min_docs = common_terms_min_docs
        self.lock_timeout = lock_timeout
        self.limitmb = limitmb
        # Rebuilds index in this many processes (None: one per core, at most MAX_PROCS).
        self.procs = procs
        self.relevance = {**RELEVANCE_DEFAULTS, **(relevance or {})}
        self.schema = build_schema(
            stopwords=self.relevance["stopwords"], weights=self.relevance["weights"]
        )
        self._lock = threading.RLock()
        self._searcher_obj: Searcher | None = None
        # Results of recent searches, keyed by the token of the searcher they came from.
        self._results_cache = ResultsCache()
        self._parser = self._make_parser(syntax=True)
        self._plain_parser = self._make_parser(syntax=False)
        self._plain_words = PlainWordsParser(self.schema, TEXT_FIELDS)
        self._analyzer = text_analyzer(stopwords=self.relevance["stopwords"])
        if ranking is False:
            weights: Callable[[], dict[str, float]] | None = None
        elif ranking is None or ranking is True:
            weights = ranking_weights
        else:
            fixed = {**DEFAULT_RANKING, **ranking}
            weights = lambda: fixed  # noqa: E731
        self._weighting = SignalWeighting(BM25F(**BM25_PARAMS[self.relevance["weights"]]), weights)
        self._vector_scorer = VectorScorer(self._weighting)
        self._synonyms: dict[str, tuple[str, ...]] = {}
        if self.relevance["synonyms"]:
            self._synonyms = synonym_map(
                [
                    *SYNONYM_GROUPS,
                    *getattr(settings, "PEERDESK_SEARCH", {}).get("SYNONYMS", ()),
                    *synonyms,
                ],
                self._normalize,
            )

    def _normalize(self, word: str) -> str:
        tokens = [t.text for t in self._analyzer(word)]
        return tokens[0] if len(tokens) == 1 else ""

    # --- storage hooks -------------------------------------------------------------------

    def _index(self) -> FileIndex:
        raise NotImplementedError

    def _index_moved(self) -> bool:
        """True when the live index was swapped underneath us (by a rebuild in any process)."""
        return False

    # --- searchers -------------------------------------------------------------------------

    @contextmanager
    def _searcher(self) -> Iterator[Searcher]:
        # Searching holds the lock too: a Whoosh searcher shares file handles and is not safe
        # to use from two threads at once.
        with self._lock:
            searcher = self._searcher_obj
            if searcher is not None and self._index_moved():
                self._close_searcher()
                searcher = None
            if searcher is None:
                searcher = self._index().searcher(weighting=self._weighting)
            elif not searcher.up_to_date():
                searcher = searcher.refresh()
            self._searcher_obj = searcher
            yield searcher

    def _close_searcher(self) -> None:
        with self._lock:
            if self._searcher_obj is not None:
                try:
                    self._searcher_obj.close()
                except OSError:  # files of a swapped-out index may be gone already
                    logger.debug("Closing a stale searcher failed.", exc_info=True)
                self._searcher_obj = None

    def close(self) -> None:
        """Release the cached searcher (the next query opens a new one)."""
        self._close_searcher()

    # --- writers ---------------------------------------------------------------------------

    @contextmanager
    def _writer(
        self, ix: FileIndex | None = None, *, mergetype=None, procs: int = 1
    ) -> Iterator[Any]:
        """A committed-on-success writer. Raises LockError when another writer holds the index."""
        options: dict[str, Any] = {"timeout": self.lock_timeout, "limitmb": self.limitmb}
        if procs > 1:
            # Sub-processes each write a segment; keeping them avoids a final merge pass.
            options.update(procs=procs, multisegment=True)
        writer = (ix or self._index()).writer(**options)
        try:
            yield writer
        except BaseException:
            writer.cancel()
            raise
        if mergetype is None:
            writer.commit()
        else:
            writer.commit(mergetype=mergetype)

    def upsert(self, documents: Iterable[SearchDocument]) -> None:
        docs = list(documents)
        if not docs:
            return
        with self._writer() as writer:
            for doc in docs:
                writer.update_document(**fields_for(doc))

    def delete(self, doc_ids: Iterable[str]) -> None:
        ids = list(dict.fromkeys(doc_ids))
        if not ids:
            return
        with self._writer() as writer:
            for doc_id in ids:
                writer.delete_by_term("id", doc_id)

    def clear(self) -> None:
        with self._writer(mergetype=writing.CLEAR):
            pass

    def stored_versions(self) -> dict[str, dt.datetime]:
        with self._searcher() as searcher:
            return {
                fields["id"]: utc(fields["updated_at"])
                for fields in searcher.all_stored_fields()
                if "id" in fields and fields.get("updated_at") is not None
            }

    @staticmethod
    def _write_all(
        writer: Any, documents: Iterable[SearchDocument], progress: ProgressCallback | None
    ) -> int:
        count = 0
        add = writer.add_document
        for doc in documents:
            add(**fields_for(doc))
            count += 1
            if progress and count % PROGRESS_EVERY == 0:
                progress(count)
        if progress and count % PROGRESS_EVERY:
            progress(count)
        return count

    # --- queries ---------------------------------------------------------------------------

    def _make_parser(self, *, syntax: bool) -> qparser.QueryParser:
        parser = qparser.MultifieldParser(list(TEXT_FIELDS), self.schema, group=CoordOrGroup)
        # Field names are internal ("audience:internal"); wildcards turn the "?" ending most
        # questions into a pattern ("router?" would miss "router"); ranges mean nothing here.
        parser.remove_plugin_class(qparser.FieldsPlugin)
        parser.remove_plugin_class(qparser.WildcardPlugin)
        parser.remove_plugin_class(qparser.RangePlugin)
        if not syntax:
            for plugin in (
                qparser.PhrasePlugin,
                qparser.GroupPlugin,
                qparser.OperatorsPlugin,
                qparser.PlusMinusPlugin,
                qparser.BoostPlugin,
                qparser.SingleQuotePlugin,
            ):
                parser.remove_plugin_class(plugin)
        return parser

    def _parse(self, text: str) -> wq.Query | None:
        text = text[:MAX_QUERY_CHARS]
        q = self._plain_words.parse(text)
        if q is None:
            try:
                q = self._parser.parse(text)
            except Exception:
                # User syntax the parser cannot digest: keep the words, drop the syntax.
                logger.debug("Falling back to plain terms for %r", text, exc_info=True)
                q = self._plain_parser.parse(" ".join(_WORD_RE.findall(text)))
            q = q.normalize()
        # A query that is only a negation ("NOT foo") would list the whole index.
        return q if _has_positive_clause(q) else None

    def _query(self, text: str, searcher: Searcher) -> wq.Query | None:
        """The user's query plus the relevance choices: alternatives for each word (synonyms,
        spelling) and a bonus for words that stay together in a title."""
        q = self._parse(text)
        if q is None:
            return None
        alternatives = self._alternatives(searcher)
        if self._synonyms or self.relevance["typos"]:
            q = self._expand_terms(q, alternatives)
        if self.relevance["proximity"]:
            words = list(dict.fromkeys(t.text for t in self._analyzer(text[:MAX_QUERY_CHARS])))
            pairs = [
                wq.Phrase("title", [a, b], slop=PROXIMITY_SLOP)
                for a, b in itertools.pairwise(words)
            ]
            if pairs:
                # AndMaybe: only ever re-orders what the query matched (negations still hold).
                q = wq.AndMaybe(q, wq.Or(pairs, boost=PROXIMITY_BOOST))
        return q

    def _with_common_terms_optional(self, q: wq.Query, reader: Any) -> wq.Query | None:
        """``q`` rewritten so its common words cannot select documents on their own, or None when
        the rewrite does not apply (small index, user syntax, no common word).

        Rare words match (any of them, with the coordination bonus) and common words add to the
        score of what they matched. When every word is common, the rarest third of them (at
        least one) take the rare words' place. The caller falls back to ``q`` when the
        rewrite finds nothing (a filter may exclude everything the rare words match).
        """
        if not isinstance(q, CoordOr) or reader.doc_count() < self.common_terms_min_docs:
            return None
        cutoff = COMMON_TERM_FRACTION * reader.doc_count()
        clauses: list[tuple[int, wq.Query]] = []
        for clause in q.subqueries:
            terms = list(clause.iter_all_terms())
            if not terms:
                return None
            df = max(reader.doc_frequency(field, text) for field, text in terms)
            if df:  # a word the index lacks matches nothing either way
                clauses.append((df, clause))
        clauses.sort(key=lambda item: item[0])
        rare = [clause for df, clause in clauses if df <= cutoff]
        if len(rare) == len(clauses):
            return None
        if not rare:
            rare = [clause for _, clause in clauses[: max(1, len(clauses) // 3)]]
        common = [clause for _, clause in clauses if not any(clause is r for r in rare)]
        matching = CoordOr(rare, boost=q.boost, scale=COORD_SCALE) if len(rare) > 1 else rare[0]
        if not common:
            return matching
        return wq.AndMaybe(matching, wq.Or(common, boost=q.boost))

    def _alternatives(self, searcher: Searcher) -> Callable[[str, str], list[tuple[str, float]]]:
        # Kept with the reader (a changed index is a new reader): finding a spelling means an
        # edit-distance walk of the term dictionary, and searches repeat their words.
        reader = searcher.reader()
        cache: dict[str, list[tuple[str, float]]] = reader.__dict__.setdefault(
            "_peerdesk_alternatives", {}
        )
        if len(cache) > ALTERNATIVES_CACHE_SIZE:
            cache.clear()

        def lookup(fieldname: str, text: str) -> list[tuple[str, float]]:
            found = cache.get(text)
            if found is None:
                found = [(s, SYNONYM_WEIGHT) for s in self._synonyms.get(text, ())]
                if self.relevance["typos"]:
                    found += [(s, TYPO_WEIGHT) for s in self._spellings(searcher, text)]
                cache[text] = found
            return found

        return lookup

    @staticmethod
    def _spellings(searcher: Searcher, stem: str) -> list[str]:
        """For a word the index lacks, its most common indexed neighbour within one edit (two
        for long words; ties go to the first in term order); nothing for known, short or
        numeric words."""
        reader = searcher.reader()
        if len(stem) < 4 or stem.isdigit():
            return []
        if any((field, stem) in reader for field in BODY_FIELDS):
            return []
        maxdist = 2 if len(stem) >= 8 else 1
        best: tuple[int, str] | None = None
        for field in ("title", "solution"):
            for candidate in words_within(searcher, field, stem, maxdist):
                freq = reader.doc_frequency(field, candidate)
                if best is None or freq > best[0]:
                    best = (freq, candidate)
        return [best[1]] if best else []

    @staticmethod
    def _expand_terms(
        q: wq.Query, alternatives: Callable[[str, str], list[tuple[str, float]]]
    ) -> wq.Query:
        def rewrite(node: wq.Query) -> wq.Query:
            if isinstance(node, wq.Term) and node.fieldname in BODY_FIELDS:
                extra = alternatives(node.fieldname, node.text)
                if extra:
                    return wq.Or(
                        [node]
                        + [wq.Term(node.fieldname, t, boost=node.boost * w) for t, w in extra]
                    )
                return node
            if isinstance(node, wq.Not):  # never widen what the user excluded
                return node
            return node.apply(rewrite)

        return rewrite(q)

    @staticmethod
    def _narrowing_query(filters: SearchFilters) -> wq.Query | None:
        """The facet filters (area, tag, type, tier) as one query, or None without any."""
        parts: list[wq.Query] = []
        if filters.area:
            parts.append(wq.Term("area", filters.area))
        if filters.tag:
            parts.append(wq.Term("tags", filters.tag.strip().lower()))
        if filters.type == "thread":
            parts.append(wq.Or([wq.Term("type", "thread"), wq.Term("type", "thread_accepted")]))
        elif filters.type:
            parts.append(wq.Term("type", filters.type))
        if filters.tier:
            tier = TIERS.index(filters.tier) if filters.tier in TIERS else -1
            parts.append(wq.NumericRange("tier", tier, tier) if tier >= 0 else wq.NullQuery)
        return wq.And(parts) if parts else None

    def _restrictions(
        self, searcher: Searcher, filters: SearchFilters
    ) -> tuple[set[int] | None, set[int] | None]:
        """(allowed, excluded) document numbers for ``filters``, cached on the searcher.

        Audiences are applied as an exclusion: the documents of audiences the reader may not
        see (internal articles) are few, while "every public document" is nearly the whole
        index, which Whoosh would otherwise turn into a set per query. A refreshed searcher is a
        new object, so a cached set never outlives the index it was read from.
        """
        # Plain sets (Whoosh accepts no frozenset); never mutated once cached.
        cache: dict[Any, set[int]] = searcher.__dict__.setdefault("_peerdesk_docsets", {})

        def docs(key: Any, q: wq.Query) -> set[int]:
            found = cache.get(key)
            if found is None:
                if len(cache) >= DOCSET_CACHE_SIZE:
                    cache.clear()
                found = cache[key] = set(searcher.docs_for_query(q))
            return found

        excluded_audiences = tuple(a for a in AUDIENCES if a not in filters.audiences)
        excluded = None
        if excluded_audiences:
            excluded = docs(
                ("audience", excluded_audiences),
                wq.Or([wq.Term("audience", a) for a in excluded_audiences]),
            )
        narrowing = self._narrowing_query(filters)
        allowed = None
        if narrowing is not None:
            allowed = docs(
                ("narrow", filters.area, filters.tag, filters.type, filters.tier), narrowing
            )
        return allowed, excluded

    def _configure_highlighting(self, results: Any) -> None:
        results.highlighter = PlainChainHighlighter(
            fragmenter=highlight.ContextFragmenter(maxchars=SNIPPET_FALLBACK_CHARS, surround=60),
            formatter=highlight.HtmlFormatter(tagname="mark", between=" … "),
        )
        # Whoosh's highlighter asks for the query's indexed terms of a field once per snippet
        # (a walk of the query and a dictionary lookup per term): find them once per page.
        # (Asked for every field at once, Whoosh's existing_terms keeps only the first field's.)
        by_field: dict[str | None, set[Any]] = {}
        find_terms = results.query_terms

        def query_terms(expand: bool = False, fieldname: str | None = None) -> set[Any]:
            if not expand:
                return find_terms(expand=expand, fieldname=fieldname)
            if fieldname not in by_field:
                by_field[fieldname] = find_terms(expand=True, fieldname=fieldname)
            return by_field[fieldname]

        results.query_terms = query_terms

    @staticmethod
    def _snippet(hit: Hit) -> str:
        # Whoosh's HtmlFormatter escapes the text around and inside each match; the fallback
        # escapes by hand. Both matter: templates render snippets with |safe.
        pattern = _highlight_pattern(hit.results)
        for field in SNIPPET_FIELDS:
            text = hit.get(field) or ""
            window = _highlight_window(text, pattern) if text and pattern else None
            if window:
                fragment = hit.highlights(field, text=window, top=2)
                if fragment:
                    return fragment
        for field in SNIPPET_FIELDS:
            text = hit.get(field) or ""
            if text:
                cut = text[:SNIPPET_FALLBACK_CHARS]
                suffix = " …" if len(text) > SNIPPET_FALLBACK_CHARS else ""
                return html.escape(cut, quote=False) + suffix
        return ""

    def _hit(self, hit: Hit) -> SearchHit:
        return SearchHit(
            id=hit["id"],
            type=hit.get("type", ""),
            title=hit.get("title", ""),
            snippet=self._snippet(hit),
            url=hit.get("url", ""),
            area=hit.get("area", ""),
            tags=tags_of(hit.fields()),
            score=float(hit.score or 0.0),
            source_url=hit.get("source_url", ""),
            tier=int(hit.get("tier") or 0),
        )

    def search(
        self,
        query: str,
        *,
        filters: SearchFilters | None = None,
        page: int = 1,
        page_size: int = 10,
    ) -> SearchResults:
        filters = filters or SearchFilters()
        page = max(1, int(page))
        page_size = max(1, int(page_size))
        empty = SearchResults(query=query, hits=[], total=0, page=page, page_size=page_size)
        if not (query or "").strip() or not filters.audiences:
            return empty
        with self._searcher() as searcher:
            key = self._result_key(searcher, "search", query, filters, page, page_size)
            cached = self._results_cache.get(key)
            if cached is not None:
                return cached
            found = self._search(searcher, query, filters, page, page_size) or empty
            self._results_cache.put(key, found)
            return found

    def _result_key(self, searcher: Searcher, *parts: Any) -> tuple[Any, ...]:
        """A results-cache key valid for this searcher only: a refreshed searcher (any index
        change, in any process) gets a new token, so no cached page outlives an edit. Ranking
        weights and the day (freshness) are part of the key."""
        token = searcher.__dict__.get("_peerdesk_token")
        if token is None:
            token = searcher.__dict__["_peerdesk_token"] = uuid.uuid4().hex
        weights = self._weighting.current_weights()
        return (token, dt.datetime.now(dt.UTC).date().toordinal(), weights, *parts)

    def _search(
        self, searcher: Searcher, query: str, filters: SearchFilters, page: int, page_size: int
    ) -> SearchResults | None:
        q = self._query(query, searcher)
        if q is None:
            return None
        allowed, excluded = self._restrictions(searcher, filters)
        if allowed is not None and not allowed:
            return None
        # Facets over the best FACET_SAMPLE hits (base.py); Whoosh's grouping of every match
        # cost seconds at 100k documents.
        limit = max(page * page_size, FACET_SAMPLE)
        results, total = self._run(searcher, q, allowed, excluded, limit)
        self._configure_highlighting(results)
        start = (page - 1) * page_size
        hits = [self._hit(hit) for hit in results[start : start + page_size]]
        return SearchResults(
            query=query,
            hits=hits,
            total=total,
            page=page,
            page_size=page_size,
            facets=self._facets(searcher, [docnum for _, docnum in results.top_n[:FACET_SAMPLE]]),
        )

    def _run(
        self,
        searcher: Searcher,
        q: wq.Query,
        allowed: set[int] | None,
        excluded: set[int] | None,
        limit: int,
    ) -> tuple[Any, int]:
        """The top ``limit`` results of ``q`` and the number of matches.

        Plain-word queries are scored a posting list at a time (whoosh_vector.py), every word
        in full at any index size: scoring every match that way costs no more than the
        common-terms rewrite (measured at 100k, docs/search.md). Anything else runs through
        Whoosh's matchers, with the common-terms rewrite when it applies and finds anything."""
        flat = flatten_unions(q)
        node = compile_query(flat, searcher) if self.vectorized else None
        if node is not None:
            return self._vector_scorer.top(searcher, flat, node, allowed, excluded, limit)
        fast = self._with_common_terms_optional(q, searcher.reader())
        for candidate in (fast, q):
            if candidate is None:
                continue
            results = top_results(searcher, flatten_unions(candidate), allowed, excluded, limit)
            if candidate is q or not results.is_empty():
                return results, self._total(results, allowed)
        raise AssertionError("unreachable: the loop returns on q")

    @staticmethod
    def _total(results: Any, allowed: set[int] | None) -> int:
        """The exact number of matches when the collector counted them; else Whoosh's estimate
        (block-max pruning skips documents that cannot reach the top, so nobody counted them)."""
        if results.has_exact_length():
            return len(results)
        estimate = max(results.estimated_length(), results.scored_length())
        return min(estimate, len(allowed)) if allowed is not None else estimate

    def _facets(self, searcher: Searcher, docnums: list[int]) -> dict[str, dict[str, int]]:
        """Facet counts over ``docnums`` from columns and tag postings (never the stored text)."""
        counters: dict[str, Counter[str]] = {name: Counter() for name in FACET_NAMES}
        if docnums:
            count_facets(searcher, docnums, counters)
        return {
            name: dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
            for name, counts in counters.items()
            if counts or name != "tier"
        }

    def suggest(self, text: str, *, limit: int = 5) -> list[str]:
        words = _WORD_RE.findall((text or "")[:MAX_QUERY_CHARS].lower())[:MAX_SUGGEST_WORDS]
        if not words:
            return []
        with self._searcher() as searcher:
            reader = searcher.reader()
            corrector = searcher.corrector("spell")
            alternatives: list[list[str]] = []
            for word in words:
                if len(word) < 3 or word.isdigit() or self._known(reader, word):
                    alternatives.append([word])
                    continue
                options = corrector.suggest(word, limit=limit, maxdist=2)
                alternatives.append(options or [word])
        return combine_suggestions(words, alternatives, limit)

    def _known(self, reader: Any, word: str) -> bool:
        stems = [t.text for t in self._analyzer(word)]
        if not stems or word in FUNCTION_WORDS:  # never "correct" "how" into "know"
            return True
        for field in BODY_FIELDS:
            if any((field, stem) in reader for stem in stems):
                return True
        return ("tags", word) in reader

    def similar(
        self, text: str, *, filters: SearchFilters | None = None, limit: int = 5
    ) -> list[SearchHit]:
        filters = filters or SearchFilters()
        if not filters.audiences or limit < 1:
            return []
        # The analyzer drops stopwords and short tokens, so "how do I ..." keeps only content.
        tokens = [t.text for t in self._analyzer((text or "")[:MAX_SIMILAR_CHARS])]
        if not tokens:
            return []
        with self._searcher() as searcher:
            key = self._result_key(searcher, "similar", tuple(tokens), filters, limit)
            cached = self._results_cache.get(key)
            if cached is None:
                cached = self._similar(searcher, tokens, filters, limit)
                self._results_cache.put(key, cached)
            return list(cached)

    def _similar(
        self, searcher: Searcher, tokens: list[str], filters: SearchFilters, limit: int
    ) -> list[SearchHit]:
        weighted = self._similar_terms(searcher, tokens)
        if not weighted:
            return []
        # One clause per word (its fields together), so common words can be told apart.
        q = CoordOr(
            [
                wq.Or([wq.Term(field, term, boost=weight) for field in BODY_FIELDS])
                for term, weight in weighted
            ],
            scale=COORD_SCALE,
        )
        allowed, excluded = self._restrictions(searcher, filters)
        if allowed is not None and not allowed:
            return []
        results, _total = self._run(searcher, q, allowed, excluded, limit)
        self._configure_highlighting(results)
        return [self._hit(hit) for hit in results]

    def _similar_terms(self, searcher: Searcher, tokens: list[str]) -> list[tuple[str, float]]:
        """The words that say what a text is about, with weights: a long question pasted into
        the ask form has dozens of words; the rare ones it repeats identify it."""
        if not self.relevance["similar_terms"]:
            return [(t, 1.0) for t in list(dict.fromkeys(tokens))[:MAX_SIMILAR_TERMS]]
        reader = searcher.reader()
        total = max(reader.doc_count(), 1)
        scored: list[tuple[float, int, str]] = []
        for position, (term, tf) in enumerate(Counter(tokens).items()):
            df = max(reader.doc_frequency(field, term) for field in BODY_FIELDS)
            if df == 0:
                continue  # a word the index lacks cannot match anything
            idf = math.log(1 + (total - df + 0.5) / (df + 0.5))
            scored.append(((1 + math.log(tf)) * idf, position, term))
        scored.sort(key=lambda item: (-item[0], item[1]))
        top = scored[:MAX_SIMILAR_TERMS]
        if not top:
            return []
        best = top[0][0] or 1.0
        return [(term, max(score / best, 0.1)) for score, _, term in top]


class _MappedFile(StructFile):
    """A read-only span of a memory map as a Whoosh file: every read is one slice of the map.

    Whoosh reads a compound segment's parts through its ``SubFile`` (three Python calls and two
    seeks per read; unpickling a posting header makes ~30 reads) or, on its mmap path, from a
    private ``BytesIO`` copy of each part. A span needs neither.
    """

    def __init__(self, mapped: mmap.mmap, base: int, length: int, name: str, *, owner: bool):
        super().__init__(self, name=name)  # its own file object: pickle.load reads from it
        self._map, self._base, self._length, self._pos = mapped, base, length, 0
        self._owner = owner  # the whole file's span closes the map

    def read(self, size: int | None = -1) -> bytes:
        start = self._pos
        end = self._length if size is None or size < 0 else min(start + size, self._length)
        self._pos = max(start, end)
        return self._map[self._base + start : self._base + end]

    def readline(self, size: int | None = -1) -> bytes:
        start, limit = self._base + self._pos, self._base + self._length
        newline = self._map.find(b"\n", start, limit)
        end = limit if newline == -1 else newline + 1
        if size is not None and size >= 0:
            end = min(end, start + size)
        self._pos = end - self._base
        return self._map[start:end]

    def seek(self, where: int, whence: int = 0) -> int:
        self._pos = where + (0, self._pos, self._length)[whence]
        return self._pos

    def tell(self) -> int:
        return self._pos

    def get(self, position: int, length: int) -> bytes:
        start = self._base + position
        return self._map[start : start + length]

    def subset(self, offset: int, length: int, name: str | None = None) -> _MappedFile:
        return _MappedFile(self._map, self._base + offset, length, name or self._name, owner=False)

    def close(self) -> None:
        if self._owner and not self._map.closed:
            self._map.close()
        self.is_closed = True


class _MappedSegmentStorage(FileStorage):
    """A file storage whose compound segment files are read straight from a memory map.

    Whoosh's own mmap path copies each part of a compound segment into a BytesIO
    (``filedb/compound.py``): a private copy of the whole index in every process, 440 MiB per
    web worker at 100k documents. Reading spans of one shared map keeps the pages in the OS page
    cache, shared by every process, and each read is one slice (``_MappedFile``).
    """

    def __init__(self, path: str):
        # supports_mmap=False makes CompoundStorage read parts through the file it is given.
        super().__init__(path, supports_mmap=False)

    def open_file(self, name: str, **kwargs: Any) -> StructFile:
        if not name.endswith(".seg"):
            return super().open_file(name, **kwargs)
        with open(self._fpath(name), "rb") as file:
            size = os.fstat(file.fileno()).st_size
            if size == 0:
                return super().open_file(name, **kwargs)
            mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        return _MappedFile(mapped, 0, size, name, owner=True)


class _PrivateRamStorage(RamStorage):
    """Whoosh's RamStorage keeps writer scratch files in a fixed ``/tmp/MAIN.tmp`` shared by
    every process, so parallel test runs delete each other's files mid-commit. Keep the
    scratch space in memory as well."""

    def temp_storage(self, name: str | None = None) -> RamStorage:
        return RamStorage()


class RamWhooshBackend(_BaseWhooshBackend):
    """An in-memory index for tests: same schema and queries, no files."""

    def __init__(self, path: str = "", **options: Any):
        super().__init__(path, **options)
        self._ix = _PrivateRamStorage().create_index(self.schema)

    def _index(self) -> FileIndex:
        return self._ix

    def rebuild(
        self, documents: Iterable[SearchDocument], *, progress: ProgressCallback | None = None
    ) -> int:
        # CLEAR drops the old segments in the same commit, so readers never see a half index.
        with self._writer(mergetype=writing.CLEAR) as writer:
            count = self._write_all(writer, documents, progress)
        return count


class WhooshBackend(_BaseWhooshBackend):
    """The on-disk index at ``path``.

    ``path`` is a symlink to a sibling directory (``<name>.<stamp>-<hex>``); a rebuild writes a
    new sibling and swaps the symlink with ``os.replace``, so the live path always names a
    complete index.
    """

    def __init__(self, path: str, **options: Any):
        if not path:
            raise ValueError("WhooshBackend needs PEERDESK_SEARCH['PATH'].")
        super().__init__(str(path), **options)
        self._live = Path(path)
        self._ix: FileIndex | None = None
        self._opened_target: str | None = None

    def _target(self) -> str:
        return os.path.realpath(self._live)

    def _new_sibling(self) -> Path:
        stamp = time.strftime("%Y%m%d%H%M%S")
        new_dir = self._live.with_name(f"{self._live.name}.{stamp}-{uuid.uuid4().hex[:8]}")
        new_dir.mkdir(parents=True)
        return new_dir

    def _swap_in(self, new_dir: Path) -> None:
        """Point the live path at ``new_dir`` atomically and remove the previous directory."""
        live = self._live
        tmp_link = live.with_name(f".{live.name}.{uuid.uuid4().hex[:8]}.link")
        os.symlink(new_dir.name, tmp_link)  # relative: the index tree can be moved as a whole
        old_dir: Path | None = None
        if live.is_symlink():
            old_dir = Path(os.path.realpath(live))
        elif live.exists():
            # A plain directory (older layout or made by hand): rename it aside once. Readers
            # opening in this instant get a brief "no index" rather than a partial one.
            old_dir = live.with_name(f"{live.name}.old-{uuid.uuid4().hex[:8]}")
            os.rename(live, old_dir)
        os.replace(tmp_link, live)
        if old_dir is not None and old_dir != new_dir:
            shutil.rmtree(old_dir, ignore_errors=True)

    def _index(self) -> FileIndex:
        with self._lock:
            if self._ix is not None and not self._index_moved():
                return self._ix
            if not (self._live.exists() and FileStorage(str(self._live)).index_exists()):
                self._live.parent.mkdir(parents=True, exist_ok=True)
                new_dir = self._new_sibling()
                FileStorage(str(new_dir)).create_index(self.schema)
                self._swap_in(new_dir)
            self._ix = _MappedSegmentStorage(str(self._live)).open_index(schema=self.schema)
            self._opened_target = self._target()
            return self._ix

    def _index_moved(self) -> bool:
        return self._opened_target is not None and self._target() != self._opened_target

    def rebuild(
        self, documents: Iterable[SearchDocument], *, progress: ProgressCallback | None = None
    ) -> int:
        live_ix = self._index()
        # Hold the live index's write lock for the whole build: a sync task writing meanwhile
        # would land in the index about to be discarded; instead it gets LockError and retries
        # against the new index. It also keeps two rebuilds from racing.
        live_lock = live_ix.lock("WRITELOCK")
        if not live_lock.acquire(blocking=False):
            raise LockError("The search index is locked by another writer.")
        new_dir: Path | None = None
        try:
            self._remove_stale_siblings()
            new_dir = self._new_sibling()
            new_ix = FileStorage(str(new_dir)).create_index(self.schema)
            with self._writer(new_ix, procs=self._rebuild_procs()) as writer:
                count = self._write_all(writer, documents, progress)
            self._swap_in(new_dir)
            new_dir = None
        finally:
            if new_dir is not None:
                shutil.rmtree(new_dir, ignore_errors=True)
            # The lock file may have gone with the swapped-out directory; the fd still unlocks.
            with suppress(OSError):
                live_lock.release()
        with self._lock:
            self._close_searcher()
            self._ix = None
            self._opened_target = None
        return count

    def _rebuild_procs(self) -> int:
        # A daemonic process (a Celery prefork child) may not start processes of its own.
        if multiprocessing.current_process().daemon:
            return 1
        return max(1, self.procs or min(os.cpu_count() or 1, MAX_PROCS))

    def _remove_stale_siblings(self) -> None:
        """Delete leftovers of interrupted rebuilds (caller holds the live write lock)."""
        current = Path(self._target()).name
        pattern = re.compile(
            re.escape(self._live.name) + r"\.(\d{14}-[0-9a-f]{8}|old-[0-9a-f]{8})$"
        )
        for sibling in self._live.parent.iterdir():
            if sibling.name != current and pattern.match(sibling.name) and sibling.is_dir():
                shutil.rmtree(sibling, ignore_errors=True)
