"""The expert program: candidates suggested from data, self-applications and staff nominations,
review into a certification with a term, renewal, and the per-area validation inbox of experts.

Services (writes) and selectors (reads) live together because the sub-domain is small; every
write checks ``community.rules`` and appends an audit entry in its transaction. Revocation is
``community.services.certification_revoke``.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import (
    Avg,
    Case,
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from . import notifications, rules, selectors, services
from .audit import audit_log, audit_log_many
from .models import (
    Answer,
    AuditEntry,
    Certification,
    ExpertApplication,
    ExpertRating,
    PostStatus,
    ProductArea,
    Question,
    Sanction,
    User,
)

# Candidate score: a validated answer is the strongest signal (an expert vouched for it), an
# accepted one means the asker was helped; the mean rating (1-5, 0 without ratings) breaks ties
# between members with similar counts.
VALIDATED_WEIGHT = 3
ACCEPTED_WEIGHT = 2
MAX_TERM_DAYS = 3 * 365
EXPIRING_WITHIN_DAYS = 30
EXPIRY_REMINDED = "community.certification.expiry_reminded"
STRIKE_KINDS = (Sanction.Kind.WARN, Sanction.Kind.SUSPEND, Sanction.Kind.BAN)


def _count(qs: QuerySet, group: str) -> Coalesce:
    return Coalesce(
        Subquery(
            qs.order_by().values(group).annotate(n=Count("pk")).values("n")[:1],
            output_field=IntegerField(),
        ),
        0,
    )


# --- Selectors -------------------------------------------------------------------------------


def expert_candidates_for_area(*, area: ProductArea, limit: int = 20) -> list[User]:
    """Members worth certifying for ``area``, best first, in two queries.

    Each user carries ``validated_count`` and ``accepted_count`` (their visible answers in the
    area), ``rating_mean`` / ``rating_count`` (ratings received on the area's questions) and
    ``candidate_score`` = 3 x validated + 2 x accepted + mean rating. Excluded: inactive and
    placeholder accounts, members with any moderation strike (a warning, suspension or ban in
    their history, or a hidden post), members already actively certified for the area or with
    an application pending for it, and members with neither a validated nor an accepted answer.

    The area's validated or accepted visible answers are grouped by author (only people who
    gave one can qualify), then the best are loaded: 146 ms for a page with 20k members at 100k
    threads, where scoring every member with per-member subqueries took 1.4 s.
    """
    now = timezone.now()
    # Every subquery below selects a non-null column, so NOT IN means what it says.
    ineligible = (
        Q(author__in=Sanction.objects.filter(kind__in=STRIKE_KINDS).values("user_id"))
        | Q(author__in=Question.objects.filter(status=PostStatus.HIDDEN).values("author_id"))
        | Q(author__in=Answer.objects.filter(status=PostStatus.HIDDEN).values("author_id"))
        | Q(
            author__in=Certification.objects.filter(
                Certification.active_q(now=now), area=area
            ).values("user_id")
        )
        | Q(
            author__in=ExpertApplication.objects.filter(
                area=area, status=ExpertApplication.Status.PENDING
            ).values("user_id")
        )
        | Q(author__suspended_until__gt=now)
    )
    ratings = ExpertRating.objects.filter(expert=OuterRef("author_id"), question__area=area)
    rating_mean = Subquery(
        ratings.order_by().values("expert").annotate(m=Avg("score")).values("m")[:1],
        output_field=FloatField(),
    )
    rows = list(
        # Threads of the area first, so their answers come from the (question, status) index:
        # given question__area, SQLite walked every visible answer of the site.
        Answer.objects.filter(
            question__in=Question.objects.filter(area=area).values("pk"),
            status=PostStatus.VISIBLE,
            author__is_active=True,
            author__is_placeholder=False,
            author__banned_at__isnull=True,
        )
        .filter(Q(validated_at__isnull=False) | Q(accepted_for__isnull=False))
        .exclude(ineligible)
        .values("author_id")
        .annotate(
            validated_count=Count("pk", filter=Q(validated_at__isnull=False)),
            accepted_count=Count("pk", filter=Q(accepted_for__isnull=False)),
        )
        .filter(Q(validated_count__gt=0) | Q(accepted_count__gt=0))
        .annotate(rating_count=_count(ratings, "expert"), rating_mean=rating_mean)
        .annotate(
            candidate_score=Case(
                When(rating_mean__isnull=True, then=Value(0.0)),
                default=F("rating_mean"),
                output_field=FloatField(),
            )
            + F("validated_count") * VALIDATED_WEIGHT
            + F("accepted_count") * ACCEPTED_WEIGHT
        )
        .order_by("-candidate_score", "-validated_count", "-accepted_count", "author_id")[:limit]
    )
    people = User.objects.in_bulk([row["author_id"] for row in rows])
    candidates = []
    for row in rows:
        person = people.get(row.pop("author_id"))  # None: gone between the two queries
        if person is None:
            continue
        for name, value in row.items():
            setattr(person, name, value)
        candidates.append(person)
    return candidates


def expert_application_list_open() -> QuerySet[ExpertApplication]:
    """Pending applications and nominations, oldest first (first come, first reviewed)."""
    return (
        ExpertApplication.objects.filter(status=ExpertApplication.Status.PENDING)
        .select_related("user", "area", "nominated_by")
        .order_by("created_at", "id")
    )


def expert_application_list_for_user(*, user) -> QuerySet[ExpertApplication]:
    """A member's own applications and nominations, newest first."""
    return ExpertApplication.objects.filter(user=user).select_related("area", "reviewed_by")


def certification_list_expiring(
    *, within_days: int = EXPIRING_WITHIN_DAYS, now: dt.datetime | None = None
) -> QuerySet[Certification]:
    """Active certifications that expire within ``within_days``, soonest first."""
    now = now or timezone.now()
    return (
        Certification.objects.filter(
            Certification.active_q(now=now), expires_at__lte=now + dt.timedelta(days=within_days)
        )
        .select_related("user", "area")
        .order_by("expires_at", "id")
    )


def validation_inbox(*, expert: User, area: ProductArea | None = None) -> QuerySet[Question]:
    """Visible, unmerged threads in the expert's certified areas (or in ``area`` if they hold it)
    that have no validated answer yet: unanswered ones and answered-but-unvalidated ones.

    Each question carries ``awaiting``: "answer" (nobody answered) or "validation". Rows are
    ready for ``_question_item.html`` (area, author and tags loaded up front).
    """
    area_ids = rules.certified_area_ids(expert)
    if area is not None:
        area_ids = area_ids & {area.pk}
    validated = Answer.objects.filter(
        question=OuterRef("pk"), status=PostStatus.VISIBLE, validated_at__isnull=False
    )
    return (
        selectors.question_list(viewer=expert)
        .filter(status=PostStatus.VISIBLE, merged_into__isnull=True, area_id__in=area_ids)
        .exclude(Exists(validated))
        .annotate(
            awaiting=Case(
                When(answer_count=0, then=Value("answer")),
                default=Value("validation"),
            )
        )
        .order_by("-last_activity_at", "-id")
    )


# --- Services --------------------------------------------------------------------------------


def _clean_note(field: str, value: str, *, required: bool, max_length: int) -> str:
    value = (value or "").strip()
    if required and len(value) < 3:
        raise ValidationError({field: "Please write a short note (at least 3 characters)."})
    if len(value) > max_length:
        raise ValidationError({field: f"Keep it under {max_length} characters."})
    return value


def _term(term_days: int) -> dt.timedelta:
    if not 1 <= int(term_days) <= MAX_TERM_DAYS:
        raise ValidationError({"term_days": f"A term lasts 1 to {MAX_TERM_DAYS} days."})
    return dt.timedelta(days=int(term_days))


def _is_certified_for(user: User, area: ProductArea) -> bool:
    return Certification.objects.filter(Certification.active_q(), user=user, area=area).exists()


@transaction.atomic
def expert_application_create(
    *, user: User, area: ProductArea, motivation: str, nominated_by: User | None = None
) -> ExpertApplication:
    """Open an application for ``user`` to become an expert for ``area``: a self-application
    (``nominated_by`` None; any active member, motivation required) or a moderator's nomination.

    Raises PermissionDenied (sanctioned/inactive applicant, nominator not a moderator) and
    ValidationError (already certified, an application already open for the area). Audited as
    ``community.expert_application.created``.
    """
    if nominated_by is None:
        rules.check_apply_as_expert(user)
        motivation = _clean_note("motivation", motivation, required=True, max_length=2000)
        kind = ExpertApplication.Kind.SELF
    else:
        rules.check_review_expert_applications(nominated_by)
        motivation = _clean_note("motivation", motivation, required=False, max_length=2000)
        kind = ExpertApplication.Kind.NOMINATION
        if not rules.is_active_member(user):
            raise ValidationError(
                {"user": "Only active members in good standing can be nominated."}
            )
    if _is_certified_for(user, area):
        raise ValidationError({"area": f"{user.public_name} is already certified for {area.name}."})
    if ExpertApplication.objects.filter(
        user=user, area=area, status=ExpertApplication.Status.PENDING
    ).exists():
        raise ValidationError({"area": f"An application for {area.name} is already open."})
    try:
        # A savepoint so the constraint catching a concurrent duplicate leaves the outer
        # transaction usable for the readable error.
        with transaction.atomic():
            application = ExpertApplication.objects.create(
                user=user, area=area, kind=kind, nominated_by=nominated_by, statement=motivation
            )
    except IntegrityError:
        raise ValidationError(
            {"area": f"An application for {area.name} is already open."}
        ) from None
    audit_log(
        actor=nominated_by or user,
        action="community.expert_application.created",
        target=application,
        data={"user": user.pk, "area": area.slug, "kind": kind},
    )
    return application


@transaction.atomic
def expert_application_review(
    *,
    application: ExpertApplication,
    reviewer: User,
    approve: bool,
    note: str = "",
    term_days: int = 365,
) -> ExpertApplication:
    """Approve (certify for ``term_days`` via ``services.certification_grant``) or reject (a note
    is required) a pending application. Moderators only; nobody reviews their own.

    Raises PermissionDenied and ValidationError (already reviewed, missing note, bad term,
    already certified). Audited as ``community.expert_application.approved`` / ``.rejected``
    (plus ``community.certification.granted`` on approval). The member is notified of the
    outcome (kind ``expert``; a decline carries the note).
    """
    rules.check_review_expert_applications(reviewer)
    app = ExpertApplication.objects.select_for_update().select_related("user", "area")
    app = app.get(pk=application.pk)
    if app.user_id == reviewer.pk:
        raise PermissionDenied("You cannot review your own application.")
    if app.status != ExpertApplication.Status.PENDING:
        raise ValidationError({"status": "This application has already been reviewed."})
    note = _clean_note("note", note, required=not approve, max_length=300)
    now = timezone.now()
    data = {"user": app.user_id, "area": app.area.slug, "note": note}
    if approve:
        term = _term(term_days)
        if _is_certified_for(app.user, app.area):
            raise ValidationError({"status": "This member is already certified for the area."})
        app.certification = services.certification_grant(
            user=app.user,
            area=app.area,
            granted_by=reviewer,
            expires_at=now + term,
            notify_expert=False,  # the review's own message says it, with the application
        )
        app.status = ExpertApplication.Status.APPROVED
        data.update(certification=app.certification.pk, term_days=int(term_days))
    else:
        app.status = ExpertApplication.Status.REJECTED
    app.reviewed_by, app.reviewed_at, app.review_note = reviewer, now, note
    app.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note", "certification"])
    audit_log(
        actor=reviewer,
        action=f"community.expert_application.{app.status}",
        target=app,
        data=data,
    )
    notifications.notify_expert_application_reviewed(application=app)
    return app


@transaction.atomic
def certification_renew(
    *, certification: Certification, renewed_by: User, term_days: int = 365
) -> Certification:
    """Extend a certification by ``term_days`` from its expiry, or from now if it has lapsed.
    Moderators only; revoked certifications are not renewed (grant a new one).

    Raises PermissionDenied and ValidationError. Audited as ``community.certification.renewed``;
    the expert is notified of the new end date.
    """
    rules.check_review_expert_applications(renewed_by)
    term = _term(term_days)
    cert = Certification.objects.select_for_update().select_related("area").get(pk=certification.pk)
    if cert.revoked_at is not None:
        raise ValidationError(
            {"certification": "A revoked certification cannot be renewed; certify the member anew."}
        )
    previous = cert.expires_at
    cert.expires_at = max(timezone.now(), previous) + term
    cert.save(update_fields=["expires_at"])
    audit_log(
        actor=renewed_by,
        action="community.certification.renewed",
        target=cert,
        data={
            "user": cert.user_id,
            "area": cert.area.slug,
            "previous_expires_at": previous.isoformat(),
            "expires_at": cert.expires_at.isoformat(),
        },
    )
    notifications.notify_certification_renewed(certification=cert)
    return cert


@transaction.atomic
def certification_expiry_remind(
    *, within_days: int = EXPIRING_WITHIN_DAYS, now: dt.datetime | None = None
) -> int:
    """Tell experts whose certification ends within ``within_days`` that it is about to lapse,
    once per term. Returns how many were reminded.

    Each reminder is audited as ``community.certification.expiry_reminded`` with the expiry it
    was about: that entry makes re-runs no-ops, and a renewal (a new expiry) earns the renewed
    term its own reminder. Terms no longer than the window are skipped: the approval already
    named their end. Rows are locked so overlapping runs remind once.
    """
    now = now or timezone.now()
    window = dt.timedelta(days=within_days)
    due = [
        cert
        for cert in certification_list_expiring(within_days=within_days, now=now).select_for_update(
            of=("self",)
        )
        if cert.expires_at - cert.granted_at > window
    ]
    if not due:
        return 0
    reminded = {
        (target_id, (data or {}).get("expires_at"))
        for target_id, data in AuditEntry.objects.filter(
            action=EXPIRY_REMINDED,
            target_type=Certification._meta.label_lower,
            target_id__in=[str(cert.pk) for cert in due],
        ).values_list("target_id", "data")
    }
    due = [c for c in due if (str(c.pk), c.expires_at.isoformat()) not in reminded]
    if not due:
        return 0
    notifications.notify_certifications_expiring(certifications=due)
    audit_log_many(
        actor=None,
        action=EXPIRY_REMINDED,
        entries=[
            (
                cert,
                {
                    "user": cert.user_id,
                    "area": cert.area.slug,
                    "expires_at": cert.expires_at.isoformat(),
                },
            )
            for cert in due
        ],
    )
    return len(due)
