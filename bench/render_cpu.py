"""CPU per render of thread pages for a signed-in member, in-process (no HTTP, no wrk).

Usage: .venv/bin/python bench/render_cpu.py --name 100k [--runs 3] [--requests 150] [--path /questions/7/]

Signs in the same ordinary member as ``load.py --signed-in`` (members always get a fresh render:
no page cache), warms up, then renders each page ``--requests`` times per run and prints the
median and 95th percentile of ``time.process_time`` per render, run by run, with the queries one
render makes. CPU time moves less than wall time on a shared machine, so two trees can be
compared on it (run the script from each, alternating). Default pages: the bench's 30-answer
thread (it has a validated answer and an article) and the thread with the most answers among
those with no validation, correction or article, as most threads are.
"""

import argparse
import json
import time

from _setup import configure, percentiles


def _plain_thread_id() -> int:
    """The most answered visible thread with no validation, correction or article."""
    from django.db.models import Count

    from community.models import Answer, Question
    from knowledge.models import AnswerCorrection, Article, QuestionCoverage, Validation

    with_knowledge = Answer.objects.filter(pk__in=Validation.objects.values("answer_id")).values(
        "question_id"
    )
    corrected = Answer.objects.filter(pk__in=AnswerCorrection.objects.values("answer_id")).values(
        "question_id"
    )
    candidates = (
        Question.objects.filter(status="visible")
        .exclude(pk__in=Article.objects.values("source_question_id"))
        .exclude(pk__in=QuestionCoverage.objects.values("question_id"))
        .exclude(pk__in=with_knowledge)
        .exclude(pk__in=corrected)
        .annotate(answer_total=Count("answers"))
        .order_by("-answer_total", "-pk")
    )
    return candidates.values_list("pk", flat=True)[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", default="10k", help="bench directory made by generate.py")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=150, help="renders per run and page")
    parser.add_argument("--path", action="append", help="a page to render (repeatable)")
    args = parser.parse_args()
    workdir = configure(args.name)

    import load
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    load.collectstatic(workdir)
    meta = json.loads((workdir / "meta.json").read_text())
    headers, member = load.member_session(meta)
    paths = args.path or [f"/questions/{meta['thread_30']}/", f"/questions/{_plain_thread_id()}/"]
    client = Client(headers=headers)
    print(f"signed in as member {member.username}; {args.runs} runs of {args.requests} renders")
    for path in paths:
        for _ in range(30):
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        with CaptureQueriesContext(connection) as captured:
            client.get(path)
        queries = len(captured.captured_queries)
        runs = []
        for _ in range(args.runs):
            samples = []
            for _ in range(args.requests):
                started = time.process_time()
                client.get(path)
                samples.append((time.process_time() - started) * 1000)
            stats = percentiles(samples)
            runs.append(f"p50 {stats['p50']:.1f} p95 {stats['p95']:.1f}")
        print(f"{path:24} {queries:3} queries  CPU ms per render: " + " | ".join(runs))


if __name__ == "__main__":
    main()
