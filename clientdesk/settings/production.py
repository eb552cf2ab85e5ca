"""Production: gunicorn behind TLS. Refuses to start without a real SECRET_KEY."""

import os

from django.core.exceptions import ImproperlyConfigured

from clientdesk.settings.base import *  # noqa: F403
from clientdesk.settings.base import env_bool

DEBUG = False
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("dev-only"):
    raise ImproperlyConfigured("Set SECRET_KEY to a random string of at least 50 characters.")

# HTTPS as the proxy saw it. clientdesk.middleware.TrustedProxyMiddleware removes X-Forwarded-Proto (and -For) from
# every request that does not come from one of TRUSTED_PROXIES, so a client cannot claim HTTPS by itself.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# Cookies travel only over TLS. A LAN install without TLS in front may turn this off (SECURE_COOKIES=false).
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}  # noqa: F405

# Mail must really leave in production: SMTP unless EMAIL_BACKEND names another.
MAILERS["default"]["BACKEND"] = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")  # noqa: F405
