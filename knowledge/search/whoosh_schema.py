"""What the Whoosh index holds: analysis, the schema, a document's fields, and what makes writing
it fast: text fields analysed without Whoosh's per-token objects, field lengths read once at
commit, and sort runs spilled to disk in chunks (the rebuild's largest costs)."""

from __future__ import annotations

import datetime as dt
import functools
import marshal
import struct
from collections.abc import Iterator
from itertools import islice
from typing import Any

from whoosh.analysis import STOP_WORDS as WHOOSH_STOP_WORDS
from whoosh.analysis import (
    LowercaseFilter,
    RegexTokenizer,
    StandardAnalyzer,
    StemFilter,
    StopFilter,
)
from whoosh.analysis.analyzers import CompositeAnalyzer
from whoosh.codec.base import FieldWriter
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.formats import Frequency, Positions
from whoosh.system import pack_uint
from whoosh.writing import PostingPool

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

# A writer's postings pool spills sorted runs to disk once it holds ``limitmb``, and Whoosh
# pickles every posting as a call of its own, then unpickles them one by one to merge: a fifth
# of a 100k rebuild. The same tuples go to disk in marshalled chunks instead.
RUN_CHUNK_POSTINGS = 4096
_CHUNK_SIZE = struct.Struct("<I")


def _write_run_in_chunks(self: Any, f: Any, items: Any) -> None:
    items = iter(items)
    while chunk := list(islice(items, RUN_CHUNK_POSTINGS)):
        data = marshal.dumps(chunk)
        pending = memoryview(_CHUNK_SIZE.pack(len(data)) + data)
        while pending:  # a raw file may take part of a write
            pending = pending[f.write(pending) :]
    f.close()


def _read_exactly(f: Any, size: int) -> bytes:
    data = f.read(size)
    while len(data) < size:  # a raw file may return part of a read
        if not (more := f.read(size - len(data))):
            raise EOFError("A postings run file ended inside a chunk.")
        data += more
    return data


def _read_run_in_chunks(self: Any, path: str) -> Iterator[Any]:
    f = self._open_run(path)
    try:
        # One read per chunk: the run file is unbuffered, and marshal.load() would read it in
        # tiny pieces, a system call each.
        while header := f.read(_CHUNK_SIZE.size):
            (size,) = _CHUNK_SIZE.unpack(header)
            chunk = _read_exactly(f, size)
            yield from marshal.loads(chunk)  # noqa: S302 (our own run file, written above)
    finally:
        f.close()
        self._remove_run(path)


PostingPool._write_run = _write_run_in_chunks
PostingPool._read_run = _read_run_in_chunks


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


def _plain_chain(analyzer: Any) -> tuple[Any, frozenset, int, Any] | None:
    """(token regex, stop words, minimum length, stem function or None) when ``analyzer`` is
    the plain chain of :func:`text_analyzer` or Whoosh's StandardAnalyzer; None otherwise."""
    items = analyzer.items if isinstance(analyzer, CompositeAnalyzer) else ()
    if not 3 <= len(items) <= 4:
        return None
    tokenizer, lowercase, stop, *stem = items
    if not (
        type(tokenizer) is RegexTokenizer
        and not tokenizer.gaps
        and type(lowercase) is LowercaseFilter
        and type(stop) is StopFilter
        and stop.renumber
        and stop.max is None
    ):
        return None
    if not stem:
        return tokenizer.expression, stop.stops, stop.min, None
    if type(stem[0]) is not _CachedStemFilter or stem[0].ignore:
        return None
    return tokenizer.expression, stop.stops, stop.min, stem[0]._stem


def _term_positions(text: str, chain: tuple[Any, frozenset, int, Any]) -> dict[str, list[int]]:
    """Each indexed term of ``text`` → its positions, exactly as the analyzer chain numbers
    them: the first kept token keeps its place in the token stream, the next ones follow it
    (StopFilter's renumbering)."""
    expression, stops, minsize, stem = chain
    positions: dict[str, list[int]] = {}
    pos = -1
    for index, match in enumerate(expression.finditer(text)):
        word = match.group(0).lower()
        if len(word) < minsize or word in stops:
            continue
        pos = index if pos < 0 else pos + 1
        if stem is not None:
            word = stem(word)
        if (found := positions.get(word)) is None:
            positions[word] = [pos]
        else:
            found.append(pos)
    return positions


class PlainText(TEXT):
    """TEXT whose indexing skips Whoosh's token objects and generator chain (a third of a
    rebuild) when its analyzer is a plain regex → lowercase → stop → stem chain: the same
    terms, frequencies, weights and positions (tests compare the two on real posts). Queries
    and highlighting still run the analyzer itself."""

    def index(self, value: Any, **kwargs: Any) -> Any:
        chain = _plain_chain(self.analyzer)
        fmt = self.format
        if chain is None or kwargs or not isinstance(value, str):
            return super().index(value, **kwargs)
        if type(fmt) is Positions:
            encode = fmt.encode
        elif type(fmt) is Frequency:

            def encode(poslist: list[int]) -> bytes:
                return pack_uint(len(poslist))

        else:
            return super().index(value, **kwargs)
        boost = fmt.field_boost
        return [
            (word.encode("utf-8"), len(poslist), len(poslist) * boost, encode(poslist))
            for word, poslist in _term_positions(value, chain).items()
        ]


def build_schema(*, stopwords: bool = True, weights: bool = True) -> Schema:
    analyzer = text_analyzer(stopwords=stopwords)
    boosts = FIELD_BOOSTS[weights]
    return Schema(
        id=ID(unique=True, stored=True),
        type=ID(stored=True, sortable=True),
        title=PlainText(stored=True, analyzer=analyzer, field_boost=boosts["title"]),
        solution=PlainText(stored=True, analyzer=analyzer, field_boost=boosts["solution"]),
        problem=PlainText(stored=True, analyzer=analyzer, field_boost=boosts["problem"]),
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
        spell=PlainText(analyzer=StandardAnalyzer(minsize=3), phrase=False),
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
