from datetime import datetime

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client as DjangoTestClient
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.roles import Role
from accounts.services.users import api_key_create
from clientdesk import caching
from tests.factories import UserFactory


def pytest_collection_modifyitems(config, items):
    """`postgres` tests need PostgreSQL; `redis` tests need REDIS_URL. On the embedded default they are skipped,
    loudly (-ra prints the reason), never silently passed."""
    import os

    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    has_redis = bool(os.environ.get("REDIS_URL"))
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL (CI does)"))
        if "redis" in item.keywords and not has_redis:
            item.add_marker(pytest.mark.skip(reason="needs Redis: set REDIS_URL (CI does)"))


@pytest.fixture
def manager(db):
    return UserFactory(username="manager", role=Role.MANAGER, first_name="Мария", last_name="Смирнова")


@pytest.fixture
def head(db):
    return UserFactory(username="head", role=Role.HEAD, first_name="Ольга", last_name="Иванова")


@pytest.fixture
def advisor(db):
    return UserFactory(username="advisor", role=Role.ADVISOR)


@pytest.fixture
def transport_head(db):
    return UserFactory(username="transport", role=Role.TRANSPORT_HEAD)


@pytest.fixture
def integration(db):
    user = UserFactory(username="dms", role=Role.INTEGRATION)
    user.set_unusable_password()
    user.save()
    return user


@pytest.fixture
def workshop_mgmt(db):
    return UserFactory(username="workshop-mgmt", role=Role.WORKSHOP_MANAGEMENT, first_name="Павел", last_name="Орлов")


@pytest.fixture
def sales_mgmt(db):
    return UserFactory(username="sales-mgmt", role=Role.SALES_MANAGEMENT, first_name="Ирина", last_name="Белова")


@pytest.fixture
def legal(db):
    return UserFactory(username="legal", role=Role.LEGAL, first_name="Антон", last_name="Юрьев")


@pytest.fixture
def users(manager, head, advisor, transport_head, workshop_mgmt, sales_mgmt, legal, integration):
    """One user of every role, by the role's value."""
    return {
        "manager": manager,
        "head": head,
        "advisor": advisor,
        "transport_head": transport_head,
        "workshop_mgmt": workshop_mgmt,
        "sales_mgmt": sales_mgmt,
        "legal": legal,
        "integration": integration,
    }


@pytest.fixture
def web():
    """A browser-like client; log in with `web.force_login(user)`."""
    return DjangoTestClient()


def _logged_in(user):
    client = DjangoTestClient()
    client.force_login(user)
    return client


@pytest.fixture
def as_manager(manager):
    return _logged_in(manager)


@pytest.fixture
def as_head(head):
    return _logged_in(head)


@pytest.fixture
def api_as_manager(manager):
    client = APIClient()
    client.force_authenticate(manager)
    return client


@pytest.fixture
def dms_api(integration, head):
    """The DMS as it really calls: with an API key in the Authorization header."""
    _key, raw = api_key_create(user=integration, name="DMS", by=head)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture
def celery_eager():
    """Run tasks in-process, for tests of what a task does; the real worker is exercised in test_celery_and_run."""
    from clientdesk.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture(autouse=True)
def _english_messages():
    """Messages raised outside a request read in English in assertions; pages choose their language per request
    (Accept-Language or the switch), as in production."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _default_working_week(request):
    """The regular week a migration creates. A transactional test empties every table when it ends, migration data
    included, so tests after it would find the workshop closed all week; put the week back for tests that use
    the database."""
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    if marker is None and not names & {"db", "transactional_db"}:
        yield
        return
    transactional = (marker is not None and marker.kwargs.get("transaction")) or "transactional_db" in names
    request.getfixturevalue("transactional_db" if transactional else "db")
    from datetime import time

    from clientdesk.models import WorkingHours

    if not WorkingHours.objects.exists():
        week = {day: (time(8), time(20)) for day in range(5)} | {5: (time(9), time(18))}
        WorkingHours.objects.bulk_create(
            WorkingHours(weekday=day, opens=opens, closes=closes) for day, (opens, closes) in week.items()
        )
    yield


@pytest.fixture
def travel(monkeypatch):
    """Set the clock to a moment (a visit's day, say) for the rest of the test: `travel(moment(day, 8))`."""

    def go(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return go


@pytest.fixture
def auth_cache():
    """The shared cache as production has it for sessions, users, API keys and the calendar (the test settings make it
    always miss), emptied before and after."""
    cache = caches["default"]
    cache.clear()
    caching._paused_until = 0.0
    with override_settings(SESSION_CACHE_ALIAS="default"):
        yield cache
    cache.clear()
    caching._paused_until = 0.0
