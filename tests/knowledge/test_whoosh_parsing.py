"""Plain words parsed without Whoosh's parser (knowledge/search/whoosh_parsing.py) must give the
very query the parser gives: same classes, terms, order, boosts and coordination scale."""

import json
import random
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.conf import settings
from whoosh import query as wq

from community.markdown import html_to_text
from knowledge.search.whoosh_backend import TEXT_FIELDS, RamWhooshBackend
from knowledge.search.whoosh_parsing import SYNTAX_RE, PlainWordsParser

DATA = Path(settings.BASE_DIR).parent / "shared" / "data"
needs_dumps = pytest.mark.skipif(
    not (DATA / "iot.stackexchange.com" / "Posts.xml").is_file(),
    reason=f"the Stack Exchange dumps are not under {DATA} (CI keeps ../shared/data beside it)",
)
TRICKY = [
    "",
    "   ",
    "How do I reset my Wi-Fi router?",
    "router router ROUTER routers",
    "the a of",  # stop words only: tags terms remain
    "e.g. v1.2.3 2.4GHz",
    "I'd like C++ help, isn't it?",
    "café İstanbul naïve ß 東京",
    "wi-fi,zigbee a,b,,c",
    "tab\tand\nnewline\u00a0nbsp",
    "x y z 1 22 333 _ __init__",
    "50% off!!! #hashtag @user email@example.com http://example.com/a?b=c",
    "rooter firmwear",
]


def shape(q):
    """Everything about a query that scoring can see."""
    if isinstance(q, wq.Term):
        return ("Term", q.fieldname, q.text, q.boost)
    if q is wq.NullQuery:
        return ("Null",)
    children = tuple(shape(child) for child in q.children())
    return (
        type(q).__name__,
        q.boost,
        getattr(q, "scale", None),
        getattr(q, "minmatch", None),
        children,
    )


def whoosh_parse(backend, text):
    return backend._parser.parse(text).normalize()


def _real_texts(limit_per_site=600, faq_pairs=400):
    texts = []
    for site in ("iot.stackexchange.com", "beer.stackexchange.com"):
        root = ET.parse(DATA / site / "Posts.xml").getroot()  # noqa: S314 (the shared public dump)
        for row in list(root.iter("row"))[:limit_per_site]:
            if row.get("Title"):
                texts.append(row.get("Title"))
            body = html_to_text(row.get("Body") or "")
            texts.append(body[:200])
    faq = DATA / "StackFAQ" / "stackExchange-FAQ.json"
    if faq.is_file():  # questions as people rephrase them, typos included
        for pair in json.loads(faq.read_text())["root"]["qapair"][:faq_pairs]:
            texts += [t for t in pair.get("rephr") or [] if isinstance(t, str)]
    return texts


@pytest.fixture(scope="module")
def backend():
    return RamWhooshBackend()


@pytest.mark.parametrize("text", TRICKY)
def test_plain_words_parse_as_whoosh_parses_them(backend, text):
    q = PlainWordsParser(backend.schema, TEXT_FIELDS).parse(text)
    if q is None:
        assert SYNTAX_RE.search(text)
    else:
        assert shape(q) == shape(whoosh_parse(backend, text))


@needs_dumps
def test_real_questions_parse_as_whoosh_parses_them(backend):
    parser = PlainWordsParser(backend.schema, TEXT_FIELDS)
    plain = 0
    for text in _real_texts():
        q = parser.parse(text)
        if q is None:
            continue
        plain += 1
        assert shape(q) == shape(whoosh_parse(backend, text)), text
    assert plain > 2000  # most real text takes the fast path: the comparison is not vacuous


@pytest.mark.parametrize(
    "text",
    [
        '"reset router"',
        "router AND reset",
        "router OR reset",
        "router NOT reset",
        "(router reset)",
        "router^2",
        "'single quoted'",
        "say 'hi'",
        "-router",
        "+router",
        "*:*",
        "title:router",
    ],
)
def test_text_with_syntax_goes_to_whooshs_parser(backend, text):
    assert SYNTAX_RE.search(text)
    assert PlainWordsParser(backend.schema, TEXT_FIELDS).parse(text) is None


def test_the_backend_parses_plain_words_the_fast_way_and_the_same():
    backend = RamWhooshBackend()
    rng = random.Random(32)
    words = ["router", "reset", "zigbee", "hub", "battery", "the", "how", "Firmware?"]
    for _ in range(30):
        text = " ".join(rng.sample(words, rng.randint(1, 5)))
        assert shape(backend._parse(text)) == shape(whoosh_parse(backend, text))
