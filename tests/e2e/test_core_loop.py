"""The core journey in a real browser: ask → answer → validate → find it in the knowledge base."""

import pytest
from allauth.account.models import EmailAddress

from tests.e2e.conftest import log_in
from tests.factories import ProductAreaFactory, UserFactory, expert

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _verified(user):
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def test_a_question_is_answered_validated_and_found_in_the_knowledge_base(new_page):
    area = ProductAreaFactory(name="Lumen Cam", slug="cam")
    asker = _verified(UserFactory(email="asker@example.com"))
    helper = _verified(UserFactory(email="helper@example.com"))
    certified = _verified(expert(area, email="expert@example.com"))
    del asker, helper, certified

    # A customer asks.
    customer = new_page()
    log_in(customer, "asker@example.com")
    customer.goto("/ask/")
    customer.select_option("select[name=area]", label="Lumen Cam")
    customer.fill("input[name=title]", "Camera night vision shows only a grey picture")
    customer.fill(
        "textarea[name=body]",
        "Since yesterday the night mode shows a flat grey image on my Lumen Cam.",
    )
    customer.fill("input[name=tags]", "night-vision")
    customer.click("text=Post your question")
    customer.wait_for_url("**/questions/*/")
    thread_url = customer.url
    assert "Camera night vision shows only a grey picture" in customer.content()

    # Another member answers.
    member = new_page()
    log_in(member, "helper@example.com")
    member.goto(thread_url)
    member.fill(
        "#your-answer textarea[name=body]",
        "Clean the infrared window and switch the IR lights to auto.",
    )
    member.click("text=Post your answer")
    member.wait_for_selector("text=Clean the infrared window")
    assert member.locator("text=Validate").count() == 0  # members cannot validate

    # The expert certified for Lumen Cam validates it.
    certified_page = new_page()
    log_in(certified_page, "expert@example.com")
    certified_page.goto(thread_url)
    certified_page.fill("input[name=note]", "Confirmed on firmware 3.1")
    certified_page.click("form.kb-validate-form button[type=submit]")
    certified_page.wait_for_selector("text=in the knowledge base")

    # The customer finds the article by searching the knowledge base.
    customer.goto("/kb/search/?q=grey+night+picture")
    customer.click("text=Camera night vision shows only a grey picture >> nth=0")
    customer.wait_for_url("**/kb/articles/**")
    body = customer.content()
    assert "Clean the infrared window" in body
    assert "Confirmed on firmware 3.1" in body or "Validated" in body
