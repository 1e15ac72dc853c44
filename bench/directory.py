"""Server time of the expert directory (page, live fragment and API) at 500 experts.

Usage: .venv/bin/python bench/directory.py [--experts 500] [--requests 50]
Builds a throwaway SQLite database under /tmp (see _setup.py) with the experts, their profiles,
skills, 30 days of answered directed questions, open queues and ratings, then times requests
through Django's test client (no network) and prints latency percentiles and query counts.
"""

import argparse
import datetime as dt
import random
import time

from _setup import configure, percentiles


def build(n: int) -> None:
    from django.utils import timezone

    from community.models import (
        Certification,
        DirectedQuestion,
        ExpertProfile,
        ExpertRating,
        ProductArea,
        Question,
        Tag,
        User,
    )

    rng = random.Random(5)
    now = timezone.now()
    areas = [
        ProductArea.objects.create(slug=s, name=s.title(), position=i)
        for i, s in enumerate(["guitars", "amps", "pedals", "basses"])
    ]
    tags = Tag.objects.bulk_create([Tag(slug=s) for s in ["vintage", "wiring", "setup", "tubes"]])
    granter = User.objects.create(username="granter", email="g@example.com")
    asker = User.objects.create(username="asker", email="a@example.com")
    users = User.objects.bulk_create(
        [User(username=f"expert{i}", email=f"e{i}@example.com", bio="Luthier.") for i in range(n)]
    )
    Certification.objects.bulk_create(
        [
            Certification(
                user=u,
                area=rng.choice(areas),
                granted_by=granter,
                expires_at=now + dt.timedelta(days=300),
            )
            for u in users
        ]
    )
    profiles = ExpertProfile.objects.bulk_create(
        [
            ExpertProfile(
                user=u,
                languages=rng.choice([",en,", ",en,fr,", ",de,en,"]),
                availability=rng.choice(["available", "available", "away", "off"]),
            )
            for u in users
        ]
    )
    ExpertProfile.skills.through.objects.bulk_create(
        [
            ExpertProfile.skills.through(expertprofile=p, tag=t)
            for p in profiles
            for t in rng.sample(tags, 2)
        ]
    )
    questions = Question.objects.bulk_create(
        [
            Question(area=areas[0], author=asker, title=f"Question {i}", body="b", body_html="b")
            for i in range(n * 4)
        ]
    )
    directed, ratings = [], []
    for i, u in enumerate(users):
        for j in range(rng.randint(0, 12)):  # answered in the last 30 days
            created = now - dt.timedelta(days=rng.uniform(0, 29))
            seconds = rng.randint(60, 8 * 3600)
            directed.append(
                DirectedQuestion(
                    question=questions[(i * 4 + j) % len(questions)],
                    expert=u,
                    status="answered",
                    created_at=created,
                    promised_by=created + dt.timedelta(hours=24),
                    answered_at=created + dt.timedelta(seconds=seconds),
                    response_seconds=seconds,
                )
            )
    DirectedQuestion.objects.bulk_create(directed, batch_size=1000)
    for d in DirectedQuestion.objects.all()[: n * 3]:
        ratings.append(
            ExpertRating(
                question_id=d.question_id,
                directed=d,
                rater=asker,
                expert_id=d.expert_id,
                score=rng.randint(2, 5),
            )
        )
    # One rating per question: keep the first per question.
    seen, unique = set(), []
    for r in ratings:
        if r.question_id not in seen:
            seen.add(r.question_id)
            unique.append(r)
    ExpertRating.objects.bulk_create(unique, batch_size=1000)
    opened = [
        DirectedQuestion(
            question=questions[-(k + 1)],
            expert=rng.choice(users),
            created_at=now,
            promised_by=now + dt.timedelta(hours=24),
        )
        for k in range(n)
    ]
    DirectedQuestion.objects.bulk_create(opened, batch_size=1000)
    print(
        f"experts: {n}, answered directed: {len(directed)}, ratings: {len(unique)}, "
        f"open: {len(opened)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--experts", type=int, default=500)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    workdir = configure("directory")
    db = workdir / "bench.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    # No collectstatic in a throwaway run: plain static URLs instead of the manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", verbosity=0)
    build(args.experts)
    client = Client()
    cases = {
        "page /experts/ (rating)": "/experts/",
        "fragment skill+rating": "/experts/?fragment=1&q_skill=vintage&min_rating=3",
        "fragment sort=wait": "/experts/?fragment=1&sort=wait&available=on",
        "API sort=response": "/api/v1/experts/?sort=response&language=en",
    }
    for label, url in cases.items():
        client.get(url)  # warm up
        samples = []
        for _ in range(args.requests):
            t0 = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.content[:300]
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        stats = percentiles(samples)
        print(
            f"{label:28s} queries {len(queries):2d}  "
            + "  ".join(f"{k} {v:.1f} ms" for k, v in stats.items())
        )


if __name__ == "__main__":
    main()
