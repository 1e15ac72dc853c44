"""Knowledge data: validations pinned to answer revisions, and the articles they promote."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from community.models import Answer, AnswerRevision, ProductArea, Question, Tag


class Validation(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Validated"
        STALE = "stale", "Stale (answer edited since)"
        REVOKED = "revoked", "Revoked"

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="validations")
    revision = models.ForeignKey(
        AnswerRevision, on_delete=models.PROTECT, related_name="validations"
    )
    validator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="validations"
    )
    # Whether the validator acted as staff or as an expert certified for the area, at the time.
    as_staff = models.BooleanField(default=False)
    note = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoke_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One live validation per validator and answer; history keeps the stale/revoked ones.
            models.UniqueConstraint(
                fields=["answer", "validator"],
                condition=Q(status="active"),
                name="one_active_validation_per_validator",
            )
        ]

    def __str__(self) -> str:
        return f"{self.answer_id} r{self.revision_id} by {self.validator_id} ({self.status})"


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        NEEDS_REVIEW = "needs_review", "Needs review"
        RETIRED = "retired", "Retired"

    # Readers see the published text while an article waits for review: it was validated once,
    # and hiding it would be worse for customers than showing it with a "being reviewed" note.
    VISIBLE_STATUSES = (Status.PUBLISHED, Status.NEEDS_REVIEW)

    title = models.CharField(max_length=200)
    problem = models.TextField()
    problem_html = models.TextField()
    solution = models.TextField()
    solution_html = models.TextField()
    area = models.ForeignKey(ProductArea, on_delete=models.PROTECT, related_name="articles")
    tags = models.ManyToManyField(Tag, blank=True, related_name="articles")
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    review_reason = models.CharField(max_length=300, blank=True)
    source_question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="articles")
    source_answer = models.OneToOneField(Answer, on_delete=models.PROTECT, related_name="article")
    # The answer revision whose text is published; stays put while the article is in review.
    approved_revision = models.ForeignKey(
        AnswerRevision, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("knowledge:article", kwargs={"pk": self.pk, "slug": self.slug})

    @property
    def slug(self) -> str:
        return slugify(self.title)[:80] or "article"

    @property
    def is_visible(self) -> bool:
        return self.status in self.VISIBLE_STATUSES


class ArticleRevision(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    problem = models.TextField()
    solution = models.TextField()
    answer_revision = models.ForeignKey(
        AnswerRevision, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["article", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "number"], name="article_revision_number_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.article_id} r{self.number}"


class SearchIndexOutbox(models.Model):
    """Documents whose index state must be brought in line with the database.

    Written in the same transaction as the change, so a broker outage cannot lose the intent;
    the on-commit task or the periodic reconcile drains it.
    """

    doc_id = models.CharField(max_length=40, unique=True)  # "article:12", "question:7"
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    attempts = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.doc_id
