"""Knowledge-base pages: validating from the thread, articles, search, similar questions, and the
thread_knowledge tag the community thread page renders."""

import pytest
from django.db import connection
from django.template import engines
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from community import selectors as community_selectors
from community import services as community_services
from community.models import User
from knowledge import services
from knowledge.models import Article, ArticleRevision, Validation
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


@pytest.fixture
def area():
    return ProductAreaFactory(name="Lumen Mesh Wi-Fi", slug="mesh")


@pytest.fixture
def other_area():
    return ProductAreaFactory(name="Lumen Doorbell", slug="doorbell")


@pytest.fixture
def thread(area, django_capture_on_commit_callbacks):
    """A real question and answer, created and indexed through the services."""
    asker, helper = UserFactory(), UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        question = community_services.question_create(
            author=asker,
            area=area,
            title="Mesh satellite keeps dropping off the network",
            body="The second satellite loses its connection every evening around 8 pm.",
            tags="satellite wifi",
        )
        answer = community_services.answer_create(
            question=question,
            author=helper,
            body="Move the satellite within two rooms of the router and update to firmware 2.4.",
        )
    return question, answer


def _validate(answer, validator, capture, note=""):
    with capture(execute=True):
        return services.answer_validate(answer=answer, validator=validator, note=note)


def _validate_url(answer):
    return reverse("knowledge:validate", kwargs={"pk": answer.pk})


def _thread_url(question):
    return reverse("community:question", kwargs={"pk": question.pk})


# --- Validating from the thread -------------------------------------------------------------


def test_the_validate_button_appears_only_for_the_areas_expert_and_moderators(
    client, thread, area, other_area
):
    question, answer = thread
    form_action = f'action="{_validate_url(answer)}"'
    for viewer, sees_button in [
        (expert(area), True),
        (moderator(), True),
        (expert(other_area), False),
        (UserFactory(), False),
        (csr(), False),
        (answer.author, False),
    ]:
        client.force_login(viewer)
        html = client.get(_thread_url(question)).content.decode()
        assert (form_action in html) is sees_button, viewer
    client.logout()
    assert form_action not in client.get(_thread_url(question)).content.decode()


def test_an_uncertified_member_cannot_validate_through_the_page(client, thread):
    _, answer = thread
    client.force_login(UserFactory())
    response = client.post(_validate_url(answer), {"note": "Looks right"})
    assert response.status_code == 403
    assert not Validation.objects.exists()


def test_an_expert_of_another_area_cannot_validate_through_the_page(client, thread, other_area):
    _, answer = thread
    client.force_login(expert(other_area))
    response = client.post(_validate_url(answer), {"note": "Looks right"})
    assert response.status_code == 403
    assert not Validation.objects.exists()
    assert not Article.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in_before_validating(client, thread):
    _, answer = thread
    response = client.post(_validate_url(answer))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_the_areas_expert_validates_and_the_article_shows_on_the_thread_and_in_search(
    client, thread, area, django_capture_on_commit_callbacks
):
    _, answer = thread
    validator = expert(area, display_name="Erin Expert")
    client.force_login(validator)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_validate_url(answer), {"note": "Confirmed on firmware 2.4"})

    assert response.status_code == 302
    assert response["Location"] == answer.get_absolute_url()
    article = Article.objects.get(source_answer=answer)
    assert article.status == Article.Status.PUBLISHED

    page = client.get(response["Location"]).content.decode()
    assert f"It is in the knowledge base as “{article.title}”" in page
    assert "This thread is in the knowledge base as" in page
    assert "In the knowledge base as" in page
    assert article.get_absolute_url() in page
    assert "Validated by" in page and "Erin Expert" in page
    assert "certified expert for Lumen Mesh Wi-Fi" in page
    assert "revision 1" in page and "Confirmed on firmware 2.4" in page

    client.logout()
    results = client.get(reverse("knowledge:search"), {"q": "satellite", "type": "article"})
    assert results.status_code == 200
    assert article.get_absolute_url() in results.content.decode()
    assert "Knowledge-base article" in results.content.decode()


def test_a_moderator_validation_is_labelled_staff(
    client, thread, django_capture_on_commit_callbacks
):
    question, answer = thread
    client.force_login(moderator(display_name="Mo Derator"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(_validate_url(answer))
    page = client.get(_thread_url(question)).content.decode()
    assert "Mo Derator" in page
    assert "(staff)" in page


def test_a_too_long_validation_note_is_a_form_error_that_keeps_the_draft(client, thread, area):
    _, answer = thread
    client.force_login(expert(area))
    note = "x" * 501
    response = client.post(_validate_url(answer), {"note": note})
    assert response.status_code == 400
    assert "at most 500 characters" in response.content.decode()
    assert note in response.content.decode()
    assert not Validation.objects.exists()


def test_a_rate_limited_validation_says_so_and_keeps_the_note(
    client, area, settings, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    cache.clear()  # counters are keyed by user id, which tests reuse
    settings.PEERDESK = {**settings.PEERDESK, "RATE_LIMITS": {"validate": 1}}
    first, second = AnswerFactory(question__area=area), AnswerFactory(question__area=area)
    client.force_login(expert(area))
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(_validate_url(first)).status_code == 302
    response = client.post(_validate_url(second), {"note": "Checked twice"})
    assert response.status_code == 429
    assert "Too many validate actions" in response.content.decode()
    assert 'value="Checked twice"' in response.content.decode()
    assert not Validation.objects.filter(answer=second).exists()


def test_validation_get_shows_a_confirmation_form_to_validators_only(client, thread, area):
    _, answer = thread
    client.force_login(expert(area))
    assert client.get(_validate_url(answer)).status_code == 200
    client.force_login(UserFactory())
    assert client.get(_validate_url(answer)).status_code == 403


# --- Revoking and editing -------------------------------------------------------------------


def test_revoking_the_last_validation_unpublishes_the_article(
    client, thread, area, django_capture_on_commit_callbacks
):
    question, answer = thread
    validator = expert(area)
    validation = _validate(answer, validator, django_capture_on_commit_callbacks)
    article = Article.objects.get(source_answer=answer)
    customer = UserFactory()
    client.force_login(customer)
    assert client.get(article.get_absolute_url()).status_code == 200

    client.force_login(validator)
    thread_html = client.get(_thread_url(question)).content.decode()
    assert reverse("knowledge:revoke", kwargs={"pk": validation.pk}) in thread_html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("knowledge:revoke", kwargs={"pk": validation.pk}),
            {"reason": "The firmware advice is outdated"},
        )
    assert response.status_code == 302

    validation.refresh_from_db()
    article.refresh_from_db()
    assert validation.status == Validation.Status.REVOKED
    assert article.status == Article.Status.DRAFT
    client.force_login(customer)
    assert client.get(article.get_absolute_url()).status_code == 404
    assert "This thread is in the knowledge base" not in (
        client.get(_thread_url(question)).content.decode()
    )
    search = client.get(reverse("knowledge:search"), {"q": "satellite", "type": "article"})
    assert article.get_absolute_url() not in search.content.decode()
    client.force_login(moderator())
    staff_view = client.get(article.get_absolute_url()).content.decode()
    assert "Draft — not published." in staff_view


def test_revoking_without_a_reason_shows_an_error_and_keeps_the_validation(
    client, thread, area, django_capture_on_commit_callbacks
):
    _, answer = thread
    validator = expert(area)
    validation = _validate(answer, validator, django_capture_on_commit_callbacks)
    client.force_login(validator)
    response = client.post(
        reverse("knowledge:revoke", kwargs={"pk": validation.pk}), {"reason": "  "}
    )
    assert response.status_code == 400
    assert "Say briefly why the validation is revoked." in response.content.decode()
    validation.refresh_from_db()
    assert validation.status == Validation.Status.ACTIVE


def test_only_the_validator_or_a_moderator_can_revoke(
    client, thread, area, django_capture_on_commit_callbacks
):
    _, answer = thread
    validation = _validate(answer, expert(area), django_capture_on_commit_callbacks)
    client.force_login(expert(area))
    response = client.post(
        reverse("knowledge:revoke", kwargs={"pk": validation.pk}), {"reason": "I disagree"}
    )
    assert response.status_code == 403
    validation.refresh_from_db()
    assert validation.status == Validation.Status.ACTIVE


def test_editing_a_validated_answer_shows_stale_and_the_article_needs_review_with_validated_text(
    client, thread, area, django_capture_on_commit_callbacks
):
    question, answer = thread
    _validate(answer, expert(area), django_capture_on_commit_callbacks)
    article = Article.objects.get(source_answer=answer)
    with django_capture_on_commit_callbacks(execute=True):
        community_services.answer_edit(
            answer=answer,
            editor=answer.author,
            body="Actually just unplug everything and hope for the best, it usually works.",
        )

    client.force_login(UserFactory())
    thread_html = client.get(_thread_url(question)).content.decode()
    assert "Validation stale: the answer was edited after revision 1 was validated" in thread_html

    client.force_login(moderator())
    staff_view = client.get(article.get_absolute_url()).content.decode()
    assert "Needs review:" in staff_view
    assert "Source answer edited (revision 2)" in staff_view
    assert "within two rooms of the router" in staff_view
    assert "hope for the best" not in staff_view

    client.force_login(UserFactory())
    customer_view = client.get(article.get_absolute_url()).content.decode()
    assert "within two rooms of the router" in customer_view
    assert "Needs review:" not in customer_view
    assert "being reviewed" in customer_view


# --- Article pages --------------------------------------------------------------------------


def test_the_article_page_shows_its_provenance(
    client, thread, area, django_capture_on_commit_callbacks
):
    question, answer = thread
    _validate(answer, expert(area, display_name="Erin Expert"), django_capture_on_commit_callbacks)
    article = Article.objects.get(source_answer=answer)
    html = client.get(article.get_absolute_url()).content.decode()
    assert "From the community thread" in html
    assert question.get_absolute_url() in html
    assert answer.author.public_name in html
    assert "Erin Expert" in html and "certified expert for Lumen Mesh Wi-Fi" in html
    assert "Approved answer revision 1" in html
    assert "Revisions" not in html  # history is for staff


def test_an_article_url_with_a_wrong_slug_redirects_to_the_canonical_one(
    client, thread, area, django_capture_on_commit_callbacks
):
    _, answer = thread
    _validate(answer, expert(area), django_capture_on_commit_callbacks)
    article = Article.objects.get(source_answer=answer)
    wrong = reverse("knowledge:article", kwargs={"pk": article.pk, "slug": "old-title"})
    response = client.get(wrong)
    assert response.status_code == 301
    assert response["Location"] == article.get_absolute_url()
    short = client.get(reverse("knowledge:article_short", kwargs={"pk": article.pk}))
    assert short["Location"] == article.get_absolute_url()


def test_staff_see_the_revision_list_and_customers_cannot(
    client, thread, area, django_capture_on_commit_callbacks
):
    _, answer = thread
    _validate(answer, expert(area), django_capture_on_commit_callbacks)
    article = Article.objects.get(source_answer=answer)
    revisions_url = reverse("knowledge:article_revisions", kwargs={"pk": article.pk})
    client.force_login(csr())
    assert (
        "Promoted from validated answer" in client.get(article.get_absolute_url()).content.decode()
    )
    assert client.get(revisions_url).status_code == 200
    client.force_login(UserFactory())
    assert client.get(revisions_url).status_code == 403


def test_only_moderators_can_edit_an_article_and_errors_are_shown_on_the_form(
    client, thread, area, django_capture_on_commit_callbacks
):
    _, answer = thread
    _validate(answer, expert(area), django_capture_on_commit_callbacks)
    article = Article.objects.get(source_answer=answer)
    edit_url = reverse("knowledge:article_edit", kwargs={"pk": article.pk})

    client.force_login(csr())
    assert client.get(edit_url).status_code == 403

    client.force_login(moderator())
    assert client.get(edit_url).status_code == 200
    bad = client.post(edit_url, {"title": "Short", "problem": article.problem, "solution": "tiny"})
    assert bad.status_code == 400
    assert "A title has 10 to 200 characters." in bad.content.decode()
    assert "Write a solution of at least 10 characters." in bad.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        good = client.post(
            edit_url,
            {
                "title": "Mesh satellite drops off the network in the evening",
                "problem": article.problem,
                "solution": "Move the satellite closer and update the firmware to 2.4.",
                "note": "Clearer title",
            },
        )
    article.refresh_from_db()
    assert good.status_code == 302
    assert good["Location"] == article.get_absolute_url()
    assert article.title == "Mesh satellite drops off the network in the evening"
    assert ArticleRevision.objects.filter(article=article, note="Clearer title").exists()


# --- Search ---------------------------------------------------------------------------------


def _index_thread(question, capture):
    with capture(execute=True):
        services.thread_changed_schedule_index(question_id=question.pk)


def test_the_tag_facet_lists_the_most_frequent_tags_and_the_selected_one(
    client, area, django_capture_on_commit_callbacks
):
    tags = [TagFactory(slug=f"tag-{n:02d}") for n in range(20)]
    for n in range(20):
        # tag-00 is on every thread, tag-19 on one.
        question = QuestionFactory(area=area, title=f"Satellite pairing {n}", tags=tags[: 20 - n])
        _index_thread(question, django_capture_on_commit_callbacks)
    url = reverse("knowledge:search")

    html = client.get(url, {"q": "satellite pairing"}).content.decode()
    facets = html[html.index('<aside class="kb-facets"') : html.index("</aside>")]
    shown = {f"tag-{n:02d}" for n in range(20) if f'tag=tag-{n:02d}"' in facets}
    assert shown == {f"tag-{n:02d}" for n in range(15)}

    selected = client.get(url, {"q": "satellite pairing", "tag": "tag-19"}).content.decode()
    assert 'aria-current="true" class="kb-facet--selected">✕ tag-19</a>' in selected


def test_an_empty_query_shows_only_the_search_form(client):
    response = client.get(reverse("knowledge:search"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="q"' in html
    assert "No results" not in html


def test_no_results_offers_to_ask_the_community_with_the_query_as_title(client, thread):
    response = client.get(reverse("knowledge:search"), {"q": "toaster & kettle"})
    html = response.content.decode()
    assert "No results for" in html
    assert f"{reverse('community:ask')}?title=toaster%20%26%20kettle" in html


def test_search_filters_by_area_tag_and_type_and_shows_facet_counts(
    client, thread, area, other_area, django_capture_on_commit_callbacks
):
    question, answer = thread
    _validate(answer, expert(area), django_capture_on_commit_callbacks)
    doorbell = QuestionFactory(
        area=other_area,
        title="Doorbell satellite chime stays silent",
        tags=[TagFactory(slug="chime")],
    )
    _index_thread(doorbell, django_capture_on_commit_callbacks)
    url = reverse("knowledge:search")

    everything = client.get(url, {"q": "satellite"}).content.decode()
    assert question.title in everything and doorbell.title in everything
    # Facets count every match and link to the filtered search; areas show their names.
    assert 'area=doorbell">Lumen Doorbell</a> <span class="kb-count">1</span>' in everything
    assert 'area=mesh">Lumen Mesh Wi-Fi</a> <span class="kb-count">2</span>' in everything
    assert 'type=article">Knowledge-base article</a> <span class="kb-count">1</span>' in everything
    assert 'type=thread">Any community thread</a> <span class="kb-count">2</span>' in everything
    assert "kb-attribution" not in everything  # nothing here was imported

    by_area = client.get(url, {"q": "satellite", "area": "doorbell"}).content.decode()
    assert doorbell.title in by_area and question.get_absolute_url() not in by_area

    by_tag = client.get(url, {"q": "satellite", "tag": "chime"}).content.decode()
    assert doorbell.title in by_tag and question.get_absolute_url() not in by_tag

    articles_only = client.get(url, {"q": "satellite", "type": "article"}).content.decode()
    article = Article.objects.get(source_answer=answer)
    assert article.get_absolute_url() in articles_only
    assert doorbell.get_absolute_url() not in articles_only

    threads_only = client.get(url, {"q": "satellite", "type": "thread"}).content.decode()
    assert doorbell.get_absolute_url() in threads_only
    assert article.get_absolute_url() not in threads_only


def test_imported_hits_link_to_their_stack_exchange_source(
    client, area, django_capture_on_commit_callbacks
):
    imported = QuestionFactory(
        area=area,
        title="Satellite firmware downgrade",
        source_url="https://iot.stackexchange.com/q/42",
    )
    _index_thread(imported, django_capture_on_commit_callbacks)
    html = client.get(reverse("knowledge:search"), {"q": "downgrade"}).content.decode()
    assert (
        'href="https://iot.stackexchange.com/q/42" rel="nofollow noopener" class="kb-attribution"'
        in html
    )


def test_a_question_title_with_script_is_escaped_in_results(
    client, area, django_capture_on_commit_callbacks
):
    nasty = QuestionFactory(
        area=area,
        title="<script>alert(1)</script> router reset fails",
        body="<img src=x onerror=alert(2)> router reset does nothing at all",
    )
    _index_thread(nasty, django_capture_on_commit_callbacks)
    html = client.get(reverse("knowledge:search"), {"q": "router"}).content.decode()
    assert nasty.get_absolute_url() in html
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert '<mark class="match' in html  # the snippet's highlighting is kept


def test_search_results_are_paginated(client, area, django_capture_on_commit_callbacks):
    for n in range(12):
        _index_thread(
            QuestionFactory(area=area, title=f"Router blinking amber case {n}"),
            django_capture_on_commit_callbacks,
        )
    first = client.get(reverse("knowledge:search"), {"q": "amber"}).content.decode()
    assert "12 results" in first and "Page 1 of 2" in first and 'rel="next"' in first
    second = client.get(reverse("knowledge:search"), {"q": "amber", "page": "2"}).content.decode()
    assert "Page 2 of 2" in second and second.count('class="kb-hit ') == 2


# --- Similar questions ----------------------------------------------------------------------


def test_similar_returns_nothing_for_short_text(client, thread):
    response = client.get(reverse("knowledge:similar"), {"q": "satellite"})
    assert response.status_code == 200
    assert response.json() == []


def test_similar_returns_matching_titles_as_json(client, thread):
    question, _ = thread
    response = client.get(
        reverse("knowledge:similar"), {"q": "my satellite keeps dropping every evening"}
    )
    data = response.json()
    assert data and data[0]["url"] == question.get_absolute_url()
    assert data[0]["title"] == question.title
    assert set(data[0]) == {"title", "url", "click_url", "type", "type_label", "tier", "snippet"}


# --- KB landing -----------------------------------------------------------------------------


def test_kb_home_lists_recent_articles_and_filters_by_area(
    client, thread, area, other_area, django_capture_on_commit_callbacks
):
    _, answer = thread
    _validate(answer, expert(area), django_capture_on_commit_callbacks)
    article = Article.objects.get(source_answer=answer)
    html = client.get(reverse("knowledge:home")).content.decode()
    assert article.get_absolute_url() in html
    assert f'action="{reverse("knowledge:search")}"' in html
    other = client.get(reverse("knowledge:home"), {"area": other_area.slug}).content.decode()
    assert article.get_absolute_url() not in other


# --- Query counts (N+1 guards) --------------------------------------------------------------


def _promoted_articles(area, count, capture):
    validator = expert(area)
    for _ in range(count):
        answer = AnswerFactory(question=QuestionFactory(area=area))
        _validate(answer, validator, capture)


def _count_queries(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_kb_home_and_search_query_counts_stay_flat(
    client, area, django_capture_on_commit_callbacks
):
    client.force_login(UserFactory())
    _promoted_articles(area, 2, django_capture_on_commit_callbacks)
    few_home = _count_queries(client, reverse("knowledge:home"))
    few_search = _count_queries(client, reverse("knowledge:search"), {"q": "router"})
    _promoted_articles(area, 8, django_capture_on_commit_callbacks)
    assert _count_queries(client, reverse("knowledge:home")) == few_home
    assert _count_queries(client, reverse("knowledge:search"), {"q": "router"}) == few_search
    assert few_home <= 10 and few_search <= 9  # search: + the search log INSERT


@pytest.mark.parametrize(
    ("make_viewer", "index"),
    [(UserFactory, "article_audience_pub_idx (audience=?)"), (csr, "article_published_idx")],
    ids=["member", "agent"],
)
def test_kb_home_walks_the_latest_articles_in_index_order_instead_of_sorting_them_all(
    client, make_viewer, index
):
    ArticleFactory.create_batch(2)
    client.force_login(make_viewer())
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("knowledge:home"))
    (sql,) = [
        q["sql"]
        for q in ctx
        if q["sql"].startswith('SELECT "knowledge_article"') and "published_at" in q["sql"]
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert f"USING INDEX {index}" in plan, plan
    assert "TEMP B-TREE FOR ORDER BY" not in plan, plan


def test_the_article_page_query_count_is_flat_with_more_validations(
    client, thread, area, django_capture_on_commit_callbacks
):
    _, answer = thread
    _validate(answer, expert(area), django_capture_on_commit_callbacks)
    article = Article.objects.get(source_answer=answer)
    client.force_login(moderator())
    few = _count_queries(client, article.get_absolute_url())
    for _ in range(4):
        _validate(answer, expert(area), django_capture_on_commit_callbacks)
    assert Validation.objects.filter(answer=answer).count() == 5
    assert _count_queries(client, article.get_absolute_url()) == few
    assert few <= 12


def _render_thread_knowledge(question, viewer, *, with_page_question):
    request = RequestFactory().get("/")
    request.user = viewer
    context = {}
    if with_page_question:
        # As on the thread page: the question (with its area) is in the context.
        question = context["question"] = community_selectors.question_get(
            viewer=viewer, pk=question.pk
        )
    context["answers"] = list(
        community_selectors.answer_list_for_question(viewer=viewer, question=question)
    )
    template = engines["django"].from_string(
        "{% load knowledge_tags %}{% thread_knowledge answers as kinfo %}"
        '{% include "knowledge/_thread_banner.html" %}'
        "{% for answer in answers %}"
        '{% include "knowledge/_answer_panel.html" with info=kinfo|get_item:answer.pk %}'
        "{% endfor %}"
    )
    with CaptureQueriesContext(connection) as ctx:
        html = template.render(context, request)
    return html, [query["sql"] for query in ctx.captured_queries]


@pytest.mark.parametrize("with_page_question", [True, False])
def test_the_thread_knowledge_tag_costs_the_same_queries_for_3_and_20_answers(
    area, django_capture_on_commit_callbacks, with_page_question
):
    viewer = expert(area)
    validator = moderator()
    counts = []
    for n in (3, 20):
        question = QuestionFactory(area=area)
        answers = [AnswerFactory(question=question) for _ in range(n)]
        for answer in answers[: n // 2]:
            _validate(answer, validator, django_capture_on_commit_callbacks)
        # A fresh instance, as each request gets: role lookups are memoised per instance.
        viewer = User.objects.get(pk=viewer.pk)
        html, queries = _render_thread_knowledge(
            question, viewer, with_page_question=with_page_question
        )
        assert html.count("In the knowledge base as") == n // 2
        assert html.count('class="kb-inline-form kb-validate-form"') == n
        counts.append(len(queries))
    assert counts[0] == counts[1]
    # Two for the viewer's roles (the context processor; the tag reuses them), the probe,
    # validations and articles (with the thread's KB coverage when the page holds the
    # question; no correction to read), and otherwise the question with its area and asker.
    assert counts[1] <= (5 if with_page_question else 8), counts


def _knowledge_reads(queries):
    return [sql for sql in queries if "knowledge_" in sql]


@pytest.mark.parametrize("with_page_question", [True, False])
def test_a_thread_without_validations_corrections_or_articles_costs_its_panels_one_probe(
    area, with_page_question
):
    question = QuestionFactory(area=area)
    for _ in range(5):
        AnswerFactory(question=question)
    html, queries = _render_thread_knowledge(
        question, expert(area), with_page_question=with_page_question
    )

    reads = _knowledge_reads(queries)
    assert len(reads) == 1 and reads[0].startswith("SELECT EXISTS"), reads
    assert html.count('class="kb-inline-form kb-validate-form"') == 5
    assert "In the knowledge base as" not in html


def test_the_probe_reads_only_what_the_thread_has(area, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from knowledge.models import AnswerCorrection

    question = QuestionFactory(area=area)
    validated, wrong, right = (AnswerFactory(question=question) for _ in range(3))
    validator = moderator()

    def reads():
        _, queries = _render_thread_knowledge(question, validator, with_page_question=True)
        return {
            table
            for sql in _knowledge_reads(queries)
            if not sql.startswith("SELECT EXISTS")
            for table in ("knowledge_validation", "knowledge_answercorrection", "knowledge_article")
            if f'FROM "{table}"' in sql
        }

    assert reads() == set()
    _validate(validated, validator, django_capture_on_commit_callbacks)  # promotes an article
    assert reads() == {"knowledge_validation", "knowledge_article"}
    with django_capture_on_commit_callbacks(execute=True):
        services.answer_correct(
            answer=wrong, corrector=validator, alternative=right, reason="Outdated since v2."
        )
    assert reads() == {"knowledge_validation", "knowledge_answercorrection", "knowledge_article"}
    AnswerCorrection.objects.update(reversed_at=timezone.now())
    Validation.objects.update(status=Validation.Status.REVOKED)
    Article.objects.all().delete()
    assert reads() == set()


def test_the_thread_knowledge_tag_returns_the_documented_shape(
    area, django_capture_on_commit_callbacks
):
    from knowledge.templatetags.knowledge_tags import thread_knowledge

    question = QuestionFactory(area=area)
    validated, plain = AnswerFactory(question=question), AnswerFactory(question=question)
    validator = expert(area)
    _validate(validated, validator, django_capture_on_commit_callbacks, note="Works")
    kinfo = thread_knowledge({"request": None, "user": validator}, [validated, plain])

    info = kinfo[validated.pk]
    assert [v.note for v in info["validations"]] == ["Works"]
    assert info["validations"][0].can_revoke is True
    assert info["article"] == Article.objects.get(source_answer=validated)
    assert info["can_validate"] is True and info["is_stale"] is False
    assert kinfo[plain.pk]["article"] is None and kinfo[plain.pk]["validations"] == []
    assert kinfo["articles"] == [info["article"]]
