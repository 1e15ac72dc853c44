"""The moderation pages and API: the queue with its filters, one-click and bulk actions, the post
and member pages, flagging from the thread page and the API, merge redirects, the audit log's
filters and CSV export, and rate limits (429) on flags and log-in attempts."""

import csv
import datetime as dt
import io

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from community.audit import audit_log
from community.models import AuditEntry, Question
from moderation import services
from moderation.models import Flag
from tests.factories import (
    AnswerFactory,
    FlagFactory,
    ProductAreaFactory,
    QuestionFactory,
    UserFactory,
    csr,
    moderator,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def mod(client):
    user = moderator(username="mona")
    client.force_login(user)
    return user


def _queue(client, **params):
    return client.get(reverse("moderation:queue"), params)


# --- access -----------------------------------------------------------------------------------

MOD_URLS = [
    ("moderation:queue", {}),
    ("moderation:member", {"username": "someone"}),
    ("moderation:audit_csv", {}),
]


@pytest.mark.parametrize(("name", "kwargs"), MOD_URLS)
def test_the_moderation_pages_are_for_moderators_only(client, name, kwargs):
    UserFactory(username="someone")
    url = reverse(name, kwargs=kwargs)
    assert client.get(url).status_code == 302  # to the log-in page
    for user in (UserFactory(), csr()):
        client.force_login(user)
        assert client.get(url).status_code == 403
    client.force_login(moderator())
    assert client.get(url).status_code == 200


def test_members_cannot_post_moderator_actions(client):
    flag = FlagFactory()
    client.force_login(UserFactory())
    response = client.post(reverse("moderation:flag_action", args=[flag.pk, "hide"]))
    assert response.status_code == 403
    assert Question.objects.get(pk=flag.question_id).status == "visible"


# --- the queue --------------------------------------------------------------------------------


def test_the_queue_lists_open_flags_with_their_post_in_context(client, mod):
    answer = AnswerFactory(body="Buy cheap routers at spam.example right now.")
    FlagFactory(question=None, answer=answer, reason="spam", note="Advert")
    FlagFactory(question=None, answer=answer, reason="abusive")
    FlagFactory(status="dismissed")

    html = _queue(client).content.decode()

    assert "2 open flags" in html
    assert "Buy cheap routers" in html and "“Advert”" in html
    assert "2 open flags on this post" in html
    assert reverse("moderation:post", kwargs={"kind": "answer", "pk": answer.pk}) in html


def test_the_queue_filters_by_reason_area_and_age(client, mod):
    mesh, cam = ProductAreaFactory(slug="mesh"), ProductAreaFactory(slug="cam")
    spam = FlagFactory(question=QuestionFactory(area=mesh, title="Spam in the mesh area"))
    FlagFactory(question=QuestionFactory(area=cam, title="Rude words in cam"), reason="abusive")
    old = FlagFactory(question=QuestionFactory(area=cam, title="An old needs-staff flag"))
    Flag.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=9))

    by_reason = _queue(client, reason="abusive").content.decode()
    by_area = _queue(client, area=mesh.pk).content.decode()
    by_age = _queue(client, age="week").content.decode()
    recent = _queue(client, age="day").content.decode()

    assert "Rude words in cam" in by_reason and "Spam in the mesh" not in by_reason
    assert "Spam in the mesh" in by_area and "Rude words" not in by_area
    assert "An old needs-staff flag" in by_age and spam.question.title not in by_age
    assert "An old needs-staff flag" not in recent


def test_the_queue_costs_the_same_queries_for_3_or_15_flags(
    client, mod, django_assert_max_num_queries
):
    def grow(n):
        for i in range(n):
            if i % 2:
                FlagFactory(question=None, answer=AnswerFactory())
            else:
                FlagFactory()

    grow(3)
    _queue(client)
    with django_assert_max_num_queries(20) as few:
        assert _queue(client).status_code == 200
    grow(12)
    with django_assert_max_num_queries(20) as many:
        response = _queue(client)
    assert response.content.decode().count('name="flags"') == 15
    assert len(many.captured_queries) == len(few.captured_queries)


def test_one_click_dismiss_returns_to_the_filtered_queue(client, mod):
    flag = FlagFactory()
    back = reverse("moderation:queue") + "?reason=spam"

    response = client.post(
        reverse("moderation:flag_action", args=[flag.pk, "dismiss"]), {"next": back}
    )

    assert response.status_code == 302 and response["Location"] == back
    flag.refresh_from_db()
    assert flag.status == "dismissed"
    assert AuditEntry.objects.filter(action="moderation.flag.dismissed", actor=mod).exists()


def test_one_click_hide_and_lock(client, mod):
    hide_me, lock_me = FlagFactory(reason="spam"), FlagFactory(reason="abusive")

    client.post(reverse("moderation:flag_action", args=[hide_me.pk, "hide"]))
    client.post(reverse("moderation:flag_action", args=[lock_me.pk, "lock"]))

    hidden = Question.objects.get(pk=hide_me.question_id)
    locked = Question.objects.get(pk=lock_me.question_id)
    assert (hidden.status, hidden.hidden_reason) == ("hidden", "Flagged as spam")
    assert locked.locked_at is not None
    assert set(Flag.objects.values_list("status", flat=True)) == {"actioned"}


def test_an_open_redirect_is_not_followed_after_an_action(client, mod):
    flag = FlagFactory()
    response = client.post(
        reverse("moderation:flag_action", args=[flag.pk, "dismiss"]),
        {"next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("moderation:queue")


def test_bulk_dismiss_from_the_queue(client, mod):
    flags = FlagFactory.create_batch(3)
    keep = FlagFactory()

    response = client.post(
        reverse("moderation:queue_bulk"),
        {"action": "dismiss", "flags": [f.pk for f in flags]},
        follow=True,
    )

    assert "3 flags dismissed." in response.content.decode()
    assert Flag.objects.filter(status="dismissed").count() == 3
    keep.refresh_from_db()
    assert keep.status == "open"


def test_bulk_with_nothing_selected_says_so(client, mod):
    response = client.post(reverse("moderation:queue_bulk"), {"action": "hide"}, follow=True)
    assert "Select at least one flag." in response.content.decode()


def test_pending_posts_are_approved_from_the_queue(client, mod):
    pending = QuestionFactory(status="pending", title="A first question from a newcomer")
    assert "A first question from a newcomer" in _queue(client).content.decode()

    client.post(
        reverse("moderation:post", kwargs={"kind": "question", "pk": pending.pk}),
        {"action": "approve", "next": reverse("moderation:queue")},
    )

    pending.refresh_from_db()
    assert pending.status == "visible"
    assert "A first question from a newcomer" not in _queue(client).content.decode()


# --- the post page ----------------------------------------------------------------------------


def _post_url(post):
    kind = "question" if isinstance(post, Question) else "answer"
    return reverse("moderation:post", kwargs={"kind": kind, "pk": post.pk})


def test_the_post_page_shows_a_hidden_post_and_restores_it(client, mod):
    question = QuestionFactory()
    services.post_hide(post=question, actor=mod, reason="Looks like spam")

    page = client.get(_post_url(question)).content.decode()
    client.post(_post_url(question), {"action": "restore", "restore-reason": "False alarm"})

    assert "Looks like spam" in page
    question.refresh_from_db()
    assert question.status == "visible"


def test_an_edit_without_a_reason_is_refused_on_the_form_and_keeps_the_text(client, mod):
    answer = AnswerFactory()
    response = client.post(
        _post_url(answer),
        {"action": "edit", "edit-body": "A better answer body, kept as typed.", "edit-reason": ""},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Say why you are editing this post." in html
    assert "A better answer body, kept as typed." in html


def test_moving_and_merging_from_the_post_page(client, mod):
    cam = ProductAreaFactory(name="Lumen Cam")
    question, canonical = QuestionFactory(), QuestionFactory()
    AnswerFactory(question=question)

    client.post(_post_url(question), {"action": "move", "move-area": cam.pk})
    response = client.post(
        _post_url(question),
        {"action": "merge", "merge-canonical": f"http://testserver/questions/{canonical.pk}/"},
        follow=True,
    )

    question.refresh_from_db()
    assert question.area == cam
    assert question.merged_into == canonical
    assert "the old address redirects there" in response.content.decode()


def test_a_merged_duplicates_old_address_redirects_to_the_canonical_thread(client, mod):
    duplicate, canonical = QuestionFactory(), QuestionFactory()
    services.thread_merge(duplicate=duplicate, canonical=canonical, actor=mod)
    target = reverse("community:question", kwargs={"pk": canonical.pk})

    staff = client.get(duplicate.get_absolute_url())
    client.logout()
    anonymous = client.get(duplicate.get_absolute_url())

    assert (staff.status_code, staff["Location"]) == (301, target)
    assert (anonymous.status_code, anonymous["Location"]) == (301, target)


# --- the member page --------------------------------------------------------------------------


def test_suspending_a_member_from_their_page(client, mod):
    member = UserFactory(username="troll")
    url = reverse("moderation:member", kwargs={"username": "troll"})

    missing_days = client.post(url, {"kind": "suspend", "reason": "Spam"})
    done = client.post(url, {"kind": "suspend", "days": 7, "reason": "Spam"}, follow=True)

    assert missing_days.status_code == 400
    assert "A suspension needs a duration." in missing_days.content.decode()
    member.refresh_from_db()
    assert member.suspended_until > timezone.now() + dt.timedelta(days=6)
    assert "Suspended" in done.content.decode()


def test_a_suspended_member_sees_why_they_cannot_post(client, mod):
    member = UserFactory()
    question = QuestionFactory()
    services.member_sanction(
        user=member, actor=mod, kind="suspend", reason="Spam", duration=dt.timedelta(days=1)
    )
    client.force_login(member)

    response = client.post(
        reverse("community:answer", kwargs={"pk": question.pk}),
        {"body": "An answer written while suspended."},
    )

    assert response.status_code == 403


# --- flagging from the thread page ------------------------------------------------------------


def test_the_thread_page_offers_a_flag_form_on_others_posts_only(client):
    member = UserFactory()
    own = QuestionFactory(author=member)
    AnswerFactory(question=own)
    client.force_login(member)

    html = client.get(own.get_absolute_url()).content.decode()

    assert reverse("flags:create", kwargs={"kind": "question", "pk": own.pk}) not in html
    assert html.count("<summary>Flag</summary>") == 1  # the answer, not the own question


def test_flagging_from_the_thread_page_then_the_form_says_thanks(client):
    question = QuestionFactory()
    client.force_login(UserFactory())

    response = client.post(
        reverse("flags:create", kwargs={"kind": "question", "pk": question.pk}),
        {"reason": "off_topic", "note": "About a toaster"},
        follow=True,
    )

    assert "a moderator will take a look" in response.content.decode()
    assert "Flagged — thanks" in response.content.decode()
    assert Flag.objects.get().note == "About a toaster"


def test_flagging_twice_or_too_often_shows_why_and_keeps_the_note(client, settings):
    settings.PEERDESK = {**settings.PEERDESK, "RATE_LIMITS": {"flag": 1}}
    first, second = QuestionFactory(), QuestionFactory()
    client.force_login(UserFactory())
    url = reverse("flags:create", kwargs={"kind": "question", "pk": first.pk})
    client.post(url, {"reason": "spam"})

    again = client.post(url, {"reason": "spam", "note": "Still spam"})
    limited = client.post(
        reverse("flags:create", kwargs={"kind": "question", "pk": second.pk}),
        {"reason": "spam", "note": "Also spam, I promise"},
    )

    assert again.status_code == 400
    assert "You have already flagged this post." in again.content.decode()
    assert limited.status_code == 429
    assert "Too many flag actions" in limited.content.decode()
    assert "Also spam, I promise" in limited.content.decode()


# --- the flag API -----------------------------------------------------------------------------


def _api(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_flagging_through_the_api(client):
    answer = AnswerFactory()
    member = UserFactory()
    url = reverse("api-v1:answer-flag", kwargs={"pk": answer.pk})

    created = _api(member).post(url, {"reason": "incorrect", "note": "Wrong port"}, format="json")
    again = _api(member).post(url, {"reason": "spam"}, format="json")
    own = _api(answer.author).post(url, {"reason": "spam"}, format="json")
    anonymous = _api().post(url, {"reason": "spam"}, format="json")

    assert created.status_code == 201
    assert created.json()["post_type"] == "answer" and created.json()["status"] == "open"
    assert again.status_code == 400 and "reason" in again.json()
    assert own.status_code == 403
    assert anonymous.status_code == 401


def test_a_duplicate_flag_through_the_api_names_a_visible_question():
    question, other = QuestionFactory(), QuestionFactory()
    hidden = QuestionFactory(status="hidden")
    url = reverse("api-v1:question-flag", kwargs={"pk": question.pk})

    bad = _api(UserFactory()).post(url, {"reason": "duplicate", "duplicate_of": hidden.pk})
    good = _api(UserFactory()).post(url, {"reason": "duplicate", "duplicate_of": other.pk})

    assert bad.status_code == 400 and "duplicate_of" in bad.json()
    assert good.status_code == 201 and good.json()["duplicate_of"] == other.pk


def test_the_flag_api_answers_429_with_retry_after(settings):
    settings.PEERDESK = {**settings.PEERDESK, "RATE_LIMITS": {"flag": 2}}
    member = UserFactory()
    responses = [
        _api(member).post(
            reverse("api-v1:question-flag", kwargs={"pk": QuestionFactory().pk}),
            {"reason": "spam"},
        )
        for _ in range(3)
    ]

    assert [r.status_code for r in responses] == [201, 201, 429]
    assert 0 < int(responses[2]["Retry-After"]) <= 60


def test_a_hidden_post_cannot_be_flagged_by_those_who_cannot_see_it():
    question = QuestionFactory(status="hidden")
    response = _api(UserFactory()).post(
        reverse("api-v1:question-flag", kwargs={"pk": question.pk}), {"reason": "spam"}
    )
    assert response.status_code == 404


# --- log-in attempts --------------------------------------------------------------------------


def test_too_many_failed_log_ins_are_refused(client):
    user = UserFactory(email="victim@example.com")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    url = reverse("account_login")
    bad = {"login": "victim@example.com", "password": "wrong-guess"}

    per_account = [client.post(url, bad) for _ in range(6)]
    per_ip = [client.post(url, {**bad, "login": f"other{i}@example.com"}) for i in range(30)]

    # allauth: five failures per account in five minutes lock that account's log-in with a
    # message; thirty log-in posts a minute from one address get HTTP 429.
    assert "Too many failed login attempts" in per_account[-1].content.decode()
    assert per_ip[-1].status_code == 429
    assert "Too many attempts" in per_ip[-1].content.decode()


# --- the audit log ----------------------------------------------------------------------------


def _entries(mod):
    other = UserFactory(username="ozzy")
    question = QuestionFactory(title="=HYPERLINK(evil)")
    audit_log(actor=mod, action="community.question.hidden", target=question, data={"a": 1})
    audit_log(actor=other, action="knowledge.answer.validated", target=question, data={})
    old = audit_log(actor=mod, action="community.question.locked", target=QuestionFactory())
    AuditEntry.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=40))
    return question


def test_the_audit_log_filters_by_actor_action_target_and_date(client, mod):
    question = _entries(mod)
    page = reverse("moderation:audit_log")

    def actions(**params):
        html = client.get(page, params).content.decode()
        return {
            a
            for a in ("hidden", "validated", "locked")
            if f"community.question.{a}" in html or f"knowledge.answer.{a}" in html
        }

    since = (timezone.localdate() - dt.timedelta(days=7)).isoformat()
    assert actions(actor="ozzy") == {"validated"}
    assert actions(action="community.") == {"hidden", "locked"}
    assert actions(target=f"community.question:{question.pk}") == {"hidden", "validated"}
    assert actions(since=since) == {"hidden", "validated"}


def test_the_audit_log_exports_the_filtered_entries_as_csv(client, mod):
    _entries(mod)

    response = client.get(reverse("moderation:audit_csv"), {"action": "community."})

    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "created_at",
        "actor",
        "action",
        "target_type",
        "target_id",
        "target",
        "ip",
        "data",
    ]
    assert sorted(r[2] for r in rows[1:]) == [
        "community.question.hidden",
        "community.question.locked",
    ]
    hidden = next(r for r in rows if r[2] == "community.question.hidden")
    assert hidden[1] == "mona"
    assert hidden[5] == "'=HYPERLINK(evil)"  # no formula injection into spreadsheets
    assert hidden[7] == '{"a": 1}'
