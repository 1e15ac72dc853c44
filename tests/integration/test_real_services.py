"""The production path, for real: PostgreSQL, Redis as broker and a `celery worker` subprocess."""

import time

import pytest
from django.conf import settings
from django.db import connection, transaction

from community import services as community_services
from knowledge import services
from knowledge.models import Article, SearchIndexOutbox
from knowledge.search import SearchFilters, get_backend
from tests.factories import ProductAreaFactory, UserFactory, expert

pytestmark = pytest.mark.integration


def _wait_for_hits(query: str, *, timeout: float = 15.0) -> float:
    started = time.monotonic()
    backend = get_backend()
    while time.monotonic() - started < timeout:
        if backend.search(query, filters=SearchFilters(type="article")).total:
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"{query!r} not searchable after {timeout} s")


def test_the_integration_run_really_uses_postgresql_and_redis(db):
    import redis

    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("select version()")
        print(f"\n[integration] {cursor.fetchone()[0][:40]}")
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    assert client.ping()


@pytest.mark.parametrize("worker", ["celery_worker_process", "rabbitmq_worker_process"])
def test_a_promoted_article_is_indexed_by_a_real_worker(transactional_db, request, worker):
    request.getfixturevalue(worker)  # on Redis, then on RabbitMQ (README: either broker)
    area = ProductAreaFactory(slug="mesh")
    asker, helper = UserFactory(), UserFactory()
    with transaction.atomic():
        question = community_services.question_create(
            author=asker,
            area=area,
            title="Satellite light blinks purple after the update",
            body="After updating, the satellite light blinks purple and never turns solid white.",
        )
        answer = community_services.answer_create(
            question=question,
            author=helper,
            body="Purple means it lost the backhaul: re-pair it from the app.",
        )
    validated_at = time.monotonic()
    services.answer_validate(
        answer=answer, validator=expert(area)
    )  # commits; on_commit sends the task
    latency = _wait_for_hits("purple backhaul")
    print(
        f"\n[integration] validated → searchable through the worker ({worker}) "
        f"in {latency * 1000:.0f} ms"
    )
    assert Article.objects.get().status == Article.Status.PUBLISHED
    deadline = time.monotonic() + 10
    while SearchIndexOutbox.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not SearchIndexOutbox.objects.exists(), "the worker should clear the outbox"
    assert time.monotonic() - validated_at < 15


def test_services_hold_their_constraints_on_postgresql(transactional_db):
    area = ProductAreaFactory()
    asker, voter = UserFactory(), UserFactory(reputation=50)  # voting down is a privilege
    question = community_services.question_create(
        author=asker,
        area=area,
        title="Does the camera record in the dark?",
        body="Night vision question here.",
    )
    community_services.vote_cast(user=voter, post=question, value=1)
    community_services.vote_cast(user=voter, post=question, value=-1)
    question.refresh_from_db()
    assert question.score == -1
    from knowledge.indexing import schedule_index

    with transaction.atomic():
        schedule_index(["question:1", "question:2"])
        schedule_index(["question:1"])  # upsert on conflict, PostgreSQL flavour
    assert SearchIndexOutbox.objects.filter(doc_id__in=["question:1", "question:2"]).count() == 2


@pytest.mark.parametrize("health_checks", [True, False], ids=["health-checks", "no-checks"])
def test_a_kept_connection_the_database_dropped_is_replaced_at_the_next_request_with_checks(
    transactional_db, health_checks
):
    """Production keeps connections between requests (CONN_MAX_AGE) with CONN_HEALTH_CHECKS on
    (tests/test_production_settings.py). Here the server drops a kept connection, as a restart,
    a failover or an idle timeout does, and the next request runs a query on it."""
    from django.db import DatabaseError, connections

    kept = connections.create_connection("default")
    kept.settings_dict = {
        **kept.settings_dict,
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": health_checks,
    }
    try:
        with kept.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        kept.close_if_unusable_or_obsolete()  # the request ends: the connection is kept
        assert kept.connection is not None

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
                if cursor.fetchone() is None:
                    break
                time.sleep(0.02)

        kept.close_if_unusable_or_obsolete()  # the next request starts (request_started)
        if health_checks:
            with kept.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                assert cursor.fetchone()[0] != pid  # a new connection, not an error
        else:
            with pytest.raises(DatabaseError), kept.cursor() as cursor:
                cursor.execute("SELECT 1")  # the 500 each worker would serve once
    finally:
        kept.close()


def test_a_thread_page_probes_its_knowledge_panels_on_postgresql(db, client):
    """The probe is plain SQL (knowledge.selectors.thread_knowledge_presence): run it, and the
    page around it, on the production engine too."""
    from knowledge.selectors import thread_knowledge_presence
    from tests.factories import AnswerFactory, ArticleFactory, QuestionFactory

    question = QuestionFactory(area=ProductAreaFactory(slug="doors"))
    answers = [AnswerFactory(question=question) for _ in range(3)]

    def probe():
        return thread_knowledge_presence(
            answer_ids=[a.pk for a in answers],
            question_ids=[question.pk],
            covered_question_id=question.pk,
        )

    assert (probe().validations, probe().corrections, probe().articles) == (False, False, False)
    client.force_login(UserFactory())
    assert client.get(question.get_absolute_url()).status_code == 200

    ArticleFactory(source_answer=answers[0])
    assert probe().articles and not probe().validations
    response = client.get(question.get_absolute_url())
    assert response.status_code == 200
    assert "In the knowledge base as" in response.content.decode()
