"""Site-wide answers that no view should have to remember: a database outage as 503, the headers every page and API
answer carries (Permissions-Policy; Cache-Control: no-store for signed-in users and the API), and which proxy headers
are believed."""

import ipaddress
import logging
import sys
from functools import lru_cache

from django.conf import settings
from django.core.handlers.exception import convert_exception_to_response
from django.db import Error as DatabaseError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django.utils.cache import add_never_cache_headers
from django.utils.module_loading import import_string
from django.views import defaults
from rest_framework.exceptions import NotFound

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


def page_not_found(request, exception):
    """handler404: a path the API does not have (or an id in a form no route takes) answers JSON like the rest of the
    API; pages keep the site's 404 page."""
    if is_api_request(request):
        return JsonResponse({"detail": str(NotFound.default_detail)}, status=404)
    return defaults.page_not_found(request, exception)


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
        # The API answers personal data to whoever holds a key (no session user then): never stored either.
        return site_headers(response, private=is_api_request(request) or _signed_in(request))


def site_headers(response, *, private: bool):
    """The headers SecurityHeadersMiddleware gives every answer; also for an answer made before it (a shortcut)."""
    response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    if private:
        add_never_cache_headers(response)
    return response


# --- The proxy in front ----------------------------------------------------------------------------------------------

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "HTTP_FORWARDED")


def _address(value: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None


@lru_cache(maxsize=4)
def _networks(entries: tuple[str, ...]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(entry, strict=False) for entry in entries]


class TrustedProxyMiddleware:
    """X-Forwarded-For and X-Forwarded-Proto are believed only from the reverse proxies in TRUSTED_PROXIES (addresses
    or networks). From anyone else they are removed before SecurityMiddleware (SECURE_PROXY_SSL_HEADER) or anything
    else reads them. From a trusted proxy, REMOTE_ADDR becomes the client it forwarded for: the right-most address in
    X-Forwarded-For that is not itself a trusted proxy (the left part of that header is what the client wrote). The
    peer's own address is kept in META["PROXY_ADDR"]. Sign-in lockout, logs and throttling all read REMOTE_ADDR."""

    def __init__(self, get_response):
        self.get_response = get_response

    @staticmethod
    def trusted(address: IPAddress | None) -> bool:
        return address is not None and any(address in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))

    def __call__(self, request):
        meta = request.META
        peer = meta.get("REMOTE_ADDR", "")
        if not self.trusted(_address(peer)):
            for header in FORWARDED_HEADERS:
                meta.pop(header, None)
            return self.get_response(request)
        meta["PROXY_ADDR"] = peer
        client = peer
        for hop in reversed(meta.get("HTTP_X_FORWARDED_FOR", "").split(",")):
            address = _address(hop)
            if address is None:  # garbage written by the client: stop at the last address a proxy vouched for
                break
            client = str(address)
            if not self.trusted(address):
                break
        meta["REMOTE_ADDR"] = client
        return self.get_response(request)


def client_ip(request) -> str | None:
    """The client's address as TrustedProxyMiddleware left it (django-axes' AXES_CLIENT_IP_CALLABLE); None when the
    request has none that parses (a sign-in made in code, as `Client.force_login` does): axes stores the address
    in an IP column, which PostgreSQL refuses a word like "unknown" for."""
    address = request.META.get("REMOTE_ADDR") or ""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


# --- The API's hot lists ---------------------------------------------------------------------------------------------

# What an API list answers in: JSON (DRF's first renderer), for a request that accepts it or anything.
_JSON_ACCEPTED = frozenset({"", "*/*", "application/*", "application/json"})


def _accepts_only_json(accept: str) -> bool:
    return all(part.partition(";")[0].strip().lower() in _JSON_ACCEPTED for part in accept.split(","))


@lru_cache(maxsize=512)
def _compiled_list_match(path: str):
    """The route of a compiled API list (`clientdesk.api.CompiledListMixin`'s list action) at this path, or None."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    view = match.func
    cls = getattr(view, "cls", None)
    if not getattr(cls, "compiled_list", False) or getattr(view, "actions", {}).get("get") != "list":
        return None
    return match


class ApiListMiddleware:
    """A GET of a compiled API list goes through a shorter chain: the middleware in settings.API_LIST_MIDDLEWARE (the
    session and who is asking, the language, the headers every answer carries) around the view, not all of MIDDLEWARE.

    Such a request is the DMS's poll and paging, thousands an hour, and the rest of the chain has nothing to do for it:
    no form is posted (CSRF), no message shown, no history written, no HTMX, no sign-in to lock out. The view is DRF's
    as always (authentication, permissions, throttles, filters, errors); only what surrounds it is shorter. A request
    that wants another answer (the browsable API's HTML, `?format=`) or any other route goes the whole way.
    `tests/test_api_list_chain.py` holds both ways to the same answers, headers included."""

    def __init__(self, get_response):
        self.get_response = get_response
        # Built as Django's handler builds MIDDLEWARE: an exception met anywhere becomes its answer there (a 500, a
        # 503 for the database) and goes back out through the rest of the chain.
        handler = convert_exception_to_response(self._view)
        for path in reversed(settings.API_LIST_MIDDLEWARE):
            handler = convert_exception_to_response(import_string(path)(handler))
        self.short = handler

    def __call__(self, request):
        if request.method != "GET" or not is_api_request(request) or "format" in request.GET:
            return self.get_response(request)
        match = _compiled_list_match(request.path_info)
        if match is None or not _accepts_only_json(request.headers.get("Accept", "")):
            return self.get_response(request)
        request.resolver_match = match
        return self.short(request)

    @staticmethod
    def _view(request):
        match = request.resolver_match
        response = match.func(request, *match.args, **match.kwargs)
        if callable(getattr(response, "render", None)):  # DRF's Response renders late, as Django's handler has it
            response = response.render()
        return response
