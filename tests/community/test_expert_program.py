"""The expert program: candidates from data, applications, review, renewal, pages and the
validation inbox."""

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from community import expert_program
from community.models import (
    AuditEntry,
    Certification,
    ExpertApplication,
    Notification,
    NotificationKind,
    NotificationPreference,
    Question,
    Sanction,
    User,
)
from community.tasks import certification_expiry_remind_task
from tests.factories import (
    AnswerFactory,
    CertificationFactory,
    ExpertRatingFactory,
    ProductAreaFactory,
    QuestionFactory,
    UserFactory,
    csr,
    expert,
    moderator,
)

pytestmark = pytest.mark.django_db


def _validated(author, area, n=1):
    for _ in range(n):
        AnswerFactory(
            author=author, question=QuestionFactory(area=area), validated_at=timezone.now()
        )


def _accepted(author, area, n=1):
    for _ in range(n):
        answer = AnswerFactory(author=author, question=QuestionFactory(area=area))
        Question.objects.filter(pk=answer.question_id).update(accepted_answer=answer)


# --- candidates ------------------------------------------------------------------------------


def test_candidates_are_ranked_by_validated_then_accepted_answers_and_rating():
    area = ProductAreaFactory()
    strong, accepted_only, rated = UserFactory(), UserFactory(), UserFactory()
    _validated(strong, area, 3)  # 3 x 3 = 9
    _accepted(accepted_only, area, 2)  # 2 x 2 = 4
    _accepted(rated, area, 2)  # 4 + a mean rating of 4 = 8
    for score in (5, 3):
        ExpertRatingFactory(
            directed__expert=rated, directed__question=QuestionFactory(area=area), score=score
        )
    UserFactory()  # no signal at all

    ranked = expert_program.expert_candidates_for_area(area=area)

    assert [u.pk for u in ranked] == [strong.pk, rated.pk, accepted_only.pk]
    assert (ranked[0].validated_count, ranked[0].accepted_count) == (3, 0)
    assert ranked[0].candidate_score == 9
    assert (ranked[1].rating_mean, ranked[1].rating_count, ranked[1].candidate_score) == (4, 2, 8)
    assert ranked[2].rating_mean is None and ranked[2].candidate_score == 4


def test_answers_in_another_area_do_not_make_a_candidate():
    area, other = ProductAreaFactory(), ProductAreaFactory()
    _validated(UserFactory(), other, 3)

    assert expert_program.expert_candidates_for_area(area=area) == []


def test_candidates_exclude_struck_certified_pending_and_placeholder_members():
    area = ProductAreaFactory()
    good, warned, hidden, certified, pending, placeholder = (UserFactory() for _ in range(6))
    placeholder.is_placeholder = True
    placeholder.save()
    for user in (good, warned, hidden, certified, pending, placeholder):
        _validated(user, area)
    Sanction.objects.create(user=warned, kind="warn", reason="rude", issued_by=moderator())
    AnswerFactory(author=hidden, status="hidden")
    CertificationFactory(user=certified, area=area)
    ExpertApplication.objects.create(user=pending, area=area, kind="self", statement="please")

    ranked = expert_program.expert_candidates_for_area(area=area)

    assert [u.pk for u in ranked] == [good.pk]


def test_a_lapsed_certification_makes_a_member_a_candidate_again():
    area = ProductAreaFactory()
    member = UserFactory()
    _validated(member, area)
    CertificationFactory(user=member, area=area, expires_at=timezone.now() - dt.timedelta(days=1))

    assert [u.pk for u in expert_program.expert_candidates_for_area(area=area)] == [member.pk]


def test_candidates_take_two_queries_however_many_members_answered(django_assert_num_queries):
    area = ProductAreaFactory()
    for members in (5, 30):
        while User.objects.count() < members:
            _validated(UserFactory(), area)
        with django_assert_num_queries(2):
            assert len(expert_program.expert_candidates_for_area(area=area, limit=3)) == 3


def test_candidates_exclude_inactive_banned_and_suspended_members_and_hidden_questions():
    area = ProductAreaFactory()
    now = timezone.now()
    good, served, inactive, banned, suspended, hid_question = (UserFactory() for _ in range(6))
    for user in (good, served, inactive, banned, suspended, hid_question):
        _validated(user, area)
    User.objects.filter(pk=served.pk).update(suspended_until=now - dt.timedelta(days=1))
    User.objects.filter(pk=inactive.pk).update(is_active=False)
    User.objects.filter(pk=banned.pk).update(banned_at=now)
    User.objects.filter(pk=suspended.pk).update(suspended_until=now + dt.timedelta(days=1))
    QuestionFactory(author=hid_question, status="hidden")

    ranked = expert_program.expert_candidates_for_area(area=area)

    assert {u.pk for u in ranked} == {good.pk, served.pk}


# --- applications ----------------------------------------------------------------------------


def test_a_member_can_apply_once_per_area_while_it_is_open():
    area, other = ProductAreaFactory(), ProductAreaFactory()
    member = UserFactory()

    app = expert_program.expert_application_create(
        user=member, area=area, motivation="I fixed many routers."
    )
    with pytest.raises(ValidationError) as exc:
        expert_program.expert_application_create(user=member, area=area, motivation="Again!")
    expert_program.expert_application_create(user=member, area=other, motivation="Also here.")

    assert "area" in exc.value.message_dict
    assert app.kind == ExpertApplication.Kind.SELF
    entry = AuditEntry.objects.get(action="community.expert_application.created", target_id=app.pk)
    assert entry.actor == member and entry.data["kind"] == "self"


def test_a_self_application_needs_a_motivation():
    with pytest.raises(ValidationError) as exc:
        expert_program.expert_application_create(
            user=UserFactory(), area=ProductAreaFactory(), motivation="  "
        )
    assert "motivation" in exc.value.message_dict


def test_a_sanctioned_member_cannot_apply():
    member = UserFactory(banned_at=timezone.now())
    with pytest.raises(PermissionDenied):
        expert_program.expert_application_create(
            user=member, area=ProductAreaFactory(), motivation="Let me in."
        )


def test_an_already_certified_member_cannot_apply_for_the_same_area():
    area = ProductAreaFactory()
    with pytest.raises(ValidationError):
        expert_program.expert_application_create(
            user=expert(area), area=area, motivation="One more time."
        )


def test_only_moderators_can_nominate():
    area, member = ProductAreaFactory(), UserFactory()
    for nominator in (UserFactory(), csr(), expert(area)):
        with pytest.raises(PermissionDenied):
            expert_program.expert_application_create(
                user=member, area=area, motivation="", nominated_by=nominator
            )
    mod = moderator()
    app = expert_program.expert_application_create(
        user=member, area=area, motivation="", nominated_by=mod
    )
    assert (app.kind, app.nominated_by) == (ExpertApplication.Kind.NOMINATION, mod)
    assert AuditEntry.objects.get(action="community.expert_application.created").actor == mod


# --- review and renewal ----------------------------------------------------------------------


def _application(area=None, **kwargs):
    return expert_program.expert_application_create(
        user=kwargs.pop("user", None) or UserFactory(),
        area=area or ProductAreaFactory(),
        motivation="I know this product well.",
    )


def test_approving_certifies_the_member_for_the_term_and_audits_both_steps():
    app, mod = _application(), moderator()
    before = timezone.now()

    reviewed = expert_program.expert_application_review(
        application=app, reviewer=mod, approve=True, note="Welcome", term_days=180
    )

    cert = reviewed.certification
    assert reviewed.status == ExpertApplication.Status.APPROVED
    assert (cert.user, cert.area, cert.granted_by) == (app.user, app.area, mod)
    assert before + dt.timedelta(days=180) <= cert.expires_at
    assert cert.expires_at <= timezone.now() + dt.timedelta(days=180)
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"community.certification.granted", "community.expert_application.approved"} <= actions


def test_rejecting_needs_a_note_and_grants_nothing():
    app, mod = _application(), moderator()
    with pytest.raises(ValidationError) as exc:
        expert_program.expert_application_review(
            application=app, reviewer=mod, approve=False, note=""
        )
    assert "note" in exc.value.message_dict

    reviewed = expert_program.expert_application_review(
        application=app, reviewer=mod, approve=False, note="Not enough answers yet."
    )

    assert reviewed.status == ExpertApplication.Status.REJECTED
    assert reviewed.review_note == "Not enough answers yet."
    assert not Certification.objects.exists()
    assert AuditEntry.objects.filter(action="community.expert_application.rejected").exists()


def test_an_application_is_reviewed_only_once_and_only_by_moderators():
    app = _application()
    with pytest.raises(PermissionDenied):
        expert_program.expert_application_review(
            application=app, reviewer=csr(), approve=True, note=""
        )
    mod = moderator()
    expert_program.expert_application_review(application=app, reviewer=mod, approve=True, note="")
    with pytest.raises(ValidationError):
        expert_program.expert_application_review(
            application=app, reviewer=mod, approve=False, note="changed my mind"
        )
    assert Certification.objects.count() == 1


def test_a_moderator_cannot_review_their_own_application():
    mod = moderator()
    app = _application(user=mod)
    with pytest.raises(PermissionDenied):
        expert_program.expert_application_review(
            application=app, reviewer=mod, approve=True, note=""
        )


def test_renewing_extends_from_the_current_expiry():
    expires = timezone.now() + dt.timedelta(days=10)
    cert = CertificationFactory(expires_at=expires)

    renewed = expert_program.certification_renew(certification=cert, renewed_by=moderator())

    assert renewed.expires_at == expires + dt.timedelta(days=365)
    entry = AuditEntry.objects.get(action="community.certification.renewed")
    assert entry.data["previous_expires_at"] == expires.isoformat()


def test_renewing_a_lapsed_certification_counts_from_now():
    cert = CertificationFactory(expires_at=timezone.now() - dt.timedelta(days=30))
    before = timezone.now()

    renewed = expert_program.certification_renew(
        certification=cert, renewed_by=moderator(), term_days=30
    )

    assert renewed.expires_at >= before + dt.timedelta(days=30)
    assert renewed.is_active


def test_a_revoked_certification_is_not_renewed_and_members_cannot_renew():
    cert = CertificationFactory(revoked_at=timezone.now())
    with pytest.raises(PermissionDenied):
        expert_program.certification_renew(certification=cert, renewed_by=UserFactory())
    with pytest.raises(ValidationError):
        expert_program.certification_renew(certification=cert, renewed_by=moderator())


# --- telling the member (notifications) -----------------------------------------------------


def _expert_notes(user):
    return list(Notification.objects.filter(recipient=user, kind=NotificationKind.EXPERT))


def test_an_approved_applicant_is_told_at_once_with_a_link_to_the_areas_validation_inbox(
    django_capture_on_commit_callbacks,
):
    area = ProductAreaFactory(name="Lumen Mesh", slug="mesh")
    app = _application(area=area)
    with django_capture_on_commit_callbacks(execute=True):
        reviewed = expert_program.expert_application_review(
            application=app, reviewer=moderator(), approve=True, note="Welcome", term_days=180
        )

    (note,) = _expert_notes(app.user)
    assert "approved" in note.text and "Lumen Mesh" in note.text
    assert f"{timezone.localtime(reviewed.certification.expires_at):%d %b %Y}" in note.text
    assert note.url == f"{reverse('community:validation_inbox')}?area=mesh"
    assert note.actor is None  # the decision is the moderators', not one person's
    (message,) = mail.outbox
    assert message.to == [app.user.email]
    assert "certified expert for Lumen Mesh" in message.subject
    assert "/experts/inbox/validate/?area=mesh" in message.body
    assert "About the expert program" in message.body  # the kind's own email template
    assert reverse("community:expert_apply") in message.body


def test_a_declined_applicant_is_told_the_moderators_reason(django_capture_on_commit_callbacks):
    app = _application(area=ProductAreaFactory(name="Lumen Hub"))
    with django_capture_on_commit_callbacks(execute=True):
        expert_program.expert_application_review(
            application=app,
            reviewer=moderator(),
            approve=False,
            note="Answer a few more hub questions first.",
        )

    (note,) = _expert_notes(app.user)
    assert "expert application for Lumen Hub was declined" in note.text
    assert "Answer a few more hub questions first." in note.text
    assert note.url == reverse("community:expert_apply")
    (message,) = mail.outbox
    assert "Answer a few more hub questions first." in message.body


def test_a_nominee_hears_the_outcome_of_their_nomination_either_way():
    area, mod = ProductAreaFactory(name="Lumen Cam"), moderator()
    approved, declined = UserFactory(), UserFactory()
    for user, approve, note in ((approved, True, ""), (declined, False, "Too few answers.")):
        app = expert_program.expert_application_create(
            user=user, area=area, motivation="", nominated_by=mod
        )
        expert_program.expert_application_review(
            application=app, reviewer=moderator(), approve=approve, note=note
        )

    (yes,) = _expert_notes(approved)
    (no,) = _expert_notes(declined)
    assert yes.text.startswith("You were nominated and are now a certified expert for Lumen Cam")
    assert no.text.startswith("Your nomination as an expert for Lumen Cam was declined")
    assert "Too few answers." in no.text
    assert _expert_notes(mod) == []


def test_a_failed_review_notifies_nobody():
    app = _application()
    with pytest.raises(ValidationError):
        expert_program.expert_application_review(
            application=app, reviewer=moderator(), approve=False, note=""
        )
    assert _expert_notes(app.user) == []


def test_members_can_turn_off_expert_program_email_but_keep_the_inbox_entry(
    django_capture_on_commit_callbacks,
):
    app = _application()
    NotificationPreference.objects.create(user=app.user, kind="expert", mode="off")
    with django_capture_on_commit_callbacks(execute=True):
        expert_program.expert_application_review(
            application=app, reviewer=moderator(), approve=True, note=""
        )
    assert len(_expert_notes(app.user)) == 1
    assert mail.outbox == []


def test_the_preferences_page_offers_the_expert_program_kind(client):
    client.force_login(UserFactory())
    response = client.get(reverse("notifications:preferences"))
    assert "My expert applications and certification" in response.content.decode()


def test_a_member_certified_from_the_staff_page_is_told_once_with_the_end_date():
    from community import services

    area, member = ProductAreaFactory(name="Lumen Lock", slug="lock"), UserFactory()

    cert = services.certification_grant(
        user=member,
        area=area,
        granted_by=moderator(),
        expires_at=timezone.now() + dt.timedelta(days=90),
    )

    (note,) = _expert_notes(member)
    assert "certified you as an expert for Lumen Lock" in note.text
    assert f"{timezone.localtime(cert.expires_at):%d %b %Y}" in note.text
    assert note.url == f"{reverse('community:validation_inbox')}?area=lock"


def test_a_revoked_expert_is_told_the_moderators_reason_once():
    from community import services

    cert = CertificationFactory(area=ProductAreaFactory(name="Lumen Cam"))
    mod = moderator()

    services.certification_revoke(certification=cert, revoked_by=mod, reason="Copied answers.")
    services.certification_revoke(certification=cert, revoked_by=mod, reason="Again.")

    (note,) = _expert_notes(cert.user)
    assert "certification for Lumen Cam was revoked" in note.text
    assert "Copied answers." in note.text


def test_a_renewed_expert_is_told_the_new_end_date():
    cert = CertificationFactory(expires_at=timezone.now() + dt.timedelta(days=10))

    renewed = expert_program.certification_renew(certification=cert, renewed_by=moderator())

    (note,) = _expert_notes(cert.user)
    assert "renewed until" in note.text
    assert f"{timezone.localtime(renewed.expires_at):%d %b %Y}" in note.text


def _granted(days_ago, expires_in, **kwargs):
    now = timezone.now()
    return CertificationFactory(
        granted_at=now - dt.timedelta(days=days_ago),
        expires_at=now + dt.timedelta(days=expires_in),
        **kwargs,
    )


def test_experts_whose_certification_is_about_to_lapse_are_reminded_once_per_term(
    django_capture_on_commit_callbacks,
):
    due = _granted(340, 20, area=ProductAreaFactory(name="Lumen Mesh"))
    later = _granted(100, 200)
    lapsed = _granted(400, -1)
    revoked = _granted(340, 20, revoked_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        assert certification_expiry_remind_task.delay().get() == 1
    # A second run (or an overlapping one) finds the reminder already sent.
    assert expert_program.certification_expiry_remind() == 0

    (note,) = _expert_notes(due.user)
    assert "Your expert certification for Lumen Mesh ends on" in note.text
    assert "renew" in note.text
    assert all(_expert_notes(c.user) == [] for c in (later, lapsed, revoked))
    (message,) = mail.outbox
    assert message.to == [due.user.email]
    entry = AuditEntry.objects.get(action=expert_program.EXPIRY_REMINDED)
    assert (entry.target_id, entry.actor) == (str(due.pk), None)
    assert entry.data["expires_at"] == due.expires_at.isoformat()


def test_a_renewed_term_gets_its_own_reminder_when_it_nears_its_end():
    cert = _granted(340, 20)
    assert expert_program.certification_expiry_remind() == 1

    renewed = expert_program.certification_renew(
        certification=cert, renewed_by=moderator(), term_days=365
    )
    assert expert_program.certification_expiry_remind() == 0  # a year to go

    near_end = renewed.expires_at - dt.timedelta(days=10)
    assert expert_program.certification_expiry_remind(now=near_end) == 1
    texts = [n.text for n in reversed(_expert_notes(cert.user))]
    assert ["ends on" in t for t in texts] == [True, False, True]  # reminded, renewed, reminded
    assert "renewed until" in texts[1]


def test_a_term_shorter_than_the_reminder_window_is_not_reminded():
    # The approval already named the end of a 10-day term.
    _granted(0, 10)
    assert expert_program.certification_expiry_remind() == 0


def test_expiry_reminders_cost_the_same_queries_for_one_and_five_experts(
    django_assert_max_num_queries,
):
    area = ProductAreaFactory()
    _granted(340, 20, area=area)
    with django_assert_max_num_queries(8):
        assert expert_program.certification_expiry_remind() == 1
    for _ in range(5):
        _granted(340, 20, area=area)
    with django_assert_max_num_queries(8):
        assert expert_program.certification_expiry_remind() == 5


# --- pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["member", "csr", "expert"])
def test_the_program_page_and_its_actions_are_for_moderators_only(client, who):
    area = ProductAreaFactory()
    user = {"member": UserFactory, "csr": csr, "expert": lambda: expert(area)}[who]()
    app = _application(area=area)
    cert = CertificationFactory(area=area)
    client.force_login(user)

    assert client.get(reverse("community:expert_program")).status_code == 403
    review = reverse("community:expert_application_review", args=[app.pk])
    assert client.post(review, {"decision": "approve"}).status_code == 403
    renew = reverse("community:certification_renew", args=[cert.pk])
    assert client.post(renew).status_code == 403
    nominate = {"user": UserFactory().pk, "area": area.pk}
    assert client.post(reverse("community:expert_nominate"), nominate).status_code == 403
    assert ExpertApplication.objects.count() == 1


def test_a_moderator_sees_candidates_applications_and_expiring_certifications(client):
    area = ProductAreaFactory(name="Routers")
    candidate = UserFactory(display_name="Candidate Carla")
    _validated(candidate, area)
    app = _application(area=area, user=UserFactory(display_name="Applicant Ann"))
    CertificationFactory(
        area=area,
        user=UserFactory(display_name="Expiring Ed"),
        expires_at=timezone.now() + dt.timedelta(days=5),
    )
    CertificationFactory(area=area, user=UserFactory(display_name="Lasting Lea"))
    client.force_login(moderator())

    html = client.get(reverse("community:expert_program"), {"area": area.slug}).content.decode()

    assert "Candidate Carla" in html and "Applicant Ann" in html and "Expiring Ed" in html
    assert "Lasting Lea" not in html
    assert reverse("community:expert_application_review", args=[app.pk]) in html


def test_a_moderator_nominates_approves_and_renews_from_the_program_page(client):
    area = ProductAreaFactory()
    member = UserFactory()
    mod = moderator()
    client.force_login(mod)

    response = client.post(
        reverse("community:expert_nominate"),
        {"user": member.pk, "area": area.pk, "area_slug": area.slug},
    )
    assert response.status_code == 302
    app = ExpertApplication.objects.get(user=member, area=area)
    response = client.post(
        reverse("community:expert_application_review", args=[app.pk]),
        {"decision": "approve", "note": "", "term_days": "30"},
    )
    assert response.status_code == 302
    cert = Certification.objects.get(user=member, area=area)
    old_expiry = cert.expires_at
    client.post(reverse("community:certification_renew", args=[cert.pk]))
    cert.refresh_from_db()
    assert cert.expires_at == old_expiry + dt.timedelta(days=365)


def test_rejecting_without_a_note_on_the_page_keeps_the_form_with_an_error(client):
    app = _application()
    client.force_login(moderator())

    response = client.post(
        reverse("community:expert_application_review", args=[app.pk]),
        {"decision": "reject", "note": ""},
    )

    assert response.status_code == 400
    assert "Please write a short note" in response.content.decode()
    app.refresh_from_db()
    assert app.status == ExpertApplication.Status.PENDING


def test_a_member_applies_from_the_page_and_sees_errors_on_a_second_try(client):
    area = ProductAreaFactory(name="Routers")
    member = UserFactory()
    client.force_login(member)
    url = reverse("community:expert_apply")
    data = {"area": area.pk, "motivation": "I answer router questions every day."}

    assert client.get(url).status_code == 200
    assert client.post(url, data).status_code == 302
    response = client.post(url, data)

    assert response.status_code == 400
    assert "already open" in response.content.decode()
    assert ExpertApplication.objects.filter(user=member).count() == 1


def test_the_apply_page_is_closed_to_banned_members(client):
    client.force_login(UserFactory(banned_at=timezone.now()))
    assert client.get(reverse("community:expert_apply")).status_code == 403


# --- validation inbox ------------------------------------------------------------------------


def test_the_validation_inbox_lists_open_threads_of_the_experts_areas_only(client):
    area, other = ProductAreaFactory(), ProductAreaFactory()
    me = expert(area)
    unanswered = QuestionFactory(area=area, title="Unanswered in my area")
    unvalidated = AnswerFactory(question=QuestionFactory(area=area, title="Unvalidated mine"))
    AnswerFactory(
        question=QuestionFactory(area=area, title="Validated mine"), validated_at=timezone.now()
    )
    QuestionFactory(area=area, title="Hidden mine", status="hidden")
    QuestionFactory(area=other, title="Other area")
    client.force_login(me)

    response = client.get(reverse("community:validation_inbox"))

    html = response.content.decode()
    assert response.status_code == 200
    assert unanswered.title in html and unvalidated.question.title in html
    assert "Needs an answer" in html and "Needs validation" in html
    assert "Validated mine" not in html and "Other area" not in html and "Hidden mine" not in html


def test_the_validation_inbox_is_for_certified_experts(client):
    area = ProductAreaFactory()
    CertificationFactory(
        user=(lapsed := UserFactory()), area=area, expires_at=timezone.now() - dt.timedelta(days=1)
    )
    for user in (UserFactory(), csr(), lapsed):
        client.force_login(user)
        assert client.get(reverse("community:validation_inbox")).status_code == 403


@pytest.mark.parametrize("threads", [3, 15])
def test_the_validation_inbox_stays_within_a_fixed_query_count(
    client, django_assert_max_num_queries, threads
):
    area = ProductAreaFactory()
    me = expert(area)
    for i in range(threads):
        question = QuestionFactory(area=area)
        if i % 2:
            AnswerFactory(question=question)
    client.force_login(me)

    with django_assert_max_num_queries(9):
        response = client.get(reverse("community:validation_inbox"))

    assert response.status_code == 200
    assert response.content.decode().count('class="qitem"') == threads
