import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from community import ratelimit, services
from community.models import AuditEntry, Question, Vote
from tests.factories import (
    AnswerFactory,
    ProductAreaFactory,
    QuestionFactory,
    UserFactory,
    moderator,
)

pytestmark = pytest.mark.django_db


def test_asking_a_question_stores_sanitized_html_tags_and_a_first_revision():
    area = ProductAreaFactory()
    author = UserFactory()
    question = services.question_create(
        author=author,
        area=area,
        title="Thermostat keeps rebooting at night",
        body="It reboots <script>alert(1)</script> every night. [x](javascript:alert(1))",
        tags="Firmware, reboot firmware",
    )
    assert "<script>" not in question.body_html
    assert 'href="javascript' not in question.body_html
    assert sorted(question.tags.values_list("slug", flat=True)) == ["firmware", "reboot"]
    assert question.revisions.get().number == 1


def test_a_question_with_a_short_title_is_refused_with_a_field_error():
    with pytest.raises(ValidationError) as excinfo:
        services.question_create(
            author=UserFactory(), area=ProductAreaFactory(), title="Help", body="x" * 30
        )
    assert "title" in excinfo.value.message_dict


def test_more_than_five_tags_are_refused():
    with pytest.raises(ValidationError) as excinfo:
        services.normalize_tag_names("a b c d e f")
    assert "tags" in excinfo.value.message_dict


def test_inactive_and_anonymous_users_cannot_ask():
    from django.contrib.auth.models import AnonymousUser

    area = ProductAreaFactory()
    for user in (AnonymousUser(), UserFactory(is_active=False)):
        with pytest.raises(PermissionDenied):
            services.question_create(
                author=user, area=area, title="A long enough title", body="b" * 30
            )


def test_answering_counts_the_answer_and_bumps_activity():
    question = QuestionFactory()
    before = question.last_activity_at
    answer = services.answer_create(
        question=question, author=UserFactory(), body="Try a factory reset first."
    )
    question.refresh_from_db()
    assert question.answer_count == 1
    assert question.last_activity_at >= before
    assert answer.revisions.get().body == "Try a factory reset first."


def test_editing_an_answer_keeps_every_revision():
    answer = AnswerFactory()
    services.answer_edit(answer=answer, editor=answer.author, body="A better, longer answer body.")
    services.answer_edit(answer=answer, editor=answer.author, body="The best, longest answer body.")
    assert list(answer.revisions.values_list("number", flat=True)) == [1, 2, 3]
    answer.refresh_from_db()
    assert answer.body == "The best, longest answer body."


def test_only_the_author_or_a_moderator_can_edit_an_answer_and_moderator_edits_are_audited():
    answer = AnswerFactory()
    with pytest.raises(PermissionDenied):
        services.answer_edit(answer=answer, editor=UserFactory(), body="Hijacked answer text here.")
    mod = moderator()
    services.answer_edit(answer=answer, editor=mod, body="Corrected by a moderator, politely.")
    entry = AuditEntry.objects.get(action="community.answer.edited")
    assert entry.actor == mod
    assert entry.data["after"] == "Corrected by a moderator, politely."


def test_one_vote_per_user_and_changing_it_moves_the_score_by_the_difference():
    answer = AnswerFactory()
    voter = UserFactory(reputation=50)  # voting down is a privilege
    assert services.vote_cast(user=voter, post=answer, value=1) == 1
    assert services.vote_cast(user=voter, post=answer, value=1) == 1
    assert services.vote_cast(user=voter, post=answer, value=-1) == -1
    assert Vote.objects.filter(user=voter).count() == 1
    assert services.vote_cast(user=voter, post=answer, value=0) == 0
    assert not Vote.objects.filter(user=voter).exists()


def test_nobody_votes_on_their_own_post():
    question = QuestionFactory()
    with pytest.raises(PermissionDenied, match="own post"):
        services.vote_cast(user=question.author, post=question, value=1)


def test_a_vote_value_other_than_plus_minus_one_or_zero_is_refused():
    with pytest.raises(ValidationError):
        services.vote_cast(user=UserFactory(), post=QuestionFactory(), value=5)


def test_the_asker_accepts_one_answer_and_can_change_it():
    question = QuestionFactory()
    first, second = AnswerFactory(question=question), AnswerFactory(question=question)
    services.answer_accept(answer=first, user=question.author)
    services.answer_accept(answer=second, user=question.author)
    question.refresh_from_db()
    assert question.accepted_answer == second
    services.answer_unaccept(question=question, user=question.author)
    question.refresh_from_db()
    assert question.accepted_answer is None


def test_someone_else_cannot_accept_an_answer():
    answer = AnswerFactory()
    with pytest.raises(PermissionDenied):
        services.answer_accept(answer=answer, user=UserFactory())


def test_a_comment_belongs_to_exactly_one_post():
    question = QuestionFactory()
    comment = services.comment_create(
        author=UserFactory(), body="Which firmware?", question=question
    )
    assert comment.question == question
    with pytest.raises(ValueError):
        services.comment_create(
            author=UserFactory(), body="Both?", question=question, answer=AnswerFactory()
        )


def test_writes_beyond_the_rate_limit_are_refused_with_a_retry_delay(settings):
    settings.PEERDESK = {**settings.PEERDESK, "RATE_LIMITS": {"answer": 2}}
    question = QuestionFactory()
    author = UserFactory()
    for _ in range(2):
        services.answer_create(question=question, author=author, body="An answer long enough.")
    with pytest.raises(ratelimit.RateLimited) as excinfo:
        services.answer_create(question=question, author=author, body="An answer long enough.")
    assert 0 < excinfo.value.retry_after <= 60
    assert Question.objects.get(pk=question.pk).answer_count == 2


def test_suspended_rate_limits_let_trusted_batch_jobs_through(settings):
    settings.PEERDESK = {**settings.PEERDESK, "RATE_LIMITS": {"answer": 1}}
    question = QuestionFactory()
    author = UserFactory()
    with ratelimit.suspended():
        for _ in range(3):
            services.answer_create(question=question, author=author, body="An answer long enough.")
    assert question.answers.count() == 3


def test_moderators_grant_and_revoke_certifications_with_audit_entries():
    mod, member, area = moderator(), UserFactory(), ProductAreaFactory()
    cert = services.certification_grant(
        user=member,
        area=area,
        granted_by=mod,
        expires_at=timezone.now() + timezone.timedelta(days=30),
    )
    assert cert.is_active
    services.certification_revoke(certification=cert, revoked_by=mod, reason="Left the program")
    cert.refresh_from_db()
    assert not cert.is_active
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"community.certification.granted", "community.certification.revoked"} <= actions


def test_members_cannot_grant_certifications():
    with pytest.raises(PermissionDenied):
        services.certification_grant(
            user=UserFactory(),
            area=ProductAreaFactory(),
            granted_by=UserFactory(),
            expires_at=timezone.now() + timezone.timedelta(days=30),
        )


def test_a_certification_must_expire_in_the_future():
    with pytest.raises(ValidationError):
        services.certification_grant(
            user=UserFactory(),
            area=ProductAreaFactory(),
            granted_by=moderator(),
            expires_at=timezone.now(),
        )


def test_avatar_uploads_must_be_real_small_images():
    from django.core.files.uploadedfile import SimpleUploadedFile

    user = UserFactory()
    fake = SimpleUploadedFile("evil.png", b"<?php echo 1; ?>", content_type="image/png")
    with pytest.raises(ValidationError) as excinfo:
        services.profile_update(user=user, display_name="Eve", bio="", avatar=fake)
    assert "avatar" in excinfo.value.message_dict

    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(buffer, format="PNG")
    real = SimpleUploadedFile("me.png", buffer.getvalue(), content_type="image/png")
    services.profile_update(user=user, display_name="Eve", bio="Hi", avatar=real)
    user.refresh_from_db()
    assert user.avatar.name.endswith(".png")
