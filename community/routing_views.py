"""Pages of social routing: the expert directory, the expert inbox, ratings, the staff report
per expert and the leaderboards. Thin: parse input, call ``community.routing`` or
``community.badges``, render. (A module of its own because community/views.py is near the
size at which the house style splits modules.)"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import badges, reputation, routing, rules, selectors
from .forms import add_service_errors
from .models import ExpertProfile, User

DIRECTORY_PAGE_SIZE = 24


class DirectoryFilterForm(forms.Form):
    """The directory's GET filters; the same names as the API's query parameters."""

    q_skill = forms.CharField(required=False, label="Area or skill")
    language = forms.CharField(required=False, max_length=8)
    min_rating = forms.ChoiceField(
        required=False,
        label="Rating",
        choices=[
            ("", "Any rating"),
            ("3", "3 stars or better"),
            ("4", "4 stars or better"),
            ("4.5", "4.5 stars or better"),
        ],
    )
    max_response = forms.ChoiceField(
        required=False,
        label="Answers within",
        choices=[
            ("", "Any time"),
            ("5", "5 minutes"),
            ("30", "30 minutes"),
            ("120", "2 hours"),
            ("1440", "a day"),
        ],
    )
    available = forms.BooleanField(required=False, label="Available now")
    sort = forms.ChoiceField(
        required=False,
        choices=[
            ("rating", "Best rated"),
            ("response", "Fastest response"),
            ("wait", "Shortest expected wait"),
        ],
    )

    def filters(self) -> routing.DirectoryFilters:
        data = self.cleaned_data if self.is_valid() else {}
        skill = (data.get("q_skill") or "").strip().lower()
        return routing.DirectoryFilters(
            skill=skill,
            language=(data.get("language") or "").strip().lower(),
            min_rating=float(data["min_rating"]) if data.get("min_rating") else None,
            max_response_minutes=int(data["max_response"]) if data.get("max_response") else None,
            available_now=bool(data.get("available")),
            sort=data.get("sort") or "rating",
        )


def directory(request: HttpRequest) -> HttpResponse:
    """/experts/: the filterable directory. ``?fragment=1`` returns only the results (for the
    live-updating script); without JavaScript the GET form reloads the page."""
    form = DirectoryFilterForm(request.GET or None)
    people = routing.expert_directory(viewer=request.user, filters=form.filters())
    page = Paginator(people, DIRECTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = routing.decorate_cards(page.object_list)
    context = {
        "form": form,
        "page_obj": page,
        "cards": page.object_list,
        "queue_cap": routing.queue_cap(),
        "query": _query_without_page(request),
    }
    if request.GET.get("fragment"):
        return render(request, "community/_expert_cards.html", context)
    return render(request, "community/experts.html", context)


def _query_without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("fragment", None)
    return params.urlencode()


# --- the expert inbox -------------------------------------------------------------------------


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """/experts/inbox/: the viewer's directed questions, open ones first, and recent history."""
    open_items = list(routing.directed_inbox(expert=request.user))
    history = list(routing.directed_history(expert=request.user)[:20])
    return render(
        request,
        "community/expert_inbox.html",
        {"open_items": open_items, "history": history, "queue_cap": routing.queue_cap()},
    )


@require_POST
@login_required
def directed_decline(request: HttpRequest, pk: int) -> HttpResponse:
    directed = routing.directed_get(viewer=request.user, pk=pk)
    try:
        routing.directed_decline(
            directed=directed, user=request.user, note=request.POST.get("note", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Declined: the question is back with the community.")
    return redirect("community:expert_inbox")


@require_POST
@login_required
def directed_forward(request: HttpRequest, pk: int) -> HttpResponse:
    directed = routing.directed_get(viewer=request.user, pk=pk)
    username = (request.POST.get("to") or "").strip()
    to = None
    if username:
        to = User.objects.filter(username__iexact=username).first()
        if to is None:
            messages.error(request, f"No member called {username!r}.")
            return redirect("community:expert_inbox")
    try:
        routing.directed_forward(
            directed=directed, user=request.user, to=to, note=request.POST.get("note", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, f"Forwarded to {routing.card_name(to) if to else 'the community'}."
        )
    return redirect("community:expert_inbox")


# --- ratings ----------------------------------------------------------------------------------


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        coerce=int,
        choices=[
            (5, "5 — excellent"),
            (4, "4 — good"),
            (3, "3 — okay"),
            (2, "2 — poor"),
            (1, "1 — unhelpful"),
        ],
        widget=forms.RadioSelect,
        label="How helpful was the answer?",
    )
    comment = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


@login_required
def rate(request: HttpRequest, pk: int) -> HttpResponse:
    """/questions/<pk>/rate/: the asker rates the help on their directed question."""
    question = selectors.question_get(viewer=request.user, pk=pk)
    directed = routing.rateable_directed(question=question)
    status = 200
    if request.method == "POST":
        form = RatingForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                routing.rating_create(
                    question=question,
                    rater=request.user,
                    score=form.cleaned_data["score"],
                    comment=form.cleaned_data["comment"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Thanks for rating the help.")
                return redirect(question)
    else:
        if directed is not None:
            rules.check_rate_directed(request.user, directed)
        form = RatingForm()
    context = {
        "form": form,
        "question": question,
        "directed": directed,
        "expert_name": routing.card_name(directed.expert) if directed else "",
    }
    return render(request, "community/rate.html", context, status=status)


# --- staff report, leaderboard, directory card settings ---------------------------------------


@login_required
def expert_report(request: HttpRequest, username: str) -> HttpResponse:
    """/staff/experts/<username>/: staff-only performance report of one expert or agent."""
    rules.check_view_expert_reports(request.user)
    person = get_object_or_404(User, username=username)
    report = routing.expert_report(expert=person)
    return render(request, "community/expert_report.html", {"person": person, "report": report})


def leaderboard(request: HttpRequest) -> HttpResponse:
    """/leaderboard/: reputation earned per period (week, month, all) and per product area."""
    period = request.GET.get("period", "week")
    period = period if period in badges.PERIODS else "week"
    areas = list(selectors.area_list())
    area = next((a for a in areas if a.slug == request.GET.get("area")), None)
    leaders = list(badges.leaderboard(area=area, period=period))
    for person in leaders:
        person.rank = reputation.rank_for(person.reputation)
    context = {"leaders": leaders, "areas": areas, "area": area, "period": period}
    return render(request, "community/leaderboard.html", context)


class ExpertProfileForm(forms.Form):
    skills = forms.CharField(
        required=False, max_length=400, help_text="Up to 5 skill tags, separated by spaces."
    )
    languages = forms.CharField(
        required=False, max_length=100, help_text="Language codes, e.g. en fr."
    )
    availability = forms.ChoiceField(choices=ExpertProfile.Availability.choices)
    response_window_hours = forms.IntegerField(
        min_value=1, max_value=336, initial=24, label="I promise to answer within (hours)"
    )
    staff_alias = forms.CharField(required=False, max_length=80, label="Alias (staff only)")
    directory_opt_in = forms.BooleanField(required=False, label="List me in the directory (staff)")


@login_required
def expert_profile_edit(request: HttpRequest) -> HttpResponse:
    """/experts/me/: an expert's or staff member's directory card settings."""
    profile = ExpertProfile.objects.filter(user=request.user).prefetch_related("skills").first()
    status = 200
    if request.method == "POST":
        form = ExpertProfileForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                routing.expert_profile_update(
                    user=request.user,
                    weekly_hours=profile.weekly_hours if profile else {},
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Directory card saved.")
                return redirect("community:experts")
    else:
        if not rules.is_directory_member(request.user):
            raise PermissionDenied("Only certified experts and staff have a directory card.")
        initial = {"availability": "available", "response_window_hours": 24}
        if profile:
            initial = {
                "skills": " ".join(t.slug for t in profile.skills.all()),
                "languages": " ".join(profile.language_list),
                "availability": profile.availability,
                "response_window_hours": profile.response_window_hours,
                "staff_alias": profile.staff_alias,
                "directory_opt_in": profile.directory_opt_in,
            }
        form = ExpertProfileForm(initial=initial)
    return render(request, "community/expert_profile_edit.html", {"form": form}, status=status)


def directed_summary(username: str) -> User | None:
    """The directory row of the person an ask form is directed to (None when not listed)."""
    people = routing.decorate_cards(routing.expert_directory(viewer=None).filter(username=username))
    return people[0] if people else None
