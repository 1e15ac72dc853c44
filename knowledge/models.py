"""Knowledge data: validations pinned to answer revisions, and the articles they promote."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from community.models import Answer, AnswerRevision, Certification, ProductArea, Question, Tag


class Validation(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Validated"
        STALE = "stale", "Stale (answer edited since)"
        # The validator's certification ended: another validator must look again before the
        # answer counts as validated (the validation is not silently trusted).
        NEEDS_RECHECK = "needs_recheck", "Needs re-check (validator's certification ended)"
        RECHECKED = "rechecked", "Re-checked by another validator"
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
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    # When the validator promised to look again (created + PEERDESK["RECHECK_DAYS"]).
    recheck_at = models.DateTimeField(null=True, blank=True)
    flagged_at = models.DateTimeField(null=True, blank=True)
    flag_reason = models.CharField(max_length=300, blank=True)
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

    class Audience(models.TextChoices):
        PUBLIC = "public", "Public"
        INTERNAL = "internal", "Internal (CSRs and staff only)"

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
    # Why the article is in review, unpublished or retired (e.g. "applies to v1 only").
    review_reason = models.CharField(max_length=300, blank=True)
    audience = models.CharField(
        max_length=10, choices=Audience.choices, default=Audience.PUBLIC, db_index=True
    )
    # The primary source. Staff-written articles have none; further merged answers are
    # ArticleSource rows.
    source_question = models.ForeignKey(
        Question, on_delete=models.PROTECT, related_name="articles", null=True, blank=True
    )
    source_answer = models.OneToOneField(
        Answer, on_delete=models.PROTECT, related_name="article", null=True, blank=True
    )
    # The answer revision whose text is published; stays put while the article is in review.
    approved_revision = models.ForeignKey(
        AnswerRevision, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # When the article is due for another look; the periodic task sends it to review then.
    recheck_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            # The KB home lists the latest articles a reader may see: with the audience index
            # alone SQLite sorted every public article for each page (10 ms at 5k articles).
            models.Index(
                fields=["audience", "-published_at", "-id"], name="article_audience_pub_idx"
            ),
            # Staff and agents see every audience: the same list without the audience filter.
            models.Index(fields=["-published_at", "-id"], name="article_published_idx"),
            # The API lists articles by last update (the default ordering), for either.
            models.Index(
                fields=["audience", "-updated_at", "-id"], name="article_audience_upd_idx"
            ),
            models.Index(fields=["-updated_at", "-id"], name="article_updated_idx"),
        ]

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

    @property
    def is_internal(self) -> bool:
        return self.audience == self.Audience.INTERNAL


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


class ArticleSource(models.Model):
    """A further validated answer merged into an article (the primary is ``source_answer``),
    pinned to the revision whose text the article carries."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="sources")
    answer = models.ForeignKey(Answer, on_delete=models.PROTECT, related_name="article_sources")
    revision = models.ForeignKey(AnswerRevision, on_delete=models.PROTECT, related_name="+")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["article", "answer"], name="article_source_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.article_id} ← answer {self.answer_id} r{self.revision_id}"


class QuestionCoverage(models.Model):
    """A thread points to the knowledge-base article that now answers it."""

    question = models.OneToOneField(Question, on_delete=models.CASCADE, related_name="kb_coverage")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="coverages")
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"question {self.question_id} covered by article {self.article_id}"


class AnswerCorrection(models.Model):
    """An expert or moderator marks an answer not recommended (pointing to a validated
    alternative) or obsolete. Reversed rows stay for history."""

    class Kind(models.TextChoices):
        NOT_RECOMMENDED = "not_recommended", "Not recommended"
        OBSOLETE = "obsolete", "Obsolete"

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="corrections")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.NOT_RECOMMENDED)
    reason = models.CharField(max_length=500)
    alternative = models.ForeignKey(
        Answer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="recommended_by_corrections",
    )
    corrector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="answer_corrections"
    )
    as_staff = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reverse_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["answer"],
                condition=Q(reversed_at__isnull=True),
                name="one_live_correction_per_answer",
            )
        ]

    def __str__(self) -> str:
        return f"answer {self.answer_id} {self.kind}"

    @property
    def is_live(self) -> bool:
        return self.reversed_at is None


class CertificationLapse(models.Model):
    """Knowledge has processed the end of a certification (flagged its validations). Its
    existence makes the revocation receiver and the expiry task idempotent."""

    class Cause(models.TextChoices):
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"

    certification = models.OneToOneField(
        Certification, on_delete=models.CASCADE, related_name="knowledge_lapse"
    )
    cause = models.CharField(max_length=10, choices=Cause.choices)
    processed_at = models.DateTimeField(default=timezone.now)
    flagged_count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"certification {self.certification_id} {self.cause}"


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


class SearchEmbedding(models.Model):
    """A document's sentence embedding for semantic re-ranking (``knowledge.search.semantic``).

    In the database rather than beside the index so every web node reads the same vectors.
    ``content_hash`` covers the model and the embedded text: unchanged documents are never
    re-embedded. Written only by ``knowledge.search.semantic``.
    """

    doc_id = models.CharField(max_length=40, unique=True)  # "article:12", "question:7"
    content_hash = models.CharField(max_length=64)
    vector = models.BinaryField()  # float16, L2-normalised
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.doc_id


# Ticket ids from helpdesk tools: "CASE-1234", "ZD#88123", "eu/2024/77.3". No spaces, so a pasted
# sentence or URL with a query string is refused instead of stored as a "reference".
CASE_REF_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_#/.\-]*$"


class ArticleUsage(models.Model):
    """A CSR or staff member recorded that ``article`` resolved a support case."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="usages")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="article_usages"
    )
    case_ref = models.CharField(
        max_length=80,
        validators=[
            RegexValidator(
                CASE_REF_PATTERN,
                "Use letters, digits and - _ # / . only (no spaces), starting with a letter or digit.",
            )
        ],
    )
    used_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-used_at", "-id"]
        indexes = [models.Index(fields=["user", "-used_at"], name="article_usage_recent_idx")]

    def __str__(self) -> str:
        return f"{self.article_id} used by {self.user_id} for {self.case_ref}"


class SearchEntry(models.Model):
    """One document of the PostgreSQL search backend (``knowledge.search.postgres_backend``).

    Written only by that backend; ``vector`` is computed in the same statement as the row
    (title A, solution and tags B, problem C). On SQLite the table exists but stays unused.
    """

    doc_id = models.CharField(max_length=40, primary_key=True)  # "article:12", "question:7"
    type = models.CharField(max_length=20)
    title = models.TextField()
    problem = models.TextField(blank=True)
    solution = models.TextField(blank=True)
    tags = models.JSONField(default=list, blank=True)  # lower-case slugs
    area = models.CharField(max_length=100)
    url = models.TextField()
    source_url = models.TextField(blank=True)
    audience = models.CharField(max_length=20, default="public")
    updated_at = models.DateTimeField()
    # Ranking signals of SearchDocument: index into search.base.TIERS, net votes, case usage.
    tier = models.PositiveSmallIntegerField(default=0)
    votes = models.IntegerField(default=0)
    usage = models.PositiveIntegerField(default=0)
    vector = SearchVectorField(null=True)

    class Meta:
        indexes = [GinIndex(fields=["vector"], name="search_entry_vector_gin")]
        verbose_name_plural = "search entries"

    def __str__(self) -> str:
        return self.doc_id


class SearchGeneration(models.Model):
    """The version of the PostgreSQL search table: every write to it sets ``value`` to a new
    number, in the same transaction. Web nodes key their cached search results by it, so a
    result cached before a write, on any node, is never served after the write commits.

    The numbers come from a sequence (``GENERATION_SEQUENCE``), not ``value + 1``: a rolled-back
    write must not leave its number to be reused by the next write for other content. One row
    (id 1), written by ``knowledge.search.postgres_backend``; on SQLite the table stays unused.
    """

    GENERATION_SEQUENCE = "knowledge_search_generation_seq"

    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.value)


class SearchTerm(models.Model):
    """The unstemmed words of indexed titles and solutions, for PostgreSQL "did you mean"
    suggestions (a pg_trgm index on ``word``, created by the migration where available)."""

    word = models.CharField(max_length=60, primary_key=True)

    def __str__(self) -> str:
        return self.word


class SearchQueryLog(models.Model):
    """One search someone ran (page, API, console or the ask page's suggestions), for
    content-gap analysis. Holds the viewer's role, never who they are."""

    class Role(models.TextChoices):
        ANONYMOUS = "anonymous", "Anonymous"
        MEMBER = "member", "Member"
        EXPERT = "expert", "Certified expert"
        CSR = "csr", "CSR"
        MODERATOR = "moderator", "Moderator"

    class Source(models.TextChoices):
        PAGE = "page", "Search page"
        API = "api", "API"
        CONSOLE = "console", "Agent console"
        ASK_SIMILAR = "ask-similar", "Ask page suggestions"

    query = models.CharField(max_length=300)
    # Lower-case words only: "Reset router?" and "reset  router" count as one query.
    normalized = models.CharField(max_length=300)
    filters = models.JSONField(default=dict, blank=True)
    hit_count = models.PositiveIntegerField(default=0)
    # The spelling the hits were shown for, when the typed query found nothing.
    corrected_query = models.CharField(max_length=300, blank=True)
    clicked_doc_id = models.CharField(max_length=40, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    user_role = models.CharField(max_length=12, choices=Role.choices)
    source = models.CharField(max_length=12, choices=Source.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["hit_count", "created_at"], name="search_log_gap_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source}: {self.query!r} ({self.hit_count} hits)"


class AskDeflection(models.Model):
    """A customer on the ask page opened a suggested article or thread. It counts as a
    deflection (they found the answer instead of asking) unless they post a question in the same
    session afterwards, which sets ``cancelled_at``."""

    search_log = models.ForeignKey(
        SearchQueryLog, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    doc_id = models.CharField(max_length=40)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by_question = models.ForeignKey(
        Question, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "created_at"], name="ask_deflection_user_idx")]

    def __str__(self) -> str:
        state = "cancelled" if self.cancelled_at else "deflected"
        return f"{self.doc_id} {state}"
