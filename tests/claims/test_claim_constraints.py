"""The decision's rules are held by the database as well as by the services: a write that goes around the services
(a shell, a loader, a bug) cannot store a refused claim with compensation, an amount without its kind, and so on; and
the migration that added them refuses to run over rows that break them, naming those rows."""

import importlib
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from claims import services
from claims.models import Claim, ClaimDueChange

pytestmark = pytest.mark.django_db

NOW = timezone.now()


@pytest.fixture
def decided(make_claim, users):
    claim = make_claim()
    return services.claim_decide(claim=claim, by=users["head"], outcome="satisfied", decision_text="Вернуть деньги")


def _refused(claim, **fields) -> str:
    with pytest.raises(IntegrityError) as error, transaction.atomic():
        Claim.objects.filter(pk=claim.pk).update(**fields)
    return str(error.value)


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"outcome": "refused", "compensation_kind": "refund"}, "claim_refused_no_compensation"),
        (
            {"outcome": "refused", "compensation_kind": "other", "compensation_amount": Decimal("0")},
            "claim_refused_no_compensation",
        ),
        ({"compensation_kind": "", "compensation_amount": Decimal("100")}, "claim_compensation_amount_has_kind"),
        ({"decided_at": None}, "claim_decided_dated"),
        ({"status": "informed", "informed_at": NOW, "informed_via": ""}, "claim_informed_how"),
        ({"status": "closed", "informed_at": NOW, "informed_via": "call", "closed_at": None}, "claim_closed_dated"),
        ({"agreed_term_days": 0}, "claim_agreed_term_positive"),
    ],
)
def test_a_decided_claim_cannot_be_stored_breaking_a_rule(decided, fields, rule):
    message = _refused(decided, **fields)
    if connection.vendor == "postgresql":
        assert rule in message
    decided.refresh_from_db()
    assert (decided.outcome, decided.compensation_kind, decided.compensation_amount) == ("satisfied", "", None)


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"outcome": "partly"}, "claim_outcome_only_decided"),
        ({"compensation_kind": "discount"}, "claim_compensation_only_decided"),
    ],
)
def test_an_undecided_claim_has_no_outcome_nor_compensation(make_claim, fields, rule):
    claim = make_claim()
    message = _refused(claim, **fields)
    if connection.vendor == "postgresql":
        assert rule in message


def test_what_the_services_write_keeps_the_rules(make_claim, users):
    claim = make_claim()
    claim = services.claim_decide(
        claim=claim,
        by=users["head"],
        outcome="partly",
        decision_text="Скидка",
        compensation_kind="discount",
        compensation_amount=Decimal("1500.00"),
    )
    claim = services.claim_inform_with_new_call(claim=claim, by=users["manager"], notes="Сообщила решение")
    claim = services.claim_close(claim=claim, by=users["manager"])
    claim = services.claim_reopen(claim=claim, by=users["head"], reason="Клиент вернулся")
    claim = services.claim_decide(claim=claim, by=users["head"], outcome="refused", decision_text="Отказ")
    assert (claim.status, claim.compensation_kind, claim.compensation_amount) == ("decided", "", None)


def test_a_due_date_change_keeps_its_reason(make_claim, categories, users):
    claim = services.claim_change_category(
        claim=make_claim(), by=users["manager"], category=categories["other"], reason="Ошиблись"
    )
    change = ClaimDueChange.objects.get(claim=claim)
    with pytest.raises(IntegrityError), transaction.atomic():
        ClaimDueChange.objects.filter(pk=change.pk).update(reason="")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="drops a constraint inside the test's transaction")
def test_the_migration_stops_on_rows_that_break_a_rule_and_names_them(decided):
    # given: a refused claim with a refund, written before the rule was held by the database
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the table is altered inside the test's transaction
        cursor.execute("ALTER TABLE claims_claim DROP CONSTRAINT claim_refused_no_compensation")
    Claim.objects.filter(pk=decided.pk).update(outcome="refused", compensation_kind="refund")
    migration = importlib.import_module("claims.migrations.0005_rules_held_by_database")
    # when / then: the migration's check stops, naming the rule and the claim
    with pytest.raises(RuntimeError) as error:
        migration.refuse_rows_breaking_the_rules(apps, SimpleNamespace(connection=connection))
    assert f"claim_refused_no_compensation (claim): {decided.number}" in str(error.value)
    assert "claim_closed_dated" not in str(error.value)  # the rules the rows keep are not named
