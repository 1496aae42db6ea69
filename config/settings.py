"""Linkage settings: one module, every value from the environment.

Defaults are for a developer's machine (SQLite, a brokerless Celery transport, console email).
Production sets the variables documented in README.md; `manage.py check --deploy` then
prints no warnings, and the WSGI entry point refuses to start without a real SECRET_KEY.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

# A key from the environment is the only acceptable one in production (config/wsgi.py and
# the deploy check enforce it). Without one, development keeps a random key in var/ so
# sessions survive restarts, and tests get a throwaway key.
SECRET_KEY_FROM_ENV = "SECRET_KEY" in env
if SECRET_KEY_FROM_ENV:
    SECRET_KEY = env.str("SECRET_KEY")
elif DEBUG:
    _key_file = VAR_DIR / "dev-secret-key"
    if not _key_file.exists():
        _key_file.write_text(secrets.token_urlsafe(64))
    SECRET_KEY = _key_file.read_text().strip()
else:
    SECRET_KEY = secrets.token_urlsafe(64)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "config.apps.LinkageAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "guardian",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "config.apps.ConfigConfig",
    "audit",
    "organizations",
    "apikeys",
    "directory",
    "consent",
    "clients",
    "outreach",
    "assessments",
    "referrals",
    "metrics",
    "payments",
    "api",
    "interop",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.request_id.RequestIdMiddleware",
    # Early, so that every answer below it (lockouts, 2FA redirects, errors) gets the headers.
    "config.middleware.NoStoreMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the signed-in user's choice, else the browser's (Accept-Language).
    "django.middleware.locale.LocaleMiddleware",
    # Before CommonMiddleware, whose APPEND_SLASH would otherwise redirect (or refuse) them.
    "config.middleware.OptionalTrailingSlashMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # The signed-in user's chosen language over the browser's (LocaleMiddleware above).
    "organizations.middleware.UserLanguageMiddleware",
    "organizations.middleware.TwoFactorMiddleware",
    "organizations.middleware.ActiveOrganizationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that a lockout answers before any view runs.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "organizations.context_processors.active_organization",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Tests that start real worker processes need the test database on disk.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # Take the write lock when a transaction begins: SQLite cannot upgrade a read lock
    # while another writer waits, and would answer "database is locked" at once instead
    # of letting the second of two simultaneous clicks wait and see the first one's result.
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://linkage")}

AUTH_USER_MODEL = "organizations.User"
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out login before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Idle timeout: the session cookie's age is renewed on every request, so it expires only
# after this long without activity.
SESSION_IDLE_TIMEOUT_MINUTES = env.int("SESSION_IDLE_TIMEOUT_MINUTES", default=15)
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Lockout (django-axes): this many failures for one account from one address lock it.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# And this many failures from one address across accounts lock the address (password
# spraying): Linkage's own rule, applied by organizations.lockout.LockoutHandler.
AXES_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=20)
AXES_HANDLER = "organizations.lockout.LockoutHandler"
AXES_USERNAME_FORM_FIELD = "username"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=0) or None

OTP_TOTP_ISSUER = "Linkage"

# Production security: on by default unless DEBUG; each may be set from the environment.
SECURE = not DEBUG
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=SECURE)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=SECURE)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy (django-csp): scripts and styles only from Linkage's own static
# files, no inline <script>, event handler attribute or style attribute (tests/config/
# test_headers.py checks the templates). htmx's own indicator <style> is turned off in
# base.html's htmx-config; its CSS is in static/css/linkage.css. The Swagger page is public,
# carries no client data, and is drf-spectacular's with its inline script: left without one.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/docs/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

LANGUAGE_CODE = "en-us"
LANGUAGES = [("en", "English"), ("es", "Español")]
TIME_ZONE = env.str("TIME_ZONE", default="America/Chicago")
USE_I18N = True
# The Spanish catalogue (compiled at build time: `make` runs compilemessages).
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Email: console by default; production sets EMAIL_URL (smtp://user:pass@host:587).
vars().update(env.email("EMAIL_URL", default="consolemail://"))
# The site's address as people reach it, for links in emails.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# Texts to clients (outreach/): the SMS backend (a dotted path: the console backend in
# development, outreach.sms.TwilioBackend in production) and the provider's settings.
OUTREACH_SMS_BACKEND = env.str("OUTREACH_SMS_BACKEND", default="outreach.sms.ConsoleBackend")
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
# Tests point this at a local fake of Twilio's API; production leaves it unset.
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Linkage <linkage@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery. Without a broker URL, kombu's filesystem transport: no server to run.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _celery_dir = Path(env.str("CELERY_FILESYSTEM_DIR", default=str(VAR_DIR / "celery")))
    for _sub in ("queue", "processed", "control"):
        (_celery_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        "processed_folder": str(_celery_dir / "processed"),
        # Worker remote-control messages; kombu's default is ./control in the working dir.
        "control_folder": str(_celery_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
HEARTBEAT_INTERVAL_SECONDS = env.float("HEARTBEAT_INTERVAL_SECONDS", default=60.0)
# Reminders (referrals/reminders/): how often beat sweeps for what is due, how many rows a
# sweep takes per batch, and the local hour of the daily digest emails.
REMINDER_SWEEP_SECONDS = env.float("REMINDER_SWEEP_SECONDS", default=300.0)
REMINDER_BATCH_SIZE = env.int("REMINDER_BATCH_SIZE", default=500)
REMINDER_DIGEST_HOUR = env.int("REMINDER_DIGEST_HOUR", default=7)
# Measures (metrics/): breakdown cells with counts from 1 to THRESHOLD-1 show as "<THRESHOLD";
# a queued or running recomputation with no sign of life for STALE minutes (its message lost,
# its worker killed) no longer blocks a new one.
METRICS_SUPPRESSION_THRESHOLD = env.int("METRICS_SUPPRESSION_THRESHOLD", default=11)
METRICS_ROLLUP_STALE_MINUTES = env.float("METRICS_ROLLUP_STALE_MINUTES", default=30.0)
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {
        "task": "organizations.tasks.heartbeat",
        "schedule": HEARTBEAT_INTERVAL_SECONDS,
    },
    # Before the rollup, so the day's completed pathways are counted.
    "check-pathways-nightly": {
        "task": "payments.tasks.check_pathways",
        "schedule": crontab(hour=1, minute=45),
    },
    "metrics-rollup-nightly": {
        "task": "metrics.tasks.rollup_nightly",
        "schedule": crontab(hour=2, minute=15),
    },
    # Dashboards fresh within a minute: the recorded changes applied to their cells (the
    # nightly full recompute stays as the safety net and reports any disagreement).
    "metrics-rollup-incremental": {
        "task": "metrics.tasks.rollup_incremental",
        "schedule": 60.0,
    },
    "sweep-reminders": {
        "task": "referrals.tasks.sweep_reminders",
        "schedule": REMINDER_SWEEP_SECONDS,
    },
    "send-daily-digests": {
        "task": "referrals.tasks.send_daily_digests",
        "schedule": crontab(minute=0, hour=REMINDER_DIGEST_HOUR),
    },
    # Texts and emails to clients that are due (quiet hours over) and not yet sent.
    "sweep-outreach-messages": {
        "task": "outreach.tasks.sweep_messages",
        "schedule": REMINDER_SWEEP_SECONDS,
    },
}

REST_FRAMEWORK = {
    # Bearer first: an unauthenticated request is then told (401) how to authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apikeys.authentication.BearerKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.LinkageAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "api.pagination.IdCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["apikeys.throttling.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api": env.str("API_THROTTLE_RATE", default="120/min")},
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Linkage API",
    "DESCRIPTION": "Closed-loop referrals between health care and community-based "
    "organizations. Authenticate with `Authorization: Bearer <API key>`; send an "
    "`Idempotency-Key` header on POST to make retries safe.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False
ANONYMOUS_USER_NAME = None

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.request_id.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's request logger names paths (never query strings); paths carry ids only.
        "django.request": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # Twilio's client logs each request's query parameters and headers at INFO: they
        # can hold a client's number.
        "twilio": {"level": "WARNING"},
    },
}
ADMINS = [("Ops", a) for a in env.list("ADMIN_EMAILS", default=[])]
DEFAULT_EXCEPTION_REPORTER_FILTER = "config.error_reports.PHISafeExceptionReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "config.error_reports.PHISafeExceptionReporter"

# FHIR R4 (interop/fhir): the canonical URL under which Linkage names its own code systems
# (referral outcomes, release categories...). Set it once to an address the network
# controls; integrations store these system URLs, so it must not change afterwards.
FHIR_CANONICAL_BASE = env.str("FHIR_CANONICAL_BASE", default="https://linkage.invalid/fhir")
# The largest FHIR request body read (bytes); a larger one is refused with 413 before it is
# read. Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MiB unless set) caps request bodies too,
# so raising this past it needs that raised as well.
FHIR_MAX_BODY_BYTES = env.int("FHIR_MAX_BODY_BYTES", default=2_621_440)

# Outbound webhooks and FHIR subscriptions (interop/webhooks, interop/subscriptions).
# Targets on loopback, private, link-local, multicast or reserved addresses are refused
# (no SSRF) unless this is set, which only a developer's machine or a test may do (the
# deploy check refuses it without DEBUG). Production also requires https targets.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False)
WEBHOOK_REQUIRE_HTTPS = env.bool("WEBHOOK_REQUIRE_HTTPS", default=not DEBUG)
WEBHOOK_CONNECT_TIMEOUT_SECONDS = env.float("WEBHOOK_CONNECT_TIMEOUT_SECONDS", default=5.0)
WEBHOOK_READ_TIMEOUT_SECONDS = env.float("WEBHOOK_READ_TIMEOUT_SECONDS", default=10.0)
# Retries: after attempt n the next waits BASE * 2^(n-1) seconds (at most MAX_DELAY), for
# up to WINDOW hours after the event and at most MAX_ATTEMPTS attempts.
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=60.0)
WEBHOOK_RETRY_MAX_DELAY_SECONDS = env.float("WEBHOOK_RETRY_MAX_DELAY_SECONDS", default=10800.0)
WEBHOOK_RETRY_WINDOW_HOURS = env.float("WEBHOOK_RETRY_WINDOW_HOURS", default=24.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=20)
# An endpoint (or subscription) is disabled, and its org admins told, once this many
# attempts in a row failed over more than this many hours.
WEBHOOK_DISABLE_AFTER_FAILURES = env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=15)
WEBHOOK_DISABLE_AFTER_HOURS = env.float("WEBHOOK_DISABLE_AFTER_HOURS", default=24.0)
# The sweep re-queues deliveries whose broker message was lost, re-announces the changes
# of the last few minutes (a crash between a commit and its announcement), and deletes
# finished deliveries older than the retention.
WEBHOOK_SWEEP_SECONDS = env.float("WEBHOOK_SWEEP_SECONDS", default=60.0)
WEBHOOK_LOG_RETENTION_DAYS = env.int("WEBHOOK_LOG_RETENTION_DAYS", default=30)
CELERY_BEAT_SCHEDULE["sweep-webhooks"] = {
    "task": "interop.tasks.sweep_deliveries",
    "schedule": WEBHOOK_SWEEP_SECONDS,
}
