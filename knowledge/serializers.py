"""API shapes for validations, knowledge-base articles and search results."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from community.models import ProductArea, Tag
from community.serializers import AreaRefSerializer, absolute_url

from .models import Article, Validation
from .search.base import DOC_TYPES, SearchHit


class PersonSerializer(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()
    url = serializers.URLField()


def person(serializer: serializers.Serializer, user) -> dict:
    return {
        "username": user.username,
        "display_name": user.public_name,
        "url": absolute_url(serializer, user.get_absolute_url()),
    }


# --- Output ---------------------------------------------------------------------------------


class ValidationSerializer(serializers.ModelSerializer):
    answer_id = serializers.IntegerField(read_only=True)
    revision = serializers.IntegerField(
        source="revision.number", read_only=True, help_text="The answer revision validated."
    )
    validator = serializers.SerializerMethodField()
    as_staff = serializers.BooleanField(
        read_only=True, help_text="Validated as a moderator rather than as a certified expert."
    )
    # A plain string in the schema: a second enum named "status" (beside the article's) makes
    # drf-spectacular warn unless SPECTACULAR_SETTINGS names both in ENUM_NAME_OVERRIDES.
    status = serializers.CharField(
        read_only=True, help_text="active, stale (the answer was edited since) or revoked."
    )

    class Meta:
        model = Validation
        fields = [
            "id",
            "answer_id",
            "revision",
            "validator",
            "as_staff",
            "note",
            "status",
            "created_at",
            "revoked_at",
        ]

    @extend_schema_field(PersonSerializer)
    def get_validator(self, obj: Validation) -> dict:
        return person(self, obj.validator)


class ArticleRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()
    status = serializers.CharField()


class ValidateResultSerializer(serializers.Serializer):
    validation = ValidationSerializer()
    article = ArticleRefSerializer(help_text="The article the answer was promoted into.")


class ArticleSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    area = AreaRefSerializer(read_only=True)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="slug")
    source_question_id = serializers.IntegerField(read_only=True)
    source_answer_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = Article
        fields = [
            "id",
            "url",
            "title",
            "status",
            "area",
            "tags",
            "source_question_id",
            "source_answer_id",
            "created_at",
            "updated_at",
            "published_at",
        ]

    def get_url(self, obj: Article) -> str:
        return absolute_url(self, obj.get_absolute_url())


class SourceQuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.URLField()
    source_url = serializers.URLField(help_text="Where an imported question came from.")


class SourceAnswerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()
    author = PersonSerializer()
    source_url = serializers.URLField()
    source_author_name = serializers.CharField()
    source_author_url = serializers.URLField()


class ProvenanceSerializer(serializers.Serializer):
    source_question = SourceQuestionSerializer()
    source_answer = SourceAnswerSerializer()
    approved_revision = serializers.IntegerField(
        help_text="The answer revision whose text the article publishes."
    )
    validations = ValidationSerializer(many=True, help_text="Newest first, with their status.")


class ArticleDetailSerializer(ArticleSerializer):
    provenance = serializers.SerializerMethodField()

    class Meta(ArticleSerializer.Meta):
        fields = [
            *ArticleSerializer.Meta.fields,
            "problem",
            "problem_html",
            "solution",
            "solution_html",
            "review_reason",
            "provenance",
        ]

    @extend_schema_field(ProvenanceSerializer)
    def get_provenance(self, obj: Article) -> dict:
        # Everything below was loaded by knowledge.selectors.article_get.
        question, answer = obj.source_question, obj.source_answer
        return {
            "source_question": {
                "id": question.pk,
                "title": question.title,
                "url": absolute_url(self, question.get_absolute_url()),
                "source_url": question.source_url,
            },
            "source_answer": {
                "id": answer.pk,
                "url": absolute_url(self, answer.get_absolute_url()),
                "author": person(self, answer.author),
                "source_url": answer.source_url,
                "source_author_name": answer.source_author_name,
                "source_author_url": answer.source_author_url,
            },
            "approved_revision": obj.approved_revision.number,
            "validations": ValidationSerializer(
                answer.validations.all(), many=True, context=self.context
            ).data,
        }


class SearchHitSerializer(serializers.Serializer):
    id = serializers.CharField(help_text='"article:<id>" or "question:<id>".')
    type = serializers.ChoiceField(choices=DOC_TYPES)
    type_label = serializers.CharField()
    title = serializers.CharField()
    snippet = serializers.CharField(help_text="Sanitized HTML; matches are wrapped in <mark>.")
    url = serializers.SerializerMethodField()
    area = serializers.CharField(help_text="Product area slug.")
    tags = serializers.ListField(child=serializers.CharField())
    score = serializers.FloatField()
    source_url = serializers.CharField()

    def get_url(self, obj: SearchHit) -> str:
        return absolute_url(self, obj.url)


class SearchResponseSerializer(serializers.Serializer):
    query = serializers.CharField()
    count = serializers.IntegerField(help_text="Total matches.")
    page = serializers.IntegerField()
    num_pages = serializers.IntegerField()
    results = SearchHitSerializer(many=True)
    facets = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField()),
        help_text='Counts by facet, e.g. {"type": {"article": 3}, "area": {...}}.',
    )


# --- Input ----------------------------------------------------------------------------------


class ValidateSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class RevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Why the validation no longer holds.")


class ArticleListParamsSerializer(serializers.Serializer):
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


MAX_SEARCH_PAGE_SIZE = 50


class SearchParamsSerializer(serializers.Serializer):
    q = serializers.CharField(
        max_length=200,
        help_text="What to search for.",
        error_messages={
            "required": "Enter something to search for.",
            "blank": "Enter something to search for.",
        },
    )
    area = serializers.SlugField(required=False, help_text="Product area slug.")
    tag = serializers.SlugField(required=False, max_length=64, help_text="Tag slug.")
    type = serializers.ChoiceField(
        choices=DOC_TYPES,
        required=False,
        help_text='"thread" matches threads with or without an accepted answer.',
    )
    page = serializers.IntegerField(required=False, min_value=1, default=1)
    page_size = serializers.IntegerField(
        required=False,
        min_value=1,
        default=10,
        help_text=f"Results per page, at most {MAX_SEARCH_PAGE_SIZE} (larger values are capped).",
    )

    def validate_page_size(self, value: int) -> int:
        return min(value, MAX_SEARCH_PAGE_SIZE)
