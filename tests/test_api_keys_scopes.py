"""API keys with scopes and their own rate: a key limited to reading clients reads them and is refused the rest
(403, logged); past its requests a minute a key is answered 429 with Retry-After while other keys go on; the head
gives scopes and a rate on the user's page."""

import json
import logging

import pytest
from django.test.utils import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ApiKey
from accounts.services.users import api_key_create
from clients.models import Client
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def api_for(raw: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return api


def test_a_key_reads_what_its_scopes_allow_and_is_refused_the_rest(integration, head, caplog):
    ClientFactory()
    _key, raw = api_key_create(user=integration, name="Чтение", by=head, scopes=["view_clients"])
    api = api_for(raw)

    with caplog.at_level(logging.INFO, logger="clientdesk.security"):
        assert api.get("/api/v1/clients/").status_code == 200
        assert api.get("/api/v1/bookings/").status_code == 403
        body = {"records": [{"dms_id": "C-1", "name": "Новый Клиент"}]}
        write = api.post("/api/v1/clients/bulk/", json.dumps(body), content_type="application/json")

    assert write.status_code == 403
    assert Client.objects.count() == 1
    assert "API key used" in caplog.text
    assert "outside its scopes" in caplog.text and "needs=edit_clients" in caplog.text


def test_a_key_without_scopes_may_do_all_its_user_may(integration, head):
    _key, raw = api_key_create(user=integration, name="Всё", by=head)
    api = api_for(raw)
    body = {"records": [{"dms_id": "C-1", "name": "Новый Клиент"}]}
    assert api.post("/api/v1/clients/bulk/", json.dumps(body), content_type="application/json").status_code == 200
    assert api.get("/api/v1/bookings/").status_code == 200


def test_past_its_rate_a_key_gets_429_with_retry_after_and_other_keys_go_on(integration, head, caplog):
    _slow, raw = api_key_create(user=integration, name="Медленный", by=head, rate_per_minute=3)
    _other, other_raw = api_key_create(user=integration, name="Другой", by=head)
    api = api_for(raw)

    codes = [api.get("/api/v1/clients/").status_code for _ in range(4)]
    refused = api.get("/api/v1/clients/")

    assert codes == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "detail" in refused.json()
    assert api_for(other_raw).get("/api/v1/clients/").status_code == 200
    assert "over its rate" in caplog.text


@pytest.mark.parametrize("scopes", [["manage_users"], ["nonsense"]])
def test_a_scope_the_user_cannot_have_is_refused(integration, head, scopes):
    with pytest.raises(Exception, match="scope"):
        api_key_create(user=integration, name="Лишнее", by=head, scopes=scopes)
    assert not ApiKey.objects.exists()


def test_the_head_gives_scopes_and_a_rate_on_the_users_page(web, head, integration):
    web.force_login(head)
    response = web.post(
        reverse("accounts:apikey-create", args=[integration.pk]),
        {"name": "DMS", "scopes": ["view_clients", "edit_clients"], "rate_per_minute": "120"},
    )
    assert response.status_code == 200
    key = ApiKey.objects.get()
    assert (key.scopes, key.rate_per_minute) == (["edit_clients", "view_clients"], 120)
    page = web.get(reverse("accounts:user-detail", args=[integration.pk])).content.decode()
    assert "edit_clients, view_clients" in page


def test_on_the_file_cache_a_key_request_writes_no_file_and_its_rate_holds(integration, head, tmp_path):
    """The embedded default's file cache writes a file and lists its whole folder on every write: API-key counts are
    kept in the process's memory there."""
    _key, raw = api_key_create(user=integration, name="DMS", by=head, rate_per_minute=2)
    files = {
        "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": str(tmp_path)},
        "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "file-cache-test"},
        "none": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }
    with override_settings(CACHES=files):
        codes = [api_for(raw).get("/api/v1/clients/").status_code for _ in range(3)]
        assert [api_for("cd_deadbeef_wrong").get("/api/v1/clients/").status_code for _ in range(2)] == [401, 401]
    assert codes == [200, 200, 429]
    assert list(tmp_path.iterdir()) == []
