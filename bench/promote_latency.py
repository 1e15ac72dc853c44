"""Validated → searchable latency through a real broker and a real Celery worker.

Usage:
    .venv/bin/python bench/promote_latency.py [--runs 50] [--broker redis://127.0.0.1:6379/14]

Starts ``celery -A config worker`` as a subprocess on the Redis broker (loopback), sharing a
throwaway SQLite database (or DATABASE_URL) and an on-disk Whoosh index with this process. Each
run posts a question and an answer through the services, validates the answer (which commits and
sends the index task on commit), then polls the search backend until the article is found. Prints
p50/p95/max and the worker's RSS at the end. Every wait is bounded.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import time

from _setup import REPO, configure, percentiles

POLL_SECONDS = 0.01
TIMEOUT_SECONDS = 30


def start_worker(workdir, env: dict) -> subprocess.Popen:
    log = (workdir / "worker.log").open("w+")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--queues",
            "celery,search",
            "--loglevel",
            "INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        log.seek(0)
        if "ready." in log.read():
            return proc
        if proc.poll() is not None:
            log.seek(0)
            raise SystemExit(f"celery worker exited early:\n{log.read()[-3000:]}")
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("celery worker did not become ready in 60 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()
    os.environ["CELERY_BROKER_URL"] = args.broker
    workdir = configure("promote")
    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(f"{db['NAME']}{suffix}"):
                os.unlink(f"{db['NAME']}{suffix}")
    shutil.rmtree(settings.PEERDESK_SEARCH["PATH"], ignore_errors=True)
    call_command("migrate", verbosity=0)
    if not db["ENGINE"].endswith("sqlite3"):
        call_command("flush", interactive=False, verbosity=0)

    import redis

    redis.Redis.from_url(args.broker).flushdb()  # a queue left over from an aborted run

    from community import services as community_services
    from community.models import Certification, ProductArea, User
    from knowledge import services
    from knowledge.search import SearchFilters, get_backend

    area = ProductArea.objects.create(slug="mesh", name="Mesh Wi-Fi")
    far = timezone.now() + dt.timedelta(days=365)

    def certified(name: str) -> User:
        # Certified experts post without pre-moderation and may validate.
        user = User.objects.create(username=name, email=f"{name}@bench.example")
        Certification.objects.create(user=user, area=area, expires_at=far)
        return user

    validator = certified("validator")
    get_backend().rebuild([])  # an empty on-disk index the worker and this process share

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    worker = start_worker(workdir, env)
    print(f"worker pid {worker.pid} on {args.broker}; index {settings.PEERDESK_SEARCH['PATH']}")
    samples: list[float] = []
    try:
        backend = get_backend()
        for i in range(args.runs):
            probe = f"promoteprobe{i:03d}x"
            with transaction.atomic():
                question = community_services.question_create(
                    author=certified(f"asker{i}"),
                    area=area,
                    title=f"Satellite light blinks purple {probe}",
                    body="After the update the satellite light blinks purple and never settles.",
                )
                answer = community_services.answer_create(
                    question=question,
                    author=certified(f"helper{i}"),
                    body=f"Purple means it lost the backhaul: re-pair it from the app ({probe}).",
                )
            started = time.perf_counter()
            services.answer_validate(answer=answer, validator=validator)  # commits, sends task
            while True:
                if backend.search(probe, filters=SearchFilters(type="article")).total:
                    samples.append((time.perf_counter() - started) * 1000)
                    break
                if time.perf_counter() - started > TIMEOUT_SECONDS:
                    raise SystemExit(f"run {i}: not searchable after {TIMEOUT_SECONDS} s")
                time.sleep(POLL_SECONDS)
        rss = subprocess.run(
            ["ps", "-o", "rss=", "-p", str(worker.pid)], capture_output=True, text=True, check=False
        ).stdout.strip()
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
    stats = percentiles(samples)
    print(
        f"validated → searchable through the worker, {len(samples)} runs: "
        + "  ".join(f"{k} {v:.0f} ms" for k, v in stats.items())
    )
    if rss:
        print(f"worker RSS after {len(samples)} index tasks: {int(rss) / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
