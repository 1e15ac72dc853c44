"""Issue 3, trust pages: standing and corrections on the thread, the article lifecycle and the
review queue for staff, the revision diff, staff-written articles, and the coverage banner."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from community import services as community_services
from community.models import AuditEntry, User
from knowledge import services
from knowledge.models import AnswerCorrection, Article
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


@pytest.fixture
def area():
    return ProductAreaFactory(name="Lumen Mesh Wi-Fi", slug="mesh")


def _promoted(area, **answer_kwargs):
    answer = AnswerFactory(question=QuestionFactory(area=area), **answer_kwargs)
    services.answer_validate(answer=answer, validator=expert(area))
    return answer, Article.objects.get(source_answer=answer)


def _thread(client, question):
    return client.get(reverse("community:question", kwargs={"pk": question.pk}))


# --- Thread: standing and corrections -------------------------------------------------------


def test_the_thread_shows_each_answers_standing_tiers(client, area):
    answer, _ = _promoted(area)
    community_services.answer_accept(answer=answer, user=answer.question.author)
    html = _thread(client, answer.question).content.decode()
    assert "Validated by a certified expert" in html
    assert "Accepted by the asker" in html
    assert "re-check due" in html


def test_an_expert_corrects_an_answer_from_the_page_and_the_thread_shows_both(client, area):
    question = QuestionFactory(area=area)
    wrong, right = AnswerFactory(question=question), AnswerFactory(question=question)
    the_expert = expert(area)
    client.force_login(the_expert)
    url = reverse("knowledge:correct", kwargs={"pk": wrong.pk})
    assert f'href="{url}"' in _thread(client, question).content.decode()
    assert client.get(url).status_code == 200

    response = client.post(
        url, {"kind": "not_recommended", "reason": "Removed in firmware 3", "alternative": right.pk}
    )

    assert response.status_code == 302
    html = _thread(client, question).content.decode()
    assert "Not recommended:</strong> Removed in firmware 3" in html
    assert "see the recommended answer" in html and f"#answer-{right.pk}" in html
    assert "Recommended answer</strong> instead of" in html


def test_a_correction_without_an_alternative_is_a_form_error_that_keeps_the_reason(client, area):
    wrong = AnswerFactory(question=QuestionFactory(area=area))
    client.force_login(moderator())
    response = client.post(
        reverse("knowledge:correct", kwargs={"pk": wrong.pk}),
        {"kind": "not_recommended", "reason": "Kept reason text"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Point to the recommended answer" in html and "Kept reason text" in html
    assert not AnswerCorrection.objects.exists()


def test_members_cannot_open_the_correction_page_and_anonymous_visitors_sign_in(client, area):
    wrong = AnswerFactory(question=QuestionFactory(area=area))
    url = reverse("knowledge:correct", kwargs={"pk": wrong.pk})
    assert client.get(url).status_code == 302
    client.force_login(UserFactory())
    assert client.get(url).status_code == 403
    assert "Mark not recommended" not in _thread(client, wrong.question).content.decode()


def test_a_moderator_reverses_a_correction_from_the_thread(client, area):
    question = QuestionFactory(area=area)
    wrong, right = AnswerFactory(question=question), AnswerFactory(question=question)
    correction = services.answer_correct(
        answer=wrong, corrector=expert(area), reason="Outdated", alternative=right
    )
    url = reverse("knowledge:correction_reverse", kwargs={"pk": correction.pk})
    client.force_login(expert(area))
    assert client.post(url, {"reason": "Works"}).status_code == 403
    client.force_login(moderator())
    assert f'action="{url}"' in _thread(client, question).content.decode()
    assert client.post(url, {"reason": ""}).status_code == 400
    assert client.post(url, {"reason": "It still works on v3"}).status_code == 302
    assert "Not recommended:" not in _thread(client, question).content.decode()


def test_the_thread_page_query_count_stays_flat_with_corrections_and_standings(client, area):
    staff = moderator()
    counts = []
    for n in (2, 10):
        question = QuestionFactory(area=area)
        answers = [AnswerFactory(question=question) for _ in range(n)]
        for answer in answers[1:]:
            services.answer_validate(answer=answer, validator=staff)
        services.answer_correct(
            answer=answers[0], corrector=staff, reason="Outdated", alternative=answers[1]
        )
        client.force_login(User.objects.get(pk=staff.pk))
        with CaptureQueriesContext(connection) as ctx:
            assert _thread(client, question).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_a_covered_thread_shows_the_article_banner(client, area):
    _, article = _promoted(area)
    other, _ = _promoted(area)
    services.article_source_add(article=article, answer=other, actor=moderator())
    html = _thread(client, other.question).content.decode()
    assert "This question is answered by the knowledge-base article" in html
    assert article.get_absolute_url() in html


def test_a_thread_finds_its_articles_through_their_own_indexes_not_every_public_article(
    client, area
):
    """Given the visibility filter first, SQLite (no statistics) walked the audience index over
    every public article for each thread page (2 ms at 100k threads)."""
    _, article = _promoted(area)
    other, _ = _promoted(area)
    services.article_source_add(article=article, answer=other, actor=moderator())
    with CaptureQueriesContext(connection) as ctx:
        _thread(client, other.question)
    (sql,) = [q["sql"] for q in ctx if q["sql"].startswith('SELECT "knowledge_article"."id"')]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        plan = [str(row[-1]) for row in cursor.fetchall()]
    assert "MULTI-INDEX OR" in plan, plan
    assert not [step for step in plan if step.endswith("(audience=?)")], plan


# --- Articles: lifecycle, diff, review queue --------------------------------------------------


def test_a_moderator_retires_an_article_with_a_reason_and_brings_it_back(client, area):
    _, article = _promoted(area)
    retire = reverse("knowledge:article_retire", kwargs={"pk": article.pk})
    client.force_login(moderator())
    assert client.get(retire).status_code == 200
    response = client.post(retire, {"reason": ""})
    assert response.status_code == 400 and "Say briefly" in response.content.decode()

    assert client.post(retire, {"reason": "Applies to v1 only"}).status_code == 302
    article.refresh_from_db()
    assert article.status == "retired"
    page = client.get(article.get_absolute_url()).content.decode()
    assert "Retired.</strong> Applies to v1 only" in page

    client.logout()
    assert client.get(article.get_absolute_url()).status_code == 404

    client.force_login(moderator())
    unretire = reverse("knowledge:article_unretire", kwargs={"pk": article.pk})
    assert client.post(unretire).status_code == 302
    article.refresh_from_db()
    assert article.status == "published"


def test_members_and_csrs_cannot_retire_or_review(client, area):
    answer, article = _promoted(area)
    community_services.answer_edit(answer=answer, editor=answer.author, body="Changed answer body.")
    for user in (UserFactory(), csr()):
        client.force_login(user)
        assert client.post(
            reverse("knowledge:article_retire", kwargs={"pk": article.pk}), {"reason": "x y z"}
        ).status_code in (403, 404)
        assert client.post(
            reverse("knowledge:article_review", kwargs={"pk": article.pk}), {"action": "keep"}
        ).status_code in (403, 404)
    article.refresh_from_db()
    assert article.status == "needs_review"


def test_the_diff_page_shows_changes_between_two_revisions_escaped(client, area):
    staff = moderator()
    _, article = _promoted(area)
    services.article_edit(
        article=article,
        editor=staff,
        title=article.title,
        problem=article.problem,
        solution="Hold the button.\n<script>alert('x')</script>",
    )
    url = reverse("knowledge:article_diff", kwargs={"pk": article.pk})
    client.force_login(csr())
    response = client.get(url, {"from": 1, "to": 2})
    assert response.status_code == 200
    html = response.content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    assert 'class="kb-diff--added"' in html and 'class="kb-diff--removed"' in html
    assert client.get(url, {"from": 1, "to": 9}).status_code == 404
    assert client.get(url, {"from": "x"}).status_code == 400

    client.force_login(UserFactory())
    assert client.get(url, {"from": 1, "to": 2}).status_code == 403


def test_the_review_queue_lists_reason_and_diff_and_a_moderator_reapproves(client, area):
    answer, article = _promoted(area)
    community_services.answer_edit(
        answer=answer, editor=answer.author, body="Hold reset for fifteen seconds instead."
    )
    url = reverse("knowledge:review_queue")
    client.force_login(moderator())
    html = client.get(url).content.decode()
    assert article.title in html and "Source answer edited" in html
    assert "fifteen seconds" in html and "approved revision 1 → current revision 2" in html

    response = client.post(
        reverse("knowledge:article_review", kwargs={"pk": article.pk}),
        {"action": "reapprove", "next": "queue"},
    )
    assert response.status_code == 302 and response["Location"] == url
    article.refresh_from_db()
    assert article.status == "published" and article.approved_revision.number == 2
    assert "Nothing waits for review" in client.get(url).content.decode()


def test_the_review_queue_is_for_staff_and_its_query_count_is_flat(client, area):
    url = reverse("knowledge:review_queue")
    assert client.get(url).status_code == 302
    client.force_login(UserFactory())
    assert client.get(url).status_code == 403

    staff = moderator()
    counts = []
    for n in (1, 6):
        for _ in range(n):
            answer, _ = _promoted(area)
            community_services.answer_edit(
                answer=answer, editor=answer.author, body="A new text for the answer."
            )
        client.force_login(User.objects.get(pk=staff.pk))
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_a_moderator_writes_an_internal_article_from_the_form(client, area):
    url = reverse("knowledge:article_new")
    client.force_login(csr())
    assert client.get(url).status_code == 403
    client.force_login(moderator())
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "title": "short",
            "area": area.pk,
            "audience": "internal",
            "problem": "A problem text",
            "solution": "A solution text",
        },
    )
    assert response.status_code == 400 and "A title has 10 to 200 characters." in (
        response.content.decode()
    )
    response = client.post(
        url,
        {
            "title": "Escalating a mesh outage",
            "area": area.pk,
            "audience": "internal",
            "problem": "Several customers in one region lose mesh.",
            "solution": "Open an incident in the status tool and link the tickets.",
            "tags": "outage escalation",
            "publish": "on",
        },
    )
    article = Article.objects.get(title="Escalating a mesh outage")
    assert response.status_code == 302 and response["Location"] == article.get_absolute_url()
    assert article.audience == "internal" and article.status == "published"
    assert sorted(article.tags.values_list("slug", flat=True)) == ["escalation", "outage"]
    assert AuditEntry.objects.filter(action="knowledge.article.created").count() == 1
    page = client.get(article.get_absolute_url()).content.decode()
    assert "Internal" in page and "Written by staff" in page


def test_a_moderator_merges_an_answer_from_the_article_page(client, area):
    _, article = _promoted(area)
    other, _ = _promoted(area)
    client.force_login(moderator())
    assert (
        "Merge another validated answer" in client.get(article.get_absolute_url()).content.decode()
    )
    url = reverse("knowledge:article_source_add", kwargs={"pk": article.pk})
    unvalidated = AnswerFactory(question=QuestionFactory(area=area))
    response = client.post(url, {"answer": unvalidated.pk})
    assert response.status_code == 400 and "Only a validated answer" in response.content.decode()
    assert client.post(url, {"answer": other.pk}).status_code == 302
    page = client.get(article.get_absolute_url()).content.decode()
    assert "Merged answers" in page and other.question.title in page
