from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .audit import current_ip


def client_ip(request: HttpRequest) -> str | None:
    # Behind a proxy, trust X-Forwarded-For only when the deployment says so.
    if getattr(settings, "PEERDESK_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR")


class RequestContextMiddleware:
    """Makes the client IP available to the audit log for the duration of a request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            current_ip.reset(token)
