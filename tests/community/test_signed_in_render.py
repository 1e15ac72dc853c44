"""Signed-in thread renders: per-answer fragments are cached, never stale, never another viewer's."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.template import Context, Template, TemplateSyntaxError
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from community import services
from community.models import Question, User, Vote
from community.templatetags import fragment_tags
from knowledge.models import AnswerCorrection, Article
from knowledge.services.corrections import answer_correct, correction_reverse
from knowledge.services.validation import answer_validate, validation_revoke
from moderation import services as moderation_services
from tests.factories import AnswerFactory, QuestionFactory, UserFactory, expert, moderator

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fragment_cache_on(settings):
    # The test settings turn page and fragment caching off; these tests are about the cache.
    settings.PEERDESK_PAGE_CACHE = {"SECONDS": 60, "VIEWS": {"community:home"}}
    fragment_tags._fragment_cache().clear()
    cache.clear()
    yield
    fragment_tags._fragment_cache().clear()


def client_for(user) -> Client:
    client = Client()
    client.force_login(User.objects.get(pk=user.pk))
    return client


def thread_page(client, question) -> str:
    response = client.get(reverse("community:question", kwargs={"pk": question.pk}))
    assert response.status_code == 200
    return response.content.decode()


def answer_html(page: str, answer) -> str:
    start = page.index(f'id="answer-{answer.pk}"')
    end = page.find('<article class="post post-answer', start)
    return page[start : end if end != -1 else None]


def test_an_edited_answer_shows_its_new_body_on_the_next_signed_in_render():
    answer = AnswerFactory(body="Restart the router.")
    reader = client_for(UserFactory())
    assert "Restart the router." in thread_page(reader, answer.question)

    services.answer_edit(answer=answer, editor=answer.author, body="Update the firmware to 2.1.")

    page = thread_page(reader, answer.question)
    assert "Update the firmware to 2.1." in page
    assert "Restart the router." not in page


def test_a_vote_shows_in_the_score_and_the_voters_buttons_on_the_next_render():
    answer = AnswerFactory()
    voter = UserFactory()
    client = client_for(voter)
    before = answer_html(thread_page(client, answer.question), answer)
    assert '<span class="score" title="Score">0<' in before

    services.vote_cast(user=voter, post=answer, value=1)

    after = answer_html(thread_page(client, answer.question), answer)
    assert '<span class="score" title="Score">1<' in after
    assert "Withdraw your upvote" in after
    # Another member sees the new score but not the voter's pressed button.
    other = answer_html(thread_page(client_for(UserFactory()), answer.question), answer)
    assert '<span class="score" title="Score">1<' in other
    assert "Withdraw your upvote" not in other


def test_a_validation_shows_on_the_next_signed_in_render():
    answer = AnswerFactory()
    reader = client_for(UserFactory())
    assert "Validated by" not in thread_page(reader, answer.question)

    answer_validate(answer=answer, validator=expert(answer.question.area), note="Checked")

    assert "Validated by" in answer_html(thread_page(reader, answer.question), answer)


def test_a_hidden_answer_disappears_and_its_author_sees_the_notice_on_the_next_render():
    answer = AnswerFactory(body="Buy our competitor's router.")
    reader, author = client_for(UserFactory()), client_for(answer.author)
    assert "Buy our competitor" in thread_page(reader, answer.question)
    assert "Hidden by moderation" not in thread_page(author, answer.question)

    moderation_services.post_hide(post=answer, actor=moderator(), reason="Spam")

    assert "Buy our competitor" not in thread_page(reader, answer.question)
    assert "Hidden by moderation: Spam" in answer_html(thread_page(author, answer.question), answer)


def test_a_new_comment_shows_on_the_next_signed_in_render():
    answer = AnswerFactory()
    reader = client_for(UserFactory())
    thread_page(reader, answer.question)

    services.comment_create(author=UserFactory(), answer=answer, body="Which firmware version?")

    assert "Which firmware version?" in answer_html(thread_page(reader, answer.question), answer)


def test_the_authors_controls_never_show_to_another_member_from_the_cache():
    answer = AnswerFactory()
    author_view = answer_html(thread_page(client_for(answer.author), answer.question), answer)
    assert "Edit</a>" in author_view
    assert "This is useful" not in author_view  # no voting on your own answer
    assert "Flag</summary>" not in author_view

    member_view = answer_html(thread_page(client_for(UserFactory()), answer.question), answer)

    assert "Edit</a>" not in member_view
    assert "This is useful" in member_view
    assert "Flag</summary>" in member_view


def test_every_form_in_a_cached_fragment_carries_this_requests_csrf_token():
    question = QuestionFactory()
    AnswerFactory.create_batch(2, question=question)
    reader = client_for(UserFactory())
    thread_page(reader, question)

    response = reader.get(reverse("community:question", kwargs={"pk": question.pk}))

    page = response.content.decode()
    assert fragment_tags.CSRF_PLACEHOLDER not in page
    assert page.count('name="csrfmiddlewaretoken" value=""') == 0
    assert page.count('name="csrfmiddlewaretoken"') >= 8  # votes, flags and comments per answer


def test_a_repeat_signed_in_render_is_the_same_page():
    question = QuestionFactory()
    for _ in range(3):
        AnswerFactory(question=question)
    reader = client_for(UserFactory())

    first, repeat = thread_page(reader, question), thread_page(reader, question)

    # CSRF tokens are masked differently on every request; the rest must match.
    assert _without_tokens(first) == _without_tokens(repeat)


def _without_tokens(page: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", page)


@pytest.mark.parametrize("caching", [True, False])
def test_the_signed_in_thread_page_costs_the_same_queries_for_3_or_15_answers(settings, caching):
    if not caching:
        settings.PEERDESK_PAGE_CACHE = {"SECONDS": 0, "VIEWS": set()}
    question = QuestionFactory()
    reader = client_for(UserFactory())
    counts = []
    for total in (3, 15):
        while question.answers.count() < total:
            answer = AnswerFactory(question=question, author=expert(question.area))
            services.comment_create(author=UserFactory(), answer=answer, body="Which model?")
            Vote.objects.create(user=UserFactory(), answer=answer, value=1)
        with CaptureQueriesContext(connection) as queries:
            page = thread_page(reader, question)
        assert page.count('class="post post-answer') == total
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]


def test_the_signed_in_question_list_costs_the_same_queries_for_3_or_20_questions(settings):
    # Counts are cached until the next announced write, which factories are not: render all.
    settings.PEERDESK_PAGE_CACHE = {"SECONDS": 0, "VIEWS": set()}
    reader = client_for(UserFactory())
    counts = []
    for total in (3, 20):
        while Question.objects.count() < total:
            QuestionFactory()
        with CaptureQueriesContext(connection) as queries:
            response = reader.get(reverse("community:home"))
        assert response.status_code == 200
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]


def test_cached_include_refuses_a_model_instance_as_an_argument():
    question = QuestionFactory()
    tpl = Template('{% load fragment_tags %}{% cached_include "community/_vote.html" post=q %}')

    with pytest.raises(TemplateSyntaxError, match="plain values"):
        tpl.render(Context({"q": question}))


def test_a_revoked_validation_leaves_the_panel_on_the_next_signed_in_render():
    answer = AnswerFactory()
    validator = expert(answer.question.area)
    reader = client_for(UserFactory())
    validation = answer_validate(answer=answer, validator=validator, note="Checked")
    assert "Validated by" in answer_html(thread_page(reader, answer.question), answer)

    validation_revoke(validation=validation, actor=validator, reason="Wrong firmware")

    assert "Validated by" not in answer_html(thread_page(reader, answer.question), answer)


def test_a_correction_and_its_reversal_show_on_the_next_signed_in_render():
    answer = AnswerFactory()
    corrector = expert(answer.question.area)
    reader = client_for(UserFactory())
    assert "Outdated since 3.0" not in thread_page(reader, answer.question)

    correction = answer_correct(
        answer=answer,
        corrector=corrector,
        reason="Outdated since 3.0",
        kind=AnswerCorrection.Kind.OBSOLETE,
    )
    assert "Outdated since 3.0" in answer_html(thread_page(reader, answer.question), answer)

    correction_reverse(correction=correction, actor=moderator(), reason="Still applies")
    assert "Outdated since 3.0" not in answer_html(thread_page(reader, answer.question), answer)


def test_a_promotion_to_the_knowledge_base_shows_its_article_link_on_the_next_render():
    answer = AnswerFactory()
    reader = client_for(UserFactory())
    assert "In the knowledge base as" not in thread_page(reader, answer.question)

    answer_validate(answer=answer, validator=expert(answer.question.area))
    article = Article.objects.get(source_answer=answer)

    section = answer_html(thread_page(reader, answer.question), answer)
    assert "In the knowledge base as" in section
    assert article.get_absolute_url() in section


def test_the_validators_revoke_control_never_shows_to_another_member_from_the_cache():
    answer = AnswerFactory()
    validator = expert(answer.question.area)
    answer_validate(answer=answer, validator=validator, note="Checked")

    assert "Revoke validation" in answer_html(
        thread_page(client_for(validator), answer.question), answer
    )
    other = answer_html(thread_page(client_for(UserFactory()), answer.question), answer)
    assert "Validated by" in other
    assert "Revoke validation" not in other


def list_item_html(page: str, question) -> str:
    start = page.index(f'href="/questions/{question.pk}/"')
    start = page.rindex('<li class="qitem">', 0, start)
    return page[start : page.index("</li>", start)]


def test_an_edited_title_and_a_new_answer_show_in_the_list_on_the_next_signed_in_render():
    question = QuestionFactory(title="Router drops the connection at night")
    reader = client_for(UserFactory())
    home = reverse("community:home")
    before = list_item_html(reader.get(home).content.decode(), question)
    assert "Router drops the connection at night" in before
    assert 'aria-label="0 votes, 0 answers"' in before

    services.question_edit(
        question=question,
        editor=question.author,
        title="Router drops Wi-Fi every night at 2am",
        body=question.body,
        tags=[t.slug for t in question.tags.all()],
    )
    services.answer_create(
        question=question, author=UserFactory(), body="Turn off the nightly channel scan."
    )

    after = list_item_html(reader.get(home).content.decode(), question)
    assert "Router drops Wi-Fi every night at 2am" in after
    assert 'aria-label="0 votes, 1 answers"' in after


def test_a_fragment_never_serves_safe_markup_for_an_equal_plain_string(settings):
    from django.template import engines
    from django.utils.safestring import mark_safe

    settings.PEERDESK_PAGE_CACHE = {"SECONDS": 60, "VIEWS": set()}
    page = engines["django"].from_string(
        '{% load fragment_tags %}{% cached_include "community/_question_item.html" q=q %}'
    )
    item = {
        "pk": 1, "score": 0, "answer_count": 0, "accepted_answer_id": None, "status": "visible",
        "get_status_display": "Visible", "area": {"slug": "routers", "name": "Routers"},
        "tag_slugs": (), "author": {"username": "ann", "public_name": "Ann"},
        "created_at": None, "source_url": "", "source_site": "",
    }  # fmt: skip

    trusted = page.render({"q": {**item, "title": mark_safe("<b>Bold</b>")}})
    typed = page.render({"q": {**item, "title": "<b>Bold</b>"}})

    assert "<b>Bold</b>" in trusted
    assert "<b>Bold</b>" not in typed and "&lt;b&gt;Bold&lt;/b&gt;" in typed


def test_a_new_comment_on_the_question_shows_on_the_next_signed_in_render():
    question = QuestionFactory()
    AnswerFactory(question=question)
    reader = client_for(UserFactory())
    assert "Which router model?" not in thread_page(reader, question)

    services.comment_create(author=UserFactory(), question=question, body="Which router model?")

    page = thread_page(reader, question)
    assert (
        "Which router model?" in page[page.index('id="comments-q') : page.index("answers-heading")]
    )


def answers_heading(page: str) -> str:
    start = page.index('id="answers-heading">') + len('id="answers-heading">')
    return page[start : page.index("</h2>", start)]


@pytest.mark.parametrize("total", [2, 3, 4, 7])
def test_the_answer_count_and_pages_are_right_whether_or_not_the_thread_fits_on_one_page(
    settings, total
):
    settings.PEERDESK = {**settings.PEERDESK, "ANSWERS_PAGE_SIZE": 3}
    question = QuestionFactory()
    AnswerFactory.create_batch(total, question=question)
    reader = client_for(UserFactory())
    url = reverse("community:question", kwargs={"pk": question.pk})

    pages = [reader.get(url).content.decode()]
    last_page = (total + 2) // 3
    pages += [reader.get(f"{url}?page={n}").content.decode() for n in range(2, last_page + 1)]

    assert all(answers_heading(page) == f"{total} answers" for page in pages)
    shown = [page.count('class="post post-answer') for page in pages]
    assert sum(shown) == total and shown[0] == min(total, 3)
    assert ("?page=2" in pages[0]) == (total > 3)


def test_an_authors_own_hidden_answer_is_counted_for_them_only():
    question = QuestionFactory()
    AnswerFactory(question=question)
    hidden = AnswerFactory(question=question)
    moderation_services.post_hide(post=hidden, actor=moderator(), reason="Spam")

    assert answers_heading(thread_page(client_for(hidden.author), question)) == "2 answers"
    assert answers_heading(thread_page(client_for(UserFactory()), question)) == "1 answer"


def test_a_signed_in_thread_render_stays_within_its_query_budget(django_assert_max_num_queries):
    question = QuestionFactory()
    for _ in range(5):
        answer = AnswerFactory(question=question)
        services.comment_create(author=UserFactory(), answer=answer, body="Which model?")
    services.comment_create(author=UserFactory(), question=question, body="Which firmware?")
    reader = client_for(UserFactory())
    thread_page(reader, question)

    # Session, user, groups, question, tags, answers (no COUNT: they fit on the page), comments
    # of the question and answers together, votes, experts, the viewer's certifications,
    # notifications, knowledge (validations, corrections, articles with the coverage), flags,
    # routing, follow state.
    with django_assert_max_num_queries(17):
        thread_page(reader, question)


def banner_html(page: str) -> str:
    return page[: page.index('class="post-layout"')]


def test_a_thread_covered_by_another_threads_article_shows_it_on_the_next_signed_in_render():
    from knowledge import services as knowledge_services

    source = AnswerFactory()
    area = source.question.area
    thread = QuestionFactory(area=area)
    merged, kept = AnswerFactory(question=thread), AnswerFactory(question=thread)
    for answer in (source, merged, kept):
        knowledge_services.answer_validate(answer=answer, validator=expert(area))
    covering = Article.objects.get(source_answer=source)
    own = Article.objects.get(source_answer=kept)
    reader = client_for(UserFactory())
    assert "answered by the knowledge-base article" not in thread_page(reader, thread)

    knowledge_services.article_source_add(article=covering, answer=merged, actor=moderator())

    promoted, coverage = banner_html(thread_page(reader, thread)).split(
        "answered by the knowledge-base article"
    )
    assert own.get_absolute_url() in promoted and covering.get_absolute_url() not in promoted
    assert covering.get_absolute_url() in coverage

    knowledge_services.article_retire(article=covering, actor=moderator(), reason="v1 only")

    banner = banner_html(thread_page(reader, thread))
    assert "answered by the knowledge-base article" not in banner
    assert own.get_absolute_url() in banner


def test_cached_include_refuses_a_model_instance_nested_in_a_plain_value():
    question = QuestionFactory()
    tpl = Template('{% load fragment_tags %}{% cached_include "community/_vote.html" post=post %}')

    for nested in ({"author": question.author}, ({"pk": 1}, question), [question.pk, question]):
        with pytest.raises(TemplateSyntaxError, match="plain values"):
            tpl.render(Context({"post": nested}))


def test_fragment_keys_tell_apart_values_that_only_differ_in_type():
    from django.utils.safestring import mark_safe
    from django.utils.translation import gettext_lazy

    def key(value):
        return fragment_tags._key_repr("post", value)

    assert key({"score": 1, "tags": ("a", "b")}) == key({"score": 1, "tags": ("a", "b")})
    different = [
        {"score": 1},
        {"score": True},
        {"score": "1"},
        {"score": 1.0},
        {"score": None},
        {"score": (1,)},
        {"score": [1]},
        {"score": mark_safe("1")},
        {mark_safe("score"): 1},
    ]
    assert len({key(value) for value in different}) == len(different)
    with pytest.raises(TemplateSyntaxError, match="plain values"):
        key({"label": gettext_lazy("Answers")})
