"""What a thread page shows beside its answers: each answer's standing (validations, the
correction), the article it was promoted into, and the articles promoted from or covering the
thread; also the standings of articles' source answers and the validation and correction pages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.shortcuts import get_object_or_404

from community.models import Answer, Question

from ..models import AnswerCorrection, Article, QuestionCoverage, Validation
from ..standing import AnswerStanding, build_standing
from .articles import article_list


def validations_by_answer(*, answers: list[Answer]) -> dict[int, list[Validation]]:
    """Active and stale validations of ``answers`` (one query), newest first, keyed by answer id."""
    result: dict[int, list[Validation]] = defaultdict(list)
    qs = (
        Validation.objects.filter(answer__in=[a.pk for a in answers])
        .exclude(status=Validation.Status.REVOKED)
        .select_related("validator", "revision")
        .order_by("-created_at")
    )
    for validation in qs:
        result[validation.answer_id].append(validation)
    return result


def articles_by_answer(*, viewer, answers: list[Answer]) -> dict[int, Article]:
    """The article each answer was promoted into, if the viewer may see it (one query)."""
    qs = article_list(viewer=viewer).filter(source_answer__in=[a.pk for a in answers])
    return {article.source_answer_id: article for article in qs}


def validation_get(*, pk: int) -> Validation:
    return get_object_or_404(
        Validation.objects.select_related("answer__question", "validator"), pk=pk
    )


@dataclass(frozen=True)
class ThreadKnowledgePresence:
    """What a thread page's knowledge panels have to read at all."""

    validations: bool  # some answer has a validation that was not revoked
    corrections: bool  # some answer has a correction that was not reversed
    articles: bool  # an article was promoted from the threads, or covers the page's thread


def _in(column: str, values: Collection[int]) -> str:
    return f"{column} IN ({', '.join(['%s'] * len(values))})"


def _exists(model, where: str) -> str:
    # A model's table name and placeholders only: every value is a bound parameter.
    return f"EXISTS (SELECT 1 FROM {model._meta.db_table} WHERE {where})"  # noqa: S608


def thread_knowledge_presence(
    *, answer_ids: Collection[int], question_ids: Collection[int], covered_question_id=None
) -> ThreadKnowledgePresence:
    """Whether ``answer_ids`` have validations or corrections and whether articles come from
    ``question_ids`` or cover ``covered_question_id``, in one query of index probes.

    Most threads have none of them: the page then skips the three queries that would read them
    (~4.5 ms of a 30-answer render, mostly the ORM building them). Plain SQL on purpose: the
    point is a statement that costs less to build than the queries it saves."""
    none = "1 = 0"
    validations = corrections = none
    params: list[object] = []
    if answer_ids:
        validations = _exists(Validation, f"{_in('answer_id', answer_ids)} AND status <> %s")
        corrections = _exists(
            AnswerCorrection, f"{_in('answer_id', answer_ids)} AND reversed_at IS NULL"
        )
        params += [*answer_ids, Validation.Status.REVOKED.value, *answer_ids]
    articles = []
    if question_ids:
        articles.append(_exists(Article, _in("source_question_id", question_ids)))
        params += list(question_ids)
    if covered_question_id is not None:
        articles.append(_exists(QuestionCoverage, "question_id = %s"))
        params.append(covered_question_id)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT " + ", ".join([validations, corrections, " OR ".join(articles) or none]),
            params,
        )
        row = cursor.fetchone()
    return ThreadKnowledgePresence(*(bool(value) for value in row))


# What a thread page shows of an article: its title and link, its status, and where it came from.
THREAD_ARTICLE_FIELDS = ("title", "status", "source_answer", "source_question", "created_at")


def thread_articles(
    *, viewer, question_ids, covered_question_id: int | None = None
) -> tuple[list[Article], Article | None]:
    """The articles promoted from the given threads (oldest first) and the article that
    ``covered_question_id``'s thread points to as now answering it, as the viewer may see them.

    One query for a thread page's banner and answer panels, with only the columns they show."""
    question_ids = set(question_ids)
    qs = article_list(viewer=viewer).select_related(None).prefetch_related(None)
    wanted = Q(source_question_id__in=question_ids)
    if covered_question_id is not None:
        covering = QuestionCoverage.objects.filter(question_id=covered_question_id)
        qs = qs.annotate(covers_thread=Exists(covering.filter(article=OuterRef("pk"))))
        wanted |= Q(pk__in=covering.values("article_id"))
    # The few candidates come from their own indexes, then the viewer's filter applies to them.
    # Filtered the other way round, SQLite (which has no statistics unless someone runs
    # ANALYZE) walked the audience index over every public article: 2 ms at 100k threads.
    candidates = Article.objects.filter(wanted).values("pk")
    rows = list(
        qs.filter(pk__in=candidates).only(*THREAD_ARTICLE_FIELDS).order_by("created_at", "id")
    )
    articles = [article for article in rows if article.source_question_id in question_ids]
    coverage = next((article for article in rows if getattr(article, "covers_thread", False)), None)
    return articles, coverage


def answer_standings(
    *, answers, with_validations: bool = True, with_corrections: bool = True
) -> dict[int, AnswerStanding]:
    """Each answer's standing (tiers with who/when, corrections), keyed by answer id.

    Two queries for any number of answers, one or none when ``thread_knowledge_presence`` said
    there are no validations or no corrections to read; ``answer.question`` (with its author)
    must already be loaded, as thread pages and the selectors below do.
    """
    answers = list(answers)
    if not answers:
        return {}
    ids = [a.pk for a in answers]
    validations: dict[int, list[Validation]] = defaultdict(list)
    if with_validations:
        for validation in (
            Validation.objects.filter(answer_id__in=ids)
            .exclude(status=Validation.Status.REVOKED)
            .select_related("validator", "revision")
            .order_by("-created_at", "-id")
        ):
            validations[validation.answer_id].append(validation)
    corrections = (
        {
            c.answer_id: c
            for c in AnswerCorrection.objects.filter(answer_id__in=ids, reversed_at__isnull=True)
            .select_related("corrector", "alternative__author")
            .order_by("created_at")
        }
        if with_corrections
        else {}
    )
    return {
        a.pk: build_standing(a, validations=validations[a.pk], correction=corrections.get(a.pk))
        for a in answers
    }


def answer_get_for_standing(*, viewer, pk: int) -> Answer:
    """One answer the viewer may see, with its question and asker loaded for
    ``answer_standings`` (404 if missing or hidden from the viewer)."""
    from django.db.models import prefetch_related_objects

    from community import selectors as community_selectors

    answer = community_selectors.answer_get(viewer=viewer, pk=pk)
    prefetch_related_objects([answer], "question__author")
    return answer


def answers_for_standing(*, viewer, question: Question) -> list[Answer]:
    """A thread's answers (in thread order) ready for ``answer_standings``."""
    from community import selectors as community_selectors

    answers = list(community_selectors.answer_list_for_question(viewer=viewer, question=question))
    for answer in answers:
        answer.question = question
    return answers


def correction_get(*, pk: int) -> AnswerCorrection:
    return get_object_or_404(
        AnswerCorrection.objects.select_related("answer__question", "corrector"), pk=pk
    )


def standings_for_articles(*, articles) -> dict[int, AnswerStanding]:
    """Standings of the articles' primary source answers, keyed by answer id.

    Two queries when the articles were loaded with ``source_answer`` and
    ``source_question__author`` (as ``article_list_with_sources`` does), one more otherwise.
    """
    articles = [a for a in articles if a.source_answer_id]
    if not articles:
        return {}
    if all(Article.source_answer.is_cached(a) for a in articles):
        answers = []
        for article in articles:
            answer = article.source_answer
            answer.question = article.source_question  # the primary's thread is the article's
            answers.append(answer)
    else:
        answers = Answer.objects.filter(
            pk__in={a.source_answer_id for a in articles}
        ).select_related("question__author")
    return answer_standings(answers=answers)
