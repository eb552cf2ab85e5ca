"""The call tasks, campaign members and survey answers as files (issue 12, item 4), the export log, and a long
export built in the background: exactly the filtered rows, formulas neutralised, Cyrillic intact, the head's only,
logged; a long one queued, its progress shown, its file handed to its user alone and removed after a day."""

import csv
import io
import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.roles import Role
from calls.models import CallTask, Campaign, CampaignMember, SurveyResponse
from calls.services.surveys import survey_create
from calls.views.head import TaskBoardView
from clients.models import ClientPhone, Delivery
from reports.models import Export
from reports.services.exports import export_build, exports_purge
from reports.tasks import build_export
from tests.factories import ClientFactory, UserFactory, VehicleFactory

pytestmark = pytest.mark.django_db


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def xlsx_rows(content: bytes) -> list[tuple]:
    return list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))


@pytest.fixture
def tasks(manager):
    now = timezone.now()
    evil = ClientFactory(name='=HYPERLINK("http://x") Ёлкин')
    ClientPhone.objects.create(client=evil, number="+79161234567", is_primary=True)
    plain = ClientFactory(name="Щукин Пётр")
    CallTask.objects.create(kind="callback", client=evil, due_at=now, next_attempt_at=now, assignee=manager)
    CallTask.objects.create(kind="callback", client=plain, due_at=now, next_attempt_at=now + timedelta(hours=1))
    delivery = Delivery.objects.create(client=plain, vehicle=VehicleFactory(owner=plain), delivered_at=now)
    CallTask.objects.create(
        kind="follow_up", client=plain, delivery=delivery, due_at=now, next_attempt_at=now, assignee=manager
    )
    closed = {"status": "done", "closed_at": now}
    CallTask.objects.create(kind="callback", client=plain, due_at=now, next_attempt_at=now, **closed)
    return evil


def test_the_task_board_exports_the_filtered_tasks(tasks, as_head, head, caplog):
    with caplog.at_level(logging.INFO, logger="clientdesk.security"):
        response = as_head.get(reverse("calls:head-tasks"), {"kind": "callback", "export": "csv"})
        rows = csv_rows(response)
    # the two pending callbacks (not the follow-up, not the closed one), earliest next attempt first
    assert len(rows) == 1 + 2
    assert rows[1][3] == '\'=HYPERLINK("http://x") Ёлкин'  # text, not a formula, Cyrillic intact
    assert rows[1][4] == "'+79161234567"
    assert rows[2][3] == "Щукин Пётр"
    assert "user=head list=call-tasks format=CSV rows=2 filter=kind=callback" in caplog.text
    # and the export log holds it: who, which list, which filter, how many rows
    [logged] = Export.objects.all()
    assert (logged.user, logged.list_name, logged.format, logged.filter, logged.rows, logged.status) == (
        head,
        "call-tasks",
        "csv",
        "kind=callback",
        2,
        "done",
    )


def test_the_task_board_as_xlsx_opens_in_openpyxl(tasks, as_head, manager):
    response = as_head.get(reverse("calls:head-tasks"), {"assignee": manager.pk, "export": "xlsx"})
    rows = xlsx_rows(response.content)
    assert len(rows) == 1 + 2
    assert {row[3] for row in rows[1:]} == {'\'=HYPERLINK("http://x") Ёлкин', "Щукин Пётр"}
    assert all(not str(cell).startswith("=") for row in rows for cell in row if cell is not None)
    assert Export.objects.get().format == "xlsx"


def test_a_refused_board_filter_exports_nothing(tasks, as_head):
    rows = csv_rows(as_head.get(reverse("calls:head-tasks"), {"assignee": "999999", "export": "csv"}))
    assert len(rows) == 1


@pytest.fixture
def campaign(manager, head):
    today = timezone.localdate()
    campaign = Campaign.objects.create(
        name="Шины", script="Скидка", starts_on=today, ends_on=today, status=Campaign.Status.RUNNING
    )
    first = CampaignMember.objects.create(campaign=campaign, client=ClientFactory(name="@Иванов"), planned_for=today)
    CampaignMember.objects.create(campaign=campaign, client=ClientFactory(name="Петров"), planned_for=today)
    now = timezone.now()
    CallTask.objects.create(
        kind="campaign",
        client=first.client,
        due_at=now,
        next_attempt_at=now,
        assignee=manager,
        campaign_member=first,
        status="done",
        closed_at=now,
        outcome="-записан",
    )
    other = Campaign.objects.create(name="Другая", script="-", starts_on=today, ends_on=today)
    CampaignMember.objects.create(campaign=other, client=ClientFactory(), planned_for=today)
    return campaign


def test_a_campaigns_members_export(campaign, as_head):
    response = as_head.get(
        reverse("calls:campaign-detail", args=[campaign.pk]), {"export": "xlsx"}, headers={"Accept-Language": "en"}
    )
    rows = xlsx_rows(response.content)
    assert len(rows) == 1 + 2  # this campaign's two members, not the other campaign's
    assert rows[1][0] == "'@Иванов"
    assert rows[1][2] == "Done"
    assert rows[1][4] == "Мария Смирнова"
    assert rows[1][5] == "'-записан"
    assert rows[2][0] == "Петров" and rows[2][2] is None
    export = Export.objects.get()
    assert (export.list_name, export.rows) == ("campaign-members", 2)


@pytest.fixture
def answers(manager, head):
    survey = survey_create(by=head, name="CSI")
    client = ClientFactory(name="Сидоров")
    now = timezone.now()
    for days, csi in ((1, "80.0"), (2, "90.0"), (40, "70.0")):
        delivery = Delivery.objects.create(client=client, vehicle=VehicleFactory(owner=client), delivered_at=now)
        SurveyResponse.objects.create(
            delivery=delivery, survey=survey, taken_by=manager, answered_at=now - timedelta(days=days), csi=Decimal(csi)
        )
    return survey


def test_survey_answers_export_with_the_lists_date_filter(answers, as_head):
    since = (timezone.now() - timedelta(days=10)).isoformat()
    response = as_head.get(
        reverse("calls:survey-report"), {"survey": answers.pk, "answered_after": since, "export": "csv"}
    )
    rows = csv_rows(response)
    assert len(rows) == 1 + 2
    assert [row[4] for row in rows[1:]] == ["80.0", "90.0"]
    assert {row[1] for row in rows[1:]} == {"Сидоров"}
    assert Export.objects.get().list_name == "survey-answers"
    # the page shows the buttons with the chosen survey
    page = as_head.get(reverse("calls:survey-report")).content.decode()
    assert f'href="?survey={answers.pk}&amp;export=csv"' in page


@pytest.mark.parametrize("page", ["board", "campaign", "survey"])
def test_a_manager_cannot_export_these_lists(page, tasks, campaign, answers, as_manager, as_head, users):
    url = {
        "board": reverse("calls:head-tasks"),
        "campaign": reverse("calls:campaign-detail", args=[campaign.pk]),
        "survey": reverse("calls:survey-report"),
    }[page]
    assert as_manager.get(url, {"export": "csv"}).status_code == 403
    assert as_manager.get(url, {"export": "xlsx"}).status_code == 403
    assert not Export.objects.exists()
    if page == "campaign":  # the one page she may open: without the buttons
        assert 'id="export"' not in as_manager.get(url).content.decode()
    assert 'id="export"' in as_head.get(url).content.decode()


# --- a long export, in the background ---------------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.EXPORT_ASYNC_ROWS = 2
    return tmp_path


def test_a_long_export_is_built_by_a_task_and_handed_to_its_user_alone(
    tasks, media, as_head, head, django_capture_on_commit_callbacks, celery_eager, web
):
    # when: the head exports the three pending tasks, above the threshold of two
    with django_capture_on_commit_callbacks(execute=True):
        response = as_head.get(reverse("calls:head-tasks"), {"export": "xlsx"})
    export = Export.objects.get()
    # then: she is sent to its progress page; the task built the file
    assert response.status_code == 302 and response.url == reverse("reports:export-detail", args=[export.pk])
    assert (export.status, export.rows, export.total, export.filter) == ("done", 3, 3, "")
    assert export.file.name.startswith("exports/") and export.file.name.endswith(".xlsx")
    assert (media / export.file.name).exists()
    page = as_head.get(response.url).content.decode()
    assert 'id="export-download"' in page and 'hx-trigger="every 2s"' not in page  # done: no more polling
    download = as_head.get(reverse("reports:export-download", args=[export.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="call-tasks-')
    rows = xlsx_rows(b"".join(download.streaming_content))
    assert len(rows) == 1 + 3
    # another head sees none of it: not the page, not the progress, not the file
    web.force_login(UserFactory(username="head2", role=Role.HEAD))
    for name in ("reports:export-detail", "reports:export-progress", "reports:export-download"):
        assert web.get(reverse(name, args=[export.pk])).status_code == 404


def test_a_queued_export_shows_its_progress_and_polls(tasks, media, as_head, django_capture_on_commit_callbacks):
    # the broker has not run the task yet (no eager Celery here, and the message is not sent)
    response = as_head.get(reverse("calls:head-tasks"), {"export": "csv", "status": "open"})
    export = Export.objects.get()
    assert (export.status, export.total, export.filter) == ("queued", 3, "status=open")
    fragment = as_head.get(reverse("reports:export-progress", args=[export.pk]), headers={"HX-Request": "true"})
    html = fragment.content.decode()
    assert 'hx-trigger="every 2s"' in html and 'data-status="queued"' in html
    assert as_head.get(response.url).status_code == 200
    assert as_head.get(reverse("reports:export-download", args=[export.pk])).status_code == 404  # not ready
    # the task runs (twice: a redelivered message); the second run does nothing
    built = export_build(pk=export.pk)
    assert export_build(pk=export.pk) is None
    assert build_export.run(export.pk) is None
    assert (built.status, built.rows) == ("done", 3)
    rows = csv_rows(as_head.get(reverse("reports:export-download", args=[export.pk])))
    assert len(rows) == 1 + 3


def test_a_failed_build_says_so(tasks, media, head):
    export = Export.objects.create(
        user=head, list_name="x", format="csv", view="no.such.View", status=Export.Status.QUEUED, total=5
    )
    assert export_build(pk=export.pk) is None
    export.refresh_from_db()
    assert export.status == "failed" and export.error


def test_files_older_than_a_day_are_purged_and_the_log_stays(
    tasks, media, as_head, django_capture_on_commit_callbacks, settings
):
    as_head.get(reverse("calls:head-tasks"), {"export": "csv"})
    export = export_build(pk=Export.objects.get().pk)
    path = media / export.file.name
    assert path.exists()
    assert exports_purge(now=timezone.now() + timedelta(hours=23)) == 0
    assert exports_purge(now=timezone.now() + timedelta(days=1, minutes=1)) == 1
    assert exports_purge(now=timezone.now() + timedelta(days=1, minutes=2)) == 0  # twice: harmless
    export.refresh_from_db()
    assert not path.exists() and export.file.name == "" and export.status == "expired"
    assert as_head.get(reverse("reports:export-download", args=[export.pk])).status_code == 404
    as_head.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the notice as written
    assert "removed after a day" in as_head.get(reverse("reports:export-detail", args=[export.pk])).content.decode()


def test_a_build_that_lost_its_worker_is_marked_failed_by_when_it_began(head):
    now = timezone.now()
    # asked two hours ago, waited in the queue, begun ten minutes ago: still being built
    waited = Export.objects.create(
        user=head,
        list_name="x",
        format="csv",
        status=Export.Status.RUNNING,
        created_at=now - timedelta(hours=2),
        started_at=now - timedelta(minutes=10),
    )
    stale = Export.objects.create(
        user=head, list_name="x", format="csv", status=Export.Status.RUNNING, created_at=now, started_at=now
    )
    exports_purge(now=now + timedelta(minutes=30))
    waited.refresh_from_db()
    assert waited.status == "running"
    exports_purge(now=now + timedelta(hours=2))
    stale.refresh_from_db()
    assert stale.status == "failed" and stale.finished_at is not None


def test_a_queued_export_whose_message_was_lost_is_built_by_the_sweep(
    tasks, media, as_head, celery_eager, django_capture_on_commit_callbacks
):
    # the request queued it, but the message never reached a worker (its on-commit send is dropped here)
    as_head.get(reverse("calls:head-tasks"), {"export": "csv"})
    export = Export.objects.get()
    assert export.status == "queued"
    exports_purge(now=timezone.now() + timedelta(minutes=1))  # too early to call it lost
    export.refresh_from_db()
    assert export.status == "queued"
    with django_capture_on_commit_callbacks(execute=True):
        exports_purge(now=timezone.now() + timedelta(minutes=6))
    export.refresh_from_db()
    assert (export.status, export.rows) == ("done", 3) and export.started_at is not None
    assert as_head.get(reverse("reports:export-download", args=[export.pk])).status_code == 200


def test_a_queued_export_nobody_built_in_a_day_fails_instead_of_polling_forever(head, as_head):
    export = Export.objects.create(user=head, list_name="x", format="csv", status=Export.Status.QUEUED, total=5)
    exports_purge(now=timezone.now() + timedelta(days=1, minutes=1))
    export.refresh_from_db()
    assert export.status == "failed" and export.finished_at is not None
    fragment = as_head.get(reverse("reports:export-progress", args=[export.pk]), headers={"HX-Request": "true"})
    assert 'hx-trigger="every 2s"' not in fragment.content.decode()


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "lost"},
        {"format": "pdf"},
        {"status": "running", "started_at": None, "finished_at": None},
    ],
)
def test_the_database_refuses_an_export_in_no_known_state(head, fields):
    values = {"list_name": "x", "format": "csv", "status": "done", "finished_at": timezone.now(), **fields}
    with pytest.raises(IntegrityError), transaction.atomic():
        Export.objects.create(user=head, **values)


# --- the export log -------------------------------------------------------------------------------------------------


def test_the_export_log_is_the_heads(tasks, as_head, as_manager, head, manager):
    as_head.get(reverse("calls:head-tasks"), {"kind": "callback", "export": "xlsx"})
    as_head.get(reverse("calls:list"), {"export": "xlsx"})
    page = as_head.get(reverse("reports:export-log"), headers={"Accept-Language": "en"})
    html = page.content.decode()
    assert page.status_code == 200
    assert html.count("data-export=") == 2
    assert "kind=callback" in html and "call-tasks" in html and "calls" in html
    filtered = as_head.get(reverse("reports:export-log"), {"list_name": "calls"}).content.decode()
    assert filtered.count("data-export=") == 1
    assert as_manager.get(reverse("reports:export-log")).status_code == 403


@pytest.mark.parametrize("size", [3, 30])
def test_the_export_log_costs_the_same_queries_for_any_rows(size, head, as_head, django_assert_num_queries):
    users = [UserFactory(username=f"u{n}", role=Role.HEAD) for n in range(3)]
    for n in range(size):
        Export.objects.create(user=users[n % 3], list_name="calls", format="csv", rows=n)
    # session, user, the filter's users (the form's choices), the page
    with django_assert_num_queries(4):
        assert as_head.get(reverse("reports:export-log")).status_code == 200


def test_a_download_broken_off_is_logged_as_such(tasks, head):
    view = TaskBoardView()
    view.setup(RequestFactory().get("/", {"export": "csv"}), **{})
    view.request.user = head
    export = view.export_request("csv")
    where = {"user": head.username, "list": export.list_name, "filter": "", "export": export}
    rows = CallTask.objects.values_list(*(c.field for c in view.export_columns[:1]))
    view.export_columns = view.export_columns[:1]
    stream = view.csv(["when"], rows, where)
    next(stream), next(stream)  # the header and one row went out
    stream.close()  # then the browser went away, and the server closed the response
    logged = Export.objects.get()
    assert (logged.status, logged.rows, logged.list_name, logged.user) == ("interrupted", 1, "call-tasks", head)
