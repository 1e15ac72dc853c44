"""API shapes for community data. Input serializers only check presence and types; the services
own the rules (lengths, tag limits, permissions) so pages and API refuse the same things.

Output serializers read from selector querysets and never query per row: expert badges come
from a ``expert_pairs`` set in the context, the thread's question from ``question`` when given.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import Answer, PostStatus, ProductArea, Question, Tag


def absolute_url(serializer: serializers.Serializer, path: str) -> str:
    request = serializer.context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


# --- Output ---------------------------------------------------------------------------------


class AreaSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = ProductArea
        fields = ["slug", "name", "description", "url"]

    def get_url(self, obj: ProductArea) -> str:
        return absolute_url(self, obj.get_absolute_url())


class AreaRefSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()


class AuthorSerializer(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()
    url = serializers.URLField()
    is_expert_in_area = serializers.BooleanField(
        help_text="The author holds an active certification for the post's product area."
    )
    is_placeholder = serializers.BooleanField(
        help_text="An inactive account standing in for an imported author."
    )


class PostSerializer(serializers.ModelSerializer):
    """Fields shared by questions and answers: author, rendered body, attribution."""

    author = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    body_html = serializers.CharField(read_only=True, help_text="Rendered and sanitized Markdown.")
    status = serializers.ChoiceField(
        choices=PostStatus.choices,
        read_only=True,
        help_text="Pending and hidden posts are shown only to their author and staff.",
    )

    class Meta:
        fields = [
            "id",
            "url",
            "body",
            "body_html",
            "author",
            "score",
            "status",
            "created_at",
            "updated_at",
            "source_url",
            "source_author_name",
            "source_author_url",
        ]

    def _area_id(self, obj) -> int:
        raise NotImplementedError

    @extend_schema_field(AuthorSerializer)
    def get_author(self, obj) -> dict:
        author = obj.author
        pairs = self.context.get("expert_pairs", frozenset())
        return {
            "username": author.username,
            "display_name": author.public_name,
            "url": absolute_url(self, author.get_absolute_url()),
            "is_expert_in_area": (author.pk, self._area_id(obj)) in pairs,
            "is_placeholder": author.is_placeholder,
        }

    def get_url(self, obj) -> str:
        return absolute_url(self, obj.get_absolute_url())


class QuestionSerializer(PostSerializer):
    area = AreaRefSerializer(read_only=True)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="slug")
    accepted_answer_id = serializers.IntegerField(read_only=True, allow_null=True)
    has_accepted_answer = serializers.SerializerMethodField()

    class Meta(PostSerializer.Meta):
        model = Question
        fields = [
            "id",
            "url",
            "title",
            *PostSerializer.Meta.fields[2:],
            "area",
            "tags",
            "answer_count",
            "accepted_answer_id",
            "has_accepted_answer",
            "last_activity_at",
        ]

    def _area_id(self, obj: Question) -> int:
        return obj.area_id

    def get_has_accepted_answer(self, obj: Question) -> bool:
        return obj.accepted_answer_id is not None


class AnswerSerializer(PostSerializer):
    question_id = serializers.IntegerField(read_only=True)
    accepted = serializers.SerializerMethodField()
    validated = serializers.SerializerMethodField(
        help_text="The answer holds an active validation by an expert or moderator."
    )

    class Meta(PostSerializer.Meta):
        model = Answer
        fields = [
            *PostSerializer.Meta.fields,
            "question_id",
            "accepted",
            "validated",
            "validated_at",
            "revision_count",
        ]

    def _question(self, obj: Answer) -> Question:
        # In a thread the view passes the question; otherwise the selector joined it.
        question = self.context.get("question")
        return question if question is not None else obj.question

    def _area_id(self, obj: Answer) -> int:
        return self._question(obj).area_id

    def get_accepted(self, obj: Answer) -> bool:
        return self._question(obj).accepted_answer_id == obj.pk

    def get_validated(self, obj: Answer) -> bool:
        return obj.validated_at is not None


class QuestionDetailSerializer(QuestionSerializer):
    answers = serializers.SerializerMethodField(
        help_text="Validated answers first, then the accepted one, then by score."
    )

    class Meta(QuestionSerializer.Meta):
        fields = [*QuestionSerializer.Meta.fields, "answers"]

    @extend_schema_field(AnswerSerializer(many=True))
    def get_answers(self, obj: Question) -> list[dict]:
        return AnswerSerializer(
            self.context.get("answers", []), many=True, context={**self.context, "question": obj}
        ).data


class VoteResultSerializer(serializers.Serializer):
    value = serializers.IntegerField(help_text="Your vote now: 1, -1 or 0.")
    score = serializers.IntegerField(help_text="The post's score after your vote.")


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")


class AcceptResultSerializer(serializers.Serializer):
    question_id = serializers.IntegerField()
    accepted_answer_id = serializers.IntegerField(allow_null=True)


# --- Input ----------------------------------------------------------------------------------


class QuestionListParamsSerializer(serializers.Serializer):
    area = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=ProductArea.objects.all(),
        required=False,
        help_text="Product area slug.",
        error_messages={"does_not_exist": "There is no product area “{value}”."},
    )
    tag = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Tag.objects.all(),
        required=False,
        help_text="Tag slug.",
        error_messages={"does_not_exist": "There is no tag “{value}”."},
    )
    unanswered = serializers.BooleanField(
        required=False, default=False, help_text="Only questions without answers, newest first."
    )


class QuestionCreateSerializer(serializers.Serializer):
    title = serializers.CharField()
    body = serializers.CharField(help_text="Markdown.")
    area = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=ProductArea.objects.all(),
        help_text="Product area slug.",
        error_messages={"does_not_exist": "There is no product area “{value}”."},
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, default=list
    )


class QuestionEditSerializer(serializers.Serializer):
    """A partial edit: omitted fields keep their current value."""

    title = serializers.CharField(required=False)
    body = serializers.CharField(required=False, help_text="Markdown.")
    tags = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    summary = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class AnswerCreateSerializer(serializers.Serializer):
    body = serializers.CharField(help_text="Markdown.")


class AnswerEditSerializer(serializers.Serializer):
    body = serializers.CharField(help_text="Markdown.")
    summary = serializers.CharField(required=False, allow_blank=True, max_length=300, default="")


class VoteSerializer(serializers.Serializer):
    value = serializers.ChoiceField(
        choices=[(1, "up"), (-1, "down"), (0, "withdraw")],
        help_text="1 (up), -1 (down) or 0 (withdraw your vote).",
    )
