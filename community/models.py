"""Community data: people, product areas, questions, answers and their history, votes, the audit log.

Rendered HTML is cached on each row (``body_html``), produced only by ``community.markdown`` so every
stored fragment has passed the sanitizer.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone


class User(AbstractUser):
    display_name = models.CharField(max_length=80, blank=True)
    bio = models.TextField(blank=True, max_length=2000)
    avatar = models.ImageField(upload_to="avatars/%Y/%m/", blank=True)
    # Imported Stack Exchange authors are inactive placeholders that keep attribution.
    is_placeholder = models.BooleanField(default=False)
    source_url = models.URLField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["source_url"], name="user_source_url_idx")]

    def __str__(self) -> str:
        return self.public_name

    @property
    def public_name(self) -> str:
        return self.display_name or self.username

    def get_absolute_url(self) -> str:
        return reverse("community:profile", kwargs={"username": self.username})


class ProductArea(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("community:area", kwargs={"slug": self.slug})


class Tag(models.Model):
    slug = models.SlugField(max_length=64, unique=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        return reverse("community:tag", kwargs={"slug": self.slug})


class Certification(models.Model):
    """A member certified as an expert for one product area, for a term. Expired or revoked rows
    stay for history; ``active()`` is the single definition of "currently certified"."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="certifications"
    )
    area = models.ForeignKey(ProductArea, on_delete=models.CASCADE, related_name="certifications")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    revoked_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "area", "expires_at"], name="cert_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.user} certified for {self.area}"

    @staticmethod
    def active_q(prefix: str = "", now=None) -> Q:
        now = now or timezone.now()
        return Q(**{f"{prefix}revoked_at__isnull": True, f"{prefix}expires_at__gt": now})

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class ImportedMixin(models.Model):
    """Provenance of content imported from a Stack Exchange dump (CC BY-SA attribution)."""

    source_url = models.URLField(blank=True)
    source_author_name = models.CharField(max_length=120, blank=True)
    source_author_url = models.URLField(blank=True)

    class Meta:
        abstract = True

    @property
    def is_imported(self) -> bool:
        return bool(self.source_url)


class Question(ImportedMixin):
    area = models.ForeignKey(ProductArea, on_delete=models.PROTECT, related_name="questions")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="questions"
    )
    title = models.CharField(max_length=200)
    body = models.TextField()
    body_html = models.TextField()
    tags = models.ManyToManyField(Tag, blank=True, related_name="questions")
    accepted_answer = models.OneToOneField(
        "Answer", on_delete=models.SET_NULL, null=True, blank=True, related_name="accepted_for"
    )
    score = models.IntegerField(default=0)
    answer_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    last_activity_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_activity_at", "-id"]
        indexes = [
            models.Index(fields=["-last_activity_at", "-id"], name="question_activity_idx"),
            models.Index(fields=["area", "-last_activity_at"], name="question_area_activity_idx"),
            models.Index(fields=["answer_count", "-created_at"], name="question_unanswered_idx"),
            models.Index(fields=["source_url"], name="question_source_url_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("community:question", kwargs={"pk": self.pk})


class QuestionRevision(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()
    tag_names = models.CharField(max_length=400, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    summary = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["question", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["question", "number"], name="question_revision_number_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.question_id} r{self.number}"


class Answer(ImportedMixin):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="answers"
    )
    body = models.TextField()
    body_html = models.TextField()
    score = models.IntegerField(default=0)
    revision_count = models.PositiveIntegerField(default=1)
    # Set by knowledge while the answer holds an active validation (community never imports knowledge;
    # this denormalised flag lets threads order "validated first" without crossing the boundary).
    validated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-score", "created_at"]
        indexes = [
            models.Index(fields=["question", "-score", "created_at"], name="answer_thread_idx"),
            models.Index(fields=["source_url"], name="answer_source_url_idx"),
        ]

    def __str__(self) -> str:
        return f"Answer {self.pk} to {self.question_id}"

    def get_absolute_url(self) -> str:
        return f"{reverse('community:question', kwargs={'pk': self.question_id})}#answer-{self.pk}"


class AnswerRevision(models.Model):
    """An immutable snapshot of an answer body. Validations pin the revision they approved."""

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    body = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    summary = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["answer", "number"]
        constraints = [
            models.UniqueConstraint(fields=["answer", "number"], name="answer_revision_number_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.answer_id} r{self.number}"


class Comment(models.Model):
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="comments", null=True, blank=True
    )
    answer = models.ForeignKey(
        Answer, on_delete=models.CASCADE, related_name="comments", null=True, blank=True
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="comments"
    )
    body = models.TextField(max_length=2000)
    body_html = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(question__isnull=False, answer__isnull=True)
                    | Q(question__isnull=True, answer__isnull=False)
                ),
                name="comment_on_exactly_one_post",
            )
        ]

    def __str__(self) -> str:
        return f"Comment {self.pk}"


class Vote(models.Model):
    UP, DOWN = 1, -1
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="votes"
    )
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="votes", null=True, blank=True
    )
    answer = models.ForeignKey(
        Answer, on_delete=models.CASCADE, related_name="votes", null=True, blank=True
    )
    value = models.SmallIntegerField(choices=[(UP, "up"), (DOWN, "down")])
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(question__isnull=False, answer__isnull=True)
                    | Q(question__isnull=True, answer__isnull=False)
                ),
                name="vote_on_exactly_one_post",
            ),
            models.CheckConstraint(
                condition=Q(value__in=[1, -1]), name="vote_value_is_plus_or_minus_one"
            ),
            models.UniqueConstraint(
                fields=["user", "question"],
                condition=Q(question__isnull=False),
                name="one_vote_per_question",
            ),
            models.UniqueConstraint(
                fields=["user", "answer"],
                condition=Q(answer__isnull=False),
                name="one_vote_per_answer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.value:+d}"


class AuditEntry(models.Model):
    """Append-only record of who did what. Written only by ``community.audit.audit_log``."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="audit_entries"
    )
    action = models.CharField(max_length=80, db_index=True)  # app.entity.verb
    target_type = models.CharField(max_length=60)
    target_id = models.CharField(max_length=40)
    target_repr = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target_idx")]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_id} on {self.target_type}:{self.target_id}"
