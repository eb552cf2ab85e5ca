"""seed_claims: the claims demo goes through the services, has each state, and adds nothing when run again."""

import pytest
from django.core.management.base import CommandError

from claims.models import Claim
from clientdesk.models import Notification
from tests.commands import run


def test_needs_the_demo_department_first(categories):
    with pytest.raises(CommandError, match="seed_demo"):
        run("seed_claims")


def test_the_claims_demo_has_every_state_and_is_loaded_once(categories):
    run("seed_demo")
    output = run("seed_claims")
    assert "6 claims" in output
    states = sorted(Claim.objects.values_list("status", flat=True))
    assert states == sorted(["registered", "under_review", "under_review", "escalated", "decided", "closed"])
    escalated = Claim.objects.get(status="escalated")
    assert Notification.objects.filter(user__username="workshop_mgmt", title__contains=escalated.number).exists()
    assert all(claim.source_call_id for claim in Claim.objects.all())
    assert "no claims demo added" in run("seed_claims")
    assert Claim.objects.count() == 6
