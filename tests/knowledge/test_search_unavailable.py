"""A search the backend gives up on (search.base.SearchUnavailable, raised when PostgreSQL's time
limit cancels a read) is a clear "try again", never a 500: 503 on the search page and the API,
no suggestions on the ask page. tests/integration/test_postgres_search.py makes a real
PostgreSQL backend raise it."""

import pytest
from django.urls import reverse

from knowledge.models import SearchQueryLog
from knowledge.search import SearchUnavailable
from tests.factories import csr

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_backend(search_backend, monkeypatch):
    def give_up(*args, **kwargs):
        raise SearchUnavailable("search took longer than 2000 ms and was cancelled")

    for method in ("search", "similar", "suggest"):
        monkeypatch.setattr(search_backend, method, give_up)
    return search_backend


def test_the_search_page_says_search_is_busy_with_a_503_and_keeps_the_query(client, busy_backend):
    response = client.get(reverse("knowledge:search"), {"q": "reset the router"})

    assert response.status_code == 503
    body = response.content.decode()
    assert "Search is busy right now" in body
    assert 'value="reset the router"' in body  # the box still holds what was typed
    assert "No results for" not in body  # not a false "nothing matches"
    assert not SearchQueryLog.objects.exists()  # nor a content gap


def test_the_search_api_answers_503_with_a_detail_and_retry_after(client, busy_backend):
    response = client.get(reverse("api-v1:search"), {"q": "reset the router"})

    assert response.status_code == 503
    assert response.json() == {
        "detail": "Search is busy right now. Nothing was lost: try again in a moment."
    }
    assert response["Retry-After"] == "1"
    assert not SearchQueryLog.objects.exists()


def test_the_similar_api_answers_503(client, busy_backend):
    response = client.get(reverse("api-v1:similar"), {"q": "my router keeps dropping"})

    assert response.status_code == 503
    assert "busy" in response.json()["detail"]


def test_the_ask_page_gets_no_suggestions_instead_of_an_error(client, busy_backend):
    response = client.get(reverse("knowledge:similar"), {"q": "my router keeps dropping"})

    assert response.status_code == 200
    assert response.json() == []


def test_the_agent_console_search_answers_503(client, busy_backend):
    client.force_login(csr())

    response = client.get(reverse("api-v1:agent-search"), {"q": "reset the router"})

    assert response.status_code == 503
    assert "busy" in response.json()["detail"]


def test_a_working_backend_still_answers_200(client, search_backend):
    assert client.get(reverse("knowledge:search"), {"q": "router"}).status_code == 200
    assert client.get(reverse("api-v1:search"), {"q": "router"}).status_code == 200
