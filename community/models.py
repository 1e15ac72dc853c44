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
    # Cached sum of the user's ReputationEvent ledger, kept in the same transaction as each event.
    reputation = models.IntegerField(default=0)
    # Sanctions, denormalised from the Sanction history so write checks need no query.
    suspended_until = models.DateTimeField(null=True, blank=True)
    banned_at = models.DateTimeField(null=True, blank=True)

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


class PostStatus(models.TextChoices):
    VISIBLE = "visible", "Visible"
    PENDING = "pending", "Waiting for approval"
    HIDDEN = "hidden", "Hidden by moderation"


class ModeratedMixin(models.Model):
    """Visibility of a post. Pending and hidden posts are seen only by their author and staff;
    hiding is a soft delete that a moderator can undo (``hidden_by`` is null when flags hid it)."""

    status = models.CharField(
        max_length=10, choices=PostStatus.choices, default=PostStatus.VISIBLE, db_index=True
    )
    hidden_reason = models.CharField(max_length=300, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    hidden_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_visible(self) -> bool:
        return self.status == PostStatus.VISIBLE


class Question(ImportedMixin, ModeratedMixin):
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
    # Set when the asker (or staff) marks the thread urgent; protocols with the "customer marks it
    # urgent" trigger start their clock here.
    urgent_at = models.DateTimeField(null=True, blank=True)
    # A locked thread takes no new answers, comments, votes or edits except from moderators.
    locked_at = models.DateTimeField(null=True, blank=True)
    # A duplicate merged into its canonical thread: hidden, and its URL redirects there.
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged_from"
    )

    class Meta:
        ordering = ["-last_activity_at", "-id"]
        indexes = [
            models.Index(fields=["-last_activity_at", "-id"], name="question_activity_idx"),
            # Lists filter on status: without status in front, SQLite picks the status index and
            # sorts every visible row (280 ms at 10k threads; 0.1 ms with this one).
            models.Index(
                fields=["status", "-last_activity_at", "-id"], name="question_status_activity_idx"
            ),
            # Status second, as above: an area's list and the home page's per-area counts read
            # only visible questions (the counts from this index alone: 147 -> 18 ms at 100k).
            models.Index(
                fields=["area", "status", "-last_activity_at", "-id"],
                name="question_area_status_idx",
            ),
            # Staff see every status: their area lists need the order without it.
            models.Index(fields=["area", "-last_activity_at", "-id"], name="question_area_idx"),
            # A member's profile lists their latest questions: with the status index SQLite
            # walked every visible question in activity order to find them (79 ms at 100k).
            models.Index(
                fields=["author", "status", "-last_activity_at", "-id"],
                name="question_author_activity_idx",
            ),
            models.Index(fields=["answer_count", "-created_at"], name="question_unanswered_idx"),
            # Members' unanswered list and its total: the index above (staff, every status) left
            # SQLite reading each unanswered question's row to test its status (46 ms at 100k).
            models.Index(
                fields=["status", "answer_count", "-created_at", "-id"],
                name="question_unanswered_status_idx",
            ),
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


class Answer(ImportedMixin, ModeratedMixin):
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
            # Status second: a thread's visible answers (the search documents' prefetch of 500
            # threads at once) are found here. With (question, -score, created_at), SQLite
            # without statistics preferred the status index and read every visible answer per
            # batch (120 vs 5 ms at 100k threads).
            models.Index(
                fields=["question", "status", "-score", "created_at"],
                name="answer_thread_status_idx",
            ),
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

    def save(self, *args, **kwargs) -> None:
        # Append-only: the application may add entries but never rewrite one.
        if not self._state.adding:
            raise PermissionError("Audit entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit entries are append-only.")


# --- Social routing, reputation and the expert program (issue 5) -----------------------------


class ExpertProfile(models.Model):
    """What the expert directory shows about a person beyond the User row. Experts are listed
    while certified; CSRs only after opting in (``directory_opt_in``) and may show an alias."""

    class Availability(models.TextChoices):
        AVAILABLE = "available", "Available"
        AWAY = "away", "Away"
        OFF = "off", "Off"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="expert_profile"
    )
    directory_opt_in = models.BooleanField(default=False)
    staff_alias = models.CharField(max_length=80, blank=True)
    skills = models.ManyToManyField(Tag, blank=True, related_name="expert_profiles")
    # Language codes wrapped in commas (",en,fr,") so one SQL ``contains`` matches a whole code.
    languages = models.CharField(max_length=200, blank=True)
    availability = models.CharField(
        max_length=10, choices=Availability.choices, default=Availability.AVAILABLE
    )
    # Optional weekly hours in UTC: {"mon": [9, 17], ...}; empty means "whenever available".
    weekly_hours = models.JSONField(default=dict, blank=True)
    response_window_hours = models.PositiveSmallIntegerField(default=24)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Directory profile of {self.user_id}"

    @property
    def language_list(self) -> list[str]:
        return [code for code in self.languages.split(",") if code]


class GuestSpotlight(models.Model):
    """A time-limited directory feature for a guest expert (e.g. a designer answering for a day)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="spotlights"
    )
    area = models.ForeignKey(
        ProductArea, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    headline = models.CharField(max_length=160)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta:
        indexes = [models.Index(fields=["user", "ends_at"], name="spotlight_user_end_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.headline}"


class DirectedQuestion(models.Model):
    """A question routed to one chosen person. Forwarding closes the row and opens a new one for
    the next person, so each row measures one person's response."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for an answer"
        ANSWERED = "answered", "Answered"
        DECLINED = "declined", "Declined"
        FORWARDED = "forwarded", "Forwarded"
        FALLEN_BACK = "fallen_back", "Back to the community"

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="directed")
    expert = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="directed_questions"
    )
    private = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    promised_by = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    # answered_at - created_at, stored so medians and sorts stay plain SQL on every backend.
    response_seconds = models.PositiveIntegerField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    forwarded_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["question"],
                condition=Q(status="open"),
                name="one_open_directed_per_question",
            )
        ]
        indexes = [
            models.Index(fields=["expert", "status"], name="directed_queue_idx"),
            models.Index(fields=["status", "promised_by"], name="directed_due_idx"),
            models.Index(fields=["expert", "answered_at"], name="directed_pace_idx"),
        ]

    def __str__(self) -> str:
        return f"Question {self.question_id} for {self.expert_id} ({self.status})"


class ExpertRating(models.Model):
    """The asker's 1-5 rating of the help received on their directed question (one per question)."""

    question = models.OneToOneField(Question, on_delete=models.CASCADE, related_name="rating")
    directed = models.ForeignKey(DirectedQuestion, on_delete=models.CASCADE, related_name="+")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    expert = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ratings_received"
    )
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="rating_score_1_to_5"
            )
        ]
        indexes = [models.Index(fields=["expert", "created_at"], name="rating_expert_idx")]

    def __str__(self) -> str:
        return f"{self.score}/5 for {self.expert_id} on {self.question_id}"


class ReputationEvent(models.Model):
    """Append-only reputation ledger. ``source`` names the fact an event is about ("vote:a:7:12");
    reversals are compensating events on the same source, so a source's sum is its current worth."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reputation_events"
    )
    kind = models.CharField(max_length=24)
    points = models.IntegerField()
    source = models.CharField(max_length=80)
    voter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    area = models.ForeignKey(
        ProductArea, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["user", "source"], name="rep_user_source_idx"),
            models.Index(fields=["created_at", "area"], name="rep_period_idx"),
            models.Index(fields=["voter", "created_at"], name="rep_voter_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.points:+d} ({self.kind})"


class UserBadge(models.Model):
    """A badge awarded once per (user, badge, scope); scope is an area slug or ""."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="badges"
    )
    badge = models.CharField(max_length=40)
    scope = models.CharField(max_length=64, blank=True, default="")
    awarded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-awarded_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "badge", "scope"], name="one_badge_per_user_scope"
            )
        ]

    def __str__(self) -> str:
        return f"{self.badge}:{self.scope} for {self.user_id}"


class ExpertApplication(models.Model):
    """A step in the pipeline to certification: a nomination by staff or a self-application,
    reviewed by a moderator."""

    class Kind(models.TextChoices):
        SELF = "self", "Self-application"
        NOMINATION = "nomination", "Nomination"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="expert_applications"
    )
    area = models.ForeignKey(ProductArea, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    nominated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    statement = models.TextField(blank=True, max_length=2000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=300, blank=True)
    certification = models.ForeignKey(
        Certification, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "area"],
                condition=Q(status="pending"),
                name="one_pending_application_per_area",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.user_id} for {self.area_id}"


# --- Notifications and subscriptions (issue 4) ------------------------------------------------


class NotificationKind(models.TextChoices):
    ANSWER = "answer", "An answer to my question"
    COMMENT = "comment", "A comment on my post"
    ACCEPTED = "accepted", "My answer was accepted"
    VALIDATED = "validated", "My answer was validated"
    MENTION = "mention", "Someone mentioned me"
    FOLLOWED = "followed", "New posts in what I follow"
    DIRECTED = "directed", "A question asked of me directly"
    ASSIGNMENT = "assignment", "Assignments and escalations (staff)"
    FLAG = "flag", "The outcome of my flags"
    EXPERT = "expert", "My expert applications and certification"


class DeliveryMode(models.TextChoices):
    INSTANT = "instant", "Email me at once"
    DAILY = "daily", "Daily digest"
    OFF = "off", "No email"


class Notification(models.Model):
    """One entry of a member's inbox. ``delivery`` is the email mode that applied when it was
    created, so a later preference change never re-sends or drops what was already decided."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    answer = models.ForeignKey(
        Answer, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=500, blank=True)
    delivery = models.CharField(
        max_length=10, choices=DeliveryMode.choices, default=DeliveryMode.INSTANT
    )
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox_idx"),
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
            models.Index(
                fields=["delivery", "recipient"],
                condition=Q(emailed_at__isnull=True),
                name="notification_unsent_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}: {self.text}"


class NotificationPreference(models.Model):
    """A member's email mode for one kind; no row means the kind's default."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    mode = models.CharField(max_length=10, choices=DeliveryMode.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="one_preference_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}={self.mode}"


class Subscription(models.Model):
    """A member follows exactly one question, tag or product area."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions"
    )
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, null=True, blank=True, related_name="subscriptions"
    )
    tag = models.ForeignKey(
        Tag, on_delete=models.CASCADE, null=True, blank=True, related_name="subscriptions"
    )
    area = models.ForeignKey(
        ProductArea, on_delete=models.CASCADE, null=True, blank=True, related_name="subscriptions"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(question__isnull=False, tag__isnull=True, area__isnull=True)
                    | Q(question__isnull=True, tag__isnull=False, area__isnull=True)
                    | Q(question__isnull=True, tag__isnull=True, area__isnull=False)
                ),
                name="subscription_follows_exactly_one",
            ),
            models.UniqueConstraint(
                fields=["user", "question"],
                condition=Q(question__isnull=False),
                name="one_subscription_per_question",
            ),
            models.UniqueConstraint(
                fields=["user", "tag"],
                condition=Q(tag__isnull=False),
                name="one_subscription_per_tag",
            ),
            models.UniqueConstraint(
                fields=["user", "area"],
                condition=Q(area__isnull=False),
                name="one_subscription_per_area",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} follows q{self.question_id} t{self.tag_id} a{self.area_id}"


# --- Moderation state (issue 4) --------------------------------------------------------------


class Sanction(models.Model):
    """One moderator sanction on a member, kept for history. ``User.suspended_until`` and
    ``User.banned_at`` carry the current effect so permission checks need no query."""

    class Kind(models.TextChoices):
        WARN = "warn", "Warning"
        SUSPEND = "suspend", "Suspension"
        BAN = "ban", "Ban"
        LIFT = "lift", "Sanctions lifted"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sanctions"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    reason = models.CharField(max_length=500)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(null=True, blank=True)  # suspensions only

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="sanction_user_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.user_id}"
