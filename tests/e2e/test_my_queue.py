"""A CSR takes an escalated thread from "My queue" in a real browser."""

import datetime as dt

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from moderation.models import Assignment, Protocol
from moderation.protocols import services
from tests.e2e.conftest import log_in
from tests.factories import EscalationStepFactory, ProtocolFactory, QuestionFactory, csr, team

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _verified(user):
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def test_a_csr_takes_an_escalated_thread_from_my_queue(new_page):
    first_line = csr(username="first", display_name="First Line")
    tier2 = _verified(csr(username="tina", email="tina@example.com", display_name="Tina Tier2"))
    protocol = ProtocolFactory(
        name="Unanswered outages",
        trigger=Protocol.Trigger.UNANSWERED,
        trigger_param=1,
        assignee=first_line,
    )
    EscalationStepFactory(
        protocol=protocol,
        level=1,
        name="Tier 2",
        assignee_rule="round_robin",
        assignee=None,
        team=team("Tier 2 desk", [tier2]),
        timeout_minutes=30,
        response_guide="You may offer a replacement unit. You must not promise a refund.",
    )
    now = timezone.now()
    question = QuestionFactory(
        title="Mesh node keeps dropping off at night",
        created_at=now - dt.timedelta(hours=2),
    )
    # The first line was assigned on time but nobody answered: the next tick escalates.
    services.protocols_tick(now=now - dt.timedelta(minutes=55))
    services.protocols_tick(now=now)
    escalated = Assignment.objects.get(question=question, released_at__isnull=True)
    assert (escalated.level, escalated.assignee) == (1, tier2)

    page = new_page()
    log_in(page, "tina@example.com")
    page.click("text=My queue")
    page.wait_for_url("**/staff/my-queue/")
    row = page.locator("tr.queue-row", has_text="Mesh node keeps dropping off at night")
    assert "Unanswered outages · level 1" in row.inner_text()
    assert "overdue" not in row.inner_text()
    row.get_by_role("button", name="Claim (stop the clock)").click()
    page.wait_for_selector("text=Its escalation clock is stopped")
    assert "Clock stopped: claimed" in page.locator("tr.queue-row").inner_text()

    page.locator("tr.queue-row a", has_text="Mesh node keeps dropping off").click()
    page.wait_for_url(f"**{question.get_absolute_url()}")
    panel = page.locator(".assignment-panel")
    assert "Tina Tier2" in panel.inner_text()
    assert "Tier 2" in panel.inner_text()
    assert "must not promise a refund" in panel.inner_text()

    claimed = Assignment.objects.get(question=question, released_at__isnull=True)
    assert (claimed.assignee, claimed.claimed_at is not None, claimed.deadline_at) == (
        tier2,
        True,
        None,
    )
