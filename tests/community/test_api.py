"""The community REST API: the same services and predicates as the pages, spoken as HTTP."""

from types import SimpleNamespace

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from community import ratelimit, services
from community.models import Answer, Question, Vote
from tests.factories import (
    AnswerFactory,
    ProductAreaFactory,
    QuestionFactory,
    TagFactory,
    UserFactory,
    expert,
    moderator,
)

pytestmark = pytest.mark.django_db

QUESTION_BODY = "The status light blinks amber after the firmware update finished."
ANSWER_BODY = "Hold the reset button for ten seconds, then re-run the setup wizard."


def url(name: str, **kwargs) -> str:
    return reverse(f"api-v1:{name}", kwargs=kwargs or None)


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    """Rate-limit and throttle counters live in the cache; no test inherits another's."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    return APIClient()


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def area():
    return ProductAreaFactory(name="Lumen Mesh Wi-Fi", slug="mesh")


# --- Reading ---------------------------------------------------------------------------------


def test_anyone_lists_the_product_areas(api, area):
    response = api.get(url("area-list"))

    assert response.status_code == 200
    assert response.json() == [
        {
            "slug": "mesh",
            "name": "Lumen Mesh Wi-Fi",
            "description": "",
            "url": "http://testserver/areas/mesh/",
        }
    ]


def test_questions_are_listed_by_activity_and_filtered_by_area_tag_and_unanswered(api, area):
    other_area = ProductAreaFactory(slug="cams")
    wifi = TagFactory(slug="wifi")
    old = QuestionFactory(area=area, tags=[wifi], last_activity_at=timezone.now())
    recent = QuestionFactory(area=area, last_activity_at=timezone.now())
    elsewhere = QuestionFactory(area=other_area, tags=[wifi], last_activity_at=timezone.now())
    AnswerFactory(question=old)

    def ids(**params):
        response = api.get(url("question-list"), params)
        assert response.status_code == 200
        return [q["id"] for q in response.json()["results"]]

    assert ids() == [elsewhere.pk, recent.pk, old.pk]
    assert ids(area="mesh") == [recent.pk, old.pk]
    assert ids(tag="wifi") == [elsewhere.pk, old.pk]
    assert ids(area="mesh", unanswered="true") == [recent.pk]


def test_filtering_questions_by_an_unknown_area_is_a_400_on_that_field(api):
    response = api.get(url("question-list"), {"area": "nope"})

    assert response.status_code == 400
    assert list(response.json()) == ["area"]


def test_a_question_shows_author_attribution_score_and_accepted_state(api, area):
    asker = UserFactory(username="ana", display_name="Ana")
    question = QuestionFactory(
        area=area,
        author=asker,
        body="Line one with **bold** text.",
        body_html="<p>Line one with <strong>bold</strong> text.</p>",
        source_url="https://superuser.com/q/1",
        source_author_name="Original Poster",
        source_author_url="https://superuser.com/users/9",
        score=3,
    )

    data = api.get(url("question-detail", pk=question.pk)).json()

    assert data["body"] == "Line one with **bold** text."
    assert data["body_html"] == "<p>Line one with <strong>bold</strong> text.</p>"
    assert data["author"] == {
        "username": "ana",
        "display_name": "Ana",
        "url": "http://testserver/users/ana/",
        "is_expert_in_area": False,
        "is_placeholder": False,
    }
    assert data["url"] == f"http://testserver/questions/{question.pk}/"
    assert data["area"] == {"slug": "mesh", "name": "Lumen Mesh Wi-Fi"}
    assert (data["source_url"], data["source_author_name"], data["source_author_url"]) == (
        "https://superuser.com/q/1",
        "Original Poster",
        "https://superuser.com/users/9",
    )
    assert data["score"] == 3
    assert data["has_accepted_answer"] is False
    assert data["answers"] == []


def test_a_thread_embeds_answers_validated_first_then_accepted_then_by_score(api, area):
    question = QuestionFactory(area=area)
    top_voted = AnswerFactory(question=question, score=9)
    accepted = AnswerFactory(question=question, score=1)
    validated = AnswerFactory(question=question, score=0, author=expert(area))
    Question.objects.filter(pk=question.pk).update(accepted_answer=accepted)
    Answer.objects.filter(pk=validated.pk).update(validated_at=timezone.now())

    answers = api.get(url("question-detail", pk=question.pk)).json()["answers"]

    assert [a["id"] for a in answers] == [validated.pk, accepted.pk, top_voted.pk]
    assert [(a["validated"], a["accepted"]) for a in answers] == [
        (True, False),
        (False, True),
        (False, False),
    ]
    assert [a["author"]["is_expert_in_area"] for a in answers] == [True, False, False]


def test_a_missing_question_is_a_404(api):
    assert api.get(url("question-detail", pk=999)).status_code == 404


# --- Writing ---------------------------------------------------------------------------------


def test_a_member_asks_a_question_and_gets_it_back_rendered(area):
    member = UserFactory()

    response = client_for(member).post(
        url("question-list"),
        {
            "title": "Satellite drops off every evening",
            "body": "It **drops** at 8 pm. <script>alert(1)</script>",
            "area": "mesh",
            "tags": ["Wi-Fi", "satellite"],
        },
        format="json",
    )

    assert response.status_code == 201
    data = response.json()
    question = Question.objects.get(pk=data["id"])
    assert question.author == member
    assert data["tags"] == ["satellite", "wi-fi"]
    assert "<strong>drops</strong>" in data["body_html"]
    assert "<script>" not in data["body_html"]
    assert question.revisions.count() == 1


def test_asking_with_an_unknown_area_and_no_title_names_the_fields(area):
    response = client_for(UserFactory()).post(
        url("question-list"), {"body": QUESTION_BODY, "area": "nope"}, format="json"
    )

    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"title", "area"}
    assert errors["area"] == ["There is no product area “nope”."]


def test_the_services_rules_come_back_as_field_errors(area):
    response = client_for(UserFactory()).post(
        url("question-list"),
        {"title": "Help", "body": QUESTION_BODY, "area": "mesh", "tags": list("abcdef")},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"title": ["Write at least 10 characters."]}


def test_the_asker_edits_the_title_and_omitted_fields_keep_their_value(area):
    question = QuestionFactory(area=area, tags=[TagFactory(slug="wifi")])

    response = client_for(question.author).patch(
        url("question-detail", pk=question.pk),
        {"title": "A clearer title for the question", "summary": "clarified"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["title"] == "A clearer title for the question"
    assert response.json()["tags"] == ["wifi"]
    question.refresh_from_db()
    assert question.body == QuestionFactory._meta.declarations["body"]
    assert question.revisions.count() == 2


def test_editing_someone_elses_question_is_403_with_the_reason(area):
    question = QuestionFactory(area=area)

    response = client_for(UserFactory()).patch(
        url("question-detail", pk=question.pk),
        {"title": "A new title by a stranger"},
        format="json",
    )

    assert response.status_code == 403
    assert response.json() == {"detail": "Only the asker or a moderator can edit this question."}


def test_a_member_answers_and_the_answers_are_listed(area):
    question = QuestionFactory(area=area)
    helper = UserFactory()

    created = client_for(helper).post(
        url("question-answers", pk=question.pk), {"body": ANSWER_BODY}, format="json"
    )
    listed = APIClient().get(url("question-answers", pk=question.pk))

    assert created.status_code == 201
    assert created.json()["author"]["username"] == helper.username
    assert created.json()["question_id"] == question.pk
    assert [a["id"] for a in listed.json()["results"]] == [created.json()["id"]]
    question.refresh_from_db()
    assert question.answer_count == 1


def test_answering_a_missing_question_is_a_404():
    response = client_for(UserFactory()).post(
        url("question-answers", pk=999), {"body": ANSWER_BODY}, format="json"
    )
    assert response.status_code == 404


def test_the_author_edits_an_answer_as_a_new_revision(area):
    answer = AnswerFactory(question__area=area)

    response = client_for(answer.author).patch(
        url("answer-detail", pk=answer.pk),
        {"body": "Updated: hold reset for fifteen seconds instead.", "summary": "timing"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["revision_count"] == 2
    assert answer.revisions.order_by("-number").first().summary == "timing"


def test_a_moderator_edits_any_answer(area):
    answer = AnswerFactory(question__area=area)

    response = client_for(moderator()).patch(
        url("answer-detail", pk=answer.pk),
        {"body": "Moderator fix: hold reset for ten seconds."},
        format="json",
    )

    assert response.status_code == 200


def test_editing_another_members_answer_is_403(area):
    answer = AnswerFactory(question__area=area)

    response = client_for(UserFactory()).patch(
        url("answer-detail", pk=answer.pk), {"body": "Hijacked answer text, long enough."}
    )

    assert response.status_code == 403
    assert response.json()["detail"] == "Only the author or a moderator can edit this answer."
    answer.refresh_from_db()
    assert answer.revision_count == 1


def test_an_answer_is_retrieved_with_its_accepted_and_validated_flags(api, area):
    answer = AnswerFactory(question__area=area, validated_at=timezone.now())
    Question.objects.filter(pk=answer.question_id).update(accepted_answer=answer)

    data = api.get(url("answer-detail", pk=answer.pk)).json()

    assert (data["accepted"], data["validated"]) == (True, True)
    assert data["url"] == f"http://testserver/questions/{answer.question_id}/#answer-{answer.pk}"


def test_voting_up_then_withdrawing_updates_the_score(area):
    answer = AnswerFactory(question__area=area)
    voter = client_for(UserFactory(reputation=50))  # voting down is a privilege

    up = voter.post(url("answer-vote", pk=answer.pk), {"value": 1}, format="json")
    withdrawn = voter.post(url("answer-vote", pk=answer.pk), {"value": 0}, format="json")
    down = voter.post(url("question-vote", pk=answer.question_id), {"value": -1}, format="json")

    assert (up.status_code, up.json()) == (200, {"value": 1, "score": 1})
    assert withdrawn.json() == {"value": 0, "score": 0}
    assert down.json() == {"value": -1, "score": -1}
    assert Vote.objects.count() == 1


def test_voting_on_your_own_post_is_403(area):
    answer = AnswerFactory(question__area=area)

    response = client_for(answer.author).post(
        url("answer-vote", pk=answer.pk), {"value": 1}, format="json"
    )

    assert response.status_code == 403
    assert response.json() == {"detail": "You cannot vote on your own post."}


def test_a_vote_other_than_up_down_or_withdraw_is_a_400_on_value(area):
    question = QuestionFactory(area=area)

    response = client_for(UserFactory()).post(
        url("question-vote", pk=question.pk), {"value": 5}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["value"]


def test_the_asker_accepts_and_withdraws_an_acceptance(area):
    answer = AnswerFactory(question__area=area)
    asker = client_for(answer.question.author)

    accepted = asker.post(url("answer-accept", pk=answer.pk))
    withdrawn = asker.delete(url("answer-accept", pk=answer.pk))

    assert (accepted.status_code, accepted.json()) == (
        200,
        {"question_id": answer.question_id, "accepted_answer_id": answer.pk},
    )
    assert withdrawn.json() == {"question_id": answer.question_id, "accepted_answer_id": None}


def test_withdrawing_from_an_answer_that_is_not_accepted_leaves_the_accepted_one(area):
    question = QuestionFactory(area=area)
    accepted, other = AnswerFactory(question=question), AnswerFactory(question=question)
    services.answer_accept(answer=accepted, user=question.author)

    response = client_for(question.author).delete(url("answer-accept", pk=other.pk))

    assert response.json()["accepted_answer_id"] == accepted.pk


def test_accepting_as_someone_other_than_the_asker_is_403(area):
    answer = AnswerFactory(question__area=area)
    Question.objects.filter(pk=answer.question_id).update(accepted_answer=answer)
    stranger = client_for(answer.author)

    assert stranger.post(url("answer-accept", pk=answer.pk)).status_code == 403
    response = stranger.delete(url("answer-accept", pk=answer.pk))
    assert response.status_code == 403
    assert response.json() == {"detail": "Only the person who asked can accept an answer."}


def test_anonymous_writes_are_401_with_a_token_challenge(area):
    answer = AnswerFactory(question__area=area)
    anonymous = APIClient()

    responses = [
        anonymous.post(url("question-list"), {"title": "t"}, format="json"),
        anonymous.patch(url("question-detail", pk=answer.question_id), {}, format="json"),
        anonymous.post(url("question-answers", pk=answer.question_id), {}, format="json"),
        anonymous.patch(url("answer-detail", pk=answer.pk), {}, format="json"),
        anonymous.post(url("answer-vote", pk=answer.pk), {"value": 1}, format="json"),
        anonymous.post(url("answer-accept", pk=answer.pk)),
        anonymous.post(url("answer-vote", pk=999), {"value": 1}, format="json"),
    ]

    assert {r.status_code for r in responses} == {401}
    assert {r["WWW-Authenticate"] for r in responses} == {"Token"}
    assert not Vote.objects.exists()


def test_writing_faster_than_the_rate_limit_is_429_with_retry_after(area, settings, monkeypatch):
    settings.PEERDESK = {**settings.PEERDESK, "RATE_LIMITS": {"answer": 1}}
    # Pin the clock 30 s into a window so the test cannot straddle a window boundary.
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_030))
    question = QuestionFactory(area=area)
    helper = client_for(UserFactory())

    first = helper.post(url("question-answers", pk=question.pk), {"body": ANSWER_BODY})
    second = helper.post(url("question-answers", pk=question.pk), {"body": ANSWER_BODY})

    assert first.status_code == 201
    assert second.status_code == 429
    assert second["Retry-After"] == "30"
    assert "Too many answer actions" in second.json()["detail"]
    assert Answer.objects.count() == 1


# --- Token authentication ------------------------------------------------------------------


def _member_with_password(username: str, *, verified: bool = True):
    member = UserFactory(username=username)
    # UserFactory sets the password on the instance only (skip_postgeneration_save).
    member.save(update_fields=["password"])
    EmailAddress.objects.create(user=member, email=member.email, primary=True, verified=verified)
    return member


def test_a_member_gets_a_token_and_asks_with_it(area):
    member = _member_with_password("tokenuser")

    obtained = APIClient().post(
        url("auth-token"), {"username": "tokenuser", "password": "pass-word-123"}, format="json"
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {obtained.json()['token']}")
    created = client.post(
        url("question-list"),
        {"title": "Asked with an API token", "body": QUESTION_BODY, "area": "mesh"},
        format="json",
    )

    assert obtained.status_code == 200
    assert obtained.json()["token"] == Token.objects.get(user=member).key
    assert created.status_code == 201
    assert Question.objects.get(pk=created.json()["id"]).author == member


def test_the_email_address_works_as_the_username_for_a_token():
    member = _member_with_password("tokenuser")

    response = APIClient().post(
        url("auth-token"), {"username": member.email, "password": "pass-word-123"}, format="json"
    )

    assert response.json()["token"] == Token.objects.get(user=member).key


def test_a_wrong_password_gets_no_token():
    _member_with_password("tokenuser")

    response = APIClient().post(
        url("auth-token"), {"username": "tokenuser", "password": "wrong"}, format="json"
    )

    assert response.status_code == 400
    assert not Token.objects.exists()


def test_an_unverified_email_address_gets_no_token():
    _member_with_password("tokenuser", verified=False)

    response = APIClient().post(
        url("auth-token"), {"username": "tokenuser", "password": "pass-word-123"}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["Verify your email address before requesting a token."]
    }
    assert not Token.objects.exists()


def test_password_guessing_on_the_token_endpoint_is_throttled():
    _member_with_password("tokenuser")
    guesser = APIClient()
    attempts = [
        guesser.post(url("auth-token"), {"username": "tokenuser", "password": f"guess{i}"})
        for i in range(11)
    ]

    assert [r.status_code for r in attempts] == [400] * 10 + [429]
    assert int(attempts[-1]["Retry-After"]) > 0


def test_an_invalid_token_is_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    assert client.get(url("question-list")).status_code == 401


# --- Query counts (N+1 guards) -------------------------------------------------------------


def _grow_questions(n: int) -> None:
    for _ in range(n):
        area = ProductAreaFactory()
        author = expert(area)
        QuestionFactory(area=area, author=author, tags=[TagFactory(), TagFactory()])


def test_the_question_list_costs_the_same_queries_for_3_or_15_questions(
    django_assert_max_num_queries,
):
    client = client_for(UserFactory())
    _grow_questions(3)
    # The viewer's groups (may they see hidden posts?) load once and stay memoised on the user.
    client.get(url("question-list"))
    with CaptureQueriesContext(connection) as few:
        assert client.get(url("question-list")).status_code == 200
    _grow_questions(12)

    # the viewer's own unlisted questions (by id, so the activity index serves the page),
    # count, page, tags, certifications
    with django_assert_max_num_queries(5) as many:
        response = client.get(url("question-list"))

    assert len(response.json()["results"]) == 15
    assert len(many.captured_queries) == len(few.captured_queries)


def _grow_thread(question: Question, n: int) -> None:
    for _ in range(n):
        answer = AnswerFactory(question=question, author=expert(question.area))
        Vote.objects.create(user=UserFactory(), answer=answer, value=1)


def test_a_thread_and_its_answer_list_cost_the_same_queries_for_2_or_12_answers(
    django_assert_max_num_queries, area
):
    question = QuestionFactory(area=area, tags=[TagFactory()])
    _grow_thread(question, 2)
    counts = {}
    for name in ("question-detail", "question-answers"):
        with CaptureQueriesContext(connection) as few:
            APIClient().get(url(name, pk=question.pk))
        counts[name] = len(few.captured_queries)
    _grow_thread(question, 10)

    # question, tags, comments, answers, answer comments, certifications
    with django_assert_max_num_queries(6) as detail:
        assert len(APIClient().get(url("question-detail", pk=question.pk)).json()["answers"]) == 12
    # question, tags, comments, count, answers, answer comments, certifications
    with django_assert_max_num_queries(7) as answers:
        assert APIClient().get(url("question-answers", pk=question.pk)).json()["count"] == 12

    assert len(detail.captured_queries) == counts["question-detail"]
    assert len(answers.captured_queries) == counts["question-answers"]


def test_the_question_list_shows_members_their_own_pending_questions_and_nobody_elses():
    author, other = UserFactory(), UserFactory()
    mine = QuestionFactory(author=author, status="pending")
    theirs = QuestionFactory(author=other, status="pending")
    listed = QuestionFactory()

    def ids(user):
        return {q["id"] for q in client_for(user).get(url("question-list")).json()["results"]}

    assert ids(author) == {mine.pk, listed.pk}
    assert ids(other) == {theirs.pk, listed.pk}
    assert ids(UserFactory()) == {listed.pk}


def test_list_totals_are_kept_until_the_next_announced_write(settings):
    from community.pagecache import bump_content_generation

    settings.PEERDESK_PAGE_CACHE = {**settings.PEERDESK_PAGE_CACHE, "SECONDS": 60}
    client = client_for(UserFactory())
    QuestionFactory()
    assert client.get(url("question-list")).json()["count"] == 1
    QuestionFactory()  # written behind the application's back: nothing announced it

    assert client.get(url("question-list")).json()["count"] == 1
    bump_content_generation()  # what every unsafe request and thread event does
    assert client.get(url("question-list")).json()["count"] == 2
