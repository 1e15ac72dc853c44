"""Facet labels read per segment (knowledge/search/whoosh_facets.py) must be what each
document's columns and tag vector say, across segments, deletions and edits."""

import dataclasses
from collections import Counter

from whoosh import writing

from knowledge.search.whoosh_backend import RamWhooshBackend
from knowledge.search.whoosh_facets import COLUMN_FACETS, count_facets, facet_key
from knowledge.search.whoosh_schema import fields_for

from .test_whoosh_scale import random_corpus

AREAS = ("router", "cameras", "account")
TAG_SETS = ((), ("wifi",), ("wifi", "firmware"), ("zigbee", "battery", "firmware"), ("c++",))


def _corpus(count, seed):
    docs = random_corpus(count, seed=seed)
    return [
        dataclasses.replace(
            doc,
            area=AREAS[i % len(AREAS)],
            tags=TAG_SETS[i % len(TAG_SETS)],
            type=("article", "thread", "thread_accepted")[i % 3],
            tier=i % 5,
        )
        for i, doc in enumerate(docs)
    ]


def _expected(searcher, docnums):
    """Whoosh's own way: the columns and the term vector of each document."""
    reader = searcher.reader()
    counters = {name: Counter() for name in (*COLUMN_FACETS, "tag")}
    for docnum in docnums:
        for name in COLUMN_FACETS:
            label = facet_key(name, reader.column_reader(name, translate=True)[docnum])
            if label is not None:
                counters[name][label] += 1
        if reader.has_vector(docnum, "tags"):
            for tag, _ in reader.vector_as("weight", docnum, "tags"):
                counters["tag"][tag] += 1
    return counters


def test_labels_read_per_segment_equal_columns_and_term_vectors():
    backend = RamWhooshBackend()
    corpus = _corpus(300, seed=21)
    for chunk in (corpus[:120], corpus[120:220], corpus[220:]):
        with backend._writer(mergetype=writing.NO_MERGE) as writer:
            for doc in chunk:
                writer.add_document(**fields_for(doc))
    edited = [dataclasses.replace(doc, tags=("edited", "wifi")) for doc in corpus[::9]]
    backend.upsert(edited)
    backend.delete([doc.id for doc in corpus[1::11]])

    with backend._searcher() as searcher:
        assert len(list(searcher.leaf_searchers())) >= 3
        live = [d for d in range(searcher.doc_count_all()) if not searcher.reader().is_deleted(d)]
        counters = {name: Counter() for name in (*COLUMN_FACETS, "tag")}
        count_facets(searcher, live, counters)
        assert counters == _expected(searcher, live)
        assert counters["tag"]["edited"] == len(edited) - len(
            {d.id for d in edited} & {d.id for d in corpus[1::11]}
        )
        assert counters["tag"]["c++"] > 0


def test_a_tag_edit_shows_in_the_next_search_s_facets():
    backend = RamWhooshBackend()
    doc = _corpus(1, seed=22)[0]
    backend.upsert([dataclasses.replace(doc, title="router reset", tags=("old-tag",))])
    assert backend.search("router").facets["tag"] == {"old-tag": 1}

    backend.upsert([dataclasses.replace(doc, title="router reset", tags=("new-tag",))])

    assert backend.search("router").facets["tag"] == {"new-tag": 1}
