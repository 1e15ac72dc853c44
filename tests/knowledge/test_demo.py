import datetime as dt
import re
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.core.management import CommandError, call_command
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from community import demo_content as demo
from community import rules
from community.models import Answer, AuditEntry, Comment, ProductArea, Question, User, Vote
from knowledge.models import Article, SearchIndexOutbox, Validation
from knowledge.search import get_backend
from tests.factories import QuestionFactory, UserFactory

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _load() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out)
    return out.getvalue()


# --- the data itself (no database) ------------------------------------------------------------


def test_the_demo_threads_follow_the_posting_rules():
    usernames = {account["username"] for account in demo.ACCOUNTS}
    areas = {area["slug"] for area in demo.AREAS}
    for thread in demo.THREADS:
        assert thread["area"] in areas and thread["author"] in usernames
        assert len(thread["title"]) >= 10 and len(thread["body"]) >= 20
        assert 1 <= len(thread["tags"]) <= 4
        assert all(SLUG_RE.match(tag) for tag in thread["tags"]), thread["tags"]
        assert thread["author"] not in thread.get("votes", {})
        answers = thread.get("answers", [])
        assert len(answers) <= 4
        assert sum(bool(a.get("accepted")) for a in answers) <= 1
        for answer in answers:
            assert answer["author"] in usernames and len(answer["body"]) >= 15
            assert answer["author"] not in answer.get("votes", {})
            assert set(answer.get("votes", {})) <= usernames


def test_demo_validators_are_moderators_or_experts_of_the_thread_area():
    accounts = {account["username"]: account for account in demo.ACCOUNTS}
    for thread in demo.THREADS:
        for answer in thread.get("answers", []):
            if validated := answer.get("validated"):
                validator = accounts[validated["by"]]
                assert validated["by"] != answer["author"]
                assert validator["role"] == "moderator" or thread["area"] in validator.get(
                    "certified_for", ()
                ), (thread["title"], validated["by"])


# --- loading ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_loading_the_demo_builds_a_lived_in_community_once():
    output = _load()

    areas = ProductArea.objects.filter(slug__in=[a["slug"] for a in demo.AREAS])
    assert areas.count() == len(demo.AREAS) >= 3
    assert 35 <= Question.objects.count() == len(demo.THREADS) <= 45
    assert Question.objects.filter(answer_count=0).count() >= 5
    assert Answer.objects.count() == sum(len(t.get("answers", [])) for t in demo.THREADS)
    assert Question.objects.filter(accepted_answer__isnull=False).count() >= 20
    assert Comment.objects.exists()
    assert Answer.objects.filter(score__lt=0).exists()  # some wrong-ish answers
    assert not Vote.objects.filter(
        Q(answer__author=F("user")) | Q(question__author=F("user"))
    ).exists()

    # Validation promoted answers into the knowledge base; one was edited afterwards.
    assert Validation.objects.filter(as_staff=True).exists()
    assert Validation.objects.filter(as_staff=False).exists()
    assert Article.objects.filter(status=Article.Status.PUBLISHED).count() >= 8
    in_review = Article.objects.get(status=Article.Status.NEEDS_REVIEW)
    assert in_review.source_answer.revision_count == 2
    assert in_review.approved_revision.number == 1
    assert AuditEntry.objects.filter(action="knowledge.article.needs_review").count() == 1

    # Spread over the past two months rather than "just now".
    now = timezone.now()
    oldest = Question.objects.order_by("created_at").first().created_at
    newest = Question.objects.order_by("-created_at").first().created_at
    assert now - dt.timedelta(days=61) < oldest < now - dt.timedelta(days=50)
    assert newest > now - dt.timedelta(days=2)
    assert not Question.objects.filter(last_activity_at__gt=now).exists()
    for question in Question.objects.filter(answer_count__gt=0)[:10]:
        assert question.last_activity_at >= question.answers.order_by("-created_at")[0].created_at

    # The command indexed synchronously: nothing waits for the worker, every article is findable.
    assert not SearchIndexOutbox.objects.exists()
    backend = get_backend()
    for article in Article.objects.filter(status__in=Article.VISIBLE_STATUSES):
        hits = backend.search(article.title, page_size=20).hits
        assert f"article:{article.pk}" in [hit.id for hit in hits], article.title
    assert demo.DEMO_PASSWORD in output and "needs review" in output

    counts = (User.objects.count(), Question.objects.count(), Article.objects.count())
    assert "already loaded" in _load()
    assert (User.objects.count(), Question.objects.count(), Article.objects.count()) == counts


@pytest.mark.django_db
def test_every_demo_role_has_an_account_that_can_sign_in(client):
    _load()

    users = {user.username: user for user in User.objects.prefetch_related("groups")}
    for account in demo.ACCOUNTS:
        user = users[account["username"]]
        assert EmailAddress.objects.filter(
            user=user, email=account["email"], verified=True, primary=True
        ).exists()
        # Through allauth, whose mandatory verification would stop an unverified address.
        response = client.post(
            reverse("account_login"),
            {"login": account["email"], "password": demo.DEMO_PASSWORD},
        )
        assert response.status_code == 302, account["email"]
        assert client.session["_auth_user_id"] == str(user.pk)
        client.logout()
    assert not rules.is_staff_member(users["maria"])
    assert rules.is_csr(users["carla"]) and not rules.is_moderator(users["carla"])
    assert rules.is_moderator(users["mo"]) and not rules.is_admin(users["mo"])
    assert rules.is_admin(users["admin"]) and users["admin"].is_staff
    erik_areas = ProductArea.objects.filter(pk__in=rules.certified_area_ids(users["erik"]))
    assert sorted(erik_areas.values_list("slug", flat=True)) == [
        "lumen-mesh-wifi",
        "lumen-thermostat",
    ]
    # Together the experts cover every area, each with a one-year term.
    covered = rules.certified_area_ids(users["erik"]) | rules.certified_area_ids(users["priya"])
    assert covered == set(ProductArea.objects.values_list("pk", flat=True))
    for cert in users["erik"].certifications.all():
        assert cert.expires_at - cert.granted_at == dt.timedelta(days=365)


@pytest.mark.django_db
def test_the_demo_refuses_to_mix_into_an_existing_community():
    QuestionFactory()

    with pytest.raises(CommandError, match="already has questions"):
        _load()

    assert not ProductArea.objects.filter(slug=demo.AREAS[0]["slug"]).exists()


@pytest.mark.django_db
def test_the_demo_refuses_to_take_over_an_existing_account():
    UserFactory(username="someone", email="mo@lumen.example")

    with pytest.raises(CommandError, match="someone"):
        _load()

    assert not ProductArea.objects.filter(slug=demo.AREAS[0]["slug"]).exists()


@pytest.mark.django_db
def test_the_demo_is_visible_under_the_production_posting_rules(settings):
    """Pre-moderation applies to new members' posts, not to the demo's replayed history."""
    from community.models import PostStatus
    from config.settings import PEERDESK as PRODUCTION_RULES

    settings.PEERDESK = {
        **settings.PEERDESK,
        "PREMODERATION_FIRST_POSTS": PRODUCTION_RULES["PREMODERATION_FIRST_POSTS"],
    }
    assert settings.PEERDESK["PREMODERATION_FIRST_POSTS"] > 0
    call_command("load_demo", stdout=StringIO())
    assert not Question.objects.exclude(status=PostStatus.VISIBLE).exists()
    assert not Answer.objects.exclude(status=PostStatus.VISIBLE).exists()
