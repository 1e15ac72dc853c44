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


@dataclass
class Scores:
    reciprocal_ranks: list[float] = field(default_factory=list)
    at1: int = 0
    at5: int = 0
    dup_found: int = 0
    dup_total: int = 0
    latencies_ms: list[float] = field(default_factory=list)


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


def evaluate(name, options, workdir, faq_docs, faq_queries, beer_docs, dup_queries) -> Scores:
    from knowledge.search.base import SearchFilters
    from knowledge.search.whoosh_backend import WhooshBackend

    scores = Scores()
    path = workdir / "indexes" / re.sub(r"\W+", "-", name).strip("-")
    shutil.rmtree(path.parent, ignore_errors=True)
    faq = WhooshBackend(str(path / "faq"), **options)
    faq.rebuild(faq_docs)
    beer = WhooshBackend(str(path / "beer"), **options)
    beer.rebuild(beer_docs)
    faq.search("warm up")
    beer.similar("warm up the beer")
    for query, expected in faq_queries:
        t0 = time.perf_counter()
        hits = faq.search(query, page_size=10).hits
        scores.latencies_ms.append((time.perf_counter() - t0) * 1000)
        ranked = [h.id for h in hits]
        rank = ranked.index(expected) + 1 if expected in ranked else None
        scores.reciprocal_ranks.append(1 / rank if rank else 0.0)
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", action="append", help="Run only these configurations.")
    parser.add_argument("--fresh", action="store_true", help="Recreate the throwaway database.")
    args = parser.parse_args()
    workdir = configure("relevance")
    if args.fresh:
        for leftover in workdir.glob("bench.sqlite3*"):
            leftover.unlink()

    threads = load_stackfaq()
    pk_of = populate(threads)
    docs = documents_by_area()
    faq_queries = [
        (query, f"question:{pk_of[i]}") for i, t in enumerate(threads) for query in t["queries"]
    ]
    dup_queries = beer_queries(load_beer_duplicates())
    print(
        f"StackFAQ: {len(docs[STACKFAQ_AREA])} threads, {len(faq_queries)} rewordings; "
        f"Beer SE: {len(docs[BEER_AREA])} threads, {len(dup_queries)} duplicate pairs"
    )
    names = args.config or list(CONFIGS)
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
        print(
            f"{name:<30} {statistics.fmean(s.reciprocal_ranks):>5.3f} {s.at1 / n:>5.3f} "
            f"{s.at5 / n:>5.3f} {s.dup_found / s.dup_total:>7.3f} "
            f"{lat['p50']:>7.1f} {lat['p95']:>7.1f}"
        )


if __name__ == "__main__":
    main()
