"""Community HTML pages. Thin: parse input, call a selector or a service, render.

Services own the rules. Their ValidationError is shown on the form (status 400) and RateLimited as
a message (status 429), both keeping what the person typed; PermissionDenied propagates to the 403
handler.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from . import pagecache, rules, selectors, services
from .forms import (
    AnswerEditForm,
    AnswerForm,
    AskForm,
    ProfileForm,
    QuestionEditForm,
    add_service_errors,
)
from .markdown import render_markdown
from .models import Answer, Comment, Question
from .ratelimit import RateLimited
from .responses import action_error

# --- helpers ----------------------------------------------------------------------------------


def _paginate(request: HttpRequest, items, per_page: int, param: str = "page") -> Page:
    # The total is a COUNT over every matching row: cached until the next write.
    return pagecache.CountCachingPaginator(items, per_page).get_page(request.GET.get(param))


def _mark_source_site(posts) -> None:
    # Attribution names the Stack Exchange site the post came from ("beer.stackexchange.com").
    for post in posts:
        post.source_site = (urlsplit(post.source_url).hostname or "") if post.source_url else ""


def _posted_page(request: HttpRequest) -> int | None:
    """The thread page a POST form was on, so the redirect lands back where the person was."""
    try:
        page = int(request.POST.get("page", ""))
    except ValueError:
        return None
    return page if page > 1 else None


def _thread_url(question_id: int, *, page: int | None = None, anchor: str = "") -> str:
    url = reverse("community:question", kwargs={"pk": question_id})
    if page and page > 1:
        url += f"?page={page}"
    return f"{url}#{anchor}" if anchor else url


def _answer_url(request: HttpRequest, answer: Answer) -> str:
    """The thread URL of the page that shows ``answer``, anchored on it."""
    ids = selectors.answer_ids_in_thread_order(viewer=request.user, question=answer.question)
    position = ids.index(answer.pk) if answer.pk in ids else 0
    page = position // settings.PEERDESK["ANSWERS_PAGE_SIZE"] + 1
    return _thread_url(answer.question_id, page=page, anchor=f"answer-{answer.pk}")


def _set_fragment_inputs(answer: Answer, comments: list[Comment]) -> None:
    """The plain values each cached piece of an answer shows (``{% cached_include %}`` takes no
    model instances): whatever is here is the fragment's cache key, so an edit, a vote, a hide or
    a new comment changes the key and the next render shows it."""
    author = answer.author
    answer.row_inputs = {
        "pk": answer.pk,
        "comment_key": answer.comment_key,
        "is_accepted_answer": answer.is_accepted_answer,
        "validated_at": answer.validated_at,
        "author_name": author.public_name,
        "viewer_can_accept": answer.viewer_can_accept,
        "viewer_can_edit": answer.viewer_can_edit,
        "revision_count": answer.revision_count,
    }
    answer.vote_inputs = {
        "pk": answer.pk,
        "score": answer.score,
        "viewer_can_vote": answer.viewer_can_vote,
        "viewer_vote": answer.viewer_vote,
    }
    answer.body_inputs = {
        "status": answer.status,
        "hidden_reason": answer.hidden_reason,
        "body_html": answer.body_html,
        "source_url": answer.source_url,
        "source_site": answer.source_site,
        "source_author_name": answer.source_author_name,
        "source_author_url": answer.source_author_url,
        "author": {"public_name": author.public_name},
    }
    answer.signature_inputs = {
        "created_at": answer.created_at,
        "author_is_expert": answer.author_is_expert,
        "author": {
            "username": author.username,
            "public_name": author.public_name,
            "avatar": {"url": author.avatar.url} if author.avatar else "",
        },
    }
    answer.comment_rows = tuple(
        {
            "pk": c.pk,
            "body_html": c.body_html,
            "created_at": c.created_at,
            "author": {"username": c.author.username, "public_name": c.author.public_name},
        }
        for c in comments
    )


def _sign_in_first(request: HttpRequest, next_url: str) -> HttpResponse:
    messages.info(request, "Please sign in first.")
    return redirect_to_login(next_url)


def _question_list_page(
    request: HttpRequest, template: str, questions, status: int = 200, **context
) -> HttpResponse:
    page = _paginate(request, questions, settings.PEERDESK["PAGE_SIZE"])
    page.object_list = list(page.object_list)
    _mark_source_site(page.object_list)
    return render(request, template, {"page_obj": page, **context}, status=status)


# --- lists ------------------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    return _question_list_page(
        request,
        "community/home.html",
        selectors.question_list(viewer=request.user, own_unlisted_by_id=True),
        # Counting every question per area on each render costs more than the rest of the page.
        areas=pagecache.generation_cached(
            "area-counts", lambda: list(selectors.area_list_with_counts())
        ),
    )


def area(request: HttpRequest, slug: str) -> HttpResponse:
    product_area = selectors.area_get(slug=slug)
    return _question_list_page(
        request,
        "community/area.html",
        selectors.question_list(viewer=request.user, area=product_area, own_unlisted_by_id=True),
        area=product_area,
    )


def tag(request: HttpRequest, slug: str) -> HttpResponse:
    the_tag = selectors.tag_get(slug=slug)
    return _question_list_page(
        request,
        "community/tag.html",
        selectors.question_list(viewer=request.user, tag=the_tag, own_unlisted_by_id=True),
        tag=the_tag,
    )


def unanswered(request: HttpRequest) -> HttpResponse:
    return _question_list_page(
        request,
        "community/unanswered.html",
        selectors.question_list(viewer=request.user, unanswered=True, own_unlisted_by_id=True),
    )


# --- the thread -------------------------------------------------------------------------------


def _resolved_user(request: HttpRequest):
    """The signed-in user (or AnonymousUser) itself, also put back on ``request.user``.

    ``request.user`` is a lazy proxy, and a thread render reads it ~1,500 times (rules, tags,
    templates): each read through the proxy is an extra Python call."""
    user = request.user
    user.is_authenticated  # noqa: B018 (loads the user behind the proxy)
    request.user = user = getattr(user, "_wrapped", user)
    return user


def _answer_page(request: HttpRequest, answers, page_number: int | None) -> Page:
    """The page of answers to show. The first page (most visits) is read with one row more than
    it holds instead of a COUNT first: when the thread fits on it, the rows are the count."""
    per_page = settings.PEERDESK["ANSWERS_PAGE_SIZE"]
    number = page_number or request.GET.get("page") or 1
    if str(number) != "1":
        return Paginator(answers, per_page).get_page(number)
    rows = list(answers[: per_page + 1])
    if len(rows) <= per_page:
        return Paginator(rows, per_page).page(1)
    page = Paginator(answers, per_page).page(1)
    page.object_list = rows[:per_page]
    return page


def _render_thread(
    request: HttpRequest,
    question: Question,
    *,
    status: int = 200,
    page_number: int | None = None,
    answer_form: AnswerForm | None = None,
    answer_preview: str = "",
    comment_draft: dict | None = None,
) -> HttpResponse:
    viewer = _resolved_user(request)
    page = _answer_page(
        request,
        selectors.answer_list_for_thread(viewer=viewer, question=question),
        page_number,
    )
    answers = list(page.object_list)
    question.thread_comments, comments_by_answer = selectors.comments_for_thread(
        question=question, answers=answers
    )
    votes = selectors.user_votes_for(viewer=viewer, question=question, answers=answers)
    expert_ids = selectors.certified_user_ids(
        area=question.area, user_ids={question.author_id, *(a.author_id for a in answers)}
    )

    question.comment_key = f"q{question.pk}"
    question.viewer_vote = votes.get(f"q{question.pk}", 0)
    question.viewer_can_vote = rules.can_vote_on(viewer, question)
    question.viewer_can_edit = rules.can_edit_question(viewer, question)
    question.author_is_expert = question.author_id in expert_ids
    for answer in answers:
        # The accept rule reads answer.question: hand it the row already loaded, not a query each.
        answer.question = question
        answer.comment_key = f"a{answer.pk}"
        answer.is_accepted_answer = answer.pk == question.accepted_answer_id
        answer.viewer_vote = votes.get(f"a{answer.pk}", 0)
        answer.viewer_can_vote = rules.can_vote_on(viewer, answer)
        answer.viewer_can_edit = rules.can_edit_answer(viewer, answer)
        answer.viewer_can_accept = rules.can_accept_answer(viewer, answer)
        answer.author_is_expert = answer.author_id in expert_ids
    _mark_source_site([question, *answers])
    for answer in answers:
        _set_fragment_inputs(answer, comments_by_answer[answer.pk])

    context = {
        "question": question,
        "answers": answers,
        "page_obj": page,
        "answer_form": answer_form or AnswerForm(),
        "answer_preview": answer_preview,
        "comment_draft": comment_draft or {},
        "viewer_can_answer": rules.can_answer_question(viewer, question),
        "viewer_can_comment": rules.can_comment(viewer)
        and rules.can_write_in_thread(viewer, question),
    }
    return render(request, "community/question.html", context, status=status)


def question_detail(request: HttpRequest, pk: int) -> HttpResponse:
    viewer = _resolved_user(request)
    try:
        question = selectors.question_get_for_thread(viewer=viewer, pk=pk)
    except Http404:
        # A duplicate merged into its canonical thread is hidden, but its address lives on.
        merged_into = selectors.question_merged_into_id(pk=pk)
        if merged_into is None:
            raise
        return redirect(_thread_url(merged_into), permanent=True)
    if question.merged_into_id:
        return redirect(_thread_url(question.merged_into_id), permanent=True)
    return _render_thread(request, question)


@require_POST
def answer_create(request: HttpRequest, pk: int) -> HttpResponse:
    question = selectors.question_get(viewer=request.user, pk=pk)
    if not request.user.is_authenticated:
        return _sign_in_first(request, _thread_url(pk, anchor="your-answer"))
    form = AnswerForm(request.POST)
    page = _posted_page(request)
    if "preview" in request.POST:
        preview = render_markdown(request.POST.get("body", ""))
        return _render_thread(
            request, question, page_number=page, answer_form=form, answer_preview=preview
        )
    status = 400
    if form.is_valid():
        try:
            answer = services.answer_create(
                question=question, author=request.user, body=form.cleaned_data["body"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except RateLimited as exc:
            form.add_error(None, f"{exc} Your draft is kept below.")
            status = 429
        else:
            messages.success(
                request,
                "Thanks! Your answer is posted."
                if answer.is_visible
                else "Thanks! Your answer will appear once a moderator approves it.",
            )
            return redirect(_answer_url(request, answer))
    return _render_thread(request, question, status=status, page_number=page, answer_form=form)


def _post_for(request: HttpRequest, kind: str, pk: int) -> tuple[Question | Answer, int, str]:
    """The post a vote or comment targets, its question id and the anchor that shows it."""
    if kind == "question":
        post = selectors.question_get(viewer=request.user, pk=pk)
        return post, post.pk, "question"
    answer = selectors.answer_get(viewer=request.user, pk=pk)
    return answer, answer.question_id, f"answer-{answer.pk}"


@require_POST
def vote(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    post, question_id, anchor = _post_for(request, kind, pk)
    back = _thread_url(question_id, page=_posted_page(request), anchor=anchor)
    if not request.user.is_authenticated:
        return _sign_in_first(request, back)
    try:
        value = int(request.POST.get("value", ""))
    except ValueError:
        value = 99  # let the service produce its own readable message
    try:
        services.vote_cast(user=request.user, post=post, value=value)
    except ValidationError as exc:
        return action_error(request, " ".join(exc.messages), status=400, back=back)
    except RateLimited as exc:
        return action_error(request, str(exc), status=429, back=back)
    return redirect(back)


@require_POST
def accept(request: HttpRequest, pk: int) -> HttpResponse:
    answer = selectors.answer_get(viewer=request.user, pk=pk)
    back = _thread_url(answer.question_id, page=_posted_page(request), anchor=f"answer-{pk}")
    if not request.user.is_authenticated:
        return _sign_in_first(request, back)
    services.answer_accept(answer=answer, user=request.user)
    messages.success(request, "Answer marked as accepted.")
    return redirect(back)


@require_POST
def unaccept(request: HttpRequest, pk: int) -> HttpResponse:
    answer = selectors.answer_get(viewer=request.user, pk=pk)
    back = _thread_url(answer.question_id, page=_posted_page(request), anchor=f"answer-{pk}")
    if not request.user.is_authenticated:
        return _sign_in_first(request, back)
    # Only withdraw the acceptance this button was shown for, not one made since.
    if answer.question.accepted_answer_id == answer.pk:
        services.answer_unaccept(question=answer.question, user=request.user)
        messages.success(request, "Acceptance withdrawn.")
    return redirect(back)


@require_POST
def comment(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    post, question_id, anchor = _post_for(request, kind, pk)
    page = _posted_page(request)
    if not request.user.is_authenticated:
        return _sign_in_first(request, _thread_url(question_id, page=page, anchor=anchor))
    body = request.POST.get("body", "")
    target = {"question": post} if kind == "question" else {"answer": post}
    try:
        services.comment_create(author=request.user, body=body, **target)
    except (ValidationError, RateLimited) as exc:
        is_limit = isinstance(exc, RateLimited)
        draft = {
            "key": f"{kind[0]}{pk}",
            "body": body,
            "errors": [str(exc)] if is_limit else exc.messages,
        }
        question = selectors.question_get(viewer=request.user, pk=question_id)
        return _render_thread(
            request,
            question,
            status=429 if is_limit else 400,
            page_number=page,
            comment_draft=draft,
        )
    return redirect(_thread_url(question_id, page=page, anchor=anchor))


# --- asking and editing -----------------------------------------------------------------------


@login_required
def ask(request: HttpRequest) -> HttpResponse:
    from .routing_views import directed_summary

    areas = selectors.area_list()
    status, preview = 200, ""
    if request.method == "POST":
        form = AskForm(request.POST, areas=areas)
        directed_username = request.POST.get("directed_to", "").strip()
        if "preview" in request.POST:
            preview = render_markdown(request.POST.get("body", ""))
        else:
            status = 400
            if form.is_valid():
                data = form.cleaned_data
                try:
                    question = services.question_create(
                        author=request.user,
                        area=data["area"],
                        title=data["title"],
                        body=data["body"],
                        tags=data["tags"],
                        directed_to=selectors.user_for_directing(username=directed_username),
                        private=data["private"] and bool(directed_username),
                    )
                except ValidationError as exc:
                    add_service_errors(form, exc)
                except RateLimited as exc:
                    form.add_error(None, f"{exc} Your draft is kept below.")
                    status = 429
                else:
                    messages.success(
                        request,
                        "Your question is posted."
                        if question.is_visible
                        else "Your question will appear once a moderator approves it.",
                    )
                    return redirect(question)
    else:
        chosen = areas.filter(slug=request.GET.get("area", "")).first()
        directed_username = request.GET.get("expert", "").strip()
        form = AskForm(initial={"area": chosen, "directed_to": directed_username}, areas=areas)
    context = {
        "form": form,
        "preview": preview,
        "directed": directed_summary(directed_username) if directed_username else None,
    }
    return render(request, "community/ask.html", context, status=status)


@login_required
def question_edit(request: HttpRequest, pk: int) -> HttpResponse:
    question = selectors.question_get(viewer=request.user, pk=pk)
    rules.check_edit_question(request.user, question)
    status, preview = 200, ""
    if request.method == "POST":
        form = QuestionEditForm(request.POST)
        if "preview" in request.POST:
            preview = render_markdown(request.POST.get("body", ""))
        else:
            status = 400
            if form.is_valid():
                data = form.cleaned_data
                try:
                    services.question_edit(
                        question=question,
                        editor=request.user,
                        title=data["title"],
                        body=data["body"],
                        tags=data["tags"],
                        summary=data["summary"],
                    )
                except ValidationError as exc:
                    add_service_errors(form, exc)
                else:
                    messages.success(request, "Question updated.")
                    return redirect(_thread_url(question.pk, anchor="question"))
    else:
        form = QuestionEditForm(
            initial={
                "title": question.title,
                "body": question.body,
                "tags": " ".join(t.slug for t in question.tags.all()),
            }
        )
    context = {"form": form, "question": question, "preview": preview}
    return render(request, "community/question_edit.html", context, status=status)


@login_required
def answer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    answer = selectors.answer_get(viewer=request.user, pk=pk)
    rules.check_edit_answer(request.user, answer)
    status, preview = 200, ""
    if request.method == "POST":
        form = AnswerEditForm(request.POST)
        if "preview" in request.POST:
            preview = render_markdown(request.POST.get("body", ""))
        else:
            status = 400
            if form.is_valid():
                try:
                    answer = services.answer_edit(
                        answer=answer,
                        editor=request.user,
                        body=form.cleaned_data["body"],
                        summary=form.cleaned_data["summary"],
                    )
                except ValidationError as exc:
                    add_service_errors(form, exc)
                else:
                    messages.success(request, "Answer updated.")
                    return redirect(_answer_url(request, answer))
    else:
        form = AnswerEditForm(initial={"body": answer.body})
    context = {"form": form, "answer": answer, "question": answer.question, "preview": preview}
    return render(request, "community/answer_edit.html", context, status=status)


def question_revisions(request: HttpRequest, pk: int) -> HttpResponse:
    question = selectors.question_get(viewer=request.user, pk=pk)
    revisions = list(selectors.question_revision_list(question=question))
    for revision in revisions:
        revision.body_html = render_markdown(revision.body)
    context = {"question": question, "revisions": revisions}
    return render(request, "community/question_revisions.html", context)


def answer_revisions(request: HttpRequest, pk: int) -> HttpResponse:
    answer = selectors.answer_get(viewer=request.user, pk=pk)
    revisions = list(selectors.answer_revision_list(answer=answer))
    for revision in revisions:
        revision.body_html = render_markdown(revision.body)
    context = {"answer": answer, "question": answer.question, "revisions": revisions}
    return render(request, "community/answer_revisions.html", context)


# --- people -----------------------------------------------------------------------------------


def profile(request: HttpRequest, username: str) -> HttpResponse:
    person = selectors.profile_get(viewer=request.user, username=username)
    size = settings.PEERDESK["PAGE_SIZE"]
    questions = _paginate(
        request, selectors.question_list(viewer=request.user, author=person), size, "qpage"
    )
    answers = _paginate(
        request, selectors.answer_list_by_author(viewer=request.user, author=person), size, "apage"
    )
    questions.object_list = list(questions.object_list)
    _mark_source_site(questions.object_list)
    context = {
        "person": person,
        # Prefetched with the profile; expired and revoked rows stay in the database for history.
        "certifications": [c for c in person.certifications.all() if c.is_active],
        "questions": questions,
        "answers": answers,
        "is_own_profile": request.user.is_authenticated and request.user.pk == person.pk,
    }
    return render(request, "community/profile.html", context)


@login_required
def profile_edit(request: HttpRequest) -> HttpResponse:
    # A fresh row: the service changes the instance before it checks the avatar, and the page
    # chrome should not show a rejected display name.
    person = selectors.profile_get(viewer=request.user, username=request.user.username)
    status = 200
    if request.method == "POST":
        form = ProfileForm(request.POST, request.FILES)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.profile_update(
                    user=person,
                    display_name=data["display_name"],
                    bio=data["bio"],
                    avatar=data["avatar"] or None,
                    clear_avatar=data["clear_avatar"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Profile saved.")
                return redirect(person)
    else:
        form = ProfileForm(initial={"display_name": person.display_name, "bio": person.bio})
    return render(
        request, "community/profile_edit.html", {"form": form, "person": person}, status=status
    )


@require_POST
def question_urgent(request: HttpRequest, pk: int) -> HttpResponse:
    """The asker marks their thread urgent (or clears it); protocols take it from there."""
    question = selectors.question_get(viewer=request.user, pk=pk)
    back = _thread_url(question.pk, anchor="question")
    if not request.user.is_authenticated:
        return _sign_in_first(request, back)
    urgent = request.POST.get("urgent", "1") == "1"
    services.question_set_urgent(question=question, user=request.user, urgent=urgent)
    messages.success(
        request,
        "Marked as urgent: our support team will look at it first."
        if urgent
        else "No longer marked as urgent.",
    )
    return redirect(back)
