"""Search relevance on real data: StackFAQ paraphrases and Beer SE duplicate questions.

Usage: .venv/bin/python bench/relevance.py [--config NAME ...] [--fresh]

(a) StackFAQ (Karan & Šnajder 2018): its 125 Web Applications SE threads become questions and
    answers in a throwaway database, are mapped to documents by ``knowledge.search.documents``
    and indexed with ``backend.rebuild``; each of the 1,249 human rewordings is a query whose one
    correct answer is its thread. Prints MRR, P@1 and recall@5 (``backend.search``, the search
    page's path).
(b) Beer SE duplicates: the dump is imported with ``manage.py import_stackexchange``; for each of
    the 21 duplicate pairs (PostLinks LinkTypeId 3 plus close-as-duplicate events in PostHistory)
    the duplicate's title + body is the query (``backend.similar``, the ask page's path) over
    every other thread; prints recall@10.

Each configuration is a set of WhooshBackend options (the analysis and ranking choices) applied
to the same documents; latency is measured per query. Nothing is tuned per query: the rewordings
and pairs are only read to score the ranking.

Semantic configurations (``semantic`` in the config; needs the ``semantic`` extra) wrap the
default backend in ``SemanticRerankBackend``: documents are embedded once into the throwaway
database (throughput printed), each query is embedded as it runs (in the latency). Their rows
also print MRR on the two halves of StackFAQ's threads (even / odd thread numbers): blend
weights are chosen on the even half with ``--grid`` (every fusion and weight 0…1 on cached
candidates, through the same ``semantic.blend``), the odd half is the held-out check.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from _setup import DATA, configure, percentiles

STACKFAQ_AREA = "webapps"
BEER_AREA = "beer"
BEER_SITE = "beer.stackexchange.com"

# Each configuration adds one analysis or ranking choice to the one before it (WhooshBackend
# options); the last is what the product ships: the backend's defaults with the ranking weights
# of settings.PEERDESK_SEARCH_RANKING.
_OFF = dict.fromkeys(
    ("stopwords", "weights", "synonyms", "typos", "proximity", "similar_terms"), False
)


def _ladder() -> dict[str, dict]:
    steps = [
        ("baseline (BM25F)", {}),
        ("+ question stop words", {"stopwords": True}),
        ("+ field weights", {"weights": True}),
        ("+ synonyms", {"synonyms": True}),
        ("+ typo tolerance", {"typos": True}),
        ("+ similar: tf-idf terms", {"similar_terms": True}),
        ("+ title proximity (off)", {"proximity": True}),
    ]
    configs, on = {}, {}
    for name, extra in steps:
        on = {**on, **extra}
        configs[name] = {"relevance": {**_OFF, **on}, "ranking": False}
    configs["default (+ ranking signals)"] = {}
    return configs


CONFIGS: dict[str, dict] = _ladder()
# Semantic re-ranking over the default backend (knowledge/search/semantic.py).
CONFIGS.update(
    {
        "semantic: cosine only": {"semantic": {"fusion": "cosine"}},
        "semantic: RRF w=0.9": {"semantic": {"fusion": "rrf", "weight": 0.9}},
        # settings.PEERDESK_SEARCH["SEMANTIC_OPTIONS"] as shipped (min-max, w=0.8)
        "semantic: default": {"semantic": {}},
    }
)
GRID_WEIGHTS = [round(0.1 * i, 1) for i in range(11)]


@dataclass
class Scores:
    reciprocal_ranks: list[float] = field(default_factory=list)
    at1: int = 0
    at5: int = 0
    dup_found: int = 0
    dup_total: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    # Reciprocal ranks of the queries of even / odd StackFAQ threads (tuning / held-out halves).
    halves: tuple[list[float], list[float]] = field(default_factory=lambda: ([], []))


# --- Data -------------------------------------------------------------------------------------


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def load_stackfaq() -> list[dict]:
    with (DATA / "StackFAQ" / "stackExchange-FAQ.json").open(encoding="utf-8") as fh:
        pairs = json.load(fh)["root"]["qapair"]
    threads = []
    for pair in pairs:
        rewordings = [
            r.strip() for r in _as_list(pair.get("rephr")) if r and r.strip() not in ("", "*")
        ]
        answers = [a.strip() for a in _as_list(pair.get("answer")) if a and a.strip()]
        threads.append(
            {"title": pair["question"].strip(), "answers": answers, "queries": rewordings}
        )
    return threads


def load_beer_duplicates() -> list[tuple[int, int]]:
    """(duplicate post id, original post id) from PostLinks and close-as-duplicate events."""
    dump = DATA / BEER_SITE
    pairs: set[tuple[int, int]] = set()
    for row in ET.parse(dump / "PostLinks.xml").getroot():  # noqa: S314 (trusted shared data)
        if row.get("LinkTypeId") == "3":
            pairs.add((int(row.get("PostId")), int(row.get("RelatedPostId"))))
    for _, row in ET.iterparse(dump / "PostHistory.xml"):  # noqa: S314
        # Close reason 101 is "duplicate"; the event's JSON names the originals.
        if (
            row.tag == "row"
            and row.get("PostHistoryTypeId") == "10"
            and row.get("Comment") == "101"
        ):
            for original in json.loads(row.get("Text") or "{}").get("OriginalQuestionIds", []):
                pairs.add((int(row.get("PostId")), int(original)))
        row.clear()
    return sorted(pairs)


def populate(threads: list[dict]) -> dict[int, int]:
    """Create the StackFAQ threads through the ORM (bulk); returns thread index → question pk."""
    from django.core.management import call_command

    from community.markdown import render_markdown
    from community.models import Answer, ProductArea, Question, User

    call_command("migrate", verbosity=0)
    area, _ = ProductArea.objects.get_or_create(
        slug=STACKFAQ_AREA, defaults={"name": "Web applications"}
    )
    if not Question.objects.filter(area=area).exists():
        author, _ = User.objects.get_or_create(
            username="stackfaq", defaults={"is_placeholder": True, "is_active": False}
        )
        questions = Question.objects.bulk_create(
            [
                Question(area=area, author=author, title=t["title"][:200], body="", body_html="")
                for t in threads
            ]
        )
        Answer.objects.bulk_create(
            [
                Answer(question=q, author=author, body=a, body_html=render_markdown(a))
                for q, t in zip(questions, threads, strict=True)
                for a in t["answers"]
            ]
        )
    if not Question.objects.filter(area__slug=BEER_AREA).exists():
        call_command("import_stackexchange", str(DATA / BEER_SITE), area=BEER_AREA, verbosity=0)
    pks = list(Question.objects.filter(area=area).order_by("pk").values_list("pk", flat=True))
    return dict(enumerate(pks))


def documents_by_area() -> dict[str, list]:
    from knowledge.search.documents import iter_documents

    by_area: dict[str, list] = {}
    for doc in iter_documents():
        by_area.setdefault(doc.area, []).append(doc)
    return by_area


def beer_queries(pairs: list[tuple[int, int]]) -> list[tuple[str, str, str]]:
    """(query text, doc id of the duplicate itself, doc id of its original)."""
    from community.markdown import html_to_text
    from community.models import Question

    by_source = {}
    for q in Question.objects.filter(area__slug=BEER_AREA).only("pk", "title", "body_html"):
        match = re.search(r"/q/(\d+)$", q.source_url or "")
        if match:
            by_source[int(match.group(1))] = q
    rows = []
    for dup, original in pairs:
        if dup in by_source and original in by_source:
            q = by_source[dup]
            text = f"{q.title}\n{html_to_text(q.body_html)}"
            rows.append((text, f"question:{q.pk}", f"question:{by_source[original].pk}"))
    return rows


# --- Evaluation -------------------------------------------------------------------------------


def _backends(name, options, workdir, faq_docs, beer_docs):
    from django.conf import settings

    from knowledge.search.semantic import SemanticRerankBackend, _query_vector
    from knowledge.search.whoosh_backend import WhooshBackend

    options = dict(options)
    semantic = options.pop("semantic", None)
    path = workdir / "indexes" / re.sub(r"\W+", "-", name).strip("-")
    shutil.rmtree(path.parent, ignore_errors=True)
    faq = WhooshBackend(str(path / "faq"), **options)
    faq.rebuild(faq_docs)
    beer = WhooshBackend(str(path / "beer"), **options)
    beer.rebuild(beer_docs)
    if semantic is not None:
        _query_vector.cache_clear()  # no query may be answered from an earlier configuration
        semantic = {**settings.PEERDESK_SEARCH["SEMANTIC_OPTIONS"], **semantic}
        faq = SemanticRerankBackend(faq, wait_for_model=True, **semantic)
        beer = SemanticRerankBackend(beer, wait_for_model=True, **semantic)
    return faq, beer


def evaluate(name, options, workdir, faq_docs, faq_queries, beer_docs, dup_queries) -> Scores:
    from knowledge.search.base import SearchFilters

    scores = Scores()
    faq, beer = _backends(name, options, workdir, faq_docs, beer_docs)
    faq.search("warm up")
    beer.similar("warm up the beer")
    for query, expected, half in faq_queries:
        t0 = time.perf_counter()
        hits = faq.search(query, page_size=10).hits
        scores.latencies_ms.append((time.perf_counter() - t0) * 1000)
        ranked = [h.id for h in hits]
        rank = ranked.index(expected) + 1 if expected in ranked else None
        scores.reciprocal_ranks.append(1 / rank if rank else 0.0)
        scores.halves[half].append(1 / rank if rank else 0.0)
        scores.at1 += rank == 1
        scores.at5 += bool(rank and rank <= 5)
    for text, itself, original in dup_queries:
        t0 = time.perf_counter()
        hits = beer.similar(text, filters=SearchFilters(), limit=11)
        scores.latencies_ms.append((time.perf_counter() - t0) * 1000)
        ranked = [h.id for h in hits if h.id != itself][:10]
        scores.dup_total += 1
        scores.dup_found += original in ranked
    faq.close()
    beer.close()
    return scores


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        line = next(row for row in fh if row.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def embed(docs: list) -> None:
    """Store vectors for every document (only changed ones are embedded) and print throughput
    of the model on these documents' texts (one process, SEMANTIC_THREADS torch threads)."""
    from knowledge.search import semantic

    rss_before = _rss_mb()
    t0 = time.perf_counter()
    semantic.model()  # imports torch and sentence-transformers, reads the weights
    loaded_in = time.perf_counter() - t0
    semantic.encode(["warm up"])
    print(
        f"Model: loaded in {loaded_in:.1f} s (imports included); process RSS "
        f"{rss_before:.0f} MB before, {_rss_mb():.0f} MB after loading and one query"
    )
    texts = [semantic.embedding_text(d) for d in docs]
    t0 = time.perf_counter()
    semantic.encode(texts)
    elapsed = time.perf_counter() - t0
    chars = statistics.fmean(len(t) for t in texts)
    print(
        f"Embedding: {len(texts)} documents ({chars:.0f} characters on average) in "
        f"{elapsed:.1f} s = {len(texts) / elapsed:.1f} docs/s"
    )
    semantic.embeddings_write(docs)


def semantic_costs(workdir, faq_docs, faq_queries, sample: int = 300) -> None:
    """Where a re-ranked query's time goes (medians over ``sample`` rewordings): the lexical
    page of 10, the 50 candidates it needs instead (50 highlighted snippets), embedding the
    query, and reading the candidates' vectors."""
    from knowledge.search import semantic

    faq, _ = _backends("costs", {}, workdir, faq_docs, [])
    queries = [q for q, _, _ in faq_queries[:sample]]
    faq.search("warm up", page_size=50)
    timings: dict[str, list[float]] = {}

    def timed(label, fn):
        t0 = time.perf_counter()
        result = fn()
        timings.setdefault(label, []).append((time.perf_counter() - t0) * 1000)
        return result

    for query in queries:
        timed("lexical page of 10", lambda q=query: faq.search(q, page_size=10))
        pool = timed("lexical 50 candidates", lambda q=query: faq.search(q, page_size=50))
        timed("embed the query", lambda q=query: semantic.encode([q]))
        timed("read 50 vectors", lambda p=pool: semantic.embeddings_for(h.id for h in p.hits))
    print(
        "Re-ranking cost per query (p50 ms): "
        + ", ".join(f"{label} {statistics.median(ms):.1f}" for label, ms in timings.items())
    )


def grid(workdir, faq_docs, faq_queries, beer_docs, dup_queries) -> None:
    """MRR (both halves) and dup R@10 for every fusion and weight, on cached candidates."""
    from knowledge.search import semantic
    from knowledge.search.base import SearchFilters

    faq, beer = _backends("grid", {}, workdir, faq_docs, beer_docs)
    k = 50
    cases = []  # (hit ids, lexical scores, cosines, what counts, half or None)
    for query, expected, half in faq_queries:
        hits = faq.search(query, page=1, page_size=k).hits
        cases.append((hits, query, expected, half))
    for text, itself, original in dup_queries:
        hits = beer.similar(text, filters=SearchFilters(), limit=k)
        cases.append((hits, text[: semantic.EMBED_CHARS], (original, itself), None))
    vectors = semantic.embeddings_for({h.id for hits, *_ in cases for h in hits})
    prepared = []
    for hits, text, expected, half in cases:
        q = semantic.encode([text])[0]
        cos = [float(vectors[h.id] @ q) if h.id in vectors else None for h in hits]
        prepared.append(([h.id for h in hits], [h.score for h in hits], cos, expected, half))
    print(f"{'fusion':<8} {'w':>4} {'MRR even':>9} {'MRR odd':>8} {'MRR':>6} {'dupR@10':>8}")
    for fusion in ("minmax", "rrf"):
        for w in GRID_WEIGHTS:
            rr: tuple[list, list] = ([], [])
            dup = []
            for ids, lex, cos, expected, half in prepared:
                order = [ids[i] for i in semantic.blend(lex, cos, fusion=fusion, weight=w)]
                if half is None:
                    original, itself = expected
                    dup.append(original in [i for i in order if i != itself][:10])
                else:
                    top = order[:10]
                    rr[half].append(1 / (top.index(expected) + 1) if expected in top else 0.0)
            print(
                f"{fusion:<8} {w:>4.1f} {statistics.fmean(rr[0]):>9.3f} "
                f"{statistics.fmean(rr[1]):>8.3f} {statistics.fmean(rr[0] + rr[1]):>6.3f} "
                f"{statistics.fmean(dup):>8.3f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", action="append", help="Run only these configurations.")
    parser.add_argument("--fresh", action="store_true", help="Recreate the throwaway database.")
    parser.add_argument(
        "--grid", action="store_true", help="Semantic fusion and weight grid, then stop."
    )
    parser.add_argument(
        "--embed-chars", type=int, help="Characters of each document embedded (semantic)."
    )
    args = parser.parse_args()
    workdir = configure("relevance")
    if args.fresh:
        for leftover in workdir.glob("bench.sqlite3*"):
            leftover.unlink()

    threads = load_stackfaq()
    pk_of = populate(threads)
    docs = documents_by_area()
    faq_queries = [
        (query, f"question:{pk_of[i]}", i % 2)
        for i, t in enumerate(threads)
        for query in t["queries"]
    ]
    dup_queries = beer_queries(load_beer_duplicates())
    print(
        f"StackFAQ: {len(docs[STACKFAQ_AREA])} threads, {len(faq_queries)} rewordings; "
        f"Beer SE: {len(docs[BEER_AREA])} threads, {len(dup_queries)} duplicate pairs"
    )
    names = args.config or list(CONFIGS)
    if args.grid or any("semantic" in CONFIGS[name] for name in names):
        from knowledge.search import semantic

        if args.embed_chars:
            semantic.EMBED_CHARS = args.embed_chars
        embed(docs[STACKFAQ_AREA] + docs[BEER_AREA])
        semantic_costs(workdir, docs[STACKFAQ_AREA], faq_queries)
    if args.grid:
        grid(workdir, docs[STACKFAQ_AREA], faq_queries, docs[BEER_AREA], dup_queries)
        return
    header = (
        f"{'configuration':<30} {'MRR':>5} {'P@1':>5} {'R@5':>5} {'dupR@10':>7} "
        f"{'p50 ms':>7} {'p95 ms':>7}"
    )
    print(header)
    print("-" * len(header))
    for name in names:
        s = evaluate(
            name,
            CONFIGS[name],
            workdir,
            docs[STACKFAQ_AREA],
            faq_queries,
            docs[BEER_AREA],
            dup_queries,
        )
        n = len(s.reciprocal_ranks)
        lat = percentiles(s.latencies_ms)
        halves = ""
        if "semantic" in CONFIGS[name]:
            even, odd = (statistics.fmean(h) for h in s.halves)
            halves = f"  (MRR even {even:.3f}, odd {odd:.3f})"
        print(
            f"{name:<30} {statistics.fmean(s.reciprocal_ranks):>5.3f} {s.at1 / n:>5.3f} "
            f"{s.at5 / n:>5.3f} {s.dup_found / s.dup_total:>7.3f} "
            f"{lat['p50']:>7.1f} {lat['p95']:>7.1f}{halves}"
        )


if __name__ == "__main__":
    main()
