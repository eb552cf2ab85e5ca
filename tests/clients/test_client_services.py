import pytest
from django.core.exceptions import ValidationError

from calls.models import Call
from calls.services.calls import call_log
from clientdesk.errors import Conflict
from clients.models import Client, ClientPhone, Vehicle
from clients.services.clients import (
    PhoneInput,
    client_create,
    client_merge,
    client_update,
    client_upsert_by_dms_id,
    vehicle_create,
    vehicle_update,
    vehicle_upsert_by_dms_id,
)
from tests.factories import CallFactory, ClientFactory, PhoneFactory, VehicleFactory

pytestmark = pytest.mark.django_db


def test_create_normalises_phones_and_makes_the_first_primary(manager):
    client = client_create(
        by=manager, name="  Иванов Иван ", phones=[PhoneInput("8 (912) 345-67-89"), PhoneInput("9031112233")]
    )
    assert client.name == "Иванов Иван"
    phones = list(client.phones.order_by("id").values_list("number", "is_primary"))
    assert phones == [("+79123456789", True), ("+79031112233", False)]


def test_bad_phone_refuses_the_whole_client(manager):
    with pytest.raises(ValidationError) as exc:
        client_create(by=manager, name="Иванов", phones=[PhoneInput("8 912 345"), PhoneInput("9123456789")])
    assert "phones" in exc.value.message_dict
    assert "Too few digits" in exc.value.message_dict["phones"][0]
    assert not Client.objects.exists()
    assert not ClientPhone.objects.exists()


def test_same_number_twice_and_two_primaries_are_refused(manager):
    with pytest.raises(ValidationError, match="listed twice"):
        client_create(by=manager, name="A", phones=[PhoneInput("89123456789"), PhoneInput("+7 912 345-67-89")])
    with pytest.raises(ValidationError, match="Only one phone can be primary"):
        client_create(
            by=manager,
            name="A",
            phones=[PhoneInput("89123456789", is_primary=True), PhoneInput("89031112233", is_primary=True)],
        )


def test_consent_dates_are_stamped_and_cleared(manager):
    client = client_create(by=manager, name="A", consent_personal_data=True)
    assert client.consent_personal_data_at is not None
    assert client.consent_marketing_at is None
    client = client_update(client=client, by=manager, consent_marketing=True)
    assert client.consent_marketing_at is not None
    client = client_update(client=client, by=manager, consent_marketing=False)
    assert client.consent_marketing_at is None


def test_marketing_consent_needs_personal_data_consent(manager):
    with pytest.raises(ValidationError) as exc:
        client_create(by=manager, name="A", consent_marketing=True)
    assert "consent_marketing" in exc.value.message_dict


def test_duplicate_dms_id_is_a_conflict_naming_the_holder(manager):
    holder = client_create(by=manager, name="Holder", dms_id="D-1")
    with pytest.raises(Conflict) as exc:
        client_create(by=manager, name="Other", dms_id="D-1")
    assert exc.value.existing == holder
    assert exc.value.field == "dms_id"
    assert Client.objects.count() == 1


def test_update_replaces_phones_keeping_rows_of_numbers_that_stay(manager):
    client = client_create(by=manager, name="A", phones=[PhoneInput("89123456789"), PhoneInput("89031112233")])
    kept = client.phones.get(number="+79123456789")
    client_update(
        client=client,
        by=manager,
        phones=[PhoneInput("+7 912 345 67 89"), PhoneInput("8 926 000 11 22", is_primary=True)],
    )
    numbers = dict(client.phones.values_list("number", "is_primary"))
    assert numbers == {"+79123456789": False, "+79260001122": True}
    assert client.phones.get(number="+79123456789").pk == kept.pk


def test_history_records_who_changed_what(manager, head):
    client = client_create(by=manager, name="Old name")
    client_update(client=client, by=head, name="New name")
    records = list(client.history.order_by("history_date"))
    assert [r.history_type for r in records] == ["+", "~"]
    assert records[0].history_user == manager
    assert records[1].history_user == head
    delta = records[1].diff_against(records[0])
    assert [(c.field, c.old, c.new) for c in delta.changes] == [("name", "Old name", "New name")]


def test_upsert_by_dms_id_twice_gives_one_row(integration):
    first, created = client_upsert_by_dms_id(
        by=integration, dms_id="DMS-7", name="Петров", phones=[PhoneInput("89123456789")]
    )
    second, created_again = client_upsert_by_dms_id(
        by=integration, dms_id="DMS-7", name="Петров П.", phones=[PhoneInput("+79123456789")]
    )
    assert created and not created_again
    assert first.pk == second.pk
    assert Client.objects.filter(dms_id="DMS-7").count() == 1
    assert Client.objects.get(dms_id="DMS-7").name == "Петров П."
    assert ClientPhone.objects.filter(client=first).count() == 1


def test_upsert_of_a_merged_clients_dms_id_updates_the_client_kept(manager, integration):
    source = client_create(by=manager, name="Dup", dms_id="DMS-1")
    target = client_create(by=manager, name="Kept", dms_id="DMS-2")
    client_merge(source=source, target=target, by=manager)
    client, created = client_upsert_by_dms_id(by=integration, dms_id="DMS-1", name="Kept, renamed by DMS")
    assert not created
    assert client.pk == target.pk
    assert Client.objects.get(pk=target.pk).name == "Kept, renamed by DMS"


def test_vehicle_normalises_vin_and_plate(manager):
    owner = ClientFactory()
    vehicle = vehicle_create(
        by=manager, owner=owner, vin="xta21099012345678", plate="a123bc77", make="Lada", model="Vesta"
    )
    assert (vehicle.vin, vehicle.plate) == ("XTA21099012345678", "А123ВС77")


def test_bad_vin_and_plate_are_field_errors(manager):
    owner = ClientFactory()
    with pytest.raises(ValidationError) as exc:
        vehicle_create(by=manager, owner=owner, vin="XTA2109O01234567", plate="Б123ВС77", make="Lada", model="Vesta")
    assert set(exc.value.message_dict) == {"vin", "plate"}
    assert not Vehicle.objects.exists()


def test_vin_on_file_is_a_conflict_naming_the_owner(manager):
    existing = VehicleFactory(vin="XTA21099012345678")
    with pytest.raises(Conflict) as exc:
        vehicle_create(by=manager, owner=ClientFactory(), vin="xta21099012345678", make="Kia", model="Rio")
    assert exc.value.existing == existing
    assert existing.owner.name in str(exc.value.message)
    with pytest.raises(Conflict):
        vehicle_update(vehicle=VehicleFactory(), by=manager, vin="XTA21099012345678")


def test_vehicle_upsert_twice_gives_one_row(integration):
    owner = ClientFactory(dms_id="C-1")
    v1, created = vehicle_upsert_by_dms_id(
        by=integration, dms_id="V-1", owner=owner, vin="XTA21099012345678", make="Lada", model="Vesta"
    )
    v2, created_again = vehicle_upsert_by_dms_id(
        by=integration, dms_id="V-1", owner=owner, mileage=15000, make="Lada", model="Vesta"
    )
    assert (created, created_again) == (True, False)
    assert v1.pk == v2.pk
    assert Vehicle.objects.get().mileage == 15000


def test_merge_moves_vehicles_calls_and_phones_and_keeps_both_histories(manager, head):
    target = ClientFactory(name="Иванов Иван")
    PhoneFactory(client=target, number="+79123456789")
    source = ClientFactory(name="Иванов И.", email="ivanov@example.com", dms_id="D-9")
    PhoneFactory(client=source, number="+79123456789")  # the shared number that flagged them
    PhoneFactory(client=source, number="+79031112233", is_primary=False)
    vehicle = VehicleFactory(owner=source)
    call = CallFactory(client=source)

    kept = client_merge(source=source, target=target, by=head)

    assert kept.pk == target.pk
    vehicle.refresh_from_db()
    call.refresh_from_db()
    source.refresh_from_db()
    assert vehicle.owner_id == target.pk
    assert call.client_id == target.pk
    assert set(target.phones.values_list("number", flat=True)) == {"+79123456789", "+79031112233"}
    assert target.phones.filter(is_primary=True).count() == 1
    assert source.merged_into_id == target.pk and source.merged_at is not None
    target.refresh_from_db()
    assert target.email == "ivanov@example.com"
    assert target.dms_id == "D-9" and source.dms_id == ""
    # Both clients keep their history; the move of each record is in that record's history.
    assert source.history.latest().history_change_reason == f"merged into #{target.pk}"
    assert target.history.latest().history_user == head
    assert vehicle.history.latest().history_user == head
    assert vehicle.history.latest().owner_id == target.pk
    assert vehicle.history.earliest().owner_id == source.pk


def test_merge_refuses_itself_and_already_merged(head):
    a, b, c = ClientFactory(), ClientFactory(), ClientFactory()
    with pytest.raises(ValidationError):
        client_merge(source=a, target=a, by=head)
    client_merge(source=a, target=b, by=head)
    with pytest.raises(Conflict):
        client_merge(source=a, target=c, by=head)
    with pytest.raises(Conflict):
        client_update(client=a, by=head, name="x")


def test_call_to_a_merged_client_goes_to_the_client_kept(head):
    a, b = ClientFactory(), ClientFactory()
    PhoneFactory(client=b, number="+79123456789")
    client_merge(source=a, target=b, by=head)
    a.refresh_from_db()
    call = call_log(by=head, client=a, direction="in", purpose="booking", outcome="booked")
    assert call.client_id == b.pk
    assert call.phone_e164 == "+79123456789"
    assert Call.objects.count() == 1


def test_emails_are_stored_in_lower_case_and_found_exactly(manager):
    from clients.selectors import client_duplicates, search_client_ids

    first = client_create(by=manager, name="A", email=" Ivanov@Example.COM ")
    second = client_create(by=manager, name="B", email="ivanov@example.com")
    assert first.email == "ivanov@example.com"
    assert [h.client for h in client_duplicates(first)] == [second]
    assert set(search_client_ids("IVANOV@example.com")) == {first.pk, second.pk}
