"""The session store (SESSION_ENGINE): Django's cached_db, through clientdesk.caching so that the cache is a shortcut
and never a dependency. Every session is written to the database first; a sign-out deletes it there and then from the
cache; a read finds it in the cache or else in the database (and puts it back in the cache for a while)."""

from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.db import SessionStore as DBStore

from clientdesk.caching import cache_delete, cache_get_many, cache_set, timeout

# Sessions signed in before accounts.backends.UserBackend (Django's ModelBackend, which it extends) go on after the
# deploy that brought it, instead of signing every member of staff out at once mid-shift.
RENAMED_BACKENDS = {"django.contrib.auth.backends.ModelBackend": "accounts.backends.UserBackend"}


# Whose each session or API key is, as this process last found it: a session key or a key's digest (they cannot be
# mistaken for each other: 32 letters and digits, 64 hex digits) → the cache key of its user's entry
# (accounts.backends.user_cache_key). Only a guess of which entry to read in the same round trip as the session's or
# the key's own; what the session or the key's entry holds decides (accounts.backends.user_of_session,
# accounts.key_cache.active_key).
REMEMBERED = 10_000
_user_entry_of: dict[str, str] = {}


def guessed_user_entry(ident: str | None) -> str | None:
    return _user_entry_of.get(ident) if ident else None


def remember_user_entry(ident: str, key: str) -> None:
    if len(_user_entry_of) >= REMEMBERED:
        _user_entry_of.clear()
    _user_entry_of[ident] = key


class SessionStore(cached_db.SessionStore):
    # The other cache entries read in the same round trip as the session: the signed-in user's, once this process has
    # seen the session (accounts.middleware takes the user from it, accounts.backends.user_of_session checks it), and
    # what `read_cached` was asked for.
    read_with: dict = {}

    def read_cached(self, also: tuple[str, ...] = ()) -> dict | None:
        """The session from the shared cache alone, or None when it is not there; its user's entry (when this process
        knows whose session it is) and the entries named in `also` are read in the same round trip, into `read_with`.
        """
        guess = guessed_user_entry(self.session_key)
        found = cache_get_many([self.cache_key, *also, *([guess] if guess else [])])
        data = found.pop(self.cache_key, None)
        self.read_with = found
        return None if data is None else _renamed(data)

    def load(self):
        data = self.read_cached()
        if data is not None:
            return data
        stored = self._get_session_from_db()
        if not stored:
            return {}
        data = _renamed(self.decode(stored.session_data))
        cache_set(self.cache_key, data, timeout(self.get_expiry_age(expiry=stored.expire_date)), only_if_absent=True)
        return data

    def exists(self, session_key):
        # Asked only when a new key is drawn: the database alone knows every key.
        return DBStore.exists(self, session_key)

    def save(self, must_create=False):
        DBStore.save(self, must_create)
        cache_set(self.cache_key, self._session, timeout(self.get_expiry_age()))

    def delete(self, session_key=None):
        DBStore.delete(self, session_key)
        session_key = session_key or self.session_key
        if session_key:
            cache_delete(self.cache_key_prefix + session_key, gone=True)


def _renamed(data: dict) -> dict:
    """A session as it is read: one signed in through a backend since renamed names the backend by its new name."""
    if data.get(BACKEND_SESSION_KEY) in RENAMED_BACKENDS:
        return {**data, BACKEND_SESSION_KEY: RENAMED_BACKENDS[data[BACKEND_SESSION_KEY]]}
    return data
