"""The knowledge REST API: validating answers, reading articles with their provenance, search."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from community import selectors as community_selectors
from community.api import ApiView, errors, valid

from . import selectors, services
from .serializers import (
    ArticleDetailSerializer,
    ArticleListParamsSerializer,
    ArticleSerializer,
    RevokeSerializer,
    SearchParamsSerializer,
    SearchResponseSerializer,
    ValidateResultSerializer,
    ValidateSerializer,
    ValidationSerializer,
)


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
        page = self.paginate_queryset(selectors.article_list(viewer=request.user, **params))
        data = ArticleSerializer(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)


class ArticleDetailView(ApiView):
    @extend_schema(
        responses={200: ArticleDetailSerializer, **errors(404)},
        summary="An article with its provenance",
    )
    def get(self, request: Request, pk: int) -> Response:
        article = selectors.article_get(viewer=request.user, pk=pk)
        return Response(
            ArticleDetailSerializer(article, context=self.get_serializer_context()).data
        )


class SearchView(ApiView):
    pagination_class = None  # the search backend pages its own results

    @extend_schema(
        parameters=[SearchParamsSerializer],
        responses={200: SearchResponseSerializer, **errors(400)},
        summary="Search articles and threads",
    )
    def get(self, request: Request) -> Response:
        params = valid(SearchParamsSerializer, request.query_params)
        results = selectors.search_run(
            viewer=request.user,
            query=params["q"],
            area=params.get("area"),
            tag=params.get("tag"),
            type=params.get("type"),
            page=params["page"],
            page_size=params["page_size"],
        )
        body = {
            "query": results.query,
            "count": results.total,
            "page": results.page,
            "num_pages": results.num_pages,
            "results": results.hits,
            "facets": results.facets,
        }
        return Response(SearchResponseSerializer(body, context=self.get_serializer_context()).data)
