"""Site-wide answers that no view should have to remember: a database outage as 503, and the headers every page
and API answer carries (Permissions-Policy; Cache-Control: no-store for signed-in users)."""

import logging
import sys

from django.db import Error as DatabaseError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers
from django.views import defaults

from clientdesk.errors import DATABASE_RETRY_AFTER_SECONDS, DATABASE_UNAVAILABLE_ERRORS, DATABASE_UNAVAILABLE_MESSAGE

logger = logging.getLogger(__name__)

# Features the desk never uses, refused to every page and to anything a page might embed.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)


def is_api_request(request) -> bool:
    return request.path.startswith("/api/")


def database_unavailable_response(request) -> HttpResponse:
    """503 with Retry-After: JSON {"detail": ...} for the API, a plain page (no database, no context processors)
    for the rest."""
    if is_api_request(request):
        response = JsonResponse({"detail": str(DATABASE_UNAVAILABLE_MESSAGE)}, status=503)
    else:
        response = HttpResponse(render_to_string("503.html", {"message": DATABASE_UNAVAILABLE_MESSAGE}), status=503)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    """A view that fails because the database is not answering gets 503 and Retry-After instead of a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_UNAVAILABLE_ERRORS):
            logger.error("Database unavailable for %s", request.path, exc_info=exception)
            return database_unavailable_response(request)
        return None


def server_error(request):
    """handler500: an outage met outside a view (a session read in a middleware) is 503 too; the API's other errors
    answer JSON, never an HTML page."""
    exception = sys.exc_info()[1]
    if isinstance(exception, DATABASE_UNAVAILABLE_ERRORS):
        return database_unavailable_response(request)
    if is_api_request(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request)


def _signed_in(request) -> bool:
    user = getattr(request, "user", None)
    if user is None:
        return False
    try:
        return bool(user.is_authenticated)
    except DatabaseError:  # the session could not be read (InterfaceError included): treat the answer as personal
        return True


class SecurityHeadersMiddleware:
    """Permissions-Policy on every answer; answers to signed-in users (personal data) are never stored by a browser
    or a proxy. Sits below AuthenticationMiddleware; the API's authentication sets request.user too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if _signed_in(request):
            add_never_cache_headers(response)
        return response
