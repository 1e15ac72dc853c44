"""The internal-audience leak test: an internal article's text reaches CSRs and staff only.

One unique secret word sits in an internal article written by staff and in a promoted article
that staff switched to internal. As an anonymous visitor and as a member we hit every entry
point (KB home, article pages, search incl. snippets and "did you mean", similar-questions JSON,
API article list/detail, API search, thread pages with their KB banners, staff-only pages) and
assert the secret never appears. A CSR control proves the secret is really indexed and shown to
those who may see it, so the test can fail.
"""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from knowledge import services
from knowledge.models import Article
from tests.factories import (
    AnswerFactory,
    ProductAreaFactory,
    QuestionFactory,
    UserFactory,
    csr,
    moderator,
)

pytestmark = pytest.mark.django_db

SECRET = "zanzibarquux"
TYPO = "zanzibarqux"  # one letter short: a "did you mean" must not offer the secret
NO_HITS = "plovdivxyzzy"  # same length as SECRET, matches nothing
assert len(NO_HITS) == len(SECRET)


@pytest.fixture
def internal(django_capture_on_commit_callbacks):
    """Two internal articles carrying SECRET, plus public threads linked to them."""
    area = ProductAreaFactory(name="Lumen Mesh Wi-Fi", slug="mesh")
    staff = moderator()
    with django_capture_on_commit_callbacks(execute=True):
        written = services.article_create(
            author=staff,
            area=area,
            title=f"The {SECRET} override for stuck satellites",
            problem=f"Satellites stuck on amber after an update need the {SECRET} override.",
            solution=f"Open the hidden {SECRET} menu: press reset five times, then hold.",
            audience="internal",
            tags=["satellite"],
        )
        answer = AnswerFactory(
            question=QuestionFactory(area=area, title="Satellite stuck on amber after update"),
            body="Press reset five times quickly and hold on the last press.",
        )
        services.answer_validate(answer=answer, validator=staff)
        promoted = Article.objects.get(source_answer=answer)
        services.article_edit(
            article=promoted,
            editor=staff,
            title=f"Amber satellites: the {SECRET} reset",
            problem=promoted.problem,
            solution=f"{promoted.solution}\n\nInternal: the {SECRET} code is 4711.",
            audience="internal",
        )
        covered = QuestionFactory(area=area, title="Stuck amber satellite again")
        services.question_cover(question=covered, article=written, actor=staff)
        # A public article on the same topic, so searches have something to show.
        public_answer = AnswerFactory(
            question=QuestionFactory(area=area, title="Satellite light stays amber"),
            body="Unplug the satellite for ten seconds and plug it back in.",
        )
        services.answer_validate(answer=public_answer, validator=staff)
    return {
        "written": written,
        "promoted": promoted,
        "promoted_thread": answer.question,
        "covered_thread": covered,
    }


def _html_pages(data) -> dict[str, str]:
    written, promoted = data["written"], data["promoted"]
    pages = {
        "kb home": reverse("knowledge:home"),
        "kb home for the area": reverse("knowledge:home") + "?area=mesh",
        "article (short link)": reverse("knowledge:article_short", kwargs={"pk": written.pk}),
        "promoted article": reverse("knowledge:article_short", kwargs={"pk": promoted.pk}),
        "article revisions": reverse("knowledge:article_revisions", kwargs={"pk": written.pk}),
        "article diff": reverse("knowledge:article_diff", kwargs={"pk": promoted.pk})
        + "?from=1&to=2",
        "review queue": reverse("knowledge:review_queue"),
        "search by topic": reverse("knowledge:search") + "?q=stuck+satellites+override",
        "search by topic, articles only": reverse("knowledge:search")
        + "?q=amber+satellite+reset&type=article",
        "search for a typo of the secret": reverse("knowledge:search") + f"?q={TYPO}",
        "similar questions": reverse("knowledge:similar")
        + "?q=satellite+stuck+amber+override+reset",
        "similar questions (typo)": reverse("knowledge:similar") + f"?q=what+is+the+{TYPO}+menu",
        "promoted thread": reverse("community:question", kwargs={"pk": data["promoted_thread"].pk}),
        "covered thread": reverse("community:question", kwargs={"pk": data["covered_thread"].pk}),
        "agent console": "/kb/agent/",
    }
    return pages


def _api_pages(data) -> dict[str, str]:
    written, promoted = data["written"], data["promoted"]
    api = "/api/v1/"
    return {
        "api articles": f"{api}articles/",
        "api articles for the area": f"{api}articles/?area=mesh",
        "api article detail": f"{api}articles/{written.pk}/",
        "api promoted article detail": f"{api}articles/{promoted.pk}/",
        "api search by topic": f"{api}search/?q=stuck+satellites+override",
        "api search for the secret": f"{api}search/?q={SECRET}",
        "api search for a typo": f"{api}search/?q={TYPO}",
        "api thread standings": f"{api}questions/{data['promoted_thread'].pk}/standings/",
        "api review queue": f"{api}review/",
        "api agent search": f"{api}agent/search/?q=stuck+satellites",
    }


def _viewers():
    anonymous_html, anonymous_api = Client(), APIClient()
    member = UserFactory()
    member_html, member_api = Client(), APIClient()
    member_html.force_login(member)
    member_api.force_authenticate(member)
    return {"anonymous": (anonymous_html, anonymous_api), "member": (member_html, member_api)}


def test_no_internal_text_reaches_customers_through_any_entry_point(internal):
    checked = 0
    for who, (html_client, api_client) in _viewers().items():
        for name, path in _html_pages(internal).items():
            response = html_client.get(path, follow=True)
            assert SECRET not in response.content.decode(), f"{who}: {name} ({path})"
            checked += 1
        for name, path in _api_pages(internal).items():
            response = api_client.get(path)
            body = response.content.decode()
            if name == "api search for the secret" and response.status_code == 200:
                # The response echoes the query; everything else must be empty.
                payload = response.json()
                assert payload["count"] == 0 and payload["results"] == [], f"{who}: {name}"
                body = body.replace(f'"query":"{SECRET}"', "")
            assert SECRET not in body, f"{who}: {name} ({path})"
            checked += 1
        # Searching for the secret itself: the page echoes the query and nothing more, exactly
        # as often as for a word that matches nothing.
        search = reverse("knowledge:search")
        with_secret = html_client.get(f"{search}?q={SECRET}").content.decode()
        with_nothing = html_client.get(f"{search}?q={NO_HITS}").content.decode()
        assert with_secret.count(SECRET) == with_nothing.count(NO_HITS), who
        assert "no-results" in with_secret or with_secret.count(SECRET) <= 4, who
    assert checked == 2 * (len(_html_pages(internal)) + len(_api_pages(internal)))


def test_csrs_do_see_the_internal_articles_everywhere_they_may(internal):
    """The control: the secret is indexed and shown to support agents, so the leak test can
    fail."""
    agent = csr()
    html_client, api_client = Client(), APIClient()
    html_client.force_login(agent)
    api_client.force_authenticate(agent)
    written = internal["written"]

    assert SECRET in html_client.get(written.get_absolute_url()).content.decode()
    assert SECRET in html_client.get(reverse("knowledge:home")).content.decode()
    search = html_client.get(reverse("knowledge:search") + "?q=stuck+satellites+override")
    assert SECRET in search.content.decode()
    hits = api_client.get("/api/v1/search/?q=stuck+satellites+override").json()["results"]
    assert f"article:{written.pk}" in [hit["id"] for hit in hits]
    assert api_client.get(f"/api/v1/articles/{written.pk}/").json()["audience"] == "internal"
    thread = html_client.get(
        reverse("community:question", kwargs={"pk": internal["covered_thread"].pk})
    )
    assert SECRET in thread.content.decode()
