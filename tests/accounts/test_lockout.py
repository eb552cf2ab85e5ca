"""Sign-in lockout (django-axes): per user name and per address, a clear message, the head unlocks, all logged."""

import logging
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client as DjangoTestClient
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import SecurityEventKind
from accounts.selectors import locked_out

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
PASSWORD = "Secret-pass-123"
LIMIT = 10


def from_address(address: str) -> DjangoTestClient:
    return DjangoTestClient(REMOTE_ADDR=address)


def fail(web: DjangoTestClient, username: str, times: int = 1):
    response = None
    for _ in range(times):
        response = web.post(LOGIN, {"username": username, "password": "wrong"})
    return response


def test_ten_wrong_passwords_lock_the_user_even_with_the_right_one_and_say_until_when(manager):
    # given: ten failures for one user, from ten addresses (no single address reaches the limit); the tenth is told
    for n in range(LIMIT - 1):
        assert fail(from_address(f"198.51.100.{n}"), "manager").status_code == 200
    assert fail(from_address("198.51.100.99"), "manager").status_code == 429
    # when: the right password, from yet another address
    response = from_address("203.0.113.5").post(LOGIN, {"username": "manager", "password": PASSWORD})
    # then: refused with the reason and the time, and not signed in
    assert response.status_code == 429
    text = response.content.decode()
    assert 'id="lockout"' in text and "manager" in text
    assert "_auth_user_id" not in response.wsgi_request.session
    assert "manager" in locked_out(by="username")


def test_the_lockout_message_is_in_the_chosen_language(manager):
    web = from_address("198.51.100.1")
    fail(web, "manager", LIMIT)
    web.cookies["django_language"] = "en"
    text = fail(web, "manager").content.decode()
    assert "Too many failed sign-ins for the user manager" in text
    assert "The department head can unlock it sooner" in text


def test_one_address_trying_many_user_names_is_locked_for_every_user_name(manager, head):
    web = from_address("198.51.100.9")
    for n in range(LIMIT):
        fail(web, f"guess{n}")
    response = web.post(LOGIN, {"username": "head", "password": PASSWORD})
    assert response.status_code == 429
    assert "198.51.100.9" in response.content.decode()
    # the same user from another address is not locked: only the address is
    assert from_address("203.0.113.5").post(LOGIN, {"username": "head", "password": PASSWORD}).status_code == 302


def test_fewer_failures_then_the_right_password_signs_in_and_resets_the_count(manager):
    web = from_address("198.51.100.1")
    fail(web, "manager", LIMIT - 1)
    assert web.post(LOGIN, {"username": "manager", "password": PASSWORD}).status_code == 302
    other = from_address("198.51.100.2")
    fail(other, "manager", LIMIT - 1)
    assert other.post(LOGIN, {"username": "manager", "password": PASSWORD}).status_code == 302


def test_the_lock_ends_after_the_cool_off_and_attempts_meanwhile_do_not_prolong_it(manager):
    web = from_address("198.51.100.1")
    fail(web, "manager", LIMIT)
    until = locked_out(by="username")["manager"]
    assert timedelta(minutes=14) < until - timezone.now() <= timedelta(minutes=15)
    fail(web, "manager", 3)  # refused while locked
    assert locked_out(by="username")["manager"] == until
    with override_settings(AXES_COOLOFF_TIME=timedelta(seconds=0)):
        assert locked_out(by="username") == {}


def test_the_head_sees_locked_users_and_addresses_and_unlocks_with_one_button(manager, head, caplog):
    web = from_address("198.51.100.1")
    fail(web, "manager", LIMIT)
    as_head = DjangoTestClient(REMOTE_ADDR="203.0.113.1")
    as_head.force_login(head)
    page = as_head.get(reverse("accounts:user-list")).content.decode()
    assert reverse("accounts:user-unlock", args=[manager.pk]) in page
    assert "198.51.100.1" in page  # the address is locked too: ten failures from it
    detail = as_head.get(reverse("accounts:user-detail", args=[manager.pk])).content.decode()
    assert 'id="user-locked"' in detail
    # when
    with caplog.at_level(logging.INFO, logger="clientdesk.security"):
        response = as_head.post(reverse("accounts:user-unlock", args=[manager.pk]))
        as_head.post(reverse("accounts:address-unlock"), {"address": "198.51.100.1"})
    # then
    assert response.status_code == 302
    assert locked_out(by="username") == {} and locked_out(by="ip_address") == {}
    assert web.post(LOGIN, {"username": "manager", "password": PASSWORD}).status_code == 302
    event = manager.history.filter(history_change_reason__isnull=False).latest()
    assert (event.history_change_reason, event.history_user) == (SecurityEventKind.UNLOCKED, head)
    assert "Sign-in unlocked: user=manager by=head" in caplog.text
    assert "Sign-in address unlocked: address=198.51.100.1 by=head" in caplog.text
    detail = as_head.get(reverse("accounts:user-detail", args=[manager.pk])).content.decode()
    assert 'id="user-locked"' not in detail and 'id="security-events"' in detail


def test_the_admin_sign_in_is_locked_the_same_way(manager):
    user = get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    web = from_address("198.51.100.3")
    admin_login = reverse("admin:login")
    for _ in range(LIMIT):
        web.post(admin_login, {"username": "root", "password": "wrong"})
    response = web.post(admin_login, {"username": "root", "password": PASSWORD})
    assert response.status_code == 429
    assert "root" in locked_out(by="username")
    assert "_auth_user_id" not in web.session
    assert user.is_superuser


def test_every_sign_in_failure_lockout_and_sign_out_is_logged_without_the_password(manager, caplog):
    web = from_address("198.51.100.4")
    with caplog.at_level(logging.INFO, logger="clientdesk.security"):
        web.post(LOGIN, {"username": "manager", "password": PASSWORD})
        web.post(reverse("accounts:logout"))
        fail(web, "manager", LIMIT + 1)
    text = caplog.text
    assert "Sign-in: user=manager address=198.51.100.4" in text
    assert "Sign-out: user=manager address=198.51.100.4" in text
    assert "Sign-in failed: username=manager address=198.51.100.4 locked=no" in text
    assert "Sign-in locked: username=manager address=198.51.100.4" in text
    assert "Sign-in failed: username=manager address=198.51.100.4 locked=yes" in text
    assert "wrong" not in text and PASSWORD not in text


def test_a_forged_x_forwarded_for_does_not_dodge_the_address_lock(manager):
    for n in range(LIMIT):
        DjangoTestClient(REMOTE_ADDR="198.51.100.5", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").post(
            LOGIN, {"username": f"guess{n}", "password": "x"}
        )
    assert "198.51.100.5" in locked_out(by="ip_address")


@override_settings(TRUSTED_PROXIES=["192.0.2.10"])
def test_behind_the_trusted_proxy_the_lock_is_on_the_real_client_address(manager):
    for n in range(LIMIT):
        DjangoTestClient(REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR="198.51.100.6").post(
            LOGIN, {"username": f"guess{n}", "password": "x"}
        )
    assert set(locked_out(by="ip_address")) == {"198.51.100.6"}
    # another client behind the same proxy is not locked
    other = DjangoTestClient(REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert other.post(LOGIN, {"username": "manager", "password": PASSWORD}).status_code == 302
