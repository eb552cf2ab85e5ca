"""The whole OpenAPI, fuzzed as an integrator's tool would: schemathesis generates requests for every operation from
the schema (a fixed seed, a bounded number of examples each) and sends them, with the DMS's API key, to a live server
on the test database. No input may reach a server error, and every answer's status code must be one the schema
documents."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from accounts.services.users import api_key_create
from tests.factories import CallFactory, ClientFactory, PhoneFactory, VehicleFactory

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SEED = 20261206
EXAMPLES = 10
CHECKS = os.environ.get("FUZZ_CHECKS", "not_a_server_error")


@pytest.fixture
def records(transactional_db):
    """A few rows for the operations that read one by id (the fuzzer also tries ids that are not there)."""
    for _ in range(3):
        client = ClientFactory()
        PhoneFactory(client=client)
        VehicleFactory(owner=client)
        CallFactory(client=client)


def test_no_generated_request_reaches_a_server_error(live_server, integration, head, records, tmp_path):
    _key, raw = api_key_create(user=integration, name="fuzzer", by=head)
    report = tmp_path / "schemathesis.txt"
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        f"{live_server.url}/api/schema/",
        "--header",
        f"Authorization: Api-Key {raw}",
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
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    report.write_text(result.stdout + result.stderr)
    tail = (result.stdout + result.stderr)[-6000:]
    assert result.returncode == 0, tail
    # It ran the whole schema: every operation selected was tested (a schema it could not read fails above).
    selected = next(line for line in result.stdout.splitlines() if "Selected:" in line).split()[-1]
    tested = next(line for line in result.stdout.splitlines() if "Tested:" in line).split()[-1]
    assert tested == selected.split("/")[0], tail
