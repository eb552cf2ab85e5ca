"""Campaigns: the segment (consenting clients only), launch as one INSERT … SELECT spread over working days, cancel,
finish, progress; the pages (head writes, managers read) and the read API, with pinned query counts."""

import threading
import time as clock
from concurrent.futures import ThreadPoolExecutor
from datetime import date, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.db.models import Count
from django.test import Client as WebClient
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from bookings.models import Booking, RecallCampaign, RecallVin
from calls.models import CallRules, CallTask, Campaign, CampaignMember, TaskOutcome
from calls.services.calls import call_task_work
from calls.services.campaigns import (
    campaign_cancel,
    campaign_create,
    campaign_finish,
    campaign_launch,
    campaign_preview_count,
    campaign_progress,
    campaign_segment_queryset,
    campaign_update,
    campaigns_finish_complete,
    segment_clean,
)
from calls.services.planning import run_planners
from clientdesk.calendar import at, local_date
from clientdesk.errors import Conflict
from clientdesk.models import CalendarDay
from clients.models import Client
from tests.factories import BookingFactory, ClientFactory, VehicleFactory

pytestmark = pytest.mark.django_db


def consenting(**kwargs) -> Client:
    return ClientFactory(consent_marketing=True, consent_marketing_at=timezone.now(), **kwargs)


def next_monday(weeks: int = 1) -> date:
    day = local_date(timezone.now()) + timedelta(days=7 * weeks)
    return day - timedelta(days=day.weekday())


def draft(head, *, segment=None, starts_on=None, ends_on=None, name="Зимние шины") -> Campaign:
    starts_on = starts_on or next_monday()
    return campaign_create(
        by=head,
        name=name,
        script="Здравствуйте! Предлагаем скидку 15% на зимние шины.",
        segment=segment or {},
        starts_on=starts_on,
        ends_on=ends_on or starts_on + timedelta(days=4),
    )


def ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


# --- the segment ----------------------------------------------------------------------------------------------------


def test_only_active_consenting_clients_are_in_any_segment():
    yes = consenting()
    ClientFactory()  # personal data only, no marketing consent
    merged = consenting()
    merged.merged_into, merged.merged_at = yes, timezone.now()
    merged.save()
    assert ids(campaign_segment_queryset({})) == {yes.pk}


def test_make_is_case_insensitive_and_model_and_years_describe_one_car():
    lada = consenting()
    VehicleFactory(owner=lada, make="LADA", model="Vesta", year=2019)
    kia = consenting()
    VehicleFactory(owner=kia, make="Kia", model="Rio", year=2015)
    # A Lada of 2012 and a Kia of 2020: no single car is both a Lada and from 2018 on.
    mixed = consenting()
    VehicleFactory(owner=mixed, make="Lada", model="Granta", year=2012)
    VehicleFactory(owner=mixed, make="Kia", model="Ceed", year=2020)

    assert ids(campaign_segment_queryset({"make": "lada"})) == {lada.pk, mixed.pk}
    assert ids(campaign_segment_queryset({"make": " Lada ", "model": "vesta"})) == {lada.pk}
    assert ids(campaign_segment_queryset({"year_from": 2018})) == {lada.pk, mixed.pk}
    assert ids(campaign_segment_queryset({"year_to": 2015})) == {kia.pk, mixed.pk}
    assert ids(campaign_segment_queryset({"year_from": 2014, "year_to": 2016})) == {kia.pk}
    assert ids(campaign_segment_queryset({"make": "Lada", "year_from": 2018})) == {lada.pk}


def visit(client, *, days_ago: int, status=Booking.Status.COMPLETED) -> Booking:
    return BookingFactory(client=client, starts_at=timezone.now() - timedelta(days=days_ago), status=status)


def test_months_since_the_last_completed_visit():
    recent, long_ago, never, cancelled_only = consenting(), consenting(), consenting(), consenting()
    visit(recent, days_ago=60)
    visit(recent, days_ago=400)
    visit(long_ago, days_ago=250)
    visit(cancelled_only, days_ago=10, status=Booking.Status.CANCELLED)

    assert ids(campaign_segment_queryset({"months_since_visit": 6})) == {long_ago.pk, never.pk, cancelled_only.pk}
    assert ids(campaign_segment_queryset({"months_since_visit": 1})) == {
        recent.pk,
        long_ago.pk,
        never.pk,
        cancelled_only.pk,
    }
    assert ids(campaign_segment_queryset({"months_since_visit": 12})) == {never.pk, cancelled_only.pk}


def test_open_recall_on_one_of_the_cars():
    recall = RecallCampaign.objects.create(name="Подушка безопасности", manufacturer_code="R-1")
    ended = RecallCampaign.objects.create(
        name="Старая", manufacturer_code="R-0", starts_on=date(2020, 1, 1), ends_on=date(2020, 12, 31)
    )
    with_recall, done, old, without = consenting(), consenting(), consenting(), consenting()
    VehicleFactory(owner=with_recall, vin="XTA00000000000001")
    VehicleFactory(owner=with_recall, vin="XTA00000000000002")
    VehicleFactory(owner=done, vin="XTA00000000000003")
    VehicleFactory(owner=old, vin="XTA00000000000004")
    VehicleFactory(owner=without, vin="")
    RecallVin.objects.create(campaign=recall, vin="XTA00000000000002")
    RecallVin.objects.create(campaign=recall, vin="XTA00000000000003", done_at=timezone.now())
    RecallVin.objects.create(campaign=ended, vin="XTA00000000000004")

    assert ids(campaign_segment_queryset({"open_recall": True})) == {with_recall.pk}
    assert ids(campaign_segment_queryset({"open_recall": False})) == {done.pk, old.pk, without.pk}


def test_a_car_bought_here():
    bought, brought = consenting(), consenting()
    VehicleFactory(owner=bought, delivered_at=timezone.now() - timedelta(days=300))
    VehicleFactory(owner=bought)
    VehicleFactory(owner=brought)
    assert ids(campaign_segment_queryset({"delivered_here": True})) == {bought.pk}
    assert ids(campaign_segment_queryset({"delivered_here": "no"})) == {brought.pk}


@pytest.mark.parametrize(
    ("segment", "key"),
    [
        ({"colour": "red"}, "segment"),
        ({"make": 7}, "make"),
        ({"make": "x" * 51}, "make"),
        ({"year_from": 1900}, "year_from"),
        ({"year_to": "soon"}, "year_to"),
        ({"year_from": True}, "year_from"),
        ({"year_from": 2020, "year_to": 2010}, "year_to"),
        ({"months_since_visit": 0}, "months_since_visit"),
        ({"months_since_visit": 1000}, "months_since_visit"),
        ({"open_recall": "maybe"}, "open_recall"),
        (["make"], "segment"),
    ],
)
def test_a_bad_segment_is_refused_with_the_filter_named(segment, key):
    with pytest.raises(ValidationError) as exc:
        segment_clean(segment)
    assert key in exc.value.message_dict


def test_the_segment_is_stored_clean(head):
    campaign = draft(head, segment={"make": "  Lada  ", "year_from": "2018", "open_recall": "no", "model": ""})
    assert campaign.segment == {"make": "Lada", "year_from": 2018, "open_recall": False}


# --- launch ---------------------------------------------------------------------------------------------------------


def test_launch_takes_the_consenting_clients_the_preview_counted(head):
    for _ in range(7):
        VehicleFactory(owner=consenting(), make="Lada")
    VehicleFactory(owner=ClientFactory(), make="Lada")  # no marketing consent
    VehicleFactory(owner=consenting(), make="Kia")
    campaign = draft(head, segment={"make": "lada"})
    preview = campaign_preview_count(campaign.segment)

    launched = campaign_launch(campaign=campaign, by=head)

    assert preview == 7 == launched.members_added == CampaignMember.objects.filter(campaign=campaign).count()
    assert not CampaignMember.objects.filter(client__consent_marketing=False).exists()
    campaign.refresh_from_db()
    assert campaign.status == "running" and campaign.launched_at is not None
    assert campaign.history.first().history_user == head


def test_launching_twice_adds_nothing(head):
    for _ in range(3):
        consenting()
    campaign = draft(head)
    campaign_launch(campaign=campaign, by=head)
    consenting()  # a client who consents after the launch is not added by a second click
    again = campaign_launch(campaign=campaign, by=head)
    assert again.members_added == 0 and again.status == "running"
    assert CampaignMember.objects.count() == 3


def test_calls_are_spread_evenly_over_the_working_days_skipping_holidays(head):
    monday = next_monday(2)
    wednesday = monday + timedelta(days=2)
    CalendarDay.objects.create(date=wednesday, kind=CalendarDay.Kind.HOLIDAY)
    for _ in range(12):
        consenting()
    # Monday to the next Monday: Wednesday is a holiday and Sunday is off (the default week works Saturdays).
    campaign = draft(head, starts_on=monday, ends_on=monday + timedelta(days=7))

    campaign_launch(campaign=campaign, by=head)

    per_day = {}
    for day in CampaignMember.objects.values_list("planned_for", flat=True):
        per_day[day] = per_day.get(day, 0) + 1
    working = [monday + timedelta(days=n) for n in (0, 1, 3, 4, 5, 7)]
    assert per_day == dict.fromkeys(working, 2)


def test_uneven_numbers_differ_by_one_at_most(head):
    monday = next_monday()
    for _ in range(11):
        consenting()
    campaign_launch(campaign=draft(head, starts_on=monday, ends_on=monday + timedelta(days=2)), by=head)
    counts = sorted(CampaignMember.objects.values_list("planned_for", flat=True))
    sizes = [counts.count(monday + timedelta(days=n)) for n in range(3)]
    assert sorted(sizes) == [3, 4, 4]


def test_no_working_day_refuses_the_launch_and_changes_nothing(head):
    sunday = next_monday() + timedelta(days=6)
    CalendarDay.objects.create(date=sunday + timedelta(days=1), kind=CalendarDay.Kind.HOLIDAY)
    consenting()
    campaign = draft(head, starts_on=sunday, ends_on=sunday + timedelta(days=1))
    with pytest.raises(ValidationError) as exc:
        campaign_launch(campaign=campaign, by=head)
    assert "ends_on" in exc.value.message_dict
    campaign.refresh_from_db()
    assert campaign.status == "draft" and not CampaignMember.objects.exists()


def test_an_empty_segment_refuses_the_launch(head):
    ClientFactory()
    campaign = draft(head)
    with pytest.raises(ValidationError) as exc:
        campaign_launch(campaign=campaign, by=head)
    assert "segment" in exc.value.message_dict
    assert Campaign.objects.get().status == "draft"


def test_a_launch_late_in_the_day_starts_calling_tomorrow(head):
    today = local_date(timezone.now())
    for _ in range(4):
        consenting()
    campaign = draft(head, starts_on=today, ends_on=today + timedelta(days=20))
    evening = at(today, time(22))
    campaign_launch(campaign=campaign, by=head, now=evening)
    assert min(CampaignMember.objects.values_list("planned_for", flat=True)) > today


# --- the planner and consent ----------------------------------------------------------------------------------------


def test_a_client_who_withdraws_consent_after_launch_gets_no_call(head, manager):
    monday = next_monday()
    stays, withdraws = consenting(), consenting()
    campaign = draft(head, starts_on=monday, ends_on=monday)
    campaign_launch(campaign=campaign, by=head)
    withdraws.consent_marketing, withdraws.consent_marketing_at = False, None
    withdraws.save()

    run = run_planners(now=at(monday, time(8)))

    assert run.campaign_calls == 1
    task = CallTask.objects.get(kind="campaign")
    assert task.client == stays and task.campaign_member.campaign == campaign
    progress = campaign_progress(campaign)
    assert (progress["members"], progress["planned"], progress["not_planned"]) == (2, 1, 1)


def test_members_are_called_on_their_day_not_before(head, manager):
    monday = next_monday()
    for _ in range(4):
        consenting()
    campaign_launch(campaign=draft(head, starts_on=monday, ends_on=monday + timedelta(days=1)), by=head)
    assert run_planners(now=at(monday - timedelta(days=3), time(12))).campaign_calls == 0
    assert run_planners(now=at(monday, time(12))).campaign_calls == 2
    assert run_planners(now=at(monday + timedelta(days=1), time(12))).campaign_calls == 2
    assert run_planners(now=at(monday + timedelta(days=1), time(13))).campaign_calls == 0


# --- cancel, finish, progress ---------------------------------------------------------------------------------------


@pytest.fixture
def running(head, manager):
    """A two-day campaign of four clients, launched, with Monday's two calls planned."""
    monday = next_monday()
    for _ in range(4):
        consenting()
    campaign = campaign_launch(campaign=draft(head, starts_on=monday, ends_on=monday + timedelta(days=1)), by=head)
    run_planners(now=at(monday, time(9)))
    return campaign


def test_cancel_cancels_the_pending_calls_and_plans_no_more(head, manager, running):
    done, pending = CallTask.objects.order_by("pk")
    call_task_work(task=done, by=manager, outcome=TaskOutcome.ANSWERED)

    campaign_cancel(campaign=running, by=head)

    done.refresh_from_db()
    pending.refresh_from_db()
    assert done.status == "done"
    assert pending.status == "cancelled" and pending.closed_at is not None
    assert Campaign.objects.get().status == "cancelled"
    tuesday = local_date(pending.due_at) + timedelta(days=1)
    assert run_planners(now=at(tuesday, time(9))).campaign_calls == 0
    assert campaign_cancel(campaign=running, by=head).status == "cancelled"  # twice changes nothing
    with pytest.raises(Conflict):
        campaign_launch(campaign=running, by=head)


def test_progress_counts(head, manager, running):
    rules = CallRules.current()
    rules.max_attempts = 1
    rules.save()
    tuesday = next_monday() + timedelta(days=1)
    run_planners(now=at(tuesday, time(9)))
    first, second, third, fourth = CallTask.objects.order_by("pk")
    call_task_work(task=first, by=manager, outcome=TaskOutcome.ANSWERED)
    call_task_work(task=second, by=manager, outcome=TaskOutcome.DECLINED)
    call_task_work(task=third, by=manager, outcome=TaskOutcome.NO_ANSWER)

    progress = campaign_progress(running)

    assert {k: progress[k] for k in ("members", "planned", "pending", "done", "unreachable", "cancelled")} == {
        "members": 4,
        "planned": 4,
        "pending": 1,
        "done": 2,
        "unreachable": 1,
        "cancelled": 0,
    }
    assert (progress["answered"], progress["declined"], progress["closed"], progress["percent"]) == (1, 1, 3, 75)
    assert fourth.status == "open"


def test_outcomes_logged_in_russian_are_counted_too(head, manager, running):
    from django.utils import translation

    task = CallTask.objects.order_by("pk").first()
    with translation.override("ru"):
        call_task_work(task=task, by=manager, outcome=TaskOutcome.DECLINED)
    assert campaign_progress(running)["declined"] == 1


def test_finish_only_once_every_call_is_made(head, manager, running):
    monday = next_monday()
    after = at(monday + timedelta(days=2), time(12))
    with pytest.raises(Conflict):
        campaign_finish(campaign=running, by=head, now=after)  # Monday's calls are open, Tuesday's not planned
    run_planners(now=at(monday + timedelta(days=1), time(9)))
    for task in CallTask.objects.all():
        call_task_work(task=task, by=manager, outcome=TaskOutcome.ANSWERED)
    with pytest.raises(Conflict):
        campaign_finish(campaign=running, by=head, now=at(monday + timedelta(days=1), time(20)))  # its last day
    assert campaigns_finish_complete(now=after) == 1
    assert Campaign.objects.get().status == "finished"
    assert campaign_finish(campaign=running, by=head, now=after).status == "finished"


def test_a_member_who_withdrew_consent_does_not_hold_the_campaign_open(head, manager):
    monday = next_monday()
    stays, withdraws = consenting(), consenting()
    campaign = campaign_launch(campaign=draft(head, starts_on=monday, ends_on=monday), by=head)
    Client.objects.filter(pk=withdraws.pk).update(consent_marketing=False, consent_marketing_at=None)
    run_planners(now=at(monday, time(9)))
    call_task_work(task=CallTask.objects.get(), by=manager, outcome=TaskOutcome.ANSWERED)
    finished = campaign_finish(campaign=campaign, by=head, now=at(monday + timedelta(days=1), time(9)))
    assert finished.status == "finished"
    assert CallTask.objects.get().client == stays


def test_only_a_draft_can_change(head, running):
    with pytest.raises(Conflict):
        campaign_update(campaign=running, by=head, name="Другое")
    assert Campaign.objects.get().name == "Зимние шины"


def test_update_a_draft(head):
    campaign = draft(head)
    campaign_update(campaign=campaign, by=head, name="Летние шины", segment={"make": "Kia"})
    campaign.refresh_from_db()
    assert (campaign.name, campaign.segment) == ("Летние шины", {"make": "Kia"})
    with pytest.raises(TypeError):
        campaign_update(campaign=campaign, by=head, status="running")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ends_on": "before"}, "ends_on"),
        ({"starts_on": date(2020, 1, 1), "ends_on": date(2020, 1, 5)}, "ends_on"),
        ({"ends_on": "long"}, "ends_on"),
        ({"name": "  "}, "name"),
        ({"script": ""}, "script"),
    ],
)
def test_bad_campaign_fields_are_refused(head, change, field):
    monday = next_monday()
    values = {"starts_on": monday, "ends_on": monday + timedelta(days=4)}
    values.update(change)
    if values["ends_on"] == "before":
        values["ends_on"] = monday - timedelta(days=1)
    if values["ends_on"] == "long":
        values["ends_on"] = monday + timedelta(days=400)
    kwargs = {"name": "Шины", "script": "Текст", "segment": {}, **values}
    with pytest.raises(ValidationError) as exc:
        campaign_create(by=head, **kwargs)
    assert field in exc.value.message_dict
    assert not Campaign.objects.exists()


# --- pages ----------------------------------------------------------------------------------------------------------


def form_data(**overrides) -> dict:
    monday = next_monday()
    data = {
        "name": "Шины",
        "script": "Скидка на шины",
        "starts_on": monday.isoformat(),
        "ends_on": (monday + timedelta(days=4)).isoformat(),
        "make": "",
        "model": "",
        "year_from": "",
        "year_to": "",
        "months_since_visit": "",
        "open_recall": "",
        "delivered_here": "",
    }
    data.update(overrides)
    return data


def test_head_creates_a_campaign_with_its_segment(as_head, head):
    response = as_head.post(
        reverse("calls:campaign-create"), form_data(make="Lada", year_from="2018", open_recall="no")
    )
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("calls:campaign-detail", args=[campaign.pk])
    assert campaign.segment == {"make": "Lada", "year_from": 2018, "open_recall": False}
    assert campaign.created_by == head and campaign.status == "draft"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"year_from": "2020", "year_to": "2010"}, "year_to"),
        ({"year_from": "1800"}, "year_from"),
        ({"year_from": "abc"}, "year_from"),
        ({"months_since_visit": "0"}, "months_since_visit"),
        ({"ends_on": "2020-01-01"}, "ends_on"),
        ({"starts_on": "not a date"}, "starts_on"),
        ({"name": ""}, "name"),
        ({"open_recall": "perhaps"}, "open_recall"),
    ],
)
def test_bad_campaign_form_is_400_with_the_field_named(as_head, data, field):
    response = as_head.post(reverse("calls:campaign-create"), form_data(**data))
    assert response.status_code == 400
    assert response.context["form"].errors.get(field), response.context["form"].errors
    assert not Campaign.objects.exists()


def test_the_live_preview_counts_as_the_segment_changes(as_head):
    VehicleFactory(owner=consenting(), make="Lada")
    VehicleFactory(owner=consenting(), make="Kia")
    VehicleFactory(owner=ClientFactory(), make="Lada")
    url = reverse("calls:campaign-preview")
    response = as_head.get(url, {"make": "lada"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.context["count"] == 1
    assert b'id="preview-count">1<' in response.content
    assert as_head.get(url, headers={"HX-Request": "true"}).context["count"] == 2
    bad = as_head.get(url, {"year_from": "2020", "year_to": "2000"}, headers={"HX-Request": "true"})
    assert bad.status_code == 200 and bad.context["errors"]
    assert as_head.get(url, {"year_from": "x"}).status_code == 400


def test_edit_page_only_for_drafts(as_head, head, running):
    response = as_head.get(reverse("calls:campaign-edit", args=[running.pk]))
    assert response.status_code == 302
    response = as_head.post(reverse("calls:campaign-edit", args=[running.pk]), form_data(name="X"))
    assert response.status_code == 400 and Campaign.objects.get().name == "Зимние шины"
    other = draft(head, name="Черновик")
    response = as_head.get(reverse("calls:campaign-edit", args=[other.pk]))
    assert response.status_code == 200 and response.context["form"].initial["name"] == "Черновик"
    response = as_head.post(
        reverse("calls:campaign-edit", args=[other.pk]), form_data(name="Новое", delivered_here="yes")
    )
    other.refresh_from_db()
    assert response.status_code == 302 and (other.name, other.segment) == ("Новое", {"delivered_here": True})


def test_launch_and_cancel_buttons(as_head, head):
    for _ in range(3):
        consenting()
    campaign = draft(head)
    detail = reverse("calls:campaign-detail", args=[campaign.pk])
    page = as_head.get(detail)
    assert b'id="launch"' in page.content and page.context["preview"] == 3
    response = as_head.post(
        reverse("calls:campaign-launch", args=[campaign.pk]), follow=True, headers={"Accept-Language": "en"}
    )
    assert response.redirect_chain[-1][0] == detail
    assert CampaignMember.objects.count() == 3
    assert "3 clients will be called over 5 working days" in response.content.decode()
    assert b'hx-trigger="every 10s"' in response.content  # running: the progress polls
    response = as_head.post(reverse("calls:campaign-cancel", args=[campaign.pk]), follow=True)
    assert Campaign.objects.get().status == "cancelled"
    assert b'hx-trigger="every 10s"' not in response.content


def test_a_refused_launch_is_a_message_not_an_error(as_head, head):
    campaign = draft(head)  # nobody consents: nothing to launch
    response = as_head.post(
        reverse("calls:campaign-launch", args=[campaign.pk]), follow=True, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 200
    assert "No client who consents" in response.content.decode()
    assert Campaign.objects.get().status == "draft"


def test_the_progress_fragment(as_manager, running):
    response = as_manager.get(reverse("calls:campaign-progress", args=[running.pk]))
    assert response.status_code == 200
    assert response.context["progress"]["planned"] == 2
    assert b'data-count="pending">2<' in response.content


def test_the_manager_reads_a_campaign_but_gets_no_buttons(as_manager, running):
    response = as_manager.get(reverse("calls:campaign-detail", args=[running.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Предлагаем скидку" in content and 'id="cancel"' not in content
    assert len(response.context["members"]) == 4


def test_members_are_keyset_paginated(as_head, head):
    for _ in range(55):
        consenting()
    campaign = campaign_launch(campaign=draft(head), by=head)
    first = as_head.get(reverse("calls:campaign-detail", args=[campaign.pk]))
    page = first.context["members"]
    assert len(page) == 50 and page.has_next
    second = as_head.get(reverse("calls:campaign-detail", args=[campaign.pk]), {"after": page.next_after})
    assert len(second.context["members"]) == 5
    assert not {m.pk for m in page} & {m.pk for m in second.context["members"]}


@pytest.mark.parametrize("rows", [5, 50])
def test_campaign_list_query_count_is_pinned(as_head, head, django_assert_num_queries, rows):
    clients = [consenting() for _ in range(3)]
    assert clients
    for n in range(rows):
        campaign = draft(head, name=f"Кампания {n}")
        if n % 2:
            campaign_launch(campaign=campaign, by=head)
    # session, user, the page of campaigns, the progress of all of them in one aggregate query
    with django_assert_num_queries(4):
        response = as_head.get(reverse("calls:campaign-list"))
    assert len(response.context["page"]) == rows
    assert response.context["page"].object_list[0].progress["members"] in (0, 3)


# --- who may do what ------------------------------------------------------------------------------------------------

ROLES = ["manager", "head", "advisor", "transport_head", "integration"]


def page_urls(campaign) -> list[tuple[str, set[str]]]:
    return [
        (reverse("calls:campaign-list"), {"manager", "head"}),
        (reverse("calls:campaign-detail", args=[campaign.pk]), {"manager", "head"}),
        (reverse("calls:campaign-progress", args=[campaign.pk]), {"manager", "head"}),
        (reverse("calls:campaign-create"), {"head"}),
        (reverse("calls:campaign-edit", args=[campaign.pk]), {"head"}),
        (reverse("calls:campaign-preview") + "?make=Lada", {"head"}),
    ]


def test_anonymous_goes_to_sign_in(web, head):
    campaign = draft(head)
    for url, _roles in page_urls(campaign):
        response = web.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login")), url
    response = web.post(reverse("calls:campaign-launch", args=[campaign.pk]))
    assert response.status_code == 302
    assert APIClient().get("/api/v1/campaigns/").status_code in (401, 403)


@pytest.mark.parametrize("role", ROLES)
def test_pages_by_role(users, role):
    campaign = draft(users["head"])
    web = WebClient()
    web.force_login(users[role])
    for url, roles in page_urls(campaign):
        assert web.get(url).status_code == (200 if role in roles else 403), (role, url)


@pytest.mark.parametrize("role", ["manager", "advisor", "transport_head", "integration"])
def test_refused_campaign_writes_change_nothing(users, role):
    consenting()
    campaign = draft(users["head"])
    web = WebClient()
    web.force_login(users[role])
    assert web.post(reverse("calls:campaign-launch", args=[campaign.pk])).status_code == 403
    assert web.post(reverse("calls:campaign-cancel", args=[campaign.pk])).status_code == 403
    assert web.post(reverse("calls:campaign-finish", args=[campaign.pk])).status_code == 403
    assert web.post(reverse("calls:campaign-create"), form_data(name="Чужая")).status_code == 403
    assert web.post(reverse("calls:campaign-edit", args=[campaign.pk]), form_data(name="Чужая")).status_code == 403
    campaign.refresh_from_db()
    assert (campaign.status, campaign.name, Campaign.objects.count()) == ("draft", "Зимние шины", 1)
    assert not CampaignMember.objects.exists()


def test_action_buttons_are_post_only(as_head, head):
    campaign = draft(head)
    assert as_head.get(reverse("calls:campaign-launch", args=[campaign.pk])).status_code == 405


# --- the API --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_api_by_role(users, role):
    campaign = draft(users["head"])
    api = APIClient()
    api.force_authenticate(users[role])
    expected = 200 if role in {"manager", "head", "advisor", "integration"} else 403
    assert api.get("/api/v1/campaigns/").status_code == expected
    assert api.get(f"/api/v1/campaigns/{campaign.pk}/").status_code == expected


def test_api_is_read_only(api_as_manager, head):
    campaign = draft(head)
    assert api_as_manager.post("/api/v1/campaigns/", {"name": "X"}, format="json").status_code == 405
    assert api_as_manager.patch(f"/api/v1/campaigns/{campaign.pk}/", {"name": "X"}, format="json").status_code == 405
    assert Campaign.objects.get().name == "Зимние шины"


def test_api_list_and_retrieve_with_progress(dms_api, head, manager, running):
    other = draft(head, name="Черновик")
    response = dms_api.get("/api/v1/campaigns/")
    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()["results"]}
    assert rows[running.pk]["progress"] == {
        "members": 4,
        "planned": 2,
        "not_planned": 2,
        "pending": 2,
        "done": 0,
        "unreachable": 0,
        "cancelled": 0,
        "closed": 0,
        "answered": 0,
        "declined": 0,
        "percent": 0,
    }
    assert rows[other.pk]["status"] == "draft" and rows[other.pk]["progress"]["members"] == 0
    one = dms_api.get(f"/api/v1/campaigns/{running.pk}/").json()
    assert one["segment"] == {} and one["progress"]["members"] == 4 and one["script"].startswith("Здравствуйте")
    filtered = dms_api.get("/api/v1/campaigns/", {"status": "running"}).json()["results"]
    assert [row["id"] for row in filtered] == [running.pk]
    assert dms_api.get("/api/v1/campaigns/", {"status": "sleeping"}).status_code == 400
    assert dms_api.get("/api/v1/campaigns/999999/").status_code == 404


@pytest.mark.parametrize("rows", [5, 50])
def test_api_campaign_list_query_count_is_pinned(api_as_manager, head, django_assert_num_queries, rows):
    consenting()
    for n in range(rows):
        campaign = draft(head, name=f"Кампания {n}")
        if n % 2:
            campaign_launch(campaign=campaign, by=head)
    # the page of campaigns, the progress of all of them in one aggregate query
    with django_assert_num_queries(2):
        response = api_as_manager.get("/api/v1/campaigns/", {"page_size": 100})
    assert len(response.json()["results"]) == rows


# --- scale (PostgreSQL) ---------------------------------------------------------------------------------------------


def _insert_clients(count: int, *, consent: bool) -> None:
    """Clients made by the database itself: a Python loop would take longer than the launch being measured."""
    template = Client(name="x", search_name="x", consent_personal_data=True, consent_marketing=consent)
    now = timezone.now()
    template.consent_personal_data_at = now
    template.consent_marketing_at = now if consent else None
    template.created_at = template.updated_at = now
    columns, values, params = [], [], []
    for field in Client._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.name in ("name", "search_name"):
            values.append("'клиент ' || g")
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(getattr(template, field.attname), connection))
    sql = (
        f"INSERT INTO {Client._meta.db_table} ({', '.join(columns)}) "  # noqa: S608 - names from the model
        f"SELECT {', '.join(values)} FROM generate_series(1, %s) g"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, count])


@pytest.mark.postgres
def test_launching_100000_members_takes_seconds(head):
    _insert_clients(100_000, consent=True)
    _insert_clients(5_000, consent=False)
    monday = next_monday()
    campaign = draft(head, starts_on=monday, ends_on=monday + timedelta(days=18))
    assert campaign_preview_count(campaign.segment) == 100_000

    started = clock.monotonic()
    launched = campaign_launch(campaign=campaign, by=head)
    elapsed = clock.monotonic() - started

    assert launched.members_added == 100_000
    assert elapsed < 10, f"launch took {elapsed:.1f} s"
    sizes = list(CampaignMember.objects.values("planned_for").order_by().annotate(n=Count("pk")))
    assert len(sizes) == 17  # Monday to the third Friday: 19 days less two Sundays
    assert max(s["n"] for s in sizes) - min(s["n"] for s in sizes) <= 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_launches_at_once_make_one_set_of_members(head):
    for _ in range(30):
        consenting()
    campaign = draft(head)

    barrier = threading.Barrier(2)

    def launch(_n):
        try:
            barrier.wait()
            return campaign_launch(campaign=campaign, by=head).members_added
        finally:
            connections.close_all()

    with ThreadPoolExecutor(2) as pool:
        results = sorted(pool.map(launch, range(2)))
    assert results == [0, 30]
    assert CampaignMember.objects.count() == 30
