"""Search people trust (issue 3): ranking signals in documents, did-you-mean, the tier facet,
search logging, click tracking, search gaps, the similar-questions API and ask deflections."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from community import services as community_services
from knowledge import services
from knowledge.models import AskDeflection, SearchQueryLog
from knowledge.search import SearchDocument, get_backend
from knowledge.search.base import TIERS
from knowledge.search.documents import document_for
from knowledge.services import search_log
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

NOW = timezone.now()


def doc(pk, title, *, kind="article", **fields):
    defaults = {
        "type": "article" if kind == "article" else "thread",
        "problem": "",
        "solution": "",
        "tags": (),
        "area": "routers",
        "url": f"/kb/{kind}/{pk}/",
        "updated_at": NOW,
    }
    return SearchDocument(id=f"{kind}:{pk}", title=title, **{**defaults, **fields})


def index(*docs):
    get_backend().upsert(docs)


# --- Ranking signals in the documents ---------------------------------------------------------


def test_a_staff_validated_article_carries_the_staff_tier_its_votes_and_its_usage():
    area = ProductAreaFactory()
    answer = AnswerFactory(question=QuestionFactory(area=area), score=7)
    services.answer_validate(answer=answer, validator=moderator())
    article = answer.article
    agent = csr()
    services.article_record_usage(article=article, user=agent, case_ref="CASE-1")
    services.article_record_usage(article=article, user=agent, case_ref="CASE-2")

    document = document_for(f"article:{article.pk}")

    assert (TIERS[document.tier], document.votes, document.usage) == ("validated_staff", 7, 2)


def test_a_thread_takes_the_strongest_tier_of_its_answers(settings):
    settings.PEERDESK = {**settings.PEERDESK, "ENDORSE_SCORE": 5}
    area = ProductAreaFactory()
    question = QuestionFactory(area=area, score=2)
    plain = AnswerFactory(question=question, score=1)

    def tier():
        return TIERS[document_for(f"question:{question.pk}").tier]

    assert tier() == "unverified"
    question.accepted_answer = plain
    question.save(update_fields=["accepted_answer"])
    assert tier() == "accepted"
    endorsed = AnswerFactory(question=question, score=5)
    assert tier() == "endorsed"
    assert document_for(f"question:{question.pk}").votes == 2 + 5
    services.answer_validate(answer=endorsed, validator=expert(area))
    assert tier() == "validated_expert"


# --- Did you mean -----------------------------------------------------------------------------


def test_a_misspelled_search_shows_results_for_the_correction_with_a_way_back(client):
    index(doc(1, "Configure the router", solution="Open the admin page and save."))

    response = client.get(reverse("knowledge:search"), {"q": "confgure ruoter"})

    results = response.context["results"]
    assert results.corrected_query == "configure router"
    assert [hit.id for hit in results.hits] == ["article:1"]
    html = response.content.decode()
    assert "Showing results for <strong>configure router</strong>" in html
    assert "exact=1" in html
    log = SearchQueryLog.objects.get()
    assert (log.query, log.corrected_query, log.hit_count) == (
        "confgure ruoter",
        "configure router",
        1,
    )


def test_an_exact_search_is_never_corrected(client):
    index(doc(1, "Configure the router"))

    response = client.get(reverse("knowledge:search"), {"q": "confgure ruoter", "exact": "1"})

    assert response.context["results"].corrected_query == ""


def test_a_well_spelled_search_is_left_alone_and_the_api_says_so(client):
    index(doc(1, "Configure the router"))

    exact = client.get("/api/v1/search/", {"q": "configure router"}).json()
    typo = client.get("/api/v1/search/", {"q": "confgure ruoter"}).json()

    assert (exact["corrected_query"], exact["count"]) == ("", 1)
    assert (typo["query"], typo["corrected_query"]) == ("confgure ruoter", "configure router")
    assert typo["results"][0]["id"] == "article:1"


# --- Tier facet -------------------------------------------------------------------------------


def test_the_search_page_offers_the_standing_facet_and_filters_by_it(client):
    index(
        doc(1, "Router firmware", tier=3),
        doc(2, "Router firmware thread", kind="question", tier=1),
        doc(3, "Router firmware notes"),
    )

    page = client.get(reverse("knowledge:search"), {"q": "firmware"})
    tiers = {entry["value"]: entry for entry in page.context["facets"]["tier"]}
    filtered = client.get(reverse("knowledge:search"), {"q": "firmware", "tier": "accepted"})
    api = client.get("/api/v1/search/", {"q": "firmware", "tier": "validated_expert"}).json()

    assert {v: e["count"] for v, e in tiers.items()} == {"validated_expert": 1, "accepted": 1}
    assert tiers["accepted"]["label"] == "Accepted by the asker"
    assert "Validated by a certified expert" in page.content.decode()
    assert [hit.id for hit in filtered.context["results"].hits] == ["question:2"]
    assert [(r["id"], r["tier"]) for r in api["results"]] == [("article:1", "validated_expert")]
    assert client.get("/api/v1/search/", {"q": "x", "tier": "gold"}).status_code == 400


# --- Logging ----------------------------------------------------------------------------------


def test_each_search_writes_one_log_row_with_role_filters_and_hits(client):
    index(*(doc(i, f"Router question {i}", area="mesh") for i in range(1, 13)))
    client.force_login(expert(ProductAreaFactory()))

    client.get(reverse("knowledge:search"), {"q": "Router  question?", "area": "mesh"})
    client.get(reverse("knowledge:search"), {"q": "Router question", "page": 2})
    client.get("/api/v1/search/", {"q": "nothing like this"})

    page, api = SearchQueryLog.objects.order_by("pk")
    assert (page.source, page.user_role, page.hit_count) == ("page", "expert", 12)
    assert (page.query, page.normalized, page.filters) == (
        "Router  question?",
        "router question",
        {"area": "mesh"},
    )
    assert (api.source, api.user_role, api.hit_count) == ("api", "expert", 0)


@pytest.mark.parametrize(
    ("make_user", "role"),
    [
        (lambda: None, "anonymous"),
        (UserFactory, "member"),
        (csr, "csr"),
        (moderator, "moderator"),
    ],
)
def test_the_log_records_the_viewers_role(client, make_user, role):
    user = make_user()
    if user:
        client.force_login(user)

    client.get(reverse("knowledge:search"), {"q": "anything"})

    assert SearchQueryLog.objects.get().user_role == role


def test_zero_result_searches_are_listed_for_staff_only(client, django_assert_max_num_queries):
    index(doc(1, "Router reset"))
    for q in ("teleport my toaster", "Teleport my toaster!", "router reset", "zebra firmware"):
        client.get(reverse("knowledge:search"), {"q": q, "exact": "1"})
    SearchQueryLog.objects.filter(normalized="zebra firmware").update(
        created_at=timezone.now() - dt.timedelta(days=31)
    )
    url = reverse("knowledge:search_gaps")

    anonymous = client.get(url)
    client.force_login(UserFactory())
    member = client.get(url)
    client.force_login(csr())
    with django_assert_max_num_queries(6):
        staff = client.get(url)

    assert anonymous.status_code == 302
    assert member.status_code == 403
    gaps = staff.context["gaps"]
    assert [(g["normalized"], g["count"]) for g in gaps] == [("teleport my toaster", 2)]
    assert "teleport my toaster" in staff.content.decode().lower()


# --- Click tracking ---------------------------------------------------------------------------


def test_result_links_go_through_the_click_log_to_the_result(client):
    index(doc(1, "Router reset", url="/kb/articles/1/"))
    page = client.get(reverse("knowledge:search"), {"q": "router"})
    click_url = page.context["click_urls"]["article:1"]
    assert click_url.startswith(reverse("knowledge:search_click"))
    assert f'href="{click_url.replace("&", "&amp;")}"' in page.content.decode()

    response = client.get(click_url)

    assert response.status_code == 302
    assert response["Location"] == "/kb/articles/1/"
    log = SearchQueryLog.objects.get()
    assert log.clicked_doc_id == "article:1"
    assert log.clicked_at is not None
    assert not AskDeflection.objects.exists()  # a search-page click deflects nothing


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/phish",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http://testserver.evil.example/",
        "",
    ],
)
def test_the_click_redirect_never_leaves_the_site(client, target):
    log = search_log.search_log_record(viewer=None, query="router", source="page", hit_count=1)
    token = search_log.search_log_token(log)

    response = client.get(
        reverse("knowledge:search_click"), {"log": token, "doc": "article:1", "next": target}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("knowledge:search")


def test_a_forged_or_malformed_click_records_nothing_but_still_redirects(client):
    log = search_log.search_log_record(viewer=None, query="router", source="page", hit_count=1)
    url = reverse("knowledge:search_click")

    forged = client.get(url, {"log": str(log.pk), "doc": "article:1", "next": "/kb/"})
    bad_doc = client.get(
        url, {"log": search_log.search_log_token(log), "doc": "user:1", "next": "/kb/"}
    )

    assert (forged["Location"], bad_doc["Location"]) == ("/kb/", "/kb/")
    log.refresh_from_db()
    assert log.clicked_doc_id == ""


# --- Similar questions API and deflections ----------------------------------------------------


def test_the_similar_api_lists_documents_like_the_typed_question_without_internal_ones(client):
    index(
        doc(1, "Router light blinks amber", solution="Power-cycle the router.", tier=3),
        doc(2, "Router light blinks amber internally", audience="internal"),
        doc(3, "Printer paper jam", solution="Open the rear tray."),
    )

    response = client.get("/api/v1/similar/", {"q": "Why does my router light blink amber?"})
    client.force_login(csr())
    staff = client.get("/api/v1/similar/", {"q": "Why does my router light blink amber?"})

    assert response.status_code == 200
    body = response.json()
    assert [(r["id"], r["tier"]) for r in body] == [("article:1", "validated_expert")]
    assert body[0]["url"] == "http://testserver/kb/article/1/"
    assert ">router</mark>" in body[0]["snippet"]
    assert sorted(r["id"] for r in staff.json()) == ["article:1", "article:2"]
    assert client.get("/api/v1/similar/", {"q": "router"}).json() == []
    assert client.get("/api/v1/similar/").status_code == 400
    assert SearchQueryLog.objects.filter(source="api").count() == 2


def _ask_page_click(client, text="Router light keeps blinking amber"):
    suggestions = client.get(reverse("knowledge:similar"), {"q": text}).json()
    return client.get(suggestions[0]["click_url"])


def test_clicking_an_ask_page_suggestion_records_a_deflection(client):
    index(doc(1, "Router light blinks amber", url="/kb/articles/1/"))
    member = UserFactory()
    client.force_login(member)

    response = _ask_page_click(client)

    assert response["Location"] == "/kb/articles/1/"
    log = SearchQueryLog.objects.get()
    assert (log.source, log.clicked_doc_id) == ("ask-similar", "article:1")
    deflection = AskDeflection.objects.get()
    assert (deflection.user, deflection.doc_id, deflection.cancelled_at) == (
        member,
        "article:1",
        None,
    )


def test_asking_after_clicking_a_suggestion_cancels_the_deflection(
    client, django_capture_on_commit_callbacks
):
    index(doc(1, "Router light blinks amber"))
    member, other = UserFactory(), UserFactory()
    client.force_login(member)
    _ask_page_click(client)
    client.force_login(other)
    _ask_page_click(client)

    question = community_services.question_create(
        author=member,
        area=ProductAreaFactory(),
        title="Router light still blinks amber",
        body="The suggested article did not help: the light keeps blinking.",
    )

    mine, theirs = AskDeflection.objects.get(user=member), AskDeflection.objects.get(user=other)
    assert mine.cancelled_at is not None
    assert mine.cancelled_by_question == question
    assert theirs.cancelled_at is None


def test_a_suggestion_clicked_while_signed_out_is_claimed_at_sign_in(client):
    index(doc(1, "Router light blinks amber"))
    member = UserFactory()
    _ask_page_click(client)
    assert AskDeflection.objects.get().user is None

    client.force_login(member)  # django.contrib.auth.login: sends user_logged_in
    community_services.question_create(
        author=member,
        area=ProductAreaFactory(),
        title="Router light still blinks amber",
        body="The suggested article did not help: the light keeps blinking.",
    )

    deflection = AskDeflection.objects.get()
    assert deflection.user == member
    assert deflection.cancelled_at is not None
