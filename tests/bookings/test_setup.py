"""The workshop set-up: the services' rules and refusals, what the business calendar answers afterwards, the history,
the pages and who may open them, the overview's query count, and the demo seed."""

import io
from datetime import date, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import URLPattern, get_resolver, resolve, reverse
from django.utils import timezone, translation

from accounts.roles import Role
from accounts.services.users import user_update
from bookings.models import AdvisorProfile, Booking, ServiceArea, ServiceType
from bookings.services.bookings import booking_create
from bookings.services.setup import (
    advisor_profile_set,
    bookings_outside_hours,
    calendar_day_remove,
    calendar_day_set,
    capacity_hours,
    service_area_create,
    service_area_update,
    service_type_create,
    service_type_update,
    working_hours_clear,
    working_hours_set,
    working_week_set,
)
from clientdesk.calendar import BusinessCalendar, local_date
from clientdesk.errors import Conflict
from clientdesk.models import CalendarDay, Weekday, WorkingHours
from tests.bookings.conftest import moment
from tests.factories import AdvisorProfileFactory, ServiceAreaFactory, ServiceTypeFactory, UserFactory

pytestmark = pytest.mark.django_db

HOLIDAY, SHORT, WORKING = CalendarDay.Kind.HOLIDAY, CalendarDay.Kind.SHORT, CalendarDay.Kind.WORKING
MON, TUE, WED, THU, FRI, SAT, SUN = Weekday


@pytest.fixture(autouse=True)
def english():
    """Messages are checked in English; the Russian catalogue is maintained separately."""
    with translation.override("en"):
        yield


def upcoming(weekday: int, weeks: int = 1) -> date:
    """That weekday, at least a week ahead, so nothing is in the past."""
    today = local_date(timezone.now())
    return today + timedelta(days=(weekday - today.weekday()) % 7 + 7 * weeks)


def week_now() -> dict[int, tuple[time, time]]:
    return {row.weekday: (row.opens, row.closes) for row in WorkingHours.objects.all()}


def t(hour: int, minute: int = 0) -> time:
    return time(hour, minute)


def snapshot() -> dict:
    """Every set-up row and history row, to show that a refused call changed nothing."""
    return {
        "week": list(WorkingHours.objects.order_by("weekday").values_list("weekday", "opens", "closes")),
        "days": list(CalendarDay.objects.order_by("date").values_list("date", "kind", "opens", "closes", "note")),
        "areas": list(
            ServiceArea.objects.order_by("pk").values_list("name", "code", "daily_capacity_minutes", "is_active")
        ),
        "types": list(
            ServiceType.objects.order_by("pk").values_list("name", "code", "area", "standard_minutes", "is_active")
        ),
        "advisors": list(AdvisorProfile.objects.order_by("pk").values_list("user", "slot_minutes", "is_active")),
        "history": [
            model.history.count() for model in (WorkingHours, CalendarDay, ServiceArea, ServiceType, AdvisorProfile)
        ],
    }


# --- the regular week ------------------------------------------------------------------------------------------------


def test_changed_hours_are_what_the_calendar_answers_with_the_author_in_the_history(head):
    saturday = upcoming(SAT)
    working_hours_set(by=head, weekday=SAT, opens=t(10), closes=t(15))
    hours = BusinessCalendar().hours(saturday)
    assert (hours.opens, hours.closes) == (t(10), t(15))
    assert WorkingHours.history.filter(weekday=SAT).first().history_user == head


def test_a_day_off_can_be_opened_and_closed_again(head):
    sunday = upcoming(SUN)
    assert not BusinessCalendar().is_working_day(sunday)
    working_hours_set(by=head, weekday=SUN, opens=t(10), closes=t(16))
    assert BusinessCalendar().hours(sunday).minutes == 6 * 60
    assert working_hours_clear(by=head, weekday=SUN) is True
    assert not BusinessCalendar().is_working_day(sunday)
    removal = WorkingHours.history.filter(weekday=SUN).first()
    assert (removal.history_type, removal.history_user) == ("-", head)
    assert working_hours_clear(by=head, weekday=SUN) is False


@pytest.mark.parametrize(("opens", "closes", "field"), [(t(18), t(9), "closes"), (t(9), t(9), "closes")])
def test_closing_before_opening_is_refused_and_nothing_changes(head, opens, closes, field):
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        working_hours_set(by=head, weekday=MON, opens=opens, closes=closes)
    assert field in exc.value.error_dict
    assert snapshot() == before


def test_the_last_working_day_cannot_be_cleared(head):
    working_week_set(by=head, week={day: None for day in Weekday if day != MON})
    before = snapshot()
    with pytest.raises(ValidationError, match="at least one day"):
        working_hours_clear(by=head, weekday=MON)
    assert snapshot() == before


def test_the_week_is_saved_all_or_nothing(head):
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        working_week_set(by=head, week={MON: (t(9), t(19)), TUE: (t(20), t(8))})
    assert exc.value.messages == ["Tuesday: Closing time must be after opening time."]
    assert snapshot() == before


def test_a_week_without_a_working_day_is_refused(head):
    before = snapshot()
    with pytest.raises(ValidationError, match="at least one day"):
        working_week_set(by=head, week={day: None for day in Weekday})
    assert snapshot() == before


def test_the_week_may_move_to_days_it_did_not_have(head):
    # One call for the whole week: the "at least one working day" rule judges the result, not each step.
    week = {day: None for day in Weekday}
    week[SUN] = (t(10), t(16))
    changed = working_week_set(by=head, week=week)
    assert sorted(changed) == list(Weekday)
    assert week_now() == {SUN: (t(10), t(16))}
    saturday = upcoming(SAT)
    assert BusinessCalendar().next_working_day(saturday) == saturday + timedelta(days=1)


def test_saving_the_same_week_writes_no_history(head):
    before = snapshot()
    assert working_week_set(by=head, week=week_now()) == []
    assert snapshot() == before


# --- calendar exceptions -----------------------------------------------------------------------------------------


def test_a_holiday_closes_the_day_and_working_days_skip_it(head):
    monday = upcoming(MON)
    saturday, tuesday = monday - timedelta(days=2), monday + timedelta(days=1)
    calendar_day_set(by=head, date=monday, kind=HOLIDAY, note="День России")
    calendar = BusinessCalendar()
    assert calendar.hours(monday) is None
    assert calendar.next_working_day(saturday) == tuesday  # Sunday is a day off, Monday a holiday
    assert calendar.previous_working_day(tuesday) == saturday
    row = CalendarDay.history.get()
    assert (row.history_type, row.history_user, row.note) == ("+", head, "День России")


def test_a_short_day_is_shorter(head):
    wednesday = upcoming(WED)
    regular = BusinessCalendar().hours(wednesday)
    calendar_day_set(by=head, date=wednesday, kind=SHORT, opens=t(8), closes=t(15), note="предпраздничный")
    hours = BusinessCalendar().hours(wednesday)
    assert (hours.opens, hours.closes, hours.note) == (t(8), t(15), "предпраздничный")
    assert hours.minutes == 7 * 60 < regular.minutes


def test_a_worked_sunday_is_open(head):
    sunday = upcoming(SUN)
    saturday = sunday - timedelta(days=1)
    calendar_day_set(by=head, date=sunday, kind=WORKING, opens=t(10), closes=t(16), note="перенос")
    calendar = BusinessCalendar()
    assert calendar.hours(sunday).minutes == 6 * 60
    assert calendar.next_working_day(saturday) == sunday


@pytest.mark.parametrize(
    ("weekday", "kind", "opens", "closes", "field"),
    [
        (WED, SHORT, None, None, "opens"),
        (WED, SHORT, t(9), None, "closes"),
        (WED, SHORT, t(15), t(9), "closes"),
        (WED, SHORT, t(7), t(15), "closes"),  # starts before the regular 08:00
        (WED, SHORT, t(8), t(20), "closes"),  # the whole regular day is not short
        (SUN, SHORT, t(10), t(14), "kind"),  # a day off is opened as a working day off
        (WED, WORKING, t(10), t(14), "kind"),  # already a working day
        (SUN, WORKING, None, t(14), "opens"),
        (WED, HOLIDAY, t(10), t(14), "opens"),  # a holiday has no hours
        (WED, "vacation", None, None, "kind"),
    ],
)
def test_calendar_refusals_name_the_field_and_change_nothing(head, weekday, kind, opens, closes, field):
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        calendar_day_set(by=head, date=upcoming(weekday), kind=kind, opens=opens, closes=closes)
    assert field in exc.value.error_dict
    assert snapshot() == before


def test_a_day_is_changed_in_place_but_adding_over_it_is_a_conflict_naming_it(head):
    friday = upcoming(FRI)
    row = calendar_day_set(by=head, date=friday, kind=HOLIDAY)
    changed = calendar_day_set(by=head, date=friday, kind=SHORT, opens=t(9), closes=t(16))
    assert (changed.pk, changed.kind) == (row.pk, SHORT)
    before = snapshot()
    with pytest.raises(Conflict) as exc:
        calendar_day_set(by=head, date=friday, kind=HOLIDAY, replace=False)
    assert (exc.value.field, exc.value.existing) == ("date", changed)
    assert "Short day" in str(exc.value.message)
    assert snapshot() == before


def test_removing_an_exception_restores_the_regular_week_and_is_in_the_history(head):
    monday = upcoming(MON)
    calendar_day_set(by=head, date=monday, kind=HOLIDAY)
    assert calendar_day_remove(by=head, date=monday) is True
    assert BusinessCalendar().hours(monday).minutes == 12 * 60
    removal = CalendarDay.history.first()
    assert (removal.history_type, removal.history_user, removal.date) == ("-", head, monday)
    assert calendar_day_remove(by=head, date=monday) is False


def test_bookings_a_new_holiday_or_short_day_leaves_outside_are_counted(head, manager, car_owner, petrov, to2, day):
    booking_create(by=manager, client=car_owner, advisor=petrov, starts_at=moment(day, 14), service_types=[to2])
    assert bookings_outside_hours(first=day, last=day) == 0
    calendar_day_set(by=head, date=day, kind=SHORT, opens=t(8), closes=t(13))
    assert bookings_outside_hours(first=day, last=day) == 1
    calendar_day_set(by=head, date=day, kind=HOLIDAY)
    assert bookings_outside_hours(first=day - timedelta(days=3), last=day + timedelta(days=3)) == 1
    Booking.objects.update(status=Booking.Status.CANCELLED, cancel_reason="клиент передумал")
    assert bookings_outside_hours(first=day, last=day) == 0


# --- service areas -----------------------------------------------------------------------------------------------


def test_an_area_is_created_with_its_capacity_in_minutes_and_the_author(head):
    area = service_area_create(by=head, name="  Кузовной   цех ", code=" Body ", daily_capacity_minutes=990)
    assert (area.name, area.code, area.daily_capacity_minutes, area.is_active) == ("Кузовной цех", "body", 990, True)
    assert area.history.get().history_user == head
    assert capacity_hours(area.daily_capacity_minutes) == 16.5


@pytest.mark.parametrize(("minutes", "shown"), [(990, "16.5"), (3840, "64"), (600 * 60, "600"), (1000, "16.67")])
def test_capacity_is_shown_in_hours(minutes, shown):
    assert str(capacity_hours(minutes)) == shown


def test_a_duplicate_area_code_is_a_conflict_naming_the_area(head, area):
    before = snapshot()
    with pytest.raises(Conflict) as exc:
        service_area_create(by=head, name="Второй цех", code="MECH", daily_capacity_minutes=480)
    assert (exc.value.field, exc.value.existing) == ("code", area)
    assert "Слесарный цех" in str(exc.value.message)
    assert snapshot() == before


def test_a_duplicate_area_name_in_another_case_is_a_conflict(head, area):
    service_area_update(area=ServiceAreaFactory(name="Шиномонтаж", code="tyres"), by=head, is_active=False)
    with pytest.raises(Conflict) as exc:
        service_area_create(by=head, name="СЛЕСАРНЫЙ  цех", code="mech2", daily_capacity_minutes=480)
    assert exc.value.field == "name"
    with pytest.raises(Conflict, match="reactivate") as exc:
        service_area_create(by=head, name="шиномонтаж", code="tyres2", daily_capacity_minutes=480)
    assert ServiceArea.objects.count() == 2


@pytest.mark.parametrize("minutes", [0, -60, None, 100 * 24 * 60 + 1])
def test_capacity_must_be_positive_and_sane(head, minutes):
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        service_area_create(by=head, name="Мойка", code="wash", daily_capacity_minutes=minutes)
    assert list(exc.value.error_dict) == ["daily_capacity_minutes"]
    assert snapshot() == before


def test_an_area_with_active_types_is_not_deactivated_until_they_are(head, area, to2):
    before = snapshot()
    with pytest.raises(ValidationError, match="ТО-2") as exc:
        service_area_update(area=area, by=head, is_active=False)
    assert list(exc.value.error_dict) == ["is_active"]
    assert snapshot() == before
    service_type_update(service_type=to2, by=head, is_active=False)
    assert service_area_update(area=area, by=head, is_active=False).is_active is False
    assert ServiceArea.objects.get(pk=area.pk).history.first().history_user == head


def test_capacity_cannot_drop_below_the_longest_active_type(head, area, to2):
    with pytest.raises(ValidationError, match="ТО-2") as exc:
        service_area_update(area=area, by=head, daily_capacity_minutes=120)
    assert list(exc.value.error_dict) == ["daily_capacity_minutes"]
    assert service_area_update(area=area, by=head, daily_capacity_minutes=180).daily_capacity_minutes == 180


def test_an_unchanged_area_writes_no_history(head):
    area = service_area_create(by=head, name="Мойка", code="wash", daily_capacity_minutes=480)
    service_area_update(area=area, by=head, name="Мойка", code="WASH", daily_capacity_minutes=480, is_active=True)
    assert area.history.count() == 1


def test_update_refuses_fields_it_does_not_own(head, area):
    with pytest.raises(TypeError):
        service_area_update(area=area, by=head, pk=99)


# --- service types -----------------------------------------------------------------------------------------------


def test_a_type_is_created_in_its_area_with_the_author(head, area):
    service_type = service_type_create(by=head, name="ТО-1", code="TO-1", area=area, standard_minutes=90)
    assert (service_type.code, service_type.area, service_type.standard_minutes) == ("to-1", area, 90)
    assert service_type.history.get().history_user == head


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"standard_minutes": 0}, "standard_minutes"),
        ({"standard_minutes": -30}, "standard_minutes"),
        ({"standard_minutes": 481}, "standard_minutes"),  # longer than the area's whole day
        ({"inactive_area": True}, "area"),
    ],
)
def test_type_refusals_name_the_field_and_change_nothing(head, area, fields, field):
    if fields.pop("inactive_area", False):
        area = ServiceAreaFactory(name="Закрытый цех", code="closed", is_active=False)
    before = snapshot()
    with pytest.raises(ValidationError) as exc:
        service_type_create(by=head, name="Мойка", code="wash", area=area, **{"standard_minutes": 60, **fields})
    assert list(exc.value.error_dict) == [field]
    assert snapshot() == before


def test_a_duplicate_type_code_is_a_conflict_naming_the_type(head, area, to2):
    with pytest.raises(Conflict) as exc:
        service_type_create(by=head, name="ТО-2 расширенное", code="TO2", area=area, standard_minutes=200)
    assert (exc.value.field, exc.value.existing) == ("code", to2)
    assert "ТО-2" in str(exc.value.message)


def test_a_deactivated_type_is_not_reactivated_into_a_deactivated_area(head, area, to2):
    service_type_update(service_type=to2, by=head, is_active=False)
    service_area_update(area=area, by=head, is_active=False)
    with pytest.raises(ValidationError) as exc:
        service_type_update(service_type=to2, by=head, is_active=True)
    assert list(exc.value.error_dict) == ["area"]
    other = ServiceAreaFactory(name="Второй цех", code="mech2", daily_capacity_minutes=960)
    moved = service_type_update(service_type=to2, by=head, is_active=True, area=other)
    assert (moved.area, moved.is_active) == (other, True)


# --- advisors ----------------------------------------------------------------------------------------------------


def test_an_advisor_gets_a_slot_and_may_change_it(head, advisor):
    profile = advisor_profile_set(by=head, user=advisor, slot_minutes=30)
    assert (profile.slot_minutes, profile.is_active, profile.history.get().history_user) == (30, True, head)
    profile = advisor_profile_set(by=head, user=advisor, slot_minutes=20, is_active=False)
    assert (profile.slot_minutes, profile.is_active, AdvisorProfile.objects.count()) == (20, False, 1)


@pytest.mark.parametrize("role", [Role.MANAGER, Role.HEAD, Role.TRANSPORT_HEAD, Role.INTEGRATION])
def test_only_a_service_advisor_gets_a_profile(head, role):
    user = UserFactory(role=role, first_name="Мария", last_name="Смирнова")
    with pytest.raises(ValidationError) as exc:
        advisor_profile_set(by=head, user=user, slot_minutes=30)
    assert list(exc.value.error_dict) == ["user"]
    assert "Мария Смирнова is not a service advisor" in exc.value.messages[0]
    assert not AdvisorProfile.objects.exists()


@pytest.mark.parametrize("minutes", [0, 4, 241, None])
def test_slot_length_is_sane(head, advisor, minutes):
    with pytest.raises(ValidationError) as exc:
        advisor_profile_set(by=head, user=advisor, slot_minutes=minutes)
    assert list(exc.value.error_dict) == ["slot_minutes"]
    assert not AdvisorProfile.objects.exists()


def test_a_deactivated_user_does_not_receive_clients(head, advisor):
    user_update(user=advisor, by=head, is_active=False)
    with pytest.raises(ValidationError, match="deactivated"):
        advisor_profile_set(by=head, user=advisor, slot_minutes=30)


def test_a_profile_left_by_a_role_change_can_only_be_switched_off(head):
    profile = AdvisorProfileFactory()
    user_update(user=profile.user, by=head, role=Role.MANAGER)
    with pytest.raises(ValidationError):
        advisor_profile_set(by=head, user=profile.user, slot_minutes=30, is_active=True)
    assert advisor_profile_set(by=head, user=profile.user, slot_minutes=30, is_active=False).is_active is False


# --- pages: who may open them ------------------------------------------------------------------------------------

ROLES = ["manager", "head", "advisor", "transport_head", "integration"]


@pytest.fixture
def setup_objects(head, area, to2, advisor):
    day = calendar_day_set(by=head, date=upcoming(MON, weeks=2), kind=HOLIDAY)
    return {"area": area, "type": to2, "day": day, "advisor": advisor}


def setup_pages(o) -> list[str]:
    return [
        reverse("bookings:setup"),
        reverse("bookings:setup-week"),
        reverse("bookings:setup-day-create"),
        reverse("bookings:setup-day-edit", args=[o["day"].pk]),
        reverse("bookings:setup-day-remove", args=[o["day"].pk]),
        reverse("bookings:setup-area-create"),
        reverse("bookings:setup-area-edit", args=[o["area"].pk]),
        reverse("bookings:setup-type-create"),
        reverse("bookings:setup-type-edit", args=[o["type"].pk]),
        reverse("bookings:setup-advisor", args=[o["advisor"].pk]),
    ]


def setup_writes(o) -> list[tuple[str, dict]]:
    week = {"form-TOTAL_FORMS": "7", "form-INITIAL_FORMS": "0"}
    for n in range(7):
        week[f"form-{n}-closed"] = "on"
    week["form-0-closed"], week["form-0-opens"], week["form-0-closes"] = "", "10:00", "11:00"
    day = {"date": upcoming(WED).isoformat(), "kind": HOLIDAY, "note": "x"}
    area, service_type = o["area"], o["type"]
    return [
        (reverse("bookings:setup-week"), week),
        (reverse("bookings:setup-day-create"), day),
        (reverse("bookings:setup-day-edit", args=[o["day"].pk]), {**day, "note": "changed"}),
        (reverse("bookings:setup-day-remove", args=[o["day"].pk]), {}),
        (reverse("bookings:setup-area-create"), {"name": "Мойка", "code": "wash", "daily_capacity_hours": "8"}),
        (
            reverse("bookings:setup-area-edit", args=[area.pk]),
            {"name": area.name, "code": area.code, "daily_capacity_hours": "10", "is_active": "on"},
        ),
        (
            reverse("bookings:setup-type-create"),
            {"name": "Мойка", "code": "wash", "area": area.pk, "standard_minutes": "30"},
        ),
        (
            reverse("bookings:setup-type-edit", args=[service_type.pk]),
            {"name": "ТО-2", "code": "to2", "area": area.pk, "standard_minutes": "180", "is_active": ""},
        ),
        (reverse("bookings:setup-advisor", args=[o["advisor"].pk]), {"slot_minutes": "15", "is_active": "on"}),
    ]


def test_every_setup_route_is_in_this_matrix(setup_objects):
    covered = {resolve(url).route for url in setup_pages(setup_objects)}
    workshop = next(p for p in get_resolver().url_patterns if str(p.pattern) == "workshop/")
    routes = {
        "workshop/" + str(p.pattern)
        for p in workshop.url_patterns
        if isinstance(p, URLPattern) and str(p.pattern).startswith("setup")
    }
    assert routes == covered


def test_anonymous_is_sent_to_sign_in(web, setup_objects):
    for url in setup_pages(setup_objects):
        response = web.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login")), url


@pytest.mark.parametrize("role", ROLES)
def test_only_the_head_opens_the_setup_pages(web, users, setup_objects, role):
    web.force_login(users[role])
    expected = 200 if role == "head" else 403
    for url in setup_pages(setup_objects):
        assert web.get(url).status_code == expected, (role, url)


@pytest.mark.parametrize("role", ["manager", "advisor", "transport_head", "integration"])
def test_the_wrong_role_changes_nothing(web, users, setup_objects, role):
    web.force_login(users[role])
    before = snapshot()
    for url, data in setup_writes(setup_objects):
        assert web.post(url, data).status_code == 403, url
    assert snapshot() == before


def test_anonymous_posts_change_nothing(web, setup_objects):
    before = snapshot()
    for url, data in setup_writes(setup_objects):
        assert web.post(url, data).status_code == 302, url
    assert snapshot() == before


def test_the_same_posts_by_the_head_all_go_through(as_head, setup_objects):
    """So the refusals above are refusals of the role, not of the data."""
    before = snapshot()
    for url, data in setup_writes(setup_objects):
        response = as_head.post(url, data)
        assert response.status_code == 302, (url, response.context and response.context.get("form").errors)
    after = snapshot()
    assert all(after[key] != before[key] for key in before)


# --- pages: what the head does -----------------------------------------------------------------------------------


def week_post(rows: dict[int, tuple[str, str] | None]) -> dict:
    data = {"form-TOTAL_FORMS": "7", "form-INITIAL_FORMS": "0"}
    for day in Weekday:
        hours = rows.get(day, ("08:00", "20:00"))
        if hours is None:
            data[f"form-{day}-closed"] = "on"
        else:
            data[f"form-{day}-opens"], data[f"form-{day}-closes"] = hours
    return data


def test_the_week_is_edited_on_one_form(as_head, head):
    page = as_head.get(reverse("bookings:setup-week"))
    assert page.status_code == 200
    assert [form.initial.get("closed") for form in page.context["formset"]] == [False] * 6 + [True]
    response = as_head.post(reverse("bookings:setup-week"), week_post({SAT: None, SUN: ("10:00", "16:00")}))
    assert response.status_code == 302
    assert response["Location"] == reverse("bookings:setup") + "#week"
    assert week_now() == {**{day: (t(8), t(20)) for day in range(5)}, SUN: (t(10), t(16))}
    assert WorkingHours.history.filter(weekday=SUN).first().history_user == head


def test_a_week_row_closing_before_opening_shows_beside_it_and_nothing_is_saved(as_head):
    before = snapshot()
    response = as_head.post(reverse("bookings:setup-week"), week_post({WED: ("18:00", "09:00"), THU: ("", "")}))
    assert response.status_code == 400
    forms = response.context["formset"].forms
    assert list(forms[WED].errors) == ["closes"]
    assert set(forms[THU].errors) == {"opens", "closes"}
    assert snapshot() == before


def test_a_week_with_every_day_closed_is_refused_on_the_form(as_head):
    before = snapshot()
    response = as_head.post(
        reverse("bookings:setup-week"), week_post(dict.fromkeys(Weekday)), headers={"Accept-Language": "en"}
    )
    assert response.status_code == 400
    assert "at least one day" in str(response.context["formset"].non_form_errors())
    assert snapshot() == before


def test_area_capacity_is_typed_in_hours_and_kept_in_minutes(as_head, head):
    response = as_head.post(
        reverse("bookings:setup-area-create"), {"name": "Кузовной цех", "code": "body", "daily_capacity_hours": "16.5"}
    )
    assert response.status_code == 302
    area = ServiceArea.objects.get(code="body")
    assert area.daily_capacity_minutes == 990
    assert area.history.get().history_user == head
    edit = as_head.get(reverse("bookings:setup-area-edit", args=[area.pk]))
    assert edit.context["form"]["daily_capacity_hours"].value() == capacity_hours(990)
    overview = as_head.get(reverse("bookings:setup"), headers={"Accept-Language": "en"}).content.decode()
    assert "16.5</td>" in overview


@pytest.mark.parametrize(
    ("data", "field", "says"),
    [
        ({"code": "MECH"}, "code", "Слесарный цех"),
        ({"daily_capacity_hours": "-5"}, "daily_capacity_hours", "positive"),
        ({"daily_capacity_hours": "0"}, "daily_capacity_hours", "positive"),
        ({"daily_capacity_hours": "abc"}, "daily_capacity_hours", "number"),
        ({"code": "не слаг"}, "code", "slug"),
        ({"name": ""}, "name", "required"),
    ],
)
def test_area_form_errors_are_beside_their_fields(as_head, area, data, field, says):
    before = snapshot()
    post = {"name": "Кузовной цех", "code": "body", "daily_capacity_hours": "8", **data}
    response = as_head.post(reverse("bookings:setup-area-create"), post, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert says in errors[field][0]
    assert snapshot() == before


def test_the_services_refusals_land_on_the_hours_field_and_the_active_box(as_head, area, to2):
    url = reverse("bookings:setup-area-edit", args=[area.pk])
    data = {"name": area.name, "code": area.code, "daily_capacity_hours": "1", "is_active": "on"}
    response = as_head.post(url, data)
    assert response.status_code == 400
    assert "ТО-2" in response.context["form"].errors["daily_capacity_hours"][0]
    response = as_head.post(url, {**data, "daily_capacity_hours": "8", "is_active": ""})
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["is_active"]
    area.refresh_from_db()
    assert (area.daily_capacity_minutes, area.is_active) == (480, True)


def test_a_type_is_added_and_deactivated_from_its_form(as_head, area):
    data = {"name": "Диагностика", "code": "diag", "area": area.pk, "standard_minutes": "60"}
    assert as_head.post(reverse("bookings:setup-type-create"), data).status_code == 302
    service_type = ServiceType.objects.get(code="diag")
    response = as_head.post(reverse("bookings:setup-type-edit", args=[service_type.pk]), {**data, "is_active": ""})
    assert response.status_code == 302
    service_type.refresh_from_db()
    assert service_type.is_active is False
    assert ServiceType.objects.count() == 1  # deactivated, not deleted
    duplicate = as_head.post(reverse("bookings:setup-type-create"), {**data, "name": "Другая"})
    assert duplicate.status_code == 400
    assert "Диагностика" in duplicate.context["form"].errors["code"][0]


def test_a_short_day_without_hours_is_a_field_error(as_head):
    data = {"date": upcoming(WED).isoformat(), "kind": SHORT, "note": "предпраздничный"}
    response = as_head.post(reverse("bookings:setup-day-create"), data)
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"opens", "closes"}
    assert not CalendarDay.objects.exists()


def test_a_new_exception_on_a_taken_date_names_the_one_there(as_head, setup_objects):
    taken = setup_objects["day"]
    data = {"date": taken.date.isoformat(), "kind": SHORT, "opens": "08:00", "closes": "15:00"}
    response = as_head.post(reverse("bookings:setup-day-create"), data, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "Holiday" in response.context["form"].errors["date"][0]
    taken.refresh_from_db()
    assert taken.kind == HOLIDAY


def test_an_exception_is_edited_and_then_removed_with_a_confirmation(as_head, head, setup_objects):
    day = setup_objects["day"]
    edit = reverse("bookings:setup-day-edit", args=[day.pk])
    # The date cannot be moved on the edit form: a changed date in the post is ignored.
    data = {"date": "2001-01-01", "kind": SHORT, "opens": "08:00", "closes": "16:00", "note": "сокращённый"}
    assert as_head.post(edit, data).status_code == 302
    day.refresh_from_db()
    assert (day.kind, day.closes, day.note) == (SHORT, t(16), "сокращённый")
    remove = reverse("bookings:setup-day-remove", args=[day.pk])
    assert remove in as_head.get(edit).content.decode()
    assert as_head.get(remove).status_code == 200
    assert as_head.post(remove)["Location"] == reverse("bookings:setup") + "#calendar"
    assert not CalendarDay.objects.exists()
    assert CalendarDay.history.first().history_type == "-"
    assert CalendarDay.history.first().history_user == head


def test_declaring_a_holiday_on_a_booked_day_warns_the_head(as_head, manager, car_owner, petrov, to2, day):
    booking_create(by=manager, client=car_owner, advisor=petrov, starts_at=moment(day, 10), service_types=[to2])
    response = as_head.post(
        reverse("bookings:setup-day-create"),
        {"date": day.isoformat(), "kind": HOLIDAY},
        headers={"Accept-Language": "en"},
        follow=True,
    )
    assert "1 booking still to come now lies outside the working hours" in response.content.decode()


def test_a_profile_for_a_non_advisor_is_a_form_error(as_head, manager):
    url = reverse("bookings:setup-advisor", args=[manager.pk])
    response = as_head.post(url, {"slot_minutes": "30", "is_active": "on"}, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "is not a service advisor" in str(response.context["form"].non_field_errors())
    assert not AdvisorProfile.objects.exists()


def test_an_advisor_is_set_up_from_the_overview(as_head, advisor):
    overview = as_head.get(reverse("bookings:setup"))
    url = reverse("bookings:setup-advisor", args=[advisor.pk])
    assert url in overview.content.decode()
    response = as_head.post(url, {"slot_minutes": "20", "is_active": "on"})
    assert response.status_code == 302
    assert AdvisorProfile.objects.get(user=advisor).slot_minutes == 20
    response = as_head.post(url, {"slot_minutes": "3", "is_active": "on"})
    assert list(response.context["form"].errors) == ["slot_minutes"]


def test_the_overview_shows_every_section(as_head, head, area, to2, advisor):
    calendar_day_set(by=head, date=upcoming(MON), kind=HOLIDAY, note="День народного единства")
    calendar_day_set(by=head, date=local_date(timezone.now()) + timedelta(days=400), kind=HOLIDAY, note="далеко")
    response = as_head.get(reverse("bookings:setup"), headers={"Accept-Language": "en"})
    setup = response.context["setup"]
    assert [row.hours is None for row in setup.week] == [False] * 6 + [True]
    assert [d.note for d in setup.exceptions] == ["День народного единства"]
    assert setup.areas == [area] and setup.types == [to2]
    assert [(row.user, row.profile, row.bookable) for row in setup.advisors] == [(advisor, None, False)]
    html = response.content.decode()
    for text in ("День народного единства", "Слесарный цех", "ТО-2", "closed", "not set up"):
        assert text in html


@pytest.mark.parametrize("rows", [5, 50])
def test_the_overview_query_count_is_pinned(as_head, head, django_assert_num_queries, rows):
    for n in range(rows):
        area = ServiceAreaFactory(daily_capacity_minutes=480 + n)
        ServiceTypeFactory(area=area)
        calendar_day_set(by=head, date=upcoming(MON) + timedelta(weeks=n), kind=HOLIDAY)
    AdvisorProfileFactory.create_batch(rows // 5)
    # session, user, the week, the calendar exceptions, the areas, the types with their areas, the advisors
    with django_assert_num_queries(7):
        response = as_head.get(reverse("bookings:setup"))
    setup = response.context["setup"]
    assert (len(setup.areas), len(setup.types), len(setup.advisors)) == (rows, rows, rows // 5)


# --- the demo seed -----------------------------------------------------------------------------------------------


def test_seed_workshop_is_idempotent_and_leaves_the_heads_changes(head, advisor):
    call_command("seed_workshop", stdout=io.StringIO())
    first = snapshot()
    assert ServiceArea.objects.get(code="mechanical").daily_capacity_minutes == 8 * 8 * 60
    assert ServiceType.objects.get(name="ТО-1").standard_minutes == 90
    assert ServiceType.objects.get(code="tinting").area.code == "tinting"
    year = local_date(timezone.now()).year
    for y in (year, year + 1):
        for month, day in ((1, 1), (1, 7), (1, 8), (2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4)):
            assert CalendarDay.objects.get(date=date(y, month, day)).kind == HOLIDAY
        eve = date(y, 12, 31)
        if eve.weekday() != SUN:  # the short day shortens a working day; on a day off it is left out
            assert CalendarDay.objects.filter(date=eve).values_list("kind", "opens", "closes").get() == (
                SHORT,
                t(9),
                t(16),
            )
    # The fixture's `advisor` is kept, not duplicated; `advisor2` is made; both receive clients.
    profiles = AdvisorProfile.objects.select_related("user")
    assert sorted(p.user.username for p in profiles) == ["advisor", "advisor2"]
    assert {p.slot_minutes for p in profiles} == {30}
    assert profiles.get(user__username="advisor2").user.check_password("demo12345")

    mechanical = ServiceArea.objects.get(code="mechanical")
    service_area_update(area=mechanical, by=head, daily_capacity_minutes=2400)
    call_command("seed_workshop", stdout=io.StringIO())
    again = snapshot()
    assert ServiceArea.objects.get(code="mechanical").daily_capacity_minutes == 2400
    assert again["history"] == [n + (1 if i == 2 else 0) for i, n in enumerate(first["history"])]
