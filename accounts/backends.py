"""The sign-in backend: Django's ModelBackend, with the user that every request looks up (`get_user`) kept in the
shared cache (clientdesk.caching). Saving or deleting a user removes the entry at once and again when the transaction
commits (a request between the two would otherwise cache the row as it was), so a deactivation or a new password
ends that user's sessions on their next request, as without the cache. One race is left, bounded by the entry's
lifetime (AUTH_CACHE_SECONDS): a request of that same user that read the row just before the change committed and
writes it to the cache just after the removal keeps the old row there until it expires.

The entry holds no password hash (`CachedUser`): a copy of the cache (a dump, a replica, a debugging session) must
not be a copy of the staff's hashes. What Django checks a session against on every request is an HMAC of the hash
(`get_session_auth_hash`), worked out when the row is read and kept instead; the user read from the cache has its
password deferred, so whatever needs the hash itself (a password check or change) reads it from the database."""

import functools
import hashlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.models import User
from accounts.sessions import SessionStore, remember_user_entry
from clientdesk.caching import cache_delete, cache_get, cache_get_many, cache_set, timeout

_COLUMNS = tuple(field.attname for field in User._meta.concrete_fields if field.attname != "password")
# The columns in the key: a deploy that changes them (or what an entry holds) never unpickles an entry of the old shape.
_SHAPE = hashlib.md5(  # noqa: S324 - a fingerprint, not security
    ",".join(("CachedUser", *_COLUMNS)).encode()
).hexdigest()[:8]


@functools.lru_cache(maxsize=4)
def _secrets_tag(secret_key: str, fallbacks: tuple[str, ...]) -> str:
    """Which secrets the entries' session hashes were worked out with (an HMAC that reveals none of them): a secret
    taken out of service is out at once, not when the entries expire."""
    key_salt = "clientdesk.accounts.backends.user_cache_key"
    return salted_hmac(key_salt, "\n".join(fallbacks), secret=secret_key, algorithm="sha256").hexdigest()[:8]


def user_cache_key(user_id) -> str:
    tag = _secrets_tag(settings.SECRET_KEY, tuple(settings.SECRET_KEY_FALLBACKS))
    return f"clientdesk.user.{_SHAPE}.{tag}.{user_id}"


@dataclass(frozen=True)
class CachedUser:
    """A user as the cache keeps them: every column but the password, and the session hashes Django compares on
    every request (for the secret and each fallback), worked out from the password when the row was read."""

    db: str
    values: tuple[Any, ...]  # of _COLUMNS
    session_auth_hash: str
    fallback_hashes: tuple[str, ...]

    @classmethod
    def of(cls, user: User) -> "CachedUser":
        return cls(
            db=user._state.db,
            values=tuple(getattr(user, column) for column in _COLUMNS),
            session_auth_hash=user.get_session_auth_hash(),
            fallback_hashes=tuple(user.get_session_auth_fallback_hash()),
        )

    def user(self) -> User:
        """The user, its password deferred (read from the database if anything asks for it), answering the session
        check with the hashes kept until its password is read or set."""
        user = User.from_db(self.db, _COLUMNS, self.values)
        user.get_session_auth_hash = functools.partial(
            _kept_until_password_known, user, "get_session_auth_hash", self.session_auth_hash
        )
        user.get_session_auth_fallback_hash = functools.partial(
            _kept_until_password_known, user, "get_session_auth_fallback_hash", self.fallback_hashes
        )
        return user


def _kept_until_password_known(user: User, method: str, kept):
    """The kept answer while the password is deferred; once it was read or set on this object (a password change
    takes the new one's hash into the session), Django's own method, from it."""
    if "password" in user.get_deferred_fields():
        return kept
    return getattr(User, method)(user)


def remember_user(user: User, *, only_if_absent: bool = False) -> None:
    """Put a user just read from the database into the cache, as `get_user` reads it back."""
    cache_set(user_cache_key(user.pk), CachedUser.of(user), timeout(), only_if_absent=only_if_absent)


class UserBackend(ModelBackend):
    def get_user(self, user_id, entries: dict | None = None):
        """Django's, from the shared cache first. `entries`: cache entries the caller read already (an API key's
        request reads its key's user with the key, accounts.key_cache); without the user's among them, the cache is
        read here."""
        key = user_cache_key(user_id)
        cached = entries[key] if entries is not None and key in entries else cache_get(key)
        if isinstance(cached, CachedUser):
            user = cached.user()
        else:
            try:
                user = User._default_manager.get(pk=user_id)
            except (User.DoesNotExist, ValueError):
                return None
            remember_user(user)
        return user if self.user_can_authenticate(user) else None


def user_of_session(session, entries: dict) -> User | None:
    """The user a session (a dict, or the session store) is signed in as, from their cache entry among `entries`,
    checked as Django's `auth.get_user` checks them (this backend, the session hash of the current secret, an active
    user). None when the entry is not among them or anything does not plainly check out: the caller then goes Django's
    own way, which decides (and flushes or cycles the session as it does)."""
    if session.get(BACKEND_SESSION_KEY) != _BACKEND_PATH or _BACKEND_PATH not in settings.AUTHENTICATION_BACKENDS:
        return None
    try:
        user_id = User._meta.pk.to_python(session.get(SESSION_KEY))
    except ValidationError:
        return None
    cached = entries.get(user_cache_key(user_id)) if user_id is not None else None
    session_hash = session.get(HASH_SESSION_KEY)
    if not isinstance(cached, CachedUser) or not session_hash:
        return None
    if not constant_time_compare(session_hash, cached.session_auth_hash):
        return None
    user = cached.user()
    return user if UserBackend().user_can_authenticate(user) else None


def remember_whose(ident: str, user_id) -> None:
    """Which user's entry is read with this session (its key) or API key (its digest) from now on, in the same round
    trip as the session's or the key's own (accounts.sessions, accounts.key_cache)."""
    remember_user_entry(ident, user_cache_key(user_id))


def signed_in_from_cache(request, *, also: tuple[str, ...] = ()) -> tuple[User, dict] | None:
    """The user signed in to the request's session (`user_of_session`) and the entries named in `also`, from the
    shared cache alone, without the session middleware: for an answer that must cost less than the whole chain
    (bookings.middleware). One round trip once this process has seen the session (`SessionStore.read_cached`), two
    otherwise; None whenever the cache cannot vouch for the user."""
    store = SessionStore(request.COOKIES.get(settings.SESSION_COOKIE_NAME))
    if store.session_key is None:  # no cookie, or not a key
        return None
    session = store.read_cached(also)
    if session is None:
        return None
    entries = store.read_with
    user_id = session.get(SESSION_KEY)
    if user_id is not None and user_cache_key(user_id) not in entries:
        entries.update(cache_get_many([user_cache_key(user_id)]))
        remember_whose(store.session_key, user_id)
    user = user_of_session(session, entries)
    return None if user is None else (user, entries)


_BACKEND_PATH = f"{UserBackend.__module__}.{UserBackend.__qualname__}"


def forget_user(user_id) -> None:
    key = user_cache_key(user_id)
    cache_delete(key)
    transaction.on_commit(lambda: cache_delete(key))


@receiver(post_save, sender=User, dispatch_uid="clientdesk-forget-saved-user")
@receiver(post_delete, sender=User, dispatch_uid="clientdesk-forget-deleted-user")
def _forget_changed_user(sender, instance, **kwargs) -> None:
    forget_user(instance.pk)
