"""The whole OpenAPI, fuzzed as an integrator's tool would: schemathesis generates requests for every operation from
the schema (a fixed seed, a bounded number of examples each) and sends them to a live server on the test database,
with every check it has: no server error, every status code, content type, header and body one the schema documents,
every request the schema allows accepted and every one it forbids refused.

Two passes: the DMS's API key over every operation; then the operations that answered it only 401/403 (claims, the
fleet's and the reception's writes, webhooks: staff work) once more as a superuser's session, so that each operation is
also fuzzed past its permission check.

What a schema cannot say is given to the fuzzer instead of excused (`fuzz_config`): the ids of rows that exist (a
filter or a body naming a client is valid only for a client that is there), cursors the API gave out (a cursor is
opaque), valid phones and VINs. The operations whose writes depend on more than that — the state of the record or of
the calendar, one field agreeing with another — are listed in `RULES_BEYOND_THE_SCHEMA`, each with why, and may answer
those writes 400; every other check still runs on them."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client as DjangoClient

from accounts.models import Role
from accounts.services.users import api_key_create
from claims.models import ClaimCategory
from reception.models import TowContractor
from tests.factories import (
    CallFactory,
    ClientFactory,
    PhoneFactory,
    ServiceTypeFactory,
    UserFactory,
    VehicleFactory,
    advisor,
)
from tests.fleet.conftest import make_car

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SEED = 20261206
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
CHECKS = os.environ.get("FUZZ_CHECKS", "all")

# Cursors valid on every list whatever its ordering: the first page, the first page read backwards, one row in. A cursor
# is opaque (base64 of the API's own position): a made-up one is a 400 (tests/test_api_input.py), so the fuzzer takes
# these instead of inventing strings that the schema cannot tell from real ones.
CURSORS = ["", "cj0x", "bz0x"]

# A phone is read by phonenumbers in any written form and a VIN forgives look-alike letters (the schema's descriptions
# say so): no pattern can say which strings those are, so valid ones are given.
PHONES = ["+79161234567", "8 (916) 123-45-68", "+7 495 123-45-67"]
VINS = ["XTA21099043456789", "Z94CB41AAGR323020", "xta21099043456780"]

# Operations whose writes are accepted only in a state the schema cannot describe: a schema says what a field may hold,
# not whether the slot is free, the record is in a state that allows the step, or another field of the stored record
# agrees. A 400 naming the rule is the right answer there; everything else (a 5xx, an undocumented code, a body not as
# documented, a request the schema forbids let through) still fails the run.
CALENDAR = "a booking needs a free slot of the advisor's calendar for the service types' minutes, on a working day"
PHONES_ONCE = "each phone once in a client's list, as phonenumbers reads it; marketing consent only with data consent"
NAMED_RECORDS = "the buyer, the vehicle or the owner named by id, DMS id or VIN must exist and agree with each other"
RULES_BEYOND_THE_SCHEMA = {
    "POST /api/v1/bookings/": CALENDAR,
    "POST /api/v1/bookings/{id}/reschedule/": CALENDAR,
    "POST /api/v1/clients/": PHONES_ONCE,
    "PUT /api/v1/clients/{id}/": PHONES_ONCE,
    "PATCH /api/v1/clients/{id}/": PHONES_ONCE,
    "PUT /api/v1/clients/dms/{dms_id}/": PHONES_ONCE,
    "POST /api/v1/deliveries/": NAMED_RECORDS,
    "PUT /api/v1/deliveries/dms/{dms_id}/": NAMED_RECORDS,
    "POST /api/v1/vehicles/": NAMED_RECORDS,
    "PUT /api/v1/vehicles/{id}/": NAMED_RECORDS,
    "PATCH /api/v1/vehicles/{id}/": NAMED_RECORDS,
    "PUT /api/v1/vehicles/dms/{dms_id}/": NAMED_RECORDS,
    "POST /api/v1/documents/": NAMED_RECORDS + " (and a booking or a delivery, which the fuzz data has none of)",
    "POST /api/v1/documents/{id}/transition/": "the step must be one the document's state allows; lost, replaced and a "
    "return to draft need a `comment`",
    "POST /api/v1/recall-campaigns/": "a campaign ends after it starts",
    "PATCH /api/v1/recall-campaigns/{id}/": "a campaign ends after it starts (the stored dates count too)",
    "POST /api/v1/recall-campaigns/{id}/vins/": "a file's rows must be VINs",
    "GET /api/v1/fleet-free-cars/": "the car comes back after it goes out, within two months",
    "GET /api/v1/free-slots/": "a period of at most 14 days",
    "POST /api/v1/calls/": "a call names a client or a phone number",
    "PUT /api/v1/calls/{id}/": "the vehicle must be the client's",
    "PATCH /api/v1/calls/{id}/": "the vehicle must be the client's",
    "POST /api/v1/claims/{id}/inform-call/": "a recorded call, or the notes of the call to record",
    "POST /api/v1/tow-orders/": "a client, or the caller's name",
    "POST /api/v1/fleet-reservations/": "the car must be free and insured through the interval, with a client or a "
    "new contact",
    "POST /api/v1/test-drives/": "the car must be free through the interval, with a client or a new contact",
    "POST /api/v1/tow-orders/{id}/delivered/": "the booking named must exist (the fuzz data has none)",
    "POST /api/v1/claims/": "the delivery or booking named must exist (the fuzz data has none)",
    "POST /api/v1/claims/{id}/decide/": "a compensation needs its kind, and the decision must fit the claim's state",
}


EXPECT_400 = 'checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409"]'


def fuzz_config(*, ids: dict[str, list[int]]) -> str:
    """schemathesis.toml: dictionaries of existing ids and valid cursors, bound to the parameters that take them."""
    lines = ["[dictionaries]"]
    lines.append(f"cursors = {{ values = {json.dumps(CURSORS)} }}")
    for name, values in ids.items():
        lines.append(f"{name} = {{ values = {json.dumps(values)} }}")
    lines.append(f"phones = {{ values = {json.dumps(PHONES)} }}")
    lines.append(f"vins = {{ values = {json.dumps(VINS)} }}")
    lines += [
        "",
        # PostgreSQL's text cannot hold NUL: the API refuses it with a 400 naming the field (tests/test_api_input.py).
        "[generation]",
        "allow-x00 = false",
        "",
        "[parameters]",
        '"query.cursor" = { dictionary = "cursors" }',
        '"body.phones[*].number" = { dictionary = "phones" }',
        '"body.vins[*]" = { dictionary = "vins" }',
        '"body.vin" = { dictionary = "vins" }',
    ]
    for parameter, dictionary in REFERENCES.items():
        lines.append(f'"{parameter}" = {{ dictionary = "{dictionary}" }}')
    operations = {name: [f"# {why}", EXPECT_400] for name, why in RULES_BEYOND_THE_SCHEMA.items()}
    # The free slots of the service types given: an array parameter, which a dictionary of single ids cannot fill.
    # A webhook endpoint's owner is an integration user (elsewhere `owner` is a vehicle's owner, a client).
    for name in ("POST /api/v1/webhook-endpoints/", "PATCH /api/v1/webhook-endpoints/{id}/"):
        operations.setdefault(name, []).append('parameters = { "body.owner" = { dictionary = "integrations" } }')
    service_types = json.dumps(ids["service_types"])
    operations["GET /api/v1/free-slots/"].append(f"parameters = {{ service_types = {service_types} }}")
    for name, entries in operations.items():
        lines += ["", "[[operations]]", f'include-name = "{name}"', *entries]
    return "\n".join(lines) + "\n"


# Parameter (location.name) -> the dictionary of ids it refers to.
REFERENCES = {
    "query.client": "clients",
    "body.client": "clients",
    "query.owner": "clients",
    "body.owner": "clients",
    "query.vehicle": "vehicles",
    "body.vehicle": "vehicles",
    "query.advisor": "advisors",
    "body.advisor": "advisors",
    "body.new_advisor": "advisors",
    "query.manager": "managers",
    "query.assignee": "managers",
    "query.assigned_manager": "managers",
    "body.assigned_manager": "managers",
    "query.area": "areas",
    "body.area": "areas",
    "body.service_types[*]": "service_types",
    "query.category": "categories",
    "body.category": "category_codes",
    "body.car": "cars",
    "query.contractor": "contractors",
    "body.contractor": "contractors",
}


@pytest.fixture
def records(transactional_db, manager, integration, workshop_mgmt, sales_mgmt):
    """A few rows for the operations that read one by id and for the ids a valid request names (and someone in each
    management, whom a claim can be escalated to)."""
    clients, vehicles = [], []
    for _ in range(3):
        client = ClientFactory()
        PhoneFactory(client=client)
        vehicles.append(VehicleFactory(owner=client).pk)
        CallFactory(client=client)
        clients.append(client.pk)
    service_type = ServiceTypeFactory()
    category, _ = ClaimCategory.objects.get_or_create(code="fuzz", defaults={"name": "Прочее", "term_days": 10})
    contractor = TowContractor.objects.create(name="Эвакуатор")
    car = make_car()
    return {
        "clients": clients,
        "vehicles": vehicles,
        "advisors": [advisor().pk],
        "managers": [manager.pk],
        "areas": [service_type.area_id],
        "service_types": [service_type.pk],
        "categories": [category.pk],
        "category_codes": [category.code],
        "contractors": [contractor.pk],
        "cars": [car.pk],
        "integrations": [integration.pk],
    }


def run_schemathesis(url: str, config: str, workdir: Path, *options: str) -> tuple[int, str]:
    (workdir / "schemathesis.toml").write_text(config)
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(workdir / "schemathesis.toml"),
        "run",
        f"{url}/api/schema/",
        "--checks",
        CHECKS,
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        "--phases",
        "examples,fuzzing",
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--no-color",
        *options,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=workdir)
    return result.returncode, result.stdout + result.stderr


def refused_operations(output: str) -> list[str]:
    """The operations schemathesis reports as answering only 401/403 ("- GET /api/v1/…" under "403 Forbidden (…)")."""
    names, listing = [], False
    for line in output.splitlines():
        if line.startswith(("401 Unauthorized (", "403 Forbidden (")):
            listing = True
        elif listing and line.startswith("  - "):
            names.append(line[4:].strip())
        elif listing and line.strip():
            listing = False
    return names


def ran_everything(output: str) -> bool:
    selected = next(line for line in output.splitlines() if "Selected:" in line).split()[-1]
    tested = next(line for line in output.splitlines() if "Tested:" in line).split()[-1]
    return tested == selected.split("/")[0]


def test_the_api_answers_as_its_openapi_says(live_server, integration, head, records, tmp_path):
    config = fuzz_config(ids=records)

    # as the DMS: every operation, with its API key
    _key, raw = api_key_create(user=integration, name="fuzzer", by=head)
    status, output = run_schemathesis(live_server.url, config, tmp_path, "--header", f"Authorization: Api-Key {raw}")
    (tmp_path / "schemathesis-key.txt").write_text(output)
    assert status == 0, output[-8000:]
    assert ran_everything(output), output[-8000:]  # a schema it could not read fails above

    # as staff: what the key may not do, with a superuser's session (and its CSRF token, as a browser sends it)
    refused = refused_operations(output)
    assert len(refused) > 10, output[-8000:]  # the staff-only operations: claims, fleet, webhooks…
    superuser = UserFactory(username="root", role=Role.HEAD, is_superuser=True)
    browser = DjangoClient()
    browser.force_login(superuser)
    session, token = browser.cookies[settings.SESSION_COOKIE_NAME].value, "fuzz" * 8
    selection = [option for name in refused for option in ("--include-name", name)]
    status, output = run_schemathesis(
        live_server.url,
        config,
        tmp_path,
        "--header",
        f"Cookie: {settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={token}",
        "--header",
        f"X-CSRFToken: {token}",
        # ignored_auth sends a bad Authorization header and expects a refusal; the session cookie, a fixed header here,
        # rightly still signs the request in.
        "--exclude-checks",
        "ignored_auth",
        *selection,
    )
    (tmp_path / "schemathesis-session.txt").write_text(output)
    assert status == 0, output[-8000:]
    assert ran_everything(output), output[-8000:]
    assert not refused_operations(output), output[-8000:]  # each was fuzzed past its permission check
