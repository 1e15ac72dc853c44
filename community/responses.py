"""Responses shared by the apps' HTML views."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def action_error(
    request: HttpRequest, message: str, *, back: str, status: int = 400
) -> HttpResponse:
    """A page saying why a one-click action (a POST without a form page) was refused."""
    return render(
        request, "community/action_error.html", {"message": message, "back": back}, status=status
    )
