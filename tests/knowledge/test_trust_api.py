"""Issue 3, trust through the REST API: standing, corrections, the article lifecycle, review,
multi-source merges and thread coverage — each with its permission checks."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from community import services as community_services
from community.models import User
from knowledge import services
from knowledge.models import AnswerCorrection, Article, QuestionCoverage
from tests.factories import (
    AnswerFactory,
    ProductAreaFactory,
    QuestionFactory,
    UserFactory,
    csr,
    expert,
    moderator,
)

pytestmark = pytest.mark.django_db


def url(name: str, **kwargs) -> str:
    return reverse(f"api-v1:{name}", kwargs=kwargs or None)


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def area():
    return ProductAreaFactory(name="Lumen Mesh Wi-Fi", slug="mesh")


def _promoted(area, validator=None):
    answer = AnswerFactory(question=QuestionFactory(area=area))
    services.answer_validate(answer=answer, validator=validator or expert(area))
    return answer, Article.objects.get(source_answer=answer)


def test_an_answers_standing_has_its_tiers_validations_and_recheck_date(area):
    answer, _ = _promoted(area)
    community_services.answer_accept(answer=answer, user=answer.question.author)

    body = client_for().get(url("answer-standing", pk=answer.pk)).json()

    assert body["tier"] == "validated_expert"
    assert body["tiers"] == ["validated_expert", "accepted"]
    assert body["accepted"]["person"]["username"] == answer.question.author.username
    assert body["validations"][0]["revision"] == 1
    assert body["validations"][0]["recheck_at"] and body["next_recheck_at"]
    assert body["correction"] is None


def test_the_thread_standings_list_every_answer_in_thread_order(
    area, django_assert_max_num_queries
):
    question = QuestionFactory(area=area)
    answers = [AnswerFactory(question=question) for _ in range(5)]
    services.answer_validate(answer=answers[3], validator=moderator())
    # the question (with its tags and comments), the answers (with comments), validations and
    # corrections: nothing per answer
    with django_assert_max_num_queries(7):
        body = client_for().get(url("question-standings", pk=question.pk)).json()
    assert body[0]["answer_id"] == answers[3].pk
    assert body[0]["tier"] == "validated_staff" and len(body) == 5


def test_article_output_carries_audience_and_standing(area):
    _, article = _promoted(area)
    listed = client_for().get(url("article-list")).json()["results"][0]
    assert listed["audience"] == "public"
    assert listed["standing"]["tier"] == "validated_expert"
    detail = client_for().get(url("article-detail", pk=article.pk)).json()
    assert detail["standing"]["validations"][0]["validator"]["username"]
    assert detail["provenance"]["merged_sources"] == []


def test_an_expert_corrects_through_the_api_and_gets_the_new_standing(area):
    question = QuestionFactory(area=area)
    wrong, right = AnswerFactory(question=question), AnswerFactory(question=question)

    response = client_for(expert(area)).post(
        url("answer-correct", pk=wrong.pk),
        {"reason": "Removed in firmware 3", "alternative_id": right.pk},
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["correction"]["alternative_id"] == right.pk
    assert body["standing"]["tier"] == "not_recommended"
    assert body["standing"]["correction"]["reason"] == "Removed in firmware 3"


def test_a_correction_through_the_api_checks_permission_and_input(area):
    wrong = AnswerFactory(question=QuestionFactory(area=area))
    target = url("answer-correct", pk=wrong.pk)
    assert client_for().post(target, {"reason": "x"}, format="json").status_code == 401
    assert client_for(UserFactory()).post(target, {"reason": "xyz"}).status_code == 403
    response = client_for(moderator()).post(target, {"reason": "Outdated"}, format="json")
    assert response.status_code == 400 and "alternative" in response.json()
    response = client_for(moderator()).post(
        target, {"reason": "Outdated", "alternative_body": "Write the answer like so."}
    )
    assert response.status_code == 201
    assert response.json()["correction"]["alternative_url"].endswith(
        f"#answer-{response.json()['correction']['alternative_id']}"
    )


def test_only_moderators_reverse_a_correction_through_the_api(area):
    wrong = AnswerFactory(question=QuestionFactory(area=area))
    correction = services.answer_correct(
        answer=wrong, corrector=moderator(), reason="Gone in v2", kind="obsolete"
    )
    target = url("correction-reverse", pk=correction.pk)
    assert client_for(expert(area)).post(target, {"reason": "ok ok"}).status_code == 403
    response = client_for(moderator()).post(target, {"reason": "Back in v3"})
    assert response.status_code == 200 and response.json()["reversed_at"]
    assert not AnswerCorrection.objects.filter(reversed_at__isnull=True).exists()


def test_retire_unretire_and_review_through_the_api(area):
    answer, article = _promoted(area)
    staff = moderator()
    retire = url("article-retire", pk=article.pk)
    assert client_for(csr()).post(retire, {"reason": "v1 only"}).status_code == 403
    assert client_for(staff).post(retire, {}).status_code == 400
    response = client_for(staff).post(retire, {"reason": "Applies to v1 only"})
    assert response.status_code == 200 and response.json()["status"] == "retired"
    assert client_for().get(url("article-detail", pk=article.pk)).status_code == 404

    response = client_for(staff).post(url("article-unretire", pk=article.pk))
    assert response.json()["status"] == "published"

    community_services.answer_edit(answer=answer, editor=answer.author, body="Edited answer body.")
    queue = client_for(staff).get(url("review-queue")).json()
    assert queue[0]["article"]["id"] == article.pk
    assert "Source answer edited" in queue[0]["review_reason"]
    assert {line["kind"] for line in queue[0]["diffs"][0]["diff"]} >= {"added", "removed"}
    assert client_for(UserFactory()).get(url("review-queue")).status_code == 403

    review = url("article-review", pk=article.pk)
    assert client_for(expert(area)).post(review, {"action": "keep"}).status_code == 403
    response = client_for(staff).post(review, {"action": "reapprove", "note": "Checked"})
    assert response.status_code == 200
    assert response.json()["status"] == "published"
    assert response.json()["provenance"]["approved_revision"] == 2


def test_moderators_write_internal_articles_through_the_api(area):
    payload = {
        "title": "Escalating a regional outage",
        "problem": "Many customers in one region lose their mesh.",
        "solution": "Open an incident in the status tool.",
        "area": area.slug,
        "tags": ["outage"],
    }
    assert client_for(csr()).post(url("article-list"), payload, format="json").status_code == 403
    response = client_for(moderator()).post(url("article-list"), payload, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["audience"] == "internal" and body["source_answer_id"] is None
    assert body["provenance"]["source_answer"] is None
    assert client_for(csr()).get(url("article-detail", pk=body["id"])).status_code == 200
    assert client_for(UserFactory()).get(url("article-detail", pk=body["id"])).status_code == 404


def test_merging_and_covering_through_the_api(area):
    _, article = _promoted(area)
    other, _ = _promoted(area)
    staff = moderator()
    target = url("article-sources", pk=article.pk)
    assert client_for(expert(area)).post(target, {"answer_id": other.pk}).status_code == 403
    response = client_for(staff).post(target, {"answer_id": other.pk})
    assert response.status_code == 201
    merged = response.json()["provenance"]["merged_sources"]
    assert [m["answer"]["id"] for m in merged] == [other.pk]

    lone = QuestionFactory(area=area)
    cover = url("question-cover", pk=lone.pk)
    assert client_for(UserFactory()).put(cover, {"article_id": article.pk}).status_code == 403
    assert client_for(staff).put(cover, {"article_id": article.pk}).status_code == 200
    assert QuestionCoverage.objects.get(question=lone).article == article
    assert client_for(staff).delete(cover).status_code == 204
    assert not QuestionCoverage.objects.filter(question=lone).exists()


def test_the_article_list_with_standings_costs_the_same_for_2_or_8_articles(area):
    member = UserFactory()
    counts = []
    for n in (2, 6):
        for _ in range(n):
            _promoted(area)
        client = client_for(User.objects.get(pk=member.pk))
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url("article-list")).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
