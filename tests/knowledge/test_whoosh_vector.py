"""Plain-word queries scored with NumPy (knowledge/search/whoosh_vector.py) must rank and score
exactly as Whoosh's own matchers do when they score every match: same documents, same scores,
same order, over several segments, with deleted documents and filters."""

import dataclasses

import numpy as np
import pytest
from whoosh import collectors, writing
from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN

from knowledge.search import SearchFilters
from knowledge.search.whoosh_backend import RamWhooshBackend
from knowledge.search.whoosh_schema import fields_for
from knowledge.search.whoosh_scoring import COORD_SCALE, CoordOr, flatten_unions
from knowledge.search.whoosh_vector import AndMaybeNode, UnionNode, compile_query

from .test_whoosh_scale import random_corpus

QUERIES = [
    "router",
    "router reset",
    "zigbee hub pairing",
    "rooter firmware",  # a typo: the closest indexed spelling joins as a weaker alternative
    "battery sensor cloud light blink",
    "reboot",  # a synonym group, if the word is in one; else a word the index lacks
    "nothingmatchesthis",
]


@pytest.fixture(scope="module")
def backend():
    """600 documents in three segments, 40 of them replaced (deleted + re-added)."""
    backend = RamWhooshBackend()
    corpus = random_corpus(600)
    for chunk in (corpus[:250], corpus[250:450], corpus[450:]):
        with backend._writer(mergetype=writing.NO_MERGE) as writer:
            for doc in chunk:
                writer.add_document(**fields_for(doc))
    replaced = [dataclasses.replace(doc, title=doc.title + " firmware") for doc in corpus[::15]]
    with backend._writer(mergetype=writing.NO_MERGE) as writer:
        for doc in replaced:
            writer.update_document(**fields_for(doc))
    return backend


def exhaustive(searcher, q, limit, allowed=None, excluded=None):
    """Whoosh's matchers scoring every match: (top_n, number of matches)."""
    top = collectors.TopCollector(limit, usequality=False)
    top.replace = 0
    collector = collectors.FilterCollector(top, allow=allowed, restrict=excluded)
    searcher.search_with_collector(q, collector)
    results = collector.results()
    return results.top_n, len(list(searcher.docs_for_query(q)))


def assert_same_ranking(vector_top, whoosh_top):
    assert [doc for _, doc in vector_top] == [doc for _, doc in whoosh_top]
    for (vector_score, _), (whoosh_score, _) in zip(vector_top, whoosh_top, strict=True):
        assert vector_score == pytest.approx(whoosh_score, rel=1e-9)


def test_the_index_under_test_has_segments_and_deletions(backend):
    with backend._searcher() as searcher:
        assert len(searcher.leaf_searchers()) >= 3
        assert searcher.reader().has_deletions()


@pytest.mark.parametrize("text", QUERIES)
def test_plain_queries_score_exactly_as_whoosh_matchers(backend, text):
    with backend._searcher() as searcher:
        q = backend._query(text, searcher)
        flat = flatten_unions(q)
        node = compile_query(flat, searcher)
        assert node is not None  # plain words never fall back to the matcher tree

        results, total = backend._vector_scorer.top(searcher, flat, node, None, None, 20)
        whoosh_top, whoosh_total = exhaustive(searcher, flat, 20)

    assert_same_ranking(results.top_n, whoosh_top)
    assert total == whoosh_total


@pytest.mark.parametrize("text", ["router reset", "zigbee hub pairing", "battery sensor"])
def test_common_words_rewrite_scores_exactly_as_whoosh_matchers(text):
    backend = RamWhooshBackend(common_terms_min_docs=10)
    backend.upsert(random_corpus(400, seed=11))
    with backend._searcher() as searcher:
        q = backend._with_common_terms_optional(backend._query(text, searcher), searcher.reader())
        assert q is not None
        flat = flatten_unions(q)
        node = compile_query(flat, searcher)
        assert isinstance(node, AndMaybeNode | UnionNode)

        results, total = backend._vector_scorer.top(searcher, flat, node, None, None, 15)
        whoosh_top, whoosh_total = exhaustive(searcher, flat, 15)

    assert_same_ranking(results.top_n, whoosh_top)
    assert total == whoosh_total


def _terms(word, boost=1.0):
    return [wq.Term(field, word, boost=boost) for field in ("title", "solution", "problem")]


HAND_BUILT = {
    "coordination bonus": CoordOr(
        [*_terms("router"), *_terms("zigbee", 0.8), *_terms("blink")], scale=COORD_SCALE
    ),
    "boosted union": wq.Or([*_terms("battery"), *_terms("sensor")], boost=1.7),
    "boosted coordination": CoordOr([*_terms("cloud"), *_terms("hub")], boost=0.5, scale=0.5),
    "rare and common words": wq.AndMaybe(
        CoordOr([*_terms("pairing"), *_terms("firmware")], scale=COORD_SCALE),
        wq.Or([*_terms("router"), *_terms("light")], boost=1.3),
    ),
    "one present word": CoordOr([*_terms("router"), *_terms("nosuchword")], scale=COORD_SCALE),
}


@pytest.mark.parametrize("name", HAND_BUILT)
def test_every_supported_shape_scores_exactly_as_whoosh_matchers(backend, name):
    q = HAND_BUILT[name]
    with backend._searcher() as searcher:
        node = compile_query(q, searcher)
        assert node is not None

        results, total = backend._vector_scorer.top(searcher, q, node, None, None, 25)
        whoosh_top, whoosh_total = exhaustive(searcher, q, 25)

    assert_same_ranking(results.top_n, whoosh_top)
    assert total == whoosh_total


def test_filters_and_audiences_apply_as_in_whoosh(backend):
    filters = SearchFilters(area="routers", audiences=("public",))
    with backend._searcher() as searcher:
        allowed, excluded = backend._restrictions(searcher, filters)
        some = set(sorted(allowed)[::3])  # a narrower allowed set than the area's
        flat = flatten_unions(backend._query("router reset firmware", searcher))
        node = compile_query(flat, searcher)

        results, total = backend._vector_scorer.top(searcher, flat, node, some, excluded, 10)
        whoosh_top, _ = exhaustive(searcher, flat, 10, allowed=some, excluded=excluded)
        matching = set(searcher.docs_for_query(flat)) & some

    assert_same_ranking(results.top_n, whoosh_top)
    assert total == len(matching)


@pytest.mark.parametrize("text", ['"router reset"', "router NOT reset", "router AND reset"])
def test_user_syntax_keeps_whoosh_matchers(backend, text):
    with backend._searcher() as searcher:
        flat = flatten_unions(backend._query(text, searcher))
        assert compile_query(flat, searcher) is None

    assert backend.search(text).total > 0


def test_search_results_match_the_matcher_path(backend):
    """The public search: the same hits, in the same order, from both paths."""
    matchers = RamWhooshBackend(vectorized=False)
    matchers._index = backend._index  # the very same index and docnums
    for text in QUERIES:
        vector = backend.search(text, page_size=10)
        plain = matchers.search(text, page_size=10)
        assert [hit.id for hit in vector.hits] == [hit.id for hit in plain.hits], text
        assert vector.total >= len(vector.hits)


def test_a_term_only_in_a_deleted_document_matches_nothing():
    backend = RamWhooshBackend()
    corpus = random_corpus(30)
    unique = dataclasses.replace(corpus[0], title="quokka")
    backend.upsert([unique, *corpus[1:]])
    backend.delete([unique.id])
    with backend._searcher() as searcher:
        flat = flatten_unions(wq.Or([wq.Term("title", "quokka"), wq.Term("title", "router")]))
        node = compile_query(flat, searcher)
        results, total = backend._vector_scorer.top(searcher, flat, node, None, None, 50)
        ids = {searcher.stored_fields(doc)["id"] for _, doc in results.top_n}
    assert unique.id not in ids
    assert total == len(ids)


def _assert_scores_as_whoosh(backend, text):
    with backend._searcher() as searcher:
        flat = flatten_unions(backend._query(text, searcher))
        node = compile_query(flat, searcher)
        results, total = backend._vector_scorer.top(searcher, flat, node, None, None, 20)
        whoosh_top, whoosh_total = exhaustive(searcher, flat, 20)
    assert_same_ranking(results.top_n, whoosh_top)
    assert total == whoosh_total


def _cached_impacts(backend):
    from knowledge.search.whoosh_scoring import segment_cache

    with backend._searcher() as searcher:
        return [
            segment_cache(leaf.reader(), searcher).get("impacts", {})
            for leaf, _ in searcher.leaf_searchers()
        ]


NO_SIGNALS = {"tier": 0.0, "votes": 0.0, "usage": 0.0, "freshness": 0.0}


@pytest.mark.parametrize("weights", [{}, NO_SIGNALS], ids=["trust factors", "no factors"])
def test_cached_term_impacts_follow_new_segments_deletions_and_weights(settings, weights):
    """A term's impacts are computed once per segment and reused; a new segment (the average
    field lengths move), a deletion and new ranking weights must each give Whoosh's scores
    again, not the cached ones. Without trust factors only the average field length tells."""
    settings.PEERDESK_SEARCH_RANKING = weights
    backend = RamWhooshBackend()
    corpus = random_corpus(300, seed=5)
    text = "router reset firmware battery"

    def write(docs, update=False):
        with backend._writer(mergetype=writing.NO_MERGE) as writer:
            for doc in docs:
                (writer.update_document if update else writer.add_document)(**fields_for(doc))

    write(corpus[:200])
    _assert_scores_as_whoosh(backend, text)
    first = dict(_cached_impacts(backend)[0])
    _assert_scores_as_whoosh(backend, text)
    assert first and all(
        entry is _cached_impacts(backend)[0][key] for key, entry in first.items()
    )  # reused as is

    write(corpus[200:])  # the first segment stays; the average field lengths change
    assert len(_cached_impacts(backend)) == 2
    _assert_scores_as_whoosh(backend, text)
    write([dataclasses.replace(doc, title=doc.title + " router") for doc in corpus[::9]], True)
    _assert_scores_as_whoosh(backend, text)
    settings.PEERDESK_SEARCH_RANKING = {"tier": 0.9, "votes": 0.4, "freshness": 0.0}
    _assert_scores_as_whoosh(backend, text)
    settings.PEERDESK_SEARCH_RANKING = weights
    _assert_scores_as_whoosh(backend, text)


def test_impacts_made_with_a_factor_array_now_gone_are_not_taken_for_unweighted_ones(settings):
    """Entries hold their factor array weakly: once it is gone (new weights replaced it), the
    entry must hold for nothing, least of all for "no factors"."""
    import gc

    backend = RamWhooshBackend()
    backend.upsert(random_corpus(200, seed=8))
    settings.PEERDESK_SEARCH_RANKING = {"tier": 0.9, "votes": 0.4}
    _assert_scores_as_whoosh(backend, "router")  # impacts of "router" with these factors
    settings.PEERDESK_SEARCH_RANKING = {"tier": 0.1, "votes": 0.9}
    _assert_scores_as_whoosh(backend, "firmware")  # new factors; the first array is dropped
    gc.collect()
    settings.PEERDESK_SEARCH_RANKING = NO_SIGNALS
    _assert_scores_as_whoosh(backend, "router")


def test_the_impacts_cache_stays_within_its_byte_budget(monkeypatch):
    from knowledge.search import whoosh_vector

    monkeypatch.setattr(whoosh_vector, "IMPACTS_CACHE_BYTES", 4_000)
    backend = RamWhooshBackend()
    backend.upsert(random_corpus(300, seed=6))
    for text in QUERIES:
        backend.search(text)
    from knowledge.search.whoosh_scoring import segment_cache

    with backend._searcher() as searcher:
        (leaf, _), *_ = searcher.leaf_searchers()
        segment = segment_cache(leaf.reader(), searcher)
    sizes = [whoosh_vector._impact_bytes(entry[2]) for entry in segment["impacts"].values()]
    assert len(sizes) >= 1
    assert segment["impacts_bytes"] == sum(sizes)
    assert sum(sizes) <= max(4_000, sizes[-1])
    _assert_scores_as_whoosh(backend, "router reset firmware")  # evicted entries recompute


def test_the_coordination_bonus_survives_synonym_and_spelling_rewrites(backend):
    """Whoosh's CompoundQuery.apply kept only the boost: rewriting a query for synonyms or
    typos used to drop the bonus for documents that match more of the words."""
    with backend._searcher() as searcher:
        q = backend._query("rooter firmware blink", searcher)
        assert isinstance(q, CoordOr)
        assert q.scale == COORD_SCALE
        node = compile_query(flatten_unions(q), searcher)
        assert isinstance(node, UnionNode) and node.coord_scale == COORD_SCALE


def test_every_posting_list_reads_as_whoosh_reads_it(backend):
    """Block reading skips the positions: ids and weights must still be Whoosh's, for lists of
    one posting, a few, and many blocks."""
    from knowledge.search.whoosh_scoring import segment_cache
    from knowledge.search.whoosh_vector import postings

    with backend._searcher() as searcher:
        for leaf, _offset in searcher.leaf_searchers():
            reader = leaf.reader()
            cache = segment_cache(reader, searcher)
            cache.pop("postings", None)
            for field in ("title", "solution", "problem"):
                for text in list(reader.field_terms(field)):
                    matcher = reader.postings(field, text)
                    expected_ids, expected_weights = [], []
                    while matcher.is_active():
                        expected_ids.append(matcher.id())
                        expected_weights.append(matcher.weight())
                        matcher.next()
                    ids, weights = postings(reader, cache, field, text)
                    live = [i for i in ids.tolist() if not reader.is_deleted(i)]
                    assert live == expected_ids, (field, text)
                    assert [
                        w
                        for i, w in zip(ids.tolist(), weights.tolist(), strict=True)
                        if not reader.is_deleted(i)
                    ] == expected_weights


def test_a_segment_s_arrays_outlive_the_reader_an_edit_replaces():
    """After any commit Whoosh opens new readers for every segment; what was computed from an
    unchanged segment (its postings' arrays, field lengths) is kept, and results stay exact."""
    from knowledge.search.whoosh_scoring import segment_cache

    backend = RamWhooshBackend()
    corpus = random_corpus(300, seed=3)
    backend.upsert(corpus[:250])
    backend.search("router reset")
    with backend._searcher() as searcher:
        (first_reader,) = [leaf.reader() for leaf, _ in searcher.leaf_searchers()]
        kept = segment_cache(first_reader, searcher)
        assert kept["lengths"] and kept["sidecar"]

    with backend._writer(mergetype=writing.NO_MERGE) as writer:  # a second segment
        for doc in corpus[250:]:
            writer.add_document(**fields_for(doc))
    found = backend.search("router reset", page_size=20)

    with backend._searcher() as searcher:
        readers = [leaf.reader() for leaf, _ in searcher.leaf_searchers()]
        assert first_reader not in readers  # a new reader of the same segment...
        assert segment_cache(readers[0], searcher) is kept  # ...sharing what was computed
        q = flatten_unions(backend._query("router reset", searcher))
        whoosh_top, whoosh_total = exhaustive(searcher, q, 20)
        hits = [searcher.document_number(id=hit.id) for hit in found.hits]
    assert hits == [doc for _, doc in whoosh_top]
    assert found.total == whoosh_total


def test_columns_read_in_one_slice_equal_whoosh_s_values(backend):
    from knowledge.search.whoosh_scoring import column_array

    with backend._searcher() as searcher:
        for leaf, _offset in searcher.leaf_searchers():
            reader = leaf.reader()
            size = reader.doc_count_all()
            for name, translate in [
                ("tier", True),
                ("votes", True),
                ("usage", True),
                ("updated_at", False),
            ]:
                column = reader.column_reader(name, translate=translate)
                expected = [column[i] for i in range(size)]
                assert column_array(column, size, dtype=np.int64).tolist() == expected, name
            for field in ("title", "solution", "problem"):
                column = reader._perdoc._cached_reader(f"_{field}_len", LENGTHS_COLUMN)
                if column is None:  # no document has this field in the segment
                    continue
                expected = [column[i] for i in range(size)]
                assert column_array(column, size, dtype=np.uint8).tolist() == expected, field


def test_indexes_whose_segment_ids_repeat_do_not_share_arrays():
    """Whoosh names segments from the global random generator: a seeded program gets the same
    ids in two indexes, which must still keep their own postings and factors."""
    import random

    first, second = RamWhooshBackend(), RamWhooshBackend()
    random.seed(1234)
    first.upsert(random_corpus(40, seed=1))
    random.seed(1234)
    second.upsert([dataclasses.replace(doc, title="quokka") for doc in random_corpus(40, seed=2)])
    with first._searcher() as a, second._searcher() as b:
        ids = [
            leaf.reader().segment().segment_id() for s in (a, b) for leaf, _ in s.leaf_searchers()
        ]
    assert ids[0] == ids[1]  # the collision this guards against

    assert second.search("quokka").total == 40
    assert first.search("quokka").total == 0
