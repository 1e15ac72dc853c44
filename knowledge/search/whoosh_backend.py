"""Whoosh backends: an on-disk index (the embedded default) and a RAM index for tests.

Whoosh allows one writer per index. Writers wait up to ``lock_timeout`` seconds and then raise
``whoosh.index.LockError``, which the Celery task retries. Searchers are long-lived (opening an
index costs far more than a query) and are refreshed when another writer or process committed.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from whoosh import highlight, qparser, sorting, writing
from whoosh import query as wq
from whoosh.analysis import StandardAnalyzer, StemmingAnalyzer
from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage, RamStorage
from whoosh.index import FileIndex, LockError
from whoosh.matching import CoordMatcher
from whoosh.query.compound import DefaultOr
from whoosh.scoring import BM25F
from whoosh.searching import Hit, Searcher

from .base import (
    ProgressCallback,
    SearchBackend,
    SearchDocument,
    SearchFilters,
    SearchHit,
    SearchResults,
)

logger = logging.getLogger(__name__)

TEXT_FIELDS = ("title", "solution", "problem", "tags")
SNIPPET_FIELDS = ("solution", "problem")
SPELL_SOLUTION_CHARS = 1500
SNIPPET_FALLBACK_CHARS = 200
MAX_SIMILAR_TERMS = 32
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
COORD_SCALE = 0.9

_WORD_RE = re.compile(r"\w+", re.UNICODE)


def build_schema() -> Schema:
    return Schema(
        id=ID(unique=True, stored=True),
        type=ID(stored=True, sortable=True),
        title=TEXT(stored=True, analyzer=StemmingAnalyzer(), field_boost=3.0),
        solution=TEXT(stored=True, analyzer=StemmingAnalyzer(), field_boost=2.0),
        problem=TEXT(stored=True, analyzer=StemmingAnalyzer(), field_boost=1.0),
        # Vectors make the tag facet a per-hit lookup instead of a scan of every posting.
        tags=KEYWORD(
            commas=True,
            lowercase=True,
            scorable=True,
            stored=True,
            field_boost=1.5,
            vector=True,
        ),
        area=ID(stored=True, sortable=True),
        url=STORED(),
        source_url=STORED(),
        audience=ID(stored=True),
        updated_at=DATETIME(stored=True),
        # Unstemmed words of the title and the start of the solution, only for "did you mean"
        # (suggesting "configure", not the stem "configur"). Capped and position-free because
        # Whoosh's own spelling=True copies the whole solution and halves rebuild speed.
        spell=TEXT(analyzer=StandardAnalyzer(minsize=3), phrase=False),
    )


def _utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _fields_for(doc: SearchDocument) -> dict[str, Any]:
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
        "updated_at": _utc(doc.updated_at),
        "spell": f"{doc.title}\n{doc.solution[:SPELL_SOLUTION_CHARS]}",
    }


def _tags_of(stored: dict[str, Any]) -> tuple[str, ...]:
    return tuple(t for t in (stored.get("tags") or "").split(",") if t)


def _has_positive_clause(q: wq.Query) -> bool:
    if q is wq.NullQuery or isinstance(q, wq.Not):
        return False
    if isinstance(q, wq.AndNot):
        return _has_positive_clause(q.a)
    if q.is_leaf():
        return True
    return any(_has_positive_clause(child) for child in q.children())


class _CoordMatcher(CoordMatcher):
    """Whoosh's coordination bonus, minus its bug: with one (or, after a matcher replacement,
    zero) query terms in the index it multiplies every score by (n - 1) / n, which is 0 (the
    ranking is lost) or a ZeroDivisionError."""

    def _sqr(self, score: float, matching: int) -> float:
        if self._termcount <= 1:
            return score
        return super()._sqr(score, matching)


class _CoordOr(wq.Or):
    def _matcher(self, subs: list[wq.Query], searcher: Searcher, context: Any) -> Any:
        matcher = DefaultOr(subs, boost=self.boost).matcher(searcher, context)
        if self.scale and any(True for _ in matcher.term_matchers()):
            matcher = _CoordMatcher(matcher, scale=self.scale)
        return matcher


class _CoordOrGroup(qparser.OrGroup):
    """``OrGroup.factory(COORD_SCALE)`` producing ``_CoordOr``: any word may match (long
    questions still find something) and documents matching more words rank higher."""

    qclass = _CoordOr

    def __init__(self, nodes: Any = None, **kwargs: Any):
        kwargs.pop("scale", None)
        super().__init__(nodes=nodes, scale=COORD_SCALE, **kwargs)


class _TagCategorizer(sorting.OverlappingCategorizer):
    """Reads each hit's tags from its term vector; untagged documents have no vector."""

    def keys_for(self, matcher: Any, docid: int) -> list[Any]:
        if not self._segment_searcher.reader().has_vector(docid, self._fieldname):
            return []
        return super().keys_for(matcher, docid)


class _TagFacet(sorting.FieldFacet):
    def categorizer(self, global_searcher: Searcher) -> sorting.Categorizer:
        return _TagCategorizer(global_searcher, self.fieldname)


class _BaseWhooshBackend(SearchBackend):
    """Everything but storage: schema, parsing, searching, highlighting, writing."""

    def __init__(self, path: str = "", *, lock_timeout: float = 10.0, limitmb: int = 256):
        self.path = path
        self.lock_timeout = lock_timeout
        self.limitmb = limitmb
        self.schema = build_schema()
        self._lock = threading.RLock()
        self._searcher_obj: Searcher | None = None
        self._parser = self._make_parser(syntax=True)
        self._plain_parser = self._make_parser(syntax=False)
        self._analyzer = StemmingAnalyzer()

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
                searcher = self._index().searcher(weighting=BM25F())
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
    def _writer(self, ix: FileIndex | None = None, *, mergetype=None) -> Iterator[Any]:
        """A committed-on-success writer. Raises LockError when another writer holds the index."""
        writer = (ix or self._index()).writer(
            timeout=self.lock_timeout, procs=1, limitmb=self.limitmb
        )
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
                writer.update_document(**_fields_for(doc))

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
                fields["id"]: _utc(fields["updated_at"])
                for fields in searcher.all_stored_fields()
                if "id" in fields and fields.get("updated_at") is not None
            }

    @staticmethod
    def _write_all(
        writer: Any, documents: Iterable[SearchDocument], progress: ProgressCallback | None
    ) -> int:
        count = 0
        for doc in documents:
            writer.add_document(**_fields_for(doc))
            count += 1
            if progress and count % PROGRESS_EVERY == 0:
                progress(count)
        if progress and count % PROGRESS_EVERY:
            progress(count)
        return count

    # --- queries ---------------------------------------------------------------------------

    def _make_parser(self, *, syntax: bool) -> qparser.QueryParser:
        parser = qparser.MultifieldParser(list(TEXT_FIELDS), self.schema, group=_CoordOrGroup)
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
        try:
            q = self._parser.parse(text)
        except Exception:
            # User syntax the parser cannot digest: keep the words, drop the syntax.
            logger.debug("Falling back to plain terms for %r", text, exc_info=True)
            q = self._plain_parser.parse(" ".join(_WORD_RE.findall(text)))
        q = q.normalize()
        # A query that is only a negation ("NOT foo") would list the whole index.
        return q if _has_positive_clause(q) else None

    @staticmethod
    def _filter_query(filters: SearchFilters) -> wq.Query:
        parts: list[wq.Query] = [wq.Or([wq.Term("audience", a) for a in filters.audiences])]
        if filters.area:
            parts.append(wq.Term("area", filters.area))
        if filters.tag:
            parts.append(wq.Term("tags", filters.tag.strip().lower()))
        if filters.type == "thread":
            parts.append(wq.Or([wq.Term("type", "thread"), wq.Term("type", "thread_accepted")]))
        elif filters.type:
            parts.append(wq.Term("type", filters.type))
        return wq.And(parts)

    def _configure_highlighting(self, results: Any) -> None:
        results.formatter = highlight.HtmlFormatter(tagname="mark", between=" … ")
        results.fragmenter = highlight.ContextFragmenter(
            maxchars=SNIPPET_FALLBACK_CHARS, surround=60
        )

    @staticmethod
    def _snippet(hit: Hit) -> str:
        # Whoosh's HtmlFormatter escapes the text around and inside each match; the fallback
        # escapes by hand. Both matter: templates render snippets with |safe.
        for field in SNIPPET_FIELDS:
            text = hit.get(field) or ""
            if text:
                fragment = hit.highlights(field, text=text, top=2)
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
            tags=_tags_of(hit.fields()),
            score=float(hit.score or 0.0),
            source_url=hit.get("source_url", ""),
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
        q = self._parse(query or "") if (query or "").strip() else None
        if q is None or not filters.audiences:
            return empty
        facets = {
            "area": sorting.FieldFacet("area"),
            "type": sorting.FieldFacet("type"),
            "tag": _TagFacet("tags", allow_overlap=True),
        }
        with self._searcher() as searcher:
            results = searcher.search(
                q,
                filter=self._filter_query(filters),
                limit=page * page_size,
                groupedby=facets,
                maptype=sorting.Count,
            )
            self._configure_highlighting(results)
            start = (page - 1) * page_size
            hits = [self._hit(hit) for hit in results[start : start + page_size]]
            facet_counts = {
                name: {
                    str(key): count
                    for key, count in sorted(
                        results.groups(name).items(), key=lambda kv: (-kv[1], str(kv[0]))
                    )
                    if key not in (None, "")
                }
                for name in facets
            }
            return SearchResults(
                query=query,
                hits=hits,
                total=len(results),
                page=page,
                page_size=page_size,
                facets=facet_counts,
            )

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

    def _known(self, reader: Any, word: str) -> bool:
        stems = [t.text for t in self._analyzer(word)]
        if not stems or word in FUNCTION_WORDS:  # never "correct" "how" into "know"
            return True
        for field in ("title", "solution", "problem"):
            if any((field, stem) in reader for stem in stems):
                return True
        return ("tags", word) in reader

    def similar(
        self, text: str, *, filters: SearchFilters | None = None, limit: int = 5
    ) -> list[SearchHit]:
        filters = filters or SearchFilters()
        # The analyzer drops stopwords and short tokens, so "how do I ..." keeps only content.
        tokens = self._analyzer((text or "")[: MAX_QUERY_CHARS * 4])
        terms = list(dict.fromkeys(t.text for t in tokens))[:MAX_SIMILAR_TERMS]
        if not terms or not filters.audiences or limit < 1:
            return []
        q = _CoordOr(
            [wq.Term(field, term) for term in terms for field in ("title", "solution", "problem")],
            scale=COORD_SCALE,
        )
        with self._searcher() as searcher:
            results = searcher.search(q, filter=self._filter_query(filters), limit=limit)
            self._configure_highlighting(results)
            return [self._hit(hit) for hit in results]


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
            self._ix = FileStorage(str(self._live)).open_index(schema=self.schema)
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
            with self._writer(new_ix) as writer:
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

    def _remove_stale_siblings(self) -> None:
        """Delete leftovers of interrupted rebuilds (caller holds the live write lock)."""
        current = Path(self._target()).name
        pattern = re.compile(
            re.escape(self._live.name) + r"\.(\d{14}-[0-9a-f]{8}|old-[0-9a-f]{8})$"
        )
        for sibling in self._live.parent.iterdir():
            if sibling.name != current and pattern.match(sibling.name) and sibling.is_dir():
                shutil.rmtree(sibling, ignore_errors=True)
