"""The PostgreSQL search backend as deployed: configured in settings, written by a real worker,
read by the web process (two processes, one table, no index files)."""

import time

import pytest
from django.db import connection, transaction

from community import services as community_services
from knowledge import services
from knowledge.models import SearchEntry, SearchIndexOutbox
from knowledge.search import SearchFilters, get_backend, reset_backend
from knowledge.search.postgres_backend import PostgresBackend
from tests.factories import ProductAreaFactory, UserFactory, expert

pytestmark = pytest.mark.integration


@pytest.fixture
def postgres_search(settings):
    settings.PEERDESK_SEARCH = {
        **settings.PEERDESK_SEARCH,
        "BACKEND": "knowledge.search.postgres_backend.PostgresBackend",
    }
    reset_backend()
    yield
    reset_backend()


def test_a_promoted_article_is_indexed_into_postgresql_by_a_real_worker(
    postgres_search, celery_worker_process
):
    assert isinstance(get_backend(), PostgresBackend)
    area = ProductAreaFactory(slug="doorbells")
    asker, helper = UserFactory(), UserFactory()
    with transaction.atomic():
        question = community_services.question_create(
            author=asker,
            area=area,
            title="Doorbell chime stays silent at night",
            body="The chime rings by day but stays silent after 22:00.",
        )
        answer = community_services.answer_create(
            question=question,
            author=helper,
            body="Quiet hours are on: switch them off under Schedules in the app.",
        )

    started = time.monotonic()
    services.answer_validate(answer=answer, validator=expert(area))
    while time.monotonic() - started < 15:
        results = get_backend().search("quiet hours", filters=SearchFilters(type="article"))
        if results.total:
            break
        time.sleep(0.05)
    latency = time.monotonic() - started
    print(f"\n[integration] validated → searchable in PostgreSQL FTS in {latency * 1000:.0f} ms")

    assert results.total == 1
    assert "<mark>" in results.hits[0].snippet
    assert SearchEntry.objects.filter(doc_id=results.hits[0].id).exists()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT vector::text FROM knowledge_searchentry WHERE doc_id = %s",
            [results.hits[0].id],
        )
        vector = cursor.fetchone()[0]
    assert "'doorbel':1A" in vector  # title words carry weight A
    assert "'quiet':" in vector
    deadline = time.monotonic() + 10
    while SearchIndexOutbox.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not SearchIndexOutbox.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_search_log_row_commits_without_waiting_for_disk_only_in_its_own_transaction():
    from django.contrib.auth.models import AnonymousUser
    from django.test.utils import CaptureQueriesContext

    from knowledge.models import SearchQueryLog
    from knowledge.services import search_log

    viewer = AnonymousUser()

    def statements(**kwargs):
        with CaptureQueriesContext(connection) as captured:
            search_log.search_log_record(viewer=viewer, source="api", hit_count=1, **kwargs)
        return [q["sql"] for q in captured.captured_queries]

    own = statements(query="router reset")
    assert any("synchronous_commit" in sql for sql in own)

    with transaction.atomic():  # a caller's transaction (a post, say) keeps durable commits
        nested = statements(query="router firmware")
    assert not any("synchronous_commit" in sql for sql in nested)
    assert SearchQueryLog.objects.count() == 2
