"""PostgreSQL full-text search: the backend for several web nodes sharing one database.

Documents live in ``knowledge_searchentry`` with a weighted ``tsvector`` (title A, solution and
tags B, problem C) computed in the same statement that writes the row, under a GIN index.
Queries use ``websearch_to_tsquery`` (quotes for phrases, ``OR``, ``-word``; ``NOT word`` is
read as ``-word``), ranking is ``ts_rank_cd`` and snippets come from ``ts_headline`` run over
HTML-escaped text, so the only markup in a snippet is the ``<mark>`` it adds.

Unlike Whoosh, every web node and worker writes and reads the same table: no single-writer
queue, no index files to share. ``suggest`` needs the ``pg_trgm`` extension (the migration
creates it where it may); without it, suggestions are empty.

Each process keeps its recent result pages and suggestions, keyed by the table's generation
(``SearchGeneration``, renewed by every write in its transaction) and read with one primary-key
query before each search: a write on any node is seen by the next search on every node.

Ranking and spelling statements run under a ``statement_timeout`` (``TIMEOUT_MS``); one that
runs past it is cancelled and raises ``SearchUnavailable``, which pages turn into a 503 "try
again": a broad query on an overloaded or locked database never holds a request, or one of the
database's backends, for long.
"""

# SQL here is assembled from module constants only; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import html
import json
import logging
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from django.conf import settings
from django.db import OperationalError, connections, transaction

from ..models import SearchEntry, SearchGeneration, SearchTerm
from .base import (
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
    SearchUnavailable,
    combine_suggestions,
    tier_name,
)

# One source for the trust-signal weights and their defaults, whichever backend ranks.
from .ranking import ranking_weights

logger = logging.getLogger(__name__)

ENTRY = SearchEntry._meta.db_table
TERM = SearchTerm._meta.db_table
GENERATION = SearchGeneration._meta.db_table
CONFIG = "english"
BATCH_SIZE = 500  # also the progress step, as in the Whoosh backend
MAX_QUERY_CHARS = 500
MAX_SIMILAR_TERMS = 32
MAX_SUGGEST_WORDS = 20
SPELL_SOLUTION_CHARS = 1500
MAX_WORD_CHARS = SearchTerm._meta.get_field("word").max_length
# ts_headline re-parses the text for every hit (~0.3 ms per 1,000 characters), the largest
# cost of a selective query: bound it. A match past this point still ranks; its snippet
# then comes from the problem or the document's opening.
HEADLINE_CHARS = 2_500
SNIPPET_FALLBACK_CHARS = 200
# ts_rank_cd weights, in PostgreSQL's {D, C, B, A} order: problem C, solution/tags B, title A.
RANK_WEIGHTS = "ARRAY[0.1, 0.2, 0.4, 1.0]::float4[]"
# 1: divide by 1 + log(length), so a long thread repeating a word does not bury a short article.
RANK_NORMALIZATION = 1
TRIGRAM_THRESHOLD = 0.2  # "ruoter" ~ "router" is 0.27; the edit distance filter does the rest
MAX_EDIT_DISTANCE = 2

_WORD_RE = re.compile(r"\w+", re.UNICODE)
# Whoosh syntax users already type: "NOT word" means what websearch spells "-word".
_NOT_RE = re.compile(r"(?<!\S)NOT\s+(?=[^\s-])")

_VECTOR_SQL = (
    f"setweight(to_tsvector('{CONFIG}', d.title), 'A')"
    f" || setweight(to_tsvector('{CONFIG}', d.solution), 'B')"
    f" || setweight(to_tsvector('{CONFIG}', d.problem), 'C')"
    f" || setweight(to_tsvector('{CONFIG}', d.tags_text), 'B')"
)
_COLUMNS = (
    "doc_id",
    "type",
    "title",
    "problem",
    "solution",
    "tags",
    "area",
    "url",
    "source_url",
    "audience",
    "updated_at",
    "tier",
    "votes",
    "usage",
)
_WRITE_SQL = f"""
INSERT INTO {ENTRY} ({", ".join(_COLUMNS)}, vector)
SELECT d.doc_id, d.type, d.title, d.problem, d.solution, d.tags::jsonb, d.area, d.url,
       d.source_url, d.audience, d.updated_at, d.tier, d.votes, d.usage, {_VECTOR_SQL}
FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
            %s::text[], %s::text[], %s::text[], %s::text[], %s::timestamptz[], %s::smallint[],
            %s::integer[], %s::integer[])
     AS d(doc_id, type, title, problem, solution, tags, tags_text, area, url, source_url,
          audience, updated_at, tier, votes, usage)
ON CONFLICT (doc_id) DO UPDATE SET
    {", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS[1:])}, vector = EXCLUDED.vector
"""
_TERMS_SQL = f"INSERT INTO {TERM} (word) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING"
# Every write ends with a new generation, in its transaction (see SearchGeneration). Last, so the
# row's lock is held only until the commit that follows: writers take it in the same place.
_BUMP_GENERATION_SQL = f"""
INSERT INTO {GENERATION} (id, value)
VALUES (1, nextval('{SearchGeneration.GENERATION_SEQUENCE}'))
ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value
"""
_READ_GENERATION_SQL = f"SELECT value FROM {GENERATION} WHERE id = 1"
# search(), before ranking: the generation, the parsed query (texts that differ only in stop
# words or punctuation share results) and whether it can match anything at all.
_READ_SEARCH_STATE_SQL = f"""
SELECT ({_READ_GENERATION_SQL}), parsed::text, querytree(parsed) IN ('', 'T')
FROM (SELECT websearch_to_tsquery('{CONFIG}', %s) AS parsed) p
"""

# A query that is empty after stop words ('') or only negative ('T', e.g. "-router") would
# match nothing or everything; both mean "no hits".
# MATERIALIZED hides the query's value from the planner, which then keeps to the GIN index.
# Seeing it, the planner turns to a sequential scan once ~5% of rows match, because it prices
# `@@` as cheap; it is not (every row's tsvector is detoasted): 290 ms instead of 7 ms on 20k.
_WEBSEARCH_CTE = f"""
q AS MATERIALIZED (
    SELECT query FROM (SELECT websearch_to_tsquery('{CONFIG}', %s) AS query) parsed
    WHERE querytree(query) NOT IN ('', 'T')
)"""
# similar(): ``query`` ranks, ``match`` selects (the rare words; see _similar_matches).
_TSQUERY_CTE = "q AS MATERIALIZED (SELECT %s::tsquery AS query, %s::tsquery AS match)"
# The table's row count and its most common lexemes with the fraction of rows holding each, from
# the statistics ANALYZE (and so autovacuum) keeps for the vector column.
_LEXEME_STATS_SQL = """
SELECT c.reltuples, s.most_common_elems::text::text[], s.most_common_elem_freqs
FROM pg_class c
LEFT JOIN pg_stats s
       ON s.schemaname = current_schema() AND s.tablename = c.relname AND s.attname = 'vector'
WHERE c.oid = %s::regclass
"""
LEXEME_STATS_SECONDS = 600  # statistics change when the table is analyzed, not per write
# Reads are cancelled after this (settings.PEERDESK_SEARCH["TIMEOUT_MS"]): the slowest bench
# query takes ~0.3 s at 100k documents; a query many times slower means an overloaded or locked
# server, where a "try again" beats a request (and a database backend) held for seconds.
DEFAULT_TIMEOUT_MS = 2_000
# SQLSTATE query_canceled: statement_timeout fired (or an operator cancelled the statement).
_QUERY_CANCELED = "57014"
# The previous value comes first: select items are evaluated left to right.
_TIMEOUT_SQL = (
    "SELECT current_setting('statement_timeout'), set_config('statement_timeout', %s, true)"
)
_RESTORE_TIMEOUT_SQL = "SELECT set_config('statement_timeout', %s, true)"


def _escaped(column: str) -> str:
    """SQL escaping ``column`` for HTML text content, cut to what ts_headline may read."""
    cut = f"left({column}, {HEADLINE_CHARS})"
    return f"replace(replace(replace({cut}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')"


_MARKS = 'StartSel="<mark>", StopSel="</mark>"'
# Fragments keep long texts short, but on a short text they cut it down to a few words around
# the match; a text that fits a snippet anyway is shown whole.
SHORT_TEXT_CHARS = 300
_WHOLE_OPTIONS = f"{_MARKS}, MaxFragments=0, MaxWords=80, MinWords=40, HighlightAll=false"
_FRAGMENT_OPTIONS = f'{_MARKS}, MaxFragments=2, MaxWords=30, MinWords=12, FragmentDelimiter=" … "'


def _headline(column: str) -> str:
    text = _escaped(column)
    return (
        f"CASE WHEN length({column}) <= {SHORT_TEXT_CHARS}"
        f" THEN ts_headline('{CONFIG}', {text}, q.query, '{_WHOLE_OPTIONS}')"
        f" ELSE ts_headline('{CONFIG}', {text}, q.query, '{_FRAGMENT_OPTIONS}') END"
    )


# The trust-signal factor of docs/search.md, five bound parameters. Every operand is float8:
# bound Python floats arrive as numeric literals, and numeric power()/extract() made the factor
# cost more than ts_rank_cd itself (0.8 s instead of 0.44 s for 28k matches at 100k documents).
_RANK_SQL = f"""ts_rank_cd({RANK_WEIGHTS}, e.vector, q.query, {RANK_NORMALIZATION})
           * (1 + %s::float8 * e.tier + %s::float8 * ln(1 + greatest(e.votes, 0))
              + %s::float8 * ln(1 + e.usage)
              + %s::float8 * power(0.5::float8,
                                   extract(epoch FROM now() - e.updated_at)::float8
                                   / 86400 / %s::float8))"""

# Rank and page first, then headline only the rows of the page (ts_headline is the dear part).
_PAGE_SQL = f"""
SELECT e.doc_id, e.type, e.title, e.url, e.area, e.tags, e.source_url, e.tier, page.rank,
       hl.solution,
       -- The problem is only highlighted when the solution had no match (it is not shown).
       CASE WHEN strpos(hl.solution, '<mark>') = 0 THEN {_headline("e.problem")} END,
       left(e.solution, {SNIPPET_FALLBACK_CHARS + 1}),
       left(e.problem, {SNIPPET_FALLBACK_CHARS + 1})
FROM page JOIN {ENTRY} e ON e.doc_id = page.doc_id CROSS JOIN q
-- OFFSET 0 keeps the subquery from being flattened, which would run ts_headline twice.
CROSS JOIN LATERAL (SELECT {_headline("e.solution")} AS solution OFFSET 0) hl
"""

_HITS_SQL = f"""
WITH {{q_cte}},
page AS (
    SELECT e.doc_id, {_RANK_SQL} AS rank
    FROM {ENTRY} e, q
    WHERE e.vector @@ q.match {{where}}
    ORDER BY rank DESC, e.doc_id
    LIMIT %s OFFSET %s
)
{_PAGE_SQL}
ORDER BY page.rank DESC, page.doc_id
"""

# search(): one pass over the matches gives the total and the ranking; the page and the facets
# come from the best of them. Only a match's doc_id and rank are kept (tags for every match made
# the materialized set several times larger), and the facet columns are read for the best
# FACET_SAMPLE rows alone. One row always comes back (the facets as [kind, key, count] triples,
# the total among them), with the hit columns NULL when the page is empty.
_SEARCH_SQL = f"""
WITH {{q_cte}},
m AS MATERIALIZED (
    SELECT e.doc_id, {_RANK_SQL} AS rank
    FROM {ENTRY} e, q
    WHERE e.vector @@ q.query {{where}}
),
best AS MATERIALIZED (
    SELECT doc_id, rank, row_number() OVER (ORDER BY rank DESC, doc_id) AS n
    FROM (SELECT doc_id, rank FROM m ORDER BY rank DESC, doc_id LIMIT %s) top
),
sample AS (
    SELECT e.area, e.type, e.tags, e.tier
    FROM best JOIN {ENTRY} e ON e.doc_id = best.doc_id
    WHERE best.n <= {FACET_SAMPLE}
),
page AS (SELECT doc_id, rank FROM best WHERE n > %s ORDER BY n LIMIT %s),
counts AS (
    SELECT json_agg(json_build_array(kind, key, n)) AS facets FROM (
        SELECT 'total' AS kind, '' AS key, count(*) AS n FROM m
        UNION ALL SELECT 'area', area, count(*) FROM sample GROUP BY area
        UNION ALL SELECT 'type', type, count(*) FROM sample GROUP BY type
        UNION ALL SELECT 'tag', t.tag, count(*)
                  FROM sample CROSS JOIN LATERAL jsonb_array_elements_text(sample.tags) AS t(tag)
                  GROUP BY t.tag
        UNION ALL SELECT 'tier', tier::text, count(*) FROM sample WHERE tier > 0 GROUP BY tier
    ) f
)
SELECT counts.facets, hit.*
FROM counts LEFT JOIN LATERAL ({_PAGE_SQL}) hit ON true
ORDER BY hit.rank DESC, hit.doc_id
"""


def _clean(text: str) -> str:
    # PostgreSQL text cannot hold NUL; imported content occasionally does.
    return text.replace("\x00", "") if "\x00" in text else text


def _tags(doc: SearchDocument) -> list[str]:
    return [t.strip().lower() for t in doc.tags if t.strip()]


def _spell_words(doc: SearchDocument) -> set[str]:
    text = f"{doc.title}\n{doc.solution[:SPELL_SOLUTION_CHARS]}".lower()
    return {
        word
        for word in _WORD_RE.findall(text)
        if 3 <= len(word) <= MAX_WORD_CHARS and not word.isdigit()
    }


def _utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _websearch_text(query: str) -> str:
    return _clean(_NOT_RE.sub("-", (query or "")[:MAX_QUERY_CHARS])).strip()


def _tsquery_literal(lexemes: Sequence[str]) -> str:
    """An OR of lexemes already normalized by to_tsvector (so they must not be stemmed again)."""
    quoted = ("'" + lex.replace("\\", "\\\\").replace("'", "''") + "'" for lex in lexemes)
    return " | ".join(quoted)


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of neighbours counts 1), capped at limit + 1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


def _filters_key(filters: SearchFilters) -> tuple[Any, ...]:
    """``filters`` as a cache key part (audiences may arrive as a list)."""
    return (filters.area, filters.tag, filters.type, tuple(filters.audiences), filters.tier)


def _snippet(headlines: Sequence[str], openings: Sequence[str]) -> str:
    for headline in headlines:
        if headline and "<mark>" in headline:
            return headline
    for opening in openings:
        if opening:
            cut = opening[:SNIPPET_FALLBACK_CHARS]
            suffix = " …" if len(opening) > SNIPPET_FALLBACK_CHARS else ""
            return html.escape(cut, quote=False) + suffix
    return ""


class PostgresBackend(SearchBackend):
    """Search over the ``SearchEntry`` table of the database ``using`` (which must be PostgreSQL).

    ``path`` is accepted for the common constructor signature and ignored.
    """

    def __init__(self, path: str = "", *, using: str = "default", timeout_ms: int | None = None):
        self.using = using
        if timeout_ms is None:
            timeout_ms = settings.PEERDESK_SEARCH.get("TIMEOUT_MS", DEFAULT_TIMEOUT_MS)
        self.timeout_ms = max(0, int(timeout_ms))  # 0: no limit
        self._has_trigram: bool | None = None
        # Keyed by the table's generation first (see _generation). A broad query ranks every
        # match: 100+ ms of the shared database's time at 100k documents.
        self._results_cache = ResultsCache()
        self._lexeme_stats: tuple[float, dict[str, float]] | None = None

    def close(self) -> None:
        """Nothing to release: Django owns the connection."""

    # --- writing ---------------------------------------------------------------------------

    def _write(self, cursor: Any, docs: list[SearchDocument]) -> None:
        latest = {doc.id: doc for doc in docs}  # ON CONFLICT may touch a row once per statement
        rows = list(latest.values())
        columns: list[list[Any]] = [
            [doc.id for doc in rows],
            [doc.type for doc in rows],
            [_clean(doc.title) for doc in rows],
            [_clean(doc.problem) for doc in rows],
            [_clean(doc.solution) for doc in rows],
            [json.dumps(_tags(doc)) for doc in rows],
            [" ".join(_tags(doc)) for doc in rows],
            [doc.area for doc in rows],
            [doc.url for doc in rows],
            [doc.source_url for doc in rows],
            [doc.audience for doc in rows],
            [_utc(doc.updated_at) for doc in rows],
            [min(max(int(doc.tier), 0), len(TIERS) - 1) for doc in rows],
            [max(min(int(doc.votes), 2**31 - 1), -(2**31)) for doc in rows],
            [max(min(int(doc.usage), 2**31 - 1), 0) for doc in rows],
        ]
        cursor.execute(_WRITE_SQL, columns)
        words = sorted(set().union(*(_spell_words(doc) for doc in rows)))
        if words:
            # Sorted, so two workers adding overlapping words lock them in the same order.
            cursor.execute(_TERMS_SQL, [words])

    def upsert(self, documents: Iterable[SearchDocument]) -> None:
        docs = list(documents)
        if not docs:
            return
        with transaction.atomic(using=self.using), connections[self.using].cursor() as cursor:
            for batch in _batches(docs, BATCH_SIZE):
                self._write(cursor, batch)
            cursor.execute(_BUMP_GENERATION_SQL)

    def delete(self, doc_ids: Iterable[str]) -> None:
        ids = list(dict.fromkeys(doc_ids))
        if not ids:
            return
        with transaction.atomic(using=self.using), connections[self.using].cursor() as cursor:
            cursor.execute(f"DELETE FROM {ENTRY} WHERE doc_id = ANY(%s)", [ids])
            cursor.execute(_BUMP_GENERATION_SQL)

    def clear(self) -> None:
        with transaction.atomic(using=self.using), connections[self.using].cursor() as cursor:
            cursor.execute(f"DELETE FROM {ENTRY}")
            cursor.execute(f"DELETE FROM {TERM}")
            cursor.execute(_BUMP_GENERATION_SQL)

    def stored_versions(self) -> dict[str, dt.datetime]:
        with connections[self.using].cursor() as cursor:
            cursor.execute(f"SELECT doc_id, updated_at FROM {ENTRY}")
            return {doc_id: _utc(updated_at) for doc_id, updated_at in cursor.fetchall()}

    def rebuild(
        self, documents: Iterable[SearchDocument], *, progress: ProgressCallback | None = None
    ) -> int:
        # One transaction: readers keep seeing the old rows (DELETE, not TRUNCATE, so nobody
        # waits on a table lock) until the new ones commit; a failure leaves the old index.
        count = 0
        with transaction.atomic(using=self.using), connections[self.using].cursor() as cursor:
            cursor.execute(f"DELETE FROM {ENTRY}")
            cursor.execute(f"DELETE FROM {TERM}")
            for batch in _batches(documents, BATCH_SIZE):
                self._write(cursor, batch)
                count += len(batch)
                if progress:
                    progress(count)
            cursor.execute(_BUMP_GENERATION_SQL)
        return count

    # --- reading ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _time_limited(self, cursor: Any) -> Iterator[None]:
        """Run the block in a transaction whose statements PostgreSQL cancels after
        ``timeout_ms``; a cancelled statement raises SearchUnavailable. Only around the
        ranking and spelling statements: a cache hit pays no extra round trip. Inside a
        caller's transaction this is a savepoint, which a cancellation rolls back, so the
        caller's transaction stays usable (the search log is written after a search)."""
        nested = connections[self.using].in_atomic_block
        try:
            with transaction.atomic(using=self.using):
                if self.timeout_ms:
                    cursor.execute(_TIMEOUT_SQL, [f"{self.timeout_ms}ms"])
                    previous = cursor.fetchone()[0]
                yield
                if self.timeout_ms and nested:
                    # A released savepoint keeps a local setting until the caller's
                    # transaction ends: hand the caller's statements their own limit back.
                    cursor.execute(_RESTORE_TIMEOUT_SQL, [previous])
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", None) == _QUERY_CANCELED:
                # Operators should see these: many mean an overloaded or locked database.
                logger.warning("search statement cancelled after %s ms", self.timeout_ms)
                raise SearchUnavailable(
                    f"search took longer than {self.timeout_ms} ms and was cancelled"
                ) from exc
            raise

    @staticmethod
    def _filter_sql(filters: SearchFilters) -> tuple[str, list[Any]]:
        clauses = ["e.audience = ANY(%s)"]
        params: list[Any] = [list(filters.audiences)]
        if filters.area:
            clauses.append("e.area = %s")
            params.append(filters.area)
        if filters.tag:
            clauses.append("e.tags @> %s::jsonb")
            params.append(json.dumps([filters.tag.strip().lower()]))
        if filters.tier:
            # An unknown tier name matches nothing, as in the Whoosh backend.
            clauses.append("e.tier = %s")
            params.append(TIERS.index(filters.tier) if filters.tier in TIERS else -1)
        if filters.type == "thread":
            clauses.append("e.type IN ('thread', 'thread_accepted')")
        elif filters.type:
            clauses.append("e.type = %s")
            params.append(filters.type)
        return "".join(f" AND {clause}" for clause in clauses), params

    @staticmethod
    def _signals() -> list[float]:
        w = ranking_weights()
        return [
            w["tier"],
            w["votes"],
            w["usage"],
            w["freshness"],
            max(w["freshness_half_life_days"], 1.0),
        ]

    @staticmethod
    def _hit(row: Sequence[Any]) -> SearchHit:
        (
            doc_id,
            type_,
            title,
            url,
            area,
            tags,
            source_url,
            tier,
            rank,
            solution_hl,
            problem_hl,
            solution,
            problem,
        ) = row
        return SearchHit(
            id=doc_id,
            type=type_,
            title=title,
            snippet=_snippet((solution_hl, problem_hl), (solution, problem)),
            url=url,
            area=area,
            tags=tuple(tags or ()),
            score=float(rank),
            source_url=source_url,
            tier=tier,
        )

    def _hits(
        self, cursor: Any, query: str, match: str, filters: SearchFilters, limit: int
    ) -> list[SearchHit]:
        """The best ``limit`` documents matching the tsquery ``match``, ranked by ``query``."""
        where, params = self._filter_sql(filters)
        cursor.execute(
            _HITS_SQL.format(q_cte=_TSQUERY_CTE, where=where),
            [query, match, *self._signals(), *params, limit, 0],
        )
        return [self._hit(row) for row in cursor.fetchall()]

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
        text = _websearch_text(query)
        if not text or not filters.audiences:
            return empty
        where, params = self._filter_sql(filters)
        offset = (page - 1) * page_size
        with connections[self.using].cursor() as cursor:
            cursor.execute(_READ_SEARCH_STATE_SQL, [text])
            generation, parsed, matches_nothing = cursor.fetchone()
            if matches_nothing:  # only stop words, or only negated words
                return empty
            # The day and the weights as in the Whoosh backend's key: freshness moves daily.
            cache_key = (
                generation,
                "search",
                dt.datetime.now(dt.UTC).date().toordinal(),
                tuple(self._signals()),
                parsed,
                _filters_key(filters),
                page,
                page_size,
            )
            cached = self._results_cache.get(cache_key)
            if cached is not None:
                return dataclasses.replace(cached, query=query)
            with self._time_limited(cursor):
                cursor.execute(
                    _SEARCH_SQL.format(q_cte=_WEBSEARCH_CTE, where=where),
                    [
                        text,
                        *self._signals(),
                        *params,
                        max(offset + page_size, FACET_SAMPLE),
                        offset,
                        page_size,
                    ],
                )
                rows = cursor.fetchall()
        facets: dict[str, dict[str, int]] = {"area": {}, "type": {}, "tag": {}, "tier": {}}
        total = 0
        for kind, key, count in rows[0][0] or ():  # json_agg is NULL when nothing matched
            if kind == "total":
                total = count
            elif kind == "tier":
                facets[kind][tier_name(int(key))] = count
            elif key:
                facets[kind][key] = count
        hits = [self._hit(row[1:]) for row in rows if row[1] is not None]
        found = SearchResults(
            query=query,
            hits=hits,
            total=total,
            page=page,
            page_size=page_size,
            # Like Whoosh: "tier" only appears when some match is verified.
            facets={
                name: dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
                for name, counts in facets.items()
                if counts or name != "tier"
            },
        )
        self._results_cache.put(cache_key, found)
        return found

    @staticmethod
    def _generation(cursor: Any) -> int | None:
        """The table's generation, the first part of every cache key. Read before the reads
        whose results are kept under it, so those results are at least that new; once a later
        write commits, every search reads the new generation and misses the old entries.
        None (nothing cached) until the first write, or after ``flush`` emptied the table."""
        cursor.execute(_READ_GENERATION_SQL)
        row = cursor.fetchone()
        return row[0] if row else None

    def similar(
        self, text: str, *, filters: SearchFilters | None = None, limit: int = 5
    ) -> list[SearchHit]:
        filters = filters or SearchFilters()
        if not filters.audiences or limit < 1:
            return []
        with connections[self.using].cursor() as cursor:
            # Lexemes in the order they appear: the start of a question says most about it.
            cursor.execute(
                f"SELECT lexeme FROM unnest(to_tsvector('{CONFIG}', %s)) "
                "ORDER BY positions[1], lexeme LIMIT %s",
                [_clean((text or "")[: MAX_QUERY_CHARS * 4]), MAX_SIMILAR_TERMS],
            )
            lexemes = [row[0] for row in cursor.fetchall()]
            if not lexemes:
                return []
            cache_key = (
                self._generation(cursor),
                "similar",
                tuple(lexemes),
                _filters_key(filters),
                limit,
            )
            cached = self._results_cache.get(cache_key)
            if cached is not None:
                return list(cached)
            everything = _tsquery_literal(lexemes)
            hits: list[SearchHit] = []
            with self._time_limited(cursor):
                for match in self._similar_matches(cursor, lexemes):
                    hits = self._hits(cursor, everything, _tsquery_literal(match), filters, limit)
                    if hits:
                        break
        self._results_cache.put(cache_key, tuple(hits))
        return hits

    def _similar_matches(self, cursor: Any, lexemes: list[str]) -> list[list[str]]:
        """The lexemes that select documents for similar(), to try in turn; every lexeme
        ranks what they select.

        A pasted question holds words most documents share ("use", "work", "get"): as an OR
        of all of them, PostgreSQL ranked most of the table (p50 305 ms, p95 824 ms at 100k
        documents). The Whoosh backend's rule for queries it scores through Whoosh's matchers
        (its vector scorer scores every word, cheaply): once the table holds
        COMMON_TERMS_MIN_DOCS, a lexeme found in more than COMMON_TERM_FRACTION of the
        documents only re-orders what the rarer ones select. When there are none, or they
        match nothing the filters allow (a word no document has), the rarest third of the
        common ones select."""
        frequencies = self._lexeme_frequencies(cursor)
        rare = [lex for lex in lexemes if frequencies.get(lex, 0.0) <= COMMON_TERM_FRACTION]
        common = sorted((lex for lex in lexemes if lex not in rare), key=frequencies.__getitem__)
        stages = [rare] if rare else []
        if common:
            stages.append(common[: max(1, len(common) // 3)])
        return stages

    def _lexeme_frequencies(self, cursor: Any) -> dict[str, float]:
        """Fraction of documents holding each common lexeme, from the column's statistics
        (kept LEXEME_STATS_SECONDS per process); empty below COMMON_TERMS_MIN_DOCS rows or
        before the table was first analyzed, which leaves every lexeme rare."""
        now = time.monotonic()
        if self._lexeme_stats is not None and now - self._lexeme_stats[0] < LEXEME_STATS_SECONDS:
            return self._lexeme_stats[1]
        cursor.execute(_LEXEME_STATS_SQL, [ENTRY])
        row = cursor.fetchone()
        frequencies: dict[str, float] = {}
        if row and row[0] >= COMMON_TERMS_MIN_DOCS and row[1]:
            frequencies = dict(zip(row[1], row[2], strict=False))  # freqs end with 3 summaries
        self._lexeme_stats = (now, frequencies)
        return frequencies

    def _trigram_available(self, cursor: Any) -> bool:
        if self._has_trigram is None:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
            self._has_trigram = cursor.fetchone() is not None
        return self._has_trigram

    def suggest(self, text: str, *, limit: int = 5) -> list[str]:
        words = _WORD_RE.findall(_clean((text or "")[:MAX_QUERY_CHARS]).lower())
        words = words[:MAX_SUGGEST_WORDS]
        if not words or limit < 1:
            return []
        with transaction.atomic(using=self.using), connections[self.using].cursor() as cursor:
            if not self._trigram_available(cursor):
                return []
            # Cached like search(): "did you mean" runs for every query with under three hits,
            # with a trigram query per unknown word, and the same misspellings recur.
            cache_key = (self._generation(cursor), "suggest", tuple(words), limit)
            cached = self._results_cache.get(cache_key)
            if cached is not None:
                return list(cached)
            with self._time_limited(cursor):
                suggestions = self._suggest(cursor, words, limit)
        self._results_cache.put(cache_key, tuple(suggestions))
        return suggestions

    def _suggest(self, cursor: Any, words: list[str], limit: int) -> list[str]:
        # Stop words ("how", "you") and words any document contains (by stem) are right.
        # A word of the terms table was indexed as typed: a primary-key probe says so at
        # once, where the GIN EXISTS builds the bitmap of every row holding a common word
        # (~1 ms per word at 100k documents). OR is evaluated left to right.
        cursor.execute(
            f"""SELECT w, EXISTS (SELECT 1 FROM {TERM} t WHERE t.word = w)
                    OR numnode(plainto_tsquery('{CONFIG}', w)) = 0
                    OR EXISTS (SELECT 1 FROM {ENTRY} e
                               WHERE e.vector @@ plainto_tsquery('{CONFIG}', w))
                FROM unnest(%s::text[]) AS w""",
            [sorted(set(words))],
        )
        known = {word for word, is_known in cursor.fetchall() if is_known}
        cursor.execute(
            "SELECT set_config('pg_trgm.similarity_threshold', %s, true)",
            [str(TRIGRAM_THRESHOLD)],
        )
        alternatives: list[list[str]] = []
        for word in words:
            if len(word) < 3 or word.isdigit() or word in known:
                alternatives.append([word])
                continue
            cursor.execute(
                f"""SELECT word, similarity(word, %s) AS sim FROM {TERM}
                    WHERE word %% %s AND length(word) BETWEEN %s AND %s
                    ORDER BY sim DESC, word LIMIT 50""",
                [
                    word,
                    word,
                    len(word) - MAX_EDIT_DISTANCE,
                    len(word) + MAX_EDIT_DISTANCE,
                ],
            )
            scored = [
                (_edit_distance(word, candidate, MAX_EDIT_DISTANCE), -sim, candidate)
                for candidate, sim in cursor.fetchall()
            ]
            options = [c for distance, _, c in sorted(scored) if distance <= MAX_EDIT_DISTANCE]
            alternatives.append(options[:limit] or [word])
        return combine_suggestions(words, alternatives, limit)
