"""The user kept in the shared cache for every signed-in request (accounts.backends) holds no password hash: a copy of
the cache (a Redis dump, a replica, a debugging session) is no copy of the hashes. The session check Django runs on
every request still works from the cache, a new password still ends the other sessions, and whatever needs the real
hash (checking the old password on a change) reads it from the database."""

import pytest
from django.core.cache import caches
from django.test import override_settings
from django.urls import reverse

from accounts.models import User
from tests.test_request_cost import PAGE, PASSWORD, signed_in, tables_read

# The cache on, as production has it (the test settings make it always miss).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("auth_cache")]

NEW_PASSWORD = "Another-pass-456"


def _entries(cache) -> list[bytes]:
    """Every value the cache holds, as stored (locmem keeps them pickled)."""
    return list(cache._cache.values())


def _change_password(web, old: str = PASSWORD):
    return web.post(PAGE, {"old_password": old, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})


def test_the_cached_user_holds_no_password_hash(manager):
    # given a member of staff signed in, their user and session cached
    web = signed_in(manager)
    assert web.get(PAGE).status_code == 200
    password_hash = User.objects.get(pk=manager.pk).password
    # then nothing in the cache holds their password hash, nor any part of it (the salt, the digest)
    entries = _entries(caches["default"])
    assert entries
    for part in (password_hash, *password_hash.split("$")[1:]):
        assert not [raw for raw in entries if part.encode() in raw], part


def test_the_session_is_checked_from_the_cache_alone(manager):
    web = signed_in(manager)
    web.get(PAGE)
    # when: the next page, user and session answered by the cache
    sql = tables_read(web)
    # then: signed in, and neither the user nor their password was read to check the session
    assert not [q for q in sql if "accounts_user" in q or "django_session" in q], sql


def test_a_new_password_still_ends_the_other_sessions_and_keeps_this_one(manager):
    elsewhere = signed_in(manager)
    here = signed_in(manager)
    assert elsewhere.get(PAGE).status_code == 200 and here.get(PAGE).status_code == 200  # both cached now
    # when: the password is changed here, the old one checked against the real hash
    assert _change_password(here).status_code == 302
    # then: this browser stays signed in (its session took the new password's hash), the other is out
    assert here.get(PAGE).status_code == 200
    response = elsewhere.get(PAGE)
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))
    # and the new password is the one that signs in
    assert User.objects.get(pk=manager.pk).check_password(NEW_PASSWORD)


def test_a_wrong_old_password_is_refused_from_the_cached_user(manager):
    web = signed_in(manager)
    web.get(PAGE)
    response = _change_password(web, old="not-my-password")
    assert response.status_code == 200 and "old_password" in response.context["form"].errors
    assert User.objects.get(pk=manager.pk).check_password(PASSWORD)


def test_a_secret_key_taken_out_of_service_ends_the_sessions_it_signed_though_cached(manager):
    web = signed_in(manager)
    assert web.get(PAGE).status_code == 200  # the user is cached, with the session check worked out
    # when: the site's secret is replaced, the old one not kept as a fallback (it leaked, say)
    with override_settings(SECRET_KEY="a-new-secret-" + "x" * 40, SECRET_KEY_FALLBACKS=[]):
        response = web.get(PAGE)
    # then: the session it signed is over, cache or not
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_a_secret_key_rotated_with_a_fallback_keeps_the_session(manager, settings):
    web = signed_in(manager)
    assert web.get(PAGE).status_code == 200
    with override_settings(SECRET_KEY="a-new-secret-" + "x" * 40, SECRET_KEY_FALLBACKS=[settings.SECRET_KEY]):
        assert web.get(PAGE).status_code == 200
        assert web.get(PAGE).status_code == 200
