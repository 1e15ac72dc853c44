"""The CSR agent console: its search over public and internal documents, each hit enriched with
what an agent needs to trust and paste it (tier, validators, freshness, plain text, related
threads), and the articles agents recorded as used for a case."""

from __future__ import annotations

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
    Q,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber

from community import pagecache, routing
from community.models import Answer, PostStatus, Question

from .. import rules
from ..models import Article, ArticleUsage, Validation
from ..search.base import DOC_TYPE_LABELS, SearchFilters, SearchHit
from ..standing import NO_TIER_LABEL
from ..standing import TIER_LABELS as STANDING_TIER_LABELS
from .articles import article_list

CONSOLE_PAGE_SIZE = 10
CONSOLE_MAX_PAGE_SIZE = 20
CONSOLE_RELATED_THREADS = 3
# Threads kept per tag for related threads: the headroom of the largest console page.
TAG_TOP_DEPTH = CONSOLE_RELATED_THREADS + CONSOLE_MAX_PAGE_SIZE
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


def _public_threads_q() -> Q:
    """Threads a customer can open (visible, not merged away, not private): the console hands
    out their links, so pending, hidden or private threads never appear in it."""
    return Q(status=PostStatus.VISIBLE, merged_into__isnull=True) & routing.question_visibility_q(
        AnonymousUser()
    )


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


def _best_threads_by_tag(tag_ids, depth: int) -> dict[int, list[tuple[int, int]]]:
    """Per tag, its ``depth`` best-scored public threads as (question, score), best first (one
    query: a per-tag top-N window)."""
    per_tag: dict[int, list[tuple[int, int]]] = {tag_id: [] for tag_id in tag_ids}
    if not per_tag:
        return per_tag
    # Visibility as a per-row test, so the tags drive the query (their index finds the tagged
    # threads); as a join condition on status, SQLite walked every visible thread (591 ms for
    # ten articles at 100k threads).
    public = Question.objects.filter(_public_threads_q(), pk=OuterRef("question_id"))
    rows = (
        Question.tags.through.objects.filter(Exists(public), tag_id__in=list(per_tag))
        .annotate(
            tag_rank=Window(
                RowNumber(),
                partition_by=[F("tag_id")],
                order_by=[F("question__score").desc(), F("question_id").desc()],
            )
        )
        .filter(tag_rank__lte=depth)
        .values_list("tag_id", "question_id", "question__score")
    )
    for tag_id, question_id, score in rows:
        per_tag[tag_id].append((question_id, score))
    return per_tag


def _related_threads(articles: list[Article]) -> dict[int, tuple[RelatedThread, ...]]:
    """Per article: its source thread, then the best-scored threads sharing its tags (two
    queries for all articles: a per-tag top-N window, then the titles).

    The per-tag lists are kept until the next write (``generation_cached_many``), TAG_TOP_DEPTH
    deep: ranking a popular tag's threads costs tens of milliseconds at 100k threads, and an
    agent's searches keep meeting the same tags. A longer list of articles (other callers)
    reads them uncached."""
    tag_ids = {tag.pk for article in articles for tag in article.tags.all()}
    # Each source thread may take a slot in a tag's top list, hence the headroom.
    headroom = CONSOLE_RELATED_THREADS + len(articles)
    if headroom <= TAG_TOP_DEPTH:
        best = pagecache.generation_cached_many(
            {tag_id: f"console-tag-top:{tag_id}" for tag_id in tag_ids},
            lambda missing: _best_threads_by_tag(missing, TAG_TOP_DEPTH),
        )
    else:
        best = _best_threads_by_tag(tag_ids, headroom)
    per_tag = {tag_id: threads[:headroom] for tag_id, threads in best.items()}
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
        for q in Question.objects.filter(_public_threads_q(), pk__in=wanted)
        .order_by()  # a dict by id: see console_results_for_hits
        .only("id", "title", "accepted_answer_id")
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
            # Unordered (a dict by id): with an ORDER BY an index can serve, SQLite walks that
            # index over the whole table instead of looking the ids up.
            for a in article_list(viewer=viewer)
            .filter(pk__in=article_ids, status__in=Article.VISIBLE_STATUSES)
            .order_by()
        }
        if article_ids
        else {}
    )
    questions = (
        {
            q.pk: q
            for q in Question.objects.filter(_public_threads_q(), pk__in=question_ids)
            .order_by()
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
    from ..search import get_backend

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
