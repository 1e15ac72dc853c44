"""The heart of the product: ask → answer → validate → promote → search, and what keeps it honest."""

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from community import services as community_services
from community.models import Answer, AuditEntry
from knowledge import services
from knowledge.models import Article, SearchIndexOutbox, Validation
from knowledge.search import SearchFilters, get_backend
from tests.factories import (
    AnswerFactory,
    CertificationFactory,
    ProductAreaFactory,
    UserFactory,
    expert,
    moderator,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def area():
    return ProductAreaFactory(name="Lumen Mesh Wi-Fi", slug="mesh")


def _ask_and_answer(area):
    asker, helper = UserFactory(), UserFactory()
    question = community_services.question_create(
        author=asker,
        area=area,
        title="Mesh satellite keeps dropping off the network",
        body="The second satellite loses its connection every evening around 8 pm.",
        tags="satellite wifi",
    )
    answer = community_services.answer_create(
        question=question,
        author=helper,
        body="Move the satellite within two rooms of the router and update to firmware 2.4.",
    )
    return question, answer


def test_the_whole_loop_from_question_to_searchable_article(
    area, django_capture_on_commit_callbacks
):
    question, answer = _ask_and_answer(area)
    validator = expert(area)

    with django_capture_on_commit_callbacks(execute=True):
        validation = services.answer_validate(
            answer=answer, validator=validator, note="Confirmed on v2.4"
        )

    article = Article.objects.get(source_answer=answer)
    assert article.status == Article.Status.PUBLISHED
    assert article.title == question.title
    assert article.approved_revision == validation.revision
    assert article.revisions.get().answer_revision == validation.revision
    assert list(article.tags.values_list("slug", flat=True)) == ["satellite", "wifi"]
    answer.refresh_from_db()
    assert answer.validated_at is not None

    results = get_backend().search("satellite dropping", filters=SearchFilters(type="article"))
    assert [hit.id for hit in results.hits] == [f"article:{article.pk}"]
    assert not SearchIndexOutbox.objects.exists()

    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert "knowledge.answer.validated" in actions
    assert "knowledge.article.promoted" in actions


def test_validation_pins_the_revision_it_approved(area):
    _, answer = _ask_and_answer(area)
    community_services.answer_edit(
        answer=answer, editor=answer.author, body="Second revision of the answer, with more detail."
    )
    validation = services.answer_validate(answer=answer, validator=moderator())
    assert validation.revision.number == 2


def test_an_uncertified_member_cannot_validate(area):
    _, answer = _ask_and_answer(area)
    with pytest.raises(PermissionDenied):
        services.answer_validate(answer=answer, validator=UserFactory())
    assert not Article.objects.exists()


def test_an_expert_of_another_area_cannot_validate(area):
    _, answer = _ask_and_answer(area)
    other_area_expert = expert(ProductAreaFactory(slug="cams"))
    with pytest.raises(PermissionDenied, match="certified for Lumen Mesh Wi-Fi"):
        services.answer_validate(answer=answer, validator=other_area_expert)


def test_an_expired_or_revoked_certification_stops_validation(area):
    _, answer = _ask_and_answer(area)
    lapsed = UserFactory()
    CertificationFactory(
        user=lapsed, area=area, expires_at=timezone.now() - timezone.timedelta(days=1)
    )
    revoked = UserFactory()
    CertificationFactory(user=revoked, area=area, revoked_at=timezone.now())
    for user in (lapsed, revoked):
        with pytest.raises(PermissionDenied):
            services.answer_validate(answer=answer, validator=user)


def test_nobody_validates_their_own_answer(area):
    _, answer = _ask_and_answer(area)
    CertificationFactory(user=answer.author, area=area)
    with pytest.raises(PermissionDenied, match="your own answer"):
        services.answer_validate(answer=answer, validator=answer.author)


def test_a_moderator_can_validate_any_area(area):
    _, answer = _ask_and_answer(area)
    validation = services.answer_validate(answer=answer, validator=moderator())
    assert validation.as_staff


def test_validating_the_same_revision_twice_changes_nothing(area):
    _, answer = _ask_and_answer(area)
    validator = expert(area)
    first = services.answer_validate(answer=answer, validator=validator)
    second = services.answer_validate(answer=answer, validator=validator)
    assert first == second
    assert Article.objects.get().revisions.count() == 1


def test_editing_a_validated_answer_sends_its_article_to_review_and_keeps_the_validated_text(
    area, django_capture_on_commit_callbacks
):
    _, answer = _ask_and_answer(area)
    with django_capture_on_commit_callbacks(execute=True):
        validation = services.answer_validate(answer=answer, validator=expert(area))
    validated_text = Article.objects.get().solution

    with django_capture_on_commit_callbacks(execute=True):
        community_services.answer_edit(
            answer=answer, editor=answer.author, body="Actually, just unplug everything forever."
        )

    article = Article.objects.get()
    validation.refresh_from_db()
    assert validation.status == Validation.Status.STALE
    assert article.status == Article.Status.NEEDS_REVIEW
    assert "revision 2" in article.review_reason
    assert article.solution == validated_text
    assert Answer.objects.get(pk=answer.pk).validated_at is None
    assert AuditEntry.objects.filter(action="knowledge.article.needs_review").exists()
    # Still findable by its validated text while in review; not by the unreviewed edit.
    assert (
        get_backend().search("satellite firmware", filters=SearchFilters(type="article")).total == 1
    )
    assert get_backend().search("unplug forever", filters=SearchFilters(type="article")).total == 0


def test_re_validating_the_edited_answer_publishes_the_new_revision(area):
    _, answer = _ask_and_answer(area)
    validator = expert(area)
    services.answer_validate(answer=answer, validator=validator)
    community_services.answer_edit(
        answer=answer,
        editor=answer.author,
        body="Updated: firmware 2.5 fixes the drop-outs for good.",
    )
    services.answer_validate(answer=answer, validator=validator, note="Re-checked on 2.5")
    article = Article.objects.get()
    assert article.status == Article.Status.PUBLISHED
    assert "2.5" in article.solution
    assert article.approved_revision.number == 2
    assert article.revisions.count() == 2
    assert AuditEntry.objects.filter(action="knowledge.article.republished").exists()


def test_revoking_the_only_validation_unpublishes_the_article_and_removes_it_from_search(
    area, django_capture_on_commit_callbacks
):
    _, answer = _ask_and_answer(area)
    with django_capture_on_commit_callbacks(execute=True):
        validation = services.answer_validate(answer=answer, validator=expert(area))
    with django_capture_on_commit_callbacks(execute=True):
        services.validation_revoke(
            validation=validation, actor=moderator(), reason="Wrong firmware"
        )
    article = Article.objects.get()
    assert article.status == Article.Status.DRAFT
    assert get_backend().search("satellite", filters=SearchFilters(type="article")).total == 0
    assert AuditEntry.objects.filter(action="knowledge.validation.revoked").exists()
    assert AuditEntry.objects.filter(action="knowledge.article.unpublished").exists()


def test_only_the_validator_or_a_moderator_can_revoke(area):
    _, answer = _ask_and_answer(area)
    validation = services.answer_validate(answer=answer, validator=expert(area))
    with pytest.raises(PermissionDenied):
        services.validation_revoke(validation=validation, actor=expert(area), reason="I disagree")


def test_staff_can_edit_an_article_title_and_each_edit_is_a_revision(area):
    _, answer = _ask_and_answer(area)
    services.answer_validate(answer=answer, validator=expert(area))
    article = Article.objects.get()
    mod = moderator()
    services.article_edit(
        article=article,
        editor=mod,
        title="Fix: mesh satellite drops every evening",
        problem=article.problem,
        solution=article.solution,
    )
    article.refresh_from_db()
    assert article.title == "Fix: mesh satellite drops every evening"
    assert article.revisions.count() == 2
    with pytest.raises(PermissionDenied):
        services.article_edit(
            article=article,
            editor=expert(area),
            title="x" * 20,
            problem="p" * 20,
            solution="s" * 20,
        )


def test_index_updates_survive_a_broker_outage_through_the_outbox(
    area, django_capture_on_commit_callbacks, monkeypatch
):
    from knowledge import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.search_sync_task, "delay", broker_down)
    _, answer = _ask_and_answer(area)
    with django_capture_on_commit_callbacks(execute=True):
        services.answer_validate(answer=answer, validator=expert(area))

    # The user's write committed; the index did not hear about it, the outbox did.
    assert Article.objects.filter(status=Article.Status.PUBLISHED).exists()
    assert get_backend().search("satellite", filters=SearchFilters(type="article")).total == 0
    assert SearchIndexOutbox.objects.filter(doc_id__startswith="article:").exists()

    SearchIndexOutbox.objects.update(created_at=timezone.now() - timezone.timedelta(minutes=5))
    assert tasks.search_reconcile_task() >= 2
    assert get_backend().search("satellite", filters=SearchFilters(type="article")).total == 1
    assert not SearchIndexOutbox.objects.exists()


def test_the_sync_task_is_idempotent_and_converges_on_the_database(area):
    from knowledge.indexing import article_doc_id

    _, answer = _ask_and_answer(area)
    services.answer_validate(answer=answer, validator=expert(area))
    article = Article.objects.get()
    doc_id = article_doc_id(article.pk)
    for _ in range(3):
        services.search_sync(doc_ids=[doc_id])
    assert get_backend().search("satellite", filters=SearchFilters(type="article")).total == 1
    Article.objects.filter(pk=article.pk).update(status=Article.Status.RETIRED)
    services.search_sync(doc_ids=[doc_id, doc_id])
    assert get_backend().search("satellite", filters=SearchFilters(type="article")).total == 0


def test_an_outbox_row_touched_during_a_sync_is_kept_for_the_next_one(area):
    from knowledge.indexing import schedule_index

    schedule_index(["question:999999"])
    row = SearchIndexOutbox.objects.get()
    row.created_at = timezone.now() + timezone.timedelta(seconds=30)  # a newer change
    row.save()
    services.search_sync(doc_ids=["question:999999"])
    assert SearchIndexOutbox.objects.filter(doc_id="question:999999").exists()


def test_answers_are_ordered_validated_then_accepted_then_by_score(area):
    from community.selectors import answer_list_for_question

    question, _ = _ask_and_answer(area)
    high = AnswerFactory(question=question, score=10)
    accepted = AnswerFactory(question=question, score=1)
    validated = AnswerFactory(question=question, score=0)
    community_services.answer_accept(answer=accepted, user=question.author)
    services.answer_validate(answer=validated, validator=moderator())
    question.refresh_from_db()
    ordered = list(answer_list_for_question(viewer=None, question=question))
    assert ordered[:3] == [validated, accepted, high]
