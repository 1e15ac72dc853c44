"""Community reads for pages and API: visibility-filtered, with related rows loaded up front."""

from __future__ import annotations

from django.db.models import F, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from .models import Answer, Comment, ProductArea, Question, Tag, User


def area_list() -> QuerySet[ProductArea]:
    return ProductArea.objects.all()


def question_list(
    *,
    viewer,
    area: ProductArea | None = None,
    tag: Tag | None = None,
    unanswered: bool = False,
    author: User | None = None,
) -> QuerySet[Question]:
    """Questions the viewer may see, newest activity first, ready for list rendering."""
    qs = Question.objects.select_related("area", "author").prefetch_related("tags")
    if area is not None:
        qs = qs.filter(area=area)
    if tag is not None:
        qs = qs.filter(tags=tag)
    if author is not None:
        qs = qs.filter(author=author)
    if unanswered:
        qs = qs.filter(answer_count=0).order_by("-created_at", "-id")
    return qs


def question_get(*, viewer, pk: int) -> Question:
    """One question for its thread page (404 if missing or not visible)."""
    qs = Question.objects.select_related("area", "author", "accepted_answer").prefetch_related(
        "tags", Prefetch("comments", queryset=Comment.objects.select_related("author"))
    )
    return get_object_or_404(qs, pk=pk)


def answer_list_for_question(*, viewer, question: Question) -> QuerySet[Answer]:
    """Answers of a thread ordered validated first, then the accepted one, then by score."""
    accepted_id = question.accepted_answer_id or 0
    from django.db.models import Case, IntegerField, Value, When

    return (
        Answer.objects.filter(question=question)
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


def answer_get(*, viewer, pk: int) -> Answer:
    return get_object_or_404(
        Answer.objects.select_related("question", "question__area", "author"), pk=pk
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
