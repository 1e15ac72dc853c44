"""API shapes for validations, knowledge-base articles and search results."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.timesince import timesince
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from community.models import ProductArea, Tag
from community.serializers import AreaRefSerializer, absolute_url

from .models import AnswerCorrection, Article, Validation
from .search.base import DOC_TYPES, TIERS, SearchHit


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
        read_only=True,
        help_text="active, stale (the answer was edited since), needs_recheck (the validator's "
        "certification ended), rechecked (another validator confirmed since) or revoked.",
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
            "recheck_at",
            "flag_reason",
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


class PersonAtSerializer(serializers.Serializer):
    person = PersonSerializer(allow_null=True)
    at = serializers.DateTimeField(allow_null=True)


class CorrectionSerializer(serializers.ModelSerializer):
    answer_id = serializers.IntegerField(read_only=True)
    kind = serializers.CharField(read_only=True, help_text="not_recommended or obsolete.")
    alternative_id = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The recommended answer."
    )
    alternative_url = serializers.SerializerMethodField()
    corrector = serializers.SerializerMethodField()

    class Meta:
        model = AnswerCorrection
        fields = [
            "id",
            "answer_id",
            "kind",
            "reason",
            "alternative_id",
            "alternative_url",
            "corrector",
            "as_staff",
            "created_at",
            "reversed_at",
            "reverse_reason",
        ]

    def get_alternative_url(self, obj: AnswerCorrection) -> str | None:
        if obj.alternative_id is None:
            return None
        return absolute_url(self, obj.alternative.get_absolute_url())

    @extend_schema_field(PersonSerializer)
    def get_corrector(self, obj: AnswerCorrection) -> dict:
        return person(self, obj.corrector)


class StandingSerializer(serializers.Serializer):
    answer_id = serializers.IntegerField()
    tier = serializers.CharField(
        help_text="The strongest tier: not_recommended, obsolete, validated_staff, "
        'validated_expert, endorsed, accepted, or "" for a plain community answer.'
    )
    tier_label = serializers.CharField()
    tiers = serializers.ListField(child=serializers.CharField(), help_text="Strongest first.")
    accepted = PersonAtSerializer(
        allow_null=True, help_text="Who accepted (the asker); when is not recorded yet."
    )
    endorsed = serializers.BooleanField()
    score = serializers.IntegerField()
    endorse_score = serializers.IntegerField(help_text="The score that counts as endorsed.")
    validations = ValidationSerializer(
        many=True, help_text="Active, stale and flagged validations, newest first."
    )
    needs_recheck = serializers.BooleanField(
        help_text="A validation is flagged because its validator's certification ended."
    )
    next_recheck_at = serializers.DateTimeField(allow_null=True)
    correction = CorrectionSerializer(allow_null=True)


def standing_data(serializer: serializers.Serializer, standing) -> dict:
    """A ``knowledge.standing.AnswerStanding`` as the StandingSerializer shape."""
    context = serializer.context
    return {
        "answer_id": standing.answer.pk,
        "tier": standing.tier,
        "tier_label": standing.tier_label,
        "tiers": standing.tiers,
        "accepted": {"person": person(serializer, standing.accepted_by), "at": None}
        if standing.accepted
        else None,
        "endorsed": standing.endorsed,
        "score": standing.score,
        "endorse_score": standing.endorse_score,
        "validations": ValidationSerializer(standing.validations, many=True, context=context).data,
        "needs_recheck": bool(standing.needs_recheck),
        "next_recheck_at": standing.next_recheck_at,
        "correction": CorrectionSerializer(standing.correction, context=context).data
        if standing.correction
        else None,
    }


class ArticleSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    area = AreaRefSerializer(read_only=True)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="slug")
    source_question_id = serializers.IntegerField(read_only=True, allow_null=True)
    source_answer_id = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Null for an article written by staff."
    )
    standing = serializers.SerializerMethodField(
        help_text="Trust tiers of the primary source answer."
    )

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
            "audience",
            "standing",
            "recheck_at",
            "created_at",
            "updated_at",
            "published_at",
        ]

    def get_url(self, obj: Article) -> str:
        return absolute_url(self, obj.get_absolute_url())

    @extend_schema_field(StandingSerializer(allow_null=True))
    def get_standing(self, obj: Article) -> dict | None:
        """The primary source answer's standing (null for staff-written articles)."""
        standing = self.context.get("standings", {}).get(obj.source_answer_id)
        return standing_data(self, standing) if standing is not None else None


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


class MergedSourceSerializer(serializers.Serializer):
    answer = SourceAnswerSerializer()
    question = SourceQuestionSerializer()
    revision = serializers.IntegerField(help_text="The answer revision merged.")
    added_by = PersonSerializer()
    added_at = serializers.DateTimeField()


class ProvenanceSerializer(serializers.Serializer):
    source_question = SourceQuestionSerializer(allow_null=True)
    source_answer = SourceAnswerSerializer(allow_null=True)
    approved_revision = serializers.IntegerField(
        allow_null=True, help_text="The answer revision whose text the article publishes."
    )
    validations = ValidationSerializer(many=True, help_text="Newest first, with their status.")
    merged_sources = MergedSourceSerializer(
        many=True, help_text="Further validated answers merged into the article."
    )


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

    def _question(self, question) -> dict:
        return {
            "id": question.pk,
            "title": question.title,
            "url": absolute_url(self, question.get_absolute_url()),
            "source_url": question.source_url,
        }

    def _answer(self, answer) -> dict:
        return {
            "id": answer.pk,
            "url": absolute_url(self, answer.get_absolute_url()),
            "author": person(self, answer.author),
            "source_url": answer.source_url,
            "source_author_name": answer.source_author_name,
            "source_author_url": answer.source_author_url,
        }

    @extend_schema_field(ProvenanceSerializer)
    def get_provenance(self, obj: Article) -> dict:
        # Everything below was loaded by knowledge.selectors.article_get.
        question, answer = obj.source_question, obj.source_answer
        merged = [
            {
                "answer": self._answer(source.answer),
                "question": self._question(source.answer.question),
                "revision": source.revision.number,
                "added_by": person(self, source.added_by),
                "added_at": source.added_at,
            }
            for source in obj.sources.all()
        ]
        return {
            "source_question": self._question(question) if question else None,
            "source_answer": self._answer(answer) if answer else None,
            "approved_revision": obj.approved_revision.number if obj.approved_revision else None,
            "validations": ValidationSerializer(
                answer.validations.all() if answer else [], many=True, context=self.context
            ).data,
            "merged_sources": merged,
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
    tier = serializers.CharField(
        source="tier_name",
        help_text="Standing of the best solution: " + ", ".join(TIERS) + ".",
    )

    def get_url(self, obj: SearchHit) -> str:
        return absolute_url(self, obj.url)


class SearchResponseSerializer(serializers.Serializer):
    query = serializers.CharField()
    corrected_query = serializers.CharField(
        help_text="When the query found (almost) nothing, the corrected spelling the results are "
        'for; "" otherwise. Repeat the search with exact=true to skip the correction.'
    )
    count = serializers.IntegerField(help_text="Total matches.")
    page = serializers.IntegerField()
    num_pages = serializers.IntegerField()
    results = SearchHitSerializer(many=True)
    facets = serializers.DictField(
        child=serializers.DictField(child=serializers.IntegerField()),
        help_text='Counts by facet (area, type, tag, tier), e.g. {"type": {"article": 3}}; '
        "tier counts verified tiers only and is absent when no match has one.",
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
    tier = serializers.CharField(
        required=False, help_text="Only this standing: " + ", ".join(TIERS) + "."
    )
    exact = serializers.BooleanField(
        required=False, default=False, help_text="Search the words as typed (no correction)."
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

    def validate_tier(self, value: str) -> str:
        if value not in TIERS:
            raise serializers.ValidationError(f"Choose one of: {', '.join(TIERS)}.")
        return value


class SimilarParamsSerializer(serializers.Serializer):
    q = serializers.CharField(
        max_length=300,
        help_text="The question being typed (title, optionally with its text).",
        error_messages={"required": "Send the question text as q.", "blank": "Send q."},
    )
    limit = serializers.IntegerField(required=False, min_value=1, max_value=10, default=5)


# --- Agent console ----------------------------------------------------------------------------


def freshness_label(when, now=None) -> str:
    """ "updated 3 days ago" (the largest unit only), or "updated just now"."""
    now = now or timezone.now()
    if now - when < dt.timedelta(minutes=1):
        return "updated just now"
    return f"updated {timesince(when, now, depth=1)} ago".replace("\xa0", " ")


class SnippetPartSerializer(serializers.Serializer):
    text = serializers.CharField()
    match = serializers.BooleanField(help_text="True for a run that matched the query.")


class RelatedThreadSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.SerializerMethodField()
    is_source = serializers.BooleanField(help_text="The thread the article was promoted from.")
    has_accepted_answer = serializers.BooleanField()

    def get_url(self, obj) -> str:
        return absolute_url(self, obj.url)


class ConsoleResultSerializer(serializers.Serializer):
    id = serializers.CharField(help_text='"article:<id>" or "question:<id>".')
    article_id = serializers.IntegerField(
        allow_null=True, help_text="For articles: the id to record usage against."
    )
    type = serializers.CharField(help_text="article, thread_accepted or thread.")
    type_label = serializers.CharField()
    title = serializers.CharField()
    url = serializers.SerializerMethodField(help_text="The article or thread page.")
    public_url = serializers.SerializerMethodField(
        help_text="The link to give a customer (for a thread, its best answer)."
    )
    area = serializers.CharField(help_text="Product area slug.")
    area_name = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    snippet_text = serializers.CharField(help_text="The snippet as plain text.")
    snippet_parts = serializers.SerializerMethodField(
        help_text="The snippet as runs of plain text; `match` runs are highlighted. No HTML."
    )
    tier = serializers.CharField(
        help_text=(
            "validated_staff, validated_expert, staff_article, accepted, community or unanswered."
        )
    )
    tier_label = serializers.CharField()
    validators = serializers.ListField(
        child=serializers.CharField(), help_text="Display names, staff first."
    )
    updated_at = serializers.DateTimeField()
    freshness = serializers.SerializerMethodField(help_text='e.g. "updated 3 days ago".')
    needs_review = serializers.BooleanField()
    review_reason = serializers.CharField()
    audience = serializers.CharField(help_text="public or internal (CSRs and staff only).")
    usage_count = serializers.IntegerField(help_text="Times agents recorded it as used.")
    solution_text = serializers.CharField(help_text="The solution as plain text.")
    solution_markdown = serializers.CharField(help_text="The solution as Markdown.")
    related_threads = RelatedThreadSerializer(many=True)

    def get_url(self, obj) -> str:
        return absolute_url(self, obj.url)

    def get_public_url(self, obj) -> str:
        return absolute_url(self, obj.public_url)

    def get_freshness(self, obj) -> str:
        return freshness_label(obj.updated_at)

    @extend_schema_field(SnippetPartSerializer(many=True))
    def get_snippet_parts(self, obj) -> list[dict]:
        return [{"text": text, "match": match} for text, match in obj.snippet_parts]


class ConsoleSearchResponseSerializer(serializers.Serializer):
    query = serializers.CharField()
    count = serializers.IntegerField(help_text="Total matches (results holds the first page).")
    results = ConsoleResultSerializer(many=True)
    log = serializers.CharField(
        help_text="This search's log reference: send it as `refine` with the next search while "
        "the agent is still typing, and as `log` to agent/search/click/ when they use a result. "
        "Empty if the search could not be logged."
    )


class ConsoleSearchParamsSerializer(serializers.Serializer):
    q = serializers.CharField(
        max_length=200,
        help_text="What the customer asked about.",
        error_messages={
            "required": "Enter something to search for.",
            "blank": "Enter something to search for.",
        },
    )
    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=20, default=10, help_text="At most 20."
    )
    refine = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=200,
        help_text="The `log` of the previous search when this one continues it (search as you "
        "type): the logged search is updated instead of counted again.",
    )


class ConsoleSearchClickSerializer(serializers.Serializer):
    log = serializers.CharField(max_length=200, help_text="The `log` of the search shown.")
    doc = serializers.RegexField(
        r"^(article|question):\d{1,12}$",
        help_text='The result used: its `id`, e.g. "article:12".',
        error_messages={"invalid": 'A result id looks like "article:12" or "question:7".'},
    )


class UsageCreateSerializer(serializers.Serializer):
    case_ref = serializers.CharField(
        allow_blank=True,
        trim_whitespace=False,
        help_text="The helpdesk case the article resolved, e.g. CASE-1234 (letters, digits, -_#/.).",
    )


class UsageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    article_id = serializers.IntegerField()
    case_ref = serializers.CharField()
    used_at = serializers.DateTimeField()
    usage_count = serializers.IntegerField(help_text="Times the article has been used, in total.")


class RecentArticleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.SerializerMethodField()
    area = serializers.CharField(source="area.slug")
    area_name = serializers.CharField(source="area.name")
    status = serializers.CharField()
    audience = serializers.CharField()
    last_used_at = serializers.DateTimeField()
    last_case_ref = serializers.CharField()

    def get_url(self, obj: Article) -> str:
        return absolute_url(self, obj.get_absolute_url())


# --- Trust: corrections, the article lifecycle, review (issue 3) -----------------------------


class CorrectSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=AnswerCorrection.Kind.choices, default=AnswerCorrection.Kind.NOT_RECOMMENDED
    )
    reason = serializers.CharField(help_text="Why the answer is not recommended.")
    alternative_id = serializers.IntegerField(
        required=False, allow_null=True, help_text="An answer in the same thread to recommend."
    )
    alternative_body = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Or the recommended answer's text (Markdown), posted as yours.",
    )


class CorrectResultSerializer(serializers.Serializer):
    correction = CorrectionSerializer()
    standing = StandingSerializer()


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()


class ArticleCreateSerializer(serializers.Serializer):
    title = serializers.CharField()
    problem = serializers.CharField(help_text="Markdown.")
    solution = serializers.CharField(help_text="Markdown.")
    area = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=ProductArea.objects.all(),
        help_text="Product area slug.",
        error_messages={"does_not_exist": "There is no product area “{value}”."},
    )
    audience = serializers.ChoiceField(
        choices=Article.Audience.choices, default=Article.Audience.INTERNAL
    )
    tags = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    publish = serializers.BooleanField(default=True)


class ReviewActionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(
        choices=[
            ("reapprove", "Re-approve the sources' current text"),
            ("keep", "Keep the approved text"),
        ]
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


class SourceAddSerializer(serializers.Serializer):
    answer_id = serializers.IntegerField(help_text="A validated answer from any thread.")


class DiffLineSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="context, added, removed or hunk.")
    text = serializers.CharField()


class ReviewSourceDiffSerializer(serializers.Serializer):
    answer_id = serializers.IntegerField(source="answer.pk")
    approved_revision = serializers.IntegerField(source="approved_number")
    current_revision = serializers.IntegerField(source="current_number")
    diff = DiffLineSerializer(many=True, source="lines")


class ReviewItemSerializer(serializers.Serializer):
    article = ArticleSerializer()
    review_reason = serializers.CharField(source="article.review_reason")
    diffs = ReviewSourceDiffSerializer(many=True)


class CoverSerializer(serializers.Serializer):
    article_id = serializers.IntegerField()
