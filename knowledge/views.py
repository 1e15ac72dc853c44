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
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from community import selectors as community_selectors
from community.forms import add_service_errors
from community.ratelimit import RateLimited
from community.responses import action_error
from community.views_helpers import submit_form_action

from . import rules, selectors, services
from .forms import (
    ArticleCreateForm,
    ArticleDiffForm,
    ArticleEditForm,
    CorrectForm,
    ReasonForm,
    ReviewActionForm,
    RevokeForm,
    SearchForm,
    SourceAddForm,
    ValidateForm,
)
from .models import SearchQueryLog
from .search.base import DOC_TYPE_LABELS, TIER_LABELS, SearchUnavailable
from .services import search_log

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
        {
            "areas": areas,
            "area": area,
            "page": page,
            "can_create": rules.can_create_article(request.user),
            "can_see_queue": rules.can_view_review_queue(request.user),
        },
    )


def search(request: HttpRequest) -> HttpResponse:
    """One search over articles and threads, with area/tag/type filters and facet counts."""
    form = SearchForm(request.GET)
    params = form.params()
    results = None
    unavailable = False
    click_urls: dict[str, str] = {}
    if params["q"]:
        try:
            results = selectors.search_run(
                viewer=request.user,
                query=params["q"],
                area=params["area"],
                tag=params["tag"],
                type=params["type"],
                tier=params["tier"],
                page=params["page"],
                page_size=SEARCH_PAGE_SIZE,
                correct=not params["exact"],
            )
        except SearchUnavailable:
            unavailable = True
    if results is not None:
        log = None
        if params["page"] == 1:  # later pages are the same search, not another one
            log = search_log.search_log_record(
                viewer=request.user,
                query=params["q"],
                source=SearchQueryLog.Source.PAGE,
                hit_count=results.total,
                filters={k: params[k] for k in ("area", "tag", "type", "tier")},
                corrected_query=results.corrected_query,
            )
        click_urls = _click_urls(log, results.hits)
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
            "exact_query": _query({**params, "exact": "1"}, without=("page",)),
            "click_urls": click_urls,
            "unavailable": unavailable,
        },
        status=503 if unavailable else 200,
    )


def _click_urls(log, hits) -> dict[str, str]:
    """Doc id → the click-tracking link to its page (plain links when the log write failed)."""
    token = search_log.search_log_token(log)
    if not token:
        return {hit.id: hit.url for hit in hits}
    click = reverse("knowledge:search_click")
    return {
        # safe="/": the target stays readable in the link (and in the status bar).
        hit.id: f"{click}?{urlencode({'log': token, 'doc': hit.id, 'next': hit.url}, safe='/')}"
        for hit in hits
    }


TAG_FACET_LINKS = 15


def _query(params: dict, *, without: tuple[str, ...] = ()) -> str:
    return urlencode({k: v for k, v in params.items() if v and k not in without})


def _facet_links(results, params: dict, area_names: dict[str, str]) -> dict[str, list[dict]]:
    """Facet counts as ready-to-render filter links (toggling a value keeps the other filters)."""
    labels = {
        "area": area_names,
        "type": {**DOC_TYPE_LABELS, "thread": "Any community thread"},
        "tag": {},
        "tier": TIER_LABELS,
    }
    links: dict[str, list[dict]] = {}
    for facet in ("type", "tier", "area", "tag"):
        counts = dict(results.facets.get(facet) or {})
        if facet == "type" and "thread_accepted" in counts:
            # The "thread" filter matches both thread kinds, so its link counts both.
            counts["thread"] = counts.get("thread", 0) + counts["thread_accepted"]
        entries = []
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        if facet == "tag":
            # The most frequent tags, and the selected one: a broad query's long tail of tags
            # is noise to a reader and most of the page's render time.
            ranked = [
                (value, count)
                for rank, (value, count) in enumerate(ranked)
                if rank < TAG_FACET_LINKS or params["tag"] == value
            ]
        for value, count in ranked:
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
    validations = (
        [v for v in obj.source_answer.validations.all() if v.status != v.Status.REVOKED]
        if obj.source_answer_id
        else []
    )
    standing = (
        selectors.answer_standings(answers=[obj.source_answer])[obj.source_answer_id]
        if obj.source_answer_id
        else None
    )
    revisions = list(selectors.article_revisions(article=obj)) if show_history else None
    return render(
        request,
        "knowledge/article.html",
        {
            "article": obj,
            "validations": validations,
            "standing": standing,
            "sources": list(obj.sources.all()),
            "revisions": revisions,
            "can_edit": rules.can_edit_article(request.user, obj),
            "can_retire": rules.can_retire_article(request.user, obj),
            "can_merge": rules.can_merge_article(request.user, obj)
            and obj.source_answer_id is not None
            and obj.status != obj.Status.RETIRED,
            "can_review": rules.can_review_article(request.user, obj)
            and obj.status == obj.Status.NEEDS_REVIEW,
            "show_history": show_history,
            "latest_revision": revisions[0].number if revisions else None,
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
            initial={
                "title": obj.title,
                "problem": obj.problem,
                "solution": obj.solution,
                "audience": obj.audience,
            }
        )
        return render(request, "knowledge/article_edit.html", {"article": obj, "form": form})
    form = ArticleEditForm(request.POST)
    if response := submit_form_action(
        request,
        form,
        lambda data: services.article_edit(article=obj, editor=request.user, **data),
        success="Article saved.",
    ):
        return response
    return render(
        request, "knowledge/article_edit.html", {"article": obj, "form": form}, status=400
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
    if response := submit_form_action(
        request,
        form,
        lambda data: services.validation_revoke(
            validation=validation, actor=request.user, reason=data["reason"]
        ),
        success="Validation revoked.",
        redirect_to=answer.get_absolute_url(),
    ):
        return response
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
    try:
        hits = selectors.search_similar(viewer=request.user, text=text, limit=5)
    except SearchUnavailable:
        # Suggestions are a help, never a gate: the asker carries on without them.
        return JsonResponse([], safe=False)
    # Logged as ask-page suggestions: a click through them is a possible deflection.
    log = search_log.search_log_record(
        viewer=request.user,
        query=text,
        source=SearchQueryLog.Source.ASK_SIMILAR,
        hit_count=len(hits),
    )
    click_urls = _click_urls(log, hits)
    return JsonResponse(
        [
            {
                "title": hit.title,
                "url": hit.url,
                "click_url": click_urls[hit.id],
                "type": hit.type,
                "type_label": hit.type_label,
                "tier": hit.tier_name,
                "snippet": hit.snippet,
            }
            for hit in hits
        ],
        safe=False,
    )


def article_short(request: HttpRequest, pk: int) -> HttpResponse:
    """``/kb/articles/<pk>/``: a stable link (audit log, API) that redirects to the slugged URL."""
    return article(request, pk=pk, slug=None)


@login_required
@require_GET
def agent_console(request: HttpRequest) -> HttpResponse:
    """The CSR console: keyboard-first search over public and internal knowledge.

    The page is a shell; knowledge/static/js/agent.js drives it through the agent API
    (session-authenticated), so the console and a helpdesk embed share one payload.
    """
    rules.check_use_console(request.user)
    return render(
        request,
        "knowledge/agent_console.html",
        {
            "recent": selectors.article_usage_recent(user=request.user),
            "query": request.GET.get("q", "").strip()[:200],
        },
    )


# --- Trust: corrections, the article lifecycle, the review queue (issue 3) --------------------


def _action_page(
    request: HttpRequest, *, title: str, intro: str, form, submit: str, back: str, status: int = 200
) -> HttpResponse:
    """A one-form page for an action (also the error page when the action's input fails)."""
    return render(
        request,
        "knowledge/action_form.html",
        {"title": title, "intro": intro, "form": form, "submit": submit, "back": back},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def correct(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark an answer not recommended (or obsolete), pointing to or writing the alternative."""
    answer = selectors.answer_get_for_standing(viewer=request.user, pk=pk)
    rules.check_correct_answer(request.user, answer)
    others = [
        a
        for a in selectors.answers_for_standing(viewer=request.user, question=answer.question)
        if a.pk != answer.pk
    ]
    form = CorrectForm(request.POST or None, answers=others)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            alternative = next((a for a in others if a.pk == data["alternative"]), None)
            try:
                services.answer_correct(
                    answer=answer,
                    corrector=request.user,
                    reason=data["reason"],
                    kind=data["kind"],
                    alternative=alternative,
                    alternative_body=data["alternative_body"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            except RateLimited as exc:
                form.add_error(None, f"{exc} Your text is kept below.")
                status = 429
            else:
                messages.success(request, "The answer is marked; the thread shows the alternative.")
                return redirect(answer.get_absolute_url())
    return render(
        request, "knowledge/correct.html", {"answer": answer, "form": form}, status=status
    )


@login_required
@require_POST
def correction_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    """A moderator reverses a correction with a reason."""
    correction = selectors.correction_get(pk=pk)
    rules.check_reverse_correction(request.user, correction)
    form = ReasonForm(request.POST)
    back = correction.answer.get_absolute_url()
    if response := submit_form_action(
        request,
        form,
        lambda data: services.correction_reverse(
            correction=correction, actor=request.user, reason=data["reason"]
        ),
        success="Correction reversed.",
        redirect_to=back,
    ):
        return response
    return _action_page(
        request,
        title="Reverse a correction",
        intro="Say why the correction no longer holds.",
        form=form,
        submit="Reverse correction",
        back=back,
        status=400,
    )


@login_required
@require_http_methods(["GET", "POST"])
def article_new(request: HttpRequest) -> HttpResponse:
    """Moderators write an article directly (internal by default), not only by promotion."""
    rules.check_create_article(request.user)
    form = ArticleCreateForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if response := submit_form_action(
            request,
            form,
            lambda data: services.article_create(author=request.user, **data),
            success="Article created.",
        ):
            return response
    return render(request, "knowledge/article_new.html", {"form": form}, status=status)


@login_required
@require_GET
def article_diff(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff: a readable diff between two revisions (``?from=N&to=M``)."""
    obj = selectors.article_get(viewer=request.user, pk=pk)
    rules.check_view_article_history(request.user, obj)
    form = ArticleDiffForm(request.GET)
    if not form.is_valid():
        return render(
            request,
            "knowledge/article_diff.html",
            {"article": obj, "form": form, "diffs": None},
            status=400,
        )
    before, after, diffs = selectors.article_revision_diff(
        viewer=request.user,
        article=obj,
        from_number=form.cleaned_data["from_"],
        to_number=form.cleaned_data["to"],
    )
    return render(
        request,
        "knowledge/article_diff.html",
        {"article": obj, "form": form, "before": before, "after": after, "diffs": diffs},
    )


@login_required
@require_http_methods(["GET", "POST"])
def article_retire(request: HttpRequest, pk: int) -> HttpResponse:
    """Retire an article with a reason (GET shows the form)."""
    obj = selectors.article_get(viewer=request.user, pk=pk)
    rules.check_retire_article(request.user, obj)
    form = ReasonForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if response := submit_form_action(
            request,
            form,
            lambda data: services.article_retire(
                article=obj, actor=request.user, reason=data["reason"]
            ),
            success="Article retired.",
            redirect_to=obj,
        ):
            return response
    return _action_page(
        request,
        title=f"Retire “{obj.title}”",
        intro="Retired articles leave the knowledge base and search for customers. Staff can "
        "bring them back.",
        form=form,
        submit="Retire article",
        back=obj.get_absolute_url(),
        status=status,
    )


@login_required
@require_POST
def article_unretire(request: HttpRequest, pk: int) -> HttpResponse:
    obj = selectors.article_get(viewer=request.user, pk=pk)
    try:
        obj = services.article_unretire(article=obj, actor=request.user)
    except ValidationError as exc:
        return action_error(request, " ".join(exc.messages), back=obj.get_absolute_url())
    messages.success(request, f"Article brought back ({obj.get_status_display().lower()}).")
    return redirect(obj)


@login_required
@require_POST
def article_publish(request: HttpRequest, pk: int) -> HttpResponse:
    """Publish a staff-written draft."""
    obj = selectors.article_get(viewer=request.user, pk=pk)
    try:
        obj = services.article_publish(article=obj, actor=request.user)
    except ValidationError as exc:
        return action_error(request, " ".join(exc.messages), back=obj.get_absolute_url())
    messages.success(request, "Article published.")
    return redirect(obj)


@login_required
@require_POST
def article_review(request: HttpRequest, pk: int) -> HttpResponse:
    """Review actions from the queue or the article page: re-approve or keep as is."""
    obj = selectors.article_get(viewer=request.user, pk=pk)
    rules.check_review_article(request.user, obj)
    form = ReviewActionForm(request.POST)
    back = request.POST.get("next") == "queue"

    def review(data: dict) -> None:
        action = {
            "reapprove": services.article_review_reapprove,
            "keep": services.article_review_keep,
        }[data["action"]]
        action(article=obj, reviewer=request.user, note=data["note"])

    if response := submit_form_action(
        request,
        form,
        review,
        success=f"“{obj.title}” is published again.",
        redirect_to=reverse("knowledge:review_queue") if back else obj.get_absolute_url(),
    ):
        return response
    return action_error(
        request,
        " ".join(form.non_field_errors()) or "Choose a review action.",
        back=reverse("knowledge:review_queue"),
    )


@login_required
@require_POST
def article_source_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Merge another validated answer into the article."""
    obj = selectors.article_get(viewer=request.user, pk=pk)
    rules.check_merge_article(request.user, obj)
    form = SourceAddForm(request.POST)

    def merge(data: dict) -> None:
        answer = community_selectors.answer_get(viewer=request.user, pk=data["answer"])
        services.article_source_add(article=obj, answer=answer, actor=request.user)

    if response := submit_form_action(
        request, form, merge, success="Answer merged into the article.", redirect_to=obj
    ):
        return response
    return _action_page(
        request,
        title=f"Merge an answer into “{obj.title}”",
        intro="The answer's validated text is appended as a section; its thread will point here.",
        form=form,
        submit="Merge answer",
        back=obj.get_absolute_url(),
        status=400,
    )


@login_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    """KB editors: articles waiting for review, with why and what changed since approval."""
    items = selectors.review_queue(viewer=request.user)
    return render(
        request,
        "knowledge/review_queue.html",
        {"items": items, "can_act": rules.can_review_article(request.user, None)},
    )


@require_GET
def search_click(request: HttpRequest) -> HttpResponse:
    """``/kb/search/click/?log=&doc=&next=``: record which result a search led to, then go there.

    ``next`` must be a local URL (anything else goes to the search page: no open redirect).
    A click on an ask-page suggestion also records a deflection, remembered in the session so a
    sign-in followed by a question can cancel it.
    """
    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts=None, require_https=request.is_secure()
    ) or not target.startswith("/"):
        target = reverse("knowledge:search")
    deflection = search_log.search_log_click(
        token=request.GET.get("log", ""), doc_id=request.GET.get("doc", ""), user=request.user
    )
    if deflection is not None and not request.user.is_authenticated:
        ids = request.session.get(search_log.SESSION_DEFLECTIONS_KEY, [])
        request.session[search_log.SESSION_DEFLECTIONS_KEY] = [*ids, deflection.pk][-50:]
    return redirect(target)


@login_required
def search_gaps(request: HttpRequest) -> HttpResponse:
    """Staff: the most frequent searches of the last 30 days that found nothing."""
    rules.check_view_search_gaps(request.user)
    return render(
        request,
        "knowledge/search_gaps.html",
        {"gaps": selectors.search_gaps(), "days": selectors.SEARCH_GAP_DAYS},
    )
