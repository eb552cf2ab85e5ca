"""The API key a request names, looked up in the shared cache before the database, as sessions and users are
(clientdesk.caching): an integration's request then asks the database nothing before its own queries.

An entry holds the key's own columns, never its user: the user comes through the user's own entry
(accounts.backends), so a deactivation or a role change shows on the key's next request, as it does for a session.
What would let a key work after it no longer should removes its entry at once and again when the transaction commits:
- saving or deleting a key (a revocation, new scopes, a new rate, the admin) leaves a "gone" mark, so a request that
  read the key just before the change cannot put it back (a read from the database fills the cache only where nothing
  is);
- a deactivation revokes its user's keys in one UPDATE, which sends no signal: `user_update` forgets them itself.
Whatever else changes keys behind the cache's back shows within AUTH_CACHE_SECONDS.
"""

import hashlib
from collections.abc import Iterable

from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.backends import UserBackend, remember_user, remember_whose
from accounts.models import ApiKey
from accounts.sessions import guessed_user_entry
from clientdesk.caching import cache_get, cache_set, forget_changed, timeout

_COLUMNS = tuple(field.attname for field in ApiKey._meta.concrete_fields)
# The columns in the entry's name: a deploy that changes them never reads an entry of the old shape.
_SHAPE = hashlib.md5(",".join(_COLUMNS).encode()).hexdigest()[:8]  # noqa: S324 - a fingerprint, not security


def key_cache_key(digest: str) -> str:
    return f"clientdesk.apikey.{_SHAPE}.{digest}"


def entries_to_read(digest: str) -> tuple[str, ...]:
    """The cache entries a request with this key reads: the key's, and its user's once this process knows whose it
    is — read in the throttle's round trip (accounts.throttle.check_and_count), as a session is with its user."""
    guess = guessed_user_entry(digest)
    return (key_cache_key(digest), guess) if guess else (key_cache_key(digest),)


def active_key(digest: str, entries: dict | None = None) -> ApiKey | None:
    """The active key with this digest, its active user attached; None when there is none. `entries`: what the caller
    read of `entries_to_read(digest)` (a key missing there was not in the cache); None to read the cache here."""
    cache_key = key_cache_key(digest)
    values = entries.get(cache_key) if entries is not None else cache_get(cache_key)
    if isinstance(values, tuple) and len(values) == len(_COLUMNS):
        key = ApiKey.from_db(DEFAULT_DB_ALIAS, _COLUMNS, values)
        user = UserBackend().get_user(key.user_id, entries)  # None once deactivated
        if user is None:
            return None
        remember_whose(digest, key.user_id)
        key.user = user
        return key
    key = ApiKey.objects.active().select_related("user").filter(digest=digest).first()
    if key is not None:
        # The user's entry too, as its backend would write it: the next request reads both from the cache.
        remember_user(key.user, only_if_absent=True)
        row = tuple(getattr(key, column) for column in _COLUMNS)
        cache_set(cache_key, row, timeout(), only_if_absent=True)
        remember_whose(digest, key.user_id)
    return key


def forget_keys(digests: Iterable[str]) -> None:
    """The keys' entries marked gone now and once more when the transaction commits."""
    forget_changed([key_cache_key(digest) for digest in digests])


@receiver(post_save, sender=ApiKey, dispatch_uid="clientdesk-forget-saved-api-key")
@receiver(post_delete, sender=ApiKey, dispatch_uid="clientdesk-forget-deleted-api-key")
def _forget_changed_key(sender, instance: ApiKey, created: bool = False, **kwargs) -> None:
    if not created:  # a new key's digest is new: no entry to forget, and none to keep from being written
        forget_keys([instance.digest])
