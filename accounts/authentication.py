import logging
import re
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from accounts.key_cache import active_key, entries_to_read
from accounts.models import ApiKey
from accounts.throttle import FailureThrottle, RateThrottle, check_and_count
from clientdesk.middleware import client_ip

security_log = logging.getLogger("clientdesk.security")

# last_used_at is written at most this often per key, so a busy integration does not turn every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Requests a minute per key unless the key says otherwise (settings.API_KEY_RATE_PER_MINUTE overrides): 200 a second,
# far above a DMS's nightly sync (a bulk request carries 1,000 records) and a brake on a runaway loop.
DEFAULT_RATE_PER_MINUTE = 12_000
# The public part of a key (cd_<prefix>_<secret>), safe to log; the rest never is.
KEY_PREFIX = re.compile(rf"cd_([0-9a-f]{{{ApiKey.PREFIX_LENGTH}}})_")


def api_key_throttle() -> FailureThrottle:
    return FailureThrottle("api-key", limit=settings.API_KEY_FAILURE_LIMIT, window=60, every_request=True)


def _rate_counter(limit: int = 0) -> RateThrottle:
    """Each key's requests a minute (the limit is the key's own, known once it is found)."""
    return RateThrottle("api-key-rate", limit=limit, every_request=True)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key <key>`: keys an integration user holds; see ApiKey.

    The key is looked up by its SHA-256 digest (an index lookup, whose timing tells nothing about the key), in the
    shared cache first (accounts.key_cache). Wrong keys are counted per address in the cache (no database write):
    past API_KEY_FAILURE_LIMIT in a minute the address gets 429 with Retry-After, before any lookup, until the minute
    is over.
    """

    keyword = "Api-Key"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _sep, raw_key = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        address = client_ip(request)
        throttle = api_key_throttle()
        raw_key = raw_key.strip()
        digest = ApiKey.digest_of(raw_key) if raw_key else None
        # The address's wrong keys read and this key's request counted at once, with the key's cache entry and its
        # user's (one round trip on Redis), before any lookup in the database; the count is judged once the key, and
        # so its rate, is known. It is kept by digest: a wrong key's count is nobody's.
        also = entries_to_read(digest) if digest is not None else ()
        wait, used, entries = check_and_count(throttle, address, _rate_counter(), digest, also=also)
        if wait is not None:
            security_log.warning("API key throttled: address=%s retry_after=%ss", address, wait)
            raise exceptions.Throttled(
                wait=wait,
                detail=_("Too many wrong API keys from this address; try again in %(seconds)d s.") % {"seconds": wait},
            )
        key = active_key(digest, entries) if digest is not None else None
        if key is None:
            failures = throttle.add_failure(address)
            prefix = match.group(1) if (match := KEY_PREFIX.match(raw_key)) else "-"
            security_log.warning(
                "API key refused: address=%s key_prefix=%s path=%s failures_this_minute=%s",
                address,
                prefix,
                request.path,
                failures,
            )
            if not raw_key:
                raise exceptions.AuthenticationFailed(_("No API key given."))
            raise exceptions.AuthenticationFailed(_("Unknown or revoked API key."))
        rate = key.rate_per_minute or getattr(settings, "API_KEY_RATE_PER_MINUTE", DEFAULT_RATE_PER_MINUTE)
        if (wait := _rate_counter(rate).wait(used)) is not None:
            security_log.warning(
                "API key over its rate: key_prefix=%s limit=%s/min path=%s retry_after=%ss",
                key.prefix,
                rate,
                request.path,
                wait,
            )
            raise exceptions.Throttled(
                wait=wait,
                detail=_("This key made more than %(rate)d requests this minute; try again in %(seconds)d s.")
                % {"rate": rate, "seconds": wait},
            )
        now = timezone.now()
        # Each use at DEBUG (a DMS makes thousands of requests a minute); at INFO when the key's last-used time moves,
        # so the security log says at least every LAST_USED_RESOLUTION which keys are in use, from where and for what.
        # It moves on the key's first request of the rate's minute (the cached key's own time is as old as its entry);
        # by that time when the cache is down and counts nothing.
        if used is not None:
            in_use = used == 1
        else:
            in_use = key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION
        if in_use:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        security_log.log(
            logging.INFO if in_use else logging.DEBUG,
            "API key used: key_prefix=%s method=%s path=%s",
            key.prefix,
            request.method,
            request.path,
        )
        return limited_to_scopes(key.user, key, request), key

    def authenticate_header(self, request) -> str:
        return self.keyword


def limited_to_scopes(user, key: ApiKey, request):
    """The key's user, able to use only what the key's scopes allow (all of its capabilities when it has none): every
    check — the API's permission class, `visible_to(user)` — asks `has_capability`, so limiting it limits them all.
    A refusal for want of a scope is logged."""
    if not key.scopes:
        return user
    can = user.has_capability

    def has_capability(capability) -> bool:
        if key.allows(capability):
            return can(capability)
        security_log.warning(
            "API key outside its scopes: key_prefix=%s needs=%s path=%s", key.prefix, capability, request.path
        )
        return False

    user.has_capability = has_capability
    return user
