"""Counting failures per address in the cache (Redis in production, shared by every web process), in fixed windows.

No database write per failure, and a cache that is down counts nothing rather than failing the request: throttling
is a brake on guessing, the secret itself (a 256-bit API key, a reset link) is the real defence.
"""

import logging
import math
import time

from django.core.cache import cache

logger = logging.getLogger("clientdesk.security")


class FailureThrottle:
    """At most `limit` failures per `window` seconds for one identity (an address); then `retry_after` says how
    many seconds remain until the window ends."""

    def __init__(self, scope: str, *, limit: int, window: int) -> None:
        self.scope, self.limit, self.window = scope, limit, window

    def _key(self, ident: str, now: float) -> str:
        return f"throttle:{self.scope}:{ident}:{int(now // self.window)}"

    def retry_after(self, ident: str) -> int | None:
        """Seconds to wait if this identity has used up its failures, else None."""
        now = time.time()
        try:
            failures = cache.get(self._key(ident, now), 0)
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
            cache.add(key, 0, timeout=self.window + 5)
            return cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=self.window + 5)
            return 1
        except Exception:
            logger.warning("Throttle %s: cache unavailable", self.scope, exc_info=True)
            return 0


class RateThrottle:
    """At most `limit` requests per `window` seconds for one identity (an API key), counted in the cache in fixed
    windows: `hit` counts one and says how many seconds to wait once the limit is passed (None while within it)."""

    def __init__(self, scope: str, *, limit: int, window: int = 60) -> None:
        self.scope, self.limit, self.window = scope, limit, window

    def hit(self, ident: str) -> int | None:
        now = time.time()
        key = f"throttle:{self.scope}:{ident}:{int(now // self.window)}"
        try:
            try:
                count = cache.incr(key)  # one round trip for every request but a window's first
            except ValueError:  # the window's first request
                count = 1 if cache.add(key, 1, timeout=self.window + 5) else cache.incr(key)
        except Exception:  # the cache is down: do not refuse anyone for it
            logger.warning("Throttle %s: cache unavailable", self.scope, exc_info=True)
            return None
        if count > self.limit:
            return max(1, math.ceil(self.window - now % self.window))
        return None
