"""The fleet's tile on the head's dashboard: the loaners' utilisation over the period against the previous one, and
the cars waiting for inspection."""

from datetime import date, time

import pytest

from clientdesk.calendar import at
from clientdesk.dashboard import Period
from fleet.dashboard import fleet_tile, loaner_utilisation
from fleet.models import FleetCar, Reservation
from tests.factories import ClientFactory
from tests.fleet.conftest import make_car

pytestmark = pytest.mark.django_db


def test_utilisation_is_the_share_of_the_loaners_hours_held(head):
    day = date(2026, 3, 2)
    period = Period("today", day, day)
    assert loaner_utilisation(period) is None  # no loaners, no figure
    first, _second = make_car(), make_car()
    # six hours of one of two loaners on a 24-hour day: 12.5 %; a cancelled one and one the day before do not count
    for start, end, status in ((time(9), time(15), "returned"), (time(15), time(18), "cancelled")):
        Reservation.objects.create(
            car=first,
            client=ClientFactory(),
            starts_at=at(day, start),
            ends_at=at(day, end),
            free_from=at(day, end),
            status=status,
            **(
                {"checked_out_at": at(day, start), "returned_at": at(day, end)}
                if status == "returned"
                else {"cancel_reason": "передумал"}
            ),
        )
    assert loaner_utilisation(period) == 12.5
    FleetCar.objects.filter(pk=first.pk).update(state="needs_inspection")
    figures = {f.key: f for f in fleet_tile(head, period).figures}
    assert figures["loaner-utilisation"].value == 12.5 and figures["loaner-utilisation"].previous == 0
    assert figures["fleet-inspection"].value == 1
