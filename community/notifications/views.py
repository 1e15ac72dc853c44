"""Notification pages: the inbox, preferences, follow buttons and one-click unsubscribe. Thin:
parse input, call a selector or a service, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .. import rules
from .. import selectors as community_selectors
from ..forms import add_service_errors
from ..models import NotificationKind, ProductArea, Tag
from . import selectors, services
from .forms import PreferencesForm
from .tokens import InvalidToken, read_unsubscribe_token

INBOX_PAGE_SIZE = 30


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notification_list(viewer=request.user), INBOX_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "community/notifications/inbox.html", {"page_obj": page})


@require_POST
@login_required
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    services.notification_mark_read(user=request.user, notification_id=pk)
    return redirect(_next_url(request, "notifications:inbox"))


@require_POST
@login_required
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = services.notification_mark_all_read(user=request.user)
    if count:
        messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} read.")
    return redirect("notifications:inbox")


def _preference_kinds(user) -> list[str]:
    kinds = list(NotificationKind.values)
    if not rules.is_staff_member(user):
        kinds.remove(NotificationKind.ASSIGNMENT)
    return kinds


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    kinds = _preference_kinds(request.user)
    status = 200
    if request.method == "POST":
        form = PreferencesForm(request.POST, kinds=kinds)
        status = 400
        if form.is_valid():
            try:
                services.notification_preferences_set(user=request.user, modes=form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Notification settings saved.")
                return redirect("notifications:preferences")
    else:
        current = selectors.preference_modes(user=request.user)
        form = PreferencesForm(initial={k: current[k] for k in kinds}, kinds=kinds)
    context = {"form": form, "subscriptions": selectors.subscription_list(viewer=request.user)}
    return render(request, "community/notifications/preferences.html", context, status=status)


def _follow_target(request: HttpRequest, target: str, pk: int) -> dict:
    if target == "question":
        return {"question": community_selectors.question_get(viewer=request.user, pk=pk)}
    if target == "tag":
        return {"tag": get_object_or_404(Tag, pk=pk)}
    if target == "area":
        return {"area": get_object_or_404(ProductArea, pk=pk)}
    raise Http404("Nothing to follow here.")


@require_POST
@login_required
def follow(request: HttpRequest, target: str, pk: int) -> HttpResponse:
    chosen = _follow_target(request, target, pk)
    services.subscription_follow(user=request.user, **chosen)
    (thing,) = chosen.values()
    messages.success(request, f"You follow {thing} now.")
    return redirect(_next_url(request, thing.get_absolute_url()))


@require_POST
@login_required
def unfollow(request: HttpRequest, target: str, pk: int) -> HttpResponse:
    chosen = _follow_target(request, target, pk)
    services.subscription_unfollow(user=request.user, **chosen)
    (thing,) = chosen.values()
    messages.success(request, f"You no longer follow {thing}.")
    return redirect(_next_url(request, thing.get_absolute_url()))


# Mail clients send the RFC 8058 one-click POST without cookies or a CSRF token; the signed token
# is the authorisation, and the only thing it can do is switch email off.
@csrf_exempt
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what the link will do and asks to confirm; POST applies it."""
    try:
        _, kind = read_unsubscribe_token(token)
    except InvalidToken as exc:
        return render(
            request,
            "community/notifications/unsubscribe_invalid.html",
            {"message": str(exc)},
            status=400,
        )
    label = "any notifications" if kind == "all" else NotificationKind(kind).label.lower()
    if request.method != "POST":
        return render(
            request, "community/notifications/unsubscribe.html", {"token": token, "label": label}
        )
    try:
        services.notification_unsubscribe(token=token)
    except ValidationError as exc:
        return render(
            request,
            "community/notifications/unsubscribe_invalid.html",
            {"message": " ".join(exc.messages)},
            status=400,
        )
    return render(
        request,
        "community/notifications/unsubscribe.html",
        {"done": True, "label": label, "site_url": settings.PEERDESK_SITE_URL},
    )
