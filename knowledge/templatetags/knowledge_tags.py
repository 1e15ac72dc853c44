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
    page_question = context.get("question")
    page_question_id = page_question.pk if isinstance(page_question, Question) else None
    question_ids = {a.question_id for a in answers}
    # Most threads have no validation, correction or article: one probe, then only the reads
    # that have something to find.
    present = selectors.thread_knowledge_presence(
        answer_ids=[a.pk for a in answers],
        question_ids=question_ids,
        covered_question_id=page_question_id,
    )
    articles, coverage = [], None
    if present.articles:
        # One query serves the banner, the coverage note and every answer: an article's thread
        # is its answer's thread, and the banner must also name articles whose answers sit on
        # another page of the thread.
        articles, coverage = selectors.thread_articles(
            viewer=viewer, question_ids=question_ids, covered_question_id=page_question_id
        )
    result: dict[Any, Any] = {"articles": articles, "coverage": coverage}
    if not answers:
        return result
    _prime_questions(context, answers)
    standings = selectors.answer_standings(
        answers=answers,
        with_validations=present.validations,
        with_corrections=present.corrections,
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
    return result


def _person(user) -> dict | None:
    if user is None:
        return None
    return {"get_absolute_url": user.get_absolute_url(), "public_name": user.public_name}


def panel_inputs(info: dict | None, answer: Answer) -> dict:
    """Every value ``knowledge/_answer_panel.html`` reads, as plain values under the names the
    template uses: the fragment's cache key. A validation, revocation, re-check flag, correction
    or its reversal, a promotion to an article or a change of the viewer's rights changes one of
    them, so the next render shows it."""
    answer_values = {"pk": answer.pk, "question": {"area": {"name": answer.question.area.name}}}
    if not info:
        return {"info": None, "answer": answer_values}
    standing = info["standing"]
    correction = standing.correction
    correction_values = None
    if correction is not None:
        alternative = correction.alternative
        correction_values = {
            "pk": correction.pk,
            "get_kind_display": str(correction.get_kind_display()),
            "reason": correction.reason,
            "alternative": None
            if alternative is None
            else {
                "get_absolute_url": alternative.get_absolute_url(),
                "author": {"public_name": alternative.author.public_name},
            },
            "corrector": _person(correction.corrector),
            "as_staff": correction.as_staff,
            "created_at": correction.created_at,
            "can_reverse": bool(getattr(correction, "can_reverse", False)),
        }
    article = info["article"]
    return {
        "answer": answer_values,
        "info": {
            "standing": {
                "tiers": tuple(str(tier) for tier in standing.tiers),
                "accepted_by": _person(standing.accepted_by),
                "score": standing.score,
                "correction": correction_values,
            },
            "active": bool(info["active"]),
            "is_stale": info["is_stale"],
            "can_validate": info["can_validate"],
            "can_correct": info["can_correct"],
            "recommended_over": tuple(
                {"pk": other.pk, "author": {"public_name": other.author.public_name}}
                for other in info.get("recommended_over", ())
            ),
            "validations": tuple(
                {
                    "pk": v.pk,
                    "status": str(v.status),
                    "validator": _person(v.validator),
                    "as_staff": v.as_staff,
                    "created_at": v.created_at,
                    "recheck_at": v.recheck_at,
                    "revision": {"number": v.revision.number},
                    "flag_reason": v.flag_reason,
                    "note": v.note,
                    "can_revoke": bool(getattr(v, "can_revoke", False)),
                }
                for v in info["validations"]
            ),
            "article": None
            if article is None
            else {
                "get_absolute_url": article.get_absolute_url(),
                "title": article.title,
                "status": str(article.status),
                "get_status_display": str(article.get_status_display()),
            },
        },
    }


@register.simple_tag
def answer_panel_inputs(kinfo: dict, answer: Answer) -> dict:
    """``{% answer_panel_inputs kinfo answer as panel %}``: ``panel_inputs`` for an answer on a
    thread page, for ``knowledge/_answer_panel.html`` inside the answer's cached fragment."""
    return panel_inputs(kinfo.get(answer.pk), answer)


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
