from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings.models import Booking
from bookings.selectors.board import LATE_AFTER, board_version_now, day_board
from bookings.selectors.slots import Slot
from bookings.services.bookings import booking_create, booking_transition
from bookings.services.recalls import recall_campaign_create, recall_vins_import
from clientdesk.calendar import day_bounds, local_date
from clientdesk.models import Notification
from tests.bookings.conftest import moment
from tests.factories import BookingFactory, ClientFactory, UserFactory, VehicleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def noon(travel, day):
    """Noon of a working day, for today's board whatever the real clock says (at 00:20, "40 minutes ago" is
    yesterday and the visit is not on today's board)."""
    travel(moment(day, 12))
    return timezone.now()


def slot_key(advisor, when) -> str:
    return Slot(advisor.pk, str(advisor), when, when).key


def test_booking_form_shows_data_warnings_and_the_recall(as_manager, head, petrov, to2, day):
    client = ClientFactory(consent_personal_data=False, consent_personal_data_at=None)
    VehicleFactory(owner=client, vin="XTA21099012345678")
    campaign = recall_campaign_create(by=head, name="Замена подушки безопасности", manufacturer_code="RC-77")
    recall_vins_import(campaign=campaign, vins=["XTA21099012345678"], by=head)
    page = as_manager.get(reverse("bookings:create"), {"client": client.pk}, headers={"Accept-Language": "en"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "No consent to personal-data processing" in html
    assert "No primary phone" in html
    assert "no DMS id" in html
    assert "RC-77" in html and "recall-alert" in html


def test_slot_picker_offers_free_slots_for_the_services(as_manager, car_owner, petrov, to2, day, manager):
    booking_create(by=manager, client=car_owner, advisor=petrov, starts_at=moment(day, 9), service_types=[to2])
    html = as_manager.get(reverse("bookings:slots"), {"day": day.isoformat(), "service_types": to2.pk}).content.decode()
    assert slot_key(petrov, moment(day, 9, 30)) in html
    assert slot_key(petrov, moment(day, 9)) not in html


def test_booking_a_visit_from_the_form(as_manager, manager, car_owner, petrov, to2, day):
    vehicle = car_owner.vehicles.get()
    response = as_manager.post(
        reverse("bookings:create") + f"?client={car_owner.pk}",
        {
            "vehicle": vehicle.pk,
            "service_types": [to2.pk],
            "day": day.isoformat(),
            "slot": slot_key(petrov, moment(day, 11)),
            "comment": "стучит подвеска",
            "source": "call",
        },
    )
    booking = Booking.objects.get()
    assert response.status_code == 302 and response["Location"] == booking.get_absolute_url()
    assert (booking.starts_at, booking.advisor, booking.vehicle, booking.created_by) == (
        moment(day, 11),
        petrov,
        vehicle,
        manager,
    )


def test_a_taken_slot_comes_back_with_the_nearest_free_ones(as_manager, manager, car_owner, petrov, to2, day):
    booking_create(by=manager, client=car_owner, advisor=petrov, starts_at=moment(day, 11), service_types=[to2])
    response = as_manager.post(
        reverse("bookings:create") + f"?client={car_owner.pk}",
        {
            "service_types": [to2.pk],
            "day": day.isoformat(),
            "slot": slot_key(petrov, moment(day, 11)),
            "source": "call",
        },
        headers={"Accept-Language": "en"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "already has a client at this time" in html
    assert 'id="alternatives"' in html and "pick-slot" in html
    assert Booking.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"day": "", "slot": ""}, "This field is required"),
        ({"slot": "nonsense"}, "Pick a free slot"),
        ({"service_types": ["999999"]}, "Select a valid choice"),
        ({"slot": "999999@2030-01-01T10:00:00+03:00"}, "no longer exists"),
    ],
)
def test_bad_booking_form_input_is_a_field_error(as_manager, car_owner, petrov, to2, day, data, message):
    payload = {"service_types": [to2.pk], "day": day.isoformat(), "slot": slot_key(petrov, moment(day, 11))}
    payload.update(data)
    response = as_manager.post(
        reverse("bookings:create") + f"?client={car_owner.pk}", payload, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Booking.objects.exists()


def test_booking_form_without_a_client_is_404(as_manager):
    assert as_manager.get(reverse("bookings:create")).status_code == 404


def test_manager_cannot_override_capacity_from_the_form(as_manager, car_owner, petrov, to2, day):
    html = as_manager.get(reverse("bookings:create"), {"client": car_owner.pk}).content.decode()
    assert "capacity_override_reason" not in html


def test_head_overrides_capacity_with_an_advisor_and_a_time(as_head, manager, car_owner, petrov, sidorov, to2, day):
    for hour in (9, 11):
        booking_create(by=manager, client=car_owner, advisor=petrov, starts_at=moment(day, hour), service_types=[to2])
    response = as_head.post(
        reverse("bookings:create") + f"?client={car_owner.pk}",
        {
            "service_types": [to2.pk],
            "day": day.isoformat(),
            "manual_advisor": sidorov.pk,
            "manual_time": "13:00",
            "capacity_override_reason": "VIP",
            "source": "call",
        },
    )
    assert response.status_code == 302
    assert Booking.objects.get(advisor=sidorov).capacity_override_reason == "VIP"


def test_card_actions_and_the_arrival_notification(as_manager, manager, car_owner, petrov, to2, day, travel):
    booking = booking_create(
        by=manager, client=car_owner, advisor=petrov, starts_at=moment(day, 9), service_types=[to2]
    )
    travel(moment(day, 8, 40))
    card = as_manager.get(booking.get_absolute_url()).content.decode()
    assert 'data-action="confirm"' in card and 'data-action="arrived"' in card
    assert 'data-action="start"' not in card  # only once the car has arrived
    assert 'data-action="no-show"' not in card  # only once the slot has started
    as_manager.post(reverse("bookings:action", args=[booking.pk, "arrived"]))
    booking.refresh_from_db()
    assert booking.status == "arrived"
    assert Notification.objects.filter(user=petrov).count() == 1


def test_a_future_visit_offers_no_arrival_and_refuses_one_with_a_message(
    as_manager, manager, car_owner, petrov, to2, day
):
    booking = booking_create(
        by=manager, client=car_owner, advisor=petrov, starts_at=moment(day, 9), service_types=[to2]
    )
    card = as_manager.get(booking.get_absolute_url()).content.decode()
    assert 'data-action="confirm"' in card
    assert 'data-action="arrived"' not in card and 'data-action="no-show"' not in card
    board = as_manager.get(reverse("bookings:board"), {"day": day.isoformat()}).content.decode()
    assert car_owner.name in board and "arrived-button" not in board
    for action in ("arrived", "no-show"):
        response = as_manager.post(
            reverse("bookings:action", args=[booking.pk, action]), follow=True, headers={"Accept-Language": "en"}
        )
        assert response.status_code == 200
        assert "a no-show is marked once the slot has started" in response.content.decode() or (
            "the client is marked arrived on that day" in response.content.decode()
        )
    booking.refresh_from_db()
    assert (booking.status, booking.arrived_at) == ("scheduled", None)
    assert not Notification.objects.exists()


def test_an_illegal_action_is_refused_with_a_message(as_manager, manager, car_owner, petrov, to2, day):
    booking = booking_create(
        by=manager, client=car_owner, advisor=petrov, starts_at=moment(day, 9), service_types=[to2]
    )
    response = as_manager.post(reverse("bookings:action", args=[booking.pk, "complete"]), follow=True)
    assert response.status_code == 200
    booking.refresh_from_db()
    assert booking.status == "scheduled"
    assert as_manager.post(reverse("bookings:action", args=[booking.pk, "explode"])).status_code == 404


def test_cancel_needs_a_reason_on_the_card(as_manager, manager, car_owner, petrov, to2, day):
    booking = booking_create(
        by=manager, client=car_owner, advisor=petrov, starts_at=moment(day, 9), service_types=[to2]
    )
    assert as_manager.post(reverse("bookings:action", args=[booking.pk, "cancel"]), {"reason": ""}).status_code == 400
    as_manager.post(reverse("bookings:action", args=[booking.pk, "cancel"]), {"reason": "заболел"})
    booking.refresh_from_db()
    assert (booking.status, booking.cancel_reason) == ("cancelled", "заболел")


def test_advisor_takes_into_service_but_cannot_cancel(web, manager, car_owner, petrov, to2, day):
    booking = booking_create(
        by=manager, client=car_owner, advisor=petrov, starts_at=moment(day, 9), service_types=[to2]
    )
    web.force_login(petrov)
    assert web.post(reverse("bookings:action", args=[booking.pk, "cancel"]), {"reason": "x"}).status_code == 403
    booking.refresh_from_db()
    assert booking.status == "scheduled"


def test_reschedule_page(as_manager, manager, car_owner, petrov, to2, day):
    booking = booking_create(
        by=manager, client=car_owner, advisor=petrov, starts_at=moment(day, 9), service_types=[to2]
    )
    response = as_manager.post(
        reverse("bookings:reschedule", args=[booking.pk]),
        {"day": day.isoformat(), "slot": slot_key(petrov, moment(day, 15)), "reason": "просил позже"},
    )
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.starts_at == moment(day, 15)
    assert "просил позже" in as_manager.get(booking.get_absolute_url()).content.decode()


def test_board_marks_an_arrival_without_leaving_the_page(as_manager, manager, car_owner, petrov, to2, noon):
    now = noon
    # bypass the service's "not in the past" rule to put a booking on today's board, whatever the clock says
    booking = BookingFactory(
        client=car_owner,
        vehicle=car_owner.vehicles.get(),
        area=to2.area,
        advisor=petrov,
        starts_at=now - timedelta(minutes=40),
    )
    page = as_manager.get(reverse("bookings:board")).content.decode()
    assert "state-late" in page and car_owner.name in page
    response = as_manager.post(
        reverse("bookings:action", args=[booking.pk, "arrived"]) + f"?day={local_date(now)}",
        {"from": "board"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "state-arrived" in response.content.decode()
    assert "<html" not in response.content.decode()


def test_the_board_poll_answers_204_until_something_changes(
    as_manager, manager, car_owner, petrov, to2, django_assert_num_queries, noon, travel
):
    now = noon
    # bypass the service's "not in the past" rule to put a booking on today's board, whatever the clock says
    booking = BookingFactory(client=car_owner, area=to2.area, advisor=petrov, starts_at=now + timedelta(minutes=5))
    page = as_manager.get(reverse("bookings:board"))
    version = page.context["version"]
    assert f'data-version="{version}"' in page.content.decode()
    poll = {"day": local_date(now).isoformat(), "version": version}

    # Nothing changed: one aggregate query after the session and the user, and no body.
    with django_assert_num_queries(3):
        quiet = as_manager.get(reverse("bookings:board"), poll, headers={"HX-Request": "true"})
    assert quiet.status_code == 204 and quiet.content == b""

    travel(now + timedelta(minutes=1))  # the clock moves on (the version reads when rows last changed)
    booking_transition(booking=booking, by=manager, to=Booking.Status.ARRIVED)
    fresh = as_manager.get(reverse("bookings:board"), poll, headers={"HX-Request": "true"})
    assert fresh.status_code == 200
    assert "state-arrived" in fresh.content.decode() and 'id="board"' in fresh.content.decode()
    assert fresh.context["version"] != version
    # Without a version (the first load), always the board.
    assert as_manager.get(reverse("bookings:board"), headers={"HX-Request": "true"}).status_code == 200


def test_the_board_version_changes_when_a_client_turns_late_and_agrees_with_the_rows(
    manager, car_owner, petrov, to2, noon
):
    now = noon
    BookingFactory(client=car_owner, area=to2.area, advisor=petrov, starts_at=now - timedelta(minutes=10))
    today = local_date(now)
    board = day_board(today, user=manager, now=now)
    assert board_version_now(today, user=manager, now=now) == board.version
    later = now + LATE_AFTER
    assert board_version_now(today, user=manager, now=later) != board_version_now(today, user=manager, now=now)
    assert board_version_now(today, user=manager, now=later) == day_board(today, user=manager, now=later).version


def test_the_board_narrows_to_an_area_or_an_advisor_and_stays_narrowed(
    as_manager, manager, car_owner, petrov, sidorov, to2, diag, noon
):
    now = noon
    starts = max(now - timedelta(minutes=5), day_bounds(local_date(now))[0])
    for advisor, service in ((petrov, to2), (sidorov, diag)):
        BookingFactory(client=car_owner, area=service.area, advisor=advisor, starts_at=starts)
    board = reverse("bookings:board")
    today = local_date(now).isoformat()

    everyone = as_manager.get(board, {"day": today})
    by_advisor = as_manager.get(board, {"day": today, "advisor": sidorov.pk})

    assert len(everyone.context["rows"]) == 2
    assert [row.advisor_id for row in by_advisor.context["rows"]] == [sidorov.pk]
    # The poll and the Arrived button carry the filter, so the board stays narrowed.
    page = by_advisor.content.decode()
    version = by_advisor.context["version"]
    assert f"version={version}&amp;advisor={sidorov.pk}" in page
    assert f"arrived/?day={today}&amp;advisor={sidorov.pk}" in page
    # The poll compares versions of the same narrowed board.
    poll = {"day": today, "advisor": sidorov.pk, "version": by_advisor.context["version"]}
    assert as_manager.get(board, poll, headers={"HX-Request": "true"}).status_code == 204
    poll["advisor"] = petrov.pk
    assert as_manager.get(board, poll, headers={"HX-Request": "true"}).status_code in (200, 204)
    # A filter that names nothing is shown as an error and left out, never a 500.
    bad = as_manager.get(board, {"day": today, "advisor": "999999", "area": "x"})
    assert bad.status_code == 200
    assert len(bad.context["rows"]) == 2
    assert bad.context["filter_form"].errors.keys() == {"advisor", "area"}


def test_advisor_sees_only_their_arrivals(web, car_owner, petrov, sidorov, to2, noon):
    now = noon
    for adv in (petrov, sidorov):
        BookingFactory(
            client=car_owner, area=to2.area, advisor=adv, starts_at=now + timedelta(minutes=5), comment=adv.username
        )
    web.force_login(petrov)
    assert web.get(reverse("home"))["Location"] == reverse("bookings:my-arrivals")
    response = web.get(reverse("bookings:my-arrivals"), headers={"HX-Request": "true"})
    rows = response.context["rows"]
    assert [r.advisor_id for r in rows] == [petrov.pk]


def test_day_and_week_show_load(as_manager, manager, car_owner, petrov, to2, day):
    booking_create(by=manager, client=car_owner, advisor=petrov, starts_at=moment(day, 9), service_types=[to2])
    day_page = as_manager.get(reverse("bookings:day"), {"day": day.isoformat()})
    loads = {load.area.code: (load.used, load.capacity) for load in day_page.context["plan"].areas}
    assert loads["mech"] == (180, 480)
    week = as_manager.get(reverse("bookings:week"), {"day": day.isoformat()}).context["week"]
    assert sum(d.bookings for d in week) == 1
    assert as_manager.get(reverse("bookings:day"), {"day": "garbage"}).status_code == 200


def _fill(count, car_owner, area, day):
    advisors = [UserFactory(role="advisor", username=f"adv{n}") for n in range(count)]
    from bookings.models import AdvisorProfile

    for adv in advisors:
        AdvisorProfile.objects.create(user=adv)
    for n in range(count):
        BookingFactory(
            client=car_owner,
            vehicle=car_owner.vehicles.get(),
            area=area,
            advisor=advisors[n],
            starts_at=moment(day, 8) + timedelta(minutes=30 * (n % 20)),
            planned_minutes=30,
        )


@pytest.mark.parametrize("rows", [5, 50])
def test_booking_list_query_count_is_pinned(as_manager, django_assert_num_queries, car_owner, to2, day, rows):
    _fill(rows, car_owner, to2.area, day)
    # session, user, bookings (+client, vehicle, advisor, area), their services, open recalls, filter form choices x2
    with django_assert_num_queries(7):
        response = as_manager.get(reverse("bookings:list"), {"day": day.isoformat()})
    assert len(response.context["page"]) == rows


@pytest.mark.parametrize("rows", [5, 50])
def test_board_query_count_is_pinned(as_manager, django_assert_num_queries, car_owner, to2, day, rows):
    _fill(rows, car_owner, to2.area, day)
    # session, user, the day's counts and version (one aggregate), its rows (+ client, vehicle, advisor), open
    # recalls, the filter's choices (2)
    with django_assert_num_queries(7):
        response = as_manager.get(reverse("bookings:board"), {"day": day.isoformat()})
    assert len(response.context["rows"]) == rows


@pytest.mark.parametrize("rows", [5, 50])
def test_day_plan_query_count_is_pinned(as_manager, django_assert_num_queries, car_owner, to2, day, rows):
    _fill(rows, car_owner, to2.area, day)
    # session, user, the calendar (2), bookings per advisor and area (one aggregate), the listed visits, areas,
    # advisors
    with django_assert_num_queries(8):
        response = as_manager.get(reverse("bookings:day"), {"day": day.isoformat()})
    assert sum(len(a.bookings) for a in response.context["plan"].advisors) == rows


@pytest.mark.parametrize("rows", [5, 50])
def test_week_plan_query_count_is_pinned(as_manager, django_assert_num_queries, car_owner, to2, day, rows):
    _fill(rows, car_owner, to2.area, day)
    with django_assert_num_queries(6):
        response = as_manager.get(reverse("bookings:week"), {"day": day.isoformat()})
    assert sum(d.bookings for d in response.context["week"]) == rows


def test_the_day_counts_each_advisors_clients_in_the_languages_plural_and_a_closed_day_says_so(
    as_manager, manager, car_owner, petrov, sidorov, to2, day
):
    booking_create(by=manager, client=car_owner, advisor=petrov, starts_at=moment(day, 9), service_types=[to2])
    html = as_manager.get(reverse("bookings:day"), {"day": day.isoformat()}, headers={"Accept-Language": "ru"})
    text = html.content.decode()
    # were "1 клиенты" and "0 клиенты"
    assert "· 1 клиент" in text and "· 0 клиентов" in text and "клиенты" not in text
    assert "Свободен весь день." in text
    closed = day + timedelta(days=(6 - day.weekday()) % 7 or 7)  # a Sunday: the default week closes it
    text = as_manager.get(reverse("bookings:day"), {"day": closed.isoformat()}).content.decode()
    assert "Free all day." not in text  # "everyone is free" on a day the workshop is closed
