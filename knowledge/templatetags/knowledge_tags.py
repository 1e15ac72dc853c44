"""Template tags that let community's thread page show validations and KB articles without
community importing knowledge: the thread template loads this library by name only."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.auth.models import AnonymousUser
from django.db.models import prefetch_related_objects

from community.models import Answer, Question

from .. import rules, selectors

register = template.Library()


def _viewer(context: template.Context):
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return user if user is not None else AnonymousUser()


def _prime_questions(context: template.Context, answers: list[Answer]) -> None:
    """Make ``answer.question.area`` free for the permission predicates: reuse the page's question
    when it is in the context, otherwise load all questions and areas in at most two queries."""
    page_question = context.get("question")
    if isinstance(page_question, Question) and Question.area.is_cached(page_question):
        for answer in answers:
            if answer.question_id == page_question.pk and not Answer.question.is_cached(answer):
                Answer.question.field.set_cached_value(answer, page_question)
    prefetch_related_objects(answers, "question__area", "question__author")


@register.simple_tag(takes_context=True)
def thread_knowledge(context: template.Context, answers) -> dict[Any, Any]:
    """Validation standing and KB articles for the answers on a thread page.

    Returns ``{answer_pk: info, "articles": [...], "coverage": article|None}`` where info holds
    ``validations`` (active, stale and flagged for re-check, newest first, each with a
    ``can_revoke`` attribute), ``active``, ``standing`` (tiers with who/when and any live
    correction, whose ``can_reverse`` is set), ``article``, ``can_validate``, ``can_correct`` and
    ``is_stale``. A constant number of queries whatever the number of answers.
    """
    viewer = _viewer(context)
    answers = [a for a in answers if isinstance(a, Answer)]
    result: dict[Any, Any] = {"articles": [], "coverage": None}
    page_question = context.get("question")
    if isinstance(page_question, Question):
        result["coverage"] = selectors.coverage_for_questions(
            viewer=viewer, question_ids=[page_question.pk]
        ).get(page_question.pk)
    if not answers:
        return result
    _prime_questions(context, answers)
    standings = selectors.answer_standings(answers=answers)
    # One query serves the banner and every answer: an article's thread is its answer's thread,
    # and the banner must also name articles whose answers sit on another page of the thread.
    articles = list(
        selectors.article_list_for_threads(
            viewer=viewer, question_ids={a.question_id for a in answers}
        )
    )
    article_by_answer = {article.source_answer_id: article for article in articles}
    for answer in answers:
        standing = standings[answer.pk]
        answer_validations = standing.validations
        for validation in answer_validations:
            # Fresh instances from this query, so annotating them touches nothing shared.
            validation.can_revoke = rules.can_revoke_validation(viewer, validation)
        if standing.correction is not None:
            standing.correction.can_reverse = rules.can_reverse_correction(
                viewer, standing.correction
            )
        active = standing.active
        result[answer.pk] = {
            "validations": answer_validations,
            "active": active,
            "standing": standing,
            "article": article_by_answer.get(answer.pk),
            "can_validate": rules.can_validate_answer(viewer, answer),
            "can_correct": standing.correction is None and rules.can_correct_answer(viewer, answer),
            "is_stale": bool(answer_validations) and not active,
        }
    for standing in standings.values():
        correction = standing.correction
        if correction is not None and correction.alternative_id in result:
            result[correction.alternative_id].setdefault("recommended_over", []).append(
                standing.answer
            )
    result["articles"] = articles
    return result


@register.filter
def get_item(mapping, key):
    """``mapping[key]`` or None: dictionary lookup with a variable key."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def tier_label(name: str) -> str:
    """A search tier name ("validated_expert") as readers see it."""
    from knowledge.search.base import TIER_LABELS

    return TIER_LABELS.get(name, "")
