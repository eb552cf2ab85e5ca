"""Settings shared by every way of running ClientDesk; everything that differs comes from the environment.

Environment:
    DATABASE_URL   postgres://user:pass@host:5432/name; unset means the embedded SQLite file under var/
    REDIS_URL      redis://host:6379/0 for Celery's broker and results; unset means kombu's filesystem transport
    BROKER_SOCKET_TIMEOUT  seconds workers and beat wait for a silent Redis, default 5
    ENQUEUE_TIMEOUT        seconds a web request waits for the broker when it queues a task, default 1
    SECRET_KEY     required in production
    ALLOWED_HOSTS  comma-separated
    TIME_ZONE      the dealership's zone, default Europe/Moscow
    TRUSTED_PROXIES        comma-separated addresses/networks of the reverse proxies whose X-Forwarded-* headers count
    SESSION_HOURS          how long a sign-in lasts (a shift), default 12
    LOGIN_FAILURE_LIMIT, LOGIN_LOCKOUT_MINUTES, API_KEY_FAILURE_LIMIT: sign-in lockout and API-key throttling
"""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("CLIENTDESK_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_htmx",
    "axes",
    # The app order: each app may import only those above it in this list (tests/test_house.py holds it).
    "clientdesk",
    "accounts",
    "clients",
    "bookings",
    "documents",
    "fleet",
    "calls",
    "claims",
    "reception",
    "reports",
    "webhooks",
    "demo",
    "bench",
]

MIDDLEWARE = [
    # First: X-Forwarded-* count only from TRUSTED_PROXIES; REMOTE_ADDR becomes the real client for everything below.
    "clientdesk.middleware.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before the sessions: the board's quiet poll answered 204 from the shared cache when it can be (its docstring).
    "bookings.middleware.QuietBoardPollMiddleware",
    # A GET of a hot API list goes through API_LIST_MIDDLEWARE below instead of the rest of this (its docstring).
    "clientdesk.middleware.ApiListMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, with the user read in the same round trip as the session (its docstring).
    "accounts.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "clientdesk.middleware.SecurityHeadersMiddleware",
    "clientdesk.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: turns a sign-in refused for a lockout into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

# The chain a GET of a compiled API list goes through (clientdesk.middleware.ApiListMiddleware): those of MIDDLEWARE
# above that such an answer needs, in the same order.
API_LIST_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "accounts.middleware.AuthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "clientdesk.middleware.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "clientdesk.urls"
WSGI_APPLICATION = "clientdesk.wsgi.application"
ASGI_APPLICATION = "clientdesk.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "accounts.context_processors.capabilities",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------------------
SQLITE_PATH = VAR_DIR / "db.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{SQLITE_PATH}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded database is shared by the web server, the worker and beat. IMMEDIATE transactions take the write
    # lock up front, so writers queue (busy timeout) instead of failing half-way; WAL lets readers go on meanwhile.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
USING_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
# django-axes first: it refuses a locked-out user or address before the password is even checked. Then Django's
# ModelBackend, with the signed-in user that every request looks up kept in the cache (accounts.backends).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "accounts.backends.UserBackend"]

# --- Sessions, sign-in lockout, password reset (README "Security") -------------------------------------------------
# A sign-in lasts one shift: the session and its cookie end SESSION_HOURS after signing in, whatever is done meanwhile.
SESSION_HOURS = float(os.environ.get("SESSION_HOURS", "12"))
SESSION_COOKIE_AGE = int(SESSION_HOURS * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Every signed-in request reads its session and its user: both sit in the shared cache (Redis; without it the file
# cache every process on the machine shares) in front of the database, at most AUTH_CACHE_SECONDS, removed at once on
# sign-out, deactivation and password change; a cache that is down is a miss (clientdesk.caching).
SESSION_ENGINE = "accounts.sessions"
SESSION_CACHE_ALIAS = "default"
AUTH_CACHE_SECONDS = 300
# A reset link works once and for an hour.
PASSWORD_RESET_TIMEOUT = 3600
# django-axes: LOGIN_FAILURE_LIMIT failed sign-ins for one username, or from one address, within the lockout time lock
# that username (from anywhere) or that address (for any username) for LOGIN_LOCKOUT_MINUTES; a success resets the
# counts; the department head can unlock sooner (user list). The lock runs from the last counted failure: attempts
# while locked are refused and logged but do not prolong it, so a password guesser cannot keep a colleague out.
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_NEVER_LOCKOUT_GET = True
AXES_CLIENT_IP_CALLABLE = "clientdesk.middleware.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.views.users.lockout_response"
# Our own clientdesk.security log says who signed in, failed and was locked; axes' access log table is not needed.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# The reverse proxies (addresses or networks) whose X-Forwarded-For and X-Forwarded-Proto are believed; empty: none,
# so a client cannot claim another address (to dodge the lockout) or claim HTTPS.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
try:
    for _proxy in TRUSTED_PROXIES:
        ipaddress.ip_network(_proxy, strict=False)
except ValueError as exc:
    raise ImproperlyConfigured(f"TRUSTED_PROXIES: {exc}") from exc
# Wrong API keys from one address: after this many in a minute the address gets 429 with Retry-After until the minute
# is over (counted in the cache, not the database).
API_KEY_FAILURE_LIMIT = int(os.environ.get("API_KEY_FAILURE_LIMIT", "20"))

# --- Content-Security-Policy (Django's own middleware) ---------------------------------------------------------------
# Scripts and style sheets only from the site itself (Bootstrap, HTMX, Chart.js are served from static/), no eval, no
# inline <script>; the one exception is a nonce, which only the Swagger UI page at /api/docs/ asks for. Inline style
# *attributes* stay allowed (style-src-attr): progress bars set their width from the data; a style attribute cannot
# run code, and <style> elements are still refused.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "style-src-elem": [CSP.SELF, CSP.NONCE],
    "style-src-attr": [CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Language and time ----------------------------------------------------------------------------------------------
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
# Day-first dates and a 24-hour clock in English too (clientdesk/formats/en).
FORMAT_MODULE_PATH = ["clientdesk.formats"]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Moscow")
USE_TZ = True

# --- Static files: Bootstrap and HTMX come from npm (node_modules), never from a CDN ---------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", BASE_DIR / "node_modules" / "bootstrap" / "dist"),
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Cache: Redis when there is one (shared by every web process: API-key throttling), else a folder under var/ -----
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "clientdesk",
            # A silent Redis must not hold a request: the callers treat a cache error as a miss.
            "OPTIONS": {"socket_timeout": 1, "socket_connect_timeout": 1},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": VAR_DIR / "cache",
            # Sessions and users live here too: Django's default of 300 entries would drop signed-in people at random.
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        }
    }
# Per process, for what every process can draw alike and nothing invalidates but a deploy: base.html's bar for each
# role and language, its user menu for each person too, the assets' addresses.
CACHES["local"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "clientdesk-local",
    "OPTIONS": {"MAX_ENTRIES": 5_000},
}

# --- REST API -------------------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.HasCapability"],
    # DRF's two, its JSON writing a lean list's page in C (clientdesk.renderers.JSONRenderer).
    "DEFAULT_RENDERER_CLASSES": ["clientdesk.renderers.JSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"],
    # django-filter, strict about values the pages forgive (clientdesk.api_filters).
    "DEFAULT_FILTER_BACKENDS": ["clientdesk.api_filters.StrictFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "clientdesk.pagination.IdCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "clientdesk.api.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "clientdesk.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_METADATA_CLASS": "clientdesk.metadata.ApiMetadata",
    "DEFAULT_THROTTLE_RATES": {},
}
FILTERS_EMPTY_CHOICE_LABEL = _("— any —")
SPECTACULAR_SETTINGS = {
    "TITLE": "ClientDesk API",
    "DESCRIPTION": "Clients, vehicles and the call log of the client-service department. "
    "Authenticate with `Authorization: Api-Key <key>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["accounts.permissions.HasCapability"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Bodies are documented as JSON: a form body cannot carry a client's nested phones or a bulk's records. An
    # operation that takes a file says multipart itself (extend_schema(request={...})).
    "PARSER_WHITELIST": ["clientdesk.parsers.SafeJSONParser"],
    # drf-spectacular's own hook first (enums), then the error answers every operation can give.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "clientdesk.openapi.document_error_answers",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ClientKindEnum": "clients.models.Client.Kind",
        "PhoneKindEnum": "clients.models.ClientPhone.Kind",
        "ClientSourceEnum": "clients.models.Client.Source",
        "BookingSourceEnum": "bookings.models.Booking.Source",
        "TaskOutcomeEnum": "calls.models.TaskOutcome",
        "CallOutcomeEnum": "calls.models.Call.Outcome",
        "ClaimKindEnum": "claims.models.Claim.Kind",
        "ClaimOutcomeEnum": "claims.models.Claim.Outcome",
        "ClaimDepartmentEnum": "claims.models.Claim.Department",
        "DocumentKindEnum": "documents.models.Document.Kind",
        "DocumentStateEnum": "documents.models.Document.State",
    },
}

# The reception's desks (reception/): a tow order not dispatched this many minutes after it was taken is flagged on
# the dispatch board; tinting that leaves the windshield or a front side window below this light transmission (in %,
# glass included) is against the technical regulation and the consultation records the warning given.
TOW_DISPATCH_MINUTES = int(os.environ.get("TOW_DISPATCH_MINUTES", "15"))
TINT_MIN_LIGHT_TRANSMISSION = int(os.environ.get("TINT_MIN_LIGHT_TRANSMISSION", "70"))

# The paper of a car sale (documents/): the handover act, waybill and sale contract signed within this many working
# days of the handover, or the head is told.
PAPERS_DUE_WORKING_DAYS = int(os.environ.get("PAPERS_DUE_WORKING_DAYS", "3"))

# The fleet (fleet/): a car stays held this long after it is due back, to be checked, washed and refuelled before the
# next client (the slot picker's "needs a loaner" counts it too).
LOANER_RETURN_BUFFER_MINUTES = int(os.environ.get("LOANER_RETURN_BUFFER_MINUTES", "60"))
TEST_DRIVE_RETURN_BUFFER_MINUTES = int(os.environ.get("TEST_DRIVE_RETURN_BUFFER_MINUTES", "15"))

# Uploaded files (claim scans, damage photos): kept under MEDIA_ROOT with generated names and handed out only by the
# views that check who may see them (nothing under MEDIA_ROOT is served as a static file). UPLOAD_MAX_MB caps each.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
UPLOAD_MAX_MB = float(os.environ.get("UPLOAD_MAX_MB", "10"))
FILE_UPLOAD_PERMISSIONS = 0o640

# The dealership as the printed documents name it (claim letters, handover acts, contracts, registries).
DEALERSHIP = {
    "name": os.environ.get("DEALERSHIP_NAME", "ООО «Автоцентр»"),
    "address": os.environ.get("DEALERSHIP_ADDRESS", "г. Москва, ул. Примерная, д. 1"),
    "phone": os.environ.get("DEALERSHIP_PHONE", "+7 495 000-00-00"),
    "inn": os.environ.get("DEALERSHIP_INN", "7700000000"),
    "director": os.environ.get("DEALERSHIP_DIRECTOR", "И. И. Иванов"),
}

# --- Celery ---------------------------------------------------------------------------------------------------------
# A Redis that accepts connections but does not answer (hung, paused, a half-open connection) must not hold anyone
# forever: workers and beat give up on a silent broker after BROKER_SOCKET_TIMEOUT seconds, and a web request that
# queues a task after ENQUEUE_TIMEOUT seconds (send_after_commit logs it; the planners catch up).
BROKER_SOCKET_TIMEOUT = float(os.environ.get("BROKER_SOCKET_TIMEOUT", "5"))
ENQUEUE_TIMEOUT = float(os.environ.get("ENQUEUE_TIMEOUT", "1"))
CELERY_FILESYSTEM_DIR = VAR_DIR / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A message a dead worker held comes back after this long; the planners catch up meanwhile. Keep it above
        # the longest task time limit.
        "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600")),
        # A web request that queues a task never waits for a Redis that is down (send_after_commit logs it).
        "max_retries": 0,
        "socket_timeout": BROKER_SOCKET_TIMEOUT,
        "socket_connect_timeout": BROKER_SOCKET_TIMEOUT,
    }
    CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_SOCKET_TIMEOUT
    CELERY_REDIS_SOCKET_TIMEOUT = BROKER_SOCKET_TIMEOUT
    CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = BROKER_SOCKET_TIMEOUT
else:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_RESULT_BACKEND = f"file://{CELERY_FILESYSTEM_DIR / 'results'}"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_FILESYSTEM_DIR / "queue"),
        "data_folder_out": str(CELERY_FILESYSTEM_DIR / "queue"),
        "control_folder": str(CELERY_FILESYSTEM_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 120
CELERY_TASK_TIME_LIMIT = 180
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Every periodic job, in one place. `expires` keeps a backlog (a worker down for hours) from running one job many times.
CELERY_BEAT_SCHEDULE = {
    "clear-expired-sessions": {
        "task": "accounts.tasks.clear_expired_sessions",
        "schedule": 6 * 3600,
        "options": {"expires": 3600},
    },
    "heartbeat": {
        "task": "clientdesk.tasks.heartbeat",
        "schedule": 60,
        "options": {"expires": 50},
    },
    "plan-calls": {
        "task": "calls.tasks.plan_calls",
        "schedule": int(os.environ.get("CALL_PLANNING_SECONDS", "300")),
        "options": {"expires": 240},
    },
    "finish-campaigns": {
        "task": "calls.tasks.finish_campaigns",
        "schedule": 1800,
        "options": {"expires": 1500},
    },
    "release-stale-call-claims": {
        "task": "calls.tasks.release_stale_claims",
        "schedule": 600,
        "options": {"expires": 540},
    },
    "send-notification-emails": {
        "task": "clientdesk.tasks.send_notification_emails",
        "schedule": 60,
        "options": {"expires": 55},
    },
    "purge-form-tokens": {
        "task": "clientdesk.tasks.purge_form_tokens",
        "schedule": 3600,
        "options": {"expires": 3000},
    },
    # Old export files go; a queued export whose message was lost is queued again (reports.services.exports).
    "purge-exports": {
        "task": "reports.tasks.purge_exports",
        "schedule": 300,
        "options": {"expires": 240},
    },
    "mail-weekly-report": {
        "task": "reports.tasks.mail_weekly_report",
        "schedule": 3600,
        "options": {"expires": 3000},
    },
    "refresh-rollups": {
        "task": "reports.tasks.refresh_rollups",
        "schedule": 3600,
        "options": {"expires": 3000},
    },
    # Claims due within two working days or overdue: the assignee and the head told once per claim and state.
    "watch-claim-deadlines": {
        "task": "claims.tasks.watch_claim_deadlines",
        "schedule": 900,
        "options": {"expires": 840},
    },
    # Loaners and demo cars out past their return time: flagged once each, the calls app makes one callback task.
    "flag-overdue-loaners": {
        "task": "fleet.tasks.flag_overdue_returns",
        "schedule": 300,
        "options": {"expires": 240},
    },
    # A sale's papers not signed within PAPERS_DUE_WORKING_DAYS, and mail not handed over after a day: the head told
    # once each.
    "flag-late-papers": {
        "task": "documents.tasks.flag_late_papers",
        "schedule": 3600,
        "options": {"expires": 3000},
    },
    "flag-unhanded-mail": {
        "task": "documents.tasks.flag_unhanded_mail",
        "schedule": 3600,
        "options": {"expires": 3000},
    },
    # Webhooks whose message the broker lost (each is sent after its change commits): sent from the outbox.
    "deliver-webhooks": {
        "task": "webhooks.tasks.deliver_webhooks",
        "schedule": 60,
        "options": {"expires": 55},
    },
}

# --- Mail: console in development, SMTP from the environment in production -----------------------------------------
MAILERS = {
    "default": {
        "BACKEND": os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"),
        "OPTIONS": {
            key: value
            for key, value in {
                "host": os.environ.get("EMAIL_HOST"),
                "port": int(os.environ["EMAIL_PORT"]) if os.environ.get("EMAIL_PORT") else None,
                "username": os.environ.get("EMAIL_HOST_USER"),
                "password": os.environ.get("EMAIL_HOST_PASSWORD"),
                "use_tls": env_bool("EMAIL_USE_TLS") or None,
            }.items()
            if value is not None
        },
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "clientdesk@localhost")
# The address staff open ClientDesk at, for links in e-mails (none when unset).
SITE_URL = os.environ.get("SITE_URL", "")

# --- The business calendar (one place every rule asks) --------------------------------------------------------------
CLIENTDESK = {
    "CALLING_WINDOW": ("09:00", "21:00"),
    "WORKING_WEEKDAYS": [0, 1, 2, 3, 4, 5],  # Monday..Saturday
    "SEARCH_MIN_DIGITS": 3,
    "SEARCH_LIMIT": 20,
    "DEFAULT_PHONE_REGION": "RU",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # clientdesk.security: sign-ins, failures, lockouts, unlocks, password resets, API-key failures (never a password
    # or a key). Route it to its own handler in production if the security log is kept apart.
    # django-axes repeats what clientdesk.security says (with the names starred out); its errors still show.
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "clientdesk.security": {"level": "INFO"},
        "axes": {"level": "ERROR"},
    },
}
