"""The search interface every backend implements, and the value types that cross it.

Nothing outside ``knowledge.search`` imports a backend module: callers use ``get_backend()``.
"""

from __future__ import annotations

import abc
import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

DOC_TYPES = ("article", "thread_accepted", "thread")
# Common terms (Lucene's CommonTermsQuery, Elasticsearch's cutoff_frequency): in a large index a
# word found in more than COMMON_TERM_FRACTION of the documents only re-orders the documents the
# query's rarer words match, instead of making the backend score tens of thousands of documents.
# Below COMMON_TERMS_MIN_DOCS every word counts fully (scoring everything is cheap there).
COMMON_TERMS_MIN_DOCS = 20_000
COMMON_TERM_FRACTION = 0.01
# Who may read a document: everyone, or CSRs and staff only. Backends refuse other values, so a
# reader's exclusions (every audience not granted) cover the whole index.
AUDIENCES = ("public", "internal")
DOC_TYPE_LABELS = {
    "article": "Knowledge-base article",
    "thread_accepted": "Thread with accepted answer",
    "thread": "Community thread",
}

# Validation tiers, weakest first; a document's tier is the strongest standing of its solution.
# The index and the ranking use the number; facets, filters and the API use the name.
TIERS = ("unverified", "accepted", "endorsed", "validated_expert", "validated_staff")
TIER_LABELS = {
    "unverified": "Not yet verified",
    "accepted": "Accepted by the asker",
    "endorsed": "Endorsed by the community",
    "validated_expert": "Validated by a certified expert",
    "validated_staff": "Validated by staff",
}


def tier_name(tier: int) -> str:
    return TIERS[min(max(int(tier), 0), len(TIERS) - 1)]


@dataclass(frozen=True)
class SearchDocument:
    """What the index holds for one article or thread. Built only by ``documents.document_for``."""

    id: str  # "article:12" or "question:7"
    type: str  # one of DOC_TYPES
    title: str
    problem: str  # the question, plain text
    solution: str  # the article solution or the thread's answers, plain text
    tags: tuple[str, ...]
    area: str  # product area slug
    url: str
    updated_at: dt.datetime
    source_url: str = ""
    audience: str = "public"  # "public" | "internal" (issue #3)
    # Ranking signals (issue #3): index into TIERS, net votes, times staff used it for a case.
    tier: int = 0
    votes: int = 0
    usage: int = 0


@dataclass(frozen=True)
class SearchFilters:
    area: str | None = None
    tag: str | None = None
    type: str | None = None  # one of DOC_TYPES, or "thread" meaning both thread kinds
    audiences: tuple[str, ...] = ("public",)
    tier: str | None = None  # one of TIERS


@dataclass(frozen=True)
class SearchHit:
    id: str
    type: str
    title: str
    snippet: str  # sanitized HTML: text escaped, matches wrapped in <mark>
    url: str
    area: str
    tags: tuple[str, ...]
    score: float
    source_url: str = ""
    tier: int = 0

    @property
    def type_label(self) -> str:
        return DOC_TYPE_LABELS.get(self.type, self.type)

    @property
    def tier_name(self) -> str:
        return tier_name(self.tier)


# Facets are counted over the best FACET_SAMPLE matches, not every match, by every backend:
# grouping tens of thousands of matches cost more than ranking them (0.1-0.4 s at 100k
# documents). Below the sample size, which is every narrow query, the counts are exact.
FACET_SAMPLE = 50


@dataclass(frozen=True)
class SearchResults:
    query: str
    hits: list[SearchHit]
    total: int
    page: int
    page_size: int
    # Facet name → value → count over the best FACET_SAMPLE matches. "tier" counts only verified
    # tiers (names from TIERS) and, like any facet without values, is left out when no match has one.
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    # Set by the caller that re-ran a query spelled differently: ``query`` is what was typed,
    # ``corrected_query`` what the hits are for.
    corrected_query: str = ""

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


ProgressCallback = Callable[[int], None]


class SearchUnavailable(RuntimeError):
    """A read could not be answered in time (a backend's time limit cancelled it). Search only
    reads, so nothing is lost: pages say "try again" with a 503, suggestions come back empty."""


class SearchBackend(abc.ABC):
    """A search engine behind Peerdesk's interface. All methods are safe to call repeatedly.

    ``search``, ``suggest`` and ``similar`` may raise ``SearchUnavailable``."""

    @abc.abstractmethod
    def upsert(self, documents: Iterable[SearchDocument]) -> None:
        """Add or replace documents by id."""

    @abc.abstractmethod
    def delete(self, doc_ids: Iterable[str]) -> None:
        """Remove documents; unknown ids are ignored."""

    @abc.abstractmethod
    def search(
        self,
        query: str,
        *,
        filters: SearchFilters | None = None,
        page: int = 1,
        page_size: int = 10,
    ) -> SearchResults:
        """Ranked, highlighted hits for ``query``. An empty query returns no hits."""

    @abc.abstractmethod
    def suggest(self, text: str, *, limit: int = 5) -> list[str]:
        """Spelling suggestions / corrected query strings for ``text``."""

    @abc.abstractmethod
    def similar(
        self, text: str, *, filters: SearchFilters | None = None, limit: int = 5
    ) -> list[SearchHit]:
        """Documents similar to a free text (a question being typed)."""

    @abc.abstractmethod
    def clear(self) -> None:
        """Remove every document."""

    @abc.abstractmethod
    def stored_versions(self) -> dict[str, dt.datetime]:
        """Every indexed doc id with the ``updated_at`` it was indexed with (for verify_index)."""

    @abc.abstractmethod
    def rebuild(
        self, documents: Iterable[SearchDocument], *, progress: ProgressCallback | None = None
    ) -> int:
        """Replace the whole index with ``documents`` atomically; return how many were written."""


def combine_suggestions(words: list[str], alternatives: list[list[str]], limit: int) -> list[str]:
    """Corrected query strings from per-word alternatives (best first); [] when nothing changes.

    Shared by every backend so "did you mean" reads the same whichever engine answers.
    """
    best = [options[0] for options in alternatives]
    if best == words:
        return []
    suggestions = [" ".join(best)]
    # Further candidates vary the first corrected word; enough for a "did you mean" line.
    for i, options in enumerate(alternatives):
        if options[0] != words[i]:
            for option in options[1:]:
                if len(suggestions) >= limit:
                    break
                suggestions.append(" ".join([*best[:i], option, *best[i + 1 :]]))
            break
    return suggestions[:limit]


# Recent results kept per process by either backend: support searches repeat ("reset password",
# an outage's error message), and a cached page costs a dict lookup instead of a ranking.
RESULTS_CACHE_SIZE = 1024


class ResultsCache:
    """Recent search results of one process, least recently used out first.

    A key's first part names the index state its value was read from (a Whoosh searcher's
    token, the PostgreSQL table's generation): storing a value of another state drops every
    entry, since none can be hit again. A state of None means unknown: such keys are never
    stored or found. Values are shared between callers: never mutate one.
    """

    def __init__(self, size: int = RESULTS_CACHE_SIZE):
        self.size = size
        self._entries: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> Any:
        if key[0] is None:
            return None
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        if key[0] is None:
            return
        with self._lock:
            entries = self._entries
            if entries and next(reversed(entries))[0] != key[0]:
                entries.clear()
            entries[key] = value
            while len(entries) > self.size:
                entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
