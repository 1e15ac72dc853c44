"""Pages of the expert program: applying, the moderators' program page (candidates,
applications, expiring certifications) and the experts' validation inbox. Thin: parse input,
call ``community.expert_program``, render."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import expert_program, rules, selectors
from .forms import add_service_errors
from .models import Certification, ExpertApplication, ProductArea, User

INBOX_PAGE_SIZE = 20


class ApplyForm(forms.Form):
    area = forms.ModelChoiceField(
        queryset=ProductArea.objects.all(), empty_label="Choose a product area"
    )
    motivation = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="What you know about this product and how you have helped others with it.",
    )


@login_required
def apply(request: HttpRequest) -> HttpResponse:
    """/experts/apply/: a member applies to become an expert for one product area."""
    rules.check_apply_as_expert(request.user)
    status = 200
    if request.method == "POST":
        form = ApplyForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                expert_program.expert_application_create(
                    user=request.user,
                    area=form.cleaned_data["area"],
                    motivation=form.cleaned_data["motivation"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Thanks: a moderator will review your application.")
                return redirect("community:expert_apply")
    else:
        form = ApplyForm()
    applications = expert_program.expert_application_list_for_user(user=request.user)
    return render(
        request,
        "community/expert_apply.html",
        {"form": form, "applications": applications},
        status=status,
    )


def _program_page(
    request: HttpRequest, *, status: int = 200, errors=(), failed_review=None
) -> HttpResponse:
    areas = list(selectors.area_list())
    area = next(
        (a for a in areas if a.slug == request.GET.get("area")), areas[0] if areas else None
    )
    candidates = expert_program.expert_candidates_for_area(area=area) if area is not None else []
    applications = list(expert_program.expert_application_list_open())
    if failed_review is not None:
        # Keep the moderator's draft note and show the error next to the form it came from.
        pk, note, messages_ = failed_review
        for app in applications:
            if app.pk == pk:
                app.draft_note, app.form_errors = note, messages_
    context = {
        "areas": areas,
        "area": area,
        "candidates": candidates,
        "applications": applications,
        "expiring": expert_program.certification_list_expiring(),
        "window_days": expert_program.EXPIRING_WITHIN_DAYS,
        "errors": list(errors),
    }
    return render(request, "community/expert_program.html", context, status=status)


@login_required
def program(request: HttpRequest) -> HttpResponse:
    """/staff/experts/program/: moderators' view of the pipeline to certification."""
    rules.check_review_expert_applications(request.user)
    return _program_page(request)


def _back_to_program(request: HttpRequest) -> HttpResponse:
    area = request.POST.get("area_slug") or request.GET.get("area")
    url = redirect("community:expert_program").url
    return redirect(f"{url}?area={area}" if area else url)


@require_POST
@login_required
def nominate(request: HttpRequest) -> HttpResponse:
    rules.check_review_expert_applications(request.user)
    user = get_object_or_404(User, pk=request.POST.get("user"))
    area = get_object_or_404(ProductArea, pk=request.POST.get("area"))
    try:
        expert_program.expert_application_create(
            user=user,
            area=area,
            motivation=request.POST.get("motivation", ""),
            nominated_by=request.user,
        )
    except ValidationError as exc:
        return _program_page(request, status=400, errors=exc.messages)
    messages.success(request, f"{user.public_name} nominated for {area.name}.")
    return _back_to_program(request)


@require_POST
@login_required
def review(request: HttpRequest, pk: int) -> HttpResponse:
    rules.check_review_expert_applications(request.user)
    application = get_object_or_404(ExpertApplication, pk=pk)
    note = request.POST.get("note", "")
    approve = request.POST.get("decision") == "approve"
    try:
        app = expert_program.expert_application_review(
            application=application,
            reviewer=request.user,
            approve=approve,
            note=note,
            term_days=int(request.POST.get("term_days") or 365),
        )
    except (ValidationError, ValueError) as exc:
        errors = (
            exc.messages if isinstance(exc, ValidationError) else ["The term must be a number."]
        )
        return _program_page(request, status=400, failed_review=(pk, note, errors))
    messages.success(
        request, f"Application of {app.user.public_name} {app.get_status_display().lower()}."
    )
    return _back_to_program(request)


@require_POST
@login_required
def renew(request: HttpRequest, pk: int) -> HttpResponse:
    rules.check_review_expert_applications(request.user)
    certification = get_object_or_404(Certification, pk=pk)
    try:
        cert = expert_program.certification_renew(
            certification=certification, renewed_by=request.user
        )
    except ValidationError as exc:
        return _program_page(request, status=400, errors=exc.messages)
    messages.success(request, f"Renewed until {cert.expires_at:%d %b %Y}.")
    return _back_to_program(request)


@login_required
def validation_inbox(request: HttpRequest) -> HttpResponse:
    """/experts/inbox/validate/: threads in the expert's areas still waiting for validation."""
    rules.check_view_validation_inbox(request.user)
    area_ids = rules.certified_area_ids(request.user)
    areas = [a for a in selectors.area_list() if a.pk in area_ids]
    area = next((a for a in areas if a.slug == request.GET.get("area")), None)
    questions = expert_program.validation_inbox(expert=request.user, area=area)
    page = Paginator(questions, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page_obj": page, "questions": page.object_list, "areas": areas, "area": area}
    return render(request, "community/validation_inbox.html", context)
