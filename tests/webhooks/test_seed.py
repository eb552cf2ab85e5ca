import pytest
from django.core.management import call_command

from webhooks.models import Endpoint

pytestmark = pytest.mark.django_db


def test_seed_webhooks_adds_the_demo_endpoint_once(integration, monkeypatch):
    monkeypatch.setattr("demo.data.DEMO_INTEGRATION", type("U", (), {"username": integration.username})())
    call_command("seed_webhooks")
    call_command("seed_webhooks")
    endpoint = Endpoint.objects.get()
    assert endpoint.owner == integration and not endpoint.is_active and endpoint.disabled_reason
