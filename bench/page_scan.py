"""Every main page and API list, as each kind of viewer, on a generated bench database.

Usage: .venv/bin/python bench/page_scan.py --name 100k [--slow-ms 2]

Renders each page in-process (Django's test client, DEBUG off, the page cache off: every request
is a render, and totals the cache keeps until the next write, such as list counts, are computed
each time, as right after a write) as an anonymous visitor, a member, a support agent (CSR) and
a moderator, then prints its time, its number of queries and any query slower than
``--slow-ms`` with SQLite's (or PostgreSQL's) plan. A query's time includes fetching its rows:
SQLite steps through rows as they are fetched, so the time Django records for ``execute`` alone
misses a slow scan. The agent and moderator are bench users this script adds to the bench
database when missing. The second of two requests is measured (the first fills caches).
"""

import argparse
import json
import time

from _setup import configure


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", default="10k", help="bench directory made by generate.py")
    parser.add_argument("--slow-ms", type=float, default=2.0)
    args = parser.parse_args()
    workdir = configure(args.name)

    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from community import rules
    from community.models import ProductArea, Question, Tag, User
    from knowledge.models import Article

    settings.PEERDESK_PAGE_CACHE = {**settings.PEERDESK_PAGE_CACHE, "SECONDS": 0}
    meta = json.loads((workdir / "meta.json").read_text())
    thread = meta["thread_30"]
    area = ProductArea.objects.order_by("position").first()
    tag = Tag.objects.order_by("pk").first()
    article = Article.objects.filter(status="published").order_by("-pk").first()
    author = Question.objects.get(pk=thread).author
    public = [
        "/",
        f"/questions/{thread}/",
        f"/areas/{area.slug}/",
        f"/tags/{tag.slug}/",
        "/unanswered/",
        "/kb/",
        article.get_absolute_url(),
        "/kb/search/?q=router+reset",
        "/experts/",
        "/leaderboard/",
        f"/users/{author.username}/",
        "/api/v1/questions/",
        f"/api/v1/questions/{thread}/",
        "/api/v1/articles/",
        "/api/v1/experts/",
        "/api/v1/search/?q=router+reset",
    ]
    member_pages = [*public, "/notifications/", "/ask/"]
    agent_pages = [*member_pages, "/kb/agent/?q=router", "/api/v1/agent/search/?q=router"]
    staff_pages = [
        *agent_pages,
        "/staff/",
        "/staff/queue/",
        "/staff/audit/",
        "/staff/my-queue/",
        "/staff/protocols/",
        "/staff/experts/program/",
        "/kb/review/",
        "/kb/search/gaps/",
    ]

    def staff_user(role: str, group: str) -> User:
        user, _ = User.objects.get_or_create(
            username=f"bench-{role}", defaults={"email": f"bench-{role}@example.com"}
        )
        user.groups.add(Group.objects.get_or_create(name=group)[0])
        return user

    viewers = [
        ("anonymous", None, public),
        ("member", User.objects.get(username=meta.get("member", "bench6")), member_pages),
        ("agent", staff_user("agent", rules.CSRS_GROUP), agent_pages),
        ("moderator", staff_user("moderator", rules.MODERATORS_GROUP), staff_pages),
    ]
    print(f"{'viewer':10s} {'page':45s} {'status':>6s} {'ms':>8s} {'queries':>7s}")
    slow_total = 0
    for role, user, pages in viewers:
        client = Client()
        if user is not None:
            client.force_login(user)
        for page in pages:
            client.get(page)
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                response = client.get(page)
                elapsed = (time.perf_counter() - started) * 1000
            print(
                f"{role:10s} {page[:45]:45s} {response.status_code:6d} {elapsed:8.1f} "
                f"{len(ctx.captured_queries):7d}"
            )
            for query in ctx.captured_queries:
                if not query["sql"].lstrip().upper().startswith(("SELECT", "WITH")):
                    continue  # writes (the search log) and transaction control: not re-run
                with connection.cursor() as cursor:
                    started = time.perf_counter()
                    cursor.execute(query["sql"])
                    cursor.fetchall()
                    query_ms = (time.perf_counter() - started) * 1000
                    if query_ms < args.slow_ms:
                        continue
                    slow_total += 1
                    print(f"    slow query, {query_ms:.1f} ms: {query['sql'][:160]} …")
                    explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
                    cursor.execute(explain + query["sql"])
                    for row in cursor.fetchall():
                        print(f"        {row[-1]}")
    print(f"queries slower than {args.slow_ms} ms: {slow_total}")


if __name__ == "__main__":
    main()
