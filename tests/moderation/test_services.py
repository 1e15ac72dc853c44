"""Flags and moderator actions through the services: each action, its audit entry with
before/after data, auto-hide, pre-moderation, link limits, sanctions and the append-only log."""

import datetime as dt

import pytest
from django.contrib.admin.sites import site as admin_site
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory
from django.utils import timezone

from community import events
from community import services as community_services
from community.audit import audit_log, current_ip
from community.models import Answer, AuditEntry, PostStatus, Question
from community.ratelimit import RateLimited
from knowledge.models import Article
from moderation import services
from moderation.models import Flag
from tests.factories import (
    AnswerFactory,
    ArticleFactory,
    FlagFactory,
    ProductAreaFactory,
    QuestionFactory,
    UserFactory,
    expert,
    moderator,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def mod():
    return moderator(username="mona")


def _entry(action: str) -> AuditEntry:
    entries = list(AuditEntry.objects.filter(action=action))
    assert len(entries) == 1, [e.action for e in AuditEntry.objects.all()]
    return entries[0]


def _trusted(area=None):
    return expert(area or ProductAreaFactory())


# --- flags ------------------------------------------------------------------------------------


def test_a_member_flags_a_post_once_and_a_second_flag_is_refused():
    answer = AnswerFactory()
    reporter = UserFactory()

    flag = services.flag_create(reporter=reporter, post=answer, reason="spam", note="Link farm")

    assert (flag.answer, flag.status, flag.note, flag.trusted) == (
        answer,
        "open",
        "Link farm",
        False,
    )
    with pytest.raises(ValidationError) as exc:
        services.flag_create(reporter=reporter, post=answer, reason="abusive")
    assert exc.value.message_dict == {"reason": ["You have already flagged this post."]}
    assert Flag.objects.count() == 1


def test_members_cannot_flag_their_own_post_or_flag_without_a_reason():
    question = QuestionFactory()
    with pytest.raises(PermissionDenied, match="your own post"):
        services.flag_create(reporter=question.author, post=question, reason="spam")
    with pytest.raises(ValidationError) as exc:
        services.flag_create(reporter=UserFactory(), post=question, reason="boring")
    assert "reason" in exc.value.message_dict


def test_a_duplicate_flag_names_a_different_question_and_only_questions_can_be_duplicates():
    question, other = QuestionFactory(), QuestionFactory()
    reporter = UserFactory()
    with pytest.raises(ValidationError) as missing:
        services.flag_create(reporter=reporter, post=question, reason="duplicate")
    with pytest.raises(ValidationError) as on_answer:
        services.flag_create(
            reporter=reporter, post=AnswerFactory(), reason="duplicate", duplicate_of=other
        )

    flag = services.flag_create(
        reporter=reporter, post=question, reason="duplicate", duplicate_of=other
    )

    assert "duplicate_of" in missing.value.message_dict
    assert "reason" in on_answer.value.message_dict
    assert flag.duplicate_of == other


def test_flagging_is_rate_limited_by_kind_flag(settings):
    settings.PEERDESK = {**settings.PEERDESK, "RATE_LIMITS": {"flag": 2}}
    reporter = UserFactory()
    for question in QuestionFactory.create_batch(2):
        services.flag_create(reporter=reporter, post=question, reason="spam")

    with pytest.raises(RateLimited) as exc:
        services.flag_create(reporter=reporter, post=QuestionFactory(), reason="spam")

    assert exc.value.kind == "flag"
    assert 0 < exc.value.retry_after <= 60


def test_flagging_announces_the_flag_for_protocols():
    seen = []

    def receiver(sender, **kwargs):
        seen.append(kwargs)

    events.post_flagged.connect(receiver)
    try:
        answer = AnswerFactory()
        flag = services.flag_create(reporter=UserFactory(), post=answer, reason="needs_staff")
    finally:
        events.post_flagged.disconnect(receiver)
    assert seen == [
        {
            "signal": events.post_flagged,
            "flag_id": flag.pk,
            "question_id": answer.question_id,
            "reason": "needs_staff",
        }
    ]


# --- auto-hide --------------------------------------------------------------------------------


def test_three_trusted_flags_hide_a_post_pending_review(settings):
    settings.PEERDESK = {**settings.PEERDESK, "AUTO_HIDE_FLAGS": 3}
    answer = AnswerFactory()
    for reporter in (_trusted(), _trusted()):
        services.flag_create(reporter=reporter, post=answer, reason="spam")
    answer.refresh_from_db()
    assert answer.status == PostStatus.VISIBLE

    services.flag_create(reporter=_trusted(), post=answer, reason="abusive")

    answer.refresh_from_db()
    assert answer.status == PostStatus.HIDDEN
    assert answer.hidden_by is None  # the threshold acted, not a person
    assert "3 flags" in answer.hidden_reason
    entry = _entry("community.answer.hidden")
    assert entry.actor is None
    assert entry.data["automatic"] is True
    assert entry.data["before"]["status"] == "visible"
    assert entry.data["after"]["status"] == "hidden"
    # The flags stay open: a moderator still has to review the post.
    assert Flag.objects.filter(status="open").count() == 3


def test_flags_from_untrusted_members_never_hide_a_post(settings):
    settings.PEERDESK = {**settings.PEERDESK, "AUTO_HIDE_FLAGS": 3}
    question = QuestionFactory()
    for _ in range(5):
        services.flag_create(reporter=UserFactory(), post=question, reason="spam")

    question.refresh_from_db()
    assert question.status == PostStatus.VISIBLE


def test_reputation_makes_a_member_a_trusted_flagger(settings):
    settings.PEERDESK = {**settings.PEERDESK, "TRUSTED_FLAG_REPUTATION": 200}
    question = QuestionFactory()
    regular = UserFactory(reputation=250)

    flag = services.flag_create(reporter=regular, post=question, reason="spam")

    assert flag.trusted is True


def test_dismissing_the_flags_of_an_auto_hidden_post_restores_it(mod, settings):
    settings.PEERDESK = {**settings.PEERDESK, "AUTO_HIDE_FLAGS": 2}
    question = QuestionFactory()
    flags = [
        services.flag_create(reporter=_trusted(), post=question, reason="spam") for _ in range(2)
    ]
    question.refresh_from_db()
    assert question.status == PostStatus.HIDDEN

    services.flag_dismiss(flag=flags[0], actor=mod)
    question.refresh_from_db()
    assert question.status == PostStatus.HIDDEN  # one trusted flag still stands
    services.flag_dismiss(flag=flags[1], actor=mod)

    question.refresh_from_db()
    assert question.status == PostStatus.VISIBLE
    assert AuditEntry.objects.filter(action="moderation.flag.dismissed").count() == 2
    assert _entry("community.question.restored").actor == mod


# --- moderator actions ------------------------------------------------------------------------


def test_dismissing_a_flag_is_audited_and_tells_the_reporter(mod):
    flag = FlagFactory()
    outcomes = []

    def receiver(sender, **kwargs):
        outcomes.append((kwargs["flag_id"], kwargs["reporter_id"], kwargs["outcome"]))

    events.flag_resolved.connect(receiver)
    try:
        token = current_ip.set("203.0.113.9")
        try:
            services.flag_dismiss(flag=flag, actor=mod, note="Not spam")
        finally:
            current_ip.reset(token)
    finally:
        events.flag_resolved.disconnect(receiver)

    flag.refresh_from_db()
    assert (flag.status, flag.resolved_by, flag.resolution) == (
        "dismissed",
        mod,
        "dismissed: Not spam",
    )
    entry = _entry("moderation.flag.dismissed")
    assert entry.data["before"] == {"status": "open"}
    assert entry.data["after"]["status"] == "dismissed"
    assert entry.ip == "203.0.113.9"
    assert outcomes == [(flag.pk, flag.reporter_id, "dismissed")]


def test_only_moderators_act_on_flags():
    flag = FlagFactory()
    member = UserFactory()
    with pytest.raises(PermissionDenied):
        services.flag_dismiss(flag=flag, actor=member)
    with pytest.raises(PermissionDenied):
        services.post_hide(post=flag.question, actor=member, reason="Spam link")


def test_hiding_a_post_closes_its_flags_and_restoring_brings_it_back(mod):
    answer = AnswerFactory()
    FlagFactory(question=None, answer=answer)
    FlagFactory(question=None, answer=answer, reason="abusive")
    question = Question.objects.get(pk=answer.question_id)
    assert question.answer_count == 1

    services.post_hide(post=answer, actor=mod, reason="Spam link")

    answer.refresh_from_db()
    question.refresh_from_db()
    assert (answer.status, answer.hidden_by, answer.hidden_reason) == ("hidden", mod, "Spam link")
    assert question.answer_count == 0  # counts are what everyone sees
    assert set(Flag.objects.values_list("status", flat=True)) == {"actioned"}
    hidden = _entry("community.answer.hidden")
    assert (hidden.actor, hidden.data["before"]["status"], hidden.data["after"]["status"]) == (
        mod,
        "visible",
        "hidden",
    )
    assert AuditEntry.objects.filter(action="moderation.flag.actioned").count() == 2

    services.post_restore(post=answer, actor=mod, reason="Appeal accepted")

    answer.refresh_from_db()
    question.refresh_from_db()
    assert (answer.status, answer.hidden_by, question.answer_count) == ("visible", None, 1)
    restored = _entry("community.answer.restored")
    assert restored.data["before"]["status"] == "hidden"
    assert restored.data["reason"] == "Appeal accepted"


def test_hiding_needs_a_reason(mod):
    with pytest.raises(ValidationError) as exc:
        services.post_hide(post=QuestionFactory(), actor=mod, reason="")
    assert "reason" in exc.value.message_dict


def test_hiding_a_validated_source_answer_sends_its_article_to_review(mod):
    article = ArticleFactory()

    services.post_hide(post=article.source_answer, actor=mod, reason="Dangerous advice")

    article.refresh_from_db()
    assert article.status == Article.Status.NEEDS_REVIEW
    assert "hidden" in article.review_reason


def test_a_moderator_edit_needs_a_reason_keeps_a_revision_and_is_audited(mod):
    answer = AnswerFactory(body="Visit my shop at spam.example for cheap routers today.")
    FlagFactory(question=None, answer=answer)
    with pytest.raises(ValidationError):
        services.post_edit(post=answer, actor=mod, reason="", body="x" * 20)

    services.post_edit(
        post=answer,
        actor=mod,
        reason="Removed advertising",
        body="Hold the reset button for ten seconds.",
    )

    answer.refresh_from_db()
    assert answer.body == "Hold the reset button for ten seconds."
    assert answer.revisions.get(number=2).summary == "Removed advertising"
    entry = _entry("community.answer.edited")
    assert entry.data["before"].startswith("Visit my shop")
    assert entry.data["after"] == "Hold the reset button for ten seconds."
    assert entry.data["summary"] == "Removed advertising"
    assert Flag.objects.get().status == "actioned"


def test_a_locked_thread_refuses_members_writes_but_not_moderators(mod):
    question = QuestionFactory()
    answer = AnswerFactory(question=question)
    member = UserFactory()

    services.thread_lock(question=question, actor=mod, reason="Heated")

    question.refresh_from_db()
    assert question.locked_at is not None
    entry = _entry("community.question.locked")
    assert entry.data["before"] == {"locked_at": None}
    assert entry.data["after"]["locked_at"]
    for attempt in (
        lambda: community_services.answer_create(
            question=question, author=member, body="One more thing to try here."
        ),
        lambda: community_services.comment_create(author=member, body="Me too", answer=answer),
        lambda: community_services.vote_cast(user=member, post=answer, value=1),
    ):
        with pytest.raises(PermissionDenied, match="locked"):
            attempt()
    community_services.answer_create(
        question=question, author=mod, body="Locked while we investigate, sorry."
    )

    services.thread_unlock(question=question, actor=mod)
    question.refresh_from_db()
    assert question.locked_at is None
    assert _entry("community.question.unlocked").data["after"] == {"locked_at": None}


def test_moving_a_thread_records_both_areas(mod):
    old, new = ProductAreaFactory(slug="mesh"), ProductAreaFactory(slug="cam")
    question = QuestionFactory(area=old)

    services.thread_move(question=question, actor=mod, area=new, reason="Wrong product")

    question.refresh_from_db()
    assert question.area == new
    entry = _entry("community.question.moved")
    assert entry.data["before"] == {"area": "mesh"}
    assert entry.data["after"] == {"area": "cam"}


def test_merging_a_duplicate_moves_its_answers_and_hides_it(mod):
    canonical = QuestionFactory()
    AnswerFactory(question=canonical)
    duplicate = QuestionFactory()
    moved = AnswerFactory.create_batch(2, question=duplicate)
    FlagFactory(question=duplicate, reason="duplicate", duplicate_of=canonical)

    services.thread_merge(duplicate=duplicate, canonical=canonical, actor=mod, reason="Same")

    duplicate.refresh_from_db()
    canonical.refresh_from_db()
    assert set(canonical.answers.values_list("pk", flat=True)) >= {a.pk for a in moved}
    assert canonical.answer_count == 3
    assert (duplicate.status, duplicate.merged_into, duplicate.answer_count) == (
        "hidden",
        canonical,
        0,
    )
    entry = _entry("community.question.merged")
    assert sorted(entry.data["before"]["answers"]) == sorted(a.pk for a in moved)
    assert entry.data["after"]["merged_into"] == canonical.pk
    assert Flag.objects.get().status == "actioned"


def test_a_question_cannot_be_merged_into_itself_or_into_a_hidden_thread(mod):
    question, hidden = QuestionFactory(), QuestionFactory(status="hidden")
    with pytest.raises(ValidationError):
        services.thread_merge(duplicate=question, canonical=question, actor=mod)
    with pytest.raises(ValidationError):
        services.thread_merge(duplicate=question, canonical=hidden, actor=mod)


def test_bulk_actions_dismiss_or_hide_many_flags_at_once(mod):
    to_dismiss = FlagFactory.create_batch(2)
    answer = AnswerFactory()
    to_hide = [FlagFactory(question=None, answer=answer) for _ in range(2)]

    dismissed = services.flags_bulk(
        flag_ids=[f.pk for f in to_dismiss], actor=mod, action="dismiss"
    )
    hidden = services.flags_bulk(flag_ids=[f.pk for f in to_hide], actor=mod, action="hide")

    assert (dismissed, hidden) == (2, 2)
    answer.refresh_from_db()
    assert answer.status == "hidden"
    assert set(
        Flag.objects.filter(pk__in=[f.pk for f in to_dismiss]).values_list("status", flat=True)
    ) == {"dismissed"}
    assert set(Flag.objects.filter(answer=answer).values_list("status", flat=True)) == {"actioned"}
    with pytest.raises(ValidationError):
        services.flags_bulk(flag_ids=[], actor=mod, action="dismiss")


# --- sanctions --------------------------------------------------------------------------------


def test_a_warning_is_recorded_and_audited_without_blocking(mod):
    member = UserFactory()

    services.member_sanction(user=member, actor=mod, kind="warn", reason="Be kind")

    entry = _entry("community.member.warned")
    assert entry.data["reason"] == "Be kind"
    community_services.question_create(
        author=member,
        area=ProductAreaFactory(),
        title="Still allowed to ask a question?",
        body="After a warning I can still ask questions here.",
    )


def test_a_suspension_blocks_every_write_until_it_ends(mod):
    member = UserFactory()
    question = QuestionFactory()

    services.member_sanction(
        user=member, actor=mod, kind="suspend", reason="Spam", duration=dt.timedelta(days=3)
    )

    member.refresh_from_db()
    assert member.suspended_until > timezone.now() + dt.timedelta(days=2)
    entry = _entry("community.member.suspended")
    assert entry.data["before"]["suspended_until"] is None
    assert entry.data["after"]["suspended_until"]
    for attempt in (
        lambda: community_services.question_create(
            author=member,
            area=question.area,
            title="A question while suspended",
            body="This should be refused for now, clearly.",
        ),
        lambda: community_services.answer_create(
            question=question, author=member, body="An answer while suspended."
        ),
        lambda: community_services.comment_create(author=member, body="Hi", question=question),
        lambda: community_services.vote_cast(user=member, post=question, value=1),
        lambda: services.flag_create(reporter=member, post=question, reason="spam"),
    ):
        with pytest.raises(PermissionDenied, match="suspended until"):
            attempt()

    member.suspended_until = timezone.now() - dt.timedelta(minutes=1)  # time passes
    community_services.vote_cast(user=member, post=question, value=1)


def test_a_suspension_needs_a_duration(mod):
    with pytest.raises(ValidationError) as exc:
        services.member_sanction(user=UserFactory(), actor=mod, kind="suspend", reason="Spam")
    assert "duration" in exc.value.message_dict


def test_a_ban_blocks_writes_and_lifting_it_restores_them(mod):
    member = UserFactory()
    question = QuestionFactory()

    services.member_sanction(user=member, actor=mod, kind="ban", reason="Repeated abuse")
    member.refresh_from_db()
    with pytest.raises(PermissionDenied, match="banned"):
        community_services.answer_create(
            question=question, author=member, body="Trying to answer after a ban."
        )

    services.member_sanction(user=member, actor=mod, kind="lift", reason="Appeal upheld")
    member.refresh_from_db()
    community_services.answer_create(
        question=question, author=member, body="Answering again after the appeal."
    )
    assert _entry("community.member.banned").data["after"]["banned_at"]
    assert _entry("community.member.sanctions_lifted").data["after"] == {
        "suspended_until": None,
        "banned_at": None,
    }


def test_moderators_cannot_sanction_themselves_or_other_staff(mod):
    with pytest.raises(PermissionDenied):
        services.member_sanction(user=mod, actor=mod, kind="warn", reason="Oops")
    with pytest.raises(PermissionDenied):
        services.member_sanction(user=moderator(), actor=mod, kind="ban", reason="Coup")


def test_sanctioning_from_a_flag_closes_the_posts_flags(mod):
    flag = FlagFactory(reason="abusive")

    services.member_sanction(
        user=flag.question.author, actor=mod, kind="warn", reason="Abusive", flag=flag
    )

    flag.refresh_from_db()
    assert (flag.status, flag.resolution) == ("actioned", "author warn: Abusive")


# --- pre-moderation and link limits -----------------------------------------------------------


@pytest.fixture
def premoderation(settings):
    settings.PEERDESK = {
        **settings.PEERDESK,
        "PREMODERATION_FIRST_POSTS": 2,
        "NEW_MEMBER_POSTS": 2,
        "NEW_MEMBER_MAX_LINKS": 2,
    }


def _ask(author, area, n=1, body="The status light blinks amber after the update."):
    return community_services.question_create(
        author=author, area=area, title=f"My router keeps rebooting ({n})", body=body
    )


def test_a_new_members_first_posts_wait_for_approval(premoderation, mod):
    area = ProductAreaFactory()
    member = UserFactory()
    first, second = _ask(member, area, 1), _ask(member, area, 2)
    answer = community_services.answer_create(
        question=QuestionFactory(area=area), author=member, body="Try a different power supply."
    )
    assert [first.status, second.status, answer.status] == ["pending"] * 3
    assert Question.objects.get(pk=answer.question_id).answer_count == 0

    services.post_approve(post=first, actor=mod)
    services.post_approve(post=answer, actor=mod)

    assert Question.objects.get(pk=answer.question_id).answer_count == 1
    assert _entry("community.question.approved").data["after"]["status"] == "visible"
    assert _ask(member, area, 3).status == "visible"  # two approved posts: no longer new


def test_staff_and_experts_skip_pre_moderation(premoderation):
    area = ProductAreaFactory()
    assert _ask(moderator(), area).status == "visible"
    assert _ask(expert(area), area).status == "visible"


def test_new_members_may_post_at_most_the_allowed_number_of_links(premoderation):
    area = ProductAreaFactory()
    member = UserFactory()
    three = "See https://a.example, [docs](https://b.example) and www.c.example for details."

    with pytest.raises(ValidationError) as exc:
        _ask(member, area, body=three)

    assert exc.value.message_dict == {
        "body": ["New members can include at most 2 links in a post."]
    }
    assert _ask(member, area, body="See https://a.example and https://b.example today.")
    seasoned = UserFactory()
    QuestionFactory.create_batch(2, author=seasoned)  # approved history
    assert _ask(seasoned, area, body=three).status == "visible"


# --- the audit log is append-only -------------------------------------------------------------


def test_an_audit_entry_cannot_be_changed_or_deleted_by_the_application():
    entry = audit_log(actor=None, action="test.thing.done", target=QuestionFactory())

    entry.action = "test.thing.undone"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.thing.done"


def test_the_admin_shows_audit_entries_read_only():
    admin = admin_site._registry[AuditEntry]
    request = RequestFactory().get("/")
    request.user = UserFactory(is_superuser=True, is_staff=True)

    assert not admin.has_add_permission(request)
    assert not admin.has_change_permission(request)
    assert not admin.has_delete_permission(request)


def test_moderation_actions_are_no_ops_the_second_time(mod):
    answer = AnswerFactory()
    services.post_hide(post=answer, actor=mod, reason="Spam")
    services.post_hide(post=answer, actor=mod, reason="Spam")
    assert AuditEntry.objects.filter(action="community.answer.hidden").count() == 1
    assert Answer.objects.get(pk=answer.pk).status == "hidden"


def test_hiding_a_post_costs_its_author_reputation_and_restoring_gives_it_back():
    from community import services as community_services
    from community.models import User
    from tests.factories import AnswerFactory, moderator

    answer = AnswerFactory()
    mod = moderator()
    before = User.objects.get(pk=answer.author_id).reputation
    community_services.post_hide(post=answer, actor=mod, reason="Spam link")
    assert User.objects.get(pk=answer.author_id).reputation == before - 20
    community_services.post_restore(post=answer, actor=mod, reason="False alarm")
    assert User.objects.get(pk=answer.author_id).reputation == before
