"""Knowledge-base pages: landing, search, articles, and the validate/revoke actions on answers.

Thin views: parse input, call a selector or service, render. Service errors become form errors
(400) or a rate-limit message (429) with the user's input kept.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from community import selectors as community_selectors
from community.ratelimit import RateLimited

from . import rules, selectors, services
from .forms import ArticleEditForm, RevokeForm, SearchForm, ValidateForm, add_service_errors
from .search.base import DOC_TYPE_LABELS

HOME_PAGE_SIZE = 20
SEARCH_PAGE_SIZE = 10
SIMILAR_MIN_LENGTH = 10


def home(request: HttpRequest) -> HttpResponse:
    """KB landing: a search box and the most recently updated articles, optionally for one area."""
    areas = list(community_selectors.area_list())
    area_slug = request.GET.get("area", "")
    area = next((a for a in areas if a.slug == area_slug), None)
    articles = selectors.article_list(viewer=request.user, area=area).order_by(
        "-published_at", "-id"
    )
    page = Paginator(articles, HOME_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "knowledge/home.html",
        {"areas": areas, "area": area, "page": page},
    )


def search(request: HttpRequest) -> HttpResponse:
    """One search over articles and threads, with area/tag/type filters and facet counts."""
    form = SearchForm(request.GET)
    params = form.params()
    results = None
    if params["q"]:
        results = selectors.search_run(
            viewer=request.user,
            query=params["q"],
            area=params["area"],
            tag=params["tag"],
            type=params["type"],
            page=params["page"],
            page_size=SEARCH_PAGE_SIZE,
        )
    area_names = {a.slug: a.name for a in community_selectors.area_list()}
    return render(
        request,
        "knowledge/search.html",
        {
            "form": form,
            "params": params,
            "results": results,
            "area_names": area_names,
            "facets": _facet_links(results, params, area_names) if results else {},
            "without_tag_query": _query(params, without=("page", "tag")),
        },
    )


def _query(params: dict, *, without: tuple[str, ...] = ()) -> str:
    return urlencode({k: v for k, v in params.items() if v and k not in without})


def _facet_links(results, params: dict, area_names: dict[str, str]) -> dict[str, list[dict]]:
    """Facet counts as ready-to-render filter links (toggling a value keeps the other filters)."""
    labels = {
        "area": area_names,
        "type": {**DOC_TYPE_LABELS, "thread": "Any community thread"},
        "tag": {},
    }
    links: dict[str, list[dict]] = {}
    for facet in ("type", "area", "tag"):
        counts = dict(results.facets.get(facet) or {})
        if facet == "type" and "thread_accepted" in counts:
            # The "thread" filter matches both thread kinds, so its link counts both.
            counts["thread"] = counts.get("thread", 0) + counts["thread_accepted"]
        entries = []
        for value, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            selected = params[facet] == value
            query = {k: v for k, v in params.items() if v and k not in ("page", facet)}
            # The link of a selected value clears that filter.
            if not selected:
                query[facet] = value
            entries.append(
                {
                    "value": value,
                    "label": labels[facet].get(value, value),
                    "count": count,
                    "selected": selected,
                    "url": "?" + urlencode(query),
                }
            )
        if entries:
            links[facet] = entries
    return links


def article(request: HttpRequest, pk: int, slug: str | None = None) -> HttpResponse:
    """An article with its provenance; redirects to the canonical slug."""
    obj = selectors.article_get(viewer=request.user, pk=pk)
    if slug != obj.slug:
        return redirect(obj, permanent=True)
    show_history = rules.can_view_article_history(request.user, obj)
    validations = [v for v in obj.source_answer.validations.all() if v.status != v.Status.REVOKED]
    return render(
        request,
        "knowledge/article.html",
        {
            "article": obj,
            "validations": validations,
            "revisions": list(selectors.article_revisions(article=obj)) if show_history else None,
            "can_edit": rules.can_edit_article(request.user, obj),
            "show_history": show_history,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def article_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Moderators edit an article's text (a new ArticleRevision, audited)."""
    obj = selectors.article_get(viewer=request.user, pk=pk)
    rules.check_edit_article(request.user, obj)
    if request.method != "POST":
        form = ArticleEditForm(
            initial={"title": obj.title, "problem": obj.problem, "solution": obj.solution}
        )
        return render(request, "knowledge/article_edit.html", {"article": obj, "form": form})
    form = ArticleEditForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            obj = services.article_edit(article=obj, editor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Article saved.")
            return redirect(obj)
    return render(
        request, "knowledge/article_edit.html", {"article": obj, "form": form}, status=status
    )


@login_required
def article_revisions(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff: every revision of an article, newest first."""
    obj = selectors.article_get(viewer=request.user, pk=pk)
    if not rules.can_view_article_history(request.user, obj):
        raise PermissionDenied("Only staff can see an article's history.")
    return render(
        request,
        "knowledge/article_revisions.html",
        {"article": obj, "revisions": selectors.article_revisions(article=obj)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def validate(request: HttpRequest, pk: int) -> HttpResponse:
    """Validate an answer's current revision (promoting it into the KB). GET shows a confirmation
    form; the thread page posts here directly."""
    answer = community_selectors.answer_get(viewer=request.user, pk=pk)
    rules.check_validate_answer(request.user, answer)
    if request.method != "POST":
        return render(
            request, "knowledge/validate.html", {"answer": answer, "form": ValidateForm()}
        )
    form = ValidateForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            services.answer_validate(
                answer=answer, validator=request.user, note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except RateLimited as exc:
            form.add_error(None, str(exc))
            status = 429
        else:
            promoted = selectors.articles_by_answer(viewer=request.user, answers=[answer])
            article = promoted.get(answer.pk)
            if article is not None:
                messages.success(
                    request, f"Answer validated. It is in the knowledge base as “{article.title}”."
                )
            else:
                messages.success(request, "Answer validated.")
            return redirect(answer.get_absolute_url())
    return render(
        request, "knowledge/validate.html", {"answer": answer, "form": form}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke a validation with a reason; the last one going unpublishes the article."""
    validation = selectors.validation_get(pk=pk)
    rules.check_revoke_validation(request.user, validation)
    answer = validation.answer
    if request.method != "POST":
        return render(
            request,
            "knowledge/revoke.html",
            {"validation": validation, "answer": answer, "form": RevokeForm()},
        )
    form = RevokeForm(request.POST)
    if form.is_valid():
        try:
            services.validation_revoke(
                validation=validation, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Validation revoked.")
            return redirect(answer.get_absolute_url())
    return render(
        request,
        "knowledge/revoke.html",
        {"validation": validation, "answer": answer, "form": form},
        status=400,
    )


@require_GET
def similar(request: HttpRequest) -> JsonResponse:
    """JSON list of articles/threads resembling the question being typed on the ask page."""
    text = request.GET.get("q", "").strip()[:300]
    if len(text) < SIMILAR_MIN_LENGTH:
        return JsonResponse([], safe=False)
    hits = selectors.search_similar(viewer=request.user, text=text, limit=5)
    return JsonResponse(
        [
            {
                "title": hit.title,
                "url": hit.url,
                "type": hit.type,
                "type_label": hit.type_label,
                "snippet": hit.snippet,
            }
            for hit in hits
        ],
        safe=False,
    )


def article_short(request: HttpRequest, pk: int) -> HttpResponse:
    """``/kb/articles/<pk>/``: a stable link (audit log, API) that redirects to the slugged URL."""
    return article(request, pk=pk, slug=None)
