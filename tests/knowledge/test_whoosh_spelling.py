"""Spelling candidates found in C (knowledge/search/whoosh_spelling.py) must be the words
Whoosh's own walk of the term dictionary finds, with the same edit distance."""

import random

import pytest
from rapidfuzz.distance import OSA
from whoosh import writing
from whoosh.reading import IndexReader
from whoosh.support.levenshtein import damerau_levenshtein

from knowledge.search.whoosh_backend import RamWhooshBackend
from knowledge.search.whoosh_schema import fields_for
from knowledge.search.whoosh_spelling import words_within

from .test_whoosh_indexing import _documents, _real_posts, needs_iot_dump

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _misspell(word: str, rng: random.Random) -> str:
    chars = list(word)
    for _ in range(rng.choice([1, 1, 2, 3])):
        i = rng.randrange(len(chars))
        edit = rng.choice(["substitute", "insert", "delete", "transpose"])
        if edit == "substitute":
            chars[i] = rng.choice(LETTERS)
        elif edit == "insert":
            chars.insert(i, rng.choice(LETTERS))
        elif edit == "delete" and len(chars) > 2:
            del chars[i]
        elif edit == "transpose" and i + 1 < len(chars):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


def test_osa_distance_decides_as_whooshs_damerau_levenshtein():
    rng = random.Random(11)
    words = ["router", "firmware", "configuration", "zigbee", "ab", "reset", "naïve", "wi-fi"]
    for _ in range(3000):
        a = _misspell(rng.choice(words), rng)
        b = _misspell(rng.choice(words), rng) if rng.random() < 0.3 else _misspell(a, rng)
        for limit in (1, 2):
            whoosh_within = damerau_levenshtein(a, b, limit=limit) <= limit
            assert (OSA.distance(a, b) <= limit) == whoosh_within, (a, b, limit)


@pytest.fixture(scope="module")
def multi_segment_backend():
    """Real posts (a real vocabulary) in three segments, some deleted."""
    backend = RamWhooshBackend()
    corpus = _documents(_real_posts(limit=400))
    for chunk in (corpus[:150], corpus[150:300], corpus[300:]):
        with backend._writer(mergetype=writing.NO_MERGE) as writer:
            for doc in chunk:
                writer.add_document(**fields_for(doc))
    backend.delete([doc.id for doc in corpus[::7]])
    return backend


@needs_iot_dump
def test_words_within_equals_whooshs_walk_of_every_segment(multi_segment_backend):
    rng = random.Random(12)
    with multi_segment_backend._searcher() as searcher:
        reader = searcher.reader()
        assert len(list(searcher.leaf_searchers())) == 3
        for field in ("title", "solution"):
            vocabulary = sorted(set(reader.field_terms(field)))
            checked = 0
            for word in rng.sample(vocabulary, min(60, len(vocabulary))):
                typo = _misspell(word, rng)
                for maxdist in (1, 2):
                    # Whoosh's generic walk (what a multi-segment reader runs), in term order.
                    expected = list(
                        IndexReader.terms_within(reader, field, typo, maxdist, prefix=1)
                    )
                    assert words_within(searcher, field, typo, maxdist) == expected
                    checked += bool(expected)
            assert checked > 20  # most typos have neighbours: the comparison is not vacuous


@needs_iot_dump
def test_a_typo_still_finds_the_word_it_meant(multi_segment_backend):
    with multi_segment_backend._searcher() as searcher:
        assert ("title", "sensor") in searcher.reader()
        assert "sensor" in words_within(searcher, "title", "sensro", 1)  # a transposition
        assert "sensor" in words_within(searcher, "title", "sensur", 1)
        assert words_within(searcher, "title", "", 1) == []
        assert words_within(searcher, "nosuchfield", "sensor", 1) == []

    assert multi_segment_backend.search("sensro").total > 0
