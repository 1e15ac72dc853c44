"""Liveness and readiness probes."""

import time

import pytest

from knowledge.search import reset_backend


def test_liveness_answers_without_touching_the_database(client):
    # No django_db mark: any query would raise.
    response = client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readiness_is_ok_when_database_broker_and_search_answer(client):
    response = client.get("/health/ready")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert body["checks"] == {"database": "ok", "broker": "ok", "search": "ok"}


@pytest.mark.django_db
def test_readiness_is_503_naming_the_broker_when_it_is_unreachable(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    started = time.monotonic()
    response = client.get("/health/ready")
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["failing"] == ["broker"]
    assert body["checks"] == {"database": "ok", "broker": "failing", "search": "ok"}
    assert "127.0.0.1" not in response.content.decode()  # no internal details to the public
    assert elapsed < 2


@pytest.mark.django_db
def test_readiness_is_503_naming_the_search_index_when_it_cannot_open(client, settings):
    settings.PEERDESK_SEARCH = {"BACKEND": "knowledge.search.whoosh_backend.WhooshBackend"}
    reset_backend()
    try:
        response = client.get("/health/ready")
    finally:
        reset_backend()

    assert response.status_code == 503
    assert response.json()["failing"] == ["search"]


@pytest.mark.django_db
def test_readiness_is_503_naming_the_database_when_it_fails(client, monkeypatch):
    from django.db import OperationalError

    from knowledge import health

    def database_down():
        raise OperationalError("connection refused")

    monkeypatch.setitem(health.READINESS_CHECKS, "database", database_down)

    response = client.get("/health/ready")

    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]


def test_probes_only_answer_safe_methods(client):
    assert client.post("/health/live").status_code == 405
