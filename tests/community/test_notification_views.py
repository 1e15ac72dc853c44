"""Notification pages: the inbox and its count in the nav, mark read, preferences, follow buttons
and the "mark urgent" control."""

import pytest
from django.urls import reverse

from community import notifications
from community.models import Notification, NotificationPreference, Subscription
from tests.factories import ProductAreaFactory, QuestionFactory, TagFactory, UserFactory, csr

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(client):
    user = UserFactory(username="nina")
    client.force_login(user)
    return user


def _notify(user, n: int = 1, text: str = "Something happened") -> None:
    question = QuestionFactory()
    for i in range(n):
        notifications.notify(
            recipient=user,
            kind="answer",
            text=f"{text} {i}",
            actor=UserFactory(),
            question=question,
            url=question.get_absolute_url(),
        )


@pytest.mark.parametrize("name", ["notifications:inbox", "notifications:preferences"])
def test_visitors_are_sent_to_log_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_inbox_lists_my_notifications_and_the_nav_counts_the_unread(client, member):
    _notify(member, 2, "Dana answered")
    _notify(UserFactory(), 1, "Not for nina")
    page = client.get(reverse("notifications:inbox")).content.decode()
    assert "Dana answered 0" in page and "Dana answered 1" in page
    assert "Not for nina" not in page
    assert 'aria-label="2 unread"' in page


def test_the_inbox_uses_a_fixed_number_of_queries(client, member, django_assert_max_num_queries):
    _notify(member, 3)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("notifications:inbox")).status_code == 200
    _notify(member, 25)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("notifications:inbox")).status_code == 200


def test_marking_one_read_and_then_all_read(client, member):
    _notify(member, 3)
    first = Notification.objects.filter(recipient=member).first()
    client.post(reverse("notifications:mark_read", args=[first.pk]))
    assert Notification.objects.filter(recipient=member, read_at__isnull=True).count() == 2
    client.post(reverse("notifications:mark_all_read"))
    assert not Notification.objects.filter(recipient=member, read_at__isnull=True).exists()
    assert 'unread"' not in client.get(reverse("notifications:inbox")).content.decode()


def test_nobody_can_mark_another_members_notification_read(client, member):
    _notify(UserFactory())
    other = Notification.objects.get()
    client.post(reverse("notifications:mark_read", args=[other.pk]))
    other.refresh_from_db()
    assert other.read_at is None


def test_preferences_are_saved_and_bad_input_is_shown_on_the_form(client, member):
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert "Assignments and escalations" not in page  # staff-only kind hidden from members
    kinds = [
        "answer",
        "comment",
        "accepted",
        "validated",
        "mention",
        "followed",
        "directed",
        "flag",
        "expert",
    ]
    data = dict.fromkeys(kinds, "instant")
    data["answer"] = "daily"
    assert client.post(reverse("notifications:preferences"), data).status_code == 302
    assert NotificationPreference.objects.get(user=member, kind="answer").mode == "daily"

    data["comment"] = "hourly"
    response = client.post(reverse("notifications:preferences"), data)
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert NotificationPreference.objects.get(user=member, kind="comment").mode == "instant"


def test_staff_can_choose_how_assignments_reach_them(client):
    client.force_login(csr())
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert "Assignments and escalations" in page


def test_follow_buttons_follow_and_unfollow_a_question_a_tag_and_an_area(client, member):
    question, tag, area = QuestionFactory(), TagFactory(slug="mesh"), ProductAreaFactory()
    thread = client.get(question.get_absolute_url()).content.decode()
    assert "Follow question" in thread
    for target, thing in (("question", question), ("tag", tag), ("area", area)):
        response = client.post(
            reverse("notifications:follow", args=[target, thing.pk]), {"next": "/somewhere/"}
        )
        assert response.status_code == 302
        assert response["Location"] == "/somewhere/"
    assert Subscription.objects.filter(user=member).count() == 3
    assert "Following question" in client.get(question.get_absolute_url()).content.decode()
    assert "Following tag mesh" in client.get(tag.get_absolute_url()).content.decode()
    assert "Following" in client.get(area.get_absolute_url()).content.decode()

    client.post(reverse("notifications:unfollow", args=["tag", tag.pk]))
    assert Subscription.objects.filter(user=member).count() == 2
    preferences = client.get(reverse("notifications:preferences")).content.decode()
    assert question.title in preferences


def test_following_needs_a_post_and_a_sign_in(client):
    question = QuestionFactory()
    url = reverse("notifications:follow", args=["question", question.pk])
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "Follow question" not in client.get(question.get_absolute_url()).content.decode()


def test_following_an_unknown_kind_of_thing_is_a_404(client, member):
    assert client.post(reverse("notifications:follow", args=["planet", 1])).status_code == 404


def test_the_asker_marks_a_thread_urgent_from_the_thread_page(client, member):
    question = QuestionFactory(author=member)
    assert "Mark as urgent" in client.get(question.get_absolute_url()).content.decode()
    response = client.post(
        reverse("community:question_urgent", args=[question.pk]), {"urgent": "1"}
    )
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.urgent_at is not None
    assert "Urgent — clear" in client.get(question.get_absolute_url()).content.decode()


def test_other_members_see_no_urgent_control_and_cannot_use_it(client, member):
    question = QuestionFactory()
    assert "Mark as urgent" not in client.get(question.get_absolute_url()).content.decode()
    response = client.post(reverse("community:question_urgent", args=[question.pk]))
    assert response.status_code == 403
