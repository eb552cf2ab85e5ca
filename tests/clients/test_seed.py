"""The demo and scale data sets: what they create, that it passes the same rules as typed-in data, and that they can
be run again safely."""

from datetime import timedelta

import pytest
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiKey, User
from accounts.roles import Role
from bench.management.commands.seed_large import MODELS, Schema
from calls.models import Call
from clientdesk.models import Heartbeat
from clients.models import Client, ClientPhone, Vehicle
from clients.normalize import PLATE_RE, VIN_RE, normalize_phone, normalize_plate, normalize_vin
from clients.selectors import duplicate_phone_groups
from clients.services.clients import client_create
from demo.data import DEMO_INTEGRATION, DEMO_PASSWORD, DEMO_STAFF
from tests.commands import run


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    """The demo key is saved beside the embedded database; tests keep it in their own folder."""
    settings.VAR_DIR = tmp_path
    return tmp_path


def row_counts() -> dict[str, int]:
    models = [User, ApiKey, Client, ClientPhone, Vehicle, Call]
    models += [m.history.model for m in (User, Client, ClientPhone, Vehicle, Call)]
    return {m._meta.label: m._default_manager.count() for m in models}


# --- seed_demo ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_demo_creates_the_demo_logins_with_their_roles():
    run("seed_demo")

    for spec in DEMO_STAFF:
        user = User.objects.get(username=spec.username)
        assert user.role == spec.role
        assert user.check_password(DEMO_PASSWORD)
    assert {s.username: s.role for s in DEMO_STAFF} == {
        "head": Role.HEAD,
        "manager1": Role.MANAGER,
        "manager2": Role.MANAGER,
        "advisor": Role.ADVISOR,
        "transport": Role.TRANSPORT_HEAD,
        "workshop_mgmt": Role.WORKSHOP_MANAGEMENT,
        "sales_mgmt": Role.SALES_MANAGEMENT,
        "legal": Role.LEGAL,
    }
    dms = User.objects.get(username=DEMO_INTEGRATION.username)
    assert dms.role == Role.INTEGRATION
    assert not dms.has_usable_password()
    assert ApiKey.objects.active().filter(user=dms).count() == 1


@pytest.mark.django_db
def test_the_printed_api_key_lets_the_dms_read_the_api():
    output = run("seed_demo")

    raw_key = output.split("(make run prints it again): ", 1)[1].split()[0]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    response = api.get("/api/v1/clients/", {"source": "dms"})
    assert response.status_code == 200
    assert response.json()["results"]


@pytest.mark.django_db
def test_seed_demo_stores_phones_vins_and_plates_in_their_normalised_forms():
    run("seed_demo")

    assert 55 <= Client.objects.count() <= 65
    assert Client.objects.filter(kind=Client.Kind.COMPANY).exists()
    for phone in ClientPhone.objects.all():
        assert normalize_phone(phone.number) == phone.number
        assert phone.number.startswith("+79")
    per_client = Client.objects.annotate(
        phones_n=Count("phones"), primaries=Count("phones", filter=Q(phones__is_primary=True))
    )
    assert all(c.primaries == 1 for c in per_client)
    assert any(c.phones_n == 2 for c in per_client)

    vehicles = list(Vehicle.objects.all())
    assert 70 <= len(vehicles) <= 90
    assert len({v.make for v in vehicles}) >= 6
    for vehicle in vehicles:
        assert VIN_RE.match(vehicle.vin) and normalize_vin(vehicle.vin) == vehicle.vin
        if vehicle.plate:
            assert PLATE_RE.match(vehicle.plate) and normalize_plate(vehicle.plate) == vehicle.plate
    recent = timezone.now() - timedelta(days=30)
    assert any(v.delivered_at and v.delivered_at >= recent for v in vehicles)

    assert not Client.objects.filter(consent_personal_data=True, consent_personal_data_at__isnull=True).exists()
    assert not Client.objects.filter(consent_marketing=True, consent_marketing_at__isnull=True).exists()


@pytest.mark.django_db
def test_seed_demo_logs_a_month_of_calls_that_keep_the_call_rules():
    run("seed_demo")

    calls = list(Call.objects.select_related("client", "vehicle"))
    assert len(calls) == 200
    assert {c.direction for c in calls} == {Call.Direction.INBOUND, Call.Direction.OUTBOUND}
    assert len({c.outcome for c in calls}) >= 5
    now = timezone.now()
    for call in calls:
        call.full_clean()
        assert now - timedelta(days=31) <= call.started_at <= now
        if call.direction == Call.Direction.INBOUND:
            assert call.outcome not in Call.OUTBOUND_ONLY_OUTCOMES
        if call.purpose == Call.Purpose.CAMPAIGN:
            assert call.client.consent_marketing
    assert any(c.client is None and c.phone_e164 for c in calls)
    assert any(c.purpose == Call.Purpose.FOLLOW_UP and c.vehicle for c in calls)


@pytest.mark.django_db
def test_seed_demo_leaves_likely_duplicates_for_the_head():
    run("seed_demo")

    groups, _next = duplicate_phone_groups()
    assert len(groups) >= 2
    assert all(len(g["clients"]) >= 2 for g in groups)


@pytest.mark.django_db
def test_seed_demo_twice_creates_nothing_new():
    run("seed_demo")
    before = row_counts()

    output = run("seed_demo")

    assert row_counts() == before
    assert "already loaded" in output
    assert "make run prints it again" not in output


@pytest.mark.django_db
def test_seed_demo_gives_the_same_people_and_cars_for_the_same_seed():
    def snapshot():
        return (
            sorted(Client.objects.values_list("name", flat=True)),
            sorted(Vehicle.objects.values_list("vin", flat=True)),
        )

    run("seed_demo")
    first = snapshot()
    Call.objects.all().delete()
    Vehicle.objects.all().delete()
    Client.objects.all().delete()
    ApiKey.objects.all().delete()
    User.objects.all().delete()

    run("seed_demo")

    assert snapshot() == first


@pytest.mark.django_db
def test_banner_shows_the_address_the_logins_and_the_api_docs():
    output = run("banner", address="http://127.0.0.1:8000")

    assert "http://127.0.0.1:8000/" in output
    assert "http://127.0.0.1:8000/api/docs/" in output
    assert DEMO_PASSWORD in output
    for spec in DEMO_STAFF:
        assert spec.username in output
    assert "worker" in output and "beat" in output
    assert "Api-Key" not in output  # no demo loaded, no key to show


def banner_key(output: str) -> str:
    return output.split("Authorization: Api-Key ", 1)[1].split()[0]


@pytest.mark.django_db
def test_banner_prints_the_same_working_demo_key_on_every_run():
    # given the demo loaded once
    seeded = run("seed_demo").split("(make run prints it again): ", 1)[1].split()[0]
    # when make run starts twice
    first, second = banner_key(run("banner", address="http://x/")), banner_key(run("banner", address="http://x/"))
    # then both banners show the key seed_demo made, and it lets the DMS in
    assert first == second == seeded
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {first}")
    assert api.get("/api/v1/clients/").status_code == 200


@pytest.mark.django_db
def test_banner_replaces_a_demo_key_the_head_revoked(var_dir):
    run("seed_demo")
    old = banner_key(run("banner", address="http://x/"))
    ApiKey.objects.update(revoked_at=timezone.now())

    new = banner_key(run("banner", address="http://x/"))

    assert new != old
    assert ApiKey.objects.active().filter(user__username=DEMO_INTEGRATION.username).count() == 1
    assert (var_dir / "demo-api-key").read_text().strip() == new
    assert (var_dir / "demo-api-key").stat().st_mode & 0o077 == 0


# --- seed_large --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_large_refuses_sqlite_clearly():
    if connection.vendor == "postgresql":
        pytest.skip("checks the refusal on the embedded SQLite")
    with pytest.raises(CommandError, match="PostgreSQL"):
        run("seed_large", clients=10, vehicles=10, calls=10)


SMALL = {"clients": 300, "vehicles": 400, "calls": 2000}


def schema_now() -> list[tuple]:
    with connection.cursor() as cursor:
        return Schema(cursor, [m._meta.db_table for m in MODELS]).snapshot()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_seed_large_loads_data_that_keeps_every_rule():
    schema_before = schema_now()

    run("seed_large", verbosity=0, **SMALL)

    assert Client.objects.count() == 300
    assert Vehicle.objects.count() == 400
    assert Call.objects.count() == 2000
    phones = ClientPhone.objects.count()
    assert 300 * 1.1 < phones < 300 * 1.35
    primaries = Client.objects.annotate(n=Count("phones", filter=Q(phones__is_primary=True)))
    assert set(primaries.values_list("n", flat=True)) == {1}
    for number in ClientPhone.objects.values_list("number", flat=True):
        assert normalize_phone(number) == number
    vins = [v for v in Vehicle.objects.values_list("vin", flat=True) if v]
    assert len(vins) == len(set(vins))
    assert all(VIN_RE.match(v) for v in vins)
    assert all(PLATE_RE.match(p) for p in Vehicle.objects.exclude(plate="").values_list("plate", flat=True))
    assert not Call.objects.filter(direction="in", outcome__in=["no_answer", "busy"]).exists()
    unknown_callers = Call.objects.filter(client__isnull=True)
    assert unknown_callers.exists()
    assert not unknown_callers.filter(phone_e164="").exists()
    assert duplicate_phone_groups()[0]
    assert User.objects.filter(role=Role.MANAGER).count() >= 20
    # The indexes and constraints dropped for the load came back exactly as they were.
    assert schema_now() == schema_before
    # The sequences moved past the copied ids: the services can add rows at once.
    assert client_create(by=None, name="Новый клиент").pk == 301


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_seed_large_reuse_keeps_a_finished_load_and_reloads_a_smaller_one():
    run("seed_large", verbosity=0, **SMALL)
    marker = Heartbeat.objects.get(name="seed_large").beat_at

    output = run("seed_large", "--reuse", **SMALL)

    assert "reusing it" in output
    assert Heartbeat.objects.get(name="seed_large").beat_at == marker
    assert Call.objects.count() == 2000

    run("seed_large", "--reuse", verbosity=0, **{**SMALL, "clients": 350})

    assert Client.objects.count() == 350
    assert Heartbeat.objects.get(name="seed_large").beat_at > marker
