"""A moderator clears a queue of five flags in a real browser: members flag posts from the thread
page, then the moderator hides one post in one click and dismisses the rest in bulk."""

import pytest
from allauth.account.models import EmailAddress

from community.models import Question
from moderation.models import Flag
from tests.e2e.conftest import log_in
from tests.factories import AnswerFactory, FlagFactory, QuestionFactory, UserFactory, moderator

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _verified(user):
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def test_a_moderator_clears_a_queue_of_five_flags(new_page):
    spam = QuestionFactory(title="Cheap routers at spam dot example")
    threads = QuestionFactory.create_batch(3)
    answer = AnswerFactory(question=threads[0], body="Restart it twice, then call support.")
    _verified(UserFactory(email="reporter@example.com"))
    _verified(moderator(email="mod@example.com"))

    # A member flags the spam question from its thread page.
    member = new_page()
    log_in(member, "reporter@example.com")
    member.goto(spam.get_absolute_url())
    member.click("#question details.flag-form summary")
    member.check("#question input[name=reason][value=spam]")
    member.fill("#question textarea[name=note]", "Advertising a shop")
    member.click("#question button:has-text('Send flag')")
    member.wait_for_selector("text=a moderator will take a look")
    assert member.locator("#question >> text=Flagged — thanks").count() == 1

    # Four more flags arrive from other members.
    FlagFactory(question=threads[1], reason="off_topic")
    FlagFactory(question=threads[2], reason="needs_staff")
    FlagFactory(question=None, answer=answer, reason="incorrect")
    FlagFactory(question=spam, reason="spam")
    assert Flag.objects.filter(status="open").count() == 5

    moderator_page = new_page()
    log_in(moderator_page, "mod@example.com")
    moderator_page.goto("/staff/queue/")
    moderator_page.wait_for_selector("text=5 open flags")

    # One click hides the spam question and closes both of its flags.
    spam_row = moderator_page.locator("tr", has_text="Cheap routers at spam dot example").first
    spam_row.locator("button:has-text('Hide post')").click()
    moderator_page.wait_for_selector("text=its flags are closed")
    moderator_page.wait_for_selector("text=3 open flags")

    # The other three were fine: select all and dismiss in bulk.
    moderator_page.check("#select-all")
    moderator_page.select_option("#bulk-action", "dismiss")
    moderator_page.click("button:has-text('Apply to selected')")
    moderator_page.wait_for_selector("text=3 flags dismissed.")
    assert "No open flags" in moderator_page.content()

    assert Flag.objects.filter(status="open").count() == 0
    assert Flag.objects.filter(status="actioned").count() == 2
    assert Question.objects.get(pk=spam.pk).status == "hidden"

    # The hidden question is gone for the member who flagged it.
    response = member.goto(spam.get_absolute_url())
    assert response.status == 404
