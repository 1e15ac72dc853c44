"""The community REST API: thin views that parse input, call a service or selector, and render.

Permissions are the services' (the same predicates as the HTML pages); the view-level permission
class only turns anonymous writes into 401 before any lookup happens.
"""

from __future__ import annotations

from collections.abc import Iterable

from allauth.account.utils import has_verified_email
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.throttling import SimpleRateThrottle

from . import rules, selectors, services
from .models import Answer, Question
from .serializers import (
    AcceptResultSerializer,
    AnswerCreateSerializer,
    AnswerEditSerializer,
    AnswerSerializer,
    AreaSerializer,
    QuestionCreateSerializer,
    QuestionDetailSerializer,
    QuestionEditSerializer,
    QuestionListParamsSerializer,
    QuestionSerializer,
    TokenSerializer,
    VoteResultSerializer,
    VoteSerializer,
)

# Token first: DRF answers an unauthenticated request with the *first* class's WWW-Authenticate
# header, and only a class that has one turns "not authenticated" into 401 instead of 403.
API_AUTHENTICATION = [TokenAuthentication, SessionAuthentication]

ERRORS = {
    400: OpenApiResponse(description="Invalid input: field names map to messages."),
    401: OpenApiResponse(description="Sign in (session) or send `Authorization: Token <key>`."),
    403: OpenApiResponse(description="Not allowed; `detail` says why."),
    404: OpenApiResponse(description="Not found, or not visible to you."),
    429: OpenApiResponse(description="Too many writes; see the Retry-After header."),
    503: OpenApiResponse(description="Busy (a time limit cancelled the read); retry later."),
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: ERRORS[code] for code in codes}


def valid(serializer_class: type[Serializer], data, **kwargs) -> dict:
    """Validated input of ``serializer_class`` for ``data``; raises a DRF 400 with field errors."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# Base for every Peerdesk API view: explicit authentication order, no implicit filtering (query
# parameters are parsed by a serializer and handed to a selector). A comment, not a docstring:
# drf-spectacular would publish an inherited docstring as every operation's description.
class ApiView(generics.GenericAPIView):
    authentication_classes = API_AUTHENTICATION
    filter_backends = ()

    def post_context(self, posts: Iterable[Question | Answer], area_ids: Iterable[int]) -> dict:
        """Serializer context with the expert badges of ``posts``' authors (one query)."""
        pairs = selectors.certification_pairs_for(
            user_ids={p.author_id for p in posts}, area_ids=set(area_ids)
        )
        return {**self.get_serializer_context(), "expert_pairs": pairs}

    def question_detail(self, request: Request, question_id: int) -> dict:
        question = selectors.question_get(viewer=request.user, pk=question_id)
        answers = list(selectors.answer_list_for_question(viewer=request.user, question=question))
        context = self.post_context([question, *answers], [question.area_id])
        return QuestionDetailSerializer(question, context={**context, "answers": answers}).data

    def answer_detail(self, request: Request, answer_id: int) -> dict:
        answer = selectors.answer_get(viewer=request.user, pk=answer_id)
        context = self.post_context([answer], [answer.question.area_id])
        return AnswerSerializer(answer, context=context).data


class AreaListView(ApiView):
    pagination_class = None  # a handful of product areas

    @extend_schema(responses=AreaSerializer(many=True), summary="Product areas")
    def get(self, request: Request) -> Response:
        areas = selectors.area_list()
        return Response(AreaSerializer(areas, many=True, context={"request": request}).data)


class QuestionListView(ApiView):
    @extend_schema(
        parameters=[QuestionListParamsSerializer],
        responses={200: QuestionSerializer(many=True), **errors(400)},
        summary="List questions",
        description="Most recent activity first (`unanswered=true`: newest first).",
    )
    def get(self, request: Request) -> Response:
        params = valid(QuestionListParamsSerializer, request.query_params)
        # By id, the member's own unlisted questions leave the list to the activity index:
        # "visible OR mine" made SQLite sort every visible question (252 ms at 100k threads).
        questions = selectors.question_list(viewer=request.user, own_unlisted_by_id=True, **params)
        page = self.paginate_queryset(questions)
        context = self.post_context(page, {q.area_id for q in page})
        return self.get_paginated_response(
            QuestionSerializer(page, many=True, context=context).data
        )

    @extend_schema(
        request=QuestionCreateSerializer,
        responses={201: QuestionDetailSerializer, **errors(400, 401, 403, 429)},
        summary="Ask a question",
    )
    def post(self, request: Request) -> Response:
        data = valid(QuestionCreateSerializer, request.data)
        question = services.question_create(author=request.user, **data)
        return Response(self.question_detail(request, question.pk), status=status.HTTP_201_CREATED)


class QuestionDetailView(ApiView):
    @extend_schema(
        responses={200: QuestionDetailSerializer, **errors(404)},
        summary="A question with its answers",
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(self.question_detail(request, pk))

    @extend_schema(
        request=QuestionEditSerializer,
        responses={200: QuestionDetailSerializer, **errors(400, 401, 403, 404)},
        summary="Edit a question",
        description="Omitted fields keep their current value. Kept as a new revision.",
    )
    def patch(self, request: Request, pk: int) -> Response:
        question = selectors.question_get(viewer=request.user, pk=pk)
        data = valid(QuestionEditSerializer, request.data)
        services.question_edit(
            question=question,
            editor=request.user,
            title=data.get("title", question.title),
            body=data.get("body", question.body),
            tags=data.get("tags", [t.slug for t in question.tags.all()]),
            summary=data["summary"],
        )
        return Response(self.question_detail(request, pk))


class QuestionAnswersView(ApiView):
    @extend_schema(
        responses={200: AnswerSerializer(many=True), **errors(404)},
        summary="Answers to a question",
        description="Validated answers first, then the accepted one, then by score.",
    )
    def get(self, request: Request, pk: int) -> Response:
        question = selectors.question_get(viewer=request.user, pk=pk)
        answers = selectors.answer_list_for_question(viewer=request.user, question=question)
        page = self.paginate_queryset(answers)
        context = {**self.post_context(page, [question.area_id]), "question": question}
        return self.get_paginated_response(AnswerSerializer(page, many=True, context=context).data)

    @extend_schema(
        request=AnswerCreateSerializer,
        responses={201: AnswerSerializer, **errors(400, 401, 403, 404, 429)},
        summary="Answer a question",
    )
    def post(self, request: Request, pk: int) -> Response:
        question = selectors.question_get(viewer=request.user, pk=pk)
        data = valid(AnswerCreateSerializer, request.data)
        answer = services.answer_create(question=question, author=request.user, **data)
        return Response(self.answer_detail(request, answer.pk), status=status.HTTP_201_CREATED)


class AnswerDetailView(ApiView):
    @extend_schema(responses={200: AnswerSerializer, **errors(404)}, summary="An answer")
    def get(self, request: Request, pk: int) -> Response:
        return Response(self.answer_detail(request, pk))

    @extend_schema(
        request=AnswerEditSerializer,
        responses={200: AnswerSerializer, **errors(400, 401, 403, 404)},
        summary="Edit an answer",
        description="Kept as a new revision. Editing a validated answer sends its article to review.",
    )
    def patch(self, request: Request, pk: int) -> Response:
        answer = selectors.answer_get(viewer=request.user, pk=pk)
        data = valid(AnswerEditSerializer, request.data)
        services.answer_edit(answer=answer, editor=request.user, **data)
        return Response(self.answer_detail(request, pk))


def vote_schema(summary: str):
    return extend_schema(
        request=VoteSerializer,
        responses={200: VoteResultSerializer, **errors(400, 401, 403, 404, 429)},
        summary=summary,
        description="Up, down or withdraw (0). You cannot vote on your own post.",
    )


def vote(request: Request, post: Question | Answer) -> Response:
    value = valid(VoteSerializer, request.data)["value"]
    score = services.vote_cast(user=request.user, post=post, value=value)
    return Response({"value": value, "score": score})


class QuestionVoteView(ApiView):
    @vote_schema("Vote on a question")
    def post(self, request: Request, pk: int) -> Response:
        return vote(request, selectors.question_get(viewer=request.user, pk=pk))


class AnswerVoteView(ApiView):
    @vote_schema("Vote on an answer")
    def post(self, request: Request, pk: int) -> Response:
        return vote(request, selectors.answer_get(viewer=request.user, pk=pk))


class AnswerAcceptView(ApiView):
    @extend_schema(
        request=None,
        responses={200: AcceptResultSerializer, **errors(401, 403, 404)},
        summary="Accept an answer",
        description="The asker (or a moderator) marks this answer as the accepted one.",
    )
    def post(self, request: Request, pk: int) -> Response:
        answer = selectors.answer_get(viewer=request.user, pk=pk)
        question = services.answer_accept(answer=answer, user=request.user)
        return Response(self._result(question))

    @extend_schema(
        request=None,
        responses={200: AcceptResultSerializer, **errors(401, 403, 404)},
        summary="Withdraw an acceptance",
        description="Does nothing when this answer is not the accepted one.",
    )
    def delete(self, request: Request, pk: int) -> Response:
        answer = selectors.answer_get(viewer=request.user, pk=pk)
        question = answer.question
        if question.accepted_answer_id == answer.pk:
            question = services.answer_unaccept(question=question, user=request.user)
        else:
            # Refuse a stranger even when there is nothing to undo, so the reply does not
            # depend on the thread's state.
            rules.check_accept_answer(request.user, answer)
        return Response(self._result(question))

    @staticmethod
    def _result(question: Question) -> dict:
        return {"question_id": question.pk, "accepted_answer_id": question.accepted_answer_id}


class TokenObtainThrottle(SimpleRateThrottle):
    """Slows password guessing through the token endpoint (allauth guards only the login form)."""

    scope = "auth-token"
    rate = "10/min"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TokenObtainView(ObtainAuthToken):
    """Exchange a username (or email) and password for an API token."""

    throttle_classes = (TokenObtainThrottle,)

    @extend_schema(summary="Get an API token", responses={200: TokenSerializer, **errors(400, 429)})
    def post(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        # The login form refuses unverified addresses (mandatory verification); so does this door.
        if not has_verified_email(user):
            raise ValidationError(
                {"non_field_errors": ["Verify your email address before requesting a token."]}
            )
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
