"""The follow-up survey the head defines: questions, order, one survey in use; the CSI report; the pages (head only)
and the read API of the answers."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.test import Client as WebClient
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from calls.models import Survey, SurveyQuestion, SurveyResponse
from calls.services.surveys import (
    QuestionInput,
    csi_report,
    survey_activate,
    survey_create,
    survey_deactivate,
    survey_question_add,
    survey_question_remove,
    survey_question_update,
    survey_questions_reorder,
    survey_record,
    survey_save,
)
from clientdesk.calendar import at, local_date
from clientdesk.errors import Conflict
from clients.models import Delivery
from tests.concurrency import run_at_once
from tests.factories import ClientFactory, VehicleFactory

pytestmark = pytest.mark.django_db

ROLES = ["manager", "head", "advisor", "transport_head", "integration"]


def make_survey(head, name="CSI после выдачи", *, active=False) -> Survey:
    survey = survey_create(
        by=head,
        name=name,
        questions=[
            QuestionInput(text="Оцените выдачу автомобиля", kind="scale5"),
            QuestionInput(text="Порекомендуете нас друзьям?", kind="scale10"),
            QuestionInput(text="Всё ли объяснили?", kind="yes_no", counts_for_csi=False),
            QuestionInput(text="Что улучшить?", kind="text"),
        ],
    )
    return survey_activate(survey=survey, by=head) if active else survey


def questions(survey) -> dict[str, SurveyQuestion]:
    return {q.kind: q for q in survey.questions.all()}


def respond(survey, by, *, scale5=None, scale10=None, yes_no=None, text="", answered_at=None) -> SurveyResponse:
    client = ClientFactory()
    vehicle = VehicleFactory(owner=client)
    delivery = Delivery.objects.create(client=client, vehicle=vehicle, delivered_at=timezone.now() - timedelta(days=7))
    q = questions(survey)
    answers = {
        str(q["scale5"].pk): scale5,
        str(q["scale10"].pk): scale10,
        str(q["yes_no"].pk): yes_no,
        str(q["text"].pk): text,
    }
    response = survey_record(delivery=delivery, by=by, survey=survey, answers=answers)
    if answered_at is not None:
        SurveyResponse.objects.filter(pk=response.pk).update(answered_at=answered_at)
        response.refresh_from_db()
    return response


# --- defining the survey --------------------------------------------------------------------------------------------


def test_create_with_questions_in_order(head):
    survey = make_survey(head)
    rows = list(survey.questions.values_list("position", "text", "kind", "counts_for_csi"))
    assert rows == [
        (1, "Оцените выдачу автомобиля", "scale5", True),
        (2, "Порекомендуете нас друзьям?", "scale10", True),
        (3, "Всё ли объяснили?", "yes_no", False),
        (4, "Что улучшить?", "text", False),  # free text never counts for the CSI
    ]
    assert not survey.is_active
    assert survey.history.first().history_user == head


def test_add_edit_reorder_and_remove_questions(head):
    survey = make_survey(head)
    added = survey_question_add(survey=survey, by=head, text="  Чисто  ли   в машине? ", kind="yes_no")
    assert (added.position, added.text) == (5, "Чисто ли в машине?")
    survey_question_update(question=added, by=head, text="Машина была чистой?", counts_for_csi=False)
    added.refresh_from_db()
    assert (added.text, added.counts_for_csi) == ("Машина была чистой?", False)
    order = list(survey.questions.values_list("pk", flat=True))
    survey_questions_reorder(survey=survey, by=head, order=list(reversed(order)))
    assert list(survey.questions.values_list("pk", flat=True)) == list(reversed(order))
    survey_question_remove(question=added, by=head)
    assert survey.questions.count() == 4


@pytest.mark.parametrize("order", ["empty", "missing", "twice", "stranger"])
def test_a_reorder_must_list_each_question_once(head, order):
    survey = make_survey(head)
    ids = list(survey.questions.values_list("pk", flat=True))
    order = {"empty": [], "missing": ids[:-1], "twice": [*ids[:-1], ids[0]], "stranger": [*ids[:-1], 999999]}[order]
    with pytest.raises(ValidationError):
        survey_questions_reorder(survey=survey, by=head, order=order)
    assert list(survey.questions.values_list("pk", flat=True)) == ids


def test_an_answered_question_keeps_its_kind_and_stays(head, manager):
    survey = make_survey(head)
    respond(survey, manager, scale5=4)
    question = questions(survey)["scale5"]
    with pytest.raises(ValidationError) as exc:
        survey_question_update(question=question, by=head, kind="scale10")
    assert "kind" in exc.value.message_dict
    with pytest.raises(Conflict):
        survey_question_remove(question=question, by=head)
    survey_question_update(question=question, by=head, text="Оцените выдачу")  # a typo fix is fine
    question.refresh_from_db()
    assert (question.kind, question.text) == ("scale5", "Оцените выдачу")


@pytest.mark.parametrize(
    ("row", "field"),
    [
        (QuestionInput(text="", kind="scale5"), "questions-1-text"),
        (QuestionInput(text="Вопрос", kind="stars"), "questions-1-kind"),
        (QuestionInput(text="x" * 301), "questions-1-text"),
    ],
)
def test_survey_save_names_the_bad_row_and_saves_nothing(head, row, field):
    survey = make_survey(head)
    before = list(survey.questions.values_list("pk", "text", "position"))
    rows = [QuestionInput(id=pk, text=text) for pk, text, _pos in before[:1]] + [row]
    with pytest.raises(ValidationError) as exc:
        survey_save(survey=survey, by=head, name="Новое имя", questions=rows)
    assert field in exc.value.message_dict
    survey.refresh_from_db()
    assert survey.name == "CSI после выдачи"
    assert list(survey.questions.values_list("pk", "text", "position")) == before


def test_survey_save_refuses_another_surveys_question(head):
    mine, theirs = make_survey(head), make_survey(head, name="Другая")
    stranger = theirs.questions.first()
    with pytest.raises(ValidationError) as exc:
        survey_save(survey=mine, by=head, name="x", questions=[QuestionInput(id=stranger.pk, text="Чужой")])
    assert "questions-0-text" in exc.value.message_dict
    stranger.refresh_from_db()
    assert stranger.text != "Чужой"


# --- one survey in use ----------------------------------------------------------------------------------------------


def test_activation_swaps_the_survey_in_use(head):
    first = make_survey(head, "Первая", active=True)
    second = make_survey(head, "Вторая")

    survey_activate(survey=second, by=head)

    assert list(Survey.objects.filter(is_active=True)) == [second]
    first.refresh_from_db()
    assert not first.is_active
    assert first.history.first().history_change_reason == "replaced"
    assert survey_activate(survey=second, by=head).is_active  # again: nothing changes
    assert Survey.objects.filter(is_active=True).count() == 1
    survey_deactivate(survey=second, by=head)
    assert not Survey.objects.filter(is_active=True).exists()


def test_a_survey_without_questions_cannot_be_put_in_use(head):
    empty = survey_create(by=head, name="Пустая")
    with pytest.raises(ValidationError):
        survey_activate(survey=empty, by=head)
    assert not Survey.objects.filter(is_active=True).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_heads_activating_different_surveys_at_once_leave_exactly_one_in_use(head):
    surveys = [make_survey(head, f"Анкета {n}") for n in range(4)]

    def activate(n: int) -> None:
        survey_activate(survey=surveys[n], by=head)

    _done, errors = run_at_once(len(surveys), activate)
    assert errors == []
    assert Survey.objects.filter(is_active=True).count() == 1


def test_the_follow_up_call_asks_the_survey_in_use(head, manager):
    from calls.services.surveys import active_survey

    make_survey(head, "Старая", active=True)
    new = make_survey(head, "Новая")
    survey_activate(survey=new, by=head)
    assert active_survey() == new


# --- the CSI report -------------------------------------------------------------------------------------------------


def month_start(day: date, back: int) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def test_csi_overall_per_month_and_per_question(head, manager):
    survey = make_survey(head)
    today = local_date(timezone.now())
    this_month, two_months_ago, long_ago = month_start(today, 0), month_start(today, 2), month_start(today, 13)
    # A response just after local midnight on the 1st belongs to that month, though in UTC it is the month before.
    respond(survey, manager, scale5=4, scale10=10, yes_no="yes", answered_at=at(two_months_ago, time(0, 30)))
    respond(survey, manager, scale5=2, scale10=5, yes_no="no", answered_at=at(two_months_ago, time(12)))
    respond(survey, manager, scale5=5, scale10=10, answered_at=at(this_month, time(9)))
    respond(survey, manager, text="только отзыв", answered_at=at(this_month, time(10)))  # no score: no CSI
    respond(survey, manager, scale5=1, scale10=0, answered_at=at(long_ago, time(12)))  # outside the 12 months

    report = csi_report(survey=survey)

    months = report["months"]
    assert len(months) == 12 and months[0]["month"] == month_start(today, 11) and months[-1]["month"] == this_month
    by_month = {row["month"]: row for row in months}
    assert by_month[two_months_ago] == {"month": two_months_ago, "csi": Decimal("67.5"), "answered": 2, "declined": 0}
    assert by_month[this_month] == {"month": this_month, "csi": Decimal("100.0"), "answered": 2, "declined": 0}
    assert by_month[month_start(today, 1)] == {
        "month": month_start(today, 1),
        "csi": None,
        "answered": 0,
        "declined": 0,
    }
    # (90 + 45 + 100) / 3, over the responses that have a CSI
    assert (report["csi"], report["answered"]) == (Decimal("78.3"), 4)
    rows = {row["question"].kind: row for row in report["questions"]}
    assert (rows["scale5"]["average"], rows["scale5"]["percent"], rows["scale5"]["answered"]) == (
        Decimal("3.67"),
        Decimal("73.3"),
        3,
    )
    assert (rows["scale10"]["average"], rows["scale10"]["percent"]) == (Decimal("8.33"), Decimal("83.3"))
    assert (rows["yes_no"]["percent"], rows["yes_no"]["answered"]) == (Decimal("50.0"), 2)
    assert (rows["text"]["percent"], rows["text"]["answered"]) == (None, 1)


def test_csi_report_is_one_query_for_the_months(head, manager, django_assert_num_queries):
    survey = make_survey(head)
    for n in range(5):
        respond(survey, manager, scale5=5, scale10=9, answered_at=timezone.now() - timedelta(days=30 * n))
    with django_assert_num_queries(1):
        report = csi_report()
    assert report["answered"] == 5 and report["questions"] == []


def test_an_empty_report(head):
    report = csi_report(now=datetime(2030, 3, 10, 12, tzinfo=timezone.get_current_timezone()))
    assert report["csi"] is None and report["answered"] == 0
    assert [row["month"] for row in report["months"]][:2] == [date(2029, 4, 1), date(2029, 5, 1)]


# --- pages ----------------------------------------------------------------------------------------------------------


def formset_data(rows, *, name="Анкета", initial=0) -> dict:
    data = {
        "name": name,
        "questions-TOTAL_FORMS": str(len(rows)),
        "questions-INITIAL_FORMS": str(initial),
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"questions-{index}-{key}"] = value
    return data


def test_head_creates_a_survey_on_its_page(as_head):
    data = formset_data(
        [
            {"position": "2", "text": "Порекомендуете нас?", "kind": "scale10", "counts_for_csi": "on"},
            {"position": "1", "text": "Оцените выдачу", "kind": "scale5", "counts_for_csi": "on"},
            {"position": "", "text": "", "kind": "scale5"},  # an untouched empty row
        ]
    )
    response = as_head.post(reverse("calls:survey-create"), data)
    survey = Survey.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("calls:survey-edit", args=[survey.pk])
    assert list(survey.questions.values_list("text", "position")) == [
        ("Оцените выдачу", 1),
        ("Порекомендуете нас?", 2),
    ]


def test_the_edit_page_reorders_renames_and_deletes(as_head, head):
    survey = make_survey(head)
    q = list(survey.questions.all())
    rows = [
        {"id": str(q[0].pk), "position": "3", "text": q[0].text, "kind": q[0].kind, "counts_for_csi": "on"},
        {"id": str(q[1].pk), "position": "1", "text": "Посоветуете нас?", "kind": q[1].kind, "counts_for_csi": "on"},
        {"id": str(q[2].pk), "position": "2", "text": q[2].text, "kind": q[2].kind, "DELETE": "on"},
        {"id": str(q[3].pk), "position": "4", "text": q[3].text, "kind": q[3].kind},
        {"position": "", "text": "Новый вопрос", "kind": "yes_no", "counts_for_csi": "on"},
    ]
    response = as_head.post(reverse("calls:survey-edit", args=[survey.pk]), formset_data(rows, initial=4))
    assert response.status_code == 302
    assert list(survey.questions.values_list("text", "position")) == [
        ("Посоветуете нас?", 1),
        ("Оцените выдачу автомобиля", 2),
        ("Что улучшить?", 3),
        ("Новый вопрос", 4),
    ]


def test_the_edit_page_shows_a_refused_row_beside_it_and_saves_nothing(as_head, head, manager):
    survey = make_survey(head)
    respond(survey, manager, scale5=3)
    q = list(survey.questions.all())
    rows = [
        {"id": str(q[0].pk), "position": "1", "text": q[0].text, "kind": "scale10", "counts_for_csi": "on"},
        {"position": "", "text": "Новый", "kind": "scale5", "counts_for_csi": "on"},
    ]
    response = as_head.post(reverse("calls:survey-edit", args=[survey.pk]), formset_data(rows, name="Другое"))
    assert response.status_code == 400
    assert response.context["questions"].forms[0].errors["kind"]
    survey.refresh_from_db()
    assert survey.name == "CSI после выдачи" and survey.questions.count() == 4


@pytest.mark.parametrize(
    "data",
    [
        formset_data([{"text": "Вопрос", "kind": "scale5"}], name=""),
        formset_data([{"text": "Вопрос", "kind": "stars"}]),
        formset_data([{"text": "Вопрос", "kind": "scale5", "position": "-4"}]),
        formset_data([{"id": "abc", "text": "Вопрос", "kind": "scale5"}]),
        {"name": "Без формсета"},
    ],
)
def test_bad_survey_forms_are_400(as_head, data):
    response = as_head.post(reverse("calls:survey-create"), data)
    assert response.status_code == 400
    assert not Survey.objects.exists()


def test_activate_from_the_list(as_head, head):
    first = make_survey(head, "Первая", active=True)
    second = make_survey(head, "Вторая")
    listing = as_head.get(reverse("calls:survey-list"))
    assert listing.status_code == 200
    assert [s.question_count for s in listing.context["surveys"]] == [4, 4]
    response = as_head.post(reverse("calls:survey-activate", args=[second.pk]))
    assert response.status_code == 302
    assert list(Survey.objects.filter(is_active=True)) == [second]
    as_head.post(reverse("calls:survey-deactivate", args=[second.pk]))
    assert not Survey.objects.filter(is_active=True).exists()
    empty = survey_create(by=head, name="Пустая")
    response = as_head.post(reverse("calls:survey-activate", args=[empty.pk]), follow=True)
    assert response.status_code == 200 and not Survey.objects.filter(is_active=True).exists()
    first.refresh_from_db()
    assert not first.is_active


def test_the_report_page_passes_the_chart_data_as_json(as_head, head, manager):
    survey = make_survey(head, active=True)
    respond(survey, manager, scale5=5, scale10=10)
    response = as_head.get(reverse("calls:survey-report"))
    assert response.status_code == 200
    content = response.content.decode()
    assert '<script id="csi-data" type="application/json">' in content
    assert "vendor/chartjs/chart.umd.js" in content and "cdn" not in content.lower()
    chart = response.context["chart"]
    assert len(chart["labels"]) == 12 and chart["values"][-1] == 100.0 and chart["answered"][-1] == 1
    other = make_survey(head, "Другая")
    assert as_head.get(reverse("calls:survey-report"), {"survey": other.pk}).context["survey"] == other
    assert as_head.get(reverse("calls:survey-report"), {"survey": "junk"}).context["survey"] == survey


def test_chart_js_is_served_from_node_modules():
    assert finders.find("vendor/chartjs/chart.umd.js")


# --- who may do what ------------------------------------------------------------------------------------------------


def page_urls(survey) -> list[str]:
    return [
        reverse("calls:survey-list"),
        reverse("calls:survey-create"),
        reverse("calls:survey-edit", args=[survey.pk]),
        reverse("calls:survey-report"),
    ]


def test_anonymous_goes_to_sign_in(web, head):
    survey = make_survey(head)
    for url in page_urls(survey):
        response = web.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login")), url
    assert web.post(reverse("calls:survey-activate", args=[survey.pk])).status_code == 302
    assert APIClient().get("/api/v1/survey-responses/").status_code in (401, 403)


@pytest.mark.parametrize("role", ROLES)
def test_survey_pages_are_the_heads(users, role):
    survey = make_survey(users["head"])
    web = WebClient()
    web.force_login(users[role])
    for url in page_urls(survey):
        assert web.get(url).status_code == (200 if role == "head" else 403), (role, url)


@pytest.mark.parametrize("role", ["manager", "advisor", "transport_head", "integration"])
def test_refused_survey_writes_change_nothing(users, role):
    survey = make_survey(users["head"])
    web = WebClient()
    web.force_login(users[role])
    assert web.post(reverse("calls:survey-activate", args=[survey.pk])).status_code == 403
    response = web.post(reverse("calls:survey-edit", args=[survey.pk]), formset_data([], name="Чужая"))
    assert response.status_code == 403
    assert web.post(reverse("calls:survey-create"), formset_data([], name="Чужая")).status_code == 403
    survey.refresh_from_db()
    assert (survey.name, survey.is_active, Survey.objects.count()) == ("CSI после выдачи", False, 1)


def test_activate_is_post_only(as_head, head):
    survey = make_survey(head)
    assert as_head.get(reverse("calls:survey-activate", args=[survey.pk])).status_code == 405


# --- the API --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_api_by_role(users, role):
    survey = make_survey(users["head"], active=True)
    response = respond(survey, users["manager"], scale5=5)
    api = APIClient()
    api.force_authenticate(users[role])
    expected = 200 if role in {"manager", "head", "advisor", "integration"} else 403
    assert api.get("/api/v1/survey-responses/").status_code == expected
    assert api.get(f"/api/v1/survey-responses/{response.pk}/").status_code == expected


def test_api_lists_answers_with_filters(dms_api, head, manager):
    survey = make_survey(head, active=True)
    old = respond(survey, manager, scale5=2, scale10=4, answered_at=timezone.now() - timedelta(days=40))
    new = respond(survey, manager, scale5=5, scale10=10, yes_no="yes", text="Спасибо")

    rows = dms_api.get("/api/v1/survey-responses/").json()["results"]
    assert [row["id"] for row in rows] == [new.pk, old.pk]  # newest first
    row = rows[0]
    assert row["csi"] == "100.0" and row["client"] == new.delivery.client_id and row["delivery"] == new.delivery_id
    assert [(a["kind"], a["score"], a["text"]) for a in row["answers"]] == [
        ("scale5", 5, ""),
        ("scale10", 10, ""),
        ("yes_no", 1, ""),
        ("text", None, "Спасибо"),
    ]
    since = (timezone.now() - timedelta(days=10)).isoformat()
    assert [r["id"] for r in dms_api.get("/api/v1/survey-responses/", {"answered_after": since}).json()["results"]] == [
        new.pk
    ]
    before = dms_api.get("/api/v1/survey-responses/", {"answered_before": since}).json()["results"]
    assert [r["id"] for r in before] == [old.pk]
    by_client = dms_api.get("/api/v1/survey-responses/", {"client": old.delivery.client_id}).json()["results"]
    assert [r["id"] for r in by_client] == [old.pk]
    by_delivery = dms_api.get("/api/v1/survey-responses/", {"delivery": new.delivery_id}).json()["results"]
    assert [r["id"] for r in by_delivery] == [new.pk]
    one = dms_api.get(f"/api/v1/survey-responses/{old.pk}/").json()
    assert one["csi"] == "40.0" and len(one["answers"]) == 4


@pytest.mark.parametrize("params", [{"answered_after": "yesterday"}, {"client": "abc"}, {"delivery": "x"}])
def test_api_bad_filters_are_400(api_as_manager, params):
    assert api_as_manager.get("/api/v1/survey-responses/", params).status_code == 400


def test_api_is_read_only(api_as_manager):
    assert api_as_manager.post("/api/v1/survey-responses/", {}, format="json").status_code == 405


@pytest.mark.parametrize("rows", [5, 50])
def test_api_survey_response_list_query_count_is_pinned(api_as_manager, head, manager, django_assert_num_queries, rows):
    survey = make_survey(head, active=True)
    for _ in range(rows):
        respond(survey, manager, scale5=4, scale10=8, text="ок")
    # the page of responses with their deliveries, and all their answers with the questions
    with django_assert_num_queries(2):
        response = api_as_manager.get("/api/v1/survey-responses/", {"page_size": 100})
    assert len(response.json()["results"]) == rows
