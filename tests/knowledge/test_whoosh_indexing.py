"""What makes a Whoosh rebuild fast must not change what it writes: text analysed without Whoosh's
token objects and postings spilled to disk in marshalled chunks give the very same index."""

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.conf import settings
from whoosh.analysis import LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.fields import TEXT
from whoosh.writing import PostingPool

from community.markdown import html_to_text
from knowledge.search import SearchDocument
from knowledge.search.whoosh_backend import RamWhooshBackend, WhooshBackend
from knowledge.search.whoosh_schema import PlainText, build_schema

IOT_POSTS = (
    Path(settings.BASE_DIR).parent / "shared" / "data" / "iot.stackexchange.com" / "Posts.xml"
)
needs_iot_dump = pytest.mark.skipif(
    not IOT_POSTS.is_file(),
    reason=f"the IoT Stack Exchange dump is not at {IOT_POSTS} (CI keeps ../shared/data beside it)",
)
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
TRICKY_TEXTS = [
    "",
    "a an the of",  # only stop words
    "How do I reset the Router? I'd like 2.4GHz Wi-Fi, e.g. v1.2.3 and routers resetting ROUTER",
    "café İstanbul ŉ ß Straße ΣΊΣΥΦΟΣ 東京 wi\u2011fi ½ x² ..dots.. a.b.c. _under_score_",
    "reset " * 50 + "router",
    "I i I i it it is is x y z 1 22 333",
]


def _real_posts(limit: int = 500) -> list[tuple[str, str]]:
    posts = []
    for row in ET.parse(IOT_POSTS).getroot().iter("row"):  # noqa: S314 (the shared public dump)
        posts.append((row.get("Title") or "", html_to_text(row.get("Body") or "")))
        if len(posts) == limit:
            break
    return posts


def _documents(posts: list[tuple[str, str]]) -> list[SearchDocument]:
    return [
        SearchDocument(
            id=f"question:{pk}",
            type="thread",
            title=title,
            problem=body[: len(body) // 2],
            solution=body[len(body) // 2 :],
            tags=("sensors", "wi-fi"),
            url=f"/q/{pk}/",
            area="iot",
            audience="public",
            updated_at=NOW,
        )
        for pk, (title, body) in enumerate(posts, start=1)
    ]


def _whole_index(backend) -> tuple[dict, dict]:
    """Every posting (field, term → [(doc, weight, value)]) and every field length."""
    with backend._searcher() as searcher:
        reader = searcher.reader()
        postings = {}
        for fieldname, term in reader.all_terms():
            matcher = reader.postings(fieldname, term)
            items = []
            while matcher.is_active():
                items.append((matcher.id(), matcher.weight(), matcher.value()))
                matcher.next()
            postings[fieldname, term] = items
        lengths = {
            (docnum, fieldname): reader.doc_field_length(docnum, fieldname)
            for docnum in reader.all_doc_ids()
            for fieldname in ("title", "solution", "problem", "spell")
        }
    return postings, lengths


@pytest.mark.parametrize("stopwords", [True, False])
@pytest.mark.parametrize("text", TRICKY_TEXTS)
def test_plain_text_indexes_a_text_as_the_analyzer_chain_does(text, stopwords):
    schema = build_schema(stopwords=stopwords)
    for fieldname in ("title", "solution", "problem", "spell"):
        field = schema[fieldname]
        assert isinstance(field, PlainText)
        assert list(field.index(text)) == list(TEXT.index(field, text)), fieldname


@needs_iot_dump
def test_plain_text_indexes_real_posts_as_the_analyzer_chain_does():
    schema = build_schema()
    fields = [schema[name] for name in ("title", "solution", "spell")]
    for title, body in _real_posts(limit=2000):
        for field in fields:
            for text in (title, body):
                assert list(field.index(text)) == list(TEXT.index(field, text))


def test_an_analyzer_that_is_not_the_plain_chain_goes_through_whoosh():
    class Upper(StemFilter):
        def __call__(self, tokens):
            for token in tokens:
                token.text = token.text.upper()
                yield token

    analyzer = RegexTokenizer() | LowercaseFilter() | StopFilter() | Upper()
    field = PlainText(analyzer=analyzer)

    assert [term for term, *_ in field.index("Router reset")] == [b"ROUTER", b"RESET"]


@needs_iot_dump
def test_an_index_written_through_plain_text_equals_whooshs_own(monkeypatch):
    docs = _documents(_real_posts(limit=300))
    fast = RamWhooshBackend()
    fast.rebuild(docs)
    monkeypatch.setattr(PlainText, "index", TEXT.index)
    slow = RamWhooshBackend()
    slow.rebuild(docs)

    fast_postings, fast_lengths = _whole_index(fast)
    slow_postings, slow_lengths = _whole_index(slow)
    assert len(fast_postings) > 5000
    assert fast_postings == slow_postings
    assert fast_lengths == slow_lengths


@needs_iot_dump
def test_postings_spilled_to_disk_in_chunks_make_the_same_index(tmp_path, monkeypatch):
    docs = _documents(_real_posts(limit=300))
    in_memory = WhooshBackend(str(tmp_path / "memory" / "index"), procs=1)
    in_memory.rebuild(docs)

    runs = []
    write_run = PostingPool._write_run
    monkeypatch.setattr(
        PostingPool,
        "_write_run",
        lambda pool, f, items: runs.append(1) or write_run(pool, f, items),
    )
    monkeypatch.setattr("knowledge.search.whoosh_schema.RUN_CHUNK_POSTINGS", 100)
    spilled = WhooshBackend(str(tmp_path / "spilled" / "index"), procs=1, limitmb=1)
    spilled.rebuild(docs)

    assert len(runs) >= 3  # the pool really went to disk, more than once
    assert _whole_index(spilled) == _whole_index(in_memory)
    assert not list((tmp_path / "spilled").rglob("*.run"))  # run files are removed
    assert [h.id for h in spilled.search("sensor wifi").hits] == [
        h.id for h in in_memory.search("sensor wifi").hits
    ]
