"""What every signed-in request pays before its page does anything (issue 9, items 18-19): the session and the user
come from the cache, not the database; sign-out, deactivation and a new password still end a session at once; a cache
that is down costs nothing but the shortcut; the sign-in lockout still holds."""

import re
import time

import pytest
from django.conf import settings
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.test import Client as DjangoTestClient
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.services.users import user_update
from clientdesk import caching

pytestmark = pytest.mark.django_db

PAGE = reverse("accounts:password-change")  # a signed-in page that asks the database nothing of its own
LOGIN = reverse("accounts:login")
PASSWORD = "Secret-pass-123"


def signed_in(user) -> DjangoTestClient:
    web = DjangoTestClient()
    assert web.post(LOGIN, {"username": user.username, "password": PASSWORD}).status_code == 302
    return web


def tables_read(web: DjangoTestClient, path: str = PAGE) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = web.get(path)
    assert response.status_code == 200
    return [q["sql"] for q in queries.captured_queries]


def test_a_signed_in_page_reads_neither_session_nor_user_from_the_database_once_cached(auth_cache, manager):
    web = signed_in(manager)
    web.get(PAGE)
    # when: the next page
    sql = tables_read(web)
    # then: nothing asked of the database for who is asking
    assert not [q for q in sql if "django_session" in q or "accounts_user" in q], sql


def test_a_known_session_and_its_user_come_in_one_round_trip(auth_cache, manager, monkeypatch):
    web = signed_in(manager)
    web.get(PAGE)  # this process learns whose session it is
    reads, inside = [], []
    real_get, real_get_many = type(auth_cache).get, type(auth_cache).get_many

    def get(self, key, *args, **kwargs):
        if not inside:  # the local-memory cache's get_many asks get for each key: one round trip on Redis
            reads.append(key)
        return real_get(self, key, *args, **kwargs)

    def get_many(self, keys, *args, **kwargs):
        reads.append(list(keys))
        inside.append(True)
        try:
            return real_get_many(self, keys, *args, **kwargs)
        finally:
            inside.pop()

    monkeypatch.setattr(type(auth_cache), "get", get)
    monkeypatch.setattr(type(auth_cache), "get_many", get_many)
    response = web.get(PAGE)
    session_and_user = [keys for keys in reads if isinstance(keys, list) and len(keys) == 2]
    assert response.wsgi_request.user == manager
    assert session_and_user and "cached_db" in session_and_user[0][0] and f".{manager.pk}" in session_and_user[0][1]
    assert not [key for key in reads if isinstance(key, str) and "clientdesk.user." in key], reads


def test_without_the_cache_both_come_from_the_database_as_before(manager):
    # The test settings' cache always misses: the pinned query counts elsewhere keep counting these two.
    web = signed_in(manager)
    web.get(PAGE)
    sql = tables_read(web)
    assert sum("django_session" in q for q in sql) == 1
    assert sum('FROM "accounts_user"' in q for q in sql) == 1


def test_sign_out_ends_the_cached_session(auth_cache, manager):
    web = signed_in(manager)
    assert web.get(PAGE).status_code == 200
    stolen = web.cookies[settings.SESSION_COOKIE_NAME].value
    # when: signing out, then someone replays the old cookie
    assert web.post(reverse("accounts:logout")).status_code == 302
    replay = DjangoTestClient()
    replay.cookies[settings.SESSION_COOKIE_NAME] = stolen
    # then: it is a stranger
    response = replay.get(PAGE)
    assert response.status_code == 302 and response.url.startswith(LOGIN)


def test_deactivation_ends_the_cached_users_sessions_on_their_next_request(auth_cache, manager, head):
    web = signed_in(manager)
    assert web.get(PAGE).status_code == 200
    # when: the head deactivates them through the users page
    as_head = signed_in(head)
    data = {"last_name": manager.last_name, "first_name": manager.first_name, "email": "", "role": manager.role}
    assert as_head.post(reverse("accounts:user-detail", args=[manager.pk]), data).status_code == 302
    # then
    response = web.get(PAGE)
    assert response.status_code == 302 and response.url.startswith(LOGIN)


def test_a_role_change_shows_on_the_next_request(auth_cache, manager, head):
    web = signed_in(manager)
    assert b'id="nav-dashboard"' not in web.get(PAGE).content
    user_update(user=manager, by=head, role="head")
    assert b'id="nav-dashboard"' in web.get(PAGE).content


def test_a_new_password_ends_the_other_sessions(auth_cache, manager):
    elsewhere = signed_in(manager)
    assert elsewhere.get(PAGE).status_code == 200
    # when: the password is changed from another browser
    here = signed_in(manager)
    new = "Another-pass-456"
    response = here.post(PAGE, {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert response.status_code == 302
    # then: this one stays signed in, the other is out
    assert here.get(PAGE).status_code == 200
    response = elsewhere.get(PAGE)
    assert response.status_code == 302 and response.url.startswith(LOGIN)


def test_a_cache_entry_lives_at_most_auth_cache_seconds(auth_cache, manager):
    web = signed_in(manager)
    web.get(PAGE)
    expiries = [auth_cache._expire_info[key] - time.time() for key in auth_cache._cache]  # locmem's own bookkeeping
    assert expiries and all(0 < left <= settings.AUTH_CACHE_SECONDS for left in expiries)


def test_a_cache_that_is_down_is_a_miss_and_is_left_alone_for_a_while(manager, monkeypatch):
    # given: the cache is a Redis no one listens on
    down = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
    asked = []
    real_get, real_get_many = RedisCache.get, RedisCache.get_many

    def get(self, key, *args, **kwargs):
        asked.append(key)
        return real_get(self, key, *args, **kwargs)

    def get_many(self, keys, *args, **kwargs):
        asked.append(keys)
        return real_get_many(self, keys, *args, **kwargs)

    monkeypatch.setattr(RedisCache, "get", get)
    monkeypatch.setattr(RedisCache, "get_many", get_many)
    with override_settings(CACHES={**settings.CACHES, "down": down}, SESSION_CACHE_ALIAS="down"):
        web = signed_in(manager)
        monkeypatch.setattr(caching, "_paused_until", 0.0)
        # when: two pages
        sql = tables_read(web) + tables_read(web)
        # then: both answered from the database, and the cache was asked once: it failed, and is left alone since
        assert sum("django_session" in q for q in sql) == 2
        assert len(asked) == 1
        # and a sign-out still works (the database is the truth)
        assert web.post(reverse("accounts:logout")).status_code == 302
        assert web.get(PAGE).status_code == 302


def test_the_lockout_still_holds_with_the_cache(auth_cache, manager):
    web = DjangoTestClient(REMOTE_ADDR="198.51.100.7")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        web.post(LOGIN, {"username": manager.username, "password": "wrong"})
    response = web.post(LOGIN, {"username": manager.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in response.wsgi_request.session


# --- the layout (base.html): what depends on no one, or on the role, language and name, is drawn once per process ---


def test_a_new_name_shows_in_the_menu_at_once(manager, head):
    web = signed_in(manager)
    assert "Мария Смирнова" in web.get(PAGE).content.decode()
    user_update(user=manager, by=head, first_name="Марина")
    page = web.get(PAGE).content.decode()
    assert "Марина Смирнова" in page and "Мария" not in page


def test_each_person_gets_their_own_menu_from_the_cached_layout(manager, head):
    mine, hers = signed_in(manager).get(PAGE).content.decode(), signed_in(head).get(PAGE).content.decode()
    assert "Мария Смирнова" in mine and "Ольга Иванова" not in mine
    assert "Ольга Иванова" in hers and 'id="nav-dashboard"' in hers and 'id="nav-dashboard"' not in mine


def test_the_sign_out_button_sends_the_form_that_carries_this_visitors_token(manager):
    web = DjangoTestClient(enforce_csrf_checks=True)
    web.force_login(manager)
    page = web.get(PAGE).content.decode()
    assert 'form="sign-out-form" id="sign-out"' in page
    form = re.search(r'<form action="([^"]+)" method="post" id="sign-out-form" hidden>(.*?)</form>', page)
    assert form and form[1] == reverse("accounts:logout")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form[2])[1]
    # when: the button is pressed
    assert web.post(form[1], {"csrfmiddlewaretoken": token}).status_code == 302
    # then: signed out
    assert web.get(PAGE).status_code == 302


def test_a_session_signed_in_before_the_cached_backend_goes_on(auth_cache, manager):
    # given: a session as the plain ModelBackend signed it in and the database sessions stored it, before this deploy
    web = DjangoTestClient()
    with override_settings(SESSION_ENGINE="django.contrib.sessions.backends.db"):
        web.force_login(manager, backend="django.contrib.auth.backends.ModelBackend")
    # when / then: still signed in, from the database and then from the cache
    assert web.get(PAGE).status_code == 200
    assert web.get(PAGE).status_code == 200


def test_a_session_read_just_before_sign_out_cannot_come_back_into_the_cache(auth_cache, manager):
    from accounts.sessions import SessionStore
    from clientdesk.caching import cache_get, cache_set

    web = signed_in(manager)
    key = web.cookies[settings.SESSION_COOKIE_NAME].value
    store = SessionStore(key)
    stale = store.load()  # another request read it from the cache or the database just before the sign-out
    store.delete()
    # that request now fills the cache with what it read, as a read from the database does
    cache_set(store.cache_key, stale, 300, only_if_absent=True)
    assert cache_get(store.cache_key) is None
    assert web.get(PAGE).status_code == 302  # the signed-out cookie signs no one in
