"""Counting failures per address in the cache (Redis in production, shared by every web process), in fixed windows.

No database write per failure, and a cache that is down counts nothing rather than failing the request: throttling
is a brake on guessing, the secret itself (a 256-bit API key, a reset link) is the real defence.
"""

import logging
import math
import time

from django.core.cache import cache, caches
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.redis import RedisCache

from clientdesk.caching import entries_of, readable_in

logger = logging.getLogger("clientdesk.security")


def _counts_cache(every_request: bool):
    """Where counts are kept: the default cache; for counts taken on every request (API keys) this process's memory
    when the default is Django's file cache (the embedded default), which writes a file and lists its whole folder on
    every write — a millisecond or more per API request. The embedded default serves from one process."""
    if every_request and isinstance(caches["default"], FileBasedCache):
        return caches["local"]
    return cache


class FailureThrottle:
    """At most `limit` failures per `window` seconds for one identity (an address); then `retry_after` says how
    many seconds remain until the window ends."""

    def __init__(self, scope: str, *, limit: int, window: int, every_request: bool = False) -> None:
        self.scope, self.limit, self.window = scope, limit, window
        self.cache = _counts_cache(every_request)

    def _key(self, ident: str, now: float) -> str:
        return f"throttle:{self.scope}:{ident}:{int(now // self.window)}"

    def retry_after(self, ident: str) -> int | None:
        """Seconds to wait if this identity has used up its failures, else None."""
        now = time.time()
        try:
            failures = self.cache.get(self._key(ident, now), 0)
        except Exception:  # the cache is down: do not refuse anyone for it
            logger.warning("Throttle %s: cache unavailable", self.scope, exc_info=True)
            return None
        if failures >= self.limit:
            return max(1, math.ceil(self.window - now % self.window))
        return None

    def add_failure(self, ident: str) -> int:
        """Counts one failure; returns the count in this window (0 if the cache is down)."""
        key = self._key(ident, time.time())
        try:
            self.cache.add(key, 0, timeout=self.window + 5)
            return self.cache.incr(key)
        except ValueError:  # expired between add and incr
            self.cache.set(key, 1, timeout=self.window + 5)
            return 1
        except Exception:
            logger.warning("Throttle %s: cache unavailable", self.scope, exc_info=True)
            return 0


class RateThrottle:
    """At most `limit` requests per `window` seconds for one identity (an API key), counted in the cache in fixed
    windows: `hit` counts one and says how many seconds to wait once the limit is passed (None while within it)."""

    def __init__(self, scope: str, *, limit: int, window: int = 60, every_request: bool = False) -> None:
        self.scope, self.limit, self.window = scope, limit, window
        self.cache = _counts_cache(every_request)

    def _key(self, ident: str, now: float) -> str:
        return f"throttle:{self.scope}:{ident}:{int(now // self.window)}"

    def hit(self, ident: str) -> int | None:
        return self.wait(self.count(ident))

    def count(self, ident: str) -> int | None:
        """Counts one request; returns the count in this window (None if the cache is down)."""
        key = self._key(ident, time.time())
        try:
            try:
                return self.cache.incr(key)
            except ValueError:  # the window's first request
                return 1 if self.cache.add(key, 1, timeout=self.window + 5) else self.cache.incr(key)
        except Exception:  # the cache is down: do not refuse anyone for it
            logger.warning("Throttle %s: cache unavailable", self.scope, exc_info=True)
            return None

    def wait(self, count: int | None) -> int | None:
        """Seconds to wait when `count` is past the limit, else None."""
        if count is None or count <= self.limit:
            return None
        return max(1, math.ceil(self.window - time.time() % self.window))


def check_and_count(
    failures: FailureThrottle, address: str, rate: RateThrottle, ident: str | None, *, also: tuple[str, ...] = ()
) -> tuple[int | None, int | None, dict | None]:
    """`failures.retry_after(address)` and, when `ident` is given, `rate.count(ident)`: (seconds the address must
    wait or None, the count or None, the shared cache's entries named in `also`). On Redis all go in one round trip
    (the cache API takes three for the first two: a get, then an incr that is an EXISTS and an INCR, and one more for
    the entries); every request with an API key pays it. The entries are None when they were not read with it (not
    on Redis, the shared cache elsewhere or paused, the round trip failed): the caller reads them itself."""
    backend = caches["default"]
    if ident is None or not isinstance(backend, RedisCache):
        return failures.retry_after(address), (rate.count(ident) if ident is not None else None), None
    now = time.time()
    failed_key = backend.make_and_validate_key(failures._key(address, now))
    count_key = backend.make_and_validate_key(rate._key(ident, now))
    also = also if readable_in(backend) else ()
    try:
        pipe = backend._cache.get_client(count_key, write=True).pipeline(transaction=False)
        pipe.get(failed_key).set(count_key, 0, ex=rate.window + 5, nx=True).incr(count_key)
        for key in also:
            pipe.get(backend.make_and_validate_key(key))
        failed, _created, count, *read = pipe.execute()
    except Exception:  # the cache is down: do not refuse anyone for it
        logger.warning("Throttle %s: cache unavailable", rate.scope, exc_info=True)
        return None, None, None
    entries = None
    if also:
        loads = backend._cache._serializer.loads
        entries = entries_of({key: loads(value) for key, value in zip(also, read, strict=True) if value is not None})
    # Counts are stored as plain integers (Django's Redis serializer leaves ints as they are).
    if failed is not None and int(failed) >= failures.limit:
        return max(1, math.ceil(failures.window - now % failures.window)), count, entries
    return None, count, entries
