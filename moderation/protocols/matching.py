"""Protocol matching and assignee choice: snapshots of the active protocols, the facts about open
threads the triggers read (fetched in batches with a handful of queries), and the assignee rules.
Reads and pure functions; the writes that use them live in ``services``."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import Count, Exists, Min, OuterRef, Q

from community.models import Answer, PostStatus, Question, User

from ..models import AssigneeRule, Assignment, EscalationStep, Flag, Protocol, TeamCursor

Trigger = Protocol.Trigger


# --- Protocol snapshots and matching -----------------------------------------------------------


@dataclass
class ProtocolSpec:
    """An active protocol with everything the tick needs, loaded once per tick."""

    protocol: Protocol
    tag_ids: frozenset[int]
    keywords: list[str]
    steps: list[EscalationStep]
    # offsets[i] = minutes from the clock start until level levels[i] begins.
    levels: list[int] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    # Plain copies of what matching reads 10,000 times a tick (attribute chains add up).
    pk: int = 0
    area_id: int | None = None
    severity: int = 0

    def __post_init__(self) -> None:
        self.pk, self.area_id = self.protocol.pk, self.protocol.area_id
        self.severity = self.protocol.severity
        self.levels, self.offsets = [0], [0]
        total = 0
        for step in self.steps:
            total += step.timeout_minutes
            self.levels.append(step.level)
            self.offsets.append(total)

    def level_at(self, chain_started_at: dt.datetime, now: dt.datetime) -> int:
        """The level a thread whose clock started at ``chain_started_at`` belongs at ``now``."""
        level = 0
        for lvl, offset in zip(self.levels, self.offsets, strict=True):
            if chain_started_at + dt.timedelta(minutes=offset) <= now:
                level = lvl
        return level

    def deadline_after(self, chain_started_at: dt.datetime, level: int) -> dt.datetime | None:
        """When a thread at ``level`` moves on (None at the end of the chain)."""
        for lvl, offset in zip(self.levels, self.offsets, strict=True):
            if lvl > level:
                return chain_started_at + dt.timedelta(minutes=offset)
        return None

    def rule_for(self, level: int) -> Protocol | EscalationStep:
        for step in self.steps:
            if step.level == level:
                return step
        return self.protocol

    def guide_for(self, level: int) -> str:
        rule = self.rule_for(level)
        return rule.response_guide or self.protocol.response_guide


def protocol_specs(*, protocols: Iterable[Protocol] | None = None) -> list[ProtocolSpec]:
    """Active protocols by priority, with tags and steps (three queries)."""
    if protocols is None:
        protocols = Protocol.objects.filter(active=True)
    protocols = list(protocols.prefetch_related("tags", "steps"))  # type: ignore[union-attr]
    return [
        ProtocolSpec(
            protocol=p,
            tag_ids=frozenset(t.pk for t in p.tags.all()),
            keywords=p.keyword_list,
            steps=sorted(p.steps.all(), key=lambda s: s.level),
        )
        for p in sorted(protocols, key=lambda p: (-p.priority, p.pk))
    ]


@dataclass
class ThreadFacts:
    """What matching and triggers read about one open thread."""

    pk: int
    area_id: int
    title: str
    body: str
    created_at: dt.datetime
    answer_count: int
    urgent_at: dt.datetime | None
    tag_ids: frozenset[int] = frozenset()
    needs_staff_at: dt.datetime | None = None

    @cached_property
    def severity(self) -> int:
        high = self.urgent_at is not None or self.needs_staff_at is not None
        return Protocol.Severity.HIGH if high else Protocol.Severity.ANY

    @cached_property
    def text(self) -> str:
        return f"{self.title}\n{self.body}".lower()


def matches(spec: ProtocolSpec, thread: ThreadFacts) -> bool:
    """Whether the thread is in the protocol's scope (area, tags, keywords, severity)."""
    if spec.area_id and spec.area_id != thread.area_id:
        return False
    if spec.tag_ids and not (spec.tag_ids & thread.tag_ids):
        return False
    if spec.keywords and not any(k in thread.text for k in spec.keywords):
        return False
    return thread.severity >= spec.severity


def trigger_time(spec: ProtocolSpec, thread: ThreadFacts) -> dt.datetime | None:
    """The moment the protocol's trigger fires (or fired) for the thread; None if it never does."""
    protocol = spec.protocol
    if protocol.trigger == Trigger.NEW_QUESTION:
        # Only questions posted since the protocol exists are "new" to it.
        return thread.created_at if thread.created_at >= protocol.created_at else None
    if protocol.trigger == Trigger.UNANSWERED:
        if thread.answer_count:
            return None
        return thread.created_at + dt.timedelta(hours=protocol.trigger_param)
    if protocol.trigger == Trigger.UNRESOLVED:
        return thread.created_at + dt.timedelta(days=protocol.trigger_param)
    if protocol.trigger == Trigger.FLAGGED:
        return thread.needs_staff_at
    if protocol.trigger == Trigger.URGENT:
        return thread.urgent_at
    return None


def _open_threads_q() -> Q:
    """Threads that may still need a human: visible, not imported archive material, with neither
    an accepted nor a validated answer."""
    validated = Answer.objects.filter(question=OuterRef("pk"), validated_at__isnull=False)
    return Q(accepted_answer__isnull=True, status=PostStatus.VISIBLE, source_url="") & ~Q(
        Exists(validated)
    )


def thread_facts(
    specs: list[ProtocolSpec],
    *,
    after_pk: int = 0,
    limit: int | None = None,
    only_pk: int | None = None,
    with_current: bool = False,
) -> list[ThreadFacts]:
    """Facts for the next ``limit`` open threads after ``after_pk`` (or for ``only_pk``), in pk
    order; unassigned ones only unless ``with_current``. Two to five queries for a whole batch:
    related rows are fetched by pk range, not by long ``IN`` lists, which cost more to build than
    to run."""
    qs = Question.objects.filter(_open_threads_q())
    qs = qs.filter(pk=only_pk) if only_pk is not None else qs.filter(pk__gt=after_pk)
    if not with_current:
        current = Assignment.objects.filter(question=OuterRef("pk"), released_at__isnull=True)
        qs = qs.filter(~Exists(current))
    fields = ["pk", "area_id", "title", "created_at", "answer_count", "urgent_at"]
    need_body = any(s.keywords for s in specs)
    rows = qs.order_by("pk").values(*fields, *(["body"] if need_body else []))
    rows = list(rows[:limit] if limit else rows)
    if not rows:
        return []
    span = (rows[0]["pk"], rows[-1]["pk"])  # inclusive
    tags: dict[int, set[int]] = defaultdict(set)
    if any(s.tag_ids for s in specs):
        through = Question.tags.through.objects.filter(
            question_id__gte=span[0], question_id__lte=span[1]
        )
        for question_id, tag_id in through.values_list("question_id", "tag_id"):
            tags[question_id].add(tag_id)
    needs_staff: dict[int, dt.datetime] = {}
    if any(
        s.protocol.trigger == Trigger.FLAGGED or s.protocol.severity > Protocol.Severity.ANY
        for s in specs
    ):
        needs_staff = _needs_staff_since(span)
    return [
        ThreadFacts(
            pk=r["pk"],
            area_id=r["area_id"],
            title=r["title"],
            body=r.get("body", ""),
            created_at=r["created_at"],
            answer_count=r["answer_count"],
            urgent_at=r["urgent_at"],
            tag_ids=frozenset(tags.get(r["pk"], ())),
            needs_staff_at=needs_staff.get(r["pk"]),
        )
        for r in rows
    ]


def _needs_staff_since(span: tuple[int, int]) -> dict[int, dt.datetime]:
    """The oldest open needs-staff flag of each thread with a pk in ``span`` (on the question or
    any of its answers)."""
    open_flags = Flag.objects.filter(status=Flag.Status.OPEN, reason=Flag.Reason.NEEDS_STAFF)
    since: dict[int, dt.datetime] = {}
    on_questions = (
        open_flags.filter(question_id__gte=span[0], question_id__lte=span[1])
        .values("question_id")
        .annotate(first=Min("created_at"))
        .values_list("question_id", "first")
    )
    on_answers = (
        open_flags.filter(answer__question_id__gte=span[0], answer__question_id__lte=span[1])
        .values("answer__question_id")
        .annotate(first=Min("created_at"))
        .values_list("answer__question_id", "first")
    )
    for question_id, first in [*on_questions, *on_answers]:
        if question_id not in since or first < since[question_id]:
            since[question_id] = first
    return since


def protocol_match(*, question: Question) -> list[Protocol]:
    """Active protocols whose area, tags, keywords and severity match ``question``, highest
    priority first (whatever their trigger's timing)."""
    specs = protocol_specs()
    facts = thread_facts(specs, only_pk=question.pk, with_current=True)
    if not facts:
        return []
    return [s.protocol for s in specs if matches(s, facts[0])]


# --- Choosing the assignee ---------------------------------------------------------------------


class AssigneePicker:
    """Applies assignee rules for one transaction, keeping team members, loads and round-robin
    cursors in memory so a batch of assignments costs a few queries, not a few per thread."""

    def __init__(self) -> None:
        self._members: dict[int, list[int]] = {}
        self._cursors: dict[int, int | None] = {}
        self._dirty: set[int] = set()
        self._load: dict[int, int] = {}

    def members(self, team_id: int) -> list[int]:
        if team_id not in self._members:
            self._members[team_id] = list(
                User.objects.filter(groups__pk=team_id, is_active=True)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        return self._members[team_id]

    def _cursor(self, team_id: int) -> int | None:
        if team_id not in self._cursors:
            cursor = TeamCursor.objects.select_for_update().filter(team_id=team_id).first()
            self._cursors[team_id] = cursor.last_user_id if cursor else None
        return self._cursors[team_id]

    def _loads(self, user_ids: list[int]) -> dict[int, int]:
        missing = [u for u in user_ids if u not in self._load]
        if missing:
            counts = dict(
                Assignment.objects.filter(assignee_id__in=missing, released_at__isnull=True)
                .values("assignee_id")
                .annotate(n=Count("pk"))
                .values_list("assignee_id", "n")
            )
            for user_id in missing:
                self._load[user_id] = counts.get(user_id, 0)
        return {u: self._load[u] for u in user_ids}

    def pick(
        self, rule: Protocol | EscalationStep, *, exclude: int | None = None
    ) -> tuple[int | None, int | None]:
        """(assignee id or None for the team pool, team id) for one thread under ``rule``."""
        if rule.assignee_rule == AssigneeRule.NAMED:
            return rule.assignee_id, None
        team_id = rule.team_id
        if team_id is None:
            return None, None
        members = [m for m in self.members(team_id) if m != exclude] or self.members(team_id)
        if not members:
            return None, team_id
        if rule.assignee_rule == AssigneeRule.LEAST_LOADED:
            loads = self._loads(members)
            chosen = min(members, key=lambda m: (loads[m], m))
        else:
            last = self._cursor(team_id)
            chosen = next((m for m in members if last is not None and m > last), members[0])
            self._cursors[team_id] = chosen
            self._dirty.add(team_id)
        self.took(chosen)
        return chosen, team_id

    def took(self, user_id: int | None) -> None:
        if user_id is not None and user_id in self._load:
            self._load[user_id] += 1

    def save(self) -> None:
        """Persist round-robin cursors (inside the caller's transaction)."""
        for team_id in self._dirty:
            TeamCursor.objects.update_or_create(
                team_id=team_id, defaults={"last_user_id": self._cursors[team_id]}
            )
        self._dirty.clear()


def level_label(spec: ProtocolSpec | None, level: int) -> str:
    if spec is None or level == 0:
        return "first response"
    rule = spec.rule_for(level)
    return str(rule) if isinstance(rule, EscalationStep) else f"level {level}"


def protocol_spec(protocol: Protocol | None) -> ProtocolSpec | None:
    if protocol is None:
        return None
    return protocol_specs(protocols=Protocol.objects.filter(pk=protocol.pk))[0]
