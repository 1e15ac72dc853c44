"""Helpers shared by the apps' HTML views (community, knowledge, moderation)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from .forms import add_service_errors


def submit_form_action(
    request: HttpRequest,
    form: forms.Form,
    action: Callable[[dict[str, Any]], Any],
    *,
    success: str,
    redirect_to: Any = None,
    field_map: Mapping[str, str] | None = None,
) -> HttpResponse | None:
    """Run ``action(form.cleaned_data)`` (a service call) when the bound ``form`` is valid.

    After it succeeds: flash ``success`` and redirect to ``redirect_to`` (a URL or a model), by
    default to what ``action`` returned (the saved model, whose URL may have changed).
    Otherwise None, with the service's ValidationError added to ``form`` (``field_map`` as in
    ``add_service_errors``), so the view re-renders the form. Other errors propagate.
    """
    if not form.is_valid():
        return None
    try:
        result = action(form.cleaned_data)
    except ValidationError as exc:
        add_service_errors(form, exc, field_map)
        return None
    messages.success(request, success)
    return redirect(result if redirect_to is None else redirect_to)
