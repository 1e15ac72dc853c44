"""The anonymous page cache: served from cache on repeat, never stale after a write."""

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from community import pagecache, services
from community.models import User
from tests.factories import AnswerFactory, QuestionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def page_cache_on(settings):
    settings.PEERDESK_PAGE_CACHE = {
        "SECONDS": 60,
        "VIEWS": {"community:home", "community:question"},
    }


def thread_url(question) -> str:
    return reverse("community:question", kwargs={"pk": question.pk})


def sign_in(client, user):
    client.force_login(User.objects.get(pk=user.pk))


def test_a_repeat_anonymous_visit_is_served_from_the_cache_without_queries(
    django_assert_num_queries,
):
    question = QuestionFactory(title="Router drops the 5 GHz band at night")
    AnswerFactory.create_batch(3, question=question)
    first = Client().get(thread_url(question))

    with django_assert_num_queries(0):
        repeat = Client().get(thread_url(question))

    assert first[pagecache.HEADER] == "miss"
    assert repeat[pagecache.HEADER] == "hit"
    assert repeat.content == first.content
    assert b"Router drops the 5 GHz band at night" in repeat.content


def test_an_edit_through_the_page_shows_at_once_to_anonymous_visitors():
    question = QuestionFactory(title="Camera goes offline every evening")
    visitor = Client()
    assert b"Camera goes offline every evening" in visitor.get(thread_url(question)).content
    assert visitor.get(thread_url(question))[pagecache.HEADER] == "hit"

    author = Client()
    sign_in(author, question.author)
    response = author.post(
        reverse("community:question_edit", kwargs={"pk": question.pk}),
        {
            "title": "Camera goes offline every evening at nine",
            "body": "It drops off the network at nine sharp, every single evening.",
            "tags": "",
            "summary": "more precise",
        },
    )

    assert response.status_code == 302
    after = visitor.get(thread_url(question))
    assert after[pagecache.HEADER] == "miss"
    assert b"Camera goes offline every evening at nine" in after.content


def test_a_vote_through_the_api_refreshes_the_cached_list_and_thread():
    question = QuestionFactory()
    answer = AnswerFactory(question=question)
    visitor = Client()
    visitor.get(thread_url(question))
    visitor.get(reverse("community:home"))
    voter = UserFactory()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=voter).key}")

    voted = api.post(
        reverse("api-v1:answer-vote", kwargs={"pk": answer.pk}), {"value": 1}, format="json"
    )

    assert voted.status_code in (200, 201)
    thread_page = visitor.get(thread_url(question))
    assert thread_page[pagecache.HEADER] == "miss"
    assert visitor.get(reverse("community:home"))[pagecache.HEADER] == "miss"


def test_a_post_made_by_a_service_outside_any_request_is_visible_once_it_commits(
    django_capture_on_commit_callbacks,
):
    # Imports, commands and worker tasks write through services, not through a request.
    question = QuestionFactory()
    visitor = Client()
    visitor.get(thread_url(question))

    with django_capture_on_commit_callbacks(execute=True):
        services.answer_create(
            question=question,
            author=UserFactory(),
            body="Move the camera closer to the mesh point; the signal is too weak.",
        )

    after = visitor.get(thread_url(question))
    assert after[pagecache.HEADER] == "miss"
    assert b"Move the camera closer to the mesh point" in after.content


def test_signed_in_members_and_visitors_with_a_message_always_get_a_fresh_render():
    question = QuestionFactory()
    Client().get(thread_url(question))  # cached for anonymous visitors
    member = Client()
    sign_in(member, UserFactory())
    with_message = Client()
    with_message.cookies["messages"] = "anything"

    assert pagecache.HEADER not in member.get(thread_url(question))
    assert pagecache.HEADER not in with_message.get(thread_url(question))


def test_cached_pages_set_no_cookie_and_views_not_listed_are_never_cached():
    question = QuestionFactory()
    visitor = Client()
    visitor.get(thread_url(question))
    hit = visitor.get(thread_url(question))
    search = visitor.get(reverse("knowledge:search"), {"q": "router"})

    assert hit[pagecache.HEADER] == "hit"
    assert not hit.cookies
    assert "csrfmiddlewaretoken" not in hit.content.decode()
    assert pagecache.HEADER not in search


def test_a_lost_generation_starts_a_new_one_instead_of_reviving_old_pages():
    question = QuestionFactory()
    visitor = Client()
    visitor.get(thread_url(question))
    old = pagecache.content_generation()

    cache.delete(pagecache.GENERATION_KEY)  # evicted, or the cache restarted

    assert pagecache.content_generation() != old
    assert visitor.get(thread_url(question))[pagecache.HEADER] == "miss"


def test_signed_in_list_counts_are_reused_until_a_write_changes_them(
    django_capture_on_commit_callbacks,
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    question = QuestionFactory()
    member = Client()
    sign_in(member, UserFactory())

    def counts_run_by_a_visit() -> list[str]:
        # Read at once: the next request resets the connection's query log.
        with CaptureQueriesContext(connection) as visit:
            member.get(reverse("community:home"))
        return [
            q["sql"]
            for q in visit.captured_queries
            if "COUNT(" in q["sql"] and '"community_question"' in q["sql"]
        ]

    first, repeat = counts_run_by_a_visit(), counts_run_by_a_visit()

    with django_capture_on_commit_callbacks(execute=True):
        services.question_create(
            author=UserFactory(),
            area=question.area,
            title="Mesh point will not join after the reset",
            body="The mesh point blinks blue forever after a factory reset.",
        )
    after = member.get(reverse("community:home"))

    assert len(first) == 2, "the first visit counts questions and questions per area"
    assert repeat == []
    assert after.context["page_obj"].paginator.count == 2
    assert b'aria-label="2 questions"' in after.content
