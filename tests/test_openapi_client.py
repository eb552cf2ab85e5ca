"""The OpenAPI document is complete enough to generate a working client: openapi-python-client (from PyPI, as a DMS
programmer would use it) generates one from the document a live server serves, and the client, with an API key,
upserts a client by DMS id and reads it back in the list, typed as the document says."""

import importlib
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from accounts.services.users import api_key_create
from clients.models import Client
from tests.factories import ClientFactory, PhoneFactory

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PACKAGE = "clientdesk_client"
# The generated package as it is (no formatting hooks: ruff need not be on PATH), under a name of our own.
CONFIG = f"package_name_override: {PACKAGE}\nproject_name_override: clientdesk-client\npost_hooks: []\n"


def schema_of(url: str, raw_key: str) -> bytes:
    request = urllib.request.Request(  # noqa: S310 - the test's own live server
        f"{url}/api/schema/?format=json", headers={"Authorization": f"Api-Key {raw_key}"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return response.read()


def generate(schema: bytes, workdir: Path):
    (workdir / "openapi.json").write_bytes(schema)
    (workdir / "config.yaml").write_text(CONFIG)
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("openapi-python-client")),
            "generate",
            "--path",
            "openapi.json",
            "--output-path",
            PACKAGE,
            "--meta",
            "none",
            "--config",
            "config.yaml",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=workdir,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Every operation became a function: the generator skips (with a warning) what it cannot read.
    assert "Unable to" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(workdir))
    importlib.invalidate_caches()
    return importlib.import_module(PACKAGE)


@pytest.fixture
def generated(transactional_db, live_server, integration, head, tmp_path):
    _key, raw = api_key_create(user=integration, name="generated client", by=head)
    package = generate(schema_of(live_server.url, raw), tmp_path)
    try:
        yield package, package.AuthenticatedClient(base_url=live_server.url, token=raw, prefix="Api-Key")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def test_a_generated_client_upserts_and_lists_clients(generated):
    package, api = generated
    upsert = importlib.import_module(f"{PACKAGE}.api.v1.v1_clients_dms_update")
    listing = importlib.import_module(f"{PACKAGE}.api.v1.v1_clients_list")
    models = importlib.import_module(f"{PACKAGE}.models")
    other = ClientFactory(name="Пётр Другой")
    PhoneFactory(client=other)

    # when: the DMS pushes a client by its own id, with a phone in its own written form
    body = models.ClientInputRequest(
        name="Анна Петрова",
        email="anna@example.ru",
        consent_personal_data=True,
        phones=[models.PhoneRequest(number="8 (916) 555-12-34", kind=models.PhoneKindEnum.MOBILE, is_primary=True)],
    )
    created = upsert.sync_detailed("DMS-7/1", client=api, body=body)

    # then: 201 and the record as the document describes it, typed
    assert created.status_code == 201, created.content
    record = created.parsed
    assert isinstance(record, models.Client)
    assert (record.name, record.dms_id, record.email) == ("Анна Петрова", "DMS-7/1", "anna@example.ru")
    assert [phone.number for phone in record.phones] == ["+79165551234"]
    assert Client.objects.get(pk=record.id).dms_id == "DMS-7/1"

    # when: the same push again
    again = upsert.sync_detailed("DMS-7/1", client=api, body=body)
    # then: 200, the same row
    assert again.status_code == 200, again.content
    assert again.parsed.id == record.id

    # when: the list, filtered by the DMS id, and unfiltered
    found = listing.sync(client=api, dms_id="DMS-7/1")
    everyone = listing.sync(client=api, page_size=10)

    # then: the list is a page of typed clients (the blank e-mail of the other one reads as documented)
    assert [row.id for row in found.results] == [record.id]
    assert {row.id for row in everyone.results} == {record.id, other.pk}
    assert next(row for row in everyone.results if row.id == other.pk).name == "Пётр Другой"
    assert everyone.next_ is None or isinstance(everyone.next_, str)
    json.dumps(everyone.to_dict())  # the page round-trips to JSON as the generated models write it
