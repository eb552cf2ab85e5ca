"""Who may open what in the reports app: every page and endpoint, anonymous and each role; refused writes change
nothing; and every route under reports/ is in this matrix (the central matrix leaves reports/ to it)."""

import pytest
from django.core.files.base import ContentFile
from django.test import Client as DjangoTestClient
from django.urls import resolve, reverse
from rest_framework.test import APIClient

from reports.models import Export, ReportRecipient
from tests.accounts.test_role_matrix import ROLES, all_routes

pytestmark = pytest.mark.django_db

DESK = {"manager", "head"}


@pytest.fixture
def objects(users, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    export = Export.objects.create(user=users["head"], list_name="calls", format="csv", rows=1)
    export.file.save("exports/test.csv", ContentFile("\ufeffa;b\n".encode()), save=True)
    return {"export": export}


def page_matrix(o):
    """(url, roles that get 200)"""
    pk = o["export"].pk
    return [
        (reverse("reports:dashboard"), {"head"}),
        (reverse("reports:mine"), DESK | {"advisor"}),  # an advisor: their arrivals and load
        (reverse("reports:export-log"), {"head"}),
        (reverse("reports:export-detail", args=[pk]), {"head"}),
        (reverse("reports:export-progress", args=[pk]), {"head"}),
        (reverse("reports:export-download", args=[pk]), {"head"}),
        (reverse("reports:daily"), {"head"}),
        (reverse("reports:weekly"), {"head"}),
        (reverse("reports:recipients"), {"head"}),
    ]


def api_matrix(o):
    return [("/api/v1/reports/dashboard/", {"head", "integration"})]


def logged_in(user):
    web = DjangoTestClient()
    web.force_login(user)
    return web


def test_anonymous_is_sent_to_sign_in_from_every_page(objects):
    web = DjangoTestClient()
    for url, _allowed in page_matrix(objects):
        response = web.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login")), url


@pytest.mark.parametrize("role", ROLES)
def test_pages_by_role(users, objects, role):
    web = logged_in(users[role])
    for url, allowed in page_matrix(objects):
        expected = 200 if role in allowed else 403
        assert web.get(url).status_code == expected, (role, url)


def test_anonymous_api_is_401_or_403(objects):
    for url, _allowed in api_matrix(objects):
        assert APIClient().get(url).status_code in (401, 403), url


@pytest.mark.parametrize("role", ROLES)
def test_api_by_role(users, objects, role):
    api = APIClient()
    api.force_authenticate(users[role])
    for url, allowed in api_matrix(objects):
        assert api.get(url).status_code == (200 if role in allowed else 403), (role, url)


@pytest.mark.parametrize("role", [r for r in ROLES if r != "head"])
def test_refused_exports_are_not_made_nor_logged(users, objects, role):
    web = logged_in(users[role])
    before = Export.objects.count()
    for url in (reverse("calls:list"), reverse("calls:head-tasks"), reverse("calls:survey-report")):
        assert web.get(url, {"export": "csv"}).status_code in (302, 403), (role, url)
    assert Export.objects.count() == before


@pytest.mark.parametrize("role", [r for r in ROLES if r != "head"])
def test_refused_report_settings_change_nothing(users, objects, role):
    web = logged_in(users[role])
    response = web.post(reverse("reports:recipients"), {"emails": "intruder@example.com"})
    assert response.status_code in (302, 403)
    assert not ReportRecipient.objects.exists()


def test_every_route_under_reports_is_in_this_matrix(objects):
    covered = {resolve(url.split("?")[0]).route for url, _ in page_matrix(objects)}
    for route in all_routes():
        if route.startswith("reports/"):
            assert route in covered, f"{route} is not in the reports role matrix"
