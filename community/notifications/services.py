"""Notification writes: inbox entries for what happened, preferences, follows and unsubscribe
(sending email is ``email.py``).

Inbox rows are written in the caller's transaction, so a rolled-back post never notifies anyone;
instant email is scheduled with ``transaction.on_commit`` and sent by an idempotent task.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import partial

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from .. import rules
from ..models import (
    Answer,
    Certification,
    Comment,
    DeliveryMode,
    DirectedQuestion,
    ExpertApplication,
    Notification,
    NotificationKind,
    NotificationPreference,
    PostStatus,
    ProductArea,
    Question,
    Subscription,
    Tag,
    User,
)
from . import selectors
from .tokens import ALL_KINDS, InvalidToken, read_unsubscribe_token

# Usernames allow letters, digits and @.+-_ (Django's validator); a mention ends at anything else,
# and an address like "mail@example.com" is not a mention (the @ must not follow a word character).
MENTION_RE = re.compile(r"(?<![\w@.+-])@([\w][\w.+-]{0,149})")
MAX_MENTIONS = 10


@dataclass(frozen=True)
class _Planned:
    recipient_id: int
    kind: str
    text: str
    url: str = ""
    question: Question | None = None
    answer: Answer | None = None


def mentioned_user_ids(body: str) -> list[int]:
    """Ids of the active members @mentioned in ``body`` (at most ``MAX_MENTIONS``; one query)."""
    names: list[str] = []
    for match in MENTION_RE.finditer(body or ""):
        name = match.group(1).rstrip(".-+")
        if name and name not in names:
            names.append(name)
        if len(names) >= MAX_MENTIONS:
            break
    if not names:
        return []
    return list(User.objects.filter(username__in=names).values_list("pk", flat=True))


def _short(title: str) -> str:
    return Truncator(title).chars(80)


def _is_visible(*posts) -> bool:
    # Pending or hidden posts must not leak through an inbox; moderation notifies on approval.
    return all(getattr(p, "status", PostStatus.VISIBLE) == PostStatus.VISIBLE for p in posts if p)


def _plan(
    *groups: tuple[str, Iterable[int | None], str],
    actor_id: int | None,
    url: str = "",
    question: Question | None = None,
    answer: Answer | None = None,
) -> list[_Planned]:
    """Flatten (kind, recipient ids, text) groups in priority order: each person gets one entry per
    event, of the first kind that names them, and never for their own action."""
    seen = {actor_id} if actor_id else set()
    planned: list[_Planned] = []
    for kind, recipient_ids, text in groups:
        for recipient_id in recipient_ids:
            if recipient_id and recipient_id not in seen:
                seen.add(recipient_id)
                planned.append(_Planned(recipient_id, kind, text, url, question, answer))
    return planned


def _deliver(planned: list[_Planned], *, actor: User | None = None) -> list[Notification]:
    """Write the inbox rows (one bulk insert) and schedule their instant emails (one task)."""
    if not planned:
        return []
    ids = {p.recipient_id for p in planned}
    reachable = set(
        User.objects.filter(pk__in=ids, is_active=True, is_placeholder=False).values_list(
            "pk", flat=True
        )
    )
    planned = _within_audience([p for p in planned if p.recipient_id in reachable])
    if not planned:
        return []
    modes = selectors.delivery_modes(
        user_ids={p.recipient_id for p in planned}, kinds={p.kind for p in planned}
    )
    now = timezone.now()
    rows = [
        Notification(
            recipient_id=p.recipient_id,
            kind=p.kind,
            actor=actor,
            question=p.question,
            answer=p.answer,
            text=p.text[:300],
            url=p.url[:500],
            delivery=modes[(p.recipient_id, p.kind)],
            created_at=now,
        )
        for p in planned
    ]
    created = Notification.objects.bulk_create(rows)
    instant = [n.pk for n in created if n.delivery == DeliveryMode.INSTANT]
    if instant:
        transaction.on_commit(partial(_schedule_emails, instant))
    return created


def _within_audience(planned: list[_Planned]) -> list[_Planned]:
    """Drop entries about private directed threads for people who may not read them (only the
    asker, the experts it was directed to and staff may)."""
    question_ids = {p.question.pk for p in planned if p.question is not None}
    if not question_ids:
        return planned
    private = DirectedQuestion.objects.filter(question_id__in=question_ids, private=True)
    experts: dict[int, set[int]] = {}
    for question_id, expert_id in private.values_list("question_id", "expert_id"):
        experts.setdefault(question_id, set()).add(expert_id)
    if not experts:
        return planned
    staff = set(
        User.objects.filter(pk__in={p.recipient_id for p in planned})
        .filter(
            Q(is_superuser=True) | Q(groups__name__in=[rules.MODERATORS_GROUP, rules.CSRS_GROUP])
        )
        .values_list("pk", flat=True)
    )

    def allowed(p: _Planned) -> bool:
        if p.question is None or p.question.pk not in experts:
            return True
        audience = {p.question.author_id, *experts[p.question.pk], *staff}
        return p.recipient_id in audience

    return [p for p in planned if allowed(p)]


def _schedule_emails(notification_ids: list[int]) -> None:
    from .. import broker
    from ..tasks import notifications_email_task

    # A broker outage must not fail the post; the sweep task sends whatever was not sent.
    broker.publish(notifications_email_task, notification_ids)


# --- What happened → who hears about it --------------------------------------------------------


def notify_question_created(*, question: Question) -> list[Notification]:
    """Tell members mentioned in a new question, and followers of its area or tags.

    Call inside the posting transaction (after its tags are set)."""
    if not _is_visible(question):
        return []
    tag_ids = list(question.tags.values_list("pk", flat=True))
    followers = Subscription.objects.filter(Q(area_id=question.area_id) | Q(tag_id__in=tag_ids))
    actor, title = question.author, _short(question.title)
    planned = _plan(
        (
            NotificationKind.MENTION,
            mentioned_user_ids(question.body),
            f"{actor} mentioned you in “{title}”",
        ),
        (
            NotificationKind.FOLLOWED,
            followers.values_list("user_id", flat=True),
            f"{actor} asked “{title}”, in a topic you follow",
        ),
        actor_id=actor.pk,
        question=question,
        url=question.get_absolute_url(),
    )
    return _deliver(planned, actor=actor)


def notify_answer_created(*, answer: Answer) -> list[Notification]:
    """Tell the asker, members mentioned in the answer and followers of the question."""
    question = answer.question
    if not _is_visible(answer, question):
        return []
    actor, title = answer.author, _short(question.title)
    followers = Subscription.objects.filter(question=question).values_list("user_id", flat=True)
    planned = _plan(
        (
            NotificationKind.ANSWER,
            [question.author_id],
            f"{actor} answered your question “{title}”",
        ),
        (
            NotificationKind.MENTION,
            mentioned_user_ids(answer.body),
            f"{actor} mentioned you in an answer to “{title}”",
        ),
        (NotificationKind.FOLLOWED, followers, f"{actor} answered “{title}”, which you follow"),
        actor_id=actor.pk,
        question=question,
        answer=answer,
        url=answer.get_absolute_url(),
    )
    return _deliver(planned, actor=actor)


def notify_comment_created(*, comment: Comment) -> list[Notification]:
    """Tell the author of the commented post and members mentioned in the comment."""
    post: Question | Answer = comment.question or comment.answer  # type: ignore[assignment]
    question = comment.question or comment.answer.question  # type: ignore[union-attr]
    if not _is_visible(post, question):
        return []
    actor, title = comment.author, _short(question.title)
    what = "question" if comment.question_id else "answer"
    planned = _plan(
        (NotificationKind.COMMENT, [post.author_id], f"{actor} commented on your {what} “{title}”"),
        (
            NotificationKind.MENTION,
            mentioned_user_ids(comment.body),
            f"{actor} mentioned you in a comment on “{title}”",
        ),
        actor_id=actor.pk,
        question=question,
        answer=comment.answer if comment.answer_id else None,
        url=post.get_absolute_url()
        if comment.answer_id
        else f"{question.get_absolute_url()}#question",
    )
    return _deliver(planned, actor=actor)


def notify_answer_accepted(*, answer: Answer, actor: User) -> list[Notification]:
    """Tell an answer's author that it was accepted."""
    title = _short(answer.question.title)
    planned = _plan(
        (
            NotificationKind.ACCEPTED,
            [answer.author_id],
            f"{actor} accepted your answer to “{title}”",
        ),
        actor_id=actor.pk,
        question=answer.question,
        answer=answer,
        url=answer.get_absolute_url(),
    )
    return _deliver(planned, actor=actor)


def notify_answer_validated(*, answer: Answer, validator: User) -> list[Notification]:
    """Tell an answer's author that an expert or moderator validated it (called by knowledge)."""
    title = _short(answer.question.title)
    planned = _plan(
        (
            NotificationKind.VALIDATED,
            [answer.author_id],
            f"{validator} validated your answer to “{title}”",
        ),
        actor_id=validator.pk,
        question=answer.question,
        answer=answer,
        url=answer.get_absolute_url(),
    )
    return _deliver(planned, actor=validator)


def notify_question_directed(
    *, question: Question, expert_id: int, asker: User
) -> list[Notification]:
    """Tell an expert (or agent) that a customer chose them to answer a question."""
    planned = _plan(
        (
            NotificationKind.DIRECTED,
            [expert_id],
            f"{asker} asked you directly: “{_short(question.title)}”",
        ),
        actor_id=asker.pk,
        question=question,
        url=question.get_absolute_url(),
    )
    return _deliver(planned, actor=asker)


def notify_assignment(
    *, items: Iterable[tuple[int, Question, str]], actor: User | None = None
) -> list[Notification]:
    """Tell staff about assignments and escalations: ``items`` are (recipient id, question, text).

    A whole batch costs one insert and one email task (the protocol tick assigns in batches)."""
    planned = [
        _Planned(
            recipient_id,
            NotificationKind.ASSIGNMENT,
            text,
            url=question.get_absolute_url(),
            question=question,
        )
        for recipient_id, question, text in items
        if recipient_id and (actor is None or recipient_id != actor.pk)
    ]
    return _deliver(planned, actor=actor)


def notify_flag_outcome(
    *,
    recipient_id: int,
    text: str,
    question: Question | None = None,
    answer: Answer | None = None,
    actor: User | None = None,
) -> list[Notification]:
    """Tell a member what became of their flag."""
    post = answer or question
    planned = _plan(
        (NotificationKind.FLAG, [recipient_id], text),
        actor_id=None,
        question=question,
        answer=answer,
        url=post.get_absolute_url() if post is not None else "",
    )
    return _deliver(planned, actor=actor)


# --- The expert program (issue 5) -------------------------------------------------------------
# Outcomes come from "a moderator", like flag outcomes: the decision is the team's, so no actor
# is recorded and no reviewer is named.

REVIEW_NOTE_CHARS = 180


def _day(when) -> str:
    return f"{timezone.localtime(when):%d %b %Y}"


def _validation_inbox_url(area: ProductArea) -> str:
    return f"{reverse('community:validation_inbox')}?area={area.slug}"


def notify_expert_application_reviewed(*, application: ExpertApplication) -> list[Notification]:
    """Tell the applicant (or nominee) what became of their application: certified, with a link
    to the area's validation inbox, or declined, with the moderator's reason.

    Call inside the reviewing transaction, after the review is saved (``user``, ``area`` and, on
    approval, ``certification`` set)."""
    area = application.area.name
    nominated = application.kind == ExpertApplication.Kind.NOMINATION
    if application.status == ExpertApplication.Status.APPROVED:
        certification = application.certification
        until = _day(certification.expires_at) if certification is not None else ""
        start = (
            "You were nominated and are now a certified expert"
            if nominated
            else "Your expert application was approved: you are now a certified expert"
        )
        text = (
            f"{start} for {area} until {until}. Threads waiting for validation are in your inbox."
        )
        url = _validation_inbox_url(application.area)
    elif application.status == ExpertApplication.Status.REJECTED:
        what = "Your nomination as an expert" if nominated else "Your expert application"
        reason = Truncator(application.review_note).chars(REVIEW_NOTE_CHARS)
        text = f"{what} for {area} was declined. The moderator's reason: {reason}"
        url = reverse("community:expert_apply")
    else:
        return []
    planned = _plan((NotificationKind.EXPERT, [application.user_id], text), actor_id=None, url=url)
    return _deliver(planned)


def _tell_expert(certification: Certification, text: str, url: str) -> list[Notification]:
    """One expert-program notification about ``certification``, from the moderators (no actor)."""
    planned = _plan(
        (NotificationKind.EXPERT, [certification.user_id], text), actor_id=None, url=url
    )
    return _deliver(planned)


def notify_certification_renewed(*, certification: Certification) -> list[Notification]:
    """Tell an expert that a moderator renewed their certification, and until when."""
    text = (
        f"Your expert certification for {certification.area.name} was renewed until "
        f"{_day(certification.expires_at)}."
    )
    return _tell_expert(certification, text, _validation_inbox_url(certification.area))


def notify_certification_granted(*, certification: Certification) -> list[Notification]:
    """Tell a member a moderator certified them for an area (from the staff page; approved
    applications have their own message), and where their validation inbox is."""
    text = (
        f"A moderator certified you as an expert for {certification.area.name} until "
        f"{_day(certification.expires_at)}. Threads waiting for validation are in your inbox."
    )
    return _tell_expert(certification, text, _validation_inbox_url(certification.area))


def notify_certification_revoked(*, certification: Certification) -> list[Notification]:
    """Tell an expert their certification for an area was revoked, with the moderator's reason."""
    reason = Truncator(certification.revoked_reason).chars(REVIEW_NOTE_CHARS)
    text = (
        f"Your expert certification for {certification.area.name} was revoked. "
        f"The moderator's reason: {reason}"
    )
    return _tell_expert(certification, text, reverse("community:expert_apply"))


def notify_certifications_expiring(
    *, certifications: Iterable[Certification]
) -> list[Notification]:
    """Tell each expert that their certification for an area ends soon (one insert and one email
    task for the whole batch). ``area`` must be loaded; deciding who is due, once per term, is
    the caller's (``expert_program.certification_expiry_remind``)."""
    planned = [
        _Planned(
            certification.user_id,
            NotificationKind.EXPERT,
            f"Your expert certification for {certification.area.name} ends on "
            f"{_day(certification.expires_at)}. A moderator can renew it before then.",
            url=_validation_inbox_url(certification.area),
        )
        for certification in certifications
    ]
    return _deliver(planned)


def notify(
    *,
    recipient: User,
    kind: str,
    text: str,
    actor: User | None = None,
    question: Question | None = None,
    answer: Answer | None = None,
    url: str = "",
) -> Notification | None:
    """One notification of any kind (``None`` when the recipient is the actor or unreachable)."""
    if kind not in NotificationKind.values:
        raise ValueError(f"Unknown notification kind {kind!r}")
    planned = _plan(
        (kind, [recipient.pk], text),
        actor_id=actor.pk if actor else None,
        question=question,
        answer=answer,
        url=url,
    )
    created = _deliver(planned, actor=actor)
    return created[0] if created else None


# --- The member's own settings -----------------------------------------------------------------


@transaction.atomic
def notification_preferences_set(*, user: User, modes: Mapping[str, str]) -> None:
    """Set the email mode per kind. Raises ValidationError for unknown kinds or modes."""
    rules.check_manage_notifications(user)
    errors = {}
    for kind, mode in modes.items():
        if kind not in NotificationKind.values:
            errors[kind] = "Unknown kind of notification."
        elif mode not in DeliveryMode.values:
            errors[kind] = "Choose instant, daily digest or no email."
    if errors:
        raise ValidationError(errors)
    for kind, mode in modes.items():
        NotificationPreference.objects.update_or_create(
            user=user, kind=kind, defaults={"mode": mode}
        )


@transaction.atomic
def notification_unsubscribe(*, token: str) -> tuple[User, list[str]]:
    """Apply a one-click unsubscribe token: email of its kind (or of every kind) goes off for the
    member it was issued for, whoever is signed in. Raises ValidationError for a bad token."""
    try:
        user_id, kind = read_unsubscribe_token(token)
    except InvalidToken as exc:
        raise ValidationError({"token": str(exc)}) from exc
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise ValidationError({"token": "This unsubscribe link is not valid."})
    kinds = list(NotificationKind.values) if kind == ALL_KINDS else [kind]
    for each in kinds:
        NotificationPreference.objects.update_or_create(
            user=user, kind=each, defaults={"mode": DeliveryMode.OFF}
        )
    return user, kinds


def notification_mark_read(*, user: User, notification_id: int) -> bool:
    """Mark one of ``user``'s notifications read; another member's id changes nothing."""
    return bool(
        Notification.objects.filter(
            pk=notification_id, recipient=user, read_at__isnull=True
        ).update(read_at=timezone.now())
    )


def notification_mark_all_read(*, user: User) -> int:
    """Mark all of ``user``'s notifications read. Returns how many changed."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def _target(
    question: Question | None, tag: Tag | None, area: ProductArea | None
) -> dict[str, object]:
    targets = {"question": question, "tag": tag, "area": area}
    chosen = {k: v for k, v in targets.items() if v is not None}
    if len(chosen) != 1:
        raise ValueError("Follow exactly one question, tag or area.")
    return chosen


@transaction.atomic
def subscription_follow(
    *,
    user: User,
    question: Question | None = None,
    tag: Tag | None = None,
    area: ProductArea | None = None,
) -> Subscription:
    """Follow a question (its new answers), a tag or an area (their new questions). Idempotent."""
    rules.check_follow(user)
    subscription, _ = Subscription.objects.get_or_create(user=user, **_target(question, tag, area))
    return subscription


@transaction.atomic
def subscription_unfollow(
    *,
    user: User,
    question: Question | None = None,
    tag: Tag | None = None,
    area: ProductArea | None = None,
) -> None:
    """Stop following; unfollowing something not followed is a no-op."""
    Subscription.objects.filter(user=user, **_target(question, tag, area)).delete()
