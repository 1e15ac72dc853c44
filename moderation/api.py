"""The moderation REST API: members flag questions and answers."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from community import selectors as community_selectors
from community.api import ApiView, errors, valid
from community.models import Answer, Question

from . import services
from .models import Flag


class FlagCreateSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=Flag.Reason.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    duplicate_of = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="With reason `duplicate`: the id of the question this one duplicates.",
    )


class FlagSerializer(serializers.ModelSerializer):
    post_type = serializers.CharField(source="post_kind", read_only=True)
    post_id = serializers.SerializerMethodField()

    class Meta:
        model = Flag
        fields = ["id", "post_type", "post_id", "reason", "note", "duplicate_of", "status"]
        fields += ["created_at"]
        read_only_fields = fields

    def get_post_id(self, obj: Flag) -> int:
        return obj.question_id or obj.answer_id  # type: ignore[return-value]


def flag_schema(summary: str):
    return extend_schema(
        request=FlagCreateSerializer,
        responses={201: FlagSerializer, **errors(400, 401, 403, 404, 429)},
        summary=summary,
        description=(
            "Report a post to the moderators, once per post. Enough flags from trusted members "
            "hide the post until a moderator reviews it."
        ),
    )


def _flag(request: Request, post: Question | Answer) -> Response:
    data = valid(FlagCreateSerializer, request.data)
    duplicate_of = None
    if data["duplicate_of"] is not None:
        duplicate_of = (
            community_selectors.question_list(viewer=request.user)
            .filter(pk=data["duplicate_of"])
            .first()
        )
        if duplicate_of is None:
            raise ValidationError({"duplicate_of": "No visible question has that id."})
    flag = services.flag_create(
        reporter=request.user,
        post=post,
        reason=data["reason"],
        note=data["note"],
        duplicate_of=duplicate_of,
    )
    return Response(FlagSerializer(flag).data, status=status.HTTP_201_CREATED)


class QuestionFlagView(ApiView):
    @flag_schema("Flag a question")
    def post(self, request: Request, pk: int) -> Response:
        return _flag(request, community_selectors.question_get(viewer=request.user, pk=pk))


class AnswerFlagView(ApiView):
    @flag_schema("Flag an answer")
    def post(self, request: Request, pk: int) -> Response:
        return _flag(request, community_selectors.answer_get(viewer=request.user, pk=pk))
