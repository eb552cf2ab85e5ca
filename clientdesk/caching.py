"""The shared cache in front of the database for what nearly every request reads and rarely changes: who is asking
(the session, the user, an API key: accounts.sessions, accounts.backends, accounts.key_cache) and the rules every
page works by (the business calendar: clientdesk.calendar; the workshop's areas: bookings.selectors). They live in
SESSION_CACHE_ALIAS: Redis in production, shared by every web process; the database stays the truth.

The cache is only ever a shortcut:
- an entry lives at most AUTH_CACHE_SECONDS, so whatever changed the database behind the cache's back (a queryset
  update, a restore) shows within that time;
- a sign-out, a deactivation, a password change or a change of the rules removes the entry at once; a removed entry
  becomes a "gone" mark that lives AUTH_CACHE_SECONDS, and a read from the database fills the cache only where nothing
  is (`add`), so a request that read the old rows just before the change cannot put them back after it;
- a cache that errs (Redis down or hung) is a miss: the request reads the database, and this process leaves the cache
  alone for PAUSE_AFTER_ERROR_SECONDS, so a hung Redis costs one request its socket timeout, not every request.
"""

import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import transaction

logger = logging.getLogger(__name__)

PAUSE_AFTER_ERROR_SECONDS = 30.0
_paused_until = 0.0


def _pause(action: str, key: str) -> None:
    global _paused_until  # noqa: PLW0603 - one flag per process, on purpose
    _paused_until = time.monotonic() + PAUSE_AFTER_ERROR_SECONDS
    logger.warning("Cache %s of %s failed: reading the database for %ss", action, key, PAUSE_AFTER_ERROR_SECONDS)


def _paused() -> bool:
    return time.monotonic() < _paused_until


def timeout(seconds_left: float | None = None) -> int:
    """How long an entry may live: AUTH_CACHE_SECONDS, or less when what it holds ends sooner (a session)."""
    cap = settings.AUTH_CACHE_SECONDS
    return max(1, min(cap, int(seconds_left))) if seconds_left is not None else cap


GONE = "__gone__"  # what a removed entry holds until AUTH_CACHE_SECONDS have passed


def cache_get(key: str) -> Any | None:
    if _paused():
        return None
    try:
        value = caches[settings.SESSION_CACHE_ALIAS].get(key)
    except Exception:
        _pause("read", key)
        return None
    return None if value == GONE else value


def cache_get_many(keys: list[str]) -> dict[str, Any]:
    """The entries of these keys that are there (not missing, not "gone"), in one round trip (Redis MGET): for a page
    that reads several of the rules at once, where each `cache_get` would be a round trip of its own."""
    if _paused():
        return {}
    try:
        found = caches[settings.SESSION_CACHE_ALIAS].get_many(keys)
    except Exception:
        _pause("read", ", ".join(keys))
        return {}
    return entries_of(found)


def readable_in(backend) -> bool:
    """Whether the shared cache's entries live in this cache backend and may be read now, in a round trip the caller
    makes of that backend for something else (the API key's throttle: accounts.throttle.check_and_count)."""
    return not _paused() and caches[settings.SESSION_CACHE_ALIAS] is backend


def entries_of(found: dict[str, Any]) -> dict[str, Any]:
    """Of entries read, those that are there and not "gone" (what `cache_get_many` answers)."""
    return {key: value for key, value in found.items() if value is not None and value != GONE}


def cache_set(key: str, value: Any, seconds: int, *, only_if_absent: bool = False) -> None:
    """Write an entry; `only_if_absent` for what was read from the database, which must not replace a "gone" mark
    (nor a newer entry) written meanwhile."""
    if _paused():
        return
    try:
        cache = caches[settings.SESSION_CACHE_ALIAS]
        if only_if_absent:
            cache.add(key, value, seconds)
        else:
            cache.set(key, value, seconds)
    except Exception:
        _pause("write", key)


def cache_delete(key: str, *, gone: bool = False) -> None:
    """Tried even while paused: a sign-out or a deactivation must reach the cache if it can at all. When it cannot,
    the entry lives on at most AUTH_CACHE_SECONDS from when it was written."""
    if gone:
        _mark_gone([key], settings.AUTH_CACHE_SECONDS)
        return
    try:
        caches[settings.SESSION_CACHE_ALIAS].delete(key)
    except Exception:
        _not_removed([key])


def _mark_gone(keys: list[str], seconds: int) -> None:
    """A "gone" mark in place of each entry, in one round trip; tried even while paused, as `cache_delete`."""
    try:
        caches[settings.SESSION_CACHE_ALIAS].set_many(dict.fromkeys(keys, GONE), seconds)
    except Exception:
        _not_removed(keys)


def _not_removed(keys: list[str]) -> None:
    logger.error(
        "Cache entries %s could not be removed; they may answer for up to %ss more",
        ", ".join(keys),
        settings.AUTH_CACHE_SECONDS,
    )


def forget_changed(keys: list[str], *, gone_seconds: int | None = None) -> None:
    """What a change of the rows behind these entries does: a "gone" mark now, so the rest of the change's own
    transaction reads the database, and again once it commits, so a read in flight cannot put the old rows back.
    `gone_seconds`: how long the marks live, for entries that live shorter than AUTH_CACHE_SECONDS (a mark only has to
    outlast a read in flight)."""
    seconds = gone_seconds or settings.AUTH_CACHE_SECONDS
    _mark_gone(keys, seconds)
    transaction.on_commit(lambda: _mark_gone(keys, seconds))


def cached_read(key: str, read: Callable[[], Any], entries: dict | None = None, *, seconds: int | None = None) -> Any:
    """The entry from the shared cache, or `read()` and put there where nothing is (never over a "gone" mark).
    `entries`: what the caller already fetched with other keys in one round trip (`cache_get_many`); `seconds`: a
    shorter life than AUTH_CACHE_SECONDS."""
    value = entries.get(key) if entries is not None else cache_get(key)
    if value is None:
        value = read()
        cache_set(key, value, seconds or timeout(), only_if_absent=True)
    return value
