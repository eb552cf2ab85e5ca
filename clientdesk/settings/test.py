"""pytest: the same as production in behaviour, with a fast password hasher (the test runner keeps mail in memory)."""

import tempfile
from pathlib import Path

from clientdesk.settings.base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CONN_MAX_AGE = 0
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# Tests serve static files from the finders (node_modules, static/), as runserver does; no collectstatic needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Tasks sent by the code under test stay in memory; the tests that need a real worker start one in a subprocess
# with the embedded or the Redis broker.
CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = "cache+memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}
# Tests travel in time across days with one signed-in client; the shift-long session (SESSION_HOURS) is tested with
# override_settings in tests/accounts/test_password_reset.py.
SESSION_COOKIE_AGE = 30 * 24 * 3600
# Each test process keeps its own cache (API-key throttling counts); tests that count clear it.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "clientdesk-local"},
    "none": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
}
# The session and the signed-in user go through the same code as in production, but their cache always misses: every
# request still reads both from the database, so the pinned query counts count them as before.
# tests/test_request_cost.py turns the cache on to test what it saves and that sign-out and deactivation reach it.
SESSION_CACHE_ALIAS = "none"
# Uploads land in a directory of their own per test run, never in var/media.
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="clientdesk-media-"))
