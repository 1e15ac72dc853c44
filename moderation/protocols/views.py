"""Staff pages for protocols: the CSR's "my queue", claim / release / reassign, and protocol
management for moderators. Thin: parse input, call a selector or a service, render."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from community.forms import add_service_errors
from community.models import Question

from ..models import Protocol
from . import rules, selectors, services
from .forms import EscalationStepFormSet, ProtocolForm, ReassignForm


def _staff_only(predicate: Callable, message: str):
    """Visitors go to the login page; signed-in users failing ``predicate`` get 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request: HttpRequest, *args, **kwargs):
            if not predicate(request.user):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


staff_only = _staff_only(rules.can_view_assignments, "This page is for support staff.")
moderators_only = _staff_only(rules.can_manage_protocols, "Only moderators can define protocols.")


def _back(request: HttpRequest, question: Question) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return question.get_absolute_url()


@staff_only
def my_queue(request: HttpRequest) -> HttpResponse:
    """Threads assigned to me, and unclaimed ones waiting in my teams' pools."""
    context = {
        "mine": list(selectors.assignment_queue_for(viewer=request.user)),
        "pool": list(selectors.assignment_pool_for(viewer=request.user)[:100]),
        "staff": list(selectors.staff_member_list()),
        "now": timezone.now(),
    }
    return render(request, "moderation/my_queue.html", context)


@require_POST
@staff_only
def claim(request: HttpRequest, pk: int) -> HttpResponse:
    question = get_object_or_404(Question, pk=pk)
    services.assignment_claim(question=question, user=request.user)
    messages.success(request, f"You took “{question.title}”. Its escalation clock is stopped.")
    return redirect(_back(request, question))


@require_POST
@staff_only
def release(request: HttpRequest, pk: int) -> HttpResponse:
    question = get_object_or_404(Question, pk=pk)
    try:
        services.assignment_release(question=question, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"You released “{question.title}” back to its team.")
    return redirect(_back(request, question))


@require_POST
@staff_only
def reassign(request: HttpRequest, pk: int) -> HttpResponse:
    question = get_object_or_404(Question, pk=pk)
    form = ReassignForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a staff member to assign the thread to.")
        return redirect(_back(request, question))
    assignee = form.cleaned_data["assignee"]
    try:
        services.assignment_reassign(question=question, user=request.user, assignee=assignee)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"“{question.title}” is now assigned to {assignee}.")
    return redirect(_back(request, question))


@moderators_only
def protocol_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "moderation/protocol_list.html", {"protocols": selectors.protocol_list()}
    )


@moderators_only
def protocol_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create or edit a protocol with its escalation steps (one formset row per step)."""
    protocol = selectors.protocol_get(pk=pk) if pk else Protocol()
    status, step_errors = 200, []
    if request.method == "POST":
        form = ProtocolForm(request.POST, instance=protocol)
        formset = EscalationStepFormSet(request.POST, instance=protocol, prefix="steps")
        status = 400
        if form.is_valid() and formset.is_valid():
            steps = formset.save(commit=False)
            try:
                saved = services.protocol_save(
                    protocol=form.instance,
                    actor=request.user,
                    tags=form.cleaned_data["tag_names"],
                    steps=steps,
                    deleted_steps=formset.deleted_objects,
                )
            except ValidationError as exc:
                # Errors about the chain as a whole go above the steps; the rest on the form.
                step_errors = getattr(exc, "message_dict", {}).get("steps", [])
                if not step_errors:
                    add_service_errors(form, exc)
            else:
                messages.success(request, f"Protocol “{saved.name}” saved.")
                return redirect("moderation:protocol_list")
    else:
        form = ProtocolForm(instance=protocol)
        formset = EscalationStepFormSet(
            instance=protocol,
            prefix="steps",
            queryset=protocol.steps.all() if protocol.pk else None,
        )
    return render(
        request,
        "moderation/protocol_form.html",
        {"form": form, "formset": formset, "protocol": protocol, "step_errors": step_errors},
        status=status,
    )
