"""Notifications: who hears about what, email modes (instant, daily digest, off), digests,
follows and one-click unsubscribe tokens."""

import datetime as dt

import pytest
from django.core import mail, signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from community import notifications
from community import services as community_services
from community.events import flag_resolved, post_visibility_changed
from community.models import (
    AuditEntry,
    Notification,
    NotificationKind,
    NotificationPreference,
    Subscription,
)
from community.notifications.tokens import unsubscribe_token
from community.tasks import notifications_email_task
from knowledge import services as knowledge_services
from moderation.models import Flag
from tests.factories import (
    AnswerFactory,
    DirectedQuestionFactory,
    ProductAreaFactory,
    QuestionFactory,
    TagFactory,
    UserFactory,
    csr,
    expert,
)

pytestmark = pytest.mark.django_db


def _kinds(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def _prefer(user, kind: str, mode: str) -> None:
    notifications.notification_preferences_set(user=user, modes={kind: mode})


# --- who hears about what ---------------------------------------------------------------------


def test_an_answer_notifies_the_asker_but_never_the_answerer():
    question = QuestionFactory()
    helper = UserFactory()
    answer = community_services.answer_create(
        question=question, author=helper, body="Hold reset for ten seconds, then wait."
    )
    (note,) = Notification.objects.filter(recipient=question.author)
    assert (note.kind, note.actor, note.answer) == ("answer", helper, answer)
    assert note.url == answer.get_absolute_url()
    assert _kinds(helper) == []


def test_answering_your_own_question_notifies_nobody():
    question = QuestionFactory()
    community_services.answer_create(
        question=question, author=question.author, body="Found it myself: reset the hub."
    )
    assert Notification.objects.count() == 0


def test_a_comment_notifies_the_author_of_the_post():
    answer = AnswerFactory()
    commenter = UserFactory()
    community_services.comment_create(author=commenter, body="Worked for me too.", answer=answer)
    assert _kinds(answer.author) == ["comment"]
    assert _kinds(answer.question.author) == []


def test_accepting_an_answer_notifies_its_author_once():
    answer = AnswerFactory()
    asker = answer.question.author
    community_services.answer_accept(answer=answer, user=asker)
    community_services.answer_accept(answer=answer, user=asker)
    assert _kinds(answer.author) == ["accepted"]


def test_validating_an_answer_notifies_its_author():
    area = ProductAreaFactory()
    answer = AnswerFactory(question=QuestionFactory(area=area))
    validator = expert(area)
    knowledge_services.answer_validate(answer=answer, validator=validator, note="Checked")
    (note,) = Notification.objects.filter(recipient=answer.author)
    assert (note.kind, note.actor) == ("validated", validator)


def test_a_mention_notifies_the_member_named_but_not_an_email_address():
    named = UserFactory(username="dana")
    UserFactory(username="example.com")
    question = QuestionFactory()
    community_services.comment_create(
        author=UserFactory(),
        body="Ask @dana, or write to support@example.com about it.",
        question=question,
    )
    assert _kinds(named) == ["mention"]
    assert Notification.objects.filter(kind="mention").count() == 1


def test_an_asker_mentioned_in_an_answer_gets_one_notification_of_the_answer_kind():
    question = QuestionFactory(author=UserFactory(username="asker"))
    community_services.answer_create(
        question=question, author=UserFactory(), body="@asker try the second port instead."
    )
    assert _kinds(question.author) == ["answer"]


def test_followers_hear_about_new_questions_in_their_area_or_tag_and_answers_to_a_question():
    area, tag = ProductAreaFactory(), TagFactory(slug="pairing")
    area_fan, tag_fan, thread_fan = UserFactory(), UserFactory(), UserFactory()
    notifications.subscription_follow(user=area_fan, area=area)
    notifications.subscription_follow(user=tag_fan, tag=tag)
    question = community_services.question_create(
        author=UserFactory(),
        area=area,
        title="Pairing fails at ninety percent",
        body="The app stops at ninety percent every time I pair.",
        tags="pairing",
    )
    notifications.subscription_follow(user=thread_fan, question=question)
    community_services.answer_create(
        question=question, author=UserFactory(), body="Move closer to the hub while pairing."
    )
    assert _kinds(area_fan) == ["followed"]
    assert _kinds(tag_fan) == ["followed"]
    assert _kinds(thread_fan) == ["followed"]


def test_a_private_directed_question_reaches_nobody_outside_its_audience():
    area = ProductAreaFactory()
    follower, staff = UserFactory(username="outsider"), csr(username="agent")
    notifications.subscription_follow(user=follower, area=area)
    question = QuestionFactory(area=area, body="Please help, @outsider and @agent.")
    DirectedQuestionFactory(question=question, private=True)
    notifications.notify_question_created(question=question)
    assert _kinds(follower) == []
    assert _kinds(staff) == ["mention"]


def test_posts_waiting_for_approval_notify_when_approved_not_before():
    question = QuestionFactory()
    answer = AnswerFactory(question=question, status="pending")
    assert notifications.notify_answer_created(answer=answer) == []
    answer.status = "visible"
    post_visibility_changed.send(
        sender=type(answer), post=answer, status="visible", previous="pending", actor=None
    )
    assert _kinds(question.author) == ["answer"]


def test_a_flag_outcome_notifies_the_reporter():
    answer = AnswerFactory()
    reporter = UserFactory()
    flag = Flag.objects.create(answer=answer, reporter=reporter, reason=Flag.Reason.SPAM)
    flag_resolved.send(
        sender=Flag, flag_id=flag.pk, reporter_id=reporter.pk, outcome="actioned", action="hidden"
    )
    (note,) = Notification.objects.filter(recipient=reporter)
    assert note.kind == "flag"
    assert "hidden" in note.text
    assert note.url == answer.get_absolute_url()


def test_assignment_notifications_reach_staff_in_one_batch():
    agent, other = csr(), csr()
    q1, q2 = QuestionFactory(), QuestionFactory()
    created = notifications.notify_assignment(
        items=[(agent.pk, q1, "one"), (agent.pk, q2, "two"), (other.pk, q1, "three")]
    )
    assert len(created) == 3
    assert sorted(_kinds(agent)) == ["assignment", "assignment"]


# --- email: instant, daily digest, off ----------------------------------------------------------


def test_instant_email_goes_out_once_after_commit_with_one_click_unsubscribe(
    django_capture_on_commit_callbacks,
):
    question = QuestionFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        community_services.answer_create(
            question=question, author=UserFactory(), body="Hold reset for ten seconds."
        )
    assert len(callbacks) >= 1
    (message,) = mail.outbox
    assert message.to == [question.author.email]
    assert "answered your question" in message.subject
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/notifications/unsubscribe/" in message.extra_headers["List-Unsubscribe"]
    note = Notification.objects.get(recipient=question.author)
    assert note.emailed_at is not None

    # A duplicate or retried delivery sends nothing more.
    notifications_email_task.delay([note.pk])
    assert len(mail.outbox) == 1


def test_nothing_is_emailed_when_the_posting_transaction_rolls_back(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        community_services.answer_create(
            question=QuestionFactory(), author=UserFactory(), body="Hold reset for ten seconds."
        )
    assert len(callbacks) >= 1  # scheduled for after commit, not sent inside the transaction
    assert mail.outbox == []


def test_daily_mode_waits_for_one_digest_which_is_sent_only_once(
    django_capture_on_commit_callbacks,
):
    asker = UserFactory()
    _prefer(asker, "answer", "daily")
    _prefer(asker, "comment", "daily")
    question = QuestionFactory(author=asker)
    with django_capture_on_commit_callbacks(execute=True):
        community_services.answer_create(
            question=question, author=UserFactory(), body="Hold reset for ten seconds."
        )
        community_services.comment_create(author=UserFactory(), body="Same here", question=question)
    assert mail.outbox == []

    assert notifications.notifications_send_digests() == 1
    (digest,) = mail.outbox
    assert digest.to == [asker.email]
    assert "2 updates" in digest.subject
    assert "answered your question" in digest.body and "commented on your question" in digest.body
    assert digest.body.count("/notifications/unsubscribe/") == 2

    assert notifications.notifications_send_digests() == 0
    assert len(mail.outbox) == 1


def test_a_digest_is_one_email_per_member():
    first, second = UserFactory(), UserFactory()
    for user in (first, second):
        _prefer(user, "answer", "daily")
        for _ in range(3):
            answer = AnswerFactory(question=QuestionFactory(author=user))
            notifications.notify_answer_created(answer=answer)
    assert notifications.notifications_send_digests() == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([first.email, second.email])


def test_off_mode_keeps_the_inbox_entry_but_never_emails(django_capture_on_commit_callbacks):
    asker = UserFactory()
    _prefer(asker, "answer", "off")
    with django_capture_on_commit_callbacks(execute=True):
        community_services.answer_create(
            question=QuestionFactory(author=asker),
            author=UserFactory(),
            body="Try the second port instead.",
        )
    notifications.notifications_send_digests()
    assert mail.outbox == []
    assert _kinds(asker) == ["answer"]


def test_unsubscribing_before_the_email_task_runs_stops_that_email(
    django_capture_on_commit_callbacks,
):
    asker = UserFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        community_services.answer_create(
            question=QuestionFactory(author=asker),
            author=UserFactory(),
            body="Try the second port instead.",
        )
    _prefer(asker, "answer", "off")
    for callback in callbacks:
        callback()
    assert mail.outbox == []
    assert Notification.objects.get(recipient=asker).delivery == "off"


# --- preferences and follows -------------------------------------------------------------------


def test_preferences_reject_unknown_kinds_and_modes():
    user = UserFactory()
    with pytest.raises(ValidationError) as excinfo:
        notifications.notification_preferences_set(user=user, modes={"answer": "hourly"})
    assert "answer" in excinfo.value.message_dict
    _prefer(user, "answer", "daily")
    _prefer(user, "answer", "instant")
    assert NotificationPreference.objects.get(user=user, kind="answer").mode == "instant"


def test_following_is_idempotent_and_needs_an_active_account():
    area = ProductAreaFactory()
    user = UserFactory()
    notifications.subscription_follow(user=user, area=area)
    notifications.subscription_follow(user=user, area=area)
    assert Subscription.objects.filter(user=user).count() == 1
    notifications.subscription_unfollow(user=user, area=area)
    assert not Subscription.objects.exists()
    with pytest.raises(PermissionDenied):
        notifications.subscription_follow(user=UserFactory(is_active=False), area=area)


def test_the_asker_can_mark_a_thread_urgent_and_a_stranger_cannot():
    question = QuestionFactory()
    community_services.question_set_urgent(question=question, user=question.author)
    question.refresh_from_db()
    assert question.urgent_at is not None
    with pytest.raises(PermissionDenied):
        community_services.question_set_urgent(question=question, user=UserFactory(), urgent=False)
    community_services.question_set_urgent(question=question, user=csr(), urgent=False)
    question.refresh_from_db()
    assert question.urgent_at is None
    assert AuditEntry.objects.filter(action="community.question.urgent_cleared").count() == 1


# --- unsubscribe tokens --------------------------------------------------------------------------


def _unsubscribe_url(user, kind="answer") -> str:
    return reverse(
        "notifications:unsubscribe",
        kwargs={"token": unsubscribe_token(user_id=user.pk, kind=kind)},
    )


def test_an_unsubscribe_link_asks_first_then_works_without_signing_in():
    user = UserFactory()
    client = Client(enforce_csrf_checks=True)
    url = _unsubscribe_url(user)
    page = client.get(url)
    assert page.status_code == 200
    assert b"Stop these emails?" in page.content
    assert not NotificationPreference.objects.exists()

    done = client.post(url)
    assert done.status_code == 200
    assert NotificationPreference.objects.get(user=user, kind="answer").mode == "off"


def test_a_mail_client_one_click_post_unsubscribes_without_a_csrf_token():
    user = UserFactory()
    response = Client(enforce_csrf_checks=True).post(
        _unsubscribe_url(user, kind="all"),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    modes = set(NotificationPreference.objects.filter(user=user).values_list("mode", flat=True))
    assert modes == {"off"}
    assert NotificationPreference.objects.filter(user=user).count() == len(NotificationKind)


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_unsubscribe_token_is_a_400_page(client, method):
    user, other = UserFactory(), UserFactory()
    token = unsubscribe_token(user_id=user.pk, kind="answer")
    payload, _, signature = token.rpartition(":")
    forged = signing.TimestampSigner(salt="wrong").sign_object({"u": other.pk, "k": "answer"})
    for bad in (f"{payload}:{signature[:-2]}xx", forged, "not-a-token"):
        response = getattr(client, method)(
            reverse("notifications:unsubscribe", kwargs={"token": bad})
        )
        assert response.status_code == 400
        assert b"This link does not work" in response.content
    assert not NotificationPreference.objects.exists()


def test_an_expired_unsubscribe_token_is_a_400_page(client, monkeypatch):
    user = UserFactory()
    a_year_and_a_day_ago = timezone.now() - dt.timedelta(days=366)
    monkeypatch.setattr(signing.time, "time", lambda: a_year_and_a_day_ago.timestamp())
    token = unsubscribe_token(user_id=user.pk, kind="answer")
    monkeypatch.undo()
    response = client.post(reverse("notifications:unsubscribe", kwargs={"token": token}))
    assert response.status_code == 400
    assert b"expired" in response.content


def test_another_members_token_changes_only_that_members_settings(client):
    owner, signed_in = UserFactory(), UserFactory()
    client.force_login(signed_in)
    client.post(_unsubscribe_url(owner, kind="mention"))
    assert NotificationPreference.objects.get(user=owner, kind="mention").mode == "off"
    assert not NotificationPreference.objects.filter(user=signed_in).exists()


def test_email_links_are_absolute_and_unsubscribe_from_the_emailed_kind(
    django_capture_on_commit_callbacks, settings
):
    settings.PEERDESK_SITE_URL = "https://help.example.com"
    question = QuestionFactory()
    with django_capture_on_commit_callbacks(execute=True):
        community_services.comment_create(author=UserFactory(), body="Same here", question=question)
    (message,) = mail.outbox
    assert f"https://help.example.com{question.get_absolute_url()}" in message.body
    link = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert link.startswith("https://help.example.com/notifications/unsubscribe/")
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert notifications.read_unsubscribe_token(token) == (question.author_id, "comment")


def test_instant_emails_lost_to_a_broker_outage_are_sent_by_the_sweep(
    django_capture_on_commit_callbacks, monkeypatch
):
    from community.tasks import notifications_email_sweep_task

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(notifications_email_task, "delay", broker_down)
    question = QuestionFactory()
    with django_capture_on_commit_callbacks(execute=True):
        community_services.answer_create(
            question=question, author=UserFactory(), body="Hold reset for ten seconds."
        )
    assert mail.outbox == []
    note = Notification.objects.get(recipient=question.author)
    assert note.emailed_at is None

    assert notifications_email_sweep_task() == 0  # too fresh: its own task may still be coming
    Notification.objects.filter(pk=note.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=10)
    )
    assert notifications_email_sweep_task() == 1
    assert notifications_email_sweep_task() == 0
    assert len(mail.outbox) == 1


def test_the_chosen_expert_is_notified_of_a_question_asked_of_them():
    area = ProductAreaFactory()
    chosen = expert(area)
    asker = UserFactory()
    question = community_services.question_create(
        author=asker,
        area=area,
        title="Which firmware fixes the evening drop-outs?",
        body="My satellite drops every evening; which firmware should I install?",
        directed_to=chosen,
        private=True,
    )
    (note,) = Notification.objects.filter(recipient=chosen, kind="directed")
    assert note.question == question
    assert note.actor == asker
    assert _kinds(asker) == []
