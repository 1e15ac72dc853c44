"""REST API of the expert directory: the same filters, figures and queries as /experts/."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from . import routing
from .api import ApiView, errors, valid


class DirectoryParamsSerializer(serializers.Serializer):
    area = serializers.SlugField(required=False, default="")
    skill = serializers.SlugField(
        required=False, default="", help_text="A skill tag or an area slug."
    )
    language = serializers.CharField(required=False, default="", max_length=8)
    min_rating = serializers.FloatField(required=False, min_value=1, max_value=5, default=None)
    max_response_minutes = serializers.IntegerField(required=False, min_value=1, default=None)
    available_now = serializers.BooleanField(required=False, default=False)
    sort = serializers.ChoiceField(choices=routing.SORTS, required=False, default="rating")


class CertificationBadgeSerializer(serializers.Serializer):
    area = serializers.CharField(source="area.slug")
    area_name = serializers.CharField(source="area.name")
    expires_at = serializers.DateTimeField()


class ExpertCardSerializer(serializers.Serializer):
    username = serializers.SerializerMethodField()
    name = serializers.CharField(source="card_name")
    kind = serializers.SerializerMethodField()
    bio = serializers.SerializerMethodField()
    certifications = CertificationBadgeSerializer(source="active_certifications", many=True)
    skills = serializers.ListField(source="card_skills", child=serializers.CharField())
    languages = serializers.ListField(source="card_languages", child=serializers.CharField())
    rating = serializers.FloatField(allow_null=True, help_text="Mean rating, from 3 ratings up.")
    rating_count = serializers.IntegerField()
    response_seconds = serializers.FloatField(
        allow_null=True, help_text="Median time to first answer on directed questions, 30 days."
    )
    queue_length = serializers.IntegerField()
    queue_full = serializers.BooleanField()
    expected_wait_seconds = serializers.FloatField(allow_null=True)
    availability = serializers.CharField()
    available_now = serializers.BooleanField()
    weekly_hours = serializers.DictField()
    spotlight = serializers.CharField(allow_null=True)

    def get_username(self, person) -> str | None:
        # Agents answering under an alias are reached by alias only; their account stays private.
        return None if person.uses_alias else person.username

    def get_kind(self, person) -> str:
        if person.is_csr:
            return "agent"
        return "guest" if person.spotlight and not person.active_certifications else "expert"

    def get_bio(self, person) -> str:
        return "" if person.uses_alias else person.bio


class ExpertListView(ApiView):
    @extend_schema(
        parameters=[DirectoryParamsSerializer],
        responses={200: ExpertCardSerializer(many=True), **errors(400)},
        summary="The expert directory",
        description="Certified experts, opted-in agents and featured guests with measured "
        "rating, response time, queue and expected wait. Same filters as /experts/.",
    )
    def get(self, request: Request) -> Response:
        params = valid(DirectoryParamsSerializer, request.query_params)
        people = routing.expert_directory(
            viewer=request.user, filters=routing.DirectoryFilters(**params)
        )
        page = routing.decorate_cards(self.paginate_queryset(people))
        return self.get_paginated_response(ExpertCardSerializer(page, many=True).data)
