import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import kombu
import pytest
from django.conf import settings

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _require_real_engines():
    """Integration tests must run on the real engines; on the fast settings they fail loudly."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail("integration tests need --ds tests.settings_integration (PostgreSQL + Redis)")


RABBITMQ_URL = os.environ.get("INTEGRATION_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")


def _start_worker(broker_url: str):
    """A real `celery worker` subprocess on ``broker_url``, sharing the test database and index.
    A generator: yields the process once it is ready, stops it afterwards."""
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings_integration",
        "INTEGRATION_DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "INTEGRATION_BROKER_URL": broker_url,
        "SEARCH_INDEX_PATH": settings.PEERDESK_SEARCH["PATH"],
        "INTEGRATION_SEARCH_BACKEND": settings.PEERDESK_SEARCH["BACKEND"],
    }
    log = open(Path(settings.PEERDESK_SEARCH["PATH"]).parent / "peerdesk-it-worker.log", "w+")  # noqa: SIM115
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
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        log.seek(0)
        if "ready." in log.read():
            break
        if proc.poll() is not None:
            log.seek(0)
            pytest.fail(f"celery worker exited early:\n{log.read()[-3000:]}")
        time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("celery worker did not become ready in 30 s")
    print(
        f"\n[integration] real celery worker pid {proc.pid} on {broker_url}, "
        f"search {settings.PEERDESK_SEARCH['BACKEND'].rsplit('.', 1)[-1]}"
    )
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture
def celery_worker_process(transactional_db):
    """A real `celery worker` subprocess on the Redis broker, sharing the test database and index."""
    yield from _start_worker(settings.CELERY_BROKER_URL)


@pytest.fixture
def rabbitmq_worker_process(transactional_db):
    """A real `celery worker` on RabbitMQ, with this process publishing there too (README: the
    broker may be Redis or RabbitMQ). RabbitMQ keeps messages between runs: the queues start
    empty, so no task of an earlier run reaches this worker."""
    from config.celery import app
    from tests.integration.brokers import producer_broker

    try:
        with kombu.Connection(RABBITMQ_URL, connect_timeout=5) as connection:
            connection.ensure_connection(max_retries=1)
            for name in ("celery", "search"):
                channel = connection.channel()
                try:
                    kombu.Queue(name, channel=channel).purge()
                except connection.channel_errors:  # not declared yet: nothing to purge
                    pass
                finally:
                    with contextlib.suppress(Exception):
                        channel.close()
    except OSError as exc:
        pytest.fail(f"RabbitMQ is not reachable at {RABBITMQ_URL} ({exc}); `make services`")
    with producer_broker(RABBITMQ_URL):
        assert app.conf["broker_write_url"] == RABBITMQ_URL
        yield from _start_worker(RABBITMQ_URL)
