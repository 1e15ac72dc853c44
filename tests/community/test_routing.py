"""Directory figures, directed questions, fallback, queue caps, forwarding and ratings."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from community import routing, selectors, services
from community.models import AuditEntry, DirectedQuestion, ExpertProfile, GuestSpotlight
from community.routing import DirectoryFilters
from knowledge.search.documents import all_doc_ids, document_for
from tests.factories import (
    AnswerFactory,
    DirectedQuestionFactory,
    ExpertRatingFactory,
    ProductAreaFactory,
    QuestionFactory,
    TagFactory,
    UserFactory,
    csr,
    expert,
    moderator,
)

pytestmark = pytest.mark.django_db

Status = DirectedQuestion.Status


def _card(person, **filters):
    rows = routing.expert_directory(viewer=None, filters=DirectoryFilters(**filters))
    return next((row for row in rows if row.pk == person.pk), None)


def _ask(asker, to, *, private=False, area=None):
    return services.question_create(
        author=asker,
        area=area or ProductAreaFactory(),
        title="Which strings suit a vintage electric guitar?",
        body="I restored a 1962 guitar and want period-correct strings.",
        directed_to=to,
        private=private,
    )


# --- directory figures ------------------------------------------------------------------------


def test_an_expert_without_data_has_no_rating_response_time_or_wait():
    person = expert(ProductAreaFactory())
    card = _card(person)
    assert card.rating is None
    assert card.rating_count == 0
    assert card.response_seconds is None
    assert card.expected_wait_seconds is None
    assert card.queue_length == 0


def test_a_rating_is_shown_only_from_three_ratings_up():
    person = expert(ProductAreaFactory())
    ExpertRatingFactory(directed__expert=person, score=5)
    assert _card(person).rating is None
    assert _card(person).rating_count == 1
    ExpertRatingFactory(directed__expert=person, score=4)
    assert _card(person).rating is None
    ExpertRatingFactory(directed__expert=person, score=3)
    assert _card(person).rating == pytest.approx(4.0)
    assert _card(person).rating_count == 3


def test_the_response_time_is_the_median_of_the_last_thirty_days():
    person = expert(ProductAreaFactory())
    DirectedQuestionFactory(expert=person, response_seconds=300)
    assert _card(person).response_seconds == 300  # one data point
    DirectedQuestionFactory(expert=person, response_seconds=100)
    assert _card(person).response_seconds == 200  # even count: mean of the middle two
    DirectedQuestionFactory(expert=person, response_seconds=9000)
    assert _card(person).response_seconds == 300  # odd count: the middle one
    old = timezone.now() - dt.timedelta(days=40)
    DirectedQuestionFactory(expert=person, response_seconds=5, created_at=old)
    assert _card(person).response_seconds == 300  # outside the window


def test_equal_response_times_give_that_time_as_median():
    person = expert(ProductAreaFactory())
    for _ in range(4):
        DirectedQuestionFactory(expert=person, response_seconds=120)
    assert _card(person).response_seconds == 120


def test_the_expected_wait_grows_with_the_queue_at_the_measured_pace():
    person = expert(ProductAreaFactory())
    DirectedQuestionFactory(expert=person, response_seconds=600)
    DirectedQuestionFactory(expert=person)
    DirectedQuestionFactory(expert=person)
    card = _card(person)
    assert card.queue_length == 2
    assert card.expected_wait_seconds == 600 * 3


def test_directory_filters_by_skill_language_rating_response_time_and_availability():
    area = ProductAreaFactory(slug="guitars")
    fast = expert(area, username="fast")
    slow = expert(area, username="slow")
    away = expert(area, username="away")
    ExpertProfile.objects.create(user=fast, languages=",en,fr,")
    fast.expert_profile.skills.set([TagFactory(slug="vintage")])
    ExpertProfile.objects.create(user=away, availability="away")
    for _ in range(3):
        ExpertRatingFactory(directed__expert=fast, directed__response_seconds=120, score=5)
        ExpertRatingFactory(directed__expert=slow, directed__response_seconds=7200, score=3)

    def names(**filters):
        rows = routing.expert_directory(viewer=None, filters=DirectoryFilters(**filters))
        return [row.username for row in rows]

    assert names(skill="vintage") == ["fast"]
    assert set(names(skill="guitars")) == {"fast", "slow", "away"}  # an area counts as a skill
    assert names(language="fr") == ["fast"]
    assert names(min_rating=4) == ["fast"]
    assert names(max_response_minutes=5) == ["fast"]
    assert "away" not in names(available_now=True)
    assert names(sort="response")[:2] == ["fast", "slow"]
    assert names(sort="rating")[:2] == ["fast", "slow"]


def test_weekly_hours_limit_available_now():
    person = expert(ProductAreaFactory())
    monday_10 = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)
    ExpertProfile.objects.create(user=person, weekly_hours={"mon": [9, 17]})
    rows = routing.expert_directory(viewer=None, now=monday_10)
    assert rows.get(pk=person.pk).available_now is True
    rows = routing.expert_directory(viewer=None, now=monday_10 + dt.timedelta(hours=8))
    assert rows.get(pk=person.pk).available_now is False


def test_csrs_are_listed_only_after_opting_in_and_show_their_alias():
    agent = csr(username="agent7", display_name="Real Name")
    assert _card(agent) is None
    routing.expert_profile_update(user=agent, staff_alias="Sam from Support", directory_opt_in=True)
    card = routing.decorate_cards([_card(agent)])[0]
    assert card.card_name == "Sam from Support"
    assert card.uses_alias


def test_the_directory_lists_active_certifications_and_current_csrs_only():
    lapsed = expert(ProductAreaFactory())
    lapsed.certifications.update(expires_at=timezone.now() - dt.timedelta(days=1))
    revoked = expert(ProductAreaFactory())
    revoked.certifications.update(revoked_at=timezone.now())
    former_agent = csr()
    routing.expert_profile_update(user=former_agent, directory_opt_in=True)
    assert _card(former_agent) is not None
    former_agent.groups.clear()  # no longer a CSR: the old opt-in lists nobody
    member = UserFactory()
    ExpertProfile.objects.create(user=member, directory_opt_in=True)
    active = expert(ProductAreaFactory())

    listed = {row.pk for row in routing.expert_directory(viewer=None)}

    assert listed == {active.pk}


def test_directory_membership_comes_from_its_own_tables_not_a_scan_of_every_member():
    from django.db import connection

    expert(ProductAreaFactory())
    sql, params = routing.expert_directory(viewer=None).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = [str(row[-1]) for row in cursor.fetchall()]
    assert "SCAN community_user" not in plan, plan


def test_members_cannot_use_an_alias_or_have_a_card():
    member = UserFactory()
    with pytest.raises(PermissionDenied):
        routing.expert_profile_update(user=member)
    certified = expert(ProductAreaFactory())
    with pytest.raises(ValidationError):
        routing.expert_profile_update(user=certified, staff_alias="Hidden")


def test_a_guest_in_a_spotlight_is_listed_only_during_it():
    guest = UserFactory()
    now = timezone.now()
    GuestSpotlight.objects.create(
        user=guest,
        headline="Designer of the Lumen Cam",
        starts_at=now,
        ends_at=now + dt.timedelta(days=1),
    )
    assert _card(guest).spotlight == "Designer of the Lumen Cam"
    later = now + dt.timedelta(days=2)
    assert not routing.expert_directory(viewer=None, now=later).filter(pk=guest.pk).exists()


# --- directed questions -----------------------------------------------------------------------


def test_asking_an_expert_puts_the_question_in_their_queue_with_a_promised_time():
    person = expert(ProductAreaFactory())
    ExpertProfile.objects.create(user=person, response_window_hours=4)
    question = _ask(UserFactory(), person)
    directed = DirectedQuestion.objects.get(question=question)
    assert directed.status == Status.OPEN
    assert directed.expert == person
    expected = directed.created_at + dt.timedelta(hours=4)
    assert abs((directed.promised_by - expected).total_seconds()) < 1


def test_a_full_queue_refuses_a_new_directed_question_and_posts_nothing():
    person = expert(ProductAreaFactory())
    asker = UserFactory()
    for _ in range(10):
        DirectedQuestionFactory(expert=person)
    assert _card(person).queue_length == 10
    assert routing.decorate_cards([_card(person)])[0].queue_full
    with pytest.raises(ValidationError) as exc:
        _ask(asker, person)
    assert "queue is full" in exc.value.message_dict["directed_to"][0]


def test_the_queue_cap_is_configurable(settings):
    settings.PEERDESK = {**settings.PEERDESK, "DIRECTED_QUEUE_CAP": 1}
    person = expert(ProductAreaFactory())
    _ask(UserFactory(), person)
    with pytest.raises(ValidationError):
        _ask(UserFactory(), person)


def test_questions_cannot_be_directed_to_ordinary_members_or_oneself():
    with pytest.raises(ValidationError):
        _ask(UserFactory(), UserFactory())
    person = expert(ProductAreaFactory())
    with pytest.raises(ValidationError):
        _ask(person, person)


def test_the_experts_answer_closes_the_directed_question_and_records_the_response_time():
    person = expert(ProductAreaFactory())
    question = _ask(UserFactory(), person)
    services.answer_create(
        question=question, author=UserFactory(), body="Someone else answers first."
    )
    assert DirectedQuestion.objects.get(question=question).status == Status.OPEN
    services.answer_create(question=question, author=person, body="Use pure nickel flatwounds.")
    directed = DirectedQuestion.objects.get(question=question)
    assert directed.status == Status.ANSWERED
    assert directed.response_seconds is not None
    assert _card(person).queue_length == 0


def test_declining_returns_the_question_to_the_community_and_is_audited():
    person = expert(ProductAreaFactory())
    question = _ask(UserFactory(), person)
    directed = DirectedQuestion.objects.get(question=question)
    routing.directed_decline(directed=directed, user=person, note="Not my product line")
    directed.refresh_from_db()
    assert directed.status == Status.DECLINED
    assert directed.note == "Not my product line"
    assert AuditEntry.objects.filter(action="community.directed.declined").count() == 1
    with pytest.raises(ValidationError):
        routing.directed_decline(directed=directed, user=person)


def test_only_the_chosen_person_or_staff_can_decline_or_forward():
    person = expert(ProductAreaFactory())
    question = _ask(UserFactory(), person)
    directed = DirectedQuestion.objects.get(question=question)
    with pytest.raises(PermissionDenied):
        routing.directed_decline(directed=directed, user=UserFactory())
    routing.directed_forward(directed=directed, user=moderator(), note="Community please")
    assert DirectedQuestion.objects.get(pk=directed.pk).status == Status.FORWARDED


def test_forwarding_to_another_expert_opens_a_row_in_their_queue():
    area = ProductAreaFactory()
    first, second = expert(area), expert(area)
    question = _ask(UserFactory(), first, private=True)
    directed = DirectedQuestion.objects.get(question=question)
    new = routing.directed_forward(directed=directed, user=first, to=second, note="Her speciality")
    assert new.expert == second
    assert new.private is True
    assert new.forwarded_from == directed
    assert DirectedQuestion.objects.get(pk=directed.pk).status == Status.FORWARDED
    assert _card(first).queue_length == 0
    assert _card(second).queue_length == 1
    entry = AuditEntry.objects.get(action="community.directed.forwarded")
    assert entry.data["to"] == second.username


def test_forwarding_to_a_full_queue_is_refused_and_keeps_the_question_where_it_was():
    area = ProductAreaFactory()
    first, busy = expert(area), expert(area)
    for _ in range(10):
        DirectedQuestionFactory(expert=busy)
    directed = DirectedQuestion.objects.get(question=_ask(UserFactory(), first))
    with pytest.raises(ValidationError) as exc:
        routing.directed_forward(directed=directed, user=first, to=busy)
    assert "to" in exc.value.message_dict
    assert DirectedQuestion.objects.get(pk=directed.pk).status == Status.OPEN


def test_overdue_directed_questions_fall_back_on_timeout_once(django_capture_on_commit_callbacks):
    person = expert(ProductAreaFactory())
    directed = DirectedQuestion.objects.get(question=_ask(UserFactory(), person))
    frozen = directed.promised_by - dt.timedelta(seconds=1)
    assert routing.directed_fallback_overdue(now=frozen) == 0
    frozen = directed.promised_by + dt.timedelta(seconds=1)
    assert routing.directed_fallback_overdue(now=frozen) == 1
    assert routing.directed_fallback_overdue(now=frozen) == 0  # idempotent
    directed.refresh_from_db()
    assert directed.status == Status.FALLEN_BACK
    assert directed.closed_at == frozen
    assert AuditEntry.objects.filter(action="community.directed.fallen_back").count() == 1


def test_the_fallback_task_runs_the_service():
    from community.tasks import directed_fallback_task

    person = expert(ProductAreaFactory())
    DirectedQuestionFactory(expert=person, promised_by=timezone.now() - dt.timedelta(minutes=1))
    assert directed_fallback_task.delay().get() == 1


# --- privacy ----------------------------------------------------------------------------------


def test_a_private_question_is_seen_only_by_asker_expert_and_staff():
    asker, person, stranger = UserFactory(), expert(ProductAreaFactory()), UserFactory()
    question = _ask(asker, person, private=True)
    for viewer in (asker, person, moderator()):
        assert selectors.question_list(viewer=viewer).filter(pk=question.pk).exists()
    from django.contrib.auth.models import AnonymousUser

    for viewer in (stranger, AnonymousUser()):
        assert not selectors.question_list(viewer=viewer).filter(pk=question.pk).exists()
        with pytest.raises(Exception, match="No Question matches"):
            selectors.question_get(viewer=viewer, pk=question.pk)


def test_answers_of_a_private_question_are_hidden_from_strangers():
    asker, person = UserFactory(), expert(ProductAreaFactory())
    question = _ask(asker, person, private=True)
    answer = AnswerFactory(question=question, author=person)
    stranger = UserFactory()
    assert not selectors.answer_list_by_author(viewer=stranger, author=person).exists()
    assert selectors.answer_list_by_author(viewer=asker, author=person).exists()
    from django.http import Http404

    with pytest.raises(Http404):
        selectors.answer_get(viewer=stranger, pk=answer.pk)


def test_private_questions_are_never_indexed_for_search():
    public = QuestionFactory()
    private = _ask(UserFactory(), expert(ProductAreaFactory()), private=True)
    assert document_for(f"question:{private.pk}") is None
    assert document_for(f"question:{public.pk}") is not None
    assert f"question:{private.pk}" not in all_doc_ids()


# --- ratings ----------------------------------------------------------------------------------


def _answered(asker=None, person=None):
    asker = asker or UserFactory()
    person = person or expert(ProductAreaFactory())
    question = _ask(asker, person)
    services.answer_create(question=question, author=person, body="Pure nickel flatwounds, 11s.")
    return asker, person, question


def test_the_asker_rates_the_help_once():
    asker, person, question = _answered()
    rating = routing.rating_create(question=question, rater=asker, score=5, comment="Spot on")
    assert rating.expert == person
    with pytest.raises(ValidationError, match="already rated"):
        routing.rating_create(question=question, rater=asker, score=4)


def test_nobody_else_can_rate_and_nobody_rates_themselves():
    _asker, person, question = _answered()
    with pytest.raises(PermissionDenied):
        routing.rating_create(question=question, rater=UserFactory(), score=5)
    with pytest.raises(PermissionDenied, match="own help"):
        routing.rating_create(question=question, rater=person, score=5)


def test_a_rating_needs_an_answer_from_the_chosen_person_and_a_score_from_one_to_five():
    asker, person = UserFactory(), expert(ProductAreaFactory())
    question = _ask(asker, person)
    with pytest.raises(ValidationError, match="once the person"):
        routing.rating_create(question=question, rater=asker, score=5)
    services.answer_create(question=question, author=person, body="Pure nickel flatwounds, 11s.")
    for bad in (0, 6, "5"):
        with pytest.raises(ValidationError):
            routing.rating_create(question=question, rater=asker, score=bad)


def test_a_helpful_rating_earns_reputation_and_a_poor_one_does_not():
    asker, person, question = _answered()
    routing.rating_create(question=question, rater=asker, score=4)
    person.refresh_from_db()
    assert person.reputation == 5
    asker2, person2, question2 = _answered()
    routing.rating_create(question=question2, rater=asker2, score=2)
    person2.refresh_from_db()
    assert person2.reputation == 0


def test_the_staff_report_sums_volume_response_time_ratings_and_validations():
    person = expert(ProductAreaFactory())
    ExpertRatingFactory(directed__expert=person, directed__response_seconds=60, score=4)
    ExpertRatingFactory(directed__expert=person, directed__response_seconds=180, score=2)
    DirectedQuestionFactory(expert=person)
    AnswerFactory(author=person, validated_at=timezone.now())
    report = routing.expert_report(expert=person)
    assert report["volume_total"] == 3
    assert report["by_status"]["Answered"] == 2
    assert report["median_response_seconds"] == 120
    assert report["rating_trend"][0]["mean"] == 3
    assert report["rating_trend"][0]["count"] == 2
    assert report["validated_answers"] == 1
