"""What the Whoosh index holds: analysis, the schema, a document's fields, and one patch that
makes Whoosh's commit read field lengths once (the rebuild's largest single cost)."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from whoosh.analysis import STOP_WORDS as WHOOSH_STOP_WORDS
from whoosh.analysis import (
    LowercaseFilter,
    RegexTokenizer,
    StandardAnalyzer,
    StemFilter,
    StopFilter,
)
from whoosh.codec.base import FieldWriter
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from .analysis import STOP_WORDS
from .base import AUDIENCES, TIERS, SearchDocument

# Spelling vocabulary per document: its title and the start of its question and answer text.
SPELL_TEXT_CHARS = 300
STEM_CACHE_SIZE = 200_000
# Whoosh's BM25F boosts before tuning, and after: a title is what a question is about, the
# answers are long and wander (lower weight, stronger length normalisation).
FIELD_BOOSTS = {
    False: {"title": 3.0, "solution": 2.0, "problem": 1.0, "tags": 1.5},
    True: {"title": 4.0, "solution": 1.0, "problem": 1.0, "tags": 1.5},
}
_WORD_TOKENS = r"\w+(\.?\w+)*"


class _FieldLengths:
    """A segment's per-document field lengths, read once per field into a list.

    Whoosh's commit looks a document's field length up for every posting (a seek and a struct
    read each time, a sixth of a rebuild); reading each field's lengths once is the same data."""

    def __init__(self, lengths: Any):
        self._lengths = lengths
        self._fields: dict[str, list[int]] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        values = self._fields.get(fieldname)
        if values is None:
            lookup = self._lengths.doc_field_length
            values = self._fields[fieldname] = [
                lookup(d, fieldname, 0) for d in range(self._lengths.doc_count_all())
            ]
        return values[docnum] if 0 <= docnum < len(values) else default


_whoosh_add_postings = FieldWriter.add_postings


def _add_postings_reading_lengths_once(self: Any, schema: Any, lengths: Any, items: Any) -> Any:
    if lengths is not None and hasattr(lengths, "doc_count_all"):
        lengths = _FieldLengths(lengths)
    return _whoosh_add_postings(self, schema, lengths, items)


# Whoosh is pinned (2.7.4, frozen upstream), so this one patch is safe to keep; the postings it
# writes score exactly as Whoosh's own (tests/knowledge/test_whoosh_scale.py).
FieldWriter.add_postings = _add_postings_reading_lengths_once


class _CachedStemFilter(StemFilter):
    """Whoosh's StemFilter with functools' C-implemented LRU cache instead of its own pure-Python
    LFU cache, whose bookkeeping cost more than the stemming it saved during a rebuild. Bounded,
    so query words typed into a long-lived web process cannot grow it without limit."""

    def clear(self) -> None:
        self._stem = functools.lru_cache(maxsize=STEM_CACHE_SIZE)(self.stemfn)


def text_analyzer(*, stopwords: bool = True) -> Any:
    """Tokenize, lowercase, drop stop words and stem (cached: stemming dominates indexing)."""
    stoplist = STOP_WORDS if stopwords else WHOOSH_STOP_WORDS
    return (
        RegexTokenizer(_WORD_TOKENS)
        | LowercaseFilter()
        | StopFilter(stoplist=stoplist, minsize=2)
        | _CachedStemFilter()
    )


def build_schema(*, stopwords: bool = True, weights: bool = True) -> Schema:
    analyzer = text_analyzer(stopwords=stopwords)
    boosts = FIELD_BOOSTS[weights]
    return Schema(
        id=ID(unique=True, stored=True),
        type=ID(stored=True, sortable=True),
        title=TEXT(stored=True, analyzer=analyzer, field_boost=boosts["title"]),
        solution=TEXT(stored=True, analyzer=analyzer, field_boost=boosts["solution"]),
        problem=TEXT(stored=True, analyzer=analyzer, field_boost=boosts["problem"]),
        # Vectors make the tag facet a per-hit lookup instead of a scan of every posting.
        tags=KEYWORD(
            commas=True,
            lowercase=True,
            scorable=True,
            stored=True,
            field_boost=boosts["tags"],
            vector=True,
        ),
        area=ID(stored=True, sortable=True),
        url=STORED(),
        source_url=STORED(),
        audience=ID(stored=True),
        # Ranking signals are columns: the scorer reads them per matching document.
        updated_at=DATETIME(stored=True, sortable=True),
        tier=NUMERIC(int, bits=8, stored=True, sortable=True, default=0),
        votes=NUMERIC(int, bits=32, signed=True, sortable=True, default=0),
        usage=NUMERIC(int, bits=32, sortable=True, default=0),
        # Unstemmed words of the title and the start of the solution, only for "did you mean"
        # (suggesting "configure", not the stem "configur"). Capped and position-free because
        # Whoosh's own spelling=True copies the whole solution and halves rebuild speed.
        spell=TEXT(analyzer=StandardAnalyzer(minsize=3), phrase=False),
    )


def utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def fields_for(doc: SearchDocument) -> dict[str, Any]:
    if doc.audience not in AUDIENCES:
        # Readers are filtered by excluding the audiences they lack (see _restrictions).
        raise ValueError(f"Unknown audience {doc.audience!r} for {doc.id}.")
    return {
        "id": doc.id,
        "type": doc.type,
        "title": doc.title,
        "solution": doc.solution,
        "problem": doc.problem,
        "tags": ",".join(t.strip().lower() for t in doc.tags if t.strip()),
        "area": doc.area,
        "url": doc.url,
        "source_url": doc.source_url,
        "audience": doc.audience,
        "updated_at": utc(doc.updated_at),
        "tier": min(max(int(doc.tier), 0), len(TIERS) - 1),
        "votes": max(min(int(doc.votes), 2**31 - 1), -(2**31)),
        "usage": max(min(int(doc.usage), 2**31 - 1), 0),
        "spell": "\n".join(
            (doc.title, doc.problem[:SPELL_TEXT_CHARS], doc.solution[:SPELL_TEXT_CHARS])
        ),
    }


def tags_of(stored: dict[str, Any]) -> tuple[str, ...]:
    return tuple(t for t in (stored.get("tags") or "").split(",") if t)
