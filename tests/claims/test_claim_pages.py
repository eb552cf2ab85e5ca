"""Claims' pages: registering from the card and from a complaint call, the list by due state with pinned queries, the
card's steps, the printed forms, the panels other apps show."""

from datetime import timedelta
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from calls.models import Call
from claims import services
from claims.models import Claim, ClaimCategory
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db
S = Claim.Status
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_the_client_card_opens_a_claim_for_the_client(as_manager, car_client, categories):
    card = as_manager.get(car_client.get_absolute_url())
    link = f"{reverse('claims:create')}?client={car_client.pk}"
    assert link in card.content.decode()
    page = as_manager.get(link)
    assert page.status_code == 200
    assert car_client.name in page.content.decode()
    assert page.context["form"].initial["vehicle"] == car_client.vehicles.first()


def test_a_logged_complaint_call_offers_a_claim_prefilled_from_it(as_manager, car_client, categories, manager):
    response = as_manager.post(
        reverse("calls:log-for-client", args=[car_client.pk]),
        {
            "direction": "in",
            "purpose": "complaint",
            "outcome": "talked",
            "notes": "Стучит подвеска после ремонта",
            "duration_minutes": 3,
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    call = Call.objects.get(client=car_client)
    link = f"{reverse('claims:create')}?call={call.pk}"
    assert link in response.content.decode()
    form = as_manager.get(link).context["form"]
    assert form.initial["client_words"] == "Стучит подвеска после ремонта"
    assert form.initial["vehicle"] == car_client.vehicles.first()
    # Registering it links the call and the claim.
    response = as_manager.post(
        reverse("claims:create"),
        {
            "client": car_client.pk,
            "call": call.pk,
            "kind": "oral",
            "channel": "phone",
            "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "vehicle": car_client.vehicles.first().pk,
            "client_words": form.initial["client_words"],
            "demand": "Бесплатно устранить",
            "category": categories["defect"].pk,
            "agreed_term_days": 14,
            "files": [SimpleUploadedFile("скан.pdf", PDF_BYTES)],
        },
    )
    claim = Claim.objects.get()
    assert response.status_code == 302 and response["Location"] == claim.get_absolute_url()
    assert claim.source_call == call and claim.assignee == manager and claim.attachments.count() == 1
    assert claim.due_date == timezone.localdate() + timedelta(days=14)


def test_other_calls_offer_no_claim(as_manager, car_client):
    response = as_manager.post(
        reverse("calls:log-for-client", args=[car_client.pk]),
        {"direction": "in", "purpose": "consultation", "outcome": "resolved", "notes": "Цены на ТО"},
        HTTP_HX_REQUEST="true",
    )
    assert "?call=" not in response.content.decode()


def test_a_bad_claim_form_shows_field_errors_and_saves_nothing(as_manager, car_client, categories):
    response = as_manager.post(
        reverse("claims:create"),
        {
            "client": car_client.pk,
            "kind": "oral",
            "channel": "phone",
            "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "client_words": "Жалоба",
            "demand": "Исправить",
            "category": categories["defect"].pk,
            "agreed_term_days": 60,
            "files": [SimpleUploadedFile("virus.pdf", b"MZ\x90\x00 not a pdf")],
        },
    )
    assert response.status_code == 400
    assert "agreed_term_days" in response.context["form"].errors
    assert not Claim.objects.exists()


def test_a_wrong_attachment_is_refused_on_the_card_with_a_clear_message(as_manager, make_claim, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    claim = make_claim()
    as_manager.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the message as written
    response = as_manager.post(
        reverse("claims:step", args=[claim.pk, "attach"]), {"file": SimpleUploadedFile("a.pdf", b"GIF89a....")}
    )
    assert response.status_code == 400
    assert "Only PDF, JPEG, PNG files are accepted" in response.content.decode()
    assert not claim.attachments.exists()


@pytest.mark.parametrize("rows", [1, 12])
def test_the_claim_list_reads_a_fixed_number_of_queries(as_manager, make_claim, django_assert_num_queries, rows):
    for _n in range(rows):
        make_claim()
    # session, user, the page of claims, the due-soon bound (working hours, calendar days), the filter's choices.
    with django_assert_num_queries(7):
        response = as_manager.get(reverse("claims:list"))
    assert response.status_code == 200
    assert len(response.context["page"]) == rows
    # an overdue list needs no calendar: all its rows are overdue
    with django_assert_num_queries(5):
        response = as_manager.get(reverse("claims:list"), {"due_state": "overdue", "sort": "received"})
    assert response.status_code == 200


def test_the_list_filters_and_sorts_by_due_state(as_manager, make_claim, users):
    now = timezone.now()
    overdue = make_claim(received_at=now - timedelta(days=15))
    later = make_claim(received_at=now)
    soon = make_claim(received_at=now - timedelta(days=10))  # due today
    answered = make_claim(received_at=now - timedelta(days=20))
    Claim.objects.filter(pk=answered.pk).update(
        status=S.INFORMED, outcome="refused", decided_at=now, informed_via="call", informed_at=now
    )

    def numbers(**query):
        return [c.number for c in as_manager.get(reverse("claims:list"), query).context["page"]]

    assert numbers() == [answered.number, overdue.number, soon.number, later.number]  # soonest due first
    assert numbers(due_state="overdue") == [overdue.number]
    assert numbers(due_state="due_soon") == [soon.number]
    assert numbers(due_state="later") == [later.number]
    assert numbers(sort="received")[0] == later.number
    page = as_manager.get(reverse("claims:list")).content.decode()
    assert 'data-due="overdue"' in page and 'data-due="due_soon"' in page


def test_the_manager_sees_her_claims_due_beside_the_queue(as_manager, make_claim, users):
    now = timezone.now()
    mine = make_claim(received_at=now - timedelta(days=12))
    later = make_claim(received_at=now)
    theirs = make_claim(by=users["head"], received_at=now - timedelta(days=12))
    page = as_manager.get(reverse("calls:queue")).content.decode()
    assert 'id="my-claims-due"' in page
    assert mine.number in page and later.number not in page and theirs.number not in page


def test_claims_show_on_the_client_timeline(as_manager, make_claim, car_client):
    claim = make_claim()
    page = as_manager.get(car_client.get_absolute_url()).content.decode()
    assert claim.number in page and claim.get_absolute_url() in page


def test_the_card_walks_a_claim_to_closed(web, make_claim, users):
    claim = make_claim()
    web.force_login(users["manager"])
    step = lambda name, **data: web.post(reverse("claims:step", args=[claim.pk, name]), data)  # noqa: E731
    assert step("review").status_code == 302
    assert step("escalate", to="sales_mgmt", comment="Продавали этот автомобиль у нас").status_code == 302
    web.force_login(users["sales_mgmt"])
    page = web.get(claim.get_absolute_url())
    assert page.status_code == 200 and 'id="step-decide"' in page.content.decode()
    response = step("decide", outcome="satisfied", decision_text="Заменить", compensation_kind="replacement")
    assert response.status_code == 302
    web.force_login(users["manager"])
    assert step("inform-call", notes="Сообщили клиенту о замене").status_code == 302
    assert step("close").status_code == 302
    claim.refresh_from_db()
    assert claim.status == S.CLOSED and claim.informed_call.notes == "Сообщили клиенту о замене"


def test_an_illegal_step_on_the_card_is_refused_and_changes_nothing(as_manager, make_claim, settings):
    claim = make_claim()
    as_manager.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the message as written
    response = as_manager.post(reverse("claims:step", args=[claim.pk, "close"]), {}, follow=True)
    assert "closed only after the client was informed" in response.content.decode()
    claim.refresh_from_db()
    assert claim.status == S.REGISTERED and claim.transitions.count() == 1


def test_a_manager_cannot_decide_or_reopen(as_manager, make_claim):
    claim = make_claim()
    assert as_manager.post(reverse("claims:step", args=[claim.pk, "decide"]), {"outcome": "refused"}).status_code == 403
    assert as_manager.post(reverse("claims:step", args=[claim.pk, "reopen"]), {"reason": "x"}).status_code == 403
    claim.refresh_from_db()
    assert claim.status == S.REGISTERED


def pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    return " ".join(page.extract_text() for page in PdfReader(BytesIO(response.content)).pages)


def test_the_registration_card_and_the_answer_letter_print_in_russian(as_head, make_claim, users, settings):
    claim = make_claim()
    text = pdf_text(as_head.get(reverse("claims:pdf", args=[claim.pk, "card"])))
    assert f"Карточка регистрации претензии № {claim.number}" in text
    assert "Петров Иван Сергеевич" in text and settings.DEALERSHIP["name"] in text
    assert claim.due_date.strftime("%d.%m.%Y") in text
    # No letter before the decision.
    assert as_head.get(reverse("claims:pdf", args=[claim.pk, "letter"])).status_code == 302
    services.claim_decide(
        claim=claim,
        by=users["head"],
        outcome="partly",
        decision_text="Скидка 20% на ремонт подвески",
        compensation_kind="discount",
    )
    text = pdf_text(as_head.get(reverse("claims:pdf", args=[claim.pk, "letter"])))
    assert "Ответ на претензию" in text and "удовлетворена частично" in text
    assert "Скидка 20% на ремонт подвески" in text and settings.DEALERSHIP["director"] in text
    html = as_head.get(reverse("claims:print", args=[claim.pk, "letter"]), HTTP_ACCEPT_LANGUAGE="en")
    assert html.status_code == 200 and "Ответ на претензию" in html.content.decode()


def test_an_attachment_is_served_only_to_who_sees_the_claim(web, make_claim, users, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    claim = make_claim()
    attachment = services.claim_attach(claim=claim, by=users["manager"], file=SimpleUploadedFile("скан.pdf", PDF_BYTES))
    url = reverse("claims:attachment", args=[attachment.pk])
    web.force_login(users["manager"])
    response = web.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF_BYTES
    web.force_login(users["workshop_mgmt"])  # not escalated to them
    assert web.get(url).status_code == 404


def test_the_head_edits_a_category(as_head, categories):
    refund = categories["refund"]
    data = {"code": "refund", "name": refund.name, "term_days": 7, "order": 10, "is_active": "on", "basis": "ст. 22"}
    response = as_head.post(reverse("claims:category-edit", args=[refund.pk]), data)
    assert response.status_code == 302
    refund.refresh_from_db()
    assert refund.term_days == 7 and refund.history.count() >= 1
    bad = {**data, "code": "new", "term_agreed": "on", "max_term_days": 3}
    response = as_head.post(reverse("claims:category-create"), bad)
    assert response.status_code == 400 and "max_term_days" in response.context["form"].errors
    assert not ClaimCategory.objects.filter(code="new").exists()


def test_the_list_hides_what_the_management_may_not_see(web, make_claim, users):
    escalated = make_claim()
    services.claim_escalate(claim=escalated, by=users["manager"], to="workshop_mgmt")
    other = make_claim(client=ClientFactory())
    web.force_login(users["workshop_mgmt"])
    numbers = [c.number for c in web.get(reverse("claims:list")).context["page"]]
    assert numbers == [escalated.number]
    assert web.get(other.get_absolute_url()).status_code == 404
    web.force_login(users["sales_mgmt"])
    assert list(web.get(reverse("claims:list")).context["page"]) == []


def test_register_a_claim_is_offered_on_a_complaint_call_only_to_those_who_register_claims(
    web, users, car_client, complaint_call
):
    link = f"{reverse('claims:create')}?call={complaint_call.pk}"
    for role, offered in (("manager", True), ("head", True), ("advisor", False), ("transport_head", False)):
        web.force_login(users[role])
        card = web.get(reverse("clients:detail", args=[car_client.pk]))
        assert card.status_code == 200
        assert (link in card.content.decode()) is offered, role
