"""Each segment's postings sidecar (knowledge/search/whoosh_postings.py) must hold exactly what
Whoosh's own blocks hold, for every way a segment gets written, and the scorer must stay exact
with it and without it."""

import os
from pathlib import Path

import numpy as np
import pytest
from whoosh import writing
from whoosh.codec.whoosh3 import W3FieldWriter, W3LeafMatcher
from whoosh.fields import ID, Schema
from whoosh.filedb.filestore import RamStorage
from whoosh.matching import WrappingMatcher

from knowledge.search import whoosh_postings
from knowledge.search.whoosh_backend import RamWhooshBackend, WhooshBackend
from knowledge.search.whoosh_postings import open_sidecar
from knowledge.search.whoosh_schema import PlainText, fields_for
from knowledge.search.whoosh_scoring import flatten_unions
from knowledge.search.whoosh_vector import _read_blocks, compile_query

from .test_whoosh_scale import random_corpus
from .test_whoosh_vector import assert_same_ranking, exhaustive

QUERIES = ["router", "router reset", "zigbee hub pairing", "battery sensor cloud light blink"]


def assert_sidecar_equals_blocks(reader):
    """Every term of every field: the sidecar's docnums and weights are the blocks' own."""
    sidecar = open_sidecar(reader)
    assert sidecar is not None
    checked = 0
    for fieldname, text in reader.all_terms():
        terminfo = reader.term_info(fieldname, text)
        matcher = reader.postings(fieldname, text)
        while isinstance(matcher, WrappingMatcher):
            matcher = matcher.child
        assert isinstance(matcher, W3LeafMatcher)
        block_ids, block_weights = _read_blocks(matcher)
        ids, weights = sidecar.postings(terminfo.extent()[0])
        assert ids.tolist() == block_ids.tolist(), (fieldname, text)
        assert weights.tolist() == block_weights.tolist(), (fieldname, text)
        checked += 1
    assert checked > 100
    return checked


def test_every_segment_kind_on_disk_carries_exact_arrays(tmp_path):
    backend = WhooshBackend(str(tmp_path / "index"), procs=2)
    corpus = random_corpus(400, seed=5)
    backend.rebuild(corpus[:300])  # two processes: two segments
    backend.upsert(corpus[300:350])  # an update: a small segment, maybe merged
    with backend._writer(mergetype=writing.NO_MERGE) as writer:
        for doc in corpus[350:]:
            writer.update_document(**fields_for(doc))
    backend.delete([doc.id for doc in corpus[:20]])
    with backend._searcher() as searcher:
        readers = [leaf.reader() for leaf, _ in searcher.leaf_searchers()]
        assert len(readers) >= 3
        for reader in readers:
            assert_sidecar_equals_blocks(reader)

    with backend._writer() as writer:  # everything merged into one segment
        writer.mergetype = writing.OPTIMIZE
    with backend._searcher() as searcher:
        (reader,) = [leaf.reader() for leaf, _ in searcher.leaf_searchers()]
        assert_sidecar_equals_blocks(reader)
        for text in QUERIES:
            q = flatten_unions(backend._query(text, searcher))
            whoosh_top, whoosh_total = exhaustive(searcher, q, 20)
            found = backend.search(text, page_size=20)
            assert [searcher.document_number(id=h.id) for h in found.hits] == [
                doc for _, doc in whoosh_top
            ]
            assert found.total == whoosh_total


def test_a_segment_in_memory_carries_exact_arrays():
    backend = RamWhooshBackend()
    backend.upsert(random_corpus(200, seed=6))
    with backend._searcher() as searcher:
        (reader,) = [leaf.reader() for leaf, _ in searcher.leaf_searchers()]
        assert_sidecar_equals_blocks(reader)


def test_segments_written_before_the_sidecar_still_score_exactly(monkeypatch):
    backend = RamWhooshBackend()
    corpus = random_corpus(300, seed=7)
    with monkeypatch.context() as old_writer:  # Whoosh's own field writer, as before
        for name in ("start_term", "finish_term", "close"):
            old_writer.setattr(W3FieldWriter, name, getattr(whoosh_postings, f"_whoosh_{name}"))
        old_writer.setattr(
            W3FieldWriter,
            "add",
            lambda self, docnum, weight, vbytes, length: self._postwriter.add_posting(
                docnum, weight, vbytes, length
            ),
        )
        with backend._writer(mergetype=writing.NO_MERGE) as writer:
            for doc in corpus[:200]:
                writer.add_document(**fields_for(doc))
    with backend._writer(mergetype=writing.NO_MERGE) as writer:  # a new segment has arrays
        for doc in corpus[200:]:
            writer.add_document(**fields_for(doc))

    with backend._searcher() as searcher:
        readers = [leaf.reader() for leaf, _ in searcher.leaf_searchers()]
        assert [open_sidecar(r) is not None for r in readers] == [False, True]
        for text in QUERIES:
            q = flatten_unions(backend._query(text, searcher))
            whoosh_top, whoosh_total = exhaustive(searcher, q, 20)
            node = compile_query(q, searcher)
            results, vector_total = backend._vector_scorer.top(searcher, q, node, None, None, 20)
            assert_same_ranking(results.top_n, whoosh_top)
            assert vector_total == whoosh_total


def test_weights_float32_cannot_hold_are_kept_as_float64():
    schema = Schema(id=ID(stored=True), body=PlainText(field_boost=1.1))
    ix = RamStorage().create_index(schema)
    with ix.writer() as writer:
        for n in range(5):
            writer.add_document(id=str(n), body="router " * (n + 1))
    with ix.searcher() as searcher:
        reader = searcher.reader()
        sidecar = open_sidecar(reader)
        assert sidecar.weights.dtype == np.float64
        ids, weights = sidecar.postings(reader.term_info("body", "router").extent()[0])
        assert ids.tolist() == [0, 1, 2, 3, 4]
        assert weights.tolist() == [(n + 1) * 1.1 for n in range(5)]


@pytest.mark.parametrize("boost", [1.0, 1.5, 4.0])
def test_weights_float32_holds_exactly_are_stored_as_float32(boost):
    schema = Schema(id=ID(stored=True), body=PlainText(field_boost=boost))
    ix = RamStorage().create_index(schema)
    with ix.writer() as writer:
        writer.add_document(id="1", body="router router reset")
    with ix.searcher() as searcher:
        sidecar = open_sidecar(searcher.reader())
        assert sidecar.weights.dtype == np.float32
        _ids, weights = sidecar.postings(searcher.reader().term_info("body", "router").extent()[0])
        assert weights.dtype == np.float64 and weights.tolist() == [2 * boost]


def test_cached_segments_go_when_merged_away_or_when_their_index_is_dropped(tmp_path):
    import gc

    from knowledge.search import whoosh_scoring

    def cached_segments(token):
        return {segment for t, segment in whoosh_scoring._segment_caches if t == token}

    backend = WhooshBackend(str(tmp_path / "index"), procs=1)
    corpus = random_corpus(200, seed=9)
    backend.rebuild(corpus[:100])
    with backend._writer(mergetype=writing.NO_MERGE) as writer:
        for doc in corpus[100:]:
            writer.add_document(**fields_for(doc))
    backend.search("router reset")
    token = backend._index().__dict__["_peerdesk_token"]
    before = cached_segments(token)
    assert len(before) == 2

    with backend._writer() as writer:  # both segments merged into a new one
        writer.mergetype = writing.OPTIMIZE
    backend._results_cache.clear()
    backend.search("router reset")
    after = cached_segments(token)
    assert len(after) == 1 and not after & before  # the merged-away segments' arrays are gone

    old_dir = os.path.realpath(tmp_path / "index")
    backend.rebuild(corpus)  # a new index directory and index object
    backend.search("router reset")
    gc.collect()
    assert cached_segments(token) == set()
    maps = Path("/proc/self/maps")
    if maps.exists():  # the deleted directory's files are no longer mapped (disk space freed)
        assert old_dir not in maps.read_text()
