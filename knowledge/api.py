"""The knowledge REST API: validating answers, reading articles with their provenance, search."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from community import selectors as community_selectors
from community.api import ApiView, errors, valid

from . import rules, selectors, services
from .models import SearchQueryLog
from .search.base import SearchUnavailable
from .serializers import (
    ArticleCreateSerializer,
    ArticleDetailSerializer,
    ArticleListParamsSerializer,
    ArticleSerializer,
    ConsoleSearchClickSerializer,
    ConsoleSearchParamsSerializer,
    ConsoleSearchResponseSerializer,
    CorrectionSerializer,
    CorrectResultSerializer,
    CorrectSerializer,
    CoverSerializer,
    ReasonSerializer,
    RecentArticleSerializer,
    ReviewActionSerializer,
    ReviewItemSerializer,
    RevokeSerializer,
    SearchHitSerializer,
    SearchParamsSerializer,
    SearchResponseSerializer,
    SimilarParamsSerializer,
    SourceAddSerializer,
    StandingSerializer,
    UsageCreateSerializer,
    UsageSerializer,
    ValidateResultSerializer,
    ValidateSerializer,
    ValidationSerializer,
    standing_data,
)
from .services import search_log


class AnswerValidateView(ApiView):
    @extend_schema(
        request=ValidateSerializer,
        responses={201: ValidateResultSerializer, **errors(400, 401, 403, 404, 429)},
        summary="Validate an answer",
        description=(
            "Moderators and experts certified for the question's area validate the answer's "
            "current revision, which publishes it as a knowledge-base article."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        answer = community_selectors.answer_get(viewer=request.user, pk=pk)
        data = valid(ValidateSerializer, request.data)
        validation = services.answer_validate(answer=answer, validator=request.user, **data)
        article = selectors.articles_by_answer(viewer=request.user, answers=[answer]).get(answer.pk)
        context = self.get_serializer_context()
        body = {
            "validation": ValidationSerializer(validation, context=context).data,
            "article": article
            and {
                "id": article.pk,
                "url": request.build_absolute_uri(article.get_absolute_url()),
                "status": article.status,
            },
        }
        return Response(body, status=status.HTTP_201_CREATED)


class ValidationRevokeView(ApiView):
    @extend_schema(
        request=RevokeSerializer,
        responses={200: ValidationSerializer, **errors(400, 401, 403, 404)},
        summary="Revoke a validation",
        description=(
            "The validator or a moderator. When no active validation is left, the article goes "
            "back to draft and leaves search."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        validation = selectors.validation_get(pk=pk)
        data = valid(RevokeSerializer, request.data)
        validation = services.validation_revoke(validation=validation, actor=request.user, **data)
        return Response(
            ValidationSerializer(validation, context=self.get_serializer_context()).data
        )


class ArticleListView(ApiView):
    @extend_schema(
        parameters=[ArticleListParamsSerializer],
        responses={200: ArticleSerializer(many=True), **errors(400)},
        summary="Knowledge-base articles",
        description="Published articles (and those under review); staff also see drafts.",
    )
    def get(self, request: Request) -> Response:
        params = valid(ArticleListParamsSerializer, request.query_params)
        page = self.paginate_queryset(
            selectors.article_list_with_sources(viewer=request.user, **params)
        )
        context = {
            **self.get_serializer_context(),
            "standings": selectors.standings_for_articles(articles=page),
        }
        data = ArticleSerializer(page, many=True, context=context).data
        return self.get_paginated_response(data)

    @extend_schema(
        request=ArticleCreateSerializer,
        responses={201: ArticleDetailSerializer, **errors(400, 401, 403)},
        summary="Write an article",
        description="Moderators write an article directly (internal by default).",
    )
    def post(self, request: Request) -> Response:
        data = valid(ArticleCreateSerializer, request.data)
        article = services.article_create(author=request.user, **data)
        return Response(
            article_detail_data(self, request, article.pk), status=status.HTTP_201_CREATED
        )


class ArticleDetailView(ApiView):
    @extend_schema(
        responses={200: ArticleDetailSerializer, **errors(404)},
        summary="An article with its provenance",
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(article_detail_data(self, request, pk))


class SearchBusy(APIException):
    """503 for a search the backend's time limit cancelled (search.base.SearchUnavailable)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Search is busy right now. Nothing was lost: try again in a moment."
    default_code = "search_unavailable"
    wait = 1  # DRF's handler turns it into a Retry-After header


class SearchingApiView(ApiView):
    """An API view that reads the search index: a search the backend gave up on is a 503."""

    def handle_exception(self, exc):
        if isinstance(exc, SearchUnavailable):
            exc = SearchBusy()
        return super().handle_exception(exc)


class SearchView(SearchingApiView):
    pagination_class = None  # the search backend pages its own results

    @extend_schema(
        parameters=[SearchParamsSerializer],
        responses={200: SearchResponseSerializer, **errors(400, 503)},
        summary="Search articles and threads",
    )
    def get(self, request: Request) -> Response:
        params = valid(SearchParamsSerializer, request.query_params)
        filters = {k: params.get(k) for k in ("area", "tag", "type", "tier")}
        results = selectors.search_run(
            viewer=request.user,
            query=params["q"],
            page=params["page"],
            page_size=params["page_size"],
            correct=not params["exact"],
            **filters,
        )
        if params["page"] == 1:
            search_log.search_log_record(
                viewer=request.user,
                query=params["q"],
                source=SearchQueryLog.Source.API,
                hit_count=results.total,
                filters=filters,
                corrected_query=results.corrected_query,
            )
        body = {
            "query": results.query,
            "corrected_query": results.corrected_query,
            "count": results.total,
            "page": results.page,
            "num_pages": results.num_pages,
            "results": results.hits,
            "facets": results.facets,
        }
        return Response(SearchResponseSerializer(body, context=self.get_serializer_context()).data)


SIMILAR_MIN_LENGTH = 10


class SimilarView(SearchingApiView):
    pagination_class = None

    @extend_schema(
        parameters=[SimilarParamsSerializer],
        responses={200: SearchHitSerializer(many=True), **errors(400, 503)},
        summary="Articles and threads similar to a question being typed",
        description=(
            "What the ask page shows before a question is posted: validated articles and "
            "similar threads, best first. Texts shorter than 10 characters return an empty list."
        ),
    )
    def get(self, request: Request) -> Response:
        params = valid(SimilarParamsSerializer, request.query_params)
        text = params["q"].strip()
        if len(text) < SIMILAR_MIN_LENGTH:
            return Response([])
        hits = selectors.search_similar(viewer=request.user, text=text, limit=params["limit"])
        search_log.search_log_record(
            viewer=request.user,
            query=text,
            source=SearchQueryLog.Source.API,
            hit_count=len(hits),
            filters={"kind": "similar"},
        )
        return Response(
            SearchHitSerializer(hits, many=True, context=self.get_serializer_context()).data
        )


# --- Agent console ----------------------------------------------------------------------------


class CanUseConsole(BasePermission):
    """CSRs and staff (``rules.can_use_console``); anonymous callers get 401, members 403."""

    message = "The agent console is for support agents and staff."

    def has_permission(self, request: Request, view) -> bool:
        return rules.can_use_console(request.user)


class AgentSearchView(SearchingApiView):
    permission_classes = [CanUseConsole]
    pagination_class = None

    @extend_schema(
        parameters=[ConsoleSearchParamsSerializer],
        responses={200: ConsoleSearchResponseSerializer, **errors(400, 401, 403, 503)},
        summary="Agent console search",
        description=(
            "Public and internal articles and threads with validation tier, validators, "
            "freshness, usage, related threads and the solution ready to paste. CSRs and staff."
        ),
    )
    def get(self, request: Request) -> Response:
        params = valid(ConsoleSearchParamsSerializer, request.query_params)
        found = selectors.console_search(
            viewer=request.user, query=params["q"], limit=params["limit"]
        )
        # Agents' searches feed the content-gap report like customers' (role csr or moderator).
        log = search_log.search_log_record(
            viewer=request.user,
            query=found.query,
            source=SearchQueryLog.Source.CONSOLE,
            hit_count=found.total,
            refine=params["refine"],
        )
        body = {
            "query": found.query,
            "count": found.total,
            "results": found.results,
            "log": search_log.search_log_token(log),
        }
        return Response(
            ConsoleSearchResponseSerializer(body, context=self.get_serializer_context()).data
        )


class AgentSearchClickView(ApiView):
    permission_classes = [CanUseConsole]

    @extend_schema(
        request=ConsoleSearchClickSerializer,
        responses={204: None, **errors(400, 401, 403)},
        summary="Record which console result an agent used",
        description=(
            "Call when the agent opens, copies or records a result: the search's log keeps the "
            "latest result used. Unknown or expired `log` references are ignored (still 204)."
        ),
    )
    def post(self, request: Request) -> Response:
        data = valid(ConsoleSearchClickSerializer, request.data)
        search_log.search_log_click(token=data["log"], doc_id=data["doc"], user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AgentArticleUsageView(ApiView):
    permission_classes = [CanUseConsole]

    @extend_schema(
        request=UsageCreateSerializer,
        responses={201: UsageSerializer, **errors(400, 401, 403, 404, 429)},
        summary="Record that an article resolved a case",
        description="Feeds the usage ranking signal and the agent's recently used articles.",
    )
    def post(self, request: Request, pk: int) -> Response:
        article = selectors.article_get(viewer=request.user, pk=pk)
        data = valid(UsageCreateSerializer, request.data)
        usage = services.article_record_usage(
            article=article, user=request.user, case_ref=data["case_ref"]
        )
        body = {
            "id": usage.pk,
            "article_id": article.pk,
            "case_ref": usage.case_ref,
            "used_at": usage.used_at,
            "usage_count": selectors.article_usage_counts([article.pk])[article.pk],
        }
        return Response(UsageSerializer(body).data, status=status.HTTP_201_CREATED)


class AgentRecentView(ApiView):
    permission_classes = [CanUseConsole]
    pagination_class = None

    @extend_schema(
        responses={200: RecentArticleSerializer(many=True), **errors(401, 403)},
        summary="Articles I recently used for a case",
        description="The last 10 distinct articles, most recent first.",
    )
    def get(self, request: Request) -> Response:
        articles = selectors.article_usage_recent(user=request.user)
        return Response(
            RecentArticleSerializer(articles, many=True, context=self.get_serializer_context()).data
        )


# --- Trust: standing, corrections, the article lifecycle, review (issue 3) --------------------


def article_detail_data(view: ApiView, request: Request, pk: int) -> dict:
    """An article as ArticleDetailSerializer with its primary answer's standing (the viewer must
    be allowed to see it: 404 otherwise)."""
    article = selectors.article_get(viewer=request.user, pk=pk)
    standings = (
        selectors.answer_standings(answers=[article.source_answer])
        if article.source_answer_id
        else {}
    )
    context = {**view.get_serializer_context(), "standings": standings}
    return ArticleDetailSerializer(article, context=context).data


class AnswerStandingView(ApiView):
    pagination_class = None

    @extend_schema(
        responses={200: StandingSerializer, **errors(404)},
        summary="An answer's standing",
        description=(
            "Trust tiers with who and when: accepted by the asker, endorsed by the community "
            "(score threshold), validated by a certified expert or by staff (with the revision "
            "approved and its re-check date), and any live correction (not recommended or "
            "obsolete, with the recommended alternative)."
        ),
    )
    def get(self, request: Request, pk: int) -> Response:
        answer = selectors.answer_get_for_standing(viewer=request.user, pk=pk)
        standing = selectors.answer_standings(answers=[answer])[answer.pk]
        return Response(
            standing_data(StandingSerializer(context=self.get_serializer_context()), standing)
        )


class QuestionStandingsView(ApiView):
    pagination_class = None

    @extend_schema(
        responses={200: StandingSerializer(many=True), **errors(404)},
        summary="Standing of every answer in a thread",
        description="In thread order (validated first, then accepted, then by score).",
    )
    def get(self, request: Request, pk: int) -> Response:
        question = community_selectors.question_get(viewer=request.user, pk=pk)
        answers = selectors.answers_for_standing(viewer=request.user, question=question)
        standings = selectors.answer_standings(answers=answers)
        shell = StandingSerializer(context=self.get_serializer_context())
        return Response([standing_data(shell, standings[a.pk]) for a in answers])


class AnswerCorrectView(ApiView):
    @extend_schema(
        request=CorrectSerializer,
        responses={201: CorrectResultSerializer, **errors(400, 401, 403, 404, 429)},
        summary="Mark an answer not recommended (or obsolete)",
        description=(
            "Moderators and experts certified for the area. Point to another answer of the "
            "thread (alternative_id) or write one (alternative_body, posted as yours); the "
            "alternative is validated in the same step. Articles carrying the answer go to review."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        answer = selectors.answer_get_for_standing(viewer=request.user, pk=pk)
        data = valid(CorrectSerializer, request.data)
        alternative_id = data.pop("alternative_id", None)
        alternative = (
            community_selectors.answer_get(viewer=request.user, pk=alternative_id)
            if alternative_id
            else None
        )
        correction = services.answer_correct(
            answer=answer, corrector=request.user, alternative=alternative, **data
        )
        answer = selectors.answer_get_for_standing(viewer=request.user, pk=pk)
        standing = selectors.answer_standings(answers=[answer])[answer.pk]
        context = self.get_serializer_context()
        body = {
            "correction": CorrectionSerializer(correction, context=context).data,
            "standing": standing_data(StandingSerializer(context=context), standing),
        }
        return Response(body, status=status.HTTP_201_CREATED)


class CorrectionReverseView(ApiView):
    @extend_schema(
        request=ReasonSerializer,
        responses={200: CorrectionSerializer, **errors(400, 401, 403, 404)},
        summary="Reverse a correction",
        description="Moderators only; the alternative keeps its own validation.",
    )
    def post(self, request: Request, pk: int) -> Response:
        correction = selectors.correction_get(pk=pk)
        data = valid(ReasonSerializer, request.data)
        correction = services.correction_reverse(correction=correction, actor=request.user, **data)
        return Response(
            CorrectionSerializer(correction, context=self.get_serializer_context()).data
        )


class ArticleRetireView(ApiView):
    @extend_schema(
        request=ReasonSerializer,
        responses={200: ArticleDetailSerializer, **errors(400, 401, 403, 404)},
        summary="Retire an article",
        description='Moderators, with a reason (e.g. "applies to v1 only").',
    )
    def post(self, request: Request, pk: int) -> Response:
        article = selectors.article_get(viewer=request.user, pk=pk)
        data = valid(ReasonSerializer, request.data)
        services.article_retire(article=article, actor=request.user, **data)
        return Response(article_detail_data(self, request, pk))


class ArticleUnretireView(ApiView):
    @extend_schema(
        request=None,
        responses={200: ArticleDetailSerializer, **errors(400, 401, 403, 404)},
        summary="Bring a retired article back",
        description="Published if its approved text is still validated, otherwise to review.",
    )
    def post(self, request: Request, pk: int) -> Response:
        article = selectors.article_get(viewer=request.user, pk=pk)
        services.article_unretire(article=article, actor=request.user)
        return Response(article_detail_data(self, request, pk))


class ArticleReviewView(ApiView):
    @extend_schema(
        request=ReviewActionSerializer,
        responses={200: ArticleDetailSerializer, **errors(400, 401, 403, 404)},
        summary="Review an article",
        description=(
            "Moderators. reapprove: validate the sources' current text and publish it; keep: "
            "publish the approved text again with a new re-check date."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        article = selectors.article_get(viewer=request.user, pk=pk)
        data = valid(ReviewActionSerializer, request.data)
        action = {
            "reapprove": services.article_review_reapprove,
            "keep": services.article_review_keep,
        }[data["action"]]
        action(article=article, reviewer=request.user, note=data["note"])
        return Response(article_detail_data(self, request, pk))


class ArticleSourcesView(ApiView):
    @extend_schema(
        request=SourceAddSerializer,
        responses={201: ArticleDetailSerializer, **errors(400, 401, 403, 404)},
        summary="Merge another validated answer into an article",
        description="Moderators. The answer's thread then points at the article.",
    )
    def post(self, request: Request, pk: int) -> Response:
        article = selectors.article_get(viewer=request.user, pk=pk)
        data = valid(SourceAddSerializer, request.data)
        answer = community_selectors.answer_get(viewer=request.user, pk=data["answer_id"])
        services.article_source_add(article=article, answer=answer, actor=request.user)
        return Response(article_detail_data(self, request, pk), status=status.HTTP_201_CREATED)


class ReviewQueueView(ApiView):
    pagination_class = None

    @extend_schema(
        responses={200: ReviewItemSerializer(many=True), **errors(401, 403)},
        summary="The review queue",
        description=(
            "Staff. Articles waiting for review with the reason and, per source answer, the diff "
            "from the approved revision to the current text."
        ),
    )
    def get(self, request: Request) -> Response:
        items = selectors.review_queue(viewer=request.user)
        context = {
            **self.get_serializer_context(),
            "standings": selectors.standings_for_articles(articles=[i.article for i in items]),
        }
        return Response(ReviewItemSerializer(items, many=True, context=context).data)


class QuestionCoverView(ApiView):
    @extend_schema(
        request=CoverSerializer,
        responses={200: CoverSerializer, **errors(400, 401, 403, 404)},
        summary="Point a thread at the article that answers it",
        description="Moderators. The thread then shows a banner linking to the article.",
    )
    def put(self, request: Request, pk: int) -> Response:
        question = community_selectors.question_get(viewer=request.user, pk=pk)
        data = valid(CoverSerializer, request.data)
        article = selectors.article_get(viewer=request.user, pk=data["article_id"])
        services.question_cover(question=question, article=article, actor=request.user)
        return Response({"article_id": article.pk})

    @extend_schema(
        request=None,
        responses={204: None, **errors(401, 403, 404)},
        summary="Remove a thread's pointer to an article",
    )
    def delete(self, request: Request, pk: int) -> Response:
        question = community_selectors.question_get(viewer=request.user, pk=pk)
        services.question_uncover(question=question, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
