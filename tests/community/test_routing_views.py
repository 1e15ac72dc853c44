"""Directory page and API (query counts at 500 experts), asking an expert, inbox, rating pages."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from community.models import Certification, DirectedQuestion, ExpertProfile, Question, User
from tests.factories import (
    DirectedQuestionFactory,
    ExpertRatingFactory,
    ProductAreaFactory,
    TagFactory,
    UserFactory,
    csr,
    expert,
    moderator,
)

pytestmark = pytest.mark.django_db


def _many_experts(area, n, *, start=0):
    """``n`` certified experts with a profile, a skill, ratings and answered directed rows."""
    granter = moderator()
    users = User.objects.bulk_create(
        [User(username=f"bulk{start + i}", email=f"bulk{start + i}@example.com") for i in range(n)]
    )
    expires = timezone.now() + dt.timedelta(days=365)
    Certification.objects.bulk_create(
        [Certification(user=u, area=area, granted_by=granter, expires_at=expires) for u in users]
    )
    profiles = ExpertProfile.objects.bulk_create(
        [ExpertProfile(user=u, languages=",en,") for u in users]
    )
    tag = TagFactory(slug="vintage")
    ExpertProfile.skills.through.objects.bulk_create(
        [ExpertProfile.skills.through(expertprofile=p, tag=tag) for p in profiles]
    )
    now = timezone.now()
    question = DirectedQuestionFactory(expert=users[0]).question
    DirectedQuestion.objects.bulk_create(
        [
            DirectedQuestion(
                question=question,
                expert=u,
                status="answered",
                created_at=now - dt.timedelta(minutes=10),
                promised_by=now,
                answered_at=now,
                response_seconds=60 * (1 + i % 7),
            )
            for i, u in enumerate(users)
        ]
    )
    return users


@pytest.mark.parametrize("path", ["/experts/", "/experts/?fragment=1&q_skill=vintage&sort=wait"])
def test_the_directory_page_query_count_stays_flat_up_to_500_experts(
    client, django_assert_max_num_queries, path
):
    area = ProductAreaFactory(slug="guitars")
    _many_experts(area, 3)
    with django_assert_max_num_queries(6):
        small = client.get(path)
    _many_experts(area, 500, start=10)
    with django_assert_max_num_queries(6):
        big = client.get(path)
    assert small.status_code == big.status_code == 200
    assert big.content.count(b'<li class="expert-card') == 24  # one page


def test_the_directory_api_query_count_stays_flat_up_to_500_experts(
    django_assert_max_num_queries,
):
    area = ProductAreaFactory(slug="guitars")
    _many_experts(area, 3)
    api = APIClient()
    url = reverse("api-v1:expert-list") + "?skill=vintage&language=en&sort=response"
    with django_assert_max_num_queries(5):
        assert api.get(url).json()["count"] == 3
    _many_experts(area, 500, start=10)
    with django_assert_max_num_queries(5):
        data = api.get(url).json()
    assert data["count"] == 503
    first = data["results"][0]
    assert first["response_seconds"] == 60
    assert first["certifications"][0]["area"] == "guitars"
    assert first["skills"] == ["vintage"]


def test_the_directory_api_filters_by_rating_and_validates_parameters():
    area = ProductAreaFactory()
    good, unrated = expert(area, username="good"), expert(area, username="unrated")
    for _ in range(3):
        ExpertRatingFactory(directed__expert=good, score=5)
    del unrated
    api = APIClient()
    url = reverse("api-v1:expert-list")
    assert [r["username"] for r in api.get(url, {"min_rating": 4}).json()["results"]] == ["good"]
    bad = api.get(url, {"min_rating": 9, "sort": "nope"})
    assert bad.status_code == 400
    assert set(bad.json()) >= {"min_rating", "sort"}


def test_an_aliased_agent_is_listed_by_alias_without_their_account():
    agent = csr(username="realname")
    ExpertProfile.objects.create(user=agent, directory_opt_in=True, staff_alias="Robin")
    results = APIClient().get(reverse("api-v1:expert-list")).json()["results"]
    assert len(results) == 1
    assert (results[0]["name"], results[0]["username"], results[0]["kind"]) == (
        "Robin",
        None,
        "agent",
    )


def test_the_directory_page_filters_without_javascript(client):
    area = ProductAreaFactory()
    vintage = expert(area, username="vintage_vic", display_name="Vintage Vic")
    expert(area, username="modern_mo", display_name="Modern Mo")
    ExpertProfile.objects.create(user=vintage).skills.set([TagFactory(slug="vintage")])
    page = client.get("/experts/", {"q_skill": "vintage"}).content.decode()
    assert "Vintage Vic" in page
    assert "Modern Mo" not in page
    assert "js/directory.js" in page


def test_a_full_queue_shows_on_the_card_before_anyone_asks(client):
    person = expert(ProductAreaFactory(), display_name="Busy Bea")
    for _ in range(10):
        DirectedQuestionFactory(expert=person)
    page = client.get("/experts/").content.decode()
    assert "Queue full" in page
    assert f"?expert={person.username}" not in page


def test_asking_from_a_card_directs_the_question_privately(client):
    area = ProductAreaFactory(name="Guitars")
    person = expert(area, display_name="Vic")
    asker = UserFactory()
    client.force_login(asker)
    form = client.get("/ask/", {"expert": person.username}).content.decode()
    assert "Your question goes to <strong>Vic</strong>" in form
    response = client.post(
        "/ask/",
        {
            "area": area.pk,
            "title": "Which strings for a 1962 guitar?",
            "body": "I restored a 1962 guitar and want period-correct strings.",
            "directed_to": person.username,
            "private": "on",
        },
    )
    question = Question.objects.get()
    assert response.status_code == 302
    directed = DirectedQuestion.objects.get(question=question)
    assert (directed.expert, directed.private) == (person, True)
    client.logout()
    assert client.get(question.get_absolute_url()).status_code == 404


def test_asking_someone_with_a_full_queue_shows_a_form_error_and_keeps_the_draft(client):
    area = ProductAreaFactory()
    person = expert(area)
    for _ in range(10):
        DirectedQuestionFactory(expert=person)
    client.force_login(UserFactory())
    response = client.post(
        "/ask/",
        {
            "area": area.pk,
            "title": "Which strings for a 1962 guitar?",
            "body": "I restored a 1962 guitar and want period-correct strings.",
            "directed_to": person.username,
        },
    )
    assert response.status_code == 400
    assert "queue is full" in response.content.decode()
    assert "period-correct strings" in response.content.decode()
    assert not Question.objects.filter(title__startswith="Which strings").exists()


def test_the_inbox_lists_open_questions_and_declines_and_forwards(client):
    area = ProductAreaFactory()
    person, colleague = expert(area), expert(area, username="colleague")
    first = DirectedQuestionFactory(expert=person)
    second = DirectedQuestionFactory(expert=person)
    client.force_login(person)
    page = client.get("/experts/inbox/").content.decode()
    assert first.question.title in page and second.question.title in page
    client.post(f"/experts/directed/{first.pk}/decline/", {"note": "Not mine"})
    client.post(f"/experts/directed/{second.pk}/forward/", {"to": "colleague", "note": "Hers"})
    statuses = dict(DirectedQuestion.objects.values_list("pk", "status"))
    assert statuses[first.pk] == "declined"
    assert statuses[second.pk] == "forwarded"
    assert DirectedQuestion.objects.get(expert=colleague).status == "open"


def test_strangers_cannot_decline_someone_elses_directed_question(client):
    directed = DirectedQuestionFactory(expert=expert(ProductAreaFactory()))
    client.force_login(UserFactory())
    assert client.post(f"/experts/directed/{directed.pk}/decline/").status_code == 404


def test_the_asker_rates_from_the_thread_and_cannot_rate_twice(client):
    from community import services

    area = ProductAreaFactory()
    person, asker = expert(area), UserFactory()
    question = services.question_create(
        author=asker,
        area=area,
        title="Which strings for a 1962 guitar?",
        body="I restored a 1962 guitar and want period-correct strings.",
        directed_to=person,
    )
    services.answer_create(question=question, author=person, body="Pure nickel flatwounds, 11s.")
    client.force_login(asker)
    assert "Rate the help" in client.get(question.get_absolute_url()).content.decode()
    assert client.post(f"/questions/{question.pk}/rate/", {"score": 5}).status_code == 302
    again = client.post(f"/questions/{question.pk}/rate/", {"score": 4})
    assert again.status_code == 400
    assert "already rated" in again.content.decode()


def test_the_expert_report_is_staff_only(client):
    person = expert(ProductAreaFactory())
    ExpertRatingFactory(directed__expert=person, score=4)
    client.force_login(UserFactory())
    assert client.get(f"/staff/experts/{person.username}/").status_code == 403
    client.force_login(moderator())
    page = client.get(f"/staff/experts/{person.username}/")
    assert page.status_code == 200
    assert "Rating trend" in page.content.decode()


def test_the_leaderboard_shows_this_weeks_earners(client):
    from community import services
    from tests.factories import AnswerFactory

    answer = AnswerFactory(author=UserFactory(display_name="Top Answerer"))
    services.answer_set_validated(answer=answer, validated=True)
    page = client.get("/leaderboard/", {"period": "week"}).content.decode()
    assert "Top Answerer" in page and "+25" in page
