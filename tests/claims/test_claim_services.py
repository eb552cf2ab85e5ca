"""Claims' services: due dates from the categories, numbers, the status machine, escalation, informing, attachments."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone, translation
from django.utils.translation import gettext

from calls.models import Call
from claims import services
from claims.models import Claim, ClaimAttachment, ClaimDueChange
from clientdesk.calendar import at, local_zone
from clientdesk.errors import Conflict
from clientdesk.models import Notification
from fleet.models import FleetCar, Reservation
from tests.concurrency import run_at_once
from tests.factories import CallFactory, ClientFactory, UserFactory

pytestmark = pytest.mark.django_db
S = Claim.Status
RECEIVED = datetime(2026, 3, 2, 23, 30, tzinfo=local_zone())  # late evening, local: the day counts, not UTC's


@pytest.mark.parametrize(
    ("code", "agreed", "due"),
    [
        ("refund", None, date(2026, 3, 12)),
        ("replacement", None, date(2026, 3, 9)),
        ("replacement_check", None, date(2026, 3, 22)),
        ("defect", 30, date(2026, 4, 1)),
        ("defect", 45, date(2026, 4, 16)),
        ("other", None, date(2026, 3, 12)),
    ],
)
def test_each_category_gives_its_due_date(make_claim, categories, code, agreed, due):
    claim = make_claim(category=code, received_at=RECEIVED, agreed_term_days=agreed)
    assert claim.due_date == due
    claim.refresh_from_db()
    assert claim.due_date == due  # stored, not computed on reading


def test_fixing_a_defect_takes_the_agreed_term_at_most_45_days(make_claim):
    with pytest.raises(ValidationError) as error:
        make_claim(category="defect", received_at=RECEIVED, agreed_term_days=46)
    assert "45" in error.value.message_dict["agreed_term_days"][0]
    with pytest.raises(ValidationError) as error:
        make_claim(category="defect", received_at=RECEIVED)
    assert "agreed_term_days" in error.value.message_dict
    assert not Claim.objects.exists()


def test_a_category_term_the_head_changed_applies_to_new_claims(make_claim, categories, head):
    old = make_claim(category="refund", received_at=RECEIVED)
    services.claim_category_save(by=head, category=categories["refund"], term_days=5)
    new = make_claim(category="refund", received_at=RECEIVED)
    old.refresh_from_db()
    assert (old.due_date, new.due_date) == (date(2026, 3, 12), date(2026, 3, 7))


def test_changing_the_category_recomputes_the_due_date_with_the_reason(make_claim, categories, manager):
    claim = make_claim(category="refund", received_at=RECEIVED)
    with pytest.raises(ValidationError):
        services.claim_change_category(claim=claim, by=manager, category=categories["replacement"], reason=" ")
    services.claim_change_category(claim=claim, by=manager, category=categories["replacement"], reason="Хочет замену")
    claim.refresh_from_db()
    assert claim.category.code == "replacement" and claim.due_date == date(2026, 3, 9)
    change = ClaimDueChange.objects.get(claim=claim)
    assert (change.old_due_date, change.new_due_date, change.reason) == (
        date(2026, 3, 12),
        date(2026, 3, 9),
        "Хочет замену",
    )
    assert claim.history.first().history_change_reason == "Хочет замену"


def test_numbers_are_a_yearly_sequence(make_claim):
    first = make_claim(received_at=datetime(2025, 12, 31, 12, tzinfo=local_zone()))
    second = make_claim(received_at=RECEIVED)
    third = make_claim(received_at=RECEIVED)
    assert (first.number, second.number, third.number) == ("П-2025-00001", "П-2026-00001", "П-2026-00002")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_claims_registered_at_once_never_share_a_number(manager, categories, car_client):
    def register(n):
        return services.claim_register(
            by=manager,
            client=car_client,
            category=categories["other"],
            client_words=f"Жалоба {n}",
            demand="Ответить",
            received_at=RECEIVED,
        ).number

    numbers, errors = run_at_once(6, register)
    assert not errors
    assert sorted(numbers) == [f"П-2026-{n:05d}" for n in range(1, 7)]


def test_links_must_be_the_clients(make_claim, manager):
    stranger = ClientFactory()
    other_call = CallFactory(client=stranger, manager=manager)
    with pytest.raises(ValidationError) as error:
        make_claim(source_call=other_call)
    assert "source_call" in error.value.message_dict
    assert not Claim.objects.exists()


# --- the status machine --------------------------------------------------------------------------------------------


def walk(claim, to, users):
    """Move a claim along the happy path up to `to`."""
    head = users["head"]
    path = [S.UNDER_REVIEW, S.ESCALATED, S.DECIDED, S.INFORMED, S.CLOSED]
    for step in path[: path.index(to) + 1]:
        if step == S.UNDER_REVIEW:
            claim = services.claim_review(claim=claim, by=users["manager"])
        elif step == S.ESCALATED:
            claim = services.claim_escalate(claim=claim, by=users["manager"], to="workshop_mgmt", comment="Срочно")
        elif step == S.DECIDED:
            claim = services.claim_decide(
                claim=claim, by=head, outcome="partly", decision_text="Повторная диагностика бесплатно"
            )
        elif step == S.INFORMED:
            claim = services.claim_inform_with_new_call(claim=claim, by=users["manager"], notes="Сообщили решение")
        elif step == S.CLOSED:
            claim = services.claim_close(claim=claim, by=users["manager"])
    return claim


def test_the_whole_way_is_recorded(make_claim, users):
    claim = walk(make_claim(), S.CLOSED, users)
    steps = list(claim.transitions.values_list("from_status", "to_status", "by__username"))
    assert steps == [
        ("", "registered", "manager"),
        ("registered", "under_review", "manager"),
        ("under_review", "escalated", "manager"),
        ("escalated", "decided", "head"),
        ("decided", "informed", "manager"),
        ("informed", "closed", "manager"),
    ]
    assert claim.informed_via == "call" and claim.informed_call.purpose == Call.Purpose.COMPLAINT
    assert claim.transitions.get(to_status="informed").call_id == claim.informed_call_id
    assert claim.history.count() >= 6


ILLEGAL = [
    (S.REGISTERED, "close"),
    (S.REGISTERED, "inform"),
    (S.REGISTERED, "letter"),
    (S.REGISTERED, "reopen"),
    (S.UNDER_REVIEW, "review"),
    (S.UNDER_REVIEW, "close"),
    (S.UNDER_REVIEW, "inform"),
    (S.ESCALATED, "escalate"),
    (S.ESCALATED, "close"),
    (S.ESCALATED, "letter"),
    (S.DECIDED, "decide"),
    (S.DECIDED, "escalate"),
    (S.DECIDED, "close"),
    (S.DECIDED, "review"),
    (S.INFORMED, "inform"),
    (S.INFORMED, "decide"),
    (S.INFORMED, "escalate"),
    (S.CLOSED, "close"),
    (S.CLOSED, "decide"),
    (S.CLOSED, "escalate"),
    (S.CLOSED, "letter"),
    (S.CLOSED, "review"),
]


def attempt(action, claim, users):
    manager, head = users["manager"], users["head"]
    if action == "review":
        return services.claim_review(claim=claim, by=manager)
    if action == "escalate":
        return services.claim_escalate(claim=claim, by=manager, to="sales_mgmt")
    if action == "decide":
        return services.claim_decide(claim=claim, by=head, outcome="refused", decision_text="Нет оснований")
    if action == "inform":
        return services.claim_inform_with_new_call(claim=claim, by=manager, notes="Позвонили")
    if action == "letter":
        return services.claim_letter_sent(claim=claim, by=manager)
    if action == "close":
        return services.claim_close(claim=claim, by=head)
    if action == "reopen":
        return services.claim_reopen(claim=claim, by=head, reason="Клиент вернулся")
    raise AssertionError(action)


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_every_illegal_transition_is_refused_and_changes_nothing(make_claim, users, state, action):
    claim = make_claim()
    if state != S.REGISTERED:
        claim = walk(claim, state, users)
    before = (claim.status, claim.transitions.count(), claim.history.count(), Call.objects.count())
    with pytest.raises(Conflict):
        attempt(action, claim, users)
    claim.refresh_from_db()
    assert (claim.status, claim.transitions.count(), claim.history.count(), Call.objects.count()) == before


def test_no_close_without_the_client_informed(make_claim, users):
    claim = walk(make_claim(), S.DECIDED, users)
    with pytest.raises(Conflict, match="informed"):
        services.claim_close(claim=claim, by=users["head"])
    claim.refresh_from_db()
    assert claim.status == S.DECIDED and claim.closed_at is None


@pytest.mark.postgres
def test_the_database_refuses_a_closed_claim_never_informed(make_claim, users):
    claim = walk(make_claim(), S.DECIDED, users)
    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.filter(pk=claim.pk).update(status=S.CLOSED, closed_at=timezone.now())


def test_escalation_reaches_its_addressee_in_app_and_by_email(
    make_claim, users, mailoutbox, django_capture_on_commit_callbacks
):
    users["workshop_mgmt"].email = "workshop@example.com"
    users["workshop_mgmt"].save()
    second = UserFactory(username="workshop-2", role="workshop_mgmt", email="w2@example.com")
    UserFactory(username="retired", role="workshop_mgmt", is_active=False)
    claim = make_claim()
    with django_capture_on_commit_callbacks(execute=False):
        services.claim_escalate(claim=claim, by=users["manager"], to="workshop_mgmt", comment="Стук после ремонта")
    notes = Notification.objects.filter(title__contains=claim.number)
    assert sorted(n.user.username for n in notes) == sorted(["workshop-mgmt", second.username])
    assert all(n.email_wanted and n.url == claim.get_absolute_url() for n in notes)
    assert not notes.filter(user=users["sales_mgmt"]).exists()
    from clientdesk.notify import send_due_emails

    assert send_due_emails() == 2
    assert sorted(m.to[0] for m in mailoutbox) == ["w2@example.com", "workshop@example.com"]


def test_escalation_needs_someone_to_reach(make_claim, users):
    users["sales_mgmt"].is_active = False
    users["sales_mgmt"].save()
    claim = make_claim()
    with pytest.raises(ValidationError):
        services.claim_escalate(claim=claim, by=users["manager"], to="sales_mgmt")
    claim.refresh_from_db()
    assert claim.status == S.REGISTERED


def test_the_addressee_decides_an_escalated_claim_the_other_management_does_not(make_claim, users):
    claim = walk(make_claim(), S.ESCALATED, users)
    with pytest.raises(PermissionDenied):
        services.claim_decide(claim=claim, by=users["sales_mgmt"], outcome="satisfied", decision_text="Да")
    with pytest.raises(PermissionDenied):
        services.claim_decide(claim=claim, by=users["manager"], outcome="satisfied", decision_text="Да")
    claim = services.claim_decide(
        claim=claim,
        by=users["workshop_mgmt"],
        outcome="satisfied",
        decision_text="Вернуть деньги",
        compensation_kind="refund",
        compensation_amount=Decimal("12500.00"),
    )
    assert claim.status == S.DECIDED and claim.decided_by == users["workshop_mgmt"]
    assert Notification.objects.filter(user=users["manager"], title__contains=claim.number).exists()


def test_a_decision_needs_its_outcome_and_text(make_claim, users):
    claim = walk(make_claim(), S.UNDER_REVIEW, users)
    with pytest.raises(ValidationError) as error:
        services.claim_decide(claim=claim, by=users["head"], outcome="", decision_text=" ")
    assert {"outcome", "decision_text"} <= set(error.value.message_dict)
    with pytest.raises(ValidationError):
        services.claim_decide(
            claim=claim, by=users["head"], outcome="refused", decision_text="Нет", compensation_kind="refund"
        )
    claim.refresh_from_db()
    assert claim.status == S.UNDER_REVIEW


def test_informed_by_an_existing_call_with_the_client_after_the_decision(make_claim, users, car_client):
    claim = walk(make_claim(), S.DECIDED, users)
    before = CallFactory(client=car_client, manager=users["manager"], started_at=claim.decided_at - timedelta(hours=2))
    other = CallFactory(manager=users["manager"], started_at=timezone.now())
    for call in (before, other):
        with pytest.raises(ValidationError):
            services.claim_inform_by_call(claim=claim, by=users["manager"], call=call)
    good = CallFactory(client=car_client, manager=users["manager"], started_at=timezone.now(), notes="Сообщили")
    claim = services.claim_inform_by_call(claim=claim, by=users["manager"], call=good)
    assert (claim.status, claim.informed_call, claim.informed_via) == (S.INFORMED, good, "call")


def test_informed_by_the_answer_letter(make_claim, users):
    claim = walk(make_claim(), S.DECIDED, users)
    claim = services.claim_letter_sent(claim=claim, by=users["manager"])
    assert claim.status == S.INFORMED and claim.informed_via == "letter" and claim.informed_at
    assert services.claim_close(claim=claim, by=users["manager"]).status == S.CLOSED


def test_reopen_needs_a_reason_and_asks_a_new_decision(make_claim, users):
    claim = walk(make_claim(), S.CLOSED, users)
    with pytest.raises(ValidationError):
        services.claim_reopen(claim=claim, by=users["head"], reason="")
    claim = services.claim_reopen(claim=claim, by=users["head"], reason="Стук вернулся")
    assert claim.status == S.UNDER_REVIEW and claim.outcome == "" and claim.informed_at is None
    assert claim.transitions.last().comment == "Стук вернулся"
    with pytest.raises(Conflict):
        services.claim_close(claim=claim, by=users["head"])


# --- attachments ---------------------------------------------------------------------------------------------------

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@override_settings(UPLOAD_MAX_MB=0.01)
def test_attachments_over_the_limit_or_of_a_wrong_type_are_refused_clearly(make_claim, manager, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    claim = make_claim()
    big = SimpleUploadedFile("scan.pdf", PDF_BYTES + b"0" * 20_000, content_type="application/pdf")
    with pytest.raises(ValidationError) as error:
        services.claim_attach(claim=claim, by=manager, file=big)
    assert "MB" in error.value.message_dict["file"][0]
    script = SimpleUploadedFile("scan.pdf", b"#!/bin/sh\nrm -rf /\n", content_type="application/pdf")
    with pytest.raises(ValidationError) as error:
        services.claim_attach(claim=claim, by=manager, file=script)
    assert "Only PDF, JPEG, PNG files are accepted" in error.value.message_dict["file"][0]
    assert not ClaimAttachment.objects.exists()
    good = SimpleUploadedFile("Претензия Петрова.pdf", PDF_BYTES, content_type="text/plain")
    attachment = services.claim_attach(claim=claim, by=manager, file=good)
    assert attachment.content_type == "application/pdf" and attachment.original_name == "Претензия Петрова.pdf"
    assert attachment.file.name.startswith("claims/") and attachment.file.name.endswith(".pdf")
    assert "Петрова" not in attachment.file.name


# --- the deadline watch --------------------------------------------------------------------------------------------


@pytest.fixture
def monday():
    return at(date(2026, 3, 2), datetime.min.time().replace(hour=9))


def test_the_watch_tells_once_per_claim_and_state(make_claim, users, monday, week):
    soon = make_claim(received_at=monday - timedelta(days=8))  # due Wednesday: two working days ahead
    later = make_claim(received_at=monday)  # due in ten days
    overdue = make_claim(received_at=monday - timedelta(days=12))  # due last Friday
    answered = walk(make_claim(received_at=monday - timedelta(days=12)), S.INFORMED, users)

    assert services.claims_watch_deadlines(now=monday) == 2
    assert services.claims_watch_deadlines(now=monday) == 0
    told = Notification.objects.filter(url__startswith="/claims/", title__regex=r"(due soon|overdue)$")
    assert sorted(told.values_list("title", "user__username")) == sorted(
        [
            (f"Claim {soon.number} is due soon", "manager"),
            (f"Claim {soon.number} is due soon", "head"),
            (f"Claim {overdue.number} is overdue", "manager"),
            (f"Claim {overdue.number} is overdue", "head"),
        ]
    )
    assert not told.filter(title__contains=later.number).exists()
    assert not told.filter(title__contains=answered.number).exists()
    # Friday: the due-soon claim is overdue now, the later one not due yet: each new state is told once.
    assert services.claims_watch_deadlines(now=monday + timedelta(days=4)) == 1
    assert services.claims_watch_deadlines(now=monday + timedelta(days=4)) == 0
    assert told.filter(title=f"Claim {soon.number} is overdue").count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_watch_run_from_two_processes_at_once_tells_once(manager, head, categories, car_client, monday, week):
    claims = [
        services.claim_register(
            by=manager,
            client=car_client,
            category=categories["other"],
            client_words="Жалоба",
            demand="Ответить",
            received_at=monday - timedelta(days=12 + n % 3),
        )
        for n in range(5)
    ]
    made, errors = run_at_once(3, lambda n: services.claims_watch_deadlines(now=monday))
    assert not errors
    assert sum(made) == 5
    # The watch runs in worker threads, in the site's language.
    with translation.override(settings.LANGUAGE_CODE):
        overdue = gettext("Claim %(number)s is overdue")
    for claim in claims:
        assert Notification.objects.filter(title=overdue % {"number": claim.number}).count() == 2


def test_the_answer_letter_goes_on_file_as_a_claim_answer_document(make_claim, users):
    claim = walk(make_claim(), S.DECIDED, users)
    claim = services.claim_letter_sent(claim=claim, by=users["manager"])
    document = claim.answer_document
    assert (document.kind, document.number, document.client, document.original) == (
        "claim_answer",
        f"{claim.number}-О",
        claim.client,
        False,
    )
    # Reopened and answered again: a second letter, a second number.
    claim = services.claim_reopen(
        claim=services.claim_close(claim=claim, by=users["head"]), by=users["head"], reason="Снова"
    )
    claim = services.claim_decide(claim=claim, by=users["head"], outcome="refused", decision_text="Нет")
    claim = services.claim_letter_sent(claim=claim, by=users["manager"])
    assert claim.answer_document.number == f"{claim.number}-О2"


def test_a_claim_may_name_the_clients_loaner_record_not_anothers(make_claim, car_client):
    car = FleetCar.objects.create(plate="А001АА77", make="Kia", model="Rio")
    start = timezone.now() - timedelta(days=3)
    mine = Reservation.objects.create(
        car=car,
        client=car_client,
        starts_at=start,
        ends_at=start + timedelta(days=1),
        free_from=start + timedelta(days=1),
    )
    later = start + timedelta(days=2)
    theirs = Reservation.objects.create(
        car=car,
        client=ClientFactory(),
        starts_at=later,
        ends_at=later + timedelta(hours=5),
        free_from=later + timedelta(hours=5),
    )
    with pytest.raises(ValidationError) as error:
        make_claim(loaner=theirs)
    assert "loaner" in error.value.message_dict
    assert make_claim(loaner=mine).loaner == mine
