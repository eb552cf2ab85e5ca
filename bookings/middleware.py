"""The quiet poll of today's board, answered before the rest of the middleware.

Every open board asks every 30 s whether anything changed (`?version=`), and nearly always nothing did. Through the
whole chain that answer cost about 1.4 ms of which the board's own work (its digest, from the shared cache) was a
tenth; the rest was the chain (sessions, locale, CSRF, messages, history, the lockout check) and Django's handler,
none of which a 204 with no body needs. `QuietBoardPollMiddleware` sits early in MIDDLEWARE and answers only what it
can answer exactly as the board would: a GET of the unfiltered board from HTMX with the version it shows, by a user
found signed in from the shared cache alone (`accounts.backends.signed_in_from_cache`: the session and the user, with
their checks) who may see the board, whose version is still the day's. Anything else, or anything it cannot tell
without the database's sessions, goes the whole way, as does every request once the version moved."""

from functools import cache

from django.db import Error as DatabaseError
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone

from accounts.backends import signed_in_from_cache
from bookings.selectors.board import board_version_now, digest_key
from bookings.views.booking import BoardView
from clientdesk.calendar import local_date
from clientdesk.filters import day_from_query
from clientdesk.middleware import site_headers

POLL_PARAMETERS = frozenset({"day", "version"})


@cache
def board_path() -> str:
    return reverse("bookings:board")


class QuietBoardPollMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self.nothing_new(request):
            return site_headers(HttpResponse(status=204), private=True)
        return self.get_response(request)

    @staticmethod
    def nothing_new(request) -> bool:
        if request.method != "GET" or request.path_info != board_path():
            return False
        query = request.GET
        if (
            request.headers.get("HX-Request") != "true"
            or not query.get("version")
            or not POLL_PARAMETERS.issuperset(query)  # a filter: the board's own way (BoardFilterForm)
        ):
            return False
        now = timezone.now()
        day = day_from_query(query.get("day"), local_date(now))
        key = digest_key(day)
        signed_in = signed_in_from_cache(request, also=(key,))
        if signed_in is None:
            return False
        user, entries = signed_in
        if not all(user.has_capability(capability) for capability in BoardView().get_required_capabilities()):
            return False
        try:
            return query["version"] == board_version_now(day, user=user, now=now, entries=entries)
        except DatabaseError:  # the digest could not be read: the board's own way answers the outage (503)
            return False
