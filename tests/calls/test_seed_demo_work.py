"""seed_demo_work: the demo department at work keeps every rule typed-in work keeps, fills the pages `make run` opens
on, and adds nothing when run again."""

import pytest
from django.core.management.base import CommandError
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from bookings.models import Booking, BookingTransition, RecallVin
from bookings.services.bookings import ALLOWED_TRANSITIONS
from calls.models import CallTask, Campaign, Survey, SurveyResponse
from calls.selectors import manager_queue
from calls.services.surveys import csi_report
from clientdesk.calendar import BusinessCalendar, local_date
from clients.models import Delivery
from tests.commands import run

S = Booking.Status


@pytest.fixture
def demo(db):
    run("seed_demo")
    run("seed_workshop")
    return run("seed_demo_work")


def test_needs_the_demo_department_first(db):
    with pytest.raises(CommandError, match="seed_demo"):
        run("seed_demo_work")


def test_bookings_past_today_and_coming_keep_the_booking_rules(demo):
    now = timezone.now()
    today = local_date(now)
    calendar = BusinessCalendar()
    assert "Demo work loaded" in demo
    bookings = list(Booking.objects.select_related("client", "vehicle").prefetch_related("transitions"))
    past = [b for b in bookings if local_date(b.starts_at) < today]
    coming = [b for b in bookings if local_date(b.starts_at) > today]
    assert len(past) > 20 and len(coming) > 20
    # Every visit on a working day, inside its hours, with the car of its client.
    for booking in bookings:
        hours = calendar.hours(local_date(booking.starts_at))
        assert hours is not None and hours.start <= booking.starts_at and booking.advisor_until <= hours.end
        assert booking.vehicle.owner_id == booking.client_id
        booking.full_clean()
    # What has passed is closed: done, no-show or cancelled (with its reason); what is coming is still open.
    assert {b.status for b in past} <= {S.COMPLETED, S.NO_SHOW, S.CANCELLED}
    assert all(b.cancel_reason for b in past if b.status == S.CANCELLED)
    assert {b.status for b in coming} <= {S.SCHEDULED, S.CONFIRMED}
    assert any(b.status == S.CONFIRMED for b in coming)
    # No advisor is booked twice at once.
    for advisor_id in {b.advisor_id for b in bookings}:
        slots = sorted((b.starts_at, b.advisor_until) for b in bookings if b.advisor_id == advisor_id)
        assert all(earlier[1] <= later[0] for earlier, later in zip(slots, slots[1:], strict=False))
    # Each has its trail: booked first, then only allowed steps, in order, ending at its status.
    for booking in bookings:
        trail = list(booking.transitions.all())
        assert trail[0].from_status == "" and trail[0].to_status == S.SCHEDULED
        for step in trail[1:]:
            assert step.to_status in ALLOWED_TRANSITIONS[step.from_status]
        assert trail[-1].to_status == booking.status
        assert [t.at for t in trail] == sorted(t.at for t in trail)
        assert all(t.at <= now for t in trail)


def test_the_board_the_queue_the_recall_and_the_survey_have_work_to_show(demo, client):
    today = local_date(timezone.now())
    manager = User.objects.get(username="manager1")
    # Handovers of the delivered cars, and the survey the follow-up calls ask.
    assert Delivery.objects.count() > 5
    assert Survey.objects.get(is_active=True).questions.count() == 4
    # Last year's buyers answered it on their 7th-day call: the CSI report has figures.
    report = csi_report()
    assert any(month["csi"] is not None for month in report["months"])
    assert all(r.answered_at > r.delivery.delivered_at for r in SurveyResponse.objects.select_related("delivery"))
    # An open recall on cars booked in the coming days: the warning shows on their bookings.
    booked_vins = set(
        Booking.objects.filter(starts_at__date__gt=today, vehicle__isnull=False).values_list("vehicle__vin", flat=True)
    )
    assert RecallVin.objects.filter(vin__in=booked_vins, done_at__isnull=True).exists()
    # A running campaign of consenting clients only.
    campaign = Campaign.objects.get(status=Campaign.Status.RUNNING)
    assert campaign.members.exists()
    assert not campaign.members.filter(client__consent_marketing=False).exists()
    # The planners ran: a confirmation for each scheduled visit of the next working day, dealt to the managers.
    next_day = BusinessCalendar().next_working_day(today)
    scheduled = Booking.objects.filter(starts_at__date=next_day, status=S.SCHEDULED)
    confirmations = CallTask.objects.filter(kind=CallTask.Kind.CONFIRMATION)
    assert set(confirmations.values_list("booking", flat=True)) == set(scheduled.values_list("pk", flat=True))
    assert not CallTask.objects.filter(assignee__isnull=True).exists()
    assert CallTask.objects.values("assignee").annotate(n=Count("id")).count() == 2
    # The pages a newcomer opens first show it.
    client.force_login(manager)
    assert client.get(reverse("calls:queue")).status_code == 200
    assert manager_queue(manager).counts or not CallTask.objects.filter(assignee=manager).exists()
    board = client.get(reverse("bookings:board"))
    assert board.status_code == 200
    if BusinessCalendar().is_working_day(today):
        assert Booking.objects.filter(starts_at__date=today).exists()


def test_running_it_again_adds_nothing(demo):
    counts = (Booking.objects.count(), BookingTransition.objects.count(), CallTask.objects.count())

    output = run("seed_demo_work")

    assert "already has bookings" in output
    assert (Booking.objects.count(), BookingTransition.objects.count(), CallTask.objects.count()) == counts
