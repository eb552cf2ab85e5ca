"""seed_reception: the reception's demo goes through the services, shows what each desk flags, and adds nothing when
run again."""

import pytest
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.models import User
from reception.models import PrintedMaterial, TintConsultation, TowContractor, TowOrder
from reception.selectors.materials import materials_attention
from reception.selectors.tow import tow_board
from tests.commands import run


def test_needs_the_demo_department_first(db):
    with pytest.raises(CommandError, match="seed_demo"):
        run("seed_reception")


def test_the_reception_demo_flags_what_each_desk_shows_and_is_loaded_once(db):
    run("seed_demo")
    run("seed_workshop")
    output = run("seed_reception")
    assert "3 tow orders" in output
    manager = User.objects.get(username="manager1")

    board = tow_board(user=manager, now=timezone.now())
    assert len(board.rows) == 2 and board.overdue == 1
    failed = TowOrder.objects.get(status="failed")
    assert failed.cost and failed.transitions.count() == 3
    attention = materials_attention(user=manager)
    assert (attention.low, attention.stale) == (1, 1)
    assert TintConsultation.objects.get().warning

    assert "no reception demo added" in run("seed_reception")
    assert (TowContractor.objects.count(), TowOrder.objects.count(), PrintedMaterial.objects.count()) == (2, 3, 5)
