"""Community reads for pages and API: visibility-filtered, with related rows loaded up front."""

from __future__ import annotations

from django.db.models import F, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from . import routing, rules
from .models import Answer, Comment, PostStatus, ProductArea, Question, Tag, User


def visible_posts_q(viewer, prefix: str = "") -> Q:
    """The posts (questions or answers; ``prefix`` reaches them through a relation) ``viewer``
    may see: visible ones and their own pending or hidden ones; staff see everything."""
    if rules.can_see_hidden_posts(viewer):
        return Q()
    q = Q(**{f"{prefix}status": PostStatus.VISIBLE})
    if getattr(viewer, "is_authenticated", False):
        q |= Q(**{f"{prefix}author": viewer})
    return q


def visible_questions_q(viewer) -> Q:
    """``visible_posts_q`` for question lists, in a form the ``(status, -last_activity_at)``
    index can serve. ``status = visible OR author = viewer`` made SQLite collect and sort every
    visible question for each signed-in list page (22 ms at 10k threads, growing with the table);
    the viewer's own pending or hidden questions, usually none, are fetched by id instead."""
    if rules.can_see_hidden_posts(viewer) or not getattr(viewer, "is_authenticated", False):
        return visible_posts_q(viewer)
    own_unlisted = list(
        Question.objects.filter(author=viewer)
        .exclude(status=PostStatus.VISIBLE)
        .values_list("pk", flat=True)
    )
    q = Q(status=PostStatus.VISIBLE)
    return q | Q(pk__in=own_unlisted) if own_unlisted else q


def area_list() -> QuerySet[ProductArea]:
    return ProductArea.objects.all()


def question_list(
    *,
    viewer,
    area: ProductArea | None = None,
    tag: Tag | None = None,
    unanswered: bool = False,
    author: User | None = None,
    own_unlisted_by_id: bool = False,
) -> QuerySet[Question]:
    """Questions the viewer may see, newest activity first, ready for list rendering.

    ``own_unlisted_by_id`` spends one small query on the viewer's own pending or hidden
    questions so that a signed-in member's list is served by the activity index (see
    ``visible_questions_q``); the community list pages ask for it."""
    visible = visible_questions_q(viewer) if own_unlisted_by_id else visible_posts_q(viewer)
    qs = (
        Question.objects.filter(visible)
        .filter(routing.question_visibility_q(viewer))
        .select_related("area", "author")
        .prefetch_related("tags")
    )
    if area is not None:
        qs = qs.filter(area=area)
    if tag is not None:
        # An id subquery, not a join: SQLite (no statistics) drove the join from the status
        # index over every visible question, 45 ms for a tag's total at 100k threads; as an
        # id set, the total reads the tag's rows alone (2.6 ms).
        tagged = Question.tags.through.objects.filter(tag=tag).values("question_id")
        qs = qs.filter(pk__in=tagged)
    if author is not None:
        qs = qs.filter(author=author)
    if unanswered:
        qs = qs.filter(answer_count=0).order_by("-created_at", "-id")
    return qs


def _visible_questions(viewer) -> QuerySet[Question]:
    return Question.objects.filter(visible_posts_q(viewer)).filter(
        routing.question_visibility_q(viewer)
    )


# What a page shows of a post's author (signature, comment lines): name, profile link, avatar.
SHOWN_AUTHOR_FIELDS = frozenset({"id", "username", "display_name", "avatar"})


def author_fields_not_shown(relation: str) -> list[str]:
    """``relation``'s user columns a page does not show, for ``defer()``: a thread's authors and
    commenters would otherwise each bring password hash, e-mail, bio and four dates to convert."""
    return [
        f"{relation}__{field.name}"
        for field in User._meta.concrete_fields
        if field.name not in SHOWN_AUTHOR_FIELDS
    ]


def question_get(*, viewer, pk: int) -> Question:
    """One question with its tags and comments (404 if missing or not visible)."""
    qs = (
        _visible_questions(viewer)
        .select_related("area", "author", "accepted_answer")
        .prefetch_related(
            "tags", Prefetch("comments", queryset=Comment.objects.select_related("author"))
        )
    )
    return get_object_or_404(qs, pk=pk)


def question_get_for_thread(*, viewer, pk: int) -> Question:
    """``question_get`` for the thread page: only the columns it shows (no Markdown source, no
    accepted answer row, the author's shown columns) and no comments, which
    ``comments_for_thread`` loads with the answers' in the same query."""
    qs = (
        _visible_questions(viewer)
        .select_related("area", "author")
        .defer("body", *author_fields_not_shown("author"))
        .prefetch_related("tags")
    )
    return get_object_or_404(qs, pk=pk)


def question_merged_into_id(*, pk: int) -> int | None:
    """Where a merged duplicate now lives (its old URL redirects there), or None."""
    return Question.objects.filter(pk=pk).values_list("merged_into_id", flat=True).first()


def answer_list_for_question(*, viewer, question: Question) -> QuerySet[Answer]:
    """Answers of a thread ordered validated first, then the accepted one, then by score."""
    accepted_id = question.accepted_answer_id or 0
    from django.db.models import Case, IntegerField, Value, When

    return (
        Answer.objects.filter(visible_posts_q(viewer), question=question)
        .select_related("author")
        .prefetch_related(Prefetch("comments", queryset=Comment.objects.select_related("author")))
        .annotate(
            is_accepted=Case(
                When(pk=accepted_id, then=Value(1)), default=Value(0), output_field=IntegerField()
            )
        )
        .order_by(
            F("validated_at").desc(nulls_last=True), "-is_accepted", "-score", "created_at", "id"
        )
    )


def answer_list_for_thread(*, viewer, question: Question) -> QuerySet[Answer]:
    """``answer_list_for_question`` for the thread page: no Markdown sources, the authors' shown
    columns only, and no comments (``comments_for_thread`` loads them with the question's)."""
    return (
        answer_list_for_question(viewer=viewer, question=question)
        .prefetch_related(None)
        .defer("body", *author_fields_not_shown("author"))
    )


def comments_for_thread(
    *, question: Question, answers: list[Answer]
) -> tuple[list[Comment], dict[int, list[Comment]]]:
    """The question's comments and those of ``answers`` keyed by answer id, oldest first, with
    their authors' shown columns: one query for the whole page."""
    rows = (
        Comment.objects.filter(Q(question=question) | Q(answer__in=[a.pk for a in answers]))
        .select_related("author")
        .defer("body", *author_fields_not_shown("author"))
        .order_by("created_at", "id")
    )
    on_question: list[Comment] = []
    by_answer: dict[int, list[Comment]] = {a.pk: [] for a in answers}
    for comment in rows:
        if comment.answer_id is None:
            on_question.append(comment)
        else:
            by_answer[comment.answer_id].append(comment)
    return on_question, by_answer


def answer_get(*, viewer, pk: int) -> Answer:
    return get_object_or_404(
        Answer.objects.filter(
            visible_posts_q(viewer),
            visible_posts_q(viewer, "question__"),
            routing.question_visibility_q(viewer, through_question=True),
        ).select_related("question", "question__area", "author"),
        pk=pk,
    )


def user_votes_for(*, viewer, question: Question, answers: list[Answer]) -> dict[str, int]:
    """The viewer's votes on a thread as {"q<id>": value, "a<id>": value}."""
    if not getattr(viewer, "is_authenticated", False):
        return {}
    from .models import Vote

    votes = (
        Vote.objects.filter(user=viewer)
        .filter(models_q_for(question, answers))
        .values_list("question_id", "answer_id", "value")
    )
    return {(f"q{q}" if q else f"a{a}"): v for q, a, v in votes}


def models_q_for(question: Question, answers: list[Answer]):
    from django.db.models import Q

    return Q(question=question) | Q(answer__in=[a.pk for a in answers])


def profile_get(*, viewer, username: str) -> User:
    return get_object_or_404(
        User.objects.prefetch_related("certifications__area"), username=username
    )


# --- Reads added for the community HTML pages -----------------------------------------------


def area_list_with_counts() -> QuerySet[ProductArea]:
    """Product areas in display order, each annotated with ``question_count`` (one query)."""
    from django.db.models import Count, IntegerField, OuterRef, Subquery
    from django.db.models.functions import Coalesce

    # One count per area from the (area, status, …) index alone; as a filtered aggregate over a
    # join, SQLite read every question of each area to test its status (35 -> 21 ms at 100k).
    visible = (
        Question.objects.filter(area=OuterRef("pk"), status=PostStatus.VISIBLE)
        .order_by()
        .values("area")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return ProductArea.objects.annotate(
        question_count=Coalesce(Subquery(visible[:1], output_field=IntegerField()), 0)
    )


def area_get(*, slug: str) -> ProductArea:
    return get_object_or_404(ProductArea, slug=slug)


def tag_get(*, slug: str) -> Tag:
    return get_object_or_404(Tag, slug=slug)


def certified_user_ids(*, area: ProductArea, user_ids) -> frozenset[int]:
    """Which of ``user_ids`` hold an active certification for ``area`` — one query for a whole page."""
    from .models import Certification

    return frozenset(
        Certification.objects.filter(
            Certification.active_q(), area=area, user_id__in=set(user_ids)
        ).values_list("user_id", flat=True)
    )


def answer_list_by_author(*, viewer, author: User) -> QuerySet[Answer]:
    """An author's answers, newest first, with their question and area for list rendering."""
    return (
        Answer.objects.filter(
            visible_posts_q(viewer), visible_posts_q(viewer, "question__"), author=author
        )
        .filter(routing.question_visibility_q(viewer, through_question=True))
        .select_related("question", "question__area")
        .order_by("-created_at", "-id")
    )


def answer_ids_in_thread_order(*, viewer, question: Question) -> list[int]:
    """Answer ids in the order the thread page shows them (to find the page holding one)."""
    return list(
        answer_list_for_question(viewer=viewer, question=question).values_list("pk", flat=True)
    )


def question_revision_list(*, question: Question):
    """A question's revisions, newest first, with their authors."""
    return question.revisions.select_related("author").order_by("-number")


def answer_revision_list(*, answer: Answer):
    """An answer's revisions, newest first, with their authors."""
    return answer.revisions.select_related("author").order_by("-number")


def certification_pairs_for(*, user_ids, area_ids) -> frozenset[tuple[int, int]]:
    """(user id, area id) pairs with an active certification: expert badges for a whole list in
    one query."""
    from .models import Certification

    return frozenset(
        Certification.objects.filter(
            Certification.active_q(), user_id__in=set(user_ids), area_id__in=set(area_ids)
        ).values_list("user_id", "area_id")
    )


# --- Reads for the staff pages (moderation) -------------------------------------------------


def audit_entry_list(
    *,
    action_prefix: str = "",
    actor_username: str = "",
    target_type: str = "",
    target_id: str = "",
    since=None,
    until=None,
) -> QuerySet:
    """Audit entries newest first, optionally narrowed by action-code prefix, actor username,
    target ("community.question" and/or its id) and a time range (inclusive datetimes).

    Callers check ``rules.can_view_audit_log`` first: the log is moderator-only.
    """
    from .models import AuditEntry

    qs = AuditEntry.objects.select_related("actor")
    if action_prefix:
        qs = qs.filter(action__startswith=action_prefix)
    if actor_username:
        qs = qs.filter(actor__username__iexact=actor_username)
    if target_type:
        qs = qs.filter(target_type=target_type.lower())
    if target_id:
        qs = qs.filter(target_id=target_id)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if until is not None:
        qs = qs.filter(created_at__lte=until)
    return qs


def certification_list(*, state: str = "") -> QuerySet:
    """Certifications newest first with member, area and granter; ``state`` is "", "active",
    "expired" or "revoked"."""
    from django.utils import timezone

    from .models import Certification

    now = timezone.now()
    qs = Certification.objects.select_related("user", "area", "granted_by", "revoked_by").order_by(
        "-granted_at", "-id"
    )
    if state == "active":
        qs = qs.filter(Certification.active_q(now=now))
    elif state == "expired":
        qs = qs.filter(revoked_at__isnull=True, expires_at__lte=now)
    elif state == "revoked":
        qs = qs.filter(revoked_at__isnull=False)
    return qs


def user_find_by_login(*, identifier: str) -> User | None:
    """The user whose username or email is ``identifier`` (case-insensitive), if any."""
    from django.db.models import Q

    identifier = (identifier or "").strip()
    if not identifier:
        return None
    return User.objects.filter(Q(username__iexact=identifier) | Q(email__iexact=identifier)).first()


# --- Social routing --------------------------------------------------------------------------


def user_for_directing(*, username: str) -> User | None:
    """The member a question is being directed to, by username (None when blank). The service
    decides whether that person can take it; an unknown name is reported on the form."""
    from django.core.exceptions import ValidationError

    username = (username or "").strip()
    if not username:
        return None
    user = User.objects.filter(username=username).first()
    if user is None:
        raise ValidationError({"directed_to": f"There is no expert called {username!r}."})
    return user
