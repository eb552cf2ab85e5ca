"""The client's History page reads every line as a sentence, in English and in Russian: a whole sentence per record
and event (the Russian verb agrees with its noun), values as people read them (yes/no, labels, names, local times,
"empty"), and the merge notes in the page's language.

The Russian assertions need the lead's merge of locale/pending/words.po into locale/ru (and the compiled .mo)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import translation

from clientdesk.history import reason_text, value_text
from clientdesk.timefmt import local_datetime_text
from clients.models import Client, Vehicle
from clients.services.clients import (
    PhoneInput,
    client_create,
    client_merge,
    client_update,
    vehicle_create,
    vehicle_update,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def story(manager, head):
    """A client with a life: created with a phone, consents and a manager given later, a car added and changed, a
    duplicate merged into them."""
    client = client_create(by=manager, name="Сидоров Сидор", phones=[PhoneInput("89123456789", is_primary=True)])
    client_update(
        client=client,
        by=manager,
        email="sidorov@example.com",
        consent_personal_data=True,
        consent_marketing=True,
        kind=Client.Kind.COMPANY,
        assigned_manager=manager,
    )
    car = vehicle_create(by=manager, owner=client, make="Lada", model="Vesta", plate="А123ВС77")
    vehicle_update(vehicle=car, by=manager, mileage=15000)
    twin = client_create(by=manager, name="Сидоров С.", phones=[PhoneInput("89030000001", is_primary=True)])
    client_merge(source=twin, target=client, by=head)
    client.refresh_from_db()
    return client, twin


def history_page(web, client, language: str) -> str:
    response = web.get(reverse("clients:history", args=[client.pk]), headers={"Accept-Language": language})
    assert response.status_code == 200
    return response.content.decode()


def test_history_lines_are_sentences_in_english(as_manager, manager, story):
    client, twin = story
    page = history_page(as_manager, client, "en")
    # whole sentences per record and event
    assert "Client created." in page
    assert "Phone +7 912 345-67-89 added." in page
    assert "Vehicle Lada Vesta А123ВС77 added." in page
    assert "Vehicle Lada Vesta А123ВС77 changed." in page
    assert "Phone +7 903 000-00-01 changed." in page  # the duplicate's number, moved here
    # values as people read them
    assert "<strong>Consent to marketing calls and messages</strong>: no → yes" in page
    assert "<strong>Kind</strong>: Person → Company" in page
    assert f"<strong>Assigned manager</strong>: empty → {manager}" in page
    assert "<strong>Email</strong>: empty → sidorov@example.com" in page
    assert "<strong>Mileage, km</strong>: empty → 15000" in page
    assert f"<strong>Client</strong>: {twin.name} → {client.name}" in page
    # the merge note as a sentence with a name, in the page's language
    assert f"Client {twin.name} (#{twin.pk}) was merged into this client." in page
    # no raw values, no machine notes, no internal columns
    for raw in ("True", "False", "None", f"merged #{twin.pk}", "name for search", "—  →", ": — →"):
        assert raw not in page


def test_history_lines_are_sentences_in_russian(as_manager, manager, story):
    client, twin = story
    page = history_page(as_manager, client, "ru")
    assert "Клиент создан." in page
    assert "Клиент изменён." in page
    assert "Телефон +7 912 345-67-89 добавлен." in page
    assert "Автомобиль Lada Vesta А123ВС77 добавлен." in page
    assert "Автомобиль Lada Vesta А123ВС77 изменён." in page
    assert "Согласие на маркетинговые звонки и сообщения</strong>: нет → да" in page
    assert f"</strong>: не указано → {manager}" in page
    assert f"Клиент {twin.name} (№ {twin.pk}) присоединён к этому клиенту." in page
    for fragment in ("created", "changed", "merged", "True", "None", "клиент создано", "empty"):
        assert fragment not in page


def test_the_duplicates_history_says_where_it_went(as_head, story):
    client, twin = story
    page = history_page(as_head, twin, "en")
    assert f"This client was merged into {client.name} (#{client.pk})." in page
    assert f"<strong>Merged into</strong>: empty → {client.name}" in page


def test_moments_in_the_history_are_local(as_manager, manager, story):
    client, _twin = story
    given = client.consent_marketing_at
    page = history_page(as_manager, client, "en")
    with translation.override("en"):
        assert f"<strong>Marketing consent given</strong>: empty → {local_datetime_text(given)}" in page


# --- the shared formatter ---------------------------------------------------------------------------------------------


def test_values_read_as_words_labels_names_and_local_times(manager):
    fields = {
        name: f
        for name in ("consent_marketing", "kind", "assigned_manager", "merged_at", "email")
        for f in [Client._meta.get_field(name)]
    }
    moment = datetime(2026, 12, 7, 6, 0, tzinfo=ZoneInfo("UTC"))
    names = {(fields["assigned_manager"].related_model, manager.pk): str(manager)}
    with translation.override("en"):
        assert value_text(fields["consent_marketing"], True) == "yes"
        assert value_text(fields["consent_marketing"], False) == "no"
        assert value_text(fields["kind"], "company") == "Company"
        assert value_text(fields["assigned_manager"], manager.pk, names=names) == str(manager)
        assert value_text(fields["assigned_manager"], 999_999) == "record #999999"
        assert value_text(fields["merged_at"], moment) == "7 December 2026, 09:00"
        assert value_text(fields["email"], "") == value_text(fields["merged_at"], None) == "empty"
        assert value_text(Vehicle._meta.get_field("year"), 2020) == "2020"


def test_a_persons_own_words_are_kept_and_machine_notes_are_translated():
    def name(pk):
        return f"№{pk}"

    with translation.override("en"):
        assert reason_text("клиент попросил", client_name=name) == "клиент попросил"
        assert reason_text("merged into #5", client_name=name) == "This client was merged into №5."
        assert reason_text("client #5 merged into #7", client_name=name) == (
            "Moved from client №5 to №7 when they were merged."
        )
        assert reason_text("", client_name=name) == ""
