"""A prepared department for the dashboards: one Monday, 2 March 2026, and the Sunday before it, with calls, call
tasks, visits and survey answers placed on both sides of midnight in Europe/Moscow. The hand counts are in
`tests/reports/test_dashboard.py`, beside the figures they check."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from accounts.roles import Role
from bookings.models import Booking
from calls.models import Call, CallTask, Campaign, CampaignMember, SurveyResponse
from calls.services.surveys import survey_create
from clientdesk.calendar import at
from clientdesk.dashboard import Period
from clients.models import Delivery
from tests.factories import (
    AdvisorProfileFactory,
    BookingFactory,
    CallFactory,
    ClientFactory,
    ServiceAreaFactory,
    UserFactory,
    VehicleFactory,
)

DAY = date(2026, 3, 2)  # a Monday, a working day
BEFORE = date(2026, 3, 1)  # the Sunday before: the previous period of "that day"


def moment(day: date, hour: int, minute: int = 0) -> datetime:
    return at(day, time(hour, minute))


@pytest.fixture
def day_period() -> Period:
    return Period.of("custom", DAY, first=DAY, last=DAY)


@pytest.fixture
def colleague(db):
    return UserFactory(username="colleague", role=Role.MANAGER, first_name="Анна", last_name="Петрова")


@pytest.fixture
def department(manager, colleague, head):
    """The data set; returns the objects the tests point at."""
    area = ServiceAreaFactory(name="Слесарный цех", code="mech", daily_capacity_minutes=480)
    advisor = AdvisorProfileFactory(user__username="petrov", user__last_name="Петров").user
    client = ClientFactory(name="Иванов Иван")
    vehicle = VehicleFactory(owner=client)

    def call(who, when, seconds, direction=Call.Direction.INBOUND, **kwargs):
        return CallFactory(manager=who, client=client, started_at=when, duration=seconds, direction=direction, **kwargs)

    # Inbound calls on the day: three by the manager (one 30 minutes after midnight, one a minute before the next),
    # one by her colleague; an outbound one; on the Sunday before, two; the next day, one.
    call(manager, moment(DAY, 0, 30), 60)
    call(manager, moment(DAY, 10, 15), 120)
    call(manager, moment(DAY, 23, 59), 180)
    call(colleague, moment(DAY, 10, 45), 240)
    call(manager, moment(DAY, 11), 30, direction=Call.Direction.OUTBOUND, purpose="confirmation", outcome="confirmed")
    call(manager, moment(BEFORE, 23, 30), 30)
    call(colleague, moment(BEFORE, 12), 90)
    call(manager, moment(DAY + timedelta(days=1), 0, 10), 45)

    def booking(when, status, **kwargs):
        return BookingFactory(
            client=client, vehicle=vehicle, area=area, advisor=advisor, starts_at=when, status=status, **kwargs
        )

    b1 = booking(moment(DAY, 10), Booking.Status.COMPLETED)
    b2 = booking(moment(DAY, 11), Booking.Status.NO_SHOW)
    b3 = booking(moment(DAY, 12), Booking.Status.SCHEDULED, planned_minutes=120)
    booking(moment(DAY, 13), Booking.Status.CANCELLED)
    b4 = booking(moment(BEFORE, 10), Booking.Status.COMPLETED)

    def task(kind, due, status="open", closed=None, **target):
        return CallTask.objects.create(
            kind=kind,
            client=client,
            due_at=due,
            next_attempt_at=due,
            status=status,
            closed_at=closed,
            assignee=manager,
            **target,
        )

    d1 = Delivery.objects.create(client=client, vehicle=vehicle, delivered_at=moment(date(2026, 2, 23), 12))
    d2 = Delivery.objects.create(
        client=client, vehicle=VehicleFactory(owner=client), delivered_at=moment(date(2026, 2, 23), 13)
    )
    task("confirmation", moment(DAY, 10), "done", moment(DAY, 12), booking=b1)
    task("confirmation", moment(DAY, 10), "unreachable", moment(DAY, 18), booking=b2)
    task("confirmation", moment(DAY, 0, 30), booking=b3)  # still open, long overdue; due just after midnight
    task("follow_up", moment(DAY, 9), "done", moment(DAY + timedelta(days=1), 8, 59), delivery=d1)  # by its day
    task("follow_up", moment(DAY, 9), "done", moment(DAY + timedelta(days=1), 10), delivery=d2)  # a day late
    task("callback", moment(BEFORE, 23, 30), "done", moment(DAY, 10))  # due the evening before
    task("confirmation", moment(BEFORE, 10), "done", moment(BEFORE, 11), booking=b4)

    survey = survey_create(by=head, name="CSI")
    deliveries = [
        Delivery.objects.create(client=client, vehicle=VehicleFactory(owner=client), delivered_at=moment(BEFORE, 9))
        for _ in range(5)
    ]

    def answer(delivery, when, csi, declined=False):
        SurveyResponse.objects.create(
            delivery=delivery, survey=survey, taken_by=manager, answered_at=when, csi=csi, declined=declined
        )

    answer(deliveries[0], moment(DAY, 0, 20), Decimal("80.0"))
    answer(deliveries[1], moment(DAY, 15), Decimal("100.0"))
    answer(deliveries[2], moment(DAY, 16), None, declined=True)
    answer(deliveries[3], moment(BEFORE, 23, 50), Decimal("60.0"))
    answer(deliveries[4], moment(date(2026, 1, 20), 12), Decimal("70.0"))

    # A campaign calling that week: of three members, one called, one waiting, one not planned yet (tasks due on the
    # Wednesday, outside the day's counts).
    campaign = Campaign.objects.create(
        name="Шины", script="Скидка", starts_on=DAY, ends_on=DAY + timedelta(days=4), status=Campaign.Status.RUNNING
    )
    members = [CampaignMember.objects.create(campaign=campaign, client=ClientFactory(), planned_for=DAY) for _ in "abc"]
    wednesday = moment(DAY + timedelta(days=2), 10)
    task("campaign", wednesday, "done", wednesday, campaign_member=members[0])
    task("campaign", wednesday, campaign_member=members[1])
    return {"area": area, "advisor": advisor, "client": client, "campaign": campaign}
