"""Staff pages: moderator-only access, certifications granted and revoked through the pages (and
audited), and the audit log with its filters."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from community.audit import audit_log
from community.models import AuditEntry, Certification
from tests.factories import (
    CertificationFactory,
    ProductAreaFactory,
    QuestionFactory,
    UserFactory,
    csr,
    moderator,
)

pytestmark = pytest.mark.django_db

STAFF_URLS = ["moderation:home", "moderation:audit_log", "moderation:certifications"]


@pytest.fixture
def area():
    return ProductAreaFactory(name="Lumen Mesh Wi-Fi", slug="mesh")


@pytest.fixture
def mod(client):
    user = moderator(username="mona")
    client.force_login(user)
    return user


def _in_a_month() -> str:
    return (timezone.localdate() + dt.timedelta(days=30)).isoformat()


@pytest.mark.parametrize("name", STAFF_URLS)
def test_anonymous_visitors_are_sent_to_log_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("name", STAFF_URLS)
@pytest.mark.parametrize("make_user", [UserFactory, csr], ids=["member", "csr"])
def test_members_and_csrs_are_refused(client, name, make_user):
    client.force_login(make_user())
    assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", STAFF_URLS)
def test_moderators_can_open_the_staff_pages(client, mod, name):
    assert client.get(reverse(name)).status_code == 200


def test_a_csr_cannot_grant_or_revoke_certifications(client, area):
    cert = CertificationFactory(area=area)
    member = UserFactory()
    client.force_login(csr())
    grant = client.post(
        reverse("moderation:certifications"),
        {"user": member.username, "area": area.pk, "expires_on": _in_a_month()},
    )
    revoke = client.post(
        reverse("moderation:certification_revoke", kwargs={"pk": cert.pk}), {"reason": "Nope"}
    )
    assert grant.status_code == revoke.status_code == 403
    assert not Certification.objects.filter(user=member).exists()
    cert.refresh_from_db()
    assert cert.revoked_at is None


def test_granting_a_certification_by_username_or_email_is_audited(client, mod, area):
    by_name, by_email = UserFactory(username="erin"), UserFactory(email="sam@example.com")
    for identifier, user in [("ERIN", by_name), ("sam@example.com", by_email)]:
        response = client.post(
            reverse("moderation:certifications"),
            {"user": identifier, "area": area.pk, "expires_on": _in_a_month()},
        )
        assert response.status_code == 302
        cert = Certification.objects.get(user=user, area=area)
        assert cert.is_active and cert.granted_by == mod
        # Valid through the whole chosen day.
        assert timezone.localtime(cert.expires_at).date().isoformat() == _in_a_month()
        entry = AuditEntry.objects.get(
            action="community.certification.granted", target_id=str(cert.pk)
        )
        assert entry.actor == mod
    page = client.get(reverse("moderation:certifications")).content.decode()
    assert "Erin" in page and "Active" in page


def test_grant_errors_are_shown_on_the_form(client, mod, area):
    member = UserFactory()
    unknown = client.post(
        reverse("moderation:certifications"),
        {"user": "nobody-here", "area": area.pk, "expires_on": _in_a_month()},
    )
    assert unknown.status_code == 400
    assert "No member has that username or email." in unknown.content.decode()

    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    past = client.post(
        reverse("moderation:certifications"),
        {"user": member.username, "area": area.pk, "expires_on": yesterday},
    )
    assert past.status_code == 400
    html = past.content.decode()
    assert "The certification must expire in the future." in html
    assert f'value="{member.username}"' in html  # the moderator's input is kept
    assert not Certification.objects.exists()
    assert not AuditEntry.objects.filter(action="community.certification.granted").exists()


def test_revoking_a_certification_through_the_page_is_audited(client, mod, area):
    cert = CertificationFactory(area=area)
    response = client.post(
        reverse("moderation:certification_revoke", kwargs={"pk": cert.pk}),
        {"reason": "Left the partner programme"},
    )
    assert response.status_code == 302
    cert.refresh_from_db()
    assert cert.revoked_at is not None and cert.revoked_by == mod
    assert cert.revoked_reason == "Left the partner programme"
    entry = AuditEntry.objects.get(action="community.certification.revoked")
    assert entry.actor == mod and entry.target_id == str(cert.pk)

    revoked_page = client.get(reverse("moderation:certifications"), {"state": "revoked"})
    assert "Left the partner programme" in revoked_page.content.decode()
    active_page = client.get(reverse("moderation:certifications"), {"state": "active"})
    assert f'id="cert-{cert.pk}"' not in active_page.content.decode()


def test_revoking_without_a_reason_is_a_form_error(client, mod, area):
    cert = CertificationFactory(area=area)
    response = client.post(
        reverse("moderation:certification_revoke", kwargs={"pk": cert.pk}), {"reason": ""}
    )
    assert response.status_code == 400
    assert "Give a reason for revoking the certification." in response.content.decode()
    cert.refresh_from_db()
    assert cert.revoked_at is None


def test_expired_certifications_are_listed_as_expired(client, mod, area):
    expired = CertificationFactory(area=area, expires_at=timezone.now() - dt.timedelta(days=1))
    active = CertificationFactory(area=area)
    html = client.get(reverse("moderation:certifications"), {"state": "expired"}).content.decode()
    assert f'id="cert-{expired.pk}"' in html
    assert f'id="cert-{active.pk}"' not in html


def test_the_audit_log_filters_by_action_prefix_and_actor(client, mod, area):
    other_mod = moderator(username="otto")
    question = QuestionFactory(area=area)
    audit_log(actor=other_mod, action="community.question.edited", target=question)
    audit_log(actor=mod, action="knowledge.article.edited", target=question, data={"n": 1})
    url = reverse("moderation:audit_log")

    everything = client.get(url).content.decode()
    assert "community.question.edited" in everything and "knowledge.article.edited" in everything
    assert question.get_absolute_url() in everything  # the target links to the thread

    by_prefix = client.get(url, {"action": "knowledge."}).content.decode()
    assert "knowledge.article.edited" in by_prefix
    assert "community.question.edited" not in by_prefix

    by_actor = client.get(url, {"actor": "OTTO"}).content.decode()
    assert "community.question.edited" in by_actor
    assert "knowledge.article.edited" not in by_actor


def test_audit_data_is_shown_escaped(client, mod, area):
    question = QuestionFactory(area=area)
    audit_log(
        actor=mod,
        action="community.question.edited",
        target=question,
        data={"before": "<script>alert(1)</script>"},
    )
    html = client.get(reverse("moderation:audit_log")).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html


def test_the_audit_log_query_count_stays_flat(client, mod, area):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("moderation:audit_log")).status_code == 200
        return len(ctx.captured_queries)

    def add_entries(n: int) -> None:
        for _ in range(n):
            actor = moderator()
            audit_log(actor=actor, action="community.question.edited", target=QuestionFactory())

    add_entries(2)
    few = count()
    add_entries(10)
    assert count() == few
    assert few <= 8


def test_the_certifications_page_query_count_stays_flat(client, mod, area):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("moderation:certifications")).status_code == 200
        return len(ctx.captured_queries)

    CertificationFactory.create_batch(2, area=area)
    few = count()
    CertificationFactory.create_batch(10, area=area)
    assert count() == few
    assert few <= 9
