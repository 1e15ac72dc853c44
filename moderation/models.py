"""Moderation data: flags raised by members on posts. The audit log and the visibility state of
posts live in community (the bottom of the dependency chain) so every app can use them."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from community.models import Answer, ProductArea, Question, Tag


class Flag(models.Model):
    class Reason(models.TextChoices):
        SPAM = "spam", "Spam"
        ABUSIVE = "abusive", "Rude or abusive"
        OFF_TOPIC = "off_topic", "Off-topic"
        INCORRECT = "incorrect", "Incorrect information"
        DUPLICATE = "duplicate", "Duplicate of another question"
        NEEDS_STAFF = "needs_staff", "Needs staff attention"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DISMISSED = "dismissed", "Dismissed"
        ACTIONED = "actioned", "Actioned"

    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, null=True, blank=True, related_name="flags"
    )
    answer = models.ForeignKey(
        Answer, on_delete=models.CASCADE, null=True, blank=True, related_name="flags"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="flags_raised"
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    duplicate_of = models.ForeignKey(
        Question, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    # Whether the reporter was trusted when flagging: only trusted flags count toward auto-hide.
    trusted = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(question__isnull=False, answer__isnull=True)
                    | Q(question__isnull=True, answer__isnull=False)
                ),
                name="flag_on_exactly_one_post",
            ),
            models.UniqueConstraint(
                fields=["reporter", "question"],
                condition=Q(question__isnull=False),
                name="one_flag_per_reporter_question",
            ),
            models.UniqueConstraint(
                fields=["reporter", "answer"],
                condition=Q(answer__isnull=False),
                name="one_flag_per_reporter_answer",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="flag_queue_idx")]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} flag on {self.post_key}"

    @property
    def post(self) -> Question | Answer:
        return self.question if self.question_id else self.answer  # type: ignore[return-value]

    @property
    def post_kind(self) -> str:
        return "question" if self.question_id else "answer"

    @property
    def post_key(self) -> str:
        return f"q{self.question_id}" if self.question_id else f"a{self.answer_id}"

    @property
    def thread_id(self) -> int:
        return self.question_id or self.answer.question_id  # type: ignore[union-attr]


# --- Protocols, escalation and assignment (issue 4) --------------------------------------------


class AssigneeRule(models.TextChoices):
    NAMED = "named", "A named staff member"
    ROUND_ROBIN = "round_robin", "Team, round-robin"
    LEAST_LOADED = "least_loaded", "Team, least-loaded"


class AssigneeRuleFields(models.Model):
    """Who gets a thread: a named person, or a team (a Group) by round-robin or least-loaded."""

    assignee_rule = models.CharField(
        max_length=16, choices=AssigneeRule.choices, default=AssigneeRule.ROUND_ROBIN
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="For the named-person rule.",
    )
    team = models.ForeignKey(
        Group,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="For the team rules.",
    )

    class Meta:
        abstract = True

    def rule_errors(self) -> dict[str, str]:
        if self.assignee_rule == AssigneeRule.NAMED and not self.assignee_id:
            return {"assignee": "Choose the staff member who takes these threads."}
        if self.assignee_rule != AssigneeRule.NAMED and not self.team_id:
            return {"team": "Choose the team that shares these threads."}
        return {}

    def clean(self) -> None:
        super().clean()
        if errors := self.rule_errors():
            raise ValidationError(errors)


class Protocol(AssigneeRuleFields):
    """If a thread matches (area/tags/keywords/severity) and the trigger fires, assign it by the
    rule and escalate along ``steps`` while it stays unresolved."""

    class Trigger(models.TextChoices):
        NEW_QUESTION = "new_question", "A new question matches"
        UNANSWERED = "unanswered_after_hours", "Unanswered after N hours"
        UNRESOLVED = (
            "no_accepted_or_validated_after_days",
            "No accepted or validated answer after N days",
        )
        FLAGGED = "flagged_needs_staff", "Flagged as needing staff"
        URGENT = "customer_urgent", "The customer marks it urgent"

    class Severity(models.IntegerChoices):
        ANY = 1, "Any thread"
        HIGH = 2, "Only urgent or flagged-for-staff threads"

    name = models.CharField(max_length=120)
    area = models.ForeignKey(
        ProductArea,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Leave empty for every area.",
    )
    tags = models.ManyToManyField(
        Tag, blank=True, related_name="+", help_text="Matches when the thread has any of them."
    )
    keywords = models.CharField(
        max_length=300,
        blank=True,
        help_text="Comma-separated words or phrases; matches when the title or body has any.",
    )
    severity = models.PositiveSmallIntegerField(choices=Severity.choices, default=Severity.ANY)
    trigger = models.CharField(max_length=40, choices=Trigger.choices)
    trigger_param = models.PositiveIntegerField(
        default=0, help_text="Hours (unanswered) or days (no accepted or validated answer)."
    )
    response_guide = models.TextField(
        blank=True, help_text="What the first responder may do, and what they must not."
    )
    active = models.BooleanField(default=True)
    priority = models.SmallIntegerField(
        default=0, help_text="When several protocols match, the highest priority applies."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-priority", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # Not super().clean(): report the rule and the trigger problems together.
        errors = self.rule_errors()
        timed = {self.Trigger.UNANSWERED, self.Trigger.UNRESOLVED}
        if self.trigger in timed and not self.trigger_param:
            errors["trigger_param"] = "Say after how many hours or days this trigger fires."
        if errors:
            raise ValidationError(errors)

    @property
    def keyword_list(self) -> list[str]:
        return [k.strip().lower() for k in self.keywords.split(",") if k.strip()]


class EscalationStep(AssigneeRuleFields):
    """Level ``level`` of a protocol's chain: when the previous level has held the thread for
    ``timeout_minutes`` without it being resolved or claimed, it moves here."""

    protocol = models.ForeignKey(Protocol, on_delete=models.CASCADE, related_name="steps")
    level = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=60, blank=True, help_text='e.g. "Tier 2" or "Supervisor".')
    timeout_minutes = models.PositiveIntegerField(
        help_text="Minutes the previous level has before the thread escalates here."
    )
    response_guide = models.TextField(
        blank=True, help_text="What this level may do, and what it must not."
    )

    class Meta:
        ordering = ["protocol", "level"]
        constraints = [
            models.UniqueConstraint(fields=["protocol", "level"], name="one_step_per_level"),
            models.CheckConstraint(condition=Q(level__gte=1), name="step_level_from_one"),
            models.CheckConstraint(
                condition=Q(timeout_minutes__gte=1), name="step_timeout_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"Level {self.level}"


class Assignment(models.Model):
    """One person's (or one team's, while unclaimed) hold on a thread. At most one is current per
    question; escalation, claim, release and reassignment close the current row and open the next,
    so the rows are the thread's assignment history (the audit log records who did it)."""

    class Closed(models.TextChoices):
        ESCALATED = "escalated", "Escalated"
        CLAIMED = "claimed", "Claimed by someone else"
        RELEASED = "released", "Released"
        REASSIGNED = "reassigned", "Reassigned"
        RESOLVED = "resolved", "Resolved"

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="assignments")
    protocol = models.ForeignKey(
        Protocol, on_delete=models.SET_NULL, null=True, blank=True, related_name="assignments"
    )
    level = models.PositiveSmallIntegerField(default=0)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assignments",
    )
    team = models.ForeignKey(
        Group, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    # When the protocol's clock started (the trigger's moment); every level's deadline is computed
    # from it, which keeps escalation idempotent and lets a late tick land on the right level.
    chain_started_at = models.DateTimeField(default=timezone.now)
    # When the thread moves to the next level; empty once claimed or at the end of the chain.
    deadline_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.CharField(max_length=12, choices=Closed.choices, blank=True)

    class Meta:
        ordering = ["-assigned_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["question"],
                condition=Q(released_at__isnull=True),
                name="one_current_assignment_per_question",
            )
        ]
        indexes = [
            models.Index(
                fields=["deadline_at"],
                condition=Q(released_at__isnull=True),
                name="assignment_due_idx",
            ),
            models.Index(fields=["assignee", "released_at"], name="assignment_queue_idx"),
            models.Index(fields=["question", "protocol"], name="assignment_fired_idx"),
        ]

    def __str__(self) -> str:
        return f"Question {self.question_id} → {self.assignee_id or 'team'} (level {self.level})"

    @property
    def is_current(self) -> bool:
        return self.released_at is None


class TeamCursor(models.Model):
    """Round-robin state per team: the member who got the last thread."""

    team = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="+")
    last_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"Round-robin of {self.team_id} after {self.last_user_id}"
