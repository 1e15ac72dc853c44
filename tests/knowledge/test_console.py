"""The CSR console: the /kb/agent/ page, its agent API (search, usage, recent), the usage
service and selectors, and the enrichment that makes a hit trustworthy to paste."""

import dataclasses
import datetime as dt
import time
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from community import services as community_services
from community.models import AuditEntry, User
from knowledge import selectors, services
from knowledge.models import Article, ArticleUsage, SearchQueryLog, Validation
from knowledge.search import get_backend
from knowledge.search.documents import document_for
from knowledge.serializers import freshness_label
from knowledge.services import search_log
from tests.factories import (
    AnswerFactory,
    ArticleFactory,
    ProductAreaFactory,
    QuestionFactory,
    TagFactory,
    UserFactory,
    csr,
    expert,
    moderator,
)

pytestmark = pytest.mark.django_db

CONSOLE = "/kb/agent/"


def api(name: str, **kwargs) -> str:
    return reverse(f"api-v1:{name}", kwargs=kwargs or None)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _index(*objs) -> None:
    """Index articles and threads through the real document mapping, keeping each article's
    audience (the mapping is being taught about audiences in parallel)."""
    docs = []
    for obj in objs:
        if isinstance(obj, Article):
            doc = document_for(f"article:{obj.pk}")
            docs.append(dataclasses.replace(doc, audience=obj.audience))
        else:
            docs.append(document_for(f"question:{obj.pk}"))
    get_backend().upsert(docs)


@pytest.fixture
def area():
    return ProductAreaFactory(name="Lumen Mesh Wi-Fi", slug="mesh")


@pytest.fixture
def agent():
    return csr(display_name="Casey Agent")


@pytest.fixture
def validated_article(area, django_capture_on_commit_callbacks):
    """A thread validated by a moderator and by the area's expert, promoted through the services."""
    with django_capture_on_commit_callbacks(execute=True):
        question = community_services.question_create(
            author=UserFactory(),
            area=area,
            title="Mesh satellite keeps dropping off the network",
            body="The second satellite loses its connection every evening around 8 pm.",
            tags="satellite wifi",
        )
        answer = community_services.answer_create(
            question=question,
            author=UserFactory(),
            body=(
                "Move the satellite **within two rooms** of the router.\n\n"
                "1. Update to firmware 2.4\n2. Restart the router\n\n"
                "See [the firmware notes](https://example.com/fw)."
            ),
        )
        services.answer_validate(
            answer=answer, validator=expert(area, display_name="Erin Expert"), note="ok"
        )
        services.answer_validate(
            answer=answer, validator=moderator(display_name="Mo Derator"), note="ok"
        )
    article = Article.objects.get(source_answer=answer)
    _index(article)
    return article


# --- The page -----------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in_before_the_console(client):
    response = client.get(CONSOLE)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_members_and_experts_cannot_open_the_console(client, area):
    for user in (UserFactory(), expert(area)):
        client.force_login(user)
        response = client.get(CONSOLE)

        assert response.status_code == 403
        assert "agent console is for support agents and staff" in response.content.decode()


def test_csrs_and_moderators_get_the_console_with_the_search_box_focused(client, agent):
    for user in (agent, moderator()):
        client.force_login(user)
        response = client.get(CONSOLE)

        body = response.content.decode()
        assert response.status_code == 200
        assert 'id="agent-q"' in body and "autofocus" in body
        assert 'role="listbox"' in body
        assert reverse("api-v1:agent-search") in body
        assert "js/agent.js" in body


def test_the_short_agent_address_leads_to_the_console(client):
    response = client.get("/agent/?q=router")

    assert response.status_code == 302
    assert response["Location"] == f"{CONSOLE}?q=router"
    assert reverse("knowledge:agent_console") == CONSOLE


def test_the_navigation_links_the_console_for_staff_only(client, agent):
    client.force_login(UserFactory())
    assert "Agent console" not in client.get("/").content.decode()

    client.force_login(agent)
    assert "Agent console" in client.get("/").content.decode()


def test_the_console_page_lists_the_agents_recently_used_articles(client, agent, validated_article):
    services.article_record_usage(article=validated_article, user=agent, case_ref="CASE-77")
    client.force_login(agent)

    body = client.get(CONSOLE).content.decode()

    assert "Mesh satellite keeps dropping off the network" in body
    assert "CASE-77" in body


# --- API permissions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "name", "kwargs"),
    [
        ("get", "agent-search", {}),
        ("post", "agent-search-click", {}),
        ("post", "agent-article-usage", {"pk": 1}),
        ("get", "agent-recent", {}),
    ],
)
def test_the_agent_api_answers_anonymous_callers_with_401_and_members_with_403(
    method, name, kwargs
):
    url = api(name, **kwargs)
    data = {"q": "router"} if method == "get" else {"case_ref": "CASE-1"}

    anonymous = getattr(APIClient(), method)(url, data)
    member = getattr(client_for(UserFactory()), method)(url, data)

    assert anonymous.status_code == 401
    assert "WWW-Authenticate" in anonymous
    assert member.status_code == 403
    assert member.json() == {"detail": "The agent console is for support agents and staff."}


def test_a_helpdesk_tool_uses_the_agent_api_with_a_token(agent, validated_article):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=agent)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = client.get(api("agent-search"), {"q": "satellite"})

    assert response.status_code == 200
    assert response.json()["results"][0]["article_id"] == validated_article.pk


def test_the_agent_search_needs_a_query(agent):
    response = client_for(agent).get(api("agent-search"), {"q": ""})

    assert response.status_code == 400
    assert response.json() == {"q": ["Enter something to search for."]}


# --- Search logging (issue 3) -------------------------------------------------------------


def test_a_console_search_is_logged_with_the_agents_role_and_hit_count(agent, validated_article):
    response = client_for(agent).get(api("agent-search"), {"q": "Satellite dropping?"})

    log = SearchQueryLog.objects.get()
    assert (log.source, log.user_role) == ("console", "csr")
    assert (log.query, log.normalized) == ("Satellite dropping?", "satellite dropping")
    assert log.hit_count == response.json()["count"] >= 1
    assert log.filters == {} and log.clicked_doc_id == ""
    assert response.json()["log"] == search_log.search_log_token(log)


def test_a_moderators_console_search_is_logged_as_staff(validated_article):
    client_for(moderator()).get(api("agent-search"), {"q": "satellite"})

    assert SearchQueryLog.objects.get().user_role == "moderator"


def test_typing_on_refines_one_logged_search_until_a_result_is_used(agent, validated_article):
    client = client_for(agent)
    first = client.get(api("agent-search"), {"q": "sat"}).json()
    second = client.get(api("agent-search"), {"q": "satellite", "refine": first["log"]}).json()

    log = SearchQueryLog.objects.get()  # one search, as the agent settled on it
    assert (log.query, log.hit_count) == ("satellite", second["count"])
    assert second["count"] >= 1
    assert second["log"] == first["log"]

    client.post(api("agent-search-click"), {"log": second["log"], "doc": "article:1"})
    client.get(api("agent-search"), {"q": "satellite evening", "refine": second["log"]})
    client.get(api("agent-search"), {"q": "router", "refine": "forged-token"})

    queries = list(SearchQueryLog.objects.order_by("pk").values_list("query", flat=True))
    assert queries == ["satellite", "satellite evening", "router"]


def test_a_refine_reference_from_a_page_search_or_a_stale_one_starts_a_new_log(
    agent, validated_article, client
):
    client.force_login(agent)
    client.get(reverse("knowledge:search"), {"q": "satellite"})
    page_log = SearchQueryLog.objects.get(source="page")
    stale = SearchQueryLog.objects.create(
        query="old", normalized="old", user_role="csr", source="console"
    )
    api_client = client_for(agent)
    api_client.get(
        api("agent-search"), {"q": "mesh", "refine": search_log.search_log_token(page_log)}
    )
    earlier = time.time() - (search_log.REFINE_WINDOW + dt.timedelta(seconds=5)).total_seconds()
    with mock.patch("django.core.signing.time.time", return_value=earlier):
        old_token = search_log.search_log_token(stale)
    api_client.get(api("agent-search"), {"q": "mesh satellite", "refine": old_token})

    page_log.refresh_from_db()
    stale.refresh_from_db()
    assert (page_log.query, stale.query) == ("satellite", "old")
    assert SearchQueryLog.objects.filter(source="console").count() == 3


def test_opening_copying_or_using_a_result_records_it_on_the_search(agent, validated_article):
    client = client_for(agent)
    found = client.get(api("agent-search"), {"q": "satellite"}).json()
    doc = found["results"][0]["id"]

    response = client.post(api("agent-search-click"), {"log": found["log"], "doc": doc})

    assert response.status_code == 204
    log = SearchQueryLog.objects.get()
    assert log.clicked_doc_id == doc and log.clicked_at is not None


def test_a_click_with_a_bad_reference_changes_nothing_and_a_bad_result_id_is_a_400(agent):
    client = client_for(agent)
    log = SearchQueryLog.objects.create(
        query="x", normalized="x", user_role="csr", source="console"
    )

    forged = client.post(api("agent-search-click"), {"log": "nope", "doc": "article:1"})
    bad_doc = client.post(
        api("agent-search-click"),
        {"log": search_log.search_log_token(log), "doc": "<script>"},
    )

    assert forged.status_code == 204
    assert bad_doc.status_code == 400 and "doc" in bad_doc.json()
    log.refresh_from_db()
    assert log.clicked_doc_id == ""


def test_zero_result_console_searches_show_in_the_staff_content_gaps(
    agent, client, validated_article
):
    api_client = client_for(agent)
    for q in ("teleport my toaster", "Teleport my toaster!"):
        body = api_client.get(api("agent-search"), {"q": q}).json()
        assert body["count"] == 0

    client.force_login(moderator())
    response = client.get(reverse("knowledge:search_gaps"))

    assert [(g["normalized"], g["count"]) for g in response.context["gaps"]] == [
        ("teleport my toaster", 2)
    ]
    assert "teleport my toaster" in response.content.decode().lower()


def test_a_failed_log_write_still_answers_the_search(agent, validated_article, monkeypatch):
    from django.db import DatabaseError

    def broken(**kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(SearchQueryLog.objects, "create", broken)
    response = client_for(agent).get(api("agent-search"), {"q": "satellite"})

    assert response.status_code == 200
    assert response.json()["count"] >= 1 and response.json()["log"] == ""


def test_the_console_page_knows_where_to_record_clicks(client, agent):
    client.force_login(agent)
    page = client.get(CONSOLE).content.decode()
    assert f'data-click-url="{api("agent-search-click")}"' in page


# --- Search payload -----------------------------------------------------------------------


def test_an_article_hit_carries_tier_validators_freshness_solution_and_links(
    agent, validated_article
):
    response = client_for(agent).get(api("agent-search"), {"q": "satellite dropping"})

    body = response.json()
    hit = body["results"][0]
    assert body["query"] == "satellite dropping"
    assert hit["id"] == f"article:{validated_article.pk}"
    assert hit["type"] == "article"
    assert hit["title"] == "Mesh satellite keeps dropping off the network"
    assert hit["tier"] == "validated_staff"
    assert hit["tier_label"] == "Validated by staff"
    assert hit["validators"] == ["Mo Derator", "Erin Expert"]  # staff first
    assert hit["freshness"] == "updated just now"
    assert hit["needs_review"] is False
    assert hit["audience"] == "public"
    assert hit["area"] == "mesh" and hit["area_name"] == "Lumen Mesh Wi-Fi"
    assert hit["usage_count"] == 0
    assert hit["url"] == hit["public_url"]
    assert hit["public_url"].startswith("http://testserver/kb/articles/")
    assert hit["solution_markdown"].startswith("Move the satellite **within two rooms**")
    assert hit["solution_text"] == (
        "Move the satellite within two rooms of the router.\n\n"
        "1. Update to firmware 2.4\n2. Restart the router\n\n"
        "See the firmware notes (https://example.com/fw)."
    )
    assert "".join(part["text"] for part in hit["snippet_parts"]) == hit["snippet_text"]
    assert any(part["match"] for part in hit["snippet_parts"])
    assert "<" not in "".join(part["text"] for part in hit["snippet_parts"])
    assert [t["is_source"] for t in hit["related_threads"]] == [True]
    assert hit["related_threads"][0]["url"].endswith(
        f"/questions/{validated_article.source_question_id}/"
    )


def test_an_article_validated_only_by_an_expert_is_labelled_expert(area):
    article = ArticleFactory(source_answer=AnswerFactory(question=QuestionFactory(area=area)))
    services.answer_validate(answer=article.source_answer, validator=expert(area))
    article.refresh_from_db()
    _index(article)

    hit = selectors.console_search(viewer=csr(), query="router").results[0]

    assert hit.tier == "validated_expert"
    assert hit.tier_label == "Validated by a certified expert"


def test_console_hits_and_the_thread_page_name_a_tier_with_the_same_words(area):
    # An expert-validated answer, an accepted one and a plain one: the console labels each as
    # the answer's standing (knowledge/standing.py) does.
    validated = ArticleFactory(source_answer=AnswerFactory(question=QuestionFactory(area=area)))
    services.answer_validate(answer=validated.source_answer, validator=expert(area))
    validated.refresh_from_db()
    accepted_q = QuestionFactory(area=area, title="Chime silent after an update")
    accepted = AnswerFactory(question=accepted_q, body="Re-pair the chime.")
    accepted_q.accepted_answer = accepted
    accepted_q.save()
    plain_q = QuestionFactory(area=area, title="Doorbell battery drains in a week")
    plain = AnswerFactory(question=plain_q, body="Lower the motion sensitivity.")
    _index(validated, accepted_q, plain_q)
    answers = [validated.source_answer, accepted, plain]
    for answer in answers:
        answer.refresh_from_db()
    standings = selectors.answer_standings(answers=answers)

    def console_label(query):
        return selectors.console_search(viewer=csr(), query=query).results[0].tier_label

    assert console_label("router") == standings[validated.source_answer_id].tier_label
    assert console_label("chime") == standings[accepted.pk].tier_label
    assert console_label("battery") == standings[plain.pk].tier_label == "Community answer"


def test_a_validation_awaiting_recheck_no_longer_vouches_for_the_article(validated_article):
    Validation.objects.filter(validator__display_name="Mo Derator").update(
        status=Validation.Status.NEEDS_RECHECK
    )

    hit = selectors.console_search(viewer=csr(), query="satellite").results[0]

    assert hit.validators == ("Erin Expert",)
    assert hit.tier == "validated_expert"


def test_related_threads_are_the_source_then_threads_sharing_tags_at_most_three(
    area, validated_article
):
    satellite, wifi = TagFactory(slug="satellite"), TagFactory(slug="wifi")
    both = QuestionFactory(area=area, title="Satellite and wifi both flaky", tags=[satellite, wifi])
    both.score = 1
    both.save()
    QuestionFactory(area=area, title="Only wifi is slow", tags=[wifi])
    QuestionFactory(area=area, title="Only satellite blinks", tags=[satellite])
    hidden = QuestionFactory(area=area, title="Spam about satellites", tags=[satellite, wifi])
    hidden.status = "hidden"
    hidden.save()

    hit = selectors.console_search(viewer=csr(), query="dropping").results[0]

    titles = [t.title for t in hit.related_threads]
    assert len(titles) == 3
    assert titles[0] == "Mesh satellite keeps dropping off the network"
    assert titles[1] == "Satellite and wifi both flaky"  # shares the most tags
    assert "Spam about satellites" not in titles  # customers could not open it


def test_an_article_in_review_is_flagged_with_its_reason_and_age(agent, validated_article):
    Article.objects.filter(pk=validated_article.pk).update(
        status=Article.Status.NEEDS_REVIEW,
        review_reason="Source answer edited",
        updated_at=timezone.now() - dt.timedelta(days=3, hours=2),
    )

    hit = client_for(agent).get(api("agent-search"), {"q": "satellite"}).json()["results"][0]

    assert hit["needs_review"] is True
    assert hit["review_reason"] == "Source answer edited"
    assert hit["freshness"] == "updated 3 days ago"


def test_a_thread_hit_offers_its_best_answer_and_links_to_it(agent, area):
    question = QuestionFactory(area=area, title="Doorbell chime stays silent after update")
    AnswerFactory(question=question, body="Turn it off and on again.")
    accepted = AnswerFactory(question=question, body="Re-pair the chime from the *app*.")
    question.accepted_answer = accepted
    question.save()
    _index(question)

    hit = client_for(agent).get(api("agent-search"), {"q": "chime"}).json()["results"][0]

    assert hit["type"] == "thread_accepted"
    assert hit["article_id"] is None
    assert hit["tier"] == "accepted"
    assert hit["validators"] == []
    assert hit["solution_markdown"] == "Re-pair the chime from the *app*."
    assert hit["solution_text"] == "Re-pair the chime from the app."
    assert hit["public_url"].endswith(f"#answer-{accepted.pk}")
    assert hit["related_threads"] == []


def test_internal_articles_reach_csrs_but_the_same_endpoint_refuses_members(area):
    article = ArticleFactory(
        title="Internal runbook: replacing a recalled router",
        source_answer=AnswerFactory(question=QuestionFactory(area=area)),
        audience=Article.Audience.INTERNAL,
        solution="Escalate to tier two with the serial number.",
    )
    _index(article)

    agent_response = client_for(csr()).get(api("agent-search"), {"q": "recalled router"})
    member_response = client_for(UserFactory()).get(api("agent-search"), {"q": "recalled router"})

    hit = agent_response.json()["results"][0]
    assert hit["audience"] == "internal"
    assert hit["solution_markdown"] == "Escalate to tier two with the serial number."
    assert member_response.status_code == 403
    assert "recalled" not in member_response.content.decode()
    assert "tier two" not in member_response.content.decode()


def test_hits_whose_rows_are_gone_or_unpublished_are_dropped(agent, validated_article):
    Article.objects.filter(pk=validated_article.pk).update(status=Article.Status.DRAFT)

    results = selectors.console_search(viewer=agent, query="satellite").results

    assert [r.id for r in results if r.type == "article"] == []


def test_the_console_search_refuses_members_at_the_selector_too(validated_article):
    with pytest.raises(PermissionDenied):
        selectors.console_search(viewer=UserFactory(), query="satellite")


def _make_articles(area, count):
    tags = [TagFactory(slug=f"router-{n}") for n in range(3)]
    articles = []
    for n in range(count):
        question = QuestionFactory(area=area, title=f"Router keeps rebooting model {n}", tags=tags)
        answer = AnswerFactory(question=question)
        services.answer_validate(answer=answer, validator=expert(area))
        articles.append(Article.objects.get(source_answer=answer))
        thread = QuestionFactory(area=area, title=f"Router reboot loop thread {n}", tags=tags)
        AnswerFactory(question=thread)
        _index(thread)
    _index(*articles)
    return articles


def test_the_agent_search_costs_the_same_queries_for_3_and_20_results(agent, area):
    def queries_for(n_expected):
        # A fresh user object each time: role lookups are memoised on the instance.
        client = client_for(User.objects.get(pk=agent.pk))
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(api("agent-search"), {"q": "router", "limit": 20})
        assert len(response.json()["results"]) == n_expected
        return len(ctx)

    _make_articles(area, 2)  # 2 articles + 2 threads (below: + the 1 more thread + article)
    _make_articles(ProductAreaFactory(slug="other"), 1)
    few = queries_for(6)
    _make_articles(area, 7)
    many = queries_for(20)

    assert few == many
    assert many <= 12


# --- Used for case ------------------------------------------------------------------------


def test_recording_usage_saves_it_audits_it_and_counts_it(agent, validated_article):
    response = client_for(agent).post(
        api("agent-article-usage", pk=validated_article.pk), {"case_ref": " ZD#88123 "}
    )

    assert response.status_code == 201
    body = response.json()
    assert body["case_ref"] == "ZD#88123"
    assert body["article_id"] == validated_article.pk
    assert body["usage_count"] == 1
    usage = ArticleUsage.objects.get()
    assert (usage.user, usage.article, usage.case_ref) == (agent, validated_article, "ZD#88123")
    entry = AuditEntry.objects.get(action="knowledge.article.used")
    assert entry.actor == agent
    assert entry.target_id == str(validated_article.pk)
    assert entry.data == {"usage": usage.pk, "case_ref": "ZD#88123"}
    assert selectors.article_usage_counts([validated_article.pk]) == {validated_article.pk: 1}


@pytest.mark.parametrize(
    ("case_ref", "message"),
    [
        ("", "Enter the case reference this article resolved."),
        ("   ", "Enter the case reference this article resolved."),
        ("CASE 12", "Use letters, digits and - _ # / . only"),
        ("https://desk.example.com/?id=1", "Use letters, digits and - _ # / . only"),
        ("<script>", "Use letters, digits and - _ # / . only"),
        ("A" * 81, "Ensure this value has at most 80 characters"),
    ],
)
def test_a_bad_case_reference_is_a_field_error_and_records_nothing(
    agent, validated_article, case_ref, message
):
    response = client_for(agent).post(
        api("agent-article-usage", pk=validated_article.pk), {"case_ref": case_ref}
    )

    assert response.status_code == 400
    assert list(response.json()) == ["case_ref"]
    assert response.json()["case_ref"][0].startswith(message)
    assert not ArticleUsage.objects.exists()
    assert not AuditEntry.objects.filter(action="knowledge.article.used").exists()


def test_usage_of_an_unknown_article_is_404_and_of_a_draft_is_refused(agent, validated_article):
    client = client_for(agent)
    assert (
        client.post(api("agent-article-usage", pk=999999), {"case_ref": "C-1"}).status_code == 404
    )

    Article.objects.filter(pk=validated_article.pk).update(status=Article.Status.DRAFT)
    response = client.post(api("agent-article-usage", pk=validated_article.pk), {"case_ref": "C-1"})

    assert response.status_code == 400
    assert response.json() == {
        "article": ["Only a published article can be recorded as used for a case."]
    }


def test_members_cannot_record_usage_through_the_service(validated_article):
    with pytest.raises(PermissionDenied):
        services.article_record_usage(
            article=validated_article, user=UserFactory(), case_ref="CASE-1"
        )

    with pytest.raises(ValidationError):
        services.article_record_usage(article=validated_article, user=csr(), case_ref="bad ref")
    assert not ArticleUsage.objects.exists()


def test_recording_usage_is_rate_limited(settings, agent, validated_article):
    settings.PEERDESK = {
        **settings.PEERDESK,
        "RATE_LIMITS": {**settings.PEERDESK["RATE_LIMITS"], "usage": 2},
    }
    client = client_for(agent)
    url = api("agent-article-usage", pk=validated_article.pk)

    statuses = [client.post(url, {"case_ref": f"C-{n}"}).status_code for n in range(3)]

    assert statuses == [201, 201, 429]
    assert ArticleUsage.objects.count() == 2


def test_usage_counts_feed_the_search_payload_and_count_zero_for_unused(agent, validated_article):
    other = ArticleFactory()
    for ref in ("C-1", "C-2"):
        services.article_record_usage(article=validated_article, user=agent, case_ref=ref)

    counts = selectors.article_usage_counts([validated_article.pk, other.pk])
    hit = client_for(agent).get(api("agent-search"), {"q": "satellite"}).json()["results"][0]

    assert counts == {validated_article.pk: 2, other.pk: 0}
    assert hit["usage_count"] == 2
    assert selectors.article_usage_counts([]) == {}


# --- Recently used ------------------------------------------------------------------------


def test_recent_lists_the_agents_last_ten_distinct_articles_newest_first(agent):
    articles = [ArticleFactory(title=f"Recent article number {n}") for n in range(12)]
    start = timezone.now() - dt.timedelta(hours=1)
    for n, article in enumerate(articles):
        ArticleUsage.objects.create(
            article=article, user=agent, case_ref=f"C-{n}", used_at=start + dt.timedelta(minutes=n)
        )
    # Used again most recently: listed once, first, with the newest case.
    ArticleUsage.objects.create(
        article=articles[0], user=agent, case_ref="C-again", used_at=timezone.now()
    )
    # Someone else's usage never shows in this agent's list.
    ArticleUsage.objects.create(
        article=ArticleFactory(title="Another agent's article"),
        user=csr(),
        case_ref="X-1",
        used_at=timezone.now(),
    )

    response = client_for(agent).get(api("agent-recent"))

    body = response.json()
    assert response.status_code == 200
    assert [item["title"] for item in body] == [
        "Recent article number 0",
        *[f"Recent article number {n}" for n in range(11, 2, -1)],
    ]
    assert body[0]["last_case_ref"] == "C-again"
    assert body[1]["last_case_ref"] == "C-11"
    assert {"id", "url", "area", "area_name", "status", "audience", "last_used_at"} <= set(body[0])


def test_recent_and_the_console_page_cost_the_same_queries_for_3_and_10_articles(
    client, agent, django_assert_max_num_queries
):
    def use(count):
        for n in range(count):
            ArticleUsage.objects.create(article=ArticleFactory(), user=agent, case_ref=f"C-{n}")

    client.force_login(agent)
    use(3)
    with CaptureQueriesContext(connection) as few_api:
        client_for(User.objects.get(pk=agent.pk)).get(api("agent-recent"))
    with CaptureQueriesContext(connection) as few_page:
        client.get(CONSOLE)
    use(7)
    api_client = client_for(User.objects.get(pk=agent.pk))
    with django_assert_max_num_queries(len(few_api)):
        assert len(api_client.get(api("agent-recent")).json()) == 10
    with django_assert_max_num_queries(len(few_page)):
        assert client.get(CONSOLE).status_code == 200


# --- Helpers ------------------------------------------------------------------------------


def test_snippet_parts_turn_highlighted_html_into_plain_text_runs():
    snippet = 'Hold <mark class="match term0">reset</mark> for &lt;10&gt; s &amp; <b>wait</b>'

    parts = selectors.snippet_parts(snippet)

    assert parts == (
        ("Hold ", False),
        ("reset", True),
        (" for <10> s & <b>wait</b>", False),  # literal text, never markup
    )


def test_solution_plain_text_keeps_paragraphs_lists_code_and_link_targets():
    html = (
        "<p>First <strong>do</strong> this.</p><ul><li>one</li><li>two<ul><li>nested</li></ul>"
        "</li></ul><pre><code>a  b\nc</code></pre><p><a href='https://x.example/'>"
        "https://x.example/</a> &amp; more</p>"
    )

    assert selectors.solution_plain_text(html) == (
        "First do this.\n\n- one\n- two\n  - nested\n\na  b\nc\n\nhttps://x.example/ & more"
    )


def test_freshness_says_how_long_ago_in_the_largest_unit():
    now = timezone.now()

    assert freshness_label(now - dt.timedelta(seconds=20), now) == "updated just now"
    assert freshness_label(now - dt.timedelta(minutes=5), now) == "updated 5 minutes ago"
    assert freshness_label(now - dt.timedelta(days=3, hours=5), now) == "updated 3 days ago"
    assert freshness_label(now - dt.timedelta(days=400), now) == "updated 1 year ago"


def test_hits_are_looked_up_by_id_not_found_by_walking_an_ordered_index():
    """With the models' default ordering, SQLite served "id IN (the hits) AND status = visible
    ORDER BY activity" by walking every visible question in activity order (22 ms at 100k)."""
    from knowledge.search.base import SearchHit

    questions = QuestionFactory.create_batch(3)
    article = ArticleFactory()
    hits = [
        SearchHit(
            id=f"question:{q.pk}",
            type="thread",
            title=q.title,
            snippet="",
            url="",
            area="",
            tags=(),
            score=1.0,
        )
        for q in questions
    ] + [
        SearchHit(
            id=f"article:{article.pk}",
            type="article",
            title="",
            snippet="",
            url="",
            area="",
            tags=(),
            score=1.0,
        )
    ]
    with CaptureQueriesContext(connection) as ctx:
        results = selectors.console_results_for_hits(viewer=csr(), hits=hits)
    assert len(results) == 4
    lookups = [
        q["sql"]
        for q in ctx
        if q["sql"].startswith(('SELECT "community_question"', 'SELECT "knowledge_article"'))
        and " IN (" in q["sql"]
    ]
    assert lookups
    with connection.cursor() as cursor:
        for sql in lookups:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert "ORDER BY" not in sql.rsplit(")", 1)[-1], sql
            assert "INTEGER PRIMARY KEY" in plan, plan


def test_related_threads_are_found_from_the_articles_tags_not_from_every_visible_thread():
    """Given visibility as a join condition on status, SQLite walked every visible thread to
    rank each tag's threads (591 ms for ten articles at 100k threads)."""
    from knowledge.selectors.console import _related_threads

    tags = TagFactory.create_batch(12)  # an IN list long enough to tempt the planner
    article = ArticleFactory()
    article.tags.add(*tags)
    QuestionFactory(tags=tags[:2])
    with CaptureQueriesContext(connection) as ctx:
        _related_threads([article])
    (sql,) = [q["sql"] for q in ctx if "ROW_NUMBER" in q["sql"].upper()]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        plan = [str(row[-1]) for row in cursor.fetchall()]
    first_search = next(step for step in plan if step.startswith(("SEARCH", "SCAN")))
    assert "community_question_tags" in first_search and "(tag_id=?)" in first_search, plan


def test_related_threads_reuse_each_tags_best_threads_until_a_write(settings):
    from community import pagecache
    from knowledge.selectors.console import _related_threads

    settings.PEERDESK_PAGE_CACHE = {"SECONDS": 60, "VIEWS": set()}
    tag = TagFactory()
    article = ArticleFactory()
    article.tags.add(tag)
    low = QuestionFactory(tags=[tag], score=1, title="Low-scored thread")
    QuestionFactory(tags=[tag], score=5, title="High-scored thread")

    def related() -> tuple[list[str], int]:
        with CaptureQueriesContext(connection) as ctx:
            threads = _related_threads([article])[article.pk]
        windows = sum("ROW_NUMBER" in q["sql"].upper() for q in ctx.captured_queries)
        return [t.title for t in threads if not t.is_source], windows

    assert related() == (["High-scored thread", "Low-scored thread"], 1)
    assert related() == (["High-scored thread", "Low-scored thread"], 0)  # kept per tag

    low.score = 9
    low.save(update_fields=["score"])
    pagecache.bump_content_generation()  # what every write request and thread event does
    assert related() == (["Low-scored thread", "High-scored thread"], 1)
