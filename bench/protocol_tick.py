"""Protocol evaluations per second of one beat tick at 10,000 open threads.

Usage: .venv/bin/python bench/protocol_tick.py [--threads 10000] [--repeat 3]
Builds a throwaway SQLite database under /tmp/peerdesk-bench-protocols/ (bulk_create), defines
five protocols of every trigger kind, then times ``protocols_tick`` at frozen moments:

  1. evaluate   - every thread is checked against every protocol, nothing fires (pure evaluation);
  2. fire       - two days later the time-based triggers fire for many threads (assignments,
                  audit entries and notifications are written);
  3. again      - the same moment once more: idempotent, nothing changes;
  4. escalate   - 45 minutes later the first escalation step is due for the assigned threads.

An evaluation is one (thread, protocol) check.
"""

import argparse
import datetime as dt
import random
import statistics
import time

from _setup import configure


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    workdir = configure("protocols")
    (workdir / "bench.sqlite3").unlink(missing_ok=True)

    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from community.models import ProductArea, Question, Tag, User
    from community.rules import CSRS_GROUP
    from moderation.models import Assignment, EscalationStep, Protocol
    from moderation.protocols.services import protocols_tick

    call_command("migrate", verbosity=0)
    rng = random.Random(7)
    now = dt.datetime(2030, 6, 1, 12, 0, tzinfo=dt.UTC)

    areas = ProductArea.objects.bulk_create(
        [ProductArea(slug=f"area-{i}", name=f"Area {i}") for i in range(6)]
    )
    tags = Tag.objects.bulk_create([Tag(slug=f"tag-{i}") for i in range(40)])
    askers = User.objects.bulk_create(
        [User(username=f"asker{i}", email=f"asker{i}@example.com") for i in range(200)]
    )
    csrs_group = Group.objects.create(name=CSRS_GROUP)
    desks = [Group.objects.create(name=f"Desk {i}") for i in range(3)]
    agents = User.objects.bulk_create(
        [User(username=f"agent{i}", email=f"agent{i}@example.com") for i in range(24)]
    )
    for i, agent in enumerate(agents):
        agent.groups.add(csrs_group, desks[i % 3])

    words = ["router", "wifi", "pairing", "firmware", "battery", "refund", "outage", "camera"]
    started = time.perf_counter()
    questions = Question.objects.bulk_create(
        [
            Question(
                area=rng.choice(areas),
                author=rng.choice(askers),
                title=f"Question {i}: {' '.join(rng.sample(words, 4))}",
                body=" ".join(rng.choices(words, k=40)),
                body_html="<p>…</p>",
                answer_count=rng.choice([0, 0, 1, 2]),
                created_at=now - dt.timedelta(minutes=rng.randrange(1, 24 * 60)),
                urgent_at=None,
            )
            for i in range(args.threads)
        ],
        batch_size=2000,
    )
    through = Question.tags.through
    through.objects.bulk_create(
        [
            through(question_id=q.pk, tag_id=t.pk)
            for q in questions
            for t in rng.sample(tags, rng.randint(1, 3))
        ],
        batch_size=5000,
    )
    print(f"setup: {args.threads} open threads in {time.perf_counter() - started:.1f} s")

    def protocol(name, trigger, param=0, **kwargs):
        p = Protocol.objects.create(
            name=name,
            trigger=trigger,
            trigger_param=param,
            created_at=now,
            assignee_rule=kwargs.pop("rule", "round_robin"),
            team=kwargs.pop("team", desks[0]),
            **kwargs,
        )
        EscalationStep.objects.create(
            protocol=p, level=1, assignee_rule="least_loaded", team=desks[2], timeout_minutes=30
        )
        EscalationStep.objects.create(
            protocol=p, level=2, assignee_rule="named", assignee=agents[0], timeout_minutes=120
        )
        return p

    protocol("Urgent", "customer_urgent", severity=2, priority=9)
    protocol("Needs staff", "flagged_needs_staff", priority=8)
    refunds = protocol("Refunds unanswered", "unanswered_after_hours", 36, keywords="refund")
    refunds.tags.set(tags[:10])
    protocol("Router area, new", "new_question", area=areas[0], rule="least_loaded", team=desks[1])
    protocol("Unresolved after 2 days", "no_accepted_or_validated_after_days", 2, area=areas[1])
    protocols = Protocol.objects.count()

    def timed(label: str, at: dt.datetime, repeat: int = 1):
        durations, result, queries = [], None, 0
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                t0 = time.perf_counter()
                result = protocols_tick(now=at)
                durations.append(time.perf_counter() - t0)
            queries = len(captured)
        seconds = statistics.median(durations)
        rate = result.evaluations / seconds if seconds else 0
        print(
            f"{label:<9} threads {result.threads:>6}  evaluations {result.evaluations:>6}  "
            f"assigned {result.assigned:>5}  escalated {result.escalated:>5}  "
            f"queries {queries:>4}  {seconds * 1000:8.1f} ms  → {rate:,.0f} evaluations/s"
        )
        return result

    print(f"protocols: {protocols}")
    timed("evaluate", now, repeat=args.repeat)
    assert not Assignment.objects.exists(), "nothing may fire at the first moment"
    later = now + dt.timedelta(days=2)
    timed("fire", later)
    timed("again", later, repeat=args.repeat)
    timed("escalate", later + dt.timedelta(minutes=45))


if __name__ == "__main__":
    main()
