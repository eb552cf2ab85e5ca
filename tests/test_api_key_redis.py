"""API-key throttling on Redis, as production runs it (the other tests keep a per-process cache): a request with a
key reads its address's wrong keys and counts itself in one round trip, and the limits still hold."""

import os
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from redis.connection import Connection
from rest_framework.test import APIClient

from accounts.services.users import api_key_create, api_key_revoke, user_update

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


def redis_cache(location: str | None = None) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location or os.environ.get("REDIS_URL", ""),
            # Counts of this test only, whoever else uses the same Redis database.
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
            "OPTIONS": {"socket_timeout": 1, "socket_connect_timeout": 1},
        },
        "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "redis-test-local"},
        "none": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }


def api(raw: str, address: str = "198.51.100.7") -> APIClient:
    return APIClient(HTTP_AUTHORIZATION=f"Api-Key {raw}", REMOTE_ADDR=address)


@pytest.fixture
def round_trips(monkeypatch) -> list:
    sent = []
    send = Connection.send_packed_command

    def counted(self, command, check_health=True):
        sent.append(command)
        return send(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", counted)
    return sent


def test_a_request_with_a_key_costs_one_round_trip_to_redis_and_its_rate_holds(integration, head, round_trips):
    _key, raw = api_key_create(user=integration, name="DMS", by=head, rate_per_minute=4)
    with override_settings(CACHES=redis_cache()):
        codes = [api(raw).get("/api/v1/clients/").status_code]  # the connection's own handshake is not counted
        for _ in range(4):
            round_trips.clear()
            codes.append(api(raw).get("/api/v1/clients/").status_code)
            # before: a GET for the address's wrong keys, then an incr (EXISTS, INCR)
            assert len(round_trips) == 1
    assert codes == [200, 200, 200, 200, 429]


def test_the_key_and_its_user_come_in_the_throttles_round_trip(integration, head, round_trips):
    """As production has it (the shared cache in Redis too): the throttle's counts, the key's entry and its user's in
    one round trip; a revoked key and a deactivated user are refused on their next request all the same."""
    key, raw = api_key_create(user=integration, name="DMS", by=head)
    with override_settings(CACHES=redis_cache(), SESSION_CACHE_ALIAS="default"):
        assert [api(raw).get("/api/v1/clients/").status_code for _ in range(2)] == [200, 200]  # cached, then learnt
        for _ in range(3):
            round_trips.clear()
            with CaptureQueriesContext(connection) as queries:
                assert api(raw).get("/api/v1/clients/").status_code == 200
            assert len(round_trips) == 1
            assert not [q for q in queries.captured_queries if "accounts_" in q["sql"]], queries.captured_queries

        other, other_raw = api_key_create(user=integration, name="DMS 2", by=head)
        assert api(other_raw).get("/api/v1/clients/").status_code == 200
        api_key_revoke(key=other, by=head)
        assert api(other_raw).get("/api/v1/clients/").status_code == 401
        user_update(user=integration, by=head, is_active=False)
        assert api(raw).get("/api/v1/clients/").status_code == 401


def test_wrong_keys_are_throttled_per_address_before_any_lookup(integration, head):
    _key, raw = api_key_create(user=integration, name="DMS", by=head)
    with override_settings(CACHES=redis_cache(), API_KEY_FAILURE_LIMIT=5):
        assert [api("cd_deadbeef_wrong").get("/api/v1/clients/").status_code for _ in range(5)] == [401] * 5
        with CaptureQueriesContext(connection) as throttled:
            refused = api(raw).get("/api/v1/clients/")
        assert (refused.status_code, throttled.captured_queries) == (429, [])
        assert int(refused["Retry-After"]) >= 1
        assert api(raw, address="198.51.100.8").get("/api/v1/clients/").status_code == 200


def test_redis_that_is_down_refuses_nobody(integration, head):
    _key, raw = api_key_create(user=integration, name="DMS", by=head, rate_per_minute=1)
    with override_settings(CACHES=redis_cache("redis://127.0.0.1:1/0")):
        assert [api(raw).get("/api/v1/clients/").status_code for _ in range(3)] == [200, 200, 200]
        assert api("cd_deadbeef_wrong").get("/api/v1/clients/").status_code == 401
