from datetime import date, time, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from clientdesk.calendar import at
from clientdesk.errors import Conflict
from clientdesk.models import Notification
from clients.services.deliveries import delivery_record, delivery_update
from documents.models import Correspondence, DeliveryPapersFlag, Document
from documents.services import document_transition
from documents.services.expected import expect_delivery_papers, flag_late_papers, papers_due_cutoff
from documents.services.mail import flag_unhanded_mail, mail_hand_over, mail_register
from tests.concurrency import run_at_once
from tests.factories import PhoneFactory, VehicleFactory

S = Document.State


def test_a_delivery_expects_its_three_papers_once(delivery, manager):
    kinds = sorted(Document.objects.filter(delivery=delivery).values_list("kind", flat=True))
    assert kinds == ["handover_act", "sale_contract", "waybill"]
    assert all(d.state == S.EXPECTED for d in Document.objects.filter(delivery=delivery))
    # the event delivered again (a retry) adds nothing
    assert expect_delivery_papers(delivery=delivery, by=manager) == []
    assert Document.objects.filter(delivery=delivery).count() == 3


@pytest.mark.postgres
def test_the_database_refuses_a_second_expected_paper_of_a_kind(delivery):
    with pytest.raises(IntegrityError), transaction.atomic():
        Document.objects.create(kind="waybill", issued_on=date(2026, 11, 2), delivery=delivery)


def test_papers_due_within_n_working_days(db, settings):
    settings.PAPERS_DUE_WORKING_DAYS = 3
    friday = date(2026, 12, 4)
    # On Friday, the papers of Monday's delivery are late (Tue, Wed, Thu have passed); Tuesday's are not yet.
    assert papers_due_cutoff(at(friday, time(12))) == at(date(2026, 12, 1), time(0))


def test_the_head_is_told_once_about_late_papers(delivery, head, manager):
    assert flag_late_papers() == 1
    assert flag_late_papers() == 0
    told = Notification.objects.filter(user=head)
    assert told.count() == 1
    assert "Lada Vesta" in told.get().title
    assert DeliveryPapersFlag.objects.filter(delivery=delivery).count() == 1
    assert not Notification.objects.filter(user=manager).exists()


def test_papers_received_in_time_are_not_flagged(delivery, head, manager):
    for doc in Document.objects.filter(delivery=delivery):
        document_transition(document=doc, by=manager, to=S.SIGNED)
    assert flag_late_papers() == 0
    assert not Notification.objects.filter(user=head).exists()


def test_a_fresh_delivery_is_not_late(buyer, head, manager, django_capture_on_commit_callbacks):
    car = VehicleFactory(owner=buyer)
    with django_capture_on_commit_callbacks(execute=True):
        delivery_record(by=manager, client=buyer, vehicle=car, delivered_at=timezone.now() - timedelta(hours=2))
    assert flag_late_papers() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_beats_at_once_tell_the_head_once(buyer, car, head, manager):
    delivered = delivery_record(by=manager, client=buyer, vehicle=car, delivered_at=timezone.now() - timedelta(days=14))
    expect_delivery_papers(delivery=delivered, by=manager)
    results, errors = run_at_once(2, lambda _n: flag_late_papers())
    assert not errors
    assert sorted(results) == [0, 1]
    assert Notification.objects.filter(user=head).count() == 1


def test_the_addressee_is_told_of_incoming_mail(manager, head):
    item = mail_register(
        by=manager, dated_on=date(2026, 11, 2), sender="ФНС", recipient="Автоцентр", subject="Запрос", addressee=head
    )
    note = Notification.objects.get(user=head)
    assert "Запрос" in note.title and note.url == item.get_absolute_url()


def test_mail_is_handed_over_once(manager, head):
    item = mail_register(by=manager, dated_on=date(2026, 11, 2), sender="А", recipient="Б", subject="В")
    item = mail_hand_over(item=item, by=manager)
    assert item.handed_over_by == manager
    with pytest.raises(Conflict):
        mail_hand_over(item=item, by=head)


def test_unhanded_mail_is_flagged_to_the_head_once(manager, head, travel):
    item = mail_register(by=manager, dated_on=date(2026, 11, 2), sender="А", recipient="Б", subject="Претензия")
    fresh = mail_register(by=manager, dated_on=date(2026, 11, 2), sender="А", recipient="Б", subject="Новое")
    type(item).objects.filter(pk=item.pk).update(created_at=timezone.now() - timedelta(days=2))
    assert flag_unhanded_mail() == 1
    assert flag_unhanded_mail() == 0
    assert Notification.objects.filter(user=head).count() == 1
    item.refresh_from_db()
    fresh.refresh_from_db()
    assert item.flagged_at is not None and fresh.flagged_at is None


def test_the_mail_list_marks_items_waiting_more_than_a_day(as_manager, manager):
    item = mail_register(by=manager, dated_on=date(2026, 11, 2), sender="А", recipient="Б", subject="Старое")
    type(item).objects.filter(pk=item.pk).update(created_at=timezone.now() - timedelta(days=2))
    mail_register(by=manager, dated_on=date(2026, 11, 2), sender="А", recipient="Б", subject="Новое")
    page = as_manager.get(reverse("documents:mail-list")).content.decode()
    assert page.count('data-overdue="1"') == 1


def test_the_mail_pages_register_and_hand_over(as_manager, head):
    response = as_manager.post(
        reverse("documents:mail-create"),
        {
            "direction": "in",
            "kind": "letter",
            "dated_on": "2026-11-02",
            "sender": "ООО Ромашка",
            "recipient": "Автоцентр",
            "subject": "Акт сверки",
            "addressee": head.pk,
        },
    )
    assert response.status_code == 302
    item = Correspondence.objects.get()
    assert as_manager.post(reverse("documents:mail-hand-over", args=[item.pk])).status_code == 302
    item.refresh_from_db()
    assert item.handed_over_at is not None


def test_a_mail_form_without_a_subject_shows_the_error(as_manager):
    response = as_manager.post(
        reverse("documents:mail-create"),
        {"direction": "in", "kind": "letter", "dated_on": "2026-11-02", "sender": "А", "recipient": "Б"},
    )
    assert response.status_code == 400
    assert "is-invalid" in response.content.decode()


def test_a_corrected_delivery_takes_its_papers_along(delivery, manager, django_capture_on_commit_callbacks):
    other = PhoneFactory(number="+79035550099", client__name="Новый Покупатель").client
    new_time = delivery.delivered_at - timedelta(days=1)
    signed = Document.objects.get(delivery=delivery, kind="waybill")
    document_transition(document=signed, by=manager, to=S.SIGNED)
    with django_capture_on_commit_callbacks(execute=True):
        delivery_update(delivery=delivery, by=manager, client=other, delivered_at=new_time)
    papers = list(Document.objects.filter(delivery=delivery))
    assert {d.client_id for d in papers} == {other.pk}
    expected_days = {d.issued_on for d in papers if d.state == S.EXPECTED}
    assert expected_days == {timezone.localtime(new_time).date()}
    assert all(d.history.count() >= 2 for d in papers)


def test_hand_over_from_the_list_redraws_the_row(as_manager, manager):
    item = mail_register(by=manager, dated_on=date(2026, 11, 2), sender="А", recipient="Б", subject="Письмо")
    url = reverse("documents:mail-hand-over", args=[item.pk])
    response = as_manager.post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    row = response.content.decode()
    assert row.lstrip().startswith(f'<tr id="mail-{item.pk}"') and "Мария Смирнова" in row
    again = as_manager.post(url, HTTP_HX_REQUEST="true")
    assert again.status_code == 409
    item.refresh_from_db()
    assert item.handed_over_by == manager
