"""An API key comes from the shared cache, as sessions and users do (accounts.key_cache): once cached, a request
with a key asks the database nothing about the key or its user; a revocation, new scopes or a deactivation still end
what they end on the key's next request."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.key_cache import key_cache_key
from accounts.models import ApiKey
from accounts.roles import Capability, Role
from accounts.services.users import api_key_create, api_key_revoke, user_update
from clientdesk import caching

pytestmark = pytest.mark.django_db

LIST = "/api/v1/clients/"


def with_key(raw: str) -> APIClient:
    return APIClient(HTTP_AUTHORIZATION=f"Api-Key {raw}")


def sql_of(api: APIClient, expected: int = 200) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert api.get(LIST).status_code == expected
    return [q["sql"] for q in queries.captured_queries]


def about_keys_or_users(sql: list[str]) -> list[str]:
    return [q for q in sql if "accounts_apikey" in q or "accounts_user" in q]


def test_once_cached_a_request_asks_the_database_nothing_about_its_key(auth_cache, integration, head):
    _key, raw = api_key_create(user=integration, name="DMS", by=head)
    api = with_key(raw)
    # given: the first request read the key and its user together, and wrote its last use
    first = sql_of(api)
    assert len([q for q in first if "accounts_apikey" in q]) == 2
    # when / then: the next one reads neither
    assert about_keys_or_users(sql_of(api)) == []


def test_without_the_cache_the_key_and_its_user_are_one_query_as_before(integration, head):
    _key, raw = api_key_create(user=integration, name="DMS", by=head)
    api = with_key(raw)
    api.get(LIST)
    assert len(about_keys_or_users(sql_of(api))) == 1


def test_a_revoked_key_is_refused_on_its_next_request(auth_cache, integration, head):
    key, raw = api_key_create(user=integration, name="DMS", by=head)
    api = with_key(raw)
    assert api.get(LIST).status_code == 200
    api_key_revoke(key=key, by=head)
    assert api.get(LIST).status_code == 401


def test_a_request_that_read_the_key_before_its_revocation_cannot_put_it_back(auth_cache, integration, head):
    key, raw = api_key_create(user=integration, name="DMS", by=head)
    api = with_key(raw)
    assert api.get(LIST).status_code == 200
    row = auth_cache.get(key_cache_key(key.digest))
    api_key_revoke(key=key, by=head)
    # what a request in flight that read the key just before would write
    caching.cache_set(key_cache_key(key.digest), row, caching.timeout(), only_if_absent=True)
    assert api.get(LIST).status_code == 401


def test_narrower_scopes_hold_on_the_next_request(auth_cache, integration, head):
    key, raw = api_key_create(user=integration, name="DMS", by=head)
    api = with_key(raw)
    assert api.get(LIST).status_code == 200
    key.scopes = [Capability.VIEW_BOOKINGS]
    key.save(update_fields=["scopes"])
    assert api.get(LIST).status_code == 403


def test_deactivating_the_user_ends_its_keys_and_reactivating_it_does_not_bring_them_back(
    auth_cache, integration, head
):
    _key, raw = api_key_create(user=integration, name="DMS", by=head)
    api = with_key(raw)
    assert api.get(LIST).status_code == 200
    user_update(user=integration, by=head, is_active=False)
    assert api.get(LIST).status_code == 401
    user_update(user=integration, by=head, is_active=True)
    assert api.get(LIST).status_code == 401


def test_a_role_change_of_the_keys_user_shows_on_the_next_request(auth_cache, integration, head):
    _key, raw = api_key_create(user=integration, name="DMS", by=head)
    api = with_key(raw)
    assert api.post(LIST, {}, format="json").status_code == 400  # may write clients: the empty body is refused
    user_update(user=integration, by=head, role=Role.ADVISOR)  # an advisor may not write clients
    assert api.post(LIST, {}, format="json").status_code == 403


def test_the_last_use_is_written_once_a_minute_not_per_request(auth_cache, integration, head):
    key, raw = api_key_create(user=integration, name="DMS", by=head)
    api = with_key(raw)
    writes = [q for q in sql_of(api) if q.startswith("UPDATE")]
    assert len(writes) == 1
    key.refresh_from_db()
    assert key.last_used_at is not None
    assert [q for q in sql_of(api) if q.startswith("UPDATE")] == []


def test_a_wrong_key_is_never_cached(auth_cache, integration, head):
    _key, raw = api_key_create(user=integration, name="DMS", by=head)
    wrong = raw[:-4] + "xxxx"
    assert with_key(wrong).get(LIST).status_code == 401
    assert auth_cache.get(key_cache_key(ApiKey.digest_of(wrong))) is None
