"""Django's AuthenticationMiddleware, with the signed-in user taken from the cache entry that the session store read
in the same round trip as the session (accounts.sessions.SessionStore.read_with): one round trip to the shared cache
for who is asking instead of two, on every page and API call of a signed-in user once the process has seen the
session. When that entry is missing or does not plainly check out (accounts.backends.user_of_session), Django's own
`get_user` decides, as before."""

from django.contrib import auth
from django.contrib.auth import SESSION_KEY, middleware
from django.utils.functional import SimpleLazyObject

from accounts.backends import remember_whose, user_of_session


def get_user(request):
    if not hasattr(request, "_cached_user"):
        session = request.session
        session.get(SESSION_KEY)  # loads the session, and with it (SessionStore.load) its user's entry
        found = user_of_session(session, getattr(session, "read_with", {}))
        if found is None:
            found = auth.get_user(request)
            if found.is_authenticated and session.session_key:
                remember_whose(session.session_key, found.pk)
        request._cached_user = found
    return request._cached_user


class AuthenticationMiddleware(middleware.AuthenticationMiddleware):
    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: get_user(request))
