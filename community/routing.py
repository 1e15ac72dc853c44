"""Social routing: the expert directory, directed questions and the asker's ratings.

Reads (directory, inbox, reports) are computed in SQL — rating, median response time, queue
length and expected wait are annotations — so a page of cards costs a fixed number of queries
however many experts there are. Writes check ``community.rules`` and run in transactions.

Privacy: a question directed privately is visible only to its asker, the people it was
directed to and staff. ``question_visibility_q`` is the one definition; community selectors and
the search-document mapping use it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import (
    Avg,
    Case,
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, TruncMonth
from django.shortcuts import get_object_or_404
from django.utils import timezone

from . import events, reputation, rules
from .audit import audit_log
from .models import (
    Answer,
    Certification,
    DirectedQuestion,
    ExpertProfile,
    ExpertRating,
    GuestSpotlight,
    ProductArea,
    Question,
    Tag,
    User,
)

Status = DirectedQuestion.Status
RATING_MIN_COUNT = 3
PACE_WINDOW = dt.timedelta(days=30)
SORTS = ("rating", "response", "wait")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def queue_cap() -> int:
    return int(settings.PEERDESK["DIRECTED_QUEUE_CAP"])


# --- Visibility ------------------------------------------------------------------------------


def question_visibility_q(viewer, *, through_question: bool = False) -> Q:
    """A Q for ``Question`` rows (or, with ``through_question``, rows with a ``question`` foreign
    key) the viewer may see: everything except other people's private directed questions.

    The hidden private questions are excluded as ``NOT IN`` one subquery, not as a correlated
    ``NOT EXISTS``: SQLite builds the (small) set once instead of probing the directed
    questions' index for every row, which made the totals of list pages at 100k threads
    ~1.7x dearer than counting alone (25 -> 15 ms for every visible question)."""
    if rules.is_staff_member(viewer):
        return Q()
    private = DirectedQuestion.objects.filter(private=True)
    if getattr(viewer, "is_authenticated", False):
        # Private questions the viewer asked or was asked stay visible to them. Taken out of
        # the set rather than OR-ed in, the test needs no other column than the question's id.
        directed_to_viewer = DirectedQuestion.objects.filter(expert=viewer).values("question_id")
        private = private.exclude(question__author=viewer).exclude(question__in=directed_to_viewer)
    prefix = "question__" if through_question else ""
    # NOT IN is safe here: a directed row's question_id is never NULL.
    return ~Q(**{f"{prefix}pk__in": private.values("question_id")})


def private_question_ids_q() -> Q:
    """Q matching questions that are private to their asker, experts and staff (never indexed)."""
    return Q(Exists(DirectedQuestion.objects.filter(question=OuterRef("pk"), private=True)))


# --- Directory -------------------------------------------------------------------------------


def _count(qs: QuerySet, group: str) -> Subquery:
    return Subquery(
        qs.order_by().values(group).annotate(n=Count("pk")).values("n")[:1],
        output_field=IntegerField(),
    )


def _median_response_seconds(since: dt.datetime):
    """Median of ``response_seconds`` per expert over answers since ``since``, as one SQL
    expression: the mean of the lower median (smallest value with at least half the values at
    or below it) and the upper median (largest value with at least half at or above it). NULL
    without data. Plain correlated subqueries, so SQLite and PostgreSQL agree."""
    recent = DirectedQuestion.objects.filter(answered_at__gte=since, response_seconds__isnull=False)
    peers = recent.filter(expert=OuterRef("expert"))
    ranked = recent.filter(expert=OuterRef("pk")).annotate(
        n=_count(peers, "expert"),
        at_or_below=_count(
            peers.filter(response_seconds__lte=OuterRef("response_seconds")), "expert"
        ),
        at_or_above=_count(
            peers.filter(response_seconds__gte=OuterRef("response_seconds")), "expert"
        ),
    )
    lower = Subquery(
        ranked.filter(at_or_below__gte=F("n") / 2.0)
        .order_by("response_seconds")
        .values("response_seconds")[:1]
    )
    upper = Subquery(
        ranked.filter(at_or_above__gte=F("n") / 2.0)
        .order_by("-response_seconds")
        .values("response_seconds")[:1]
    )
    return (Cast(lower, FloatField()) + Cast(upper, FloatField())) / 2.0


def _available_now_q(now: dt.datetime) -> Q:
    """Set to available and, if weekly hours are given, inside today's hours (UTC)."""
    day, hour = WEEKDAYS[now.weekday()], now.hour
    in_hours = Q(
        **{f"expert_profile__weekly_hours__{day}__0__lte": hour},
        **{f"expert_profile__weekly_hours__{day}__1__gt": hour},
    )
    return Q(expert_profile__isnull=True) | (
        Q(expert_profile__availability=ExpertProfile.Availability.AVAILABLE)
        & (Q(expert_profile__weekly_hours={}) | in_hours)
    )


@dataclass(frozen=True)
class DirectoryFilters:
    area: str = ""
    skill: str = ""
    language: str = ""
    min_rating: float | None = None
    max_response_minutes: int | None = None
    available_now: bool = False
    sort: str = "rating"


def expert_directory(
    *, viewer, filters: DirectoryFilters | None = None, now: dt.datetime | None = None
) -> QuerySet[User]:
    """People in the directory with their card figures as annotations (``rating`` — mean shown
    from 3 ratings —, ``rating_count``, ``response_seconds`` — median over 30 days —,
    ``queue_length``, ``expected_wait_seconds``, ``available_now``, ``spotlight``), filtered
    and sorted in SQL, certifications and skills prefetched: four queries for any page."""
    filters = filters or DirectoryFilters()
    now = now or timezone.now()
    csr = Exists(
        User.groups.through.objects.filter(user_id=OuterRef("pk"), group__name=rules.CSRS_GROUP)
    )
    active_spotlights = GuestSpotlight.objects.filter(
        user=OuterRef("pk"), starts_at__lte=now, ends_at__gt=now
    )
    ratings = ExpertRating.objects.filter(expert=OuterRef("pk"))
    rating_count = Coalesce(_count(ratings, "expert"), 0)
    rating_mean = Subquery(
        ratings.order_by().values("expert").annotate(m=Avg("score")).values("m")[:1],
        output_field=FloatField(),
    )
    queue = Coalesce(
        _count(
            DirectedQuestion.objects.filter(expert=OuterRef("pk"), status=Status.OPEN), "expert"
        ),
        0,
    )
    # Who is listed, from the three small tables that say so: as per-member EXISTS tests the
    # same rule read every member (18 ms per directory page for 20k members at 100k threads).
    listed = (
        Q(pk__in=Certification.objects.filter(Certification.active_q(now=now)).values("user_id"))
        | Q(
            pk__in=ExpertProfile.objects.filter(
                directory_opt_in=True, user__groups__name=rules.CSRS_GROUP
            ).values("user_id")
        )
        | Q(
            pk__in=GuestSpotlight.objects.filter(starts_at__lte=now, ends_at__gt=now).values(
                "user_id"
            )
        )
    )
    qs = (
        User.objects.filter(is_active=True, is_placeholder=False)
        .filter(listed)
        .select_related("expert_profile")
        .annotate(
            rating_count=rating_count,
            rating=Case(
                When(rating_count__gte=RATING_MIN_COUNT, then=rating_mean),
                default=Value(None),
                output_field=FloatField(),
            ),
            response_seconds=_median_response_seconds(now - PACE_WINDOW),
            queue_length=queue,
            is_csr=csr,
            spotlight=Subquery(active_spotlights.order_by("ends_at").values("headline")[:1]),
            available_now=Case(
                When(_available_now_q(now), then=Value(True)),
                default=Value(False),
            ),
        )
        .annotate(expected_wait_seconds=F("response_seconds") * (F("queue_length") + 1))
        .prefetch_related(
            Prefetch(
                "certifications",
                queryset=Certification.objects.filter(Certification.active_q(now=now))
                .select_related("area")
                .order_by("area__position", "area__name"),
                to_attr="active_certifications",
            ),
            Prefetch("expert_profile__skills", queryset=Tag.objects.order_by("slug")),
        )
    )
    if filters.area:
        qs = qs.filter(
            Exists(
                Certification.objects.filter(
                    Certification.active_q(now=now), user=OuterRef("pk"), area__slug=filters.area
                )
            )
            | Exists(active_spotlights.filter(area__slug=filters.area))
        )
    if filters.skill:
        skill_owners = ExpertProfile.skills.through.objects.filter(
            expertprofile__user=OuterRef("pk"), tag__slug=filters.skill
        )
        area_experts = Certification.objects.filter(
            Certification.active_q(now=now), user=OuterRef("pk"), area__slug=filters.skill
        )
        qs = qs.filter(Q(Exists(skill_owners)) | Q(Exists(area_experts)))
    if filters.language:
        qs = qs.filter(expert_profile__languages__contains=f",{filters.language.lower()},")
    if filters.min_rating is not None:
        qs = qs.filter(rating__gte=filters.min_rating)
    if filters.max_response_minutes is not None:
        qs = qs.filter(response_seconds__lte=filters.max_response_minutes * 60)
    if filters.available_now:
        qs = qs.filter(available_now=True)
    order = {
        "rating": [F("rating").desc(nulls_last=True), "-rating_count"],
        "response": [F("response_seconds").asc(nulls_last=True)],
        "wait": [F("expected_wait_seconds").asc(nulls_last=True), "queue_length"],
    }[filters.sort if filters.sort in SORTS else "rating"]
    return qs.order_by(*order, "pk")


def card_name(person: User) -> str:
    """The name a directory card shows: a CSR's alias when they set one (agent privacy)."""
    profile = getattr(person, "expert_profile", None) if _has_profile(person) else None
    return (profile.staff_alias if profile else "") or person.public_name


def _has_profile(person: User) -> bool:
    try:
        person.expert_profile  # noqa: B018 — loaded by select_related; raises when missing
    except ExpertProfile.DoesNotExist:
        return False
    return True


def decorate_cards(people) -> list[User]:
    """Attach display fields to directory rows already fetched (no queries)."""
    cap = queue_cap()
    cards = list(people)
    for person in cards:
        profile = person.expert_profile if _has_profile(person) else None
        person.card_name = card_name(person)
        person.uses_alias = bool(profile and profile.staff_alias)
        person.card_skills = [t.slug for t in profile.skills.all()] if profile else []
        person.card_languages = profile.language_list if profile else []
        person.availability = profile.availability if profile else "available"
        person.availability_label = profile.get_availability_display() if profile else "Available"
        person.weekly_hours = profile.weekly_hours if profile else {}
        person.queue_full = person.queue_length >= cap
        person.window_hours = profile.response_window_hours if profile else 24
    return cards


def directory_person_get(*, username: str, now: dt.datetime | None = None) -> User:
    """One directory row (for the ask form's summary); 404 unless the person is listed."""
    return get_object_or_404(expert_directory(viewer=None, now=now), username=username)


# --- Directed questions: writes ----------------------------------------------------------------


def _window_for(expert: User) -> dt.timedelta:
    hours = (
        ExpertProfile.objects.filter(user=expert)
        .values_list("response_window_hours", flat=True)
        .first()
    )
    return dt.timedelta(hours=hours or 24)


def _check_routable(expert: User, *, field: str, exclude: User | None = None) -> None:
    if not rules.is_directory_member(expert):
        raise ValidationError({field: "Questions can only be directed to experts and staff."})
    if exclude is not None and expert.pk == exclude.pk:
        raise ValidationError({field: "You cannot direct a question to yourself."})
    # Lock the person's row so two simultaneous asks cannot both take the last queue slot.
    User.objects.select_for_update().filter(pk=expert.pk).first()
    open_count = DirectedQuestion.objects.filter(expert=expert, status=Status.OPEN).count()
    if open_count >= queue_cap():
        raise ValidationError(
            {
                field: f"{card_name(expert)}'s queue is full ({open_count} open questions). "
                "Choose someone else or ask the whole community."
            }
        )


def _open(
    *, question: Question, expert: User, private: bool, forwarded_from=None
) -> DirectedQuestion:
    now = timezone.now()
    directed = DirectedQuestion.objects.create(
        question=question,
        expert=expert,
        private=private,
        created_at=now,
        promised_by=now + _window_for(expert),
        forwarded_from=forwarded_from,
    )
    events.question_directed.send(sender=DirectedQuestion, directed_id=directed.pk)
    return directed


def directed_open(
    *, question: Question, expert: User, asker: User, private: bool = False
) -> DirectedQuestion:
    """Put ``question`` in ``expert``'s queue (called by ``services.question_create`` inside its
    transaction). Raises ValidationError on ``directed_to`` when the person cannot take it."""
    _check_routable(expert, field="directed_to", exclude=asker)
    return _open(question=question, expert=expert, private=private)


def _locked_open(directed: DirectedQuestion) -> DirectedQuestion:
    locked = (
        DirectedQuestion.objects.select_for_update()
        .select_related("question", "expert")
        .get(pk=directed.pk)
    )
    if locked.status != Status.OPEN:
        raise ValidationError({"status": "This question is no longer waiting in this queue."})
    return locked


def directed_answered(*, answer: Answer) -> DirectedQuestion | None:
    """Close the open directed row of ``answer``'s question if its author is the chosen person;
    records the response time. Called by ``services.answer_create`` inside its transaction."""
    directed = (
        DirectedQuestion.objects.select_for_update()
        .filter(question_id=answer.question_id, expert_id=answer.author_id, status=Status.OPEN)
        .first()
    )
    if directed is None:
        return None
    directed.status = Status.ANSWERED
    directed.answered_at = directed.closed_at = answer.created_at
    directed.response_seconds = max(
        0, int((answer.created_at - directed.created_at).total_seconds())
    )
    directed.save(update_fields=["status", "answered_at", "closed_at", "response_seconds"])
    return directed


@transaction.atomic
def directed_decline(*, directed: DirectedQuestion, user: User, note: str = "") -> DirectedQuestion:
    """Decline a directed question: it goes back to the open community. Audited."""
    rules.check_handle_directed(user, directed)
    directed = _locked_open(directed)
    directed.status, directed.closed_at, directed.note = Status.DECLINED, timezone.now(), note[:300]
    directed.save(update_fields=["status", "closed_at", "note"])
    audit_log(
        actor=user,
        action="community.directed.declined",
        target=directed,
        data={"question": directed.question_id, "note": note[:300]},
    )
    return directed


@transaction.atomic
def directed_forward(
    *, directed: DirectedQuestion, user: User, to: User | None = None, note: str = ""
) -> DirectedQuestion | None:
    """Forward to another expert (``to``) or, with ``to=None``, to the open community.
    Returns the new directed row (None for the community). Audited. Raises ValidationError on
    ``to`` when that person cannot take it (not an expert, queue full)."""
    rules.check_handle_directed(user, directed)
    directed = _locked_open(directed)
    if to is not None:
        if to.pk == directed.expert_id:
            raise ValidationError({"to": "Choose someone other than the current person."})
        _check_routable(to, field="to", exclude=directed.question.author)
    directed.status, directed.closed_at, directed.note = (
        Status.FORWARDED,
        timezone.now(),
        note[:300],
    )
    directed.save(update_fields=["status", "closed_at", "note"])
    forwarded = None
    if to is not None:
        forwarded = _open(
            question=directed.question, expert=to, private=directed.private, forwarded_from=directed
        )
    audit_log(
        actor=user,
        action="community.directed.forwarded",
        target=directed,
        data={
            "question": directed.question_id,
            "to": to.username if to else "community",
            "note": note[:300],
        },
    )
    return forwarded


@transaction.atomic
def directed_fallback_overdue(*, now: dt.datetime | None = None) -> int:
    """Move every open directed question past its promised time back to the open community.
    Idempotent: only open rows are touched. Returns how many fell back."""
    now = now or timezone.now()
    overdue = list(
        DirectedQuestion.objects.select_for_update().filter(
            status=Status.OPEN, promised_by__lte=now
        )
    )
    for directed in overdue:
        directed.status, directed.closed_at = Status.FALLEN_BACK, now
        directed.save(update_fields=["status", "closed_at"])
        audit_log(
            actor=None,
            action="community.directed.fallen_back",
            target=directed,
            data={
                "question": directed.question_id,
                "promised_by": directed.promised_by.isoformat(),
            },
        )
    return len(overdue)


# --- Ratings ---------------------------------------------------------------------------------


def rateable_directed(*, question: Question) -> DirectedQuestion | None:
    """The answered directed row of ``question`` the asker may rate (the latest), if any."""
    return (
        DirectedQuestion.objects.filter(question=question, status=Status.ANSWERED)
        .select_related("question", "expert")
        .order_by("-answered_at", "-pk")
        .first()
    )


@transaction.atomic
def rating_create(
    *, question: Question, rater: User, score: int, comment: str = ""
) -> ExpertRating:
    """Rate the help on one's own directed question, once: 1-5 and an optional comment.
    A 4 or 5 earns the expert helpful-rating reputation. Raises PermissionDenied (not the asker,
    self-rating), ValidationError (no answer yet, already rated, score out of range)."""
    directed = rateable_directed(question=question)
    if directed is None:
        if rules.is_active_member(rater) and question.author_id != rater.pk:
            raise PermissionDenied("Only the person who asked can rate the help.")
        raise ValidationError({"score": "You can rate once the person you asked has answered."})
    rules.check_rate_directed(rater, directed)
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise ValidationError({"score": "Choose a rating from 1 to 5."})
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise ValidationError({"comment": "Keep it under 2000 characters."})
    Question.objects.select_for_update().filter(pk=question.pk).first()
    if ExpertRating.objects.filter(question=question).exists():
        raise ValidationError({"score": "You have already rated the help on this question."})
    rating = ExpertRating.objects.create(
        question=question,
        directed=directed,
        rater=rater,
        expert_id=directed.expert_id,
        score=score,
        comment=comment,
    )
    reputation.rating_changed(rating=rating)
    return rating


# --- Directed questions: reads ----------------------------------------------------------------


def directed_inbox(*, expert: User, status: str = Status.OPEN) -> QuerySet[DirectedQuestion]:
    """An expert's directed questions in one state, oldest promise first."""
    return (
        DirectedQuestion.objects.filter(expert=expert, status=status)
        .select_related("question", "question__author", "question__area", "forwarded_from")
        .order_by("promised_by", "pk")
    )


def directed_history(*, expert: User) -> QuerySet[DirectedQuestion]:
    """An expert's closed directed questions, most recently closed first."""
    return (
        DirectedQuestion.objects.filter(expert=expert)
        .exclude(status=Status.OPEN)
        .select_related("question")
        .order_by("-closed_at", "-pk")
    )


def directed_get(*, viewer, pk: int) -> DirectedQuestion:
    """One directed row for its handler (404 when missing or not visible to the viewer)."""
    directed = get_object_or_404(
        DirectedQuestion.objects.select_related("question", "expert", "question__author"), pk=pk
    )
    if not rules.can_view_directed(viewer, directed):
        from django.http import Http404

        raise Http404("No such directed question.")
    return directed


def directed_for_question(*, viewer, question: Question) -> dict:
    """The routing facts a thread shows its viewer: the current or last directed row (only to
    those who may see it) and the asker's rating state."""
    if not getattr(viewer, "is_authenticated", False):
        return {}  # routing details are for asker, expert and staff: skip the query
    rows = list(
        DirectedQuestion.objects.filter(question=question)
        .select_related("expert", "expert__expert_profile")
        .order_by("-created_at", "-pk")[:1]
    )
    current = rows[0] if rows else None
    if current is None or not rules.can_view_directed(viewer, current):
        return {}
    current.question = question
    rating = ExpertRating.objects.filter(question=question).first()
    return {
        "directed": current,
        "directed_name": card_name(current.expert),
        "rating": rating,
        "can_rate": rating is None
        and current.status == Status.ANSWERED
        and rules.can_rate_directed(viewer, current),
    }


def expert_report(*, expert: User, now: dt.datetime | None = None) -> dict:
    """Staff report on one expert or agent: volume, median response time (30 days), rating
    trend by month and validated answers. A handful of aggregate queries."""
    now = now or timezone.now()
    directed = DirectedQuestion.objects.filter(expert=expert)
    by_status = dict(
        directed.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    median = (
        User.objects.filter(pk=expert.pk)
        .annotate(m=_median_response_seconds(now - PACE_WINDOW))
        .values_list("m", flat=True)
        .first()
    )
    trend = list(
        ExpertRating.objects.filter(expert=expert)
        .annotate(month=TruncMonth("created_at"))
        .order_by("month")
        .values("month")
        .annotate(mean=Avg("score"), count=Count("pk"))
    )
    return {
        "volume_total": sum(by_status.values()),
        "volume_30d": directed.filter(created_at__gte=now - PACE_WINDOW).count(),
        "by_status": {label: by_status.get(value, 0) for value, label in Status.choices},
        "median_response_seconds": median,
        "rating_trend": trend,
        "validated_answers": Answer.objects.filter(
            author=expert, validated_at__isnull=False
        ).count(),
    }


# --- Directory profile and spotlights ---------------------------------------------------------


def _normalize_languages(raw: str) -> str:
    codes = []
    for code in (raw or "").replace(",", " ").lower().split():
        if code.isalpha() and len(code) <= 8 and code not in codes:
            codes.append(code)
    return f",{','.join(codes)}," if codes else ""


def _clean_weekly_hours(value) -> dict:
    if not value:
        return {}
    if not isinstance(value, dict):
        raise ValidationError({"weekly_hours": 'Give hours as {"mon": [9, 17], …}.'})
    clean = {}
    for day, span in value.items():
        ok = (
            day in WEEKDAYS
            and isinstance(span, list | tuple)
            and len(span) == 2
            and all(isinstance(h, int) and 0 <= h <= 24 for h in span)
            and span[0] < span[1]
        )
        if not ok:
            raise ValidationError({"weekly_hours": f"Invalid hours for {day!r}: use [start, end]."})
        clean[day] = [span[0], span[1]]
    return clean


@transaction.atomic
def expert_profile_update(
    *,
    user: User,
    skills: str = "",
    languages: str = "",
    availability: str = ExpertProfile.Availability.AVAILABLE,
    weekly_hours: dict | None = None,
    response_window_hours: int = 24,
    staff_alias: str = "",
    directory_opt_in: bool = False,
) -> ExpertProfile:
    """Update one's directory card. Only experts and staff have one; the alias and the opt-in
    are for staff. Raises PermissionDenied, ValidationError."""
    from .services import normalize_tag_names, tags_get_or_create

    if not rules.is_directory_member(user):
        raise PermissionDenied("Only certified experts and staff have a directory card.")
    if availability not in ExpertProfile.Availability.values:
        raise ValidationError({"availability": "Choose available, away or off."})
    if not 1 <= int(response_window_hours) <= 24 * 14:
        raise ValidationError({"response_window_hours": "Promise between 1 hour and 14 days."})
    is_staff = rules.is_staff_member(user)
    staff_alias = (staff_alias or "").strip()
    if staff_alias and not is_staff:
        raise ValidationError({"staff_alias": "Only staff may answer under an alias."})
    if len(staff_alias) > 80:
        raise ValidationError({"staff_alias": "Keep it under 80 characters."})
    profile, _ = ExpertProfile.objects.select_for_update().get_or_create(user=user)
    profile.languages = _normalize_languages(languages)
    profile.availability = availability
    profile.weekly_hours = _clean_weekly_hours(weekly_hours)
    profile.response_window_hours = int(response_window_hours)
    profile.staff_alias = staff_alias
    profile.directory_opt_in = bool(directory_opt_in) and is_staff
    profile.updated_at = timezone.now()
    profile.save()
    profile.skills.set(tags_get_or_create(normalize_tag_names(skills)))
    return profile


@transaction.atomic
def spotlight_create(
    *,
    user: User,
    actor: User,
    headline: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    area: ProductArea | None = None,
) -> GuestSpotlight:
    """Feature a guest expert in the directory for a limited time. Moderators only; audited."""
    rules.check_review_expert_applications(actor)
    headline = (headline or "").strip()
    if not 3 <= len(headline) <= 160:
        raise ValidationError({"headline": "Write a headline of 3 to 160 characters."})
    if ends_at <= starts_at or ends_at - starts_at > dt.timedelta(days=31):
        raise ValidationError({"ends_at": "A spotlight ends after it starts and within 31 days."})
    spotlight = GuestSpotlight.objects.create(
        user=user,
        area=area,
        headline=headline,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=actor,
    )
    audit_log(
        actor=actor,
        action="community.spotlight.created",
        target=spotlight,
        data={"user": user.pk, "ends_at": ends_at.isoformat()},
    )
    return spotlight
