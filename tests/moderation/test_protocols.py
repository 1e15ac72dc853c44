"""Protocols: matching, triggers, escalation timing on a frozen clock, assignee rules, and the
audited staff actions on assignments."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from community import services as community_services
from community.models import AuditEntry, Notification
from moderation.models import Assignment, Flag, Protocol, TeamCursor
from moderation.protocols import services
from tests.factories import (
    AnswerFactory,
    EscalationStepFactory,
    ProductAreaFactory,
    ProtocolFactory,
    QuestionFactory,
    TagFactory,
    UserFactory,
    csr,
    moderator,
    team,
)

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2030, 3, 4, 9, 0, tzinfo=dt.UTC)


def minutes(n: int) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def _current(question) -> Assignment:
    return Assignment.objects.get(question=question, released_at__isnull=True)


def _audits(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


@pytest.fixture
def chain():
    """Unanswered for 1 hour → tier 1 (named); tier 2 after 30 more minutes; supervisor after
    60 minutes more."""
    tier1, tier2, supervisor = (
        csr(username="tier1"),
        csr(username="tier2"),
        moderator(username="boss"),
    )
    protocol = ProtocolFactory(
        name="Unanswered an hour",
        trigger=Protocol.Trigger.UNANSWERED,
        trigger_param=1,
        assignee=tier1,
    )
    EscalationStepFactory(
        protocol=protocol, level=1, name="Tier 2", assignee=tier2, timeout_minutes=30
    )
    EscalationStepFactory(
        protocol=protocol, level=2, name="Supervisor", assignee=supervisor, timeout_minutes=60
    )
    return {"protocol": protocol, "tier1": tier1, "tier2": tier2, "supervisor": supervisor}


# --- matching -------------------------------------------------------------------------------


def test_a_protocol_matches_by_area_tags_keywords_and_severity():
    router, cam = ProductAreaFactory(slug="router"), ProductAreaFactory(slug="cam")
    wifi = TagFactory(slug="wifi")
    by_area = ProtocolFactory(name="router", area=router)
    by_tag = ProtocolFactory(name="wifi", tags=[wifi])
    by_keyword = ProtocolFactory(name="refunds", keywords="refund, money back")
    urgent_only = ProtocolFactory(name="urgent", severity=Protocol.Severity.HIGH, priority=5)
    ProtocolFactory(name="inactive", active=False)

    question = QuestionFactory(
        area=router, tags=[wifi], title="Router drops wifi", body="I want my money back now."
    )
    other = QuestionFactory(area=cam, title="Camera is blurry", body="The picture is soft.")

    assert services.protocol_match(question=question) == [by_area, by_tag, by_keyword]
    assert services.protocol_match(question=other) == []
    community_services.question_set_urgent(question=other, user=other.author)
    assert services.protocol_match(question=other) == [urgent_only]


def test_a_protocol_with_several_conditions_needs_all_of_them():
    router = ProductAreaFactory(slug="router")
    protocol = ProtocolFactory(area=router, keywords="firmware")
    assert services.protocol_match(
        question=QuestionFactory(area=router, body="After the firmware update it reboots.")
    ) == [protocol]
    assert services.protocol_match(question=QuestionFactory(area=router)) == []


# --- triggers -------------------------------------------------------------------------------


def test_a_new_question_is_assigned_on_commit(django_capture_on_commit_callbacks):
    agent = csr()
    area = ProductAreaFactory()
    ProtocolFactory(area=area, assignee=agent)
    asker = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        question = community_services.question_create(
            author=asker,
            area=area,
            title="The app will not pair with my camera",
            body="It stays on the searching screen for ever.",
        )
    assignment = _current(question)
    assert assignment.assignee == agent
    assert assignment.level == 0
    assert assignment.chain_started_at == question.created_at
    assert _audits("moderation.assignment.opened")[0].target_id == str(question.pk)
    assert Notification.objects.filter(recipient=agent, kind="assignment").count() == 1


def test_the_new_question_trigger_ignores_questions_older_than_the_protocol():
    ProtocolFactory(assignee=csr(), created_at=T0)
    QuestionFactory(created_at=T0 - minutes(5))
    fresh = QuestionFactory(created_at=T0 + minutes(5))
    result = services.protocols_tick(now=T0 + minutes(6))
    assert result.assigned == 1
    assert list(Assignment.objects.values_list("question_id", flat=True)) == [fresh.pk]


def test_an_unanswered_trigger_waits_its_hours_and_skips_answered_threads(chain):
    waiting = QuestionFactory(created_at=T0)
    AnswerFactory(question=QuestionFactory(created_at=T0))

    assert services.protocols_tick(now=T0 + minutes(59)).assigned == 0
    assert services.protocols_tick(now=T0 + minutes(60)).assigned == 1
    assert _current(waiting).assignee == chain["tier1"]


def test_no_accepted_or_validated_answer_after_days_fires_on_open_threads_only():
    agent = csr()
    ProtocolFactory(trigger=Protocol.Trigger.UNRESOLVED, trigger_param=2, assignee=agent)
    open_thread = QuestionFactory(created_at=T0)
    accepted = AnswerFactory(question=QuestionFactory(created_at=T0))
    accepted.question.accepted_answer = accepted
    accepted.question.save()
    AnswerFactory(question=QuestionFactory(created_at=T0), validated_at=T0)

    services.protocols_tick(now=T0 + dt.timedelta(days=2))
    assert set(Assignment.objects.values_list("question_id", flat=True)) == {open_thread.pk}


def test_a_customer_marking_a_thread_urgent_fires_the_urgent_protocol():
    agent = csr()
    ProtocolFactory(trigger=Protocol.Trigger.URGENT, assignee=agent)
    question = QuestionFactory()
    assert services.protocols_tick().assigned == 0
    community_services.question_set_urgent(question=question, user=question.author)
    question.refresh_from_db()
    services.protocols_tick()
    assignment = _current(question)
    assert assignment.assignee == agent
    assert assignment.chain_started_at == question.urgent_at


def test_a_needs_staff_flag_fires_the_flagged_protocol():
    agent = csr()
    ProtocolFactory(trigger=Protocol.Trigger.FLAGGED, assignee=agent)
    answer = AnswerFactory()
    Flag.objects.create(answer=answer, reporter=UserFactory(), reason=Flag.Reason.SPAM)
    assert services.protocols_tick().assigned == 0
    flag = Flag.objects.create(
        answer=answer, reporter=UserFactory(), reason=Flag.Reason.NEEDS_STAFF
    )
    services.protocols_tick()
    assignment = _current(answer.question)
    assert assignment.chain_started_at == flag.created_at


def test_imported_and_hidden_threads_are_never_assigned():
    ProtocolFactory(trigger=Protocol.Trigger.UNANSWERED, trigger_param=1, assignee=csr())
    QuestionFactory(created_at=T0, source_url="https://example.stackexchange.com/q/1")
    QuestionFactory(created_at=T0, status="hidden")
    assert services.protocols_tick(now=T0 + dt.timedelta(days=3)).assigned == 0


def test_the_highest_priority_matching_protocol_wins():
    low, high = csr(), csr()
    ProtocolFactory(assignee=low, priority=1)
    winner = ProtocolFactory(assignee=high, priority=9)
    question = QuestionFactory()
    services.protocols_tick()
    assert _current(question).protocol == winner
    assert _current(question).assignee == high


# --- escalation on a frozen clock -----------------------------------------------------------


def test_escalation_reaches_tier_two_then_the_supervisor_and_nothing_twice(chain):
    question = QuestionFactory(created_at=T0)
    start = T0 + minutes(60)

    services.protocols_tick(now=start)
    first = _current(question)
    assert (first.level, first.assignee, first.deadline_at) == (
        0,
        chain["tier1"],
        start + minutes(30),
    )

    assert services.protocols_tick(now=start + minutes(29)).escalated == 0
    assert services.protocols_tick(now=start + minutes(30)).escalated == 1
    second = _current(question)
    assert (second.level, second.assignee) == (1, chain["tier2"])
    assert second.deadline_at == start + minutes(90)

    # The same tick again, and a later one before the next deadline, change nothing.
    assert services.protocols_tick(now=start + minutes(30)).escalated == 0
    assert services.protocols_tick(now=start + minutes(89)).escalated == 0
    assert _current(question).pk == second.pk

    assert services.protocols_tick(now=start + minutes(90)).escalated == 1
    third = _current(question)
    assert (third.level, third.assignee, third.deadline_at) == (2, chain["supervisor"], None)
    assert services.protocols_tick(now=start + minutes(600)).escalated == 0
    assert len(_audits("moderation.assignment.escalated")) == 2
    assert Assignment.objects.filter(question=question).count() == 3


def test_a_tick_after_downtime_jumps_past_two_deadlines_to_the_right_level_once(chain):
    question = QuestionFactory(created_at=T0)
    start = T0 + minutes(60)
    services.protocols_tick(now=start)

    # The beat was down for two hours: both deadlines passed before the next tick.
    result = services.protocols_tick(now=start + minutes(120))
    assert result.escalated == 1
    current = _current(question)
    assert (current.level, current.assignee) == (2, chain["supervisor"])
    (entry,) = _audits("moderation.assignment.escalated")
    assert (entry.data["from_level"], entry.data["level"]) == (0, 2)
    assert services.protocols_tick(now=start + minutes(121)).escalated == 0


def test_a_trigger_first_seen_late_opens_at_the_level_its_clock_has_reached(chain):
    question = QuestionFactory(created_at=T0)
    # No tick ran from before the trigger (T0 + 1h) until 45 minutes after it.
    services.protocols_tick(now=T0 + minutes(105))
    current = _current(question)
    assert (current.level, current.assignee) == (1, chain["tier2"])
    assert current.chain_started_at == T0 + minutes(60)
    assert current.deadline_at == T0 + minutes(150)


def test_a_resolved_thread_leaves_the_chain(chain):
    question = QuestionFactory(created_at=T0)
    services.protocols_tick(now=T0 + minutes(60))
    answer = AnswerFactory(question=question)
    community_services.answer_accept(answer=answer, user=question.author)

    result = services.protocols_tick(now=T0 + minutes(200))
    assert (result.resolved, result.escalated) == (1, 0)
    assert not Assignment.objects.filter(question=question, released_at__isnull=True).exists()
    assert Assignment.objects.get(question=question).release_reason == "resolved"
    assert services.protocols_tick(now=T0 + minutes(300)).assigned == 0


# --- assignee rules --------------------------------------------------------------------------


def test_round_robin_takes_turns_and_remembers_whose_turn_it_is_between_ticks():
    a, b, c = csr(username="a"), csr(username="b"), csr(username="c")
    desk = team("Router desk", [a, b, c])
    ProtocolFactory(assignee_rule="round_robin", team=desk, assignee=None, created_at=T0)
    first = [QuestionFactory(created_at=T0 + minutes(i + 1)) for i in range(2)]
    services.protocols_tick(now=T0 + minutes(10))
    later = [QuestionFactory(created_at=T0 + minutes(20 + i)) for i in range(2)]
    services.protocols_tick(now=T0 + minutes(30))

    assignees = [_current(q).assignee.username for q in [*first, *later]]
    assert assignees == ["a", "b", "c", "a"]
    assert TeamCursor.objects.get(team=desk).last_user.username == "a"


def test_least_loaded_picks_the_member_with_the_fewest_open_assignments():
    busy, free, medium = csr(username="busy"), csr(username="free"), csr(username="medium")
    desk = team("Cam desk", [busy, free, medium])
    for _ in range(3):
        Assignment.objects.create(
            question=QuestionFactory(created_at=T0 - minutes(99)), assignee=busy
        )
    Assignment.objects.create(
        question=QuestionFactory(created_at=T0 - minutes(99)), assignee=medium
    )
    ProtocolFactory(assignee_rule="least_loaded", team=desk, assignee=None, created_at=T0)
    new = [QuestionFactory(created_at=T0 + minutes(i + 1)) for i in range(3)]
    services.protocols_tick(now=T0 + minutes(10))

    # free 0 → 1; then free and medium tie at 1 and the older account wins; then medium.
    loads = {}
    for question in new:
        name = _current(question).assignee.username
        loads[name] = loads.get(name, 0) + 1
    assert loads == {"free": 2, "medium": 1}


def test_a_team_with_nobody_in_it_leaves_the_thread_in_its_pool():
    empty = team("Nobody yet")
    ProtocolFactory(assignee_rule="round_robin", team=empty, assignee=None, created_at=T0)
    question = QuestionFactory(created_at=T0 + minutes(1))
    services.protocols_tick(now=T0 + minutes(2))
    current = _current(question)
    assert (current.assignee, current.team) == (None, empty)


# --- staff actions ---------------------------------------------------------------------------


def test_claiming_stops_the_clock_and_is_audited(chain):
    question = QuestionFactory(created_at=T0)
    services.protocols_tick(now=T0 + minutes(60))
    taker = csr()

    claimed = services.assignment_claim(question=question, user=taker)
    assert (claimed.assignee, claimed.level, claimed.deadline_at) == (taker, 0, None)
    assert services.protocols_tick(now=T0 + minutes(500)).escalated == 0
    (entry,) = _audits("moderation.assignment.claimed")
    assert entry.actor == taker
    assert entry.data["previous_assignee"] == chain["tier1"].pk
    assert Notification.objects.filter(
        recipient=chain["tier1"], text__contains="took over"
    ).exists()


def test_releasing_returns_the_thread_to_its_schedule_so_an_overdue_one_escalates(chain):
    question = QuestionFactory(created_at=T0)
    services.protocols_tick(now=T0 + minutes(60))
    services.assignment_claim(question=question, user=chain["tier1"])

    released = services.assignment_release(question=question, user=chain["tier1"])
    assert released.assignee is None
    assert released.deadline_at == T0 + minutes(90)
    assert _audits("moderation.assignment.released")[0].actor == chain["tier1"]

    services.protocols_tick(now=T0 + minutes(100))
    assert (_current(question).level, _current(question).assignee) == (1, chain["tier2"])


def test_only_the_assignee_or_a_moderator_can_release(chain):
    question = QuestionFactory(created_at=T0)
    services.protocols_tick(now=T0 + minutes(60))
    with pytest.raises(PermissionDenied):
        services.assignment_release(question=question, user=csr())
    services.assignment_release(question=question, user=moderator())


def test_reassigning_keeps_level_and_clock_and_tells_the_new_assignee(chain):
    question = QuestionFactory(created_at=T0)
    services.protocols_tick(now=T0 + minutes(60))
    before = _current(question)
    colleague = csr(username="colleague")

    after = services.assignment_reassign(question=question, user=chain["tier1"], assignee=colleague)
    assert (after.assignee, after.level, after.deadline_at) == (colleague, 0, before.deadline_at)
    (entry,) = _audits("moderation.assignment.reassigned")
    assert (entry.actor, entry.data["previous_assignee"]) == (chain["tier1"], chain["tier1"].pk)
    assert Notification.objects.filter(recipient=colleague, kind="assignment").exists()


def test_threads_can_only_be_reassigned_to_staff_and_only_by_staff(chain):
    question = QuestionFactory(created_at=T0)
    customer = UserFactory()
    with pytest.raises(ValidationError):
        services.assignment_reassign(question=question, user=chain["tier1"], assignee=customer)
    with pytest.raises(PermissionDenied):
        services.assignment_claim(question=question, user=customer)
    with pytest.raises(PermissionDenied):
        services.assignment_reassign(question=question, user=customer, assignee=chain["tier1"])


def test_staff_can_take_a_thread_no_protocol_assigned():
    question = QuestionFactory()
    agent = csr()
    claimed = services.assignment_claim(question=question, user=agent)
    assert (claimed.protocol, claimed.assignee) == (None, agent)
    assert services.assignment_release(question=question, user=agent) is None
    assert not Assignment.objects.filter(released_at__isnull=True).exists()


# --- protocol definitions ---------------------------------------------------------------------


def test_saving_a_protocol_checks_its_rule_and_is_audited():
    mod = moderator()
    protocol = Protocol(name="Refunds", trigger="new_question", assignee_rule="round_robin")
    with pytest.raises(ValidationError) as excinfo:
        services.protocol_save(protocol=protocol, actor=mod)
    assert "team" in excinfo.value.message_dict

    protocol.team = team("Billing")
    saved = services.protocol_save(protocol=protocol, actor=mod)
    assert _audits("moderation.protocol.created")[0].target_id == str(saved.pk)
    with pytest.raises(PermissionDenied):
        services.protocol_save(protocol=saved, actor=csr())


def test_a_tick_over_many_threads_costs_a_flat_number_of_queries(django_assert_max_num_queries):
    ProtocolFactory(
        trigger=Protocol.Trigger.UNANSWERED, trigger_param=48, assignee=csr(), keywords="zzz"
    )
    ProtocolFactory(trigger=Protocol.Trigger.FLAGGED, assignee=csr(), tags=[TagFactory()])
    QuestionFactory.create_batch(30, created_at=timezone.now())
    with django_assert_max_num_queries(12):
        small = services.protocols_tick(batch_size=1000)
    QuestionFactory.create_batch(120, created_at=timezone.now())
    with django_assert_max_num_queries(12):
        large = services.protocols_tick(batch_size=1000)
    assert (small.threads, large.threads) == (30, 150)
    assert large.evaluations == 300


def test_the_staff_list_holds_active_moderators_csrs_and_superusers_once_each():
    from community.models import User
    from moderation.protocols.selectors import staff_member_list

    mod, agent = moderator(username="mod"), csr(username="agent")
    both = moderator(username="both")
    both.groups.add(*agent.groups.all())
    admin = UserFactory(username="admin", is_superuser=True)
    retired = moderator(username="retired")
    User.objects.filter(pk=retired.pk).update(is_active=False)
    UserFactory(username="member")

    staff = [user.username for user in staff_member_list()]

    assert sorted(staff) == sorted([both.username, mod.username, agent.username, admin.username])
