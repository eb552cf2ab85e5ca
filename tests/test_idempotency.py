"""API POSTs with an Idempotency-Key are carried out once: a retry after a timeout gets the first answer back."""

import json
import logging
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services.users import api_key_create
from clientdesk.models import IdempotencyKey
from clientdesk.tasks import purge_form_tokens
from clients.models import Client
from tests.concurrency import run_at_once

BODY = {"name": "Иван Петров", "kind": "person", "phones": [{"number": "89123456789"}]}


def post(api, key: str | None, body: dict = BODY):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.post("/api/v1/clients/", json.dumps(body), content_type="application/json", **headers)


@pytest.mark.django_db
def test_a_retry_with_the_same_key_gets_the_first_answer_and_writes_nothing(dms_api):
    first = post(dms_api, "sync-2026-12-06-0001")

    again = post(dms_api, "sync-2026-12-06-0001")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Client.objects.count() == 1


@pytest.mark.django_db
def test_without_a_key_each_post_is_its_own(dms_api):
    post(dms_api, None)
    post(dms_api, None)

    assert Client.objects.count() == 2
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_refused_with_422(dms_api):
    post(dms_api, "k-1")

    other = post(dms_api, "k-1", {**BODY, "name": "Пётр Иванов"})

    assert other.status_code == 422
    assert "Idempotency-Key" in other.json()["detail"]
    assert list(Client.objects.values_list("name", flat=True)) == ["Иван Петров"]


@pytest.mark.django_db
def test_a_refusal_is_replayed_too_and_changes_nothing(dms_api):
    bad = {"name": "", "kind": "person"}

    first, again = post(dms_api, "k-bad", bad), post(dms_api, "k-bad", bad)

    assert first.status_code == again.status_code == 400
    assert again.json() == first.json()
    assert not Client.objects.exists()


@pytest.mark.django_db
def test_keys_belong_to_their_user(dms_api, integration, head):
    _key, raw = api_key_create(user=integration, name="second system", by=head)
    post(dms_api, "shared-name")
    staff = APIClient()
    staff.force_authenticate(head)

    post(staff, "shared-name")

    assert Client.objects.count() == 2


@pytest.mark.django_db
def test_a_key_past_its_day_is_forgotten_and_purged(dms_api):
    post(dms_api, "old")
    IdempotencyKey.objects.update(created_at=timezone.now() - IdempotencyKey.KEEP - timedelta(minutes=1))

    assert post(dms_api, "old").status_code == 201  # runs again: the day is over
    assert Client.objects.count() == 2
    IdempotencyKey.objects.update(created_at=timezone.now() - IdempotencyKey.KEEP - timedelta(minutes=1))
    assert purge_form_tokens() == 1
    assert not IdempotencyKey.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_racing_retries_with_one_key_create_one_client(integration, head):
    _key, raw = api_key_create(user=integration, name="DMS", by=head)

    def push(_n: int) -> tuple[int, str | None]:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
        response = post(api, "race-1")
        return response.status_code, response.get("Idempotent-Replayed")

    answers, errors = run_at_once(6, push)

    assert errors == []
    assert sorted(answers, key=str) == sorted([(201, None)] + [(201, "true")] * 5, key=str)
    assert Client.objects.count() == 1


@pytest.mark.django_db
def test_a_wrong_key_with_an_idempotency_key_is_refused_once_and_counted_once(caplog):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Api-Key cd_00000000_wrong")

    with caplog.at_level(logging.WARNING, logger="clientdesk.security"):
        response = post(api, "k-anon")

    assert response.status_code == 401
    assert len([r for r in caplog.records if "API key refused" in r.getMessage()]) == 1
    assert not IdempotencyKey.objects.exists() and not Client.objects.exists()
