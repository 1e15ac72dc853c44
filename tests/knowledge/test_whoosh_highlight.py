"""Snippets highlighted with one-pass tokens (knowledge/search/whoosh_highlight.py) must be
exactly Whoosh's own: same fragments, same marks, same escaping."""

import random

import pytest
from whoosh import highlight

from knowledge.search.whoosh_backend import RamWhooshBackend
from knowledge.search.whoosh_highlight import PlainChainHighlighter, plain_chain_tokens
from knowledge.search.whoosh_schema import _plain_chain, build_schema

from .test_whoosh_indexing import TRICKY_TEXTS, _documents, _real_posts, needs_iot_dump


def _as_spans(tokens):
    return [(t.startchar, t.endchar, t.text, t.matched) for t in tokens]


@pytest.mark.parametrize("text", TRICKY_TEXTS)
def test_tokens_equal_the_analyzer_chain_with_matches_marked(text):
    field = build_schema()["solution"]
    words = frozenset({"router", "reset", "i", "the", "straße", "wi", "123"})
    chain = _plain_chain(field.analyzer)
    whoosh = highlight.set_matched_filter(
        field.analyzer(text, positions=True, chars=True, mode="index", removestops=False), words
    )
    assert list(plain_chain_tokens(text, chain, words)) == _as_spans(whoosh)


@needs_iot_dump
def test_snippets_equal_whooshs_on_real_posts(monkeypatch):
    # Whoosh breaks ties between equally good fragments by memory address; make it pick the
    # earlier one, as ours does, so the two can be compared.
    monkeypatch.setattr(highlight.Fragment, "__lt__", lambda a, b: a.startchar > b.startchar)
    backend = RamWhooshBackend()
    docs = _documents(_real_posts(limit=400))
    backend.rebuild(docs)
    rng = random.Random(41)
    queries = [" ".join(doc.title.split()[:4]) for doc in rng.sample(docs, 40)]
    compared = 0
    with backend._searcher() as searcher:
        for text in queries:
            q = backend._query(text, searcher)
            if q is None:
                continue
            results, _total = backend._run(searcher, q, None, None, 10)
            backend._configure_highlighting(results)
            fast = results.highlighter
            whoosh = highlight.Highlighter(fragmenter=fast.fragmenter, formatter=fast.formatter)
            assert isinstance(fast, PlainChainHighlighter)
            for hit in results:
                for field in ("solution", "problem", "title"):
                    stored = hit.get(field) or ""
                    mine = fast.highlight_hit(hit, field, text=stored, top=2)
                    theirs = whoosh.highlight_hit(hit, field, text=stored, top=2)
                    assert mine == theirs, (text, field)
                    compared += bool(theirs)
    assert compared > 100  # real marks were compared, not empty strings


def test_equally_good_fragments_go_in_text_order():
    backend = RamWhooshBackend()
    text = ". ".join(["router " + "filler " * 30] * 4)
    backend.upsert(_documents([("Router", text)]))
    first = backend.search("router").hits[0].snippet
    for _ in range(5):
        backend._results_cache.clear()
        assert backend.search("router").hits[0].snippet == first


def _random_spans(rng, count):
    """Token spans with gaps, touching and overlapping neighbours, some matched."""
    spans, position = [], 0
    for _ in range(count):
        position += rng.choice([0, 0, 1, 1, 1, 2, 5]) - (
            1 if position and rng.random() < 0.1 else 0
        )
        length = rng.randint(1, 9)
        word = "".join(rng.choice("abcxyz") for _ in range(length))
        spans.append((position, position + length, word, rng.random() < 0.3))
        position += length
    return spans


def _whoosh_tokens(spans):
    from whoosh.analysis import Token

    token = Token(chars=True)
    for start, end, text, matched in spans:
        token.startchar, token.endchar, token.text, token.matched = start, end, text, matched
        token.boost = 1.0
        yield token


def _fragment_view(fragments):
    return [
        (f.startchar, f.endchar, [(m.startchar, m.endchar, m.text) for m in f.matches])
        for f in fragments
    ]


@pytest.mark.parametrize("seed", range(40))
def test_merging_and_fragments_step_as_whooshs(seed):
    from knowledge.search.whoosh_highlight import _context_fragments, _merged

    rng = random.Random(seed)
    spans = _random_spans(rng, rng.randint(0, 120))
    text = "x" * (spans[-1][1] + 10 if spans else 10)
    whoosh_merged = [
        (t.startchar, t.endchar, t.text, t.matched)
        for t in highlight.Highlighter._merge_matched_tokens(_whoosh_tokens(spans))
    ]
    assert list(_merged(iter(spans))) == whoosh_merged

    fragmenter = highlight.ContextFragmenter(
        maxchars=rng.choice([20, 60, 200]),
        surround=rng.choice([5, 20, 60]),
        charlimit=rng.choice([0, 150, 2**15]),
    )
    whoosh = fragmenter.fragment_tokens(
        text, highlight.Highlighter._merge_matched_tokens(_whoosh_tokens(spans))
    )
    assert _fragment_view(_context_fragments(text, _merged(iter(spans)), fragmenter)) == (
        _fragment_view(whoosh)
    )
