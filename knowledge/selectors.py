"""Knowledge reads for pages and API, filtered by what the viewer may see."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
from collections import defaultdict
from dataclasses import dataclass
from html.parser import HTMLParser

from django.contrib.auth.models import AnonymousUser
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.http import Http404
from django.shortcuts import get_object_or_404

from community import routing
from community.models import Answer, PostStatus, Question
from community.rules import is_staff_member

from . import rules
from .diffs import FieldDiff, diff_fields, diff_lines
from .models import (
    AnswerCorrection,
    Article,
    ArticleRevision,
    ArticleSource,
    ArticleUsage,
    QuestionCoverage,
    Validation,
)
from .search.base import DOC_TYPE_LABELS, SearchFilters, SearchHit, SearchResults
from .standing import NO_TIER_LABEL, AnswerStanding, build_standing
from .standing import TIER_LABELS as STANDING_TIER_LABELS


def article_list(*, viewer, area=None, tag=None) -> QuerySet[Article]:
    """Articles the viewer may read: published (or in review) public ones for everyone; all,
    internal included, for staff (CSRs, moderators, admins)."""
    qs = Article.objects.select_related("area", "source_question").prefetch_related("tags")
    if not is_staff_member(viewer):
        qs = qs.filter(status__in=Article.VISIBLE_STATUSES)
    if not rules.can_view_internal_articles(viewer):
        # Customers never see internal articles, in any status (see rules.can_view_article).
        qs = qs.filter(audience=Article.Audience.PUBLIC)
    if area is not None:
        qs = qs.filter(area=area)
    if tag is not None:
        qs = qs.filter(tags=tag)
    return qs


def article_get(*, viewer, pk: int) -> Article:
    """One article with its provenance (404 when missing or not visible to the viewer)."""
    qs = (
        article_list(viewer=viewer)
        .select_related(
            "source_answer__author",
            "source_answer__question__author",
            "approved_revision",
            "source_question__author",
        )
        .prefetch_related(
            Prefetch(
                "source_answer__validations",
                queryset=Validation.objects.select_related("validator", "revision").order_by(
                    "-created_at"
                ),
            ),
            Prefetch(
                "sources",
                queryset=ArticleSource.objects.select_related(
                    "answer__author", "answer__question", "revision", "added_by"
                ),
            ),
        )
    )
    return get_object_or_404(qs, pk=pk)


def article_revisions(*, article: Article) -> QuerySet[ArticleRevision]:
    return article.revisions.select_related("author", "answer_revision").order_by("-number")


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


def search_run(
    *,
    viewer,
    query: str,
    area: str | None = None,
    tag: str | None = None,
    type: str | None = None,  # mirrors SearchFilters.type and the ?type= parameter
    page: int = 1,
    page_size: int = 10,
    tier: str | None = None,
    correct: bool = True,
) -> SearchResults:
    """Search articles and threads as ``viewer`` (``area``/``tag`` are slugs, ``type`` a DOC_TYPE,
    ``tier`` a search.base.TIERS name).

    Customers see public documents only; staff also see internal ones. When the query finds
    fewer than CORRECT_BELOW_HITS and its spelling correction finds as many, the corrected results
    come back with ``corrected_query`` set (``correct=False``: "search instead for" the exact
    words). Reads the search index.
    """
    # Imported here like services.search_sync: the backend module loads lazily from settings.
    from .search import get_backend

    audiences = ("public", "internal") if is_staff_member(viewer) else ("public",)
    filters = SearchFilters(
        area=area or None,
        tag=tag or None,
        type=type or None,
        audiences=audiences,
        tier=tier or None,
    )
    backend = get_backend()
    page, page_size = max(1, page), max(1, page_size)
    results = backend.search(query, filters=filters, page=page, page_size=page_size)
    if not correct or results.total >= CORRECT_BELOW_HITS:
        return results
    suggestion = next(iter(backend.suggest(query, limit=1)), "")
    if not suggestion or suggestion.lower() == (query or "").strip().lower():
        return results
    corrected = backend.search(suggestion, filters=filters, page=page, page_size=page_size)
    # Typo tolerance may already have found the same documents; the corrected words match
    # them exactly, so they win ties (and tell the reader what was searched).
    if corrected.total == 0 or corrected.total < results.total:
        return results
    return dataclasses.replace(corrected, query=query, corrected_query=suggestion)


CORRECT_BELOW_HITS = 3


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
        qs = qs.annotate(
            covers_thread=Exists(
                QuestionCoverage.objects.filter(
                    article=OuterRef("pk"), question_id=covered_question_id
                )
            )
        )
        wanted |= Q(covers_thread=True)
    rows = list(qs.filter(wanted).only(*THREAD_ARTICLE_FIELDS).order_by("created_at", "id"))
    articles = [article for article in rows if article.source_question_id in question_ids]
    coverage = next((article for article in rows if getattr(article, "covers_thread", False)), None)
    return articles, coverage


def search_similar(*, viewer, text: str, limit: int = 5) -> list:
    """Articles and threads resembling ``text`` (a question being typed), as ``viewer`` may see them.

    Reads the search index; returns SearchHits.
    """
    from .search import get_backend

    audiences = ("public", "internal") if is_staff_member(viewer) else ("public",)
    return get_backend().similar(text, filters=SearchFilters(audiences=audiences), limit=limit)


# --- Agent console ----------------------------------------------------------------------------

CONSOLE_PAGE_SIZE = 10
CONSOLE_MAX_PAGE_SIZE = 20
CONSOLE_RELATED_THREADS = 3
CONSOLE_RECENT = 10
# Internal articles are the point of the console: agents see both audiences.
CONSOLE_AUDIENCES = ("public", "internal")

# A console hit's tier: the answer tiers keep the names standing.py gives them (the one place
# that names them); the console adds what a hit can be without one.
TIER_LABELS = {
    **{t: STANDING_TIER_LABELS[t] for t in ("validated_staff", "validated_expert", "accepted")},
    "staff_article": "Written by staff",
    "community": NO_TIER_LABEL,
    "unanswered": "No answer yet",
}


@dataclass(frozen=True)
class RelatedThread:
    id: int
    title: str
    url: str
    is_source: bool  # the thread the article was promoted from
    has_accepted_answer: bool


@dataclass(frozen=True)
class ConsoleResult:
    """One console hit with everything an agent needs to trust and reuse it."""

    id: str  # the search doc id: "article:12" or "question:7"
    type: str  # a DOC_TYPE
    title: str
    url: str  # the page to open
    public_url: str  # the link to paste to a customer (a thread links its best answer)
    area: str  # slug
    area_name: str
    tags: tuple[str, ...]
    snippet_text: str
    snippet_parts: tuple[tuple[str, bool], ...]  # (text, is_match) runs of the snippet
    tier: str  # a TIER_LABELS key
    validators: tuple[str, ...]
    updated_at: dt.datetime
    needs_review: bool
    review_reason: str
    audience: str
    usage_count: int
    solution_text: str
    solution_markdown: str
    related_threads: tuple[RelatedThread, ...] = ()

    @property
    def article_id(self) -> int | None:
        kind, _, pk = self.id.partition(":")
        return int(pk) if kind == "article" else None

    @property
    def type_label(self) -> str:
        return DOC_TYPE_LABELS.get(self.type, self.type)

    @property
    def tier_label(self) -> str:
        return TIER_LABELS.get(self.tier, self.tier)


@dataclass(frozen=True)
class ConsoleSearch:
    query: str
    total: int
    results: list[ConsoleResult]


_MARK_TAG_RE = re.compile(r"(<mark(?:\s[^>]*)?>|</mark>)")


def snippet_parts(snippet_html: str) -> tuple[tuple[str, bool], ...]:
    """Split a backend snippet (escaped text, matches in <mark>) into (text, is_match) runs.

    The console renders runs with textContent, so no server HTML ever reaches innerHTML; a stray
    tag (which the backends never emit) would show as literal text, not as markup.
    """
    parts: list[tuple[str, bool]] = []
    marked = False
    for token in _MARK_TAG_RE.split(snippet_html or ""):
        if _MARK_TAG_RE.fullmatch(token):
            marked = not token.startswith("</")
        elif token:
            parts.append((html.unescape(token), marked))
    return tuple(parts)


class _PlainTextParser(HTMLParser):
    """Sanitized solution HTML → text an agent can paste into an email (keeps paragraphs, list
    items and link targets, which ``html_to_text`` flattens for the index)."""

    BLOCKS = frozenset(
        {"p", "pre", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "hr"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.pre = 0
        self.links: list[str] = []
        self.lists: list[int | None] = []  # None for <ul>, the next number for <ol>

    def _break(self, blank_line: bool = False) -> None:
        self.out.append("\n\n" if blank_line else "\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        nested_list = tag in ("ul", "ol") and bool(self.lists)
        if tag in self.BLOCKS and not nested_list:  # a nested list starts on its first item
            self._break(blank_line=not self.lists)
        if tag == "pre":
            self.pre += 1
        elif tag == "ul":
            self.lists.append(None)
        elif tag == "ol":
            self.lists.append(1)
        elif tag == "li":
            self._break()
            number = self.lists[-1] if self.lists else None
            indent = "  " * max(0, len(self.lists) - 1)
            if number is None:
                self.out.append(f"{indent}- ")
            else:
                self.out.append(f"{indent}{number}. ")
                self.lists[-1] = number + 1
        elif tag in ("br", "tr"):
            self._break()
        elif tag == "a":
            self.links.append(dict(attrs).get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        elif tag == "a" and self.links:
            href = self.links.pop()
            if href and not "".join(self.out[-3:]).endswith(href):
                self.out.append(f" ({href})")
        elif tag in ("td", "th"):
            self.out.append("\t")
        if tag in self.BLOCKS and not (tag in ("ul", "ol") and self.lists):
            self._break(blank_line=not self.lists)

    def handle_data(self, data: str) -> None:
        self.out.append(data if self.pre else re.sub(r"\s+", " ", data))

    def text(self) -> str:
        lines = [line.rstrip() for line in "".join(self.out).split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def solution_plain_text(solution_html: str) -> str:
    """Plain text of sanitized HTML with its paragraphs, lists and link targets kept."""
    parser = _PlainTextParser()
    parser.feed(solution_html or "")
    parser.close()
    return parser.text()


def _validators_tier(validations: list[Validation]) -> tuple[str | None, tuple[str, ...]]:
    """Tier and validator names (staff first) from the validations that vouch for a text."""
    if not validations:
        return None, ()
    ordered = sorted(validations, key=lambda v: (not v.as_staff, v.created_at))
    names = tuple(dict.fromkeys(v.validator.public_name for v in ordered))
    tier = "validated_staff" if any(v.as_staff for v in validations) else "validated_expert"
    return tier, names


def _primary_validations(article: Article, validations: list[Validation]) -> list[Validation]:
    """The validations of the text the article publishes (its approved revision); while the
    article waits for review these are stale, and still say who vouched for that text."""
    # A validation waiting for re-check (its validator's certification ended) vouches for nothing.
    trusted = (Validation.Status.ACTIVE, Validation.Status.STALE)
    pinned = [
        v
        for v in validations
        if v.revision_id == article.approved_revision_id and v.status in trusted
    ]
    return pinned or [v for v in validations if v.status == Validation.Status.ACTIVE]


def _public_threads_q(*, through_question: bool = False) -> Q:
    """Threads a customer can open (visible, not merged away, not private): the console hands
    out their links, so pending, hidden or private threads never appear in it."""
    prefix = "question__" if through_question else ""
    return Q(
        **{f"{prefix}status": PostStatus.VISIBLE, f"{prefix}merged_into__isnull": True}
    ) & routing.question_visibility_q(AnonymousUser(), through_question=through_question)


def _best_answers(question_ids: list[int]) -> dict[int, Answer]:
    """Per thread, the answer an agent would quote: validated, else accepted, else top-scored."""
    if not question_ids:
        return {}
    accepted_first = Case(
        When(pk=F("question__accepted_answer_id"), then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    ranked = (
        Answer.objects.filter(question_id__in=question_ids, status=PostStatus.VISIBLE)
        .annotate(
            thread_rank=Window(
                RowNumber(),
                partition_by=[F("question_id")],
                order_by=[
                    F("validated_at").desc(nulls_last=True),
                    accepted_first.desc(),
                    F("score").desc(),
                    F("created_at").asc(),
                    F("id").asc(),
                ],
            )
        )
        .filter(thread_rank=1)
        .only("id", "question_id", "body", "body_html", "score", "validated_at", "created_at")
    )
    return {answer.question_id: answer for answer in ranked}


def _related_threads(articles: list[Article]) -> dict[int, tuple[RelatedThread, ...]]:
    """Per article: its source thread, then the best-scored threads sharing its tags (two
    queries for all articles: a per-tag top-N window, then the titles)."""
    tag_ids = {tag.pk for article in articles for tag in article.tags.all()}
    per_tag: dict[int, list[tuple[int, int]]] = defaultdict(list)  # tag → [(question, score)]
    if tag_ids:
        through = Question.tags.through
        # Each source thread may take a slot in a tag's top list, hence the headroom.
        headroom = CONSOLE_RELATED_THREADS + len(articles)
        rows = (
            through.objects.filter(_public_threads_q(through_question=True), tag_id__in=tag_ids)
            .annotate(
                tag_rank=Window(
                    RowNumber(),
                    partition_by=[F("tag_id")],
                    order_by=[F("question__score").desc(), F("question_id").desc()],
                )
            )
            .filter(tag_rank__lte=headroom)
            .values_list("tag_id", "question_id", "question__score")
        )
        for tag_id, question_id, score in rows:
            per_tag[tag_id].append((question_id, score))
    chosen: dict[int, list[int]] = {}
    for article in articles:
        shared: dict[int, list[int]] = {}  # question → [shared tag count, score]
        for tag in article.tags.all():
            for question_id, score in per_tag.get(tag.pk, ()):
                if question_id != article.source_question_id:
                    entry = shared.setdefault(question_id, [0, score])
                    entry[0] += 1
        others = sorted(shared, key=lambda q: (-shared[q][0], -shared[q][1], -q))
        source = [article.source_question_id] if article.source_question_id else []
        chosen[article.pk] = [*source, *others][:CONSOLE_RELATED_THREADS]
    wanted = {q for ids in chosen.values() for q in ids}
    questions = {
        q.pk: q
        for q in Question.objects.filter(_public_threads_q(), pk__in=wanted).only(
            "id", "title", "accepted_answer_id"
        )
    }
    return {
        article.pk: tuple(
            RelatedThread(
                id=q.pk,
                title=q.title,
                url=q.get_absolute_url(),
                is_source=q.pk == article.source_question_id,
                has_accepted_answer=q.accepted_answer_id is not None,
            )
            for q in (questions.get(pk) for pk in chosen[article.pk])
            if q is not None
        )
        for article in articles
    }


def article_usage_counts(article_ids) -> dict[int, int]:
    """How often each article was recorded as used for a case (one query; absent ids → 0)."""
    ids = set(article_ids)
    if not ids:
        return {}
    counts = dict(
        ArticleUsage.objects.filter(article_id__in=ids)
        .order_by()
        .values("article_id")
        .annotate(n=Count("id"))
        .values_list("article_id", "n")
    )
    return {pk: counts.get(pk, 0) for pk in ids}


def _parse_hit_id(doc_id: str) -> tuple[str, int] | None:
    kind, _, pk = doc_id.partition(":")
    return (kind, int(pk)) if kind in ("article", "question") and pk.isdigit() else None


def console_results_for_hits(*, viewer, hits: list[SearchHit]) -> list[ConsoleResult]:
    """Enrich search hits with tier, validators, freshness, usage and related threads.

    A fixed number of queries however many hits; hits whose row is gone or no longer visible
    (the index lags the database) are dropped.
    """
    parsed = [(hit, _parse_hit_id(hit.id)) for hit in hits]
    article_ids = [ref[1] for _, ref in parsed if ref and ref[0] == "article"]
    question_ids = [ref[1] for _, ref in parsed if ref and ref[0] == "question"]
    articles = (
        {
            a.pk: a
            for a in article_list(viewer=viewer).filter(
                pk__in=article_ids, status__in=Article.VISIBLE_STATUSES
            )
        }
        if article_ids
        else {}
    )
    questions = (
        {
            q.pk: q
            for q in Question.objects.filter(_public_threads_q(), pk__in=question_ids)
            .select_related("area")
            .only(
                "id",
                "title",
                "accepted_answer_id",
                "last_activity_at",
                "area__slug",
                "area__name",
            )
        }
        if question_ids
        else {}
    )
    best = _best_answers(list(questions))
    validations: dict[int, list[Validation]] = defaultdict(list)
    answer_ids = [a.source_answer_id for a in articles.values() if a.source_answer_id] + [
        a.pk for a in best.values()
    ]
    if answer_ids:
        for validation in (
            Validation.objects.filter(answer_id__in=answer_ids)
            .exclude(status=Validation.Status.REVOKED)
            .select_related("validator")
        ):
            validations[validation.answer_id].append(validation)
    related = _related_threads(list(articles.values()))
    usage = article_usage_counts(articles)

    results: list[ConsoleResult] = []
    for hit, ref in parsed:
        if ref is None:
            continue
        kind, pk = ref
        parts = snippet_parts(hit.snippet)
        common = {
            "id": hit.id,
            "type": hit.type,
            "tags": tuple(hit.tags),
            "snippet_text": "".join(text for text, _ in parts),
            "snippet_parts": parts,
        }
        if kind == "article":
            article = articles.get(pk)
            if article is None:
                continue
            tier, names = _validators_tier(
                _primary_validations(article, validations[article.source_answer_id])
            )
            if tier is None and article.source_answer_id is None:
                tier = "staff_article"
            elif tier is None:
                question = article.source_question
                accepted = question is not None and (
                    question.accepted_answer_id == article.source_answer_id
                )
                tier = "accepted" if accepted else "community"
            url = article.get_absolute_url()
            results.append(
                ConsoleResult(
                    **common,
                    title=article.title,
                    url=url,
                    public_url=url,
                    area=article.area.slug,
                    area_name=article.area.name,
                    tier=tier,
                    validators=names,
                    updated_at=article.updated_at,
                    needs_review=article.status == Article.Status.NEEDS_REVIEW,
                    review_reason=article.review_reason,
                    audience=article.audience,
                    usage_count=usage.get(article.pk, 0),
                    solution_text=solution_plain_text(article.solution_html),
                    solution_markdown=article.solution,
                    related_threads=related.get(article.pk, ()),
                )
            )
            continue
        question = questions.get(pk)
        if question is None:
            continue
        answer = best.get(question.pk)
        tier, names = _validators_tier(
            [v for v in validations[answer.pk] if v.status == Validation.Status.ACTIVE]
            if answer
            else []
        )
        if tier is None:
            if question.accepted_answer_id:
                tier = "accepted"
            else:
                tier = "community" if answer else "unanswered"
        results.append(
            ConsoleResult(
                **common,
                title=question.title,
                url=question.get_absolute_url(),
                public_url=answer.get_absolute_url() if answer else question.get_absolute_url(),
                area=question.area.slug,
                area_name=question.area.name,
                tier=tier,
                validators=names,
                updated_at=question.last_activity_at,
                needs_review=False,
                review_reason="",
                audience="public",
                usage_count=0,
                solution_text=solution_plain_text(answer.body_html) if answer else "",
                solution_markdown=answer.body if answer else "",
            )
        )
    return results


def console_search(*, viewer, query: str, limit: int = CONSOLE_PAGE_SIZE) -> ConsoleSearch:
    """The agent console's search: public and internal articles and threads, enriched.

    Raises PermissionDenied unless ``viewer`` may use the console. Reads the search index.
    """
    from .search import get_backend

    rules.check_use_console(viewer)
    query = (query or "").strip()
    if not query:
        return ConsoleSearch(query="", total=0, results=[])
    found = get_backend().search(
        query,
        filters=SearchFilters(audiences=CONSOLE_AUDIENCES),
        page=1,
        page_size=max(1, min(limit, CONSOLE_MAX_PAGE_SIZE)),
    )
    return ConsoleSearch(
        query=query,
        total=found.total,
        results=console_results_for_hits(viewer=viewer, hits=found.hits),
    )


def article_usage_recent(*, user, limit: int = CONSOLE_RECENT) -> list[Article]:
    """The last ``limit`` distinct articles ``user`` recorded as used, most recent first, each
    annotated with ``last_used_at`` and ``last_case_ref`` (one query)."""
    if not getattr(user, "is_authenticated", False):
        return []
    latest = ArticleUsage.objects.filter(user=user, article=OuterRef("pk")).order_by(
        "-used_at", "-id"
    )
    return list(
        Article.objects.filter(usages__user=user)
        .annotate(
            last_used_at=Max("usages__used_at"),
            last_case_ref=Subquery(latest.values("case_ref")[:1]),
        )
        .select_related("area")
        .order_by("-last_used_at", "-id")[:limit]
    )


# --- Trust: standing, coverage, the review queue, revision diffs (issue 3) ---------------------


def answer_standings(*, answers) -> dict[int, AnswerStanding]:
    """Each answer's standing (tiers with who/when, corrections), keyed by answer id.

    Two queries for any number of answers; ``answer.question`` (with its author) must already be
    loaded, as thread pages and the selectors below do.
    """
    answers = list(answers)
    if not answers:
        return {}
    ids = [a.pk for a in answers]
    validations: dict[int, list[Validation]] = defaultdict(list)
    for validation in (
        Validation.objects.filter(answer_id__in=ids)
        .exclude(status=Validation.Status.REVOKED)
        .select_related("validator", "revision")
        .order_by("-created_at", "-id")
    ):
        validations[validation.answer_id].append(validation)
    corrections = {
        c.answer_id: c
        for c in AnswerCorrection.objects.filter(answer_id__in=ids, reversed_at__isnull=True)
        .select_related("corrector", "alternative__author")
        .order_by("created_at")
    }
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


def article_sources(*, article: Article) -> list[ArticleSource]:
    """An article's merged answers (beyond the primary), oldest first."""
    return list(
        article.sources.select_related(
            "answer__author", "answer__question", "revision", "added_by"
        ).order_by("added_at", "id")
    )


@dataclass(frozen=True)
class ReviewSourceDiff:
    """How one source answer moved since the revision the article publishes."""

    answer: Answer
    approved_number: int
    current_number: int
    lines: tuple


@dataclass(frozen=True)
class ReviewItem:
    article: Article
    diffs: tuple[ReviewSourceDiff, ...]


def review_queue(*, viewer) -> list[ReviewItem]:
    """Articles waiting for review, oldest change first, each with the diff of every source
    answer between its approved revision and its current text (a fixed number of queries).

    Raises PermissionDenied unless the viewer may see the queue.
    """
    rules.check_view_review_queue(viewer)
    articles = list(
        Article.objects.filter(status=Article.Status.NEEDS_REVIEW)
        .select_related("area", "source_answer__question", "approved_revision")
        .prefetch_related(
            Prefetch(
                "sources",
                queryset=ArticleSource.objects.select_related("answer__question", "revision"),
            )
        )
        .order_by("updated_at", "id")
    )
    items = []
    for article in articles:
        pairs = []
        if article.source_answer_id:
            pairs.append((article.source_answer, article.approved_revision))
        pairs.extend((source.answer, source.revision) for source in article.sources.all())
        diffs = tuple(
            ReviewSourceDiff(
                answer=answer,
                approved_number=revision.number,
                current_number=answer.revision_count,
                lines=diff_lines(revision.body, answer.body),
            )
            for answer, revision in pairs
        )
        items.append(ReviewItem(article=article, diffs=diffs))
    return items


def article_revision_diff(
    *, viewer, article: Article, from_number: int, to_number: int
) -> tuple[ArticleRevision, ArticleRevision, list[FieldDiff]]:
    """Two revisions of ``article`` and the diff of title, problem and solution between them.

    Raises PermissionDenied unless the viewer may see the history; Http404 for a missing number.
    """
    rules.check_view_article_history(viewer, article)
    revisions = {
        r.number: r
        for r in article.revisions.select_related("author").filter(
            number__in={from_number, to_number}
        )
    }
    if from_number not in revisions or to_number not in revisions:
        raise Http404("No such revision.")
    before, after = revisions[from_number], revisions[to_number]
    fields = ("title", "problem", "solution")
    return (
        before,
        after,
        diff_fields(
            {name: getattr(before, name) for name in fields},
            {name: getattr(after, name) for name in fields},
        ),
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


def article_list_with_sources(*, viewer, area=None, tag=None) -> QuerySet[Article]:
    """``article_list`` with what ``standings_for_articles`` needs joined in (API lists)."""
    return article_list(viewer=viewer, area=area, tag=tag).select_related(
        "source_answer", "source_question__author"
    )


# --- Search log -------------------------------------------------------------------------------

SEARCH_GAP_DAYS = 30


def search_gaps(*, days: int = SEARCH_GAP_DAYS, limit: int = 100) -> list[dict]:
    """Queries that found nothing in the last ``days``, most frequent first (one query).

    Each row: ``normalized``, ``example`` (one typed form), ``count``, ``last_seen``. Searches
    whose typo was auto-corrected into hits are not gaps (their hit_count is the shown hits).
    """
    from django.utils import timezone

    from .models import SearchQueryLog

    since = timezone.now() - dt.timedelta(days=days)
    return list(
        SearchQueryLog.objects.filter(hit_count=0, created_at__gte=since)
        .exclude(normalized="")
        .values("normalized")
        .annotate(count=Count("id"), last_seen=Max("created_at"), example=Max("query"))
        .order_by("-count", "-last_seen", "normalized")[:limit]
    )
