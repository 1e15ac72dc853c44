"""Protocol pages: the staff assignment panel on threads (never shown to customers, in HTML or
API), "my queue" with claim / release / reassign, and protocol management for moderators."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from community.models import AuditEntry
from moderation.models import Assignment, EscalationStep, Protocol
from moderation.protocols import services
from tests.factories import (
    EscalationStepFactory,
    ProtocolFactory,
    QuestionFactory,
    UserFactory,
    csr,
    moderator,
    team,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def assigned():
    """A thread assigned 10 minutes ago by a protocol to CSR "carla", escalating after an hour."""
    carla = csr(username="carla", display_name="Carla Agent")
    protocol = ProtocolFactory(
        name="Router outages",
        assignee=carla,
        response_guide="You may restart the line remotely. You must not promise credits.",
    )
    EscalationStepFactory(
        protocol=protocol, level=1, name="Tier 2", assignee=moderator(), timeout_minutes=60
    )
    question = QuestionFactory(created_at=timezone.now() - dt.timedelta(minutes=10))
    services.protocols_tick()
    return {"question": question, "carla": carla, "protocol": protocol}


SECRETS = ["assignment-panel", "Carla Agent", "Router outages", "must not promise credits"]


def test_staff_see_who_holds_a_thread_its_protocol_level_and_sla_clock(client, assigned):
    client.force_login(csr())
    page = client.get(assigned["question"].get_absolute_url()).content.decode()
    for text in SECRETS:
        assert text in page
    assert re.search(r"Next step in (49|50)\sminutes", page)
    assert "first response" in page


@pytest.mark.parametrize("who", ["anonymous", "asker", "member"])
def test_customers_never_see_assignment_data_on_the_thread_page(client, assigned, who):
    if who == "asker":
        client.force_login(assigned["question"].author)
    elif who == "member":
        client.force_login(UserFactory())
    page = client.get(assigned["question"].get_absolute_url()).content.decode()
    assert page.count("Router outages") == 0
    for text in SECRETS:
        assert text not in page
    assert "sla-clock" not in page


def test_customers_never_see_assignment_data_in_the_api(client, assigned):
    client.force_login(assigned["question"].author)
    response = client.get(f"/api/v1/questions/{assigned['question'].pk}/")
    assert response.status_code == 200
    body = response.content.decode().lower()
    for text in ["assign", "carla", "router outages", "protocol", "deadline"]:
        assert text not in body


def test_the_assignment_panel_costs_a_fixed_number_of_queries(
    client, assigned, django_assert_max_num_queries
):
    client.force_login(csr())
    url = assigned["question"].get_absolute_url()
    client.get(url)
    with django_assert_max_num_queries(40) as captured:
        client.get(url)
    baseline = len(captured)
    for _ in range(5):
        csr()
    with django_assert_max_num_queries(baseline):
        client.get(url)


@pytest.mark.parametrize("make_user", [UserFactory], ids=["member"])
def test_my_queue_is_for_staff_only(client, make_user):
    url = reverse("moderation:my_queue")
    assert client.get(url).status_code == 302
    client.force_login(make_user())
    assert client.get(url).status_code == 403


def test_a_csr_sees_their_threads_and_their_teams_pool_in_my_queue(client, assigned):
    desk = team("Router desk", [assigned["carla"]])
    pooled = QuestionFactory(title="Nobody has this one yet")
    Assignment.objects.create(question=pooled, team=desk)
    client.force_login(assigned["carla"])
    page = client.get(reverse("moderation:my_queue")).content.decode()
    assert assigned["question"].title in page
    assert "Nobody has this one yet" in page
    assert "Next step in" in page


def test_my_queue_uses_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    agent = csr()
    client.force_login(agent)
    for _ in range(3):
        Assignment.objects.create(question=QuestionFactory(), assignee=agent)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("moderation:my_queue")).status_code == 200
    for _ in range(20):
        Assignment.objects.create(question=QuestionFactory(), assignee=agent)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("moderation:my_queue")).status_code == 200


def test_claim_release_and_reassign_from_the_pages_are_audited(client, assigned):
    question, carla = assigned["question"], assigned["carla"]
    other = csr(username="olga")
    client.force_login(other)
    queue = reverse("moderation:my_queue")

    response = client.post(
        reverse("moderation:assignment_claim", args=[question.pk]), {"next": queue}
    )
    assert response["Location"] == queue
    assert Assignment.objects.get(question=question, released_at__isnull=True).assignee == other

    client.post(
        reverse("moderation:assignment_reassign", args=[question.pk]), {"assignee": carla.pk}
    )
    assert Assignment.objects.get(question=question, released_at__isnull=True).assignee == carla

    client.force_login(carla)
    client.post(reverse("moderation:assignment_release", args=[question.pk]))
    assert Assignment.objects.get(question=question, released_at__isnull=True).assignee is None

    actions = list(
        AuditEntry.objects.filter(action__startswith="moderation.assignment.")
        .order_by("id")
        .values_list("action", "actor__username")
    )
    assert actions[1:] == [
        ("moderation.assignment.claimed", "olga"),
        ("moderation.assignment.reassigned", "olga"),
        ("moderation.assignment.released", "carla"),
    ]


def test_a_customer_cannot_claim_or_reassign(client, assigned):
    client.force_login(assigned["question"].author)
    question = assigned["question"]
    assert (
        client.post(reverse("moderation:assignment_claim", args=[question.pk])).status_code == 403
    )
    response = client.post(
        reverse("moderation:assignment_reassign", args=[question.pk]),
        {"assignee": assigned["carla"].pk},
    )
    assert response.status_code == 403


# --- protocol management ------------------------------------------------------------------------


def _protocol_data(**overrides) -> dict:
    data = {
        "name": "Billing disputes",
        "active": "on",
        "priority": "5",
        "area": "",
        "tag_names": "",
        "keywords": "refund, charged twice",
        "severity": "1",
        "trigger": "new_question",
        "trigger_param": "0",
        "assignee_rule": "round_robin",
        "assignee": "",
        "team": "",
        "response_guide": "Apologise, check the invoice. Never promise a refund.",
        "steps-TOTAL_FORMS": "2",
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    # A browser posts each empty step row with its select's default, which counts as unchanged.
    for i in range(int(data["steps-TOTAL_FORMS"])):
        data.setdefault(f"steps-{i}-assignee_rule", "round_robin")
    return data


@pytest.mark.parametrize("make_user", [UserFactory, csr], ids=["member", "csr"])
def test_only_moderators_manage_protocols(client, make_user):
    client.force_login(make_user())
    assert client.get(reverse("moderation:protocol_list")).status_code == 403
    assert client.post(reverse("moderation:protocol_create"), _protocol_data()).status_code == 403


def test_a_moderator_creates_a_protocol_with_an_escalation_chain(client):
    client.force_login(moderator())
    billing = team("Billing")
    boss = moderator(username="boss")
    data = _protocol_data(
        team=str(billing.pk),
        **{
            "steps-0-level": "1",
            "steps-0-name": "Supervisor",
            "steps-0-timeout_minutes": "45",
            "steps-0-assignee_rule": "named",
            "steps-0-assignee": str(boss.pk),
        },
    )
    response = client.post(reverse("moderation:protocol_create"), data)
    assert response.status_code == 302
    protocol = Protocol.objects.get(name="Billing disputes")
    (step,) = protocol.steps.all()
    assert (step.level, step.assignee, step.timeout_minutes) == (1, boss, 45)
    assert AuditEntry.objects.filter(action="moderation.protocol.created").count() == 1
    listing = client.get(reverse("moderation:protocol_list")).content.decode()
    assert "Billing disputes" in listing and "Supervisor after 45 min" in listing


def test_protocol_form_errors_are_shown_with_the_input_kept(client):
    client.force_login(moderator())
    data = _protocol_data(
        trigger="unanswered_after_hours",
        **{
            "steps-0-level": "1",
            "steps-0-timeout_minutes": "0",
            "steps-0-assignee_rule": "named",
        },
    )
    response = client.post(reverse("moderation:protocol_create"), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose the team that shares these threads." in page
    assert "Say after how many hours or days" in page
    assert "Billing disputes" in page
    assert not Protocol.objects.exists()


def test_editing_a_protocol_changes_and_deletes_steps(client):
    client.force_login(moderator())
    boss = moderator()
    protocol = ProtocolFactory(name="Outages", assignee=boss)
    step = EscalationStepFactory(protocol=protocol, level=1, assignee=boss, timeout_minutes=30)
    page = client.get(reverse("moderation:protocol_edit", args=[protocol.pk]))
    assert page.status_code == 200
    data = _protocol_data(
        name="Outages",
        assignee_rule="named",
        assignee=str(boss.pk),
        **{
            "steps-TOTAL_FORMS": "2",
            "steps-INITIAL_FORMS": "1",
            "steps-0-id": str(step.pk),
            "steps-0-protocol": str(protocol.pk),
            "steps-0-level": "1",
            "steps-0-timeout_minutes": "30",
            "steps-0-assignee_rule": "named",
            "steps-0-assignee": str(boss.pk),
            "steps-0-DELETE": "on",
            "steps-1-level": "2",
            "steps-1-timeout_minutes": "90",
            "steps-1-assignee_rule": "named",
            "steps-1-assignee": str(boss.pk),
        },
    )
    response = client.post(reverse("moderation:protocol_edit", args=[protocol.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(EscalationStep.objects.values_list("level", "timeout_minutes")) == [(2, 90)]
    entry = AuditEntry.objects.get(action="moderation.protocol.updated")
    assert entry.data["before"]["steps"][0]["timeout_minutes"] == 30
