"""Staff pages: the audit log and the expert certification program. Moderators only."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from community import rules as community_rules
from community import selectors as community_selectors
from community import services as community_services
from community.models import AuditEntry
from knowledge.forms import add_service_errors

from .forms import AuditFilterForm, CertificationGrantForm, CertificationRevokeForm

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
    """The audit log, newest first, filterable by action prefix and actor."""
    form = AuditFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    entries = community_selectors.audit_entry_list(
        action_prefix=(filters.get("action") or "").strip(),
        actor_username=(filters.get("actor") or "").strip(),
    )
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
    return render(request, "moderation/audit_log.html", {"form": form, "page": page, "rows": rows})


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
    if form.is_valid():
        try:
            community_services.certification_revoke(
                certification=cert, revoked_by=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"Revoked {cert.user.public_name}'s certification for {cert.area.name}."
            )
            return redirect("moderation:certifications")
    return _certifications_page(request, revoke_errors={cert.pk: form}, status=400)
