"""Social routing in a real browser: filter the directory live, ask the chosen expert, the expert
answers from their inbox, the customer rates the help."""

import pytest
from allauth.account.models import EmailAddress

from community.models import DirectedQuestion, ExpertProfile, ExpertRating
from tests.e2e.conftest import log_in
from tests.factories import (
    ExpertRatingFactory,
    ProductAreaFactory,
    QuestionFactory,
    TagFactory,
    UserFactory,
    expert,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _verified(user):
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def test_a_customer_picks_an_expert_asks_gets_an_answer_and_rates_it(new_page):
    area = ProductAreaFactory(name="Guitars", slug="guitars")
    customer_user = _verified(UserFactory(email="customer@example.com"))
    # An established member: a new member's first posts wait in premoderation (issue 4).
    QuestionFactory.create_batch(2, author=customer_user, area=area)
    vic = _verified(expert(area, email="vic@example.com", display_name="Vintage Vic"))
    ExpertProfile.objects.create(user=vic, languages=",en,").skills.set(
        [TagFactory(slug="vintage")]
    )
    for _ in range(3):
        ExpertRatingFactory(directed__expert=vic, score=5)
    modern = expert(area, display_name="Modern Mo")
    ExpertProfile.objects.create(user=modern).skills.set([TagFactory(slug="vintage")])
    for _ in range(3):
        ExpertRatingFactory(directed__expert=modern, score=2)
    expert(area, display_name="Pedal Pat")

    # The customer filters the directory live, by skill and rating.
    customer = new_page()
    log_in(customer, "customer@example.com")
    customer.goto("/experts/")
    cards = customer.locator("li.expert-card")
    assert cards.count() == 3
    customer.fill("input[name=q_skill]", "vintage")
    customer.wait_for_function("document.querySelectorAll('li.expert-card').length === 2")
    assert "/experts/?" in customer.url  # the address follows the filters, without a reload
    customer.select_option("select[name=min_rating]", "4")
    customer.wait_for_function("document.querySelectorAll('li.expert-card').length === 1")
    assert "Vintage Vic" in cards.first.inner_text()
    assert "5.0" in cards.first.inner_text()

    # … picks Vic and asks.
    cards.first.get_by_role("link", name="Ask Vintage Vic").click()
    customer.wait_for_url("**/ask/?expert=*")
    assert "Your question goes to Vintage Vic" in customer.inner_text(".directed-summary")
    customer.select_option("select[name=area]", label="Guitars")
    customer.fill("input[name=title]", "Which strings suit a 1962 electric guitar?")
    customer.fill(
        "textarea[name=body]", "I restored a 1962 guitar and want period-correct strings."
    )
    customer.click("text=Post your question")
    customer.wait_for_url("**/questions/*/")
    thread_url = customer.url
    assert "Directed to Vintage Vic" in customer.inner_text(".directed-banner")

    # The expert answers from the inbox.
    vic_page = new_page()
    log_in(vic_page, "vic@example.com")
    vic_page.goto("/experts/inbox/")
    vic_page.get_by_role("link", name="Answer", exact=True).first.click()
    vic_page.wait_for_url(lambda url: "/questions/" in url)
    vic_page.fill("#your-answer textarea[name=body]", "Pure nickel flatwound strings, gauge 11.")
    vic_page.click("text=Post your answer")
    vic_page.wait_for_selector("text=Pure nickel flatwound strings")
    assert DirectedQuestion.objects.filter(expert=vic).latest("pk").status == "answered"

    # The customer rates the help.
    customer.goto(thread_url)
    customer.get_by_role("link", name="Rate the help").click()
    customer.check("input[name=score][value='5']")
    customer.fill("textarea[name=comment]", "Exactly what I needed.")
    customer.click("text=Send rating")
    customer.wait_for_selector("text=Thanks for rating the help.")
    rating = ExpertRating.objects.get(question__title__startswith="Which strings")
    assert (rating.expert, rating.score) == (vic, 5)
