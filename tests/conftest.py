import pytest

from knowledge.search import get_backend


@pytest.fixture(autouse=True)
def _clean_search_index():
    """Every test starts with an empty in-memory index."""
    get_backend().clear()
    yield
    get_backend().clear()


@pytest.fixture
def search_backend():
    return get_backend()


@pytest.fixture(autouse=True)
def _clean_cache():
    """Rate-limit counters live in the cache; no test inherits another's."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _broker_marked_up():
    """A test that simulates a broker outage must not make later tests skip publishing."""
    from community import broker

    broker.reset()
    yield
    broker.reset()
