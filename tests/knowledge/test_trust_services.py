"""Issue 3, trust: answer standing, corrections with an alternative, certification lapses, the
article lifecycle, every needs-review trigger, the review actions and multi-source articles."""

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from community import services as community_services
from community.models import Answer, AuditEntry, User
from knowledge import rules, selectors, services, tasks
from knowledge.models import (
    AnswerCorrection,
    Article,
    ArticleRevision,
    ArticleSource,
    CertificationLapse,
    QuestionCoverage,
    Validation,
)
from knowledge.search import SearchFilters, get_backend
from tests.factories import (
    AnswerFactory,
    CertificationFactory,
    ProductAreaFactory,
    QuestionFactory,
    UserFactory,
    expert,
    moderator,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def area():
    return ProductAreaFactory(name="Lumen Mesh Wi-Fi", slug="mesh")


def _actions() -> list[str]:
    return list(AuditEntry.objects.order_by("id").values_list("action", flat=True))


def _promoted(area, validator=None, **answer_kwargs):
    """A thread with one answer validated (by ``validator`` or a new expert) and promoted."""
    answer = AnswerFactory(question=QuestionFactory(area=area), **answer_kwargs)
    validator = validator or expert(area)
    validation = services.answer_validate(answer=answer, validator=validator)
    return answer, validation, Article.objects.get(source_answer=answer)


def _status(article) -> str:
    article.refresh_from_db()
    return article.status


# --- Standing -------------------------------------------------------------------------------


def test_an_answers_standing_lists_every_tier_it_earned_with_who_and_when(area, settings):
    settings.PEERDESK = {**settings.PEERDESK, "ENDORSE_SCORE": 3}
    answer = AnswerFactory(question=QuestionFactory(area=area), score=3)
    community_services.answer_accept(answer=answer, user=answer.question.author)
    the_expert, staff = expert(area), moderator()
    services.answer_validate(answer=answer, validator=the_expert)
    services.answer_validate(answer=answer, validator=staff)
    answer = selectors.answer_get_for_standing(viewer=AnonymousUser(), pk=answer.pk)

    standing = selectors.answer_standings(answers=[answer])[answer.pk]

    assert standing.tiers == ["validated_staff", "validated_expert", "endorsed", "accepted"]
    assert standing.tier == "validated_staff"
    assert standing.accepted_by == answer.question.author
    assert [v.validator for v in standing.expert_validations] == [the_expert]
    assert [v.validator for v in standing.staff_validations] == [staff]
    for validation in standing.active:
        assert validation.revision.number == 1
        assert validation.recheck_at == validation.created_at + dt.timedelta(days=180)


def test_a_score_under_the_endorse_threshold_is_not_endorsed(area, settings):
    settings.PEERDESK = {**settings.PEERDESK, "ENDORSE_SCORE": 5}
    answer = AnswerFactory(question=QuestionFactory(area=area), score=4)
    answer = selectors.answer_get_for_standing(viewer=AnonymousUser(), pk=answer.pk)
    standing = selectors.answer_standings(answers=[answer])[answer.pk]
    assert standing.tiers == [] and standing.tier_label == "Community answer"


def test_standings_for_a_page_of_answers_cost_two_queries_however_many(
    area, django_assert_num_queries
):
    staff = moderator()
    for n in (2, 12):
        question = QuestionFactory(area=area)
        answers = [AnswerFactory(question=question) for _ in range(n)]
        for answer in answers[::2]:
            services.answer_validate(answer=answer, validator=staff)
        services.answer_correct(
            answer=answers[1], corrector=staff, reason="Outdated", alternative=answers[0]
        )
        answers = selectors.answers_for_standing(viewer=staff, question=question)
        with django_assert_num_queries(2):
            standings = selectors.answer_standings(answers=answers)
            assert sum(1 for s in standings.values() if s.tier == "validated_staff") == n // 2
            assert sum(1 for s in standings.values() if s.tier == "not_recommended") == 1


# --- Corrections ----------------------------------------------------------------------------


def test_an_expert_marks_an_answer_not_recommended_pointing_to_an_alternative_they_validate(area):
    question = QuestionFactory(area=area)
    wrong, right = AnswerFactory(question=question), AnswerFactory(question=question)
    the_expert = expert(area)

    correction = services.answer_correct(
        answer=wrong, corrector=the_expert, reason="Firmware 3 removed that menu", alternative=right
    )

    assert correction.kind == AnswerCorrection.Kind.NOT_RECOMMENDED and correction.is_live
    validation = Validation.objects.get(answer=right)
    assert validation.validator == the_expert and validation.status == Validation.Status.ACTIVE
    assert Article.objects.filter(source_answer=right, status="published").exists()
    entry = AuditEntry.objects.get(action="knowledge.answer.corrected")
    assert entry.actor == the_expert and entry.data["alternative"] == right.pk
    standings = selectors.answer_standings(
        answers=selectors.answers_for_standing(viewer=the_expert, question=question)
    )
    assert standings[wrong.pk].tier == "not_recommended"
    assert standings[wrong.pk].correction.alternative == right
    assert standings[right.pk].tier == "validated_expert"


def test_the_corrector_can_write_the_alternative_which_is_posted_and_validated_as_theirs(area):
    wrong = AnswerFactory(question=QuestionFactory(area=area))
    staff = moderator()

    correction = services.answer_correct(
        answer=wrong,
        corrector=staff,
        reason="This resets all settings",
        alternative_body="Use Settings → Network → Restart mesh instead; it keeps your settings.",
    )

    alternative = correction.alternative
    assert alternative.author == staff and alternative.question_id == wrong.question_id
    validation = Validation.objects.get(answer=alternative)
    assert validation.validator == staff and validation.as_staff
    entry = AuditEntry.objects.get(action="knowledge.answer.corrected")
    assert entry.data["alternative_written"] is True


def test_not_recommended_needs_a_reason_and_an_alternative(area):
    wrong = AnswerFactory(question=QuestionFactory(area=area))
    with pytest.raises(ValidationError) as exc:
        services.answer_correct(answer=wrong, corrector=moderator(), reason="")
    assert set(exc.value.message_dict) == {"reason", "alternative"}
    assert not AnswerCorrection.objects.exists()


def test_an_obsolete_mark_needs_no_alternative(area):
    old = AnswerFactory(question=QuestionFactory(area=area))
    correction = services.answer_correct(
        answer=old, corrector=moderator(), reason="Applies to v1 only", kind="obsolete"
    )
    assert correction.alternative is None and correction.kind == "obsolete"


def test_an_alternative_from_another_thread_is_refused(area):
    wrong = AnswerFactory(question=QuestionFactory(area=area))
    elsewhere = AnswerFactory(question=QuestionFactory(area=area))
    with pytest.raises(ValidationError) as exc:
        services.answer_correct(
            answer=wrong, corrector=moderator(), reason="Outdated", alternative=elsewhere
        )
    assert "alternative" in exc.value.message_dict


def test_members_and_experts_of_another_area_cannot_correct(area):
    wrong = AnswerFactory(question=QuestionFactory(area=area))
    right = AnswerFactory(question=wrong.question)
    for user in (UserFactory(), expert(ProductAreaFactory())):
        with pytest.raises(PermissionDenied):
            services.answer_correct(answer=wrong, corrector=user, reason="No", alternative=right)
    assert not AnswerCorrection.objects.exists()


def test_pointing_to_ones_own_unvalidated_answer_is_refused(area):
    the_expert = expert(area)
    wrong = AnswerFactory(question=QuestionFactory(area=area))
    mine = AnswerFactory(question=wrong.question, author=the_expert)
    with pytest.raises(PermissionDenied):
        services.answer_correct(
            answer=wrong, corrector=the_expert, reason="Outdated", alternative=mine
        )
    assert not AnswerCorrection.objects.exists()
    assert not Validation.objects.exists()


def test_a_second_live_correction_is_refused_until_a_moderator_reverses_the_first(area):
    wrong = AnswerFactory(question=QuestionFactory(area=area))
    right = AnswerFactory(question=wrong.question)
    the_expert, staff = expert(area), moderator()
    correction = services.answer_correct(
        answer=wrong, corrector=the_expert, reason="Outdated", alternative=right
    )
    with pytest.raises(ValidationError):
        services.answer_correct(answer=wrong, corrector=staff, reason="Again", kind="obsolete")

    with pytest.raises(PermissionDenied):
        services.correction_reverse(correction=correction, actor=the_expert, reason="Oops")
    services.correction_reverse(correction=correction, actor=staff, reason="It works on v3 too")

    correction.refresh_from_db()
    assert correction.reversed_by == staff and not correction.is_live
    assert "knowledge.correction.reversed" in _actions()
    # The alternative keeps its own validation; the marked answer is back to plain standing.
    assert Validation.objects.filter(answer=right, status="active").exists()
    answer = selectors.answer_get_for_standing(viewer=AnonymousUser(), pk=wrong.pk)
    assert selectors.answer_standings(answers=[answer])[wrong.pk].correction is None
    services.answer_correct(answer=wrong, corrector=staff, reason="Now obsolete", kind="obsolete")


def test_correcting_a_promoted_answer_sends_its_article_to_review(area):
    answer, _, article = _promoted(area)
    other = AnswerFactory(question=answer.question)
    services.answer_correct(
        answer=answer, corrector=moderator(), reason="Unsafe", alternative=other
    )
    assert _status(article) == Article.Status.NEEDS_REVIEW
    assert "Unsafe" in article.review_reason


# --- Certification lapse --------------------------------------------------------------------


def test_revoking_a_certification_flags_its_validations_and_sends_articles_to_review(area):
    the_expert = expert(area)
    answer, validation, article = _promoted(area, validator=the_expert)
    cert = the_expert.certifications.get()

    community_services.certification_revoke(
        certification=cert, revoked_by=moderator(), reason="Left the program"
    )

    validation.refresh_from_db()
    assert validation.status == Validation.Status.NEEDS_RECHECK
    assert "revoked" in validation.flag_reason and validation.flagged_at is not None
    answer.refresh_from_db()
    assert answer.validated_at is None
    assert _status(article) == Article.Status.NEEDS_REVIEW
    assert "certification revoked" in article.review_reason
    assert CertificationLapse.objects.get(certification=cert).flagged_count == 1
    assert "knowledge.validation.flagged" in _actions()
    needs_review = AuditEntry.objects.get(action="knowledge.article.needs_review")
    assert needs_review.data["trigger"] == "certification_ended"


def test_the_periodic_task_flags_an_expired_certification_once(area):
    the_expert = expert(area)
    _, validation, article = _promoted(area, validator=the_expert)
    the_expert.certifications.update(expires_at=timezone.now() - dt.timedelta(minutes=1))

    assert tasks.certification_lapses_task() == 1
    assert tasks.certification_lapses_task() == 0

    validation.refresh_from_db()
    assert validation.status == Validation.Status.NEEDS_RECHECK
    assert "expired" in validation.flag_reason
    assert _status(article) == Article.Status.NEEDS_REVIEW
    assert _actions().count("knowledge.validation.flagged") == 1


def test_an_ended_certification_stops_new_validations(area):
    the_expert = expert(area)
    the_expert.certifications.update(expires_at=timezone.now() - dt.timedelta(days=1))
    answer = AnswerFactory(question=QuestionFactory(area=area))
    with pytest.raises(PermissionDenied):
        services.answer_validate(answer=answer, validator=the_expert)


def test_staff_validations_and_renewed_certifications_stay_trusted(area):
    staff = moderator()
    CertificationFactory(user=staff, area=area)
    _, staff_validation, _ = _promoted(area, validator=staff)
    renewed = expert(area)
    _, renewed_validation, article = _promoted(area, validator=renewed)
    CertificationFactory(user=renewed, area=area)  # a new term before the old one ends

    for cert in [*staff.certifications.all(), renewed.certifications.order_by("pk").first()]:
        community_services.certification_revoke(
            certification=cert, revoked_by=moderator(), reason="Term over"
        )

    for validation in (staff_validation, renewed_validation):
        validation.refresh_from_db()
        assert validation.status == Validation.Status.ACTIVE
    assert _status(article) == Article.Status.PUBLISHED


def test_another_validator_rechecks_a_flagged_validation_and_republishes(area):
    the_expert = expert(area)
    answer, validation, article = _promoted(area, validator=the_expert)
    community_services.certification_revoke(
        certification=the_expert.certifications.get(), revoked_by=moderator(), reason="Expired"
    )
    # A fresh instance, as each request gets: role lookups are memoised per instance.
    with pytest.raises(PermissionDenied):
        services.answer_validate(answer=answer, validator=User.objects.get(pk=the_expert.pk))

    services.answer_validate(answer=answer, validator=expert(area))

    validation.refresh_from_db()
    assert validation.status == Validation.Status.RECHECKED
    assert _status(article) == Article.Status.PUBLISHED
    answer.refresh_from_db()
    assert answer.validated_at is not None


# --- Article lifecycle ----------------------------------------------------------------------


def test_a_staff_draft_is_published_then_reviewed_then_published_again(area):
    staff = moderator()
    article = services.article_create(
        author=staff,
        area=area,
        title="Resetting a customer's mesh pairing",
        problem="The customer's satellite does not pair.",
        solution="Open the admin console and clear the pairing table.",
        audience="internal",
        publish=False,
    )
    assert article.status == Article.Status.DRAFT and article.recheck_at is None
    assert article.revisions.get().author == staff

    services.article_publish(article=article, actor=staff)
    assert _status(article) == Article.Status.PUBLISHED
    assert article.recheck_at > timezone.now() + dt.timedelta(days=179)

    Article.objects.filter(pk=article.pk).update(recheck_at=timezone.now() - dt.timedelta(days=1))
    assert services.articles_recheck_due() == 1
    assert _status(article) == Article.Status.NEEDS_REVIEW

    services.article_review_reapprove(article=article, reviewer=staff)
    assert _status(article) == Article.Status.PUBLISHED
    assert _actions()[:2] == ["knowledge.article.created", "knowledge.article.published"]
    assert "knowledge.article.reapproved" in _actions()


def test_an_article_promoted_from_an_answer_cannot_be_published_without_validation(area):
    _, validation, article = _promoted(area)
    services.validation_revoke(validation=validation, actor=moderator(), reason="Wrong")
    assert _status(article) == Article.Status.DRAFT
    with pytest.raises(ValidationError):
        services.article_publish(article=article, actor=moderator())


def test_retiring_needs_a_reason_and_takes_the_article_out_of_search(
    area, django_capture_on_commit_callbacks
):
    staff = moderator()
    with django_capture_on_commit_callbacks(execute=True):
        _, _, article = _promoted(area, validator=staff)
    with pytest.raises(ValidationError):
        services.article_retire(article=article, actor=staff, reason="")
    with pytest.raises(PermissionDenied):
        services.article_retire(article=article, actor=expert(area), reason="Applies to v1 only")

    with django_capture_on_commit_callbacks(execute=True):
        services.article_retire(article=article, actor=staff, reason="Applies to v1 only")

    article.refresh_from_db()
    assert (
        article.status == Article.Status.RETIRED and article.review_reason == "Applies to v1 only"
    )
    hits = get_backend().search(article.title, filters=SearchFilters(type="article")).hits
    assert f"article:{article.pk}" not in [hit.id for hit in hits]
    assert not rules.can_view_article(UserFactory(), article)
    assert AuditEntry.objects.get(action="knowledge.article.retired").data["reason"]


def test_unretiring_publishes_a_still_validated_article_and_reviews_an_unvalidated_one(area):
    staff = moderator()
    answer, _, article = _promoted(area)
    services.article_retire(article=article, actor=staff, reason="Applies to v1 only")
    services.article_unretire(article=article, actor=staff)
    assert _status(article) == Article.Status.PUBLISHED

    services.article_retire(article=article, actor=staff, reason="Applies to v1 only")
    community_services.answer_edit(
        answer=answer, editor=answer.author, body="A rewritten answer with different steps."
    )
    services.article_unretire(article=article, actor=staff)
    assert _status(article) == Article.Status.NEEDS_REVIEW
    assert _actions().count("knowledge.article.unretired") == 2


def test_validating_again_does_not_bring_a_retired_article_back(area):
    staff = moderator()
    answer, _, article = _promoted(area)
    services.article_retire(article=article, actor=staff, reason="Applies to v1 only")
    community_services.answer_edit(answer=answer, editor=answer.author, body="Edited answer text.")
    services.answer_validate(answer=answer, validator=staff)
    assert _status(article) == Article.Status.RETIRED


def test_every_article_edit_is_a_revision_with_its_author_and_a_diff(area):
    staff = moderator()
    _, _, article = _promoted(area)
    services.article_edit(
        article=article,
        editor=staff,
        title=article.title,
        problem=article.problem,
        solution="Hold reset for 10 seconds.\n<script>alert(1)</script>",
        audience="internal",
    )
    revisions = list(ArticleRevision.objects.filter(article=article).order_by("number"))
    assert [r.number for r in revisions] == [1, 2] and revisions[1].author == staff
    article.refresh_from_db()
    assert article.audience == "internal"

    _, _, diffs = selectors.article_revision_diff(
        viewer=staff, article=article, from_number=1, to_number=2
    )
    solution = next(d for d in diffs if d.name == "solution")
    assert solution.changed
    assert ("added", "<script>alert(1)</script>") in [(li.kind, li.text) for li in solution.lines]
    assert not next(d for d in diffs if d.name == "title").changed
    with pytest.raises(PermissionDenied):
        selectors.article_revision_diff(
            viewer=UserFactory(), article=article, from_number=1, to_number=2
        )


# --- Needs-review triggers ------------------------------------------------------------------


def test_editing_the_source_answer_sends_the_article_to_review(area):
    answer, _, article = _promoted(area)
    community_services.answer_edit(answer=answer, editor=answer.author, body="New steps entirely.")
    assert _status(article) == Article.Status.NEEDS_REVIEW
    assert "Source answer edited" in article.review_reason


def test_revoking_one_of_two_validations_sends_the_article_to_review(area):
    answer, first, article = _promoted(area)
    services.answer_validate(answer=answer, validator=moderator())
    services.validation_revoke(validation=first, actor=moderator(), reason="Not tested")
    assert _status(article) == Article.Status.NEEDS_REVIEW
    assert "revoked" in article.review_reason


def test_revoking_the_last_validation_still_unpublishes(area):
    _, validation, article = _promoted(area)
    services.validation_revoke(validation=validation, actor=moderator(), reason="Not tested")
    assert _status(article) == Article.Status.DRAFT


def test_votes_taking_the_answer_below_the_threshold_send_the_article_to_review(area, settings):
    settings.PEERDESK = {**settings.PEERDESK, "REVIEW_BELOW_SCORE": -2}
    answer, _, article = _promoted(area)
    voters = [moderator() for _ in range(4)]
    for voter in voters[:2]:
        community_services.vote_cast(user=voter, post=answer, value=-1)
    assert _status(article) == Article.Status.PUBLISHED  # -2 is not below -2

    community_services.vote_cast(user=voters[2], post=answer, value=-1)
    assert _status(article) == Article.Status.NEEDS_REVIEW
    assert "score of -3" in article.review_reason

    # A reviewer keeps it; a further down-vote is not a new crossing.
    services.article_review_keep(article=article, reviewer=moderator())
    community_services.vote_cast(user=voters[3], post=answer, value=-1)
    assert _status(article) == Article.Status.PUBLISHED


def test_the_recheck_task_moves_only_articles_that_are_due(area):
    _, _, due = _promoted(area)
    _, _, later = _promoted(area)
    now = timezone.now()
    Article.objects.filter(pk=due.pk).update(recheck_at=now - dt.timedelta(hours=1))

    assert tasks.article_recheck_due_task() == 1
    assert tasks.article_recheck_due_task() == 0
    assert _status(due) == Article.Status.NEEDS_REVIEW
    assert "Re-check date passed" in due.review_reason
    assert _status(later) == Article.Status.PUBLISHED
    assert services.articles_recheck_due(now=now + dt.timedelta(days=181)) == 1
    assert _status(later) == Article.Status.NEEDS_REVIEW


# --- Review actions -------------------------------------------------------------------------


def test_reapproving_validates_the_current_revision_and_publishes_its_text(area):
    answer, _, article = _promoted(area)
    community_services.answer_edit(
        answer=answer, editor=answer.author, body="Updated: hold reset for fifteen seconds."
    )
    reviewer = moderator()
    queue = selectors.review_queue(viewer=reviewer)
    assert [item.article for item in queue] == [article]
    kinds = [line.kind for line in queue[0].diffs[0].lines]
    assert "added" in kinds and "removed" in kinds

    services.article_review_reapprove(article=article, reviewer=reviewer, note="Checked")

    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED and article.review_reason == ""
    assert article.approved_revision.number == 2
    assert "fifteen seconds" in article.solution
    assert Validation.objects.get(answer=answer, validator=reviewer, status="active")
    assert article.revisions.order_by("-number").first().author == reviewer
    assert selectors.review_queue(viewer=reviewer) == []


def test_keeping_as_is_republishes_the_approved_text_with_a_new_recheck_date(area):
    answer, _, article = _promoted(area)
    Article.objects.filter(pk=article.pk).update(recheck_at=timezone.now() - dt.timedelta(days=1))
    community_services.answer_edit(answer=answer, editor=answer.author, body="Vandalised text.")

    services.article_review_keep(article=article, reviewer=moderator())

    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED
    assert article.approved_revision.number == 1 and "Vandalised" not in article.solution
    assert article.recheck_at > timezone.now() + dt.timedelta(days=179)
    assert AuditEntry.objects.get(action="knowledge.article.review_kept").data["previous_reason"]


def test_review_actions_need_a_moderator_and_an_article_in_review(area):
    answer, _, article = _promoted(area)
    with pytest.raises(ValidationError):
        services.article_review_keep(article=article, reviewer=moderator())
    community_services.answer_edit(answer=answer, editor=answer.author, body="Changed text here.")
    with pytest.raises(PermissionDenied):
        services.article_review_reapprove(article=article, reviewer=expert(area))
    # A moderator cannot re-approve (validate) their own answer.
    staff = moderator()
    own, _, own_article = _promoted(area, author=staff)
    community_services.answer_edit(answer=own, editor=staff, body="My own edited answer text.")
    with pytest.raises(PermissionDenied):
        services.article_review_reapprove(article=own_article, reviewer=staff)
    assert _status(own_article) == Article.Status.NEEDS_REVIEW


# --- Multi-source ---------------------------------------------------------------------------


def test_merging_an_answer_appends_it_retires_its_own_article_and_points_its_thread(area):
    primary, _, article = _promoted(area)
    other, _, other_article = _promoted(area)
    staff = moderator()

    source = services.article_source_add(article=article, answer=other, actor=staff)

    assert source.revision.number == 1 and source.added_by == staff
    article.refresh_from_db()
    assert article.solution.startswith(primary.body)
    assert other.body in article.solution and other.question.title in article.solution
    assert article.revisions.order_by("-number").first().note.startswith("Merged answer")
    assert _status(other_article) == Article.Status.RETIRED
    assert "Merged into" in other_article.review_reason
    assert QuestionCoverage.objects.get(question=other.question).article == article
    assert {"knowledge.article.source_added", "knowledge.question.covered"} <= set(_actions())
    # Validating the merged answer again does not resurrect its own article.
    services.answer_validate(answer=other, validator=staff)
    assert _status(other_article) == Article.Status.RETIRED


def test_only_a_moderator_merges_and_only_validated_answers(area):
    _, _, article = _promoted(area)
    unvalidated = AnswerFactory(question=QuestionFactory(area=area))
    with pytest.raises(ValidationError):
        services.article_source_add(article=article, answer=unvalidated, actor=moderator())
    other, _, _ = _promoted(area)
    with pytest.raises(PermissionDenied):
        services.article_source_add(article=article, answer=other, actor=expert(area))
    assert not ArticleSource.objects.exists()


def test_editing_a_merged_answer_sends_the_article_to_review_with_its_diff(area):
    _, _, article = _promoted(area)
    other, _, _ = _promoted(area)
    services.article_source_add(article=article, answer=other, actor=moderator())
    community_services.answer_edit(answer=other, editor=other.author, body="Merged answer edited.")

    assert _status(article) == Article.Status.NEEDS_REVIEW
    item = selectors.review_queue(viewer=moderator())[0]
    assert [d.answer.pk for d in item.diffs][1] == other.pk
    assert item.diffs[1].current_number == 2 and item.diffs[1].approved_number == 1

    services.article_review_reapprove(article=article, reviewer=moderator())
    article.refresh_from_db()
    assert "Merged answer edited." in article.solution
    assert ArticleSource.objects.get(answer=other).revision.number == 2


def test_a_score_drop_on_a_merged_answer_reviews_the_article(area, settings):
    settings.PEERDESK = {**settings.PEERDESK, "REVIEW_BELOW_SCORE": 0}
    _, _, article = _promoted(area)
    other, _, _ = _promoted(area)
    services.article_source_add(article=article, answer=other, actor=moderator())
    community_services.vote_cast(user=moderator(), post=Answer.objects.get(pk=other.pk), value=-1)
    assert _status(article) == Article.Status.NEEDS_REVIEW
