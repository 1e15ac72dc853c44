"""The PostgreSQL search backend as deployed: configured in settings, written by a real worker,
read by the web process (two processes, one table, no index files)."""

import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from community import services as community_services
from knowledge import services
from knowledge.models import SearchEntry, SearchIndexOutbox
from knowledge.search import SearchDocument, SearchFilters, get_backend, reset_backend
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


@pytest.fixture
def table_locked_by_another_session():
    """Another session holds the search tables as a long migration would: every read of them
    waits for the lock (which statement_timeout counts) until the fixture lets go."""
    from django.db import connections

    other = connections.create_connection("default")
    other.set_autocommit(False)
    with other.cursor() as cursor:
        cursor.execute(
            "LOCK TABLE knowledge_searchentry, knowledge_searchterm IN ACCESS EXCLUSIVE MODE"
        )

    def release():
        if other.connection is not None:
            other.rollback()
            other.close()

    yield release
    release()


@pytest.mark.django_db(transaction=True)
def test_a_search_past_the_time_limit_is_a_503_and_the_same_search_works_once_the_database_frees(
    postgres_search, settings, client, table_locked_by_another_session, caplog
):
    from knowledge.search import SearchUnavailable

    settings.PEERDESK_SEARCH = {**settings.PEERDESK_SEARCH, "TIMEOUT_MS": 300}
    reset_backend()
    backend = get_backend()
    assert backend.timeout_ms == 300
    with connection.cursor() as cursor:
        # Without the time limit, reads would wait for the lock: fail after 5 s instead of hanging.
        cursor.execute("SET lock_timeout = '5s'")

    started = time.monotonic()
    api = client.get("/api/v1/search/", {"q": "router lights"})
    waited = time.monotonic() - started
    assert api.status_code == 503 and api["Retry-After"] == "1"
    assert "busy" in api.json()["detail"]
    assert 0.3 <= waited < 2.0, waited  # cancelled at the limit, not held until the lock goes
    page = client.get("/kb/search/", {"q": "router lights"})
    assert page.status_code == 503 and "Search is busy right now" in page.content.decode()
    assert client.get("/kb/similar/", {"q": "router lights stay amber"}).json() == []

    with transaction.atomic():  # a caller's transaction survives the cancelled read
        for read in (
            lambda: backend.search("router lights"),
            lambda: backend.similar("router lights stay amber"),
            lambda: backend.suggest("ruoter lihgts"),
        ):
            with pytest.raises(SearchUnavailable):
                read()
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "0"  # the limit was local to the read
            cursor.execute("SELECT 1")
    assert "search statement cancelled after 300 ms" in caplog.text  # operators see it

    table_locked_by_another_session()
    backend.upsert(
        [
            SearchDocument(
                id="article:1",
                type="article",
                title="Router lights stay amber",
                problem="Since the update the lights stay amber all day.",
                solution="Restart the router.",
                tags=(),
                area="routers",
                url="/kb/1/",
                updated_at=timezone.now(),
            )
        ]
    )
    found = client.get("/api/v1/search/", {"q": "router lights"})
    assert found.status_code == 200 and found.json()["count"] == 1

    with transaction.atomic(), connection.cursor() as cursor:
        assert backend.similar("router lights stay amber")  # a limited read that finishes
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"  # the caller's later statements keep their own
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"
