"""Staff pages: the audit log and the expert certification program. Moderators only."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from community import rules as community_rules
from community import selectors as community_selectors
from community import services as community_services
from community.forms import add_service_errors
from community.models import AuditEntry, Question
from community.ratelimit import RateLimited
from community.views_helpers import submit_form_action

from . import selectors, services
from .forms import (
    AuditFilterForm,
    BulkForm,
    CertificationGrantForm,
    CertificationRevokeForm,
    FlagForm,
    MergeForm,
    MoveForm,
    OptionalReasonForm,
    PostEditForm,
    QueueFilterForm,
    ReasonForm,
    SanctionForm,
)
from .services import BULK_ACTIONS

AUDIT_PAGE_SIZE = 50
CERTIFICATION_PAGE_SIZE = 50
CERTIFICATION_STATES = [
    ("", "All"),
    ("active", "Active"),
    ("expired", "Expired"),
    ("revoked", "Revoked"),
]


def staff_page(predicate: Callable, message: str):
    """Anonymous visitors go to the login page; signed-in users failing ``predicate`` get 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request: HttpRequest, *args, **kwargs):
            if not predicate(request.user):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def _is_staff_console_user(user) -> bool:
    return community_rules.can_view_audit_log(user) or community_rules.can_manage_certifications(
        user
    )


@staff_page(_is_staff_console_user, "The staff pages are for moderators.")
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "moderation/home.html",
        {
            "can_view_audit_log": community_rules.can_view_audit_log(request.user),
            "can_manage_certifications": community_rules.can_manage_certifications(request.user),
        },
    )


# Target types whose page can be linked from the id alone, without a query per row.
_TARGET_URLS: dict[str, Callable[[str], str]] = {
    "community.question": lambda pk: reverse("community:question", kwargs={"pk": int(pk)}),
    "community.answer": lambda pk: reverse(
        "moderation:post", kwargs={"kind": "answer", "pk": int(pk)}
    ),
    "knowledge.article": lambda pk: reverse("knowledge:article_short", kwargs={"pk": int(pk)}),
    "community.certification": lambda pk: reverse("moderation:certifications") + f"#cert-{pk}",
}


def _target_url(entry: AuditEntry) -> str:
    build = _TARGET_URLS.get(entry.target_type)
    if build is None:
        return ""
    try:
        return build(entry.target_id)
    except (ValueError, NoReverseMatch):
        return ""


@staff_page(community_rules.can_view_audit_log, "Only moderators can read the audit log.")
def audit_log(request: HttpRequest) -> HttpResponse:
    """The audit log, newest first, filterable by action prefix, actor, target and dates."""
    form = AuditFilterForm(request.GET)
    entries = community_selectors.audit_entry_list(**form.selector_filters())
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "entry": entry,
            "target_url": _target_url(entry),
            "data_json": json.dumps(
                entry.data, indent=2, sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder
            ),
        }
        for entry in page.object_list
    ]
    csv_query = request.GET.copy()
    csv_query.pop("page", None)
    return render(
        request,
        "moderation/audit_log.html",
        {"form": form, "page": page, "rows": rows, "csv_query": csv_query.urlencode()},
    )


class _Echo:
    """A file-like object whose write returns the line, so csv.writer feeds a streaming body."""

    def write(self, value: str) -> str:
        return value


AUDIT_CSV_COLUMNS = ["created_at", "actor", "action", "target_type", "target_id", "target"]
AUDIT_CSV_COLUMNS += ["ip", "data"]


@staff_page(community_rules.can_view_audit_log, "Only moderators can read the audit log.")
def audit_csv(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered audit log as CSV, streamed in chunks so a large export holds little memory."""
    form = AuditFilterForm(request.GET)
    entries = community_selectors.audit_entry_list(**form.selector_filters())
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(AUDIT_CSV_COLUMNS)
        for entry in entries.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    entry.created_at.isoformat(),
                    entry.actor.username if entry.actor else "",
                    entry.action,
                    entry.target_type,
                    entry.target_id,
                    _csv_safe(entry.target_repr),
                    entry.ip or "",
                    _csv_safe(json.dumps(entry.data, sort_keys=True, cls=DjangoJSONEncoder)),
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="peerdesk-audit-{stamp}.csv"'
    return response


def _csv_safe(value: str) -> str:
    # A cell starting with = + - @ runs as a formula in spreadsheets (titles are user-written).
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _revoke_form(cert_pk: int, data=None) -> CertificationRevokeForm:
    # One form per table row: distinct ids keep labels pointing at their own input.
    return CertificationRevokeForm(data, auto_id=f"revoke-{cert_pk}-%s")


def _certifications_page(
    request: HttpRequest,
    *,
    grant_form: CertificationGrantForm | None = None,
    revoke_errors: dict[int, CertificationRevokeForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    state = request.GET.get("state", "")
    if state not in dict(CERTIFICATION_STATES):
        state = ""
    page = Paginator(community_selectors.certification_list(state=state), CERTIFICATION_PAGE_SIZE)
    page = page.get_page(request.GET.get("page"))
    revoke_errors = revoke_errors or {}
    rows = [
        {"cert": cert, "revoke_form": revoke_errors.get(cert.pk) or _revoke_form(cert.pk)}
        for cert in page.object_list
    ]
    return render(
        request,
        "moderation/certifications.html",
        {
            "grant_form": grant_form or CertificationGrantForm(),
            "page": page,
            "rows": rows,
            "state": state,
            "states": CERTIFICATION_STATES,
        },
        status=status,
    )


@staff_page(community_rules.can_manage_certifications, "Only moderators can manage certifications.")
def certifications(request: HttpRequest) -> HttpResponse:
    """Certifications (active, expired, revoked) with the grant form and per-row revoke forms."""
    if request.method != "POST":
        return _certifications_page(request)
    form = CertificationGrantForm(request.POST)
    if form.is_valid():
        try:
            cert = community_services.certification_grant(
                user=form.cleaned_data["user"],
                area=form.cleaned_data["area"],
                granted_by=request.user,
                expires_at=form.expires_at,
            )
        except ValidationError as exc:
            add_service_errors(form, exc, CertificationGrantForm.SERVICE_FIELDS)
        else:
            messages.success(
                request,
                f"{cert.user.public_name} is now a certified expert for {cert.area.name} "
                f"until {form.cleaned_data['expires_on']:%d %b %Y}.",
            )
            return redirect("moderation:certifications")
    return _certifications_page(request, grant_form=form, status=400)


@require_POST
@staff_page(community_rules.can_manage_certifications, "Only moderators can manage certifications.")
def certification_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    cert = get_object_or_404(community_selectors.certification_list(), pk=pk)
    form = _revoke_form(cert.pk, request.POST)
    if response := submit_form_action(
        request,
        form,
        lambda data: community_services.certification_revoke(
            certification=cert, revoked_by=request.user, reason=data["reason"]
        ),
        success=f"Revoked {cert.user.public_name}'s certification for {cert.area.name}.",
        redirect_to=reverse("moderation:certifications"),
    ):
        return response
    return _certifications_page(request, revoke_errors={cert.pk: form}, status=400)


# --- Moderation (issue 4): the flag queue, posts in context, members, flagging -------------------

QUEUE_PAGE_SIZE = 25
POST_KINDS = ("question", "answer")
PENDING_LIMIT = 50
_moderators_only = staff_page(
    community_rules.can_moderate, "Only moderators can work the moderation queue."
)


def _back(request: HttpRequest, default: str) -> str:
    """Where a one-click action returns: the page it came from (filters kept) when it is ours."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _service_error(request: HttpRequest, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


@_moderators_only
def queue(request: HttpRequest) -> HttpResponse:
    """Open flags oldest first (filter by reason, area, age) and posts waiting for approval."""
    form = QueueFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    flags = selectors.flag_queue(
        reason=filters.get("reason") or "",
        area=filters.get("area"),
        age=filters.get("age") or "",
    )
    page = Paginator(flags, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    counts = selectors.open_flag_counts(flags=rows)
    for flag in rows:
        flag.post_open_flags = counts[flag.post_key]
    context = {
        "form": form,
        "page": page,
        "flags": rows,
        "pending_questions": list(selectors.pending_questions()[:PENDING_LIMIT]),
        "pending_answers": list(selectors.pending_answers()[:PENDING_LIMIT]),
        "bulk_actions": BULK_ACTIONS,
        "here": request.get_full_path(),
    }
    return render(request, "moderation/queue.html", context)


@require_POST
@_moderators_only
def queue_bulk(request: HttpRequest) -> HttpResponse:
    """Dismiss the checked flags, or hide their posts, in one go."""
    back = _back(request, reverse("moderation:queue"))
    form = BulkForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(m for ms in form.errors.values() for m in ms))
        return redirect(back)
    try:
        count = services.flags_bulk(
            flag_ids=form.cleaned_data["flags"],
            actor=request.user,
            action=form.cleaned_data["action"],
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as exc:
        _service_error(request, exc)
    else:
        verb = "dismissed" if form.cleaned_data["action"] == "dismiss" else "resolved by hiding"
        messages.success(request, f"{count} flag{'s' if count != 1 else ''} {verb}.")
    return redirect(back)


QUICK_ACTIONS = ("dismiss", "hide", "lock")


@require_POST
@_moderators_only
def flag_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One-click queue actions on one flag: dismiss it, hide its post, or lock its thread."""
    flag = selectors.flag_get(pk=pk)
    back = _back(request, reverse("moderation:queue"))
    note = request.POST.get("reason", "").strip()
    try:
        if action == "dismiss":
            services.flag_dismiss(flag=flag, actor=request.user, note=note)
            messages.success(request, "Flag dismissed.")
        elif action == "hide":
            reason = note or f"Flagged as {flag.get_reason_display().lower()}"
            services.post_hide(post=flag.post, actor=request.user, reason=reason)
            messages.success(request, f"The {flag.post_kind} is hidden; its flags are closed.")
        elif action == "lock":
            thread = flag.question or flag.answer.question
            services.thread_lock(question=thread, actor=request.user, reason=note)
            messages.success(request, "Thread locked; the question's flags are closed.")
        else:
            raise Http404("Unknown action.")
    except ValidationError as exc:
        _service_error(request, exc)
    return redirect(back)


def _post_forms(post, data=None, action: str = "") -> dict:
    """Every action form of the post page; ``data`` binds only the one that was submitted."""

    def bound(name):
        return data if action == name else None

    forms = {
        "hide": ReasonForm(bound("hide"), prefix="hide"),
        "restore": OptionalReasonForm(bound("restore"), prefix="restore"),
        "edit": PostEditForm(
            bound("edit"),
            prefix="edit",
            initial={
                "title": getattr(post, "title", ""),
                "body": post.body,
                "tags": " ".join(t.slug for t in post.tags.all())
                if isinstance(post, Question)
                else "",
            },
        ),
    }
    if isinstance(post, Question):
        forms["lock"] = OptionalReasonForm(bound("lock"), prefix="lock")
        forms["move"] = MoveForm(bound("move"), prefix="move", initial={"area": post.area_id})
        forms["merge"] = MergeForm(bound("merge"), prefix="merge")
    return forms


def _apply_post_action(request: HttpRequest, post, action: str, form) -> str:
    """Run ``action`` with ``form``'s data; returns the success message."""
    user, data = request.user, form.cleaned_data
    if action == "hide":
        services.post_hide(post=post, actor=user, reason=data["reason"])
        return "Post hidden."
    if action == "restore":
        services.post_restore(post=post, actor=user, reason=data["reason"])
        return "Post restored."
    if action == "edit":
        services.post_edit(
            post=post,
            actor=user,
            reason=data["reason"],
            body=data["body"],
            title=data["title"] if isinstance(post, Question) else None,
            tags=data["tags"] if isinstance(post, Question) else None,
        )
        return "Post edited."
    if action == "lock":
        if post.locked_at:
            services.thread_unlock(question=post, actor=user, reason=data["reason"])
            return "Thread unlocked."
        services.thread_lock(question=post, actor=user, reason=data["reason"])
        return "Thread locked."
    if action == "move":
        services.thread_move(question=post, actor=user, area=data["area"], reason=data["reason"])
        return f"Thread moved to {data['area'].name}."
    if action == "merge":
        canonical = services.thread_merge(
            duplicate=post, canonical=data["canonical"], actor=user, reason=data["reason"]
        )
        return f"Merged into “{canonical.title}”; the old address redirects there."
    raise Http404("Unknown action.")


@_moderators_only
def post_moderate(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """A post in context (thread, status, every flag) with all moderator actions."""
    if kind not in POST_KINDS:
        raise Http404("Unknown kind of post.")
    post = selectors.post_get(kind=kind, pk=pk)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    forms = _post_forms(post, request.POST if action else None, action)
    status = 200
    if action == "approve":
        services.post_approve(post=post, actor=request.user)
        messages.success(request, "Post approved: everyone can see it now.")
        return redirect(_back(request, request.path))
    if action:
        form = forms.get(action)
        if form is None:
            raise Http404("Unknown action.")
        status = 400
        if form.is_valid():
            try:
                message = _apply_post_action(request, post, action, form)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, message)
                return redirect(_back(request, request.path))
    thread = post if isinstance(post, Question) else post.question
    context = {
        "post": post,
        "kind": kind,
        "thread": thread,
        "flags": list(selectors.flags_for_post(post=post)),
        "forms": forms,
        "failed_action": action if status == 400 else "",
    }
    return render(request, "moderation/post.html", context, status=status)


@_moderators_only
def member(request: HttpRequest, username: str) -> HttpResponse:
    """A member's sanction history, with the form to warn, suspend, ban or lift."""
    person = selectors.member_get(username=username)
    flag = None
    flag_id = request.GET.get("flag") or request.POST.get("flag")
    if flag_id and str(flag_id).isdigit():
        flag = selectors.flag_get(pk=int(flag_id))
    form = SanctionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if response := submit_form_action(
            request,
            form,
            lambda data: services.member_sanction(
                user=person,
                actor=request.user,
                kind=data["kind"],
                reason=data["reason"],
                duration=form.duration,
                flag=flag,
            ),
            success=f"Sanction recorded for {person.public_name}.",
            redirect_to=reverse("moderation:member", kwargs={"username": person.username}),
            field_map={"duration": "days"},
        ):
            return response
    context = {
        "person": person,
        "form": form,
        "flag": flag,
        "sanctions": list(selectors.sanction_list(user=person)),
        "is_sanctioned": community_rules.is_sanctioned(person),
    }
    return render(request, "moderation/member.html", context, status=status)


def _flag_target(kind: str, request: HttpRequest, pk: int):
    if kind not in POST_KINDS:
        raise Http404("Unknown kind of post.")
    if kind == "question":
        post = community_selectors.question_get(viewer=request.user, pk=pk)
        return post, post.get_absolute_url() + "#question"
    post = community_selectors.answer_get(viewer=request.user, pk=pk)
    return post, post.get_absolute_url()


@login_required
def flag_create(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Members flag a post. The thread page posts here from a small form under each post; errors
    and rate limits re-render the form on its own page with what was typed."""
    post, back = _flag_target(kind, request, pk)
    community_rules.check_flag_post(request.user, post)
    form = FlagForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.flag_create(
                    reporter=request.user,
                    post=post,
                    reason=form.cleaned_data["reason"],
                    note=form.cleaned_data["note"],
                    duplicate_of=form.cleaned_data["duplicate_of"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except RateLimited as exc:
                form.add_error(None, f"{exc} Your note is kept below.")
                status = 429
            else:
                messages.success(request, "Thanks — a moderator will take a look.")
                return redirect(back)
    context = {"form": form, "post": post, "kind": kind, "back": back}
    return render(request, "moderation/flag_form.html", context, status=status)
