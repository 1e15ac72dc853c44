"""The knowledge REST API: validation and promotion, article provenance, search."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from community import services as community_services
from community.models import User
from knowledge import api as knowledge_api
from knowledge import services
from knowledge.models import Article, Validation
from knowledge.search import SearchDocument, get_backend
from tests.factories import (
    AnswerFactory,
    ProductAreaFactory,
    QuestionFactory,
    TagFactory,
    UserFactory,
    csr,
    expert,
    moderator,
)

pytestmark = pytest.mark.django_db


def url(name: str, **kwargs) -> str:
    return reverse(f"api-v1:{name}", kwargs=kwargs or None)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def area():
    return ProductAreaFactory(name="Lumen Mesh Wi-Fi", slug="mesh")


@pytest.fixture
def answer(area):
    question = community_services.question_create(
        author=UserFactory(),
        area=area,
        title="Mesh satellite keeps dropping off the network",
        body="The second satellite loses its connection every evening around 8 pm.",
        tags=["satellite"],
    )
    return community_services.answer_create(
        question=question,
        author=UserFactory(),
        body="Move the satellite within two rooms of the router and update to firmware 2.4.",
    )


def _promote(answer, validator, capture) -> Article:
    """Validate through the real service, running the on-commit index sync."""
    with capture(execute=True):
        services.answer_validate(answer=answer, validator=validator, note="Confirmed on v2.4")
    return Article.objects.get(source_answer=answer)


# --- Validation permission matrix ----------------------------------------------------------


def test_an_uncertified_member_cannot_validate(answer):
    response = client_for(UserFactory()).post(url("answer-validate", pk=answer.pk), {})

    assert response.status_code == 403
    assert response.json() == {
        "detail": "Only moderators and experts certified for Lumen Mesh Wi-Fi can validate this answer."
    }
    assert not Validation.objects.exists()


def test_an_expert_of_another_area_cannot_validate(answer):
    outsider = expert(ProductAreaFactory(slug="cams"))

    response = client_for(outsider).post(url("answer-validate", pk=answer.pk), {})

    assert response.status_code == 403
    assert not Article.objects.exists()


def test_nobody_validates_their_own_answer_even_as_an_expert(answer, area):
    author = answer.author
    community_services.certification_grant(
        user=author,
        area=area,
        granted_by=moderator(),
        expires_at=timezone.now() + dt.timedelta(days=30),
    )

    response = client_for(author).post(url("answer-validate", pk=answer.pk), {})

    assert response.status_code == 403
    assert response.json() == {"detail": "You cannot validate your own answer."}


def test_an_expert_of_the_area_validates_and_the_answer_becomes_an_article(answer, area):
    validator = expert(area, username="vera")

    response = client_for(validator).post(
        url("answer-validate", pk=answer.pk), {"note": "Confirmed on v2.4"}, format="json"
    )

    assert response.status_code == 201
    data = response.json()
    article = Article.objects.get(source_answer=answer)
    assert article.status == Article.Status.PUBLISHED
    assert data["article"] == {
        "id": article.pk,
        "url": f"http://testserver{article.get_absolute_url()}",
        "status": "published",
    }
    assert data["validation"]["validator"]["username"] == "vera"
    assert (data["validation"]["note"], data["validation"]["status"]) == (
        "Confirmed on v2.4",
        "active",
    )
    assert (data["validation"]["revision"], data["validation"]["as_staff"]) == (1, False)
    answer.refresh_from_db()
    assert answer.validated_at is not None


def test_a_moderator_validates_in_any_area(answer):
    response = client_for(moderator()).post(url("answer-validate", pk=answer.pk), {})

    assert response.status_code == 201
    assert response.json()["validation"]["as_staff"] is True
    assert Article.objects.filter(source_answer=answer).exists()


def test_an_anonymous_validation_is_401(answer):
    response = APIClient().post(url("answer-validate", pk=answer.pk), {})

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_an_overlong_note_is_a_400_on_note(answer):
    response = client_for(moderator()).post(
        url("answer-validate", pk=answer.pk), {"note": "x" * 501}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["note"]


# --- Revoking ------------------------------------------------------------------------------


def test_the_validator_revokes_and_the_article_goes_back_to_draft(answer, area):
    validator = expert(area)
    validation = services.answer_validate(answer=answer, validator=validator)

    response = client_for(validator).post(
        url("validation-revoke", pk=validation.pk),
        {"reason": "Firmware 2.5 changed the fix"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert Article.objects.get(source_answer=answer).status == Article.Status.DRAFT


def test_someone_else_cannot_revoke_a_validation(answer, area):
    validation = services.answer_validate(answer=answer, validator=expert(area))

    response = client_for(expert(area)).post(
        url("validation-revoke", pk=validation.pk), {"reason": "I disagree"}, format="json"
    )

    assert response.status_code == 403
    validation.refresh_from_db()
    assert validation.status == Validation.Status.ACTIVE


def test_revoking_without_a_reason_is_a_400_on_reason(answer):
    validator = moderator()
    validation = services.answer_validate(answer=answer, validator=validator)

    response = client_for(validator).post(url("validation-revoke", pk=validation.pk), {})

    assert response.status_code == 400
    assert list(response.json()) == ["reason"]


# --- Articles ------------------------------------------------------------------------------


def test_an_article_shows_its_provenance(answer, area):
    validator = expert(area, username="vera", display_name="Vera V.")
    services.answer_validate(answer=answer, validator=validator, note="Confirmed on v2.4")
    article = Article.objects.get(source_answer=answer)

    data = APIClient().get(url("article-detail", pk=article.pk)).json()

    assert data["title"] == "Mesh satellite keeps dropping off the network"
    assert data["status"] == "published"
    assert "firmware 2.4" in data["solution_html"]
    assert data["tags"] == ["satellite"]
    provenance = data["provenance"]
    assert provenance["source_question"]["id"] == answer.question_id
    assert provenance["source_question"]["url"].endswith(f"/questions/{answer.question_id}/")
    assert provenance["source_answer"]["id"] == answer.pk
    assert provenance["source_answer"]["author"]["username"] == answer.author.username
    assert provenance["approved_revision"] == 1
    [entry] = provenance["validations"]
    assert entry["validator"] == {
        "username": "vera",
        "display_name": "Vera V.",
        "url": "http://testserver/users/vera/",
    }
    assert (entry["note"], entry["status"]) == ("Confirmed on v2.4", "active")
    assert entry["created_at"]


def test_a_draft_article_is_a_404_for_customers_but_visible_to_staff(answer, area):
    validator = expert(area)
    validation = services.answer_validate(answer=answer, validator=validator)
    services.validation_revoke(validation=validation, actor=validator, reason="Outdated now")
    article = Article.objects.get(source_answer=answer)
    assert article.status == Article.Status.DRAFT

    assert APIClient().get(url("article-detail", pk=article.pk)).status_code == 404
    assert client_for(UserFactory()).get(url("article-detail", pk=article.pk)).status_code == 404
    assert client_for(UserFactory()).get(url("article-list")).json()["count"] == 0
    staff = client_for(csr())
    assert staff.get(url("article-detail", pk=article.pk)).json()["status"] == "draft"
    assert [a["id"] for a in staff.get(url("article-list")).json()["results"]] == [article.pk]


def test_articles_are_filtered_by_area_and_tag(answer, area):
    services.answer_validate(answer=answer, validator=moderator())
    other = AnswerFactory(question__area=ProductAreaFactory(slug="cams"))
    services.answer_validate(answer=other, validator=moderator())
    client = APIClient()

    def titles(**params):
        response = client.get(url("article-list"), params)
        assert response.status_code == 200
        return [a["source_answer_id"] for a in response.json()["results"]]

    assert sorted(titles()) == sorted([answer.pk, other.pk])
    assert titles(area="mesh") == [answer.pk]
    assert titles(tag="satellite") == [answer.pk]
    assert client.get(url("article-list"), {"tag": "nope"}).json() == {
        "tag": ["There is no tag “nope”."]
    }


def _grow_articles(n: int) -> None:
    for _ in range(n):
        area = ProductAreaFactory()
        question = QuestionFactory(area=area, tags=[TagFactory(), TagFactory()])
        services.answer_validate(answer=AnswerFactory(question=question), validator=moderator())


def test_the_article_list_costs_the_same_queries_for_2_or_10_articles(
    django_assert_max_num_queries,
):
    member = UserFactory()

    def client():
        # A fresh user instance per request, as in production: role lookups are memoised on it.
        return client_for(User.objects.get(pk=member.pk))

    _grow_articles(2)
    first = client()
    with CaptureQueriesContext(connection) as few:
        first.get(url("article-list"))
    _grow_articles(8)
    second = client()

    # the viewer's groups, count, page, tags, and the standings' validations and corrections
    with django_assert_max_num_queries(6) as many:
        assert second.get(url("article-list")).json()["count"] == 10

    assert len(many.captured_queries) == len(few.captured_queries)


# --- Search --------------------------------------------------------------------------------


def test_search_finds_a_promoted_article_with_a_snippet_and_an_absolute_url(
    answer, area, django_capture_on_commit_callbacks
):
    article = _promote(answer, moderator(), django_capture_on_commit_callbacks)

    response = APIClient().get(url("search"), {"q": "satellite dropping", "type": "article"})

    assert response.status_code == 200
    data = response.json()
    assert (data["query"], data["count"], data["page"], data["num_pages"]) == (
        "satellite dropping",
        1,
        1,
        1,
    )
    [hit] = data["results"]
    assert hit["id"] == f"article:{article.pk}"
    assert (hit["type"], hit["type_label"]) == ("article", "Knowledge-base article")
    assert hit["url"] == f"http://testserver{article.get_absolute_url()}"
    assert ">satellite</mark>" in hit["snippet"]
    assert (hit["area"], hit["tags"]) == ("mesh", ["satellite"])
    assert isinstance(data["facets"], dict)


def test_the_type_filter_separates_articles_from_threads(
    answer, area, django_capture_on_commit_callbacks
):
    _promote(answer, moderator(), django_capture_on_commit_callbacks)
    client = APIClient()

    def types(kind=None):
        params = {"q": "satellite", **({"type": kind} if kind else {})}
        return sorted(hit["type"] for hit in client.get(url("search"), params).json()["results"])

    assert types() == ["article", "thread"]
    assert types("article") == ["article"]
    assert types("thread") == ["thread"]
    assert types("thread_accepted") == []
    assert client.get(url("search"), {"q": "x", "type": "nope"}).status_code == 400


def test_a_search_without_a_query_is_a_400_on_q():
    missing = APIClient().get(url("search"))
    blank = APIClient().get(url("search"), {"q": "   "})

    assert (missing.status_code, blank.status_code) == (400, 400)
    assert missing.json() == {"q": ["Enter something to search for."]}
    assert blank.json() == {"q": ["Enter something to search for."]}


def test_the_page_size_is_capped_at_50(monkeypatch):
    calls = []
    real = knowledge_api.selectors.search_run

    def spy(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(knowledge_api.selectors, "search_run", spy)

    response = APIClient().get(url("search"), {"q": "router", "page_size": 500, "page": 2})

    assert response.status_code == 200
    assert (calls[0]["page_size"], calls[0]["page"]) == (50, 2)


def test_internal_documents_are_found_by_staff_only():
    get_backend().upsert(
        [
            SearchDocument(
                id="article:900",
                type="article",
                title="Internal runbook for router recalls",
                problem="router recall",
                solution="Escalate to tier two.",
                tags=(),
                area="mesh",
                url="/kb/articles/900-internal/",
                updated_at=timezone.now(),
                audience="internal",
            )
        ]
    )

    customer = APIClient().get(url("search"), {"q": "router recall"}).json()
    staff = client_for(moderator()).get(url("search"), {"q": "router recall"}).json()

    assert customer["count"] == 0
    assert [hit["id"] for hit in staff["results"]] == ["article:900"]
