"""Search latency on imported real data (IoT + Beer Stack Exchange dumps).

Usage: .venv/bin/python bench/search_latency.py [--queries 500] [--name 100k] [--matchers]
Imports both dumps into a throwaway SQLite database, rebuilds the Whoosh index, then runs queries
made from real question titles (first 4 words) and prints latency percentiles for the backend and for
the search API endpoint (through Django's test client, no network).
"""

import argparse
import json
import random
import time

from _setup import DATA, configure, percentiles


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument(
        "--name",
        default=None,
        help="use a bench directory made by generate.py (its index and queries) instead of "
        "importing the dumps",
    )
    parser.add_argument(
        "--matchers",
        action="store_true",
        help="Whoosh only: score every query with Whoosh's matchers instead of the vectorized "
        "scorer (knowledge/search/whoosh_vector.py), to compare the two on the same data",
    )
    args = parser.parse_args()
    workdir = configure(args.name or "search")

    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from community.models import Question
    from knowledge.search import get_backend, reset_backend

    if args.matchers:
        options = settings.PEERDESK_SEARCH.setdefault("OPTIONS", {})
        options["vectorized"] = False
    rng = random.Random(42)
    if args.name:
        meta = json.loads((workdir / "meta.json").read_text())
        pool = meta["queries"]
        queries = [rng.choice(pool) for _ in range(args.queries)]
    else:
        call_command("migrate", verbosity=0)
        for site, area in (("iot.stackexchange.com", "iot"), ("beer.stackexchange.com", "beer")):
            started = time.perf_counter()
            call_command("import_stackexchange", str(DATA / site), area=area, verbosity=0)
            print(f"import {site}: {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        call_command("rebuild_index", verbosity=0)
        print(f"rebuild_index: {time.perf_counter() - started:.1f} s")
        titles = list(Question.objects.values_list("title", flat=True))
        pool = [" ".join(title.split()[:4]) for title in titles]
        queries = [rng.choice(pool) for _ in range(args.queries)]
    backend = get_backend()
    backend.search("warm up")
    # Cold: each distinct query once (the results cache cannot help); warm: the same list again,
    # as a site sees its popular searches repeat. CPU time per query is printed too: on a shared
    # box it moves less than wall time.
    distinct = list(dict.fromkeys(queries))
    for label, batch in (("cold", distinct), ("warm", queries)):
        samples, cpu, hits = [], [], 0
        for q in batch:
            t0, c0 = time.perf_counter(), time.process_time()
            results = backend.search(q)
            samples.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            hits += bool(results.total)
        print(
            f"backend.search {label} ({len(batch)} queries, {hits} with hits)  "
            + "  ".join(f"{k} {v:.1f} ms" for k, v in percentiles(samples).items())
            + "   cpu p50 {p50:.1f} p95 {p95:.1f} ms".format(**percentiles(cpu))
        )
    print(f"documents: {len(backend.stored_versions())}")

    # The API through a fresh backend: cold (first time each query), then warm. Then queries
    # it has never seen, after those 200 requests: a worker that has been up a while has its
    # per-segment caches (postings arrays, term impacts, facet tables) filled by other queries.
    reset_backend()
    get_backend().search("warm up")
    client = Client()
    api_queries = distinct[:200]
    unseen = [q for q in dict.fromkeys(pool) if q not in set(distinct)]
    rng.shuffle(unseen)
    runs = [("cold", api_queries), ("warm", api_queries)]
    if unseen:
        runs.append(("cold, worker in use", unseen[:200]))
    for label, batch in runs:
        api_samples = []
        for q in batch:
            t0 = time.perf_counter()
            response = client.get("/api/v1/search/", {"q": q})
            api_samples.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.content[:200]
        stats = percentiles(api_samples)
        print(
            f"GET /api/v1/search/ {label} ({len(batch)} queries)  "
            + "  ".join(f"{k} {v:.1f} ms" for k, v in stats.items())
        )


if __name__ == "__main__":
    main()
