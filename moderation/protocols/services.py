"""Protocol writes: defining protocols, matching threads, assigning by rule, claim / release /
reassign, and the periodic tick that fires triggers, escalates overdue threads and closes
resolved ones.

Timing model. When a protocol fires for a thread, its clock starts at the trigger's own moment
(the question's creation, "created + N hours", the urgent mark, the needs-staff flag), stored as
``Assignment.chain_started_at``. Level 0 is the protocol's own assignee rule; escalation step k is
reached ``sum(timeout of steps 1..k)`` minutes after the clock started. The level a thread *should*
be at is therefore a pure function of (clock start, now), so a tick that runs twice changes
nothing the second time, and a tick that runs late jumps straight to the right level, once.

A claim stops the clock (someone owns the thread); a release puts the thread back in its team's
pool on the original schedule, so a thread released after its deadline escalates on the next tick.
A thread is resolved, and its assignment closed, once it has an accepted or a validated answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from community import notifications
from community.audit import audit_log, audit_log_many
from community.models import Answer, Question, User
from community.rules import is_staff_member

from ..models import Assignment, EscalationStep, Protocol
from . import rules
from .matching import (
    AssigneePicker,
    ProtocolSpec,
    ThreadFacts,
    level_label,
    matches,
    protocol_match,
    protocol_spec,
    protocol_specs,
    thread_facts,
    trigger_time,
)

# Matching reads are part of this module's public face (views, tags and tests call them here).
__all__ = [
    "assignment_claim",
    "assignment_reassign",
    "assignment_release",
    "level_label",
    "protocol_match",
    "protocol_save",
    "protocol_spec",
    "protocol_specs",
    "protocols_evaluate_question",
    "protocols_tick",
]

BATCH_SIZE = 1000


# --- Opening, escalating and closing assignments ------------------------------------------------


def _audit_data(assignment: Assignment, **extra) -> dict:
    return {
        "assignment": assignment.pk,
        "protocol": assignment.protocol_id,
        "level": assignment.level,
        "assignee": assignment.assignee_id,
        "team": assignment.team_id,
        "deadline_at": assignment.deadline_at.isoformat() if assignment.deadline_at else None,
        **extra,
    }


def _close(assignment: Assignment, *, reason: str, now: dt.datetime) -> bool:
    """Close a current assignment; False if someone else closed it first (concurrent tick)."""
    closed = Assignment.objects.filter(pk=assignment.pk, released_at__isnull=True).update(
        released_at=now, release_reason=reason
    )
    assignment.released_at, assignment.release_reason = now, reason
    return bool(closed)


@dataclass
class TickResult:
    threads: int = 0
    evaluations: int = 0
    assigned: int = 0
    escalated: int = 0
    resolved: int = 0


def _fire(
    threads: list[ThreadFacts],
    specs: list[ProtocolSpec],
    now: dt.datetime,
    result: TickResult,
) -> None:
    """Evaluate triggers for a batch of unassigned open threads and open the assignments due."""
    if not threads or not specs:
        return
    fired = set(
        Assignment.objects.filter(
            question_id__gte=threads[0].pk,
            question_id__lte=threads[-1].pk,
            protocol__isnull=False,
        ).values_list("question_id", "protocol_id")
    )
    due: list[tuple[ThreadFacts, ProtocolSpec, dt.datetime]] = []
    for thread in threads:
        result.threads += 1
        for spec in specs:
            result.evaluations += 1
            if (thread.pk, spec.pk) in fired or not matches(spec, thread):
                continue
            started = trigger_time(spec, thread)
            if started is not None and started <= now:
                due.append((thread, spec, started))
                break
    if not due:
        return
    with transaction.atomic():
        picker = AssigneePicker()
        rows = []
        for thread, spec, started in due:
            level = spec.level_at(started, now)
            assignee_id, team_id = picker.pick(spec.rule_for(level))
            rows.append(
                Assignment(
                    question_id=thread.pk,
                    protocol=spec.protocol,
                    level=level,
                    assignee_id=assignee_id,
                    team_id=team_id,
                    assigned_at=now,
                    chain_started_at=started,
                    deadline_at=spec.deadline_after(started, level),
                )
            )
        created = _create_assignments(rows)
        picker.save()
        titles = {thread.pk: thread.title for thread, _, _ in due}
        by_pk = {spec.pk: spec for spec in specs}
        items, audits = [], []
        for assignment in created:
            question = Question(pk=assignment.question_id, title=titles[assignment.question_id])
            audits.append(
                (
                    question,
                    _audit_data(assignment, started_at=assignment.chain_started_at.isoformat()),
                )
            )
            spec = by_pk[assignment.protocol_id]
            items.append(
                (
                    assignment.assignee_id,
                    question,
                    f"Assigned to you by “{spec.protocol.name}” "
                    f"({level_label(spec, assignment.level)}): {question.title}",
                )
            )
        audit_log_many(actor=None, action="moderation.assignment.opened", entries=audits)
        notifications.notify_assignment(items=items)
        result.assigned += len(created)


def _create_assignments(rows: list[Assignment]) -> list[Assignment]:
    """Insert a batch; if a concurrent path assigned one of the threads meanwhile, fall back to
    row by row and skip the ones already taken (one current assignment per thread)."""
    try:
        with transaction.atomic():
            return Assignment.objects.bulk_create(rows)
    except IntegrityError:
        created = []
        for row in rows:
            try:
                with transaction.atomic():
                    row.save(force_insert=True)
                created.append(row)
            except IntegrityError:
                continue
        return created


def _escalate_due(now: dt.datetime, specs: list[ProtocolSpec], result: TickResult) -> None:
    """Move every current assignment whose deadline passed to the level its clock says."""
    by_pk = {spec.pk: spec for spec in specs}
    due = Assignment.objects.filter(
        released_at__isnull=True, deadline_at__lte=now, protocol__isnull=False
    ).select_related("question")
    seen: set[int] = set()
    while True:
        # Every row handled below leaves ``due`` (closed, or its deadline moves past ``now``), so
        # each query returns the next batch; a row seen twice means something else is wrong.
        batch = list(due.order_by("deadline_at", "pk")[:BATCH_SIZE])
        if not batch or seen.intersection(a.pk for a in batch):
            return
        seen.update(a.pk for a in batch)
        with transaction.atomic():
            picker = AssigneePicker()
            items = []
            for current in batch:
                spec = by_pk.get(current.protocol_id)
                if spec is None:  # protocol switched off: stop its clock where it stands
                    Assignment.objects.filter(pk=current.pk).update(deadline_at=None)
                    continue
                target = spec.level_at(current.chain_started_at, now)
                if target <= current.level:
                    # Steps were edited since: re-read the schedule, never step backwards.
                    Assignment.objects.filter(pk=current.pk).update(
                        deadline_at=spec.deadline_after(current.chain_started_at, current.level)
                    )
                    continue
                if not _close(current, reason=Assignment.Closed.ESCALATED, now=now):
                    continue
                assignee_id, team_id = picker.pick(spec.rule_for(target))
                escalated = Assignment.objects.create(
                    question=current.question,
                    protocol=spec.protocol,
                    level=target,
                    assignee_id=assignee_id,
                    team_id=team_id,
                    assigned_at=now,
                    chain_started_at=current.chain_started_at,
                    deadline_at=spec.deadline_after(current.chain_started_at, target),
                )
                audit_log(
                    actor=None,
                    action="moderation.assignment.escalated",
                    target=current.question,
                    data=_audit_data(
                        escalated,
                        from_level=current.level,
                        from_assignee=current.assignee_id,
                    ),
                )
                items.append(
                    (
                        assignee_id,
                        current.question,
                        f"Escalated to you ({level_label(spec, target)}, "
                        f"“{spec.protocol.name}”): {current.question.title}",
                    )
                )
                result.escalated += 1
            picker.save()
            notifications.notify_assignment(items=items)


def _close_resolved(now: dt.datetime, result: TickResult) -> None:
    """Close current assignments of threads that now have an accepted or validated answer."""
    validated = Answer.objects.filter(question=OuterRef("question_id"), validated_at__isnull=False)
    resolved = Assignment.objects.filter(released_at__isnull=True).filter(
        Q(question__accepted_answer__isnull=False) | Q(Exists(validated))
    )
    while True:
        batch = list(resolved.select_related("question")[:BATCH_SIZE])
        if not batch:
            return
        with transaction.atomic():
            for assignment in batch:
                if _close(assignment, reason=Assignment.Closed.RESOLVED, now=now):
                    audit_log(
                        actor=None,
                        action="moderation.assignment.resolved",
                        target=assignment.question,
                        data=_audit_data(assignment),
                    )
                    result.resolved += 1


def protocols_tick(*, now: dt.datetime | None = None, batch_size: int = BATCH_SIZE) -> TickResult:
    """One periodic evaluation: close resolved threads, escalate overdue ones, then fire triggers
    for every open unassigned thread, in keyset batches of ``batch_size``.

    Idempotent for a given ``now`` and safe to run late (see the module docstring). Each batch
    commits on its own, so a crash loses at most one batch of work, which the next tick redoes.
    """
    now = now or timezone.now()
    result = TickResult()
    specs = protocol_specs()
    _close_resolved(now, result)
    _escalate_due(now, specs, result)
    if not specs:
        return result
    last_pk = 0
    while True:
        threads = thread_facts(specs, after_pk=last_pk, limit=batch_size)
        if not threads:
            return result
        last_pk = threads[-1].pk
        _fire(threads, specs, now, result)


def protocols_evaluate_question(*, question_id: int, now: dt.datetime | None = None) -> TickResult:
    """Evaluate protocols for one thread at once (a new question, on commit) instead of waiting
    for the next tick. Same rules and idempotence as the tick."""
    now = now or timezone.now()
    result = TickResult()
    specs = protocol_specs()
    _fire(thread_facts(specs, only_pk=question_id), specs, now, result)
    return result


# --- Staff actions -----------------------------------------------------------------------------


def _current_locked(question: Question) -> Assignment | None:
    return (
        # Lock only the assignment row: PostgreSQL refuses FOR UPDATE on an outer join's nullable
        # side (the protocol may be null).
        Assignment.objects.select_for_update(of=("self",))
        .select_related("protocol")
        .filter(question=question, released_at__isnull=True)
        .first()
    )


@transaction.atomic
def assignment_claim(*, question: Question, user: User) -> Assignment:
    """``user`` takes the thread: they become the assignee and the escalation clock stops.
    Audited; the previous assignee is told. Raises PermissionDenied."""
    rules.check_claim_assignment(user)
    now = timezone.now()
    current = _current_locked(question)
    if current is not None and current.assignee_id == user.pk and current.claimed_at:
        return current
    if current is not None:
        _close(current, reason=Assignment.Closed.CLAIMED, now=now)
    claimed = Assignment.objects.create(
        question=question,
        protocol=current.protocol if current else None,
        level=current.level if current else 0,
        assignee=user,
        team=current.team if current else None,
        assigned_by=user,
        assigned_at=now,
        chain_started_at=current.chain_started_at if current else now,
        deadline_at=None,
        claimed_at=now,
    )
    previous = current.assignee_id if current else None
    audit_log(
        actor=user,
        action="moderation.assignment.claimed",
        target=question,
        data=_audit_data(claimed, previous_assignee=previous),
    )
    if previous and previous != user.pk:
        notifications.notify_assignment(
            items=[(previous, question, f"{user} took over “{question.title}” from you")],
            actor=user,
        )
    return claimed


@transaction.atomic
def assignment_release(*, question: Question, user: User) -> Assignment | None:
    """Give the thread back: it returns to its team's pool at the same level, on the protocol's
    original schedule (so an overdue thread escalates at the next tick). A thread no protocol
    assigned simply becomes unassigned. Audited. Raises PermissionDenied, ValidationError."""
    current = _current_locked(question)
    if current is None or current.assignee_id is None:
        raise ValidationError({"assignment": "Nobody holds this thread."})
    rules.check_release_assignment(user, current)
    now = timezone.now()
    _close(current, reason=Assignment.Closed.RELEASED, now=now)
    released = None
    spec = protocol_spec(current.protocol)
    if spec is not None:
        rule = spec.rule_for(current.level)
        released = Assignment.objects.create(
            question=question,
            protocol=current.protocol,
            level=current.level,
            assignee=None,
            team_id=current.team_id or getattr(rule, "team_id", None),
            assigned_by=user,
            assigned_at=now,
            chain_started_at=current.chain_started_at,
            deadline_at=spec.deadline_after(current.chain_started_at, current.level),
        )
    audit_log(
        actor=user,
        action="moderation.assignment.released",
        target=question,
        data=_audit_data(released or current, released_by_assignee=current.assignee_id),
    )
    return released


@transaction.atomic
def assignment_reassign(*, question: Question, user: User, assignee: User) -> Assignment:
    """Hand the thread to another staff member, keeping its level and SLA clock as they are.
    Audited; the new assignee is told. Raises PermissionDenied, ValidationError."""
    rules.check_reassign(user)
    if not (is_staff_member(assignee) and assignee.is_active):
        raise ValidationError({"assignee": "Threads can only be assigned to active staff."})
    current = _current_locked(question)
    if current is not None and current.assignee_id == assignee.pk:
        return current
    now = timezone.now()
    if current is not None:
        _close(current, reason=Assignment.Closed.REASSIGNED, now=now)
    reassigned = Assignment.objects.create(
        question=question,
        protocol=current.protocol if current else None,
        level=current.level if current else 0,
        assignee=assignee,
        team=current.team if current else None,
        assigned_by=user,
        assigned_at=now,
        chain_started_at=current.chain_started_at if current else now,
        deadline_at=current.deadline_at if current else None,
    )
    audit_log(
        actor=user,
        action="moderation.assignment.reassigned",
        target=question,
        data=_audit_data(reassigned, previous_assignee=current.assignee_id if current else None),
    )
    notifications.notify_assignment(
        items=[(assignee.pk, question, f"{user} assigned “{question.title}” to you")], actor=user
    )
    return reassigned


# --- Defining protocols ------------------------------------------------------------------------


def _protocol_snapshot(protocol: Protocol, steps: Iterable[EscalationStep]) -> dict:
    return {
        "name": protocol.name,
        "area": protocol.area_id,
        "keywords": protocol.keywords,
        "severity": protocol.severity,
        "trigger": protocol.trigger,
        "trigger_param": protocol.trigger_param,
        "assignee_rule": protocol.assignee_rule,
        "assignee": protocol.assignee_id,
        "team": protocol.team_id,
        "active": protocol.active,
        "priority": protocol.priority,
        "steps": [
            {
                "level": s.level,
                "rule": s.assignee_rule,
                "assignee": s.assignee_id,
                "team": s.team_id,
                "timeout_minutes": s.timeout_minutes,
            }
            for s in steps
        ],
    }


@transaction.atomic
def protocol_save(
    *,
    protocol: Protocol,
    actor: User,
    tags: Iterable | None = None,
    steps: Sequence[EscalationStep] = (),
    deleted_steps: Sequence[EscalationStep] = (),
) -> Protocol:
    """Create or update a protocol with its tags and escalation steps (``steps`` are the new or
    changed ones). Audited with before/after. Raises PermissionDenied, ValidationError."""
    rules.check_manage_protocols(actor)
    protocol.full_clean(exclude=["tags"])
    deleted_ids = {s.pk for s in deleted_steps if s.pk}
    kept = (
        list(protocol.steps.exclude(pk__in=deleted_ids | {s.pk for s in steps if s.pk}))
        if protocol.pk
        else []
    )
    levels = [s.level for s in [*kept, *steps]]
    duplicates = sorted({lvl for lvl in levels if levels.count(lvl) > 1})
    if duplicates:
        raise ValidationError({"steps": f"Two steps share level {duplicates[0]}."})
    for step in steps:
        step.full_clean(exclude=["protocol"])
    created = protocol.pk is None
    before = None
    if not created:
        previous = Protocol.objects.get(pk=protocol.pk)
        before = _protocol_snapshot(previous, previous.steps.all())
    protocol.updated_at = timezone.now()
    protocol.save()
    if tags is not None:
        protocol.tags.set(tags)
    EscalationStep.objects.filter(protocol=protocol, pk__in=deleted_ids).delete()
    # Free levels first so swapping two steps' levels never trips the uniqueness constraint.
    for offset, step in enumerate(s for s in steps if s.pk):
        EscalationStep.objects.filter(pk=step.pk).update(level=30000 + offset)
    for step in steps:
        step.protocol = protocol
        step.save()
    audit_log(
        actor=actor,
        action="moderation.protocol.created" if created else "moderation.protocol.updated",
        target=protocol,
        data={"before": before, "after": _protocol_snapshot(protocol, protocol.steps.all())},
    )
    return protocol
