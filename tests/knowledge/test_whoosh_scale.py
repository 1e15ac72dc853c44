"""What keeps Whoosh fast on a large index: block-max pruning with trust signals, common words
that only re-order, cached filter sets and results. Each must give the answers an exhaustive
search gives (or, for common words, a documented subset)."""

import datetime as dt
import math
import random

import pytest
from whoosh import collectors

from knowledge.search import SearchDocument, SearchFilters
from knowledge.search.whoosh_backend import RamWhooshBackend

NOW = dt.datetime.now(dt.UTC)
WORDS = [
    "router",
    "firmware",
    "reset",
    "button",
    "light",
    "blink",
    "zigbee",
    "hub",
    "pairing",
    "battery",
    "sensor",
    "cloud",
]


def doc(pk, title, solution="", **fields):
    return SearchDocument(
        id=f"article:{pk}",
        type="article",
        title=title,
        problem="",
        solution=solution,
        tags=(),
        url=f"/a/{pk}/",
        **{"area": "routers", "updated_at": NOW, **fields},
    )


def random_corpus(size, seed=7):
    rng = random.Random(seed)
    return [
        doc(
            pk,
            " ".join(rng.choices(WORDS, k=rng.randint(2, 5))),
            " ".join(rng.choices(WORDS, k=rng.randint(5, 40))),
            tier=rng.randint(0, 4),
            votes=rng.choice([0, 0, 1, 3, 12, 250]),
            usage=rng.choice([0, 0, 0, 2, 40]),
            updated_at=NOW - dt.timedelta(days=rng.randint(0, 2000)),
        )
        for pk in range(1, size + 1)
    ]


def exhaustive_top(backend, text, limit):
    """The top ``limit`` ids scoring every match (no pruning, no rewrite)."""
    with backend._searcher() as searcher:
        q = backend._query(text, searcher)
        collector = collectors.TopCollector(limit, usequality=False)
        collector.replace = 0  # no matcher replacement either: it prunes by quality too
        searcher.search_with_collector(q, collector)
        return [searcher.stored_fields(d)["id"] for _, d in collector.results().top_n]


@pytest.mark.parametrize("text", ["router reset", "zigbee hub pairing", "battery", "cloud light"])
def test_pruned_search_ranks_exactly_like_scoring_every_match(text):
    backend = RamWhooshBackend(common_terms_min_docs=10**9)  # pruning only, no rewrite
    backend.upsert(random_corpus(600))

    pruned = [hit.id for hit in backend.search(text, page_size=10).hits]

    assert pruned == exhaustive_top(backend, text, 10)


@pytest.mark.parametrize(
    ("signal", "value", "factor"),
    [
        ("votes", 50, 1 + math.log1p(50)),
        ("votes", -3, 1.0),
        ("usage", 200, 1 + math.log1p(200)),
        ("tier", 4, 1 + 4),
    ],
)
def test_each_trust_signal_scales_the_text_score_by_its_documented_factor(signal, value, factor):
    weights = {"votes": 0.0, "tier": 0.0, "usage": 0.0, "freshness": 0.0, signal: 1.0}
    backend = RamWhooshBackend(ranking=weights)
    backend.upsert([doc(1, "Reset the router"), doc(2, "Reset the router", **{signal: value})])

    # One word: with several, the coordination bonus for matching more of them is added to
    # the scaled text score, so the ratio is no longer the factor alone.
    scores = {hit.id: hit.score for hit in backend.search("router").hits}

    assert scores["article:2"] / scores["article:1"] == pytest.approx(factor, rel=1e-6)


@pytest.mark.parametrize("text", ["router reset", "zigbee hub pairing cloud", "battery light"])
def test_the_common_terms_rewrite_keeps_the_exact_order_of_what_it_matches(text):
    backend = RamWhooshBackend(common_terms_min_docs=1, vectorized=False)
    backend.upsert(random_corpus(600))

    with backend._searcher() as searcher:
        rewritten = backend._with_common_terms_optional(
            backend._query(text, searcher), searcher.reader()
        )
        collector = collectors.TopCollector(10, usequality=False)
        collector.replace = 0
        searcher.search_with_collector(rewritten, collector)
        expected = [searcher.stored_fields(d)["id"] for _, d in collector.results().top_n]

    assert [hit.id for hit in backend.search(text).hits] == expected


# The common-terms rewrite serves queries that run through Whoosh's matchers (user syntax);
# plain words are scored with arrays (whoosh_vector.py), every word in full.


def test_plain_words_count_in_full_on_a_large_index():
    backend = RamWhooshBackend(common_terms_min_docs=1)
    backend.upsert(
        [doc(pk, f"Router note {pk}") for pk in range(1, 400)]
        + [doc(500, "Zigbee pairing", "Pair the zigbee hub."), doc(501, "Router zigbee bridge")]
    )

    found = backend.search("router zigbee", page_size=5)

    assert found.total == 401
    assert found.hits[0].id == "article:501"


def test_a_common_word_only_reorders_what_the_rarer_words_match():
    backend = RamWhooshBackend(common_terms_min_docs=1, vectorized=False)
    backend.upsert(
        [doc(pk, f"Router note {pk}") for pk in range(1, 400)]  # "router" is everywhere
        + [doc(500, "Zigbee pairing", "Pair the zigbee hub."), doc(501, "Router zigbee bridge")]
    )

    hits = backend.search("router zigbee").hits

    # Documents with only the common word are left out; the one with both ranks first.
    assert [hit.id for hit in hits] == ["article:501", "article:500"]


def test_a_query_of_common_words_only_is_led_by_its_rarest_words():
    backend = RamWhooshBackend(common_terms_min_docs=1, vectorized=False)
    backend.upsert(
        [doc(pk, "Router firmware", "light") for pk in range(1, 120)]
        + [doc(pk, "Router reset", "light") for pk in range(120, 241)]
    )

    # Every word is common; "firmware" (119 documents) is rarer than "router" (240).
    led = backend.search("router firmware", page_size=500)
    assert len(led.hits) == 119 and {hit.title for hit in led.hits} == {"Router firmware"}

    # "reset" (121) only re-orders what "firmware" matched.
    assert {hit.title for hit in backend.search("firmware reset", page_size=500).hits} == {
        "Router firmware"
    }


def test_the_whole_query_runs_when_the_rare_words_match_nothing_the_filters_allow():
    backend = RamWhooshBackend(common_terms_min_docs=1, vectorized=False)
    backend.upsert(
        [doc(pk, "Router reset", area="routers") for pk in range(1, 300)]
        + [doc(500, "Zigbee pairing", area="hubs"), doc(501, "Router light", area="lights")]
    )

    hits = backend.search("router zigbee", filters=SearchFilters(area="lights")).hits

    assert [hit.id for hit in hits] == ["article:501"]


def test_a_cached_result_is_never_served_after_the_index_changes():
    backend = RamWhooshBackend()
    backend.upsert([doc(1, "Router reset")])
    assert [hit.id for hit in backend.search("reset").hits] == ["article:1"]
    assert backend.search("reset") is backend.search("reset")  # served from the cache

    backend.upsert([doc(2, "Reset the hub", votes=100)])
    backend.delete(["article:1"])

    assert [hit.id for hit in backend.search("reset").hits] == ["article:2"]


def test_cached_results_are_kept_apart_per_audience():
    backend = RamWhooshBackend()
    backend.upsert([doc(1, "Escalation notes", audience="internal"), doc(2, "Escalation guide")])
    staff = SearchFilters(audiences=("public", "internal"))

    assert len(backend.search("escalation", filters=staff).hits) == 2
    assert [hit.id for hit in backend.search("escalation").hits] == ["article:2"]
    assert [hit.id for hit in backend.similar("escalation notes")] == ["article:2"]


def test_a_document_of_an_unknown_audience_is_refused_at_indexing():
    backend = RamWhooshBackend()

    with pytest.raises(ValueError, match="Unknown audience"):
        backend.upsert([doc(1, "Secret", audience="partners")])


def test_postings_written_with_field_lengths_read_once_score_exactly_as_whooshs_own(monkeypatch):
    from whoosh.codec.base import FieldWriter

    from knowledge.search import whoosh_schema

    def scores():
        backend = RamWhooshBackend(ranking=False)
        backend.rebuild(random_corpus(300))
        return [(h.id, h.score) for h in backend.search("router reset zigbee", page_size=50).hits]

    patched = scores()
    monkeypatch.setattr(FieldWriter, "add_postings", whoosh_schema._whoosh_add_postings)

    assert scores() == patched


def test_an_index_written_before_the_schema_module_existed_still_opens(tmp_path, monkeypatch):
    from knowledge.search import whoosh_schema
    from knowledge.search.whoosh_backend import WhooshBackend

    # Whoosh pickles the schema (analyzer classes by module path) into the index: write one the
    # way the old layout did, with the stem filter living in whoosh_backend.
    with monkeypatch.context() as patched:
        patched.setattr(
            whoosh_schema._CachedStemFilter, "__module__", "knowledge.search.whoosh_backend"
        )
        old = WhooshBackend(str(tmp_path / "index"))
        old.upsert([doc(1, "Router reset")])
        old.close()
    assert b"knowledge.search.whoosh_backend" in b"".join(
        p.read_bytes() for p in (tmp_path / "index").iterdir() if p.suffix == ".toc"
    )

    reopened = WhooshBackend(str(tmp_path / "index"))
    assert [hit.id for hit in reopened.search("router").hits] == ["article:1"]


def test_snippets_show_where_the_words_are_in_a_long_answer():
    """Whoosh only re-analyses a window around the query's words, found by their stems."""
    filler = "lorem ipsum dolor sit amet " * 50
    backend = RamWhooshBackend()
    backend.upsert(
        [
            doc(
                1,
                "Hub questions",
                filler + "Hold the RESET button while the batteries charge. " + filler,
            ),
            doc(2, "Another hub", filler * 3 + "reset is only mentioned far too late"),
        ]
    )

    snippets = {hit.id: hit.snippet for hit in backend.search("resetting battery").hits}

    assert '<mark class="match term0">RESET</mark>' in snippets["article:1"]
    assert "batteries</mark>" in snippets["article:1"]  # "batteri": the stem is not a prefix
    assert "lorem" in snippets["article:1"]  # some context around the words
    # Past the scanned part of a field, the snippet is the field's start.
    assert snippets["article:2"].startswith("lorem ipsum") and "<mark" not in snippets["article:2"]
