"""Forgot your password: a one-hour link by e-mail, in the page's language and the other; the answer never tells
whether the address is known; the head can send the link from the user's page; sessions last one shift."""

import logging
import re

import pytest
from django.conf import settings
from django.test import Client as DjangoTestClient
from django.test import override_settings
from django.urls import reverse

from accounts.models import SecurityEventKind
from accounts.selectors import locked_out
from accounts.tasks import send_password_reset
from clientdesk.settings import base

pytestmark = pytest.mark.django_db

RESET = reverse("accounts:password-reset")
NEW_PASSWORD = "Brand-new-pass-2026"


@pytest.fixture
def staff(manager):
    manager.email = "maria@example.com"
    manager.save()
    return manager


@pytest.fixture
def post(django_capture_on_commit_callbacks, celery_eager):
    """A POST whose queued mail goes out at once: after commit, by the task, in this process."""

    def post(web, url, data=None, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return web.post(url, data or {}, **kwargs)

    return post


def link_in(mail) -> str:
    return re.search(r"https?://testserver(/\S+)", mail.body).group(1)


def test_the_sign_in_page_offers_the_reset(web):
    assert RESET in web.get(reverse("accounts:login")).content.decode()


def test_a_known_address_gets_a_link_that_sets_a_new_password_once(web, staff, mailoutbox, post):
    response = post(web, RESET, {"email": "maria@example.com"})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:password-reset-done")
    (mail,) = mailoutbox
    assert mail.to == ["maria@example.com"]
    # Russian first (the page's language), then English; the expiry is stated
    assert "ClientDesk" in mail.subject
    assert "60 minutes" in mail.body and "Your user name: manager" in mail.body
    link = link_in(mail)
    form_page = web.get(link, follow=True)
    assert form_page.context["validlink"]
    response = web.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:password-reset-complete")
    staff.refresh_from_db()
    assert staff.check_password(NEW_PASSWORD)
    # the link does not work twice
    assert not DjangoTestClient().get(link, follow=True).context["validlink"]


def test_an_unknown_address_gets_the_same_answer_and_no_mail(web, staff, mailoutbox, post):
    known = post(web, RESET, {"email": "maria@example.com"})
    unknown = post(web, RESET, {"email": "nobody@example.com"})
    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert len(mailoutbox) == 1


def test_integration_and_deactivated_users_get_no_link(web, integration, staff, mailoutbox, post):
    integration.email = "dms@example.com"
    integration.save()
    staff.is_active = False
    staff.save()
    post(web, RESET, {"email": "dms@example.com"})
    post(web, RESET, {"email": "maria@example.com"})
    assert mailoutbox == []


def test_the_mail_is_in_the_page_language_first(staff, mailoutbox, post):
    web = DjangoTestClient()
    web.cookies["django_language"] = "en"
    post(web, RESET, {"email": "maria@example.com"})
    (mail,) = mailoutbox
    assert mail.subject == "ClientDesk: setting a new password"
    assert mail.body.startswith("Hello, Мария Смирнова.")


def test_the_link_expires_after_an_hour():
    assert settings.PASSWORD_RESET_TIMEOUT == 3600


def test_a_reset_ends_the_users_lockout(web, staff, mailoutbox, post):
    attacker = DjangoTestClient(REMOTE_ADDR="198.51.100.1")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attacker.post(reverse("accounts:login"), {"username": "manager", "password": "x"})
    assert "manager" in locked_out(by="username")
    post(web, RESET, {"email": "maria@example.com"})
    page = web.get(link_in(mailoutbox[0]), follow=True)
    web.post(page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert locked_out(by="username") == {}
    response = web.post(reverse("accounts:login"), {"username": "manager", "password": NEW_PASSWORD})
    assert response.status_code == 302


def test_reset_requests_from_one_address_are_limited(web, staff, mailoutbox, post):
    for _ in range(8):
        assert post(web, RESET, {"email": "maria@example.com"}).status_code == 302
    assert len(mailoutbox) == 5


def test_the_head_sends_a_link_from_the_users_page_recorded(as_head, head, staff, mailoutbox, caplog, post):
    with caplog.at_level(logging.INFO, logger="clientdesk.security"):
        response = post(as_head, reverse("accounts:user-send-reset", args=[staff.pk]))
    assert response.status_code == 302
    (mail,) = mailoutbox
    assert mail.to == ["maria@example.com"] and "/accounts/password/reset/" in mail.body
    event = staff.history.filter(history_change_reason__isnull=False).latest()
    assert (event.history_change_reason, event.history_user) == (SecurityEventKind.RESET_LINK_SENT, head)
    assert "Password reset link sent: user=manager by=head" in caplog.text
    page = as_head.get(reverse("accounts:user-detail", args=[staff.pk])).content.decode()
    assert 'id="security-events"' in page


def test_the_head_cannot_send_a_link_to_a_user_without_mail(as_head, manager, mailoutbox, post):
    response = post(as_head, reverse("accounts:user-send-reset", args=[manager.pk]), follow=True)
    assert mailoutbox == []
    assert list(response.context["messages"])[0].level_tag == "error"


def test_a_session_ends_after_a_shift(manager):
    assert base.SESSION_HOURS == 12 and base.SESSION_COOKIE_AGE == 12 * 3600
    with override_settings(SESSION_COOKIE_AGE=base.SESSION_COOKIE_AGE):
        web = DjangoTestClient()
        response = web.post(reverse("accounts:login"), {"username": "manager", "password": "Secret-pass-123"})
        assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 12 * 3600
        assert web.session.get_expiry_age() == 12 * 3600


def test_the_page_itself_sends_nothing_the_worker_does(web, staff, mailoutbox, django_capture_on_commit_callbacks):
    """A known address costs the request no mail-server time: it answers as fast as for an unknown one."""
    with django_capture_on_commit_callbacks(execute=False) as queued:
        web.post(RESET, {"email": "maria@example.com"})
    assert mailoutbox == [] and len(queued) == 1


def test_a_user_deactivated_before_the_worker_sends_gets_nothing(staff, mailoutbox):
    staff.is_active = False
    staff.save()
    assert send_password_reset(staff.pk, "testserver", False, "en") is False
    assert mailoutbox == []
