"""Generate N support threads from real vocabulary into a throwaway database, then index them.

Usage:
    .venv/bin/python bench/generate.py --threads 10000            # /tmp/peerdesk-bench-10k/
    .venv/bin/python bench/generate.py --threads 100000 --name 100k
    .venv/bin/python bench/generate.py --threads 2000 --answers 5 --name peer --export peer.json

Writes with bulk_create (questions, answers, a first revision of each, tags, comments, a few
promoted KB articles with their validations) plus one thread with 30 answers for the question-page
test, then times ``rebuild_index``. The database is SQLite under /tmp unless DATABASE_URL points
elsewhere (PostgreSQL is flushed, never dropped). ``meta.json`` in the bench directory records the
30-answer thread and the search queries for load.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import time
from pathlib import Path

from _setup import DATA, configure

AREAS = [
    ("routers", "Routers"),
    ("mesh", "Mesh Wi-Fi"),
    ("cameras", "Cameras"),
    ("smart-home", "Smart home"),
    ("mobile-app", "Mobile app"),
    ("account", "Account and billing"),
]
BIG_THREAD_ANSWERS = 30
BATCH = 2000


def _timer(label: str, started: float) -> float:
    now = time.perf_counter()
    print(f"  {label}: {now - started:.1f} s", flush=True)
    return now


def _reset_database(workdir: Path) -> None:
    from django.conf import settings
    from django.core.management import call_command

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db['NAME']}{suffix}").unlink(missing_ok=True)
        call_command("migrate", verbosity=0)
    else:
        call_command("migrate", verbosity=0)
        call_command("flush", interactive=False, verbosity=0)
    shutil.rmtree(settings.PEERDESK_SEARCH["PATH"], ignore_errors=True)
    shutil.rmtree(workdir / "cache", ignore_errors=True)


def _make_users(vocab, count: int, rng: random.Random) -> list:
    from community.models import User

    users = []
    for i in range(count):
        name = rng.choice(vocab.names)[:60]
        users.append(
            User(
                username=f"bench{i}",
                email=f"bench{i}@bench.example",
                display_name=name,
                password="!bench-unusable",  # noqa: S106 (an unusable hash: nobody logs in)
            )
        )
    return User.objects.bulk_create(users, batch_size=BATCH)


def _update_rows(model, column: str, rows: list[tuple]) -> None:
    """``UPDATE <table> SET <column> = value WHERE id = pk`` for each (value, pk), in one
    executemany: Django's bulk_update builds CASE expressions that cost more than the inserts."""
    from django.db import connection

    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    field = model._meta.get_field(column.removesuffix("_id"))
    values = [(field.get_db_prep_save(value, connection), pk) for value, pk in rows]
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET {connection.ops.quote_name(column)} = %s WHERE id = %s",  # noqa: S608
            values,
        )


def generate(
    *, threads: int, answers: int | None, users: int, seed: int, vocab, export: Path | None
) -> dict:
    from django.db import transaction
    from django.utils import timezone

    from community.models import (
        Answer,
        AnswerRevision,
        Certification,
        Comment,
        ProductArea,
        Question,
        QuestionRevision,
        Tag,
    )
    from knowledge.models import Article, ArticleRevision, Validation

    rng = random.Random(seed)
    now = timezone.now()
    start = now - dt.timedelta(days=730)
    step = dt.timedelta(days=730) / max(threads, 1)

    with transaction.atomic():
        areas = ProductArea.objects.bulk_create(
            [ProductArea(slug=s, name=n, position=i) for i, (s, n) in enumerate(AREAS)]
        )
        tags = Tag.objects.bulk_create([Tag(slug=t[:64]) for t in vocab.tags])
        people = _make_users(vocab, users, rng)
        experts = people[: len(areas)]
        Certification.objects.bulk_create(
            [
                Certification(user=user, area=area, expires_at=now + dt.timedelta(days=3650))
                for user, area in zip(experts, areas, strict=True)
            ]
        )
    expert_for = {area.pk: user for user, area in zip(experts, areas, strict=True)}

    exported: list[dict] = []
    big_thread_id = 0
    total_answers = 0
    created_q = 0
    t0 = time.perf_counter()
    chunk = 5000
    for chunk_start in range(0, threads, chunk):
        # The last thread of the run is the 30-answer one used by the question-page test.
        size = min(chunk, threads - chunk_start)
        with transaction.atomic():
            # Answers are drafted first so that counts and activity dates go in with the insert
            # (bulk_update of 100k rows costs more than generating them).
            questions, drafts = [], []
            for i in range(chunk_start, chunk_start + size):
                created = start + step * i
                n = answers if answers is not None else min(8, int(rng.expovariate(1 / 3)))
                if i == threads - 1:  # the last thread of the run is the 30-answer one
                    n = BIG_THREAD_ANSWERS
                draft = []
                for k in range(n):
                    md, html = vocab.body(rng, vocab.answer_blocks, 1, 3)
                    at = created + dt.timedelta(hours=k + 1 + rng.random() * 48)
                    draft.append((md, html, at))
                drafts.append(draft)
                body_md, body_html = vocab.body(rng, vocab.question_blocks, 1, 3)
                questions.append(
                    Question(
                        area=rng.choice(areas),
                        author=rng.choice(people),
                        title=vocab.title(rng),
                        body=body_md,
                        body_html=body_html,
                        score=max(-3, int(rng.gauss(2, 4))),
                        answer_count=n,
                        created_at=created,
                        updated_at=created,
                        last_activity_at=max([created, *(at for _, _, at in draft)]),
                    )
                )
            questions = Question.objects.bulk_create(questions, batch_size=BATCH)
            if chunk_start + size == threads:
                big_thread_id = questions[-1].pk

            answer_rows: list[Answer] = [
                Answer(
                    question=q,
                    author=rng.choice(people),
                    body=md,
                    body_html=html,
                    score=max(-2, int(rng.gauss(1, 3))),
                    created_at=at,
                    updated_at=at,
                )
                for q, draft in zip(questions, drafts, strict=True)
                for md, html, at in draft
            ]
            answer_rows = Answer.objects.bulk_create(answer_rows, batch_size=BATCH)
            total_answers += len(answer_rows)
            by_question: dict[int, list[Answer]] = {}
            for a in answer_rows:
                by_question.setdefault(a.question_id, []).append(a)

            QuestionRevision.objects.bulk_create(
                [
                    QuestionRevision(
                        question=q,
                        number=1,
                        title=q.title,
                        body=q.body,
                        author_id=q.author_id,
                        created_at=q.created_at,
                    )
                    for q in questions
                ],
                batch_size=BATCH,
            )
            revisions = AnswerRevision.objects.bulk_create(
                [
                    AnswerRevision(
                        answer=a,
                        number=1,
                        body=a.body,
                        author_id=a.author_id,
                        created_at=a.created_at,
                    )
                    for a in answer_rows
                ],
                batch_size=BATCH,
            )
            revision_of = {r.answer_id: r for r in revisions}

            through = Question.tags.through
            tag_rows = []
            for q in questions:
                for tag in rng.sample(tags, rng.randint(1, 4)):
                    tag_rows.append(through(question_id=q.pk, tag_id=tag.pk))
            through.objects.bulk_create(tag_rows, batch_size=BATCH, ignore_conflicts=True)

            comments = []
            promoted: list[tuple[Question, Answer]] = []
            accepted: list[tuple[int, int]] = []
            for q in questions:
                thread = by_question.get(q.pk, [])
                if thread and (rng.random() < 0.45 or q.pk == big_thread_id):
                    q.accepted_answer = rng.choice(thread)
                    accepted.append((q.accepted_answer.pk, q.pk))
                    if rng.random() < 0.05 or q.pk == big_thread_id:
                        promoted.append((q, q.accepted_answer))
                posts = [q, *thread] if q.pk == big_thread_id else [q]
                for post in posts:
                    if q.pk == big_thread_id or rng.random() < 0.1:
                        md, html = rng.choice(vocab.comment_blocks)
                        target = {"question": post} if post is q else {"answer": post}
                        comments.append(
                            Comment(author=rng.choice(people), body=md, body_html=html, **target)
                        )
            _update_rows(Question, "accepted_answer_id", accepted)
            Comment.objects.bulk_create(comments, batch_size=BATCH)

            validations, articles = [], []
            for q, a in promoted:
                validator = expert_for[q.area_id]
                a.validated_at = a.created_at + dt.timedelta(days=1)
                validations.append(
                    Validation(
                        answer=a,
                        revision=revision_of[a.pk],
                        validator=validator,
                        created_at=a.validated_at,
                    )
                )
                articles.append(
                    Article(
                        title=q.title,
                        problem=q.body,
                        problem_html=q.body_html,
                        solution=a.body,
                        solution_html=a.body_html,
                        area_id=q.area_id,
                        status=Article.Status.PUBLISHED,
                        source_question=q,
                        source_answer=a,
                        approved_revision=revision_of[a.pk],
                        created_at=a.validated_at,
                        updated_at=a.validated_at,
                        published_at=a.validated_at,
                    )
                )
            _update_rows(Answer, "validated_at", [(a.validated_at, a.pk) for _, a in promoted])
            Validation.objects.bulk_create(validations, batch_size=BATCH)
            articles = Article.objects.bulk_create(articles, batch_size=BATCH)
            ArticleRevision.objects.bulk_create(
                [
                    ArticleRevision(
                        article=art,
                        number=1,
                        title=art.title,
                        problem=art.problem,
                        solution=art.solution,
                        answer_revision=art.approved_revision,
                        author=expert_for[art.area_id],
                        created_at=art.created_at,
                    )
                    for art in articles
                ],
                batch_size=BATCH,
            )
            Article.tags.through.objects.bulk_create(
                [
                    Article.tags.through(article_id=art.pk, tag_id=row.tag_id)
                    for art in articles
                    for row in tag_rows
                    if row.question_id == art.source_question_id
                ],
                ignore_conflicts=True,
            )

            if export is not None:
                tag_slugs: dict[int, list[str]] = {}
                slug_of = {t.pk: t.slug for t in tags}
                for row in tag_rows:
                    tag_slugs.setdefault(row.question_id, []).append(slug_of[row.tag_id])
                username_of = {u.pk: u.username for u in people}
                for q in questions:
                    thread = by_question.get(q.pk, [])
                    exported.append(
                        {
                            "id": q.pk,
                            "title": q.title,
                            "body": q.body,
                            "tags": tag_slugs.get(q.pk, []),
                            "author": username_of[q.author_id],
                            "created_at": q.created_at.isoformat(),
                            "answers": [
                                {
                                    "body": a.body,
                                    "author": username_of[a.author_id],
                                    "created_at": a.created_at.isoformat(),
                                    "accepted": a.pk == q.accepted_answer_id,
                                }
                                for a in thread
                            ],
                        }
                    )
        created_q += size
        rate = created_q / (time.perf_counter() - t0)
        print(f"  {created_q}/{threads} threads ({rate:,.0f} threads/s)", flush=True)

    if export is not None:
        export.write_text(json.dumps({"threads": exported}))
        print(f"  exported {len(exported)} threads to {export}")
    return {"thread_30": big_thread_id, "threads": threads, "answers": total_answers}


def rebuild_index(workdir: Path) -> None:
    """``manage.py rebuild_index`` in its own process (progress bar on stderr), then that
    process's peak RSS: what a worker or cron job that rebuilds needs."""
    import os
    import resource
    import subprocess
    import sys

    from _setup import REPO

    subprocess.run(
        [sys.executable, "manage.py", "rebuild_index"],
        cwd=REPO,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
        check=True,
    )
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"  rebuild_index process peak RSS: {peak_kib / 1024:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=10_000)
    parser.add_argument(
        "--answers", type=int, default=None, help="answers per thread (default: 0-8, mean ~3)"
    )
    parser.add_argument("--users", type=int, default=None, help="authors (default threads/5)")
    parser.add_argument("--name", default=None, help="bench directory suffix (default: 10k, ...)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--export", type=Path, default=None, help="also write threads as JSON")
    parser.add_argument("--no-index", action="store_true", help="skip rebuild_index")
    args = parser.parse_args()
    name = args.name or (
        f"{args.threads // 1000}k" if args.threads % 1000 == 0 else str(args.threads)
    )
    workdir = configure(name)
    import vocab as vocab_module
    from django.conf import settings

    wall = time.perf_counter()
    print(f"bench directory: {workdir}  database: {settings.DATABASES['default']['ENGINE']}")
    started = time.perf_counter()
    _reset_database(workdir)
    started = _timer("migrate", started)
    vocab = vocab_module.load(DATA)
    print(
        f"  vocabulary: {len(vocab.titles)} titles, {len(vocab.question_blocks)} question blocks, "
        f"{len(vocab.answer_blocks)} answer blocks, {len(vocab.tags)} tags, "
        f"{len(vocab.queries)} queries"
    )
    started = _timer("load vocabulary", started)
    export = (
        args.export if args.export is None or args.export.is_absolute() else workdir / args.export
    )
    meta = generate(
        threads=args.threads,
        answers=args.answers,
        users=args.users or max(50, args.threads // 5),
        seed=args.seed,
        vocab=vocab,
        export=export,
    )
    started = _timer(f"generate {meta['threads']} threads, {meta['answers']} answers", started)
    meta["queries"] = vocab.queries
    meta["database_url"] = settings.DATABASE_URL
    meta["index_path"] = settings.PEERDESK_SEARCH["PATH"]
    (workdir / "meta.json").write_text(json.dumps(meta, indent=1))
    if not args.no_index:
        rebuild_index(workdir)
        started = _timer("rebuild_index", started)
    print(f"30-answer thread: /questions/{meta['thread_30']}/")
    print(f"total wall time: {time.perf_counter() - wall:.1f} s")


if __name__ == "__main__":
    main()
