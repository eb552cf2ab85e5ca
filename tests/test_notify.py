"""Telling staff (clientdesk/notify.py): a notification in the header at once, the e-mail once, however often asked."""

import pytest
from django.core import mail
from django.db import transaction

from clientdesk.models import Notification
from clientdesk.notify import notify, send_due_emails
from clientdesk.tasks import send_notification_emails
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_each_user_gets_one_notification_and_one_email(settings):
    settings.SITE_URL = "https://crm.example.ru"
    olga = UserFactory(email="olga@example.com")
    no_mail = UserFactory(email="")
    made = notify(users=[olga, olga.pk, no_mail, None], title="Претензия П-2026-00001", url="/claims/1/", email=True)
    assert sorted(n.user_id for n in made) == sorted([olga.pk, no_mail.pk])
    assert send_notification_emails() == 1
    assert send_due_emails() == 0  # a second run (or beat's sweep) sends nothing again
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["olga@example.com"]
    assert "https://crm.example.ru/claims/1/" in mail.outbox[0].body
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


def test_a_notification_without_email_is_never_mailed():
    notify(users=[UserFactory(email="a@example.com")], title="Новая задача")
    assert send_due_emails() == 0
    assert mail.outbox == []


def test_notifications_roll_back_with_the_action_that_made_them():
    user = UserFactory(email="a@example.com")
    with pytest.raises(RuntimeError), transaction.atomic():
        notify(users=[user], title="Не будет", email=True)
        raise RuntimeError
    assert not Notification.objects.exists()
    assert send_due_emails() == 0
