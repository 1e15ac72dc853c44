"""Reputation ledger, reversals, serial voting, privileges, badges and leaderboards."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from community import badges, reputation, rules, services
from community.models import AuditEntry, ReputationEvent, User, UserBadge
from tests.factories import (
    AnswerFactory,
    DirectedQuestionFactory,
    ProductAreaFactory,
    QuestionFactory,
    UserFactory,
    expert,
)

pytestmark = pytest.mark.django_db


def _rep(user) -> int:
    return User.objects.get(pk=user.pk).reputation


def test_votes_earn_and_withdrawing_or_changing_them_reverses_the_points():
    answer = AnswerFactory()
    voter = UserFactory(reputation=50)
    services.vote_cast(user=voter, post=answer, value=1)
    assert _rep(answer.author) == 10
    services.vote_cast(user=voter, post=answer, value=-1)
    assert _rep(answer.author) == -2
    services.vote_cast(user=voter, post=answer, value=0)
    assert _rep(answer.author) == 0
    kinds = list(ReputationEvent.objects.order_by("pk").values_list("kind", "points"))
    assert kinds == [("upvote", 10), ("reversal", -10), ("downvote", -2), ("reversal", 2)]


def test_acceptance_moves_its_points_with_the_accepted_answer():
    question = QuestionFactory()
    first, second = AnswerFactory(question=question), AnswerFactory(question=question)
    services.answer_accept(answer=first, user=question.author)
    assert (_rep(first.author), _rep(second.author)) == (15, 0)
    services.answer_accept(answer=second, user=question.author)
    assert (_rep(first.author), _rep(second.author)) == (0, 15)
    services.answer_unaccept(question=question, user=question.author)
    assert _rep(second.author) == 0


def test_accepting_ones_own_answer_earns_nothing():
    question = QuestionFactory()
    own = AnswerFactory(question=question, author=question.author)
    services.answer_accept(answer=own, user=question.author)
    assert _rep(question.author) == 0


def test_validation_is_weighted_highest_and_withdrawn_with_it():
    answer = AnswerFactory()
    services.answer_set_validated(answer=answer, validated=True)
    services.answer_set_validated(answer=answer, validated=True)  # idempotent
    assert _rep(answer.author) == 25
    services.answer_set_validated(answer=answer, validated=False)
    assert _rep(answer.author) == 0


def test_a_hidden_post_costs_its_author_until_restored():
    answer = AnswerFactory()
    reputation.post_hidden_set(post=answer, hidden=True)
    assert _rep(answer.author) == -20
    reputation.post_hidden_set(post=answer, hidden=False)
    assert _rep(answer.author) == 0


def test_serial_votes_from_one_voter_to_one_author_are_reversed_and_audited(settings):
    settings.PEERDESK = {**settings.PEERDESK, "SERIAL_VOTE_LIMIT": 3}
    author, voter, honest = UserFactory(), UserFactory(), UserFactory()
    answers = [AnswerFactory(author=author) for _ in range(4)]
    for answer in answers:
        services.vote_cast(user=voter, post=answer, value=1)
    services.vote_cast(user=honest, post=answers[0], value=1)
    assert _rep(author) == 50
    assert reputation.serial_votes_reverse() == 4
    assert _rep(author) == 10  # only the honest vote counts
    assert reputation.serial_votes_reverse() == 0  # idempotent
    services.vote_cast(user=voter, post=answers[0], value=0)
    services.vote_cast(user=voter, post=answers[0], value=1)  # a voided vote stays void
    assert _rep(author) == 10
    entry = AuditEntry.objects.get(action="community.reputation.serial_votes_reversed")
    assert entry.data["voter"] == voter.pk
    assert entry.data["points"] == -40


def test_votes_within_the_limit_are_not_serial(settings):
    settings.PEERDESK = {**settings.PEERDESK, "SERIAL_VOTE_LIMIT": 3}
    author, voter = UserFactory(), UserFactory()
    for _ in range(3):
        services.vote_cast(user=voter, post=AnswerFactory(author=author), value=1)
    assert reputation.serial_votes_reverse() == 0
    assert _rep(author) == 30


def test_voting_down_needs_the_reputation_privilege_except_for_staff():
    answer = AnswerFactory()
    with pytest.raises(PermissionDenied, match="50 reputation"):
        services.vote_cast(user=UserFactory(), post=answer, value=-1)
    services.vote_cast(user=UserFactory(reputation=50), post=answer, value=-1)
    services.vote_cast(user=UserFactory(groups=[rules.CSRS_GROUP]), post=answer, value=-1)


def test_privileges_come_from_one_setting(settings):
    settings.PEERDESK = {
        **settings.PEERDESK,
        "PRIVILEGES": {"vote_down": 5, "edit_others": 7, "flag_weight": 9},
    }
    member = UserFactory(reputation=7)
    assert rules.can_vote_down(member)
    assert rules.can_edit_answer(member, AnswerFactory())
    assert rules.flag_weight(member) == 1
    member.reputation = 9
    assert rules.flag_weight(member) == 2


def test_ranks_follow_reputation():
    assert reputation.rank_for(0) == "Newcomer"
    assert reputation.rank_for(60) == "Contributor"
    assert reputation.rank_for(1500) == "Guide"


def test_badge_rules_award_once_however_often_they_run():
    area = ProductAreaFactory(slug="cams")
    writer = UserFactory()
    AnswerFactory(author=writer, validated_at=timezone.now())
    AnswerFactory(author=writer, validated_at=timezone.now())
    prolific = UserFactory()
    for _ in range(10):
        question = QuestionFactory(area=area)
        answer = AnswerFactory(question=question, author=prolific)
        question.accepted_answer = answer
        question.save()
    fast = expert(area)
    for _ in range(5):
        DirectedQuestionFactory(expert=fast, response_seconds=60)

    assert badges.badges_award() == 3
    assert badges.badges_award() == 0
    awarded = set(UserBadge.objects.values_list("user_id", "badge", "scope"))
    assert awarded == {
        (writer.pk, "first-validated", ""),
        (prolific.pk, "ten-accepted", "cams"),
        (fast.pk, "fast-responder", ""),
    }


def test_leaderboards_rank_by_points_earned_in_the_period_and_area():
    cams, routers = ProductAreaFactory(slug="cams"), ProductAreaFactory(slug="routers")
    old_star, new_star = UserFactory(), UserFactory()
    services.answer_set_validated(
        answer=AnswerFactory(author=new_star, question__area=cams), validated=True
    )
    services.answer_set_validated(
        answer=AnswerFactory(author=old_star, question__area=routers), validated=True
    )
    services.answer_set_validated(
        answer=AnswerFactory(author=old_star, question__area=routers), validated=True
    )
    ReputationEvent.objects.filter(user=old_star).update(
        created_at=timezone.now() - dt.timedelta(days=20)
    )
    assert [u.pk for u in badges.leaderboard(period="week")] == [new_star.pk]
    assert [u.pk for u in badges.leaderboard(period="month")] == [old_star.pk, new_star.pk]
    assert [u.pk for u in badges.leaderboard(period="all", area=cams)] == [new_star.pk]
    assert badges.leaderboard(period="week")[0].points > 0


def test_leaderboards_leave_out_deactivated_and_placeholder_members():
    area = ProductAreaFactory()
    gone, imported, active = UserFactory(), UserFactory(), UserFactory()
    for author in (gone, imported, active):
        services.answer_set_validated(
            answer=AnswerFactory(author=author, question__area=area), validated=True
        )
    User.objects.filter(pk=gone.pk).update(is_active=False)
    User.objects.filter(pk=imported.pk).update(is_placeholder=True)

    assert [u.pk for u in badges.leaderboard(period="week")] == [active.pk]


# --- the property: the cached total always equals a recomputation from scratch ----------------

ACTIONS = st.lists(
    st.one_of(
        st.tuples(
            st.just("vote"), st.integers(0, 2), st.integers(0, 3), st.sampled_from([1, -1, 0])
        ),
        st.tuples(st.just("hide"), st.integers(0, 3), st.booleans()),
        st.tuples(st.just("accept"), st.integers(0, 3)),
        st.tuples(st.just("validate"), st.integers(0, 3), st.booleans()),
        st.tuples(st.just("serial")),
    ),
    max_size=25,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(actions=ACTIONS)
def test_cached_reputation_always_equals_the_ledger_and_the_facts(actions):
    # Hypothesis runs many examples in one test transaction: each example rolls back its rows.
    sid = transaction.savepoint()
    try:
        _run_and_check(actions)
    finally:
        transaction.savepoint_rollback(sid)


def _run_and_check(actions):
    voters = [UserFactory(reputation=100) for _ in range(3)]  # may vote down
    question = QuestionFactory()
    # Four posts by two authors; the asker also answers once (self-acceptance earns nothing).
    authors = [UserFactory(), UserFactory()]
    posts = [
        question,
        AnswerFactory(question=question, author=authors[0]),
        AnswerFactory(question=question, author=authors[1]),
        AnswerFactory(question=question, author=question.author),
    ]
    votes, hidden, validated, accepted = {}, set(), set(), None
    for action in actions:
        kind = action[0]
        if kind == "vote":
            _, v, p, value = action
            if posts[p].author_id == voters[v].pk:
                continue
            services.vote_cast(user=voters[v], post=posts[p], value=value)
            votes[(v, p)] = value
        elif kind == "hide":
            _, p, flag = action
            reputation.post_hidden_set(post=posts[p], hidden=flag)
            (hidden.add if flag else hidden.discard)(p)
        elif kind == "accept":
            p = action[1]
            if p == 0:
                services.answer_unaccept(question=question, user=question.author)
                accepted = None
            else:
                services.answer_accept(answer=posts[p], user=question.author)
                accepted = p
        elif kind == "validate":
            _, p, flag = action
            if p == 0:
                continue
            services.answer_set_validated(answer=posts[p], validated=flag)
            (validated.add if flag else validated.discard)(p)
        else:
            reputation.serial_votes_reverse()  # limit 5: never triggers with 3x4 votes

    users = User.objects.all()
    ledger = reputation.ledger_totals()
    expected: dict[int, int] = {}
    for (_, p), value in votes.items():
        if value:
            points = reputation.POINTS["upvote" if value > 0 else "downvote"]
            expected[posts[p].author_id] = expected.get(posts[p].author_id, 0) + points
    for p in hidden:
        expected[posts[p].author_id] = expected.get(posts[p].author_id, 0) - 20
    for p in validated:
        expected[posts[p].author_id] = expected.get(posts[p].author_id, 0) + 25
    if accepted is not None and posts[accepted].author_id != question.author_id:
        author_id = posts[accepted].author_id
        expected[author_id] = expected.get(author_id, 0) + 15
    for user in users:
        if user in voters:
            continue
        assert user.reputation == ledger.get(user.pk, 0) == expected.get(user.pk, 0)
    assert reputation.reputation_resync() == 3  # only the voters' seeded 100 was off-ledger
