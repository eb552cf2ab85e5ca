"""Merging duplicates (issue 9, item 7): a company and a private person are never proposed for merging on a shared
phone alone; the merge preview shows every difference the merge decides, the consents with their dates, and the head
chooses whose value stays (the client kept's by default); a withdrawn consent is never silently turned into a given
one; the service takes the choice explicitly and the history shows it."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from clients.selectors import client_duplicates, duplicate_phone_groups
from clients.services.clients import (
    KEEP_SOURCE,
    KEEP_TARGET,
    client_create,
    client_merge,
    client_update,
    merge_differences,
)
from tests.factories import ClientFactory, client_with_phone

pytestmark = pytest.mark.django_db

SHARED = "+79123456789"


# --- the duplicate suggestions ----------------------------------------------------------------------------------------


def test_a_company_and_a_person_sharing_only_a_phone_are_no_likely_duplicates():
    # given: a company and its director's private card on the same mobile; and a second card of the same person
    company = client_with_phone(SHARED, name="ООО «Ромашка»", kind=Client.Kind.COMPANY)
    director = client_with_phone(SHARED, name="Ромашкин Роман", kind=Client.Kind.PERSON)
    twin = client_with_phone(SHARED, name="Ромашкин Р.", kind=Client.Kind.PERSON)
    # when / then: the person's card proposes only the other person; the company's proposes nobody
    assert [hint.client for hint in client_duplicates(director)] == [twin]
    assert client_duplicates(company) == []


def test_the_same_email_is_evidence_enough_across_kinds():
    company = client_with_phone(SHARED, name="ООО «Ромашка»", kind=Client.Kind.COMPANY, email="info@romashka.ru")
    person = client_with_phone(SHARED, name="Ромашкин Роман", kind=Client.Kind.PERSON, email="info@romashka.ru")
    hints = client_duplicates(company)
    assert [h.client for h in hints] == [person] and "same email" in hints[0].reasons


def test_the_duplicates_page_offers_merges_only_within_a_kind(as_head):
    company = client_with_phone(SHARED, name="ООО «Ромашка»", kind=Client.Kind.COMPANY)
    director = client_with_phone(SHARED, name="Ромашкин Роман")
    twin = client_with_phone(SHARED, name="Ромашкин Р.")
    # the selector: the company is offered nothing, the twin is offered the director
    [group], _next = duplicate_phone_groups()
    offers = {member.pk: getattr(member.merge_into, "pk", None) for member in group["clients"]}
    assert offers == {company.pk: None, director.pk: None, twin.pk: director.pk}
    assert group["mixed_kinds"]
    # the page
    page = as_head.get(reverse("clients:duplicates"), headers={"Accept-Language": "en"}).content.decode()
    assert f"{reverse('clients:merge', args=[twin.pk])}?into={director.pk}" in page
    assert f"{reverse('clients:merge', args=[director.pk])}?into={company.pk}" not in page
    assert f"{reverse('clients:merge', args=[company.pk])}?into=" not in page
    assert "A company and a private person share this number" in page


def test_a_company_and_a_person_alone_on_a_number_get_no_merge_link(as_head):
    company = client_with_phone(SHARED, name="ООО «Ромашка»", kind=Client.Kind.COMPANY)
    person = client_with_phone(SHARED, name="Ромашкин Роман")
    page = as_head.get(reverse("clients:duplicates")).content.decode()
    assert person.name in page and company.name in page
    assert 'class="merge-link"' not in page


# --- the service ------------------------------------------------------------------------------------------------------


def withdrawn_marketing(by, **fields) -> Client:
    """A client who gave marketing consent and withdrew it since."""
    client = client_create(by=by, name="Отказов", consent_personal_data=True, consent_marketing=True, **fields)
    return client_update(client=client, by=by, consent_marketing=False)


def test_differences_list_what_the_merge_decides_with_the_defaults(manager):
    target = client_create(by=manager, name="Иванов Иван", consent_personal_data=True)
    source = client_create(
        by=manager,
        name="Иванов И.",
        email="ivanov@example.com",
        consent_personal_data=True,
        consent_marketing=True,
        kind=Client.Kind.COMPANY,
    )
    differences = {d.field: d for d in merge_differences(source=source, target=target)}
    assert set(differences) == {"kind", "name", "email", "consent_personal_data", "consent_marketing"}
    # the target's by default; a blank filled from the duplicate; a consent only the duplicate has is not taken
    assert differences["name"].default == differences["kind"].default == KEEP_TARGET
    assert differences["email"].default == KEEP_SOURCE
    assert differences["consent_marketing"].default == KEEP_TARGET
    assert differences["consent_marketing"].source_value == (True, source.consent_marketing_at)


def test_a_consent_the_duplicate_withdrew_stays_withdrawn_by_default(manager, head):
    target = client_create(by=manager, name="Согласов", consent_personal_data=True, consent_marketing=True)
    source = withdrawn_marketing(manager)
    [marketing] = [d for d in merge_differences(source=source, target=target) if d.field == "consent_marketing"]
    assert marketing.default == KEEP_SOURCE and marketing.source_withdrawn_at is not None
    kept = client_merge(source=source, target=target, by=head)
    kept.refresh_from_db()
    assert (kept.consent_marketing, kept.consent_marketing_at) == (False, None)


def test_a_consent_the_target_withdrew_is_not_replaced_by_the_duplicates_older_one(manager, head):
    target = withdrawn_marketing(manager)
    source = client_create(by=manager, name="Согласов", consent_personal_data=True, consent_marketing=True)
    [marketing] = [d for d in merge_differences(source=source, target=target) if d.field == "consent_marketing"]
    assert marketing.default == KEEP_TARGET and marketing.target_withdrawn_at is not None
    kept = client_merge(source=source, target=target, by=head)
    kept.refresh_from_db()
    assert kept.consent_marketing is False


def test_the_heads_choice_is_applied_and_shows_in_the_history(manager, head):
    # given: two cards of one buyer, the duplicate with the better name and a marketing consent
    target = client_create(by=manager, name="Иванов", consent_personal_data=True)
    source = client_create(by=manager, name="Иванов Иван Иванович", consent_personal_data=True, consent_marketing=True)
    given_at = source.consent_marketing_at
    # when: the head keeps the duplicate's name and consent
    kept = client_merge(
        source=source, target=target, by=head, keep={"name": KEEP_SOURCE, "consent_marketing": KEEP_SOURCE}
    )
    # then: applied, with the consent's own date, and the merge's history record shows the values taken
    kept.refresh_from_db()
    assert (kept.name, kept.consent_marketing, kept.consent_marketing_at) == ("Иванов Иван Иванович", True, given_at)
    record = kept.history.first()
    assert record.history_change_reason == f"merged #{source.pk} into this client"
    changed = {change.field for change in record.diff_against(record.prev_record).changes}
    assert {"name", "consent_marketing", "consent_marketing_at"} <= changed


def test_a_choice_the_rules_refuse_changes_nothing(manager, head):
    target = client_create(by=manager, name="Без согласий")
    source = client_create(by=manager, name="С согласиями", consent_personal_data=True, consent_marketing=True)
    # marketing without personal-data consent is refused by the model's rule
    with pytest.raises(ValidationError):
        client_merge(source=source, target=target, by=head, keep={"consent_marketing": KEEP_SOURCE})
    with pytest.raises(ValidationError):
        client_merge(source=source, target=target, by=head, keep={"name": "both"})
    with pytest.raises(ValidationError):
        client_merge(source=source, target=target, by=head, keep={"notes": KEEP_SOURCE})
    source.refresh_from_db()
    assert source.merged_into_id is None


# --- the page ---------------------------------------------------------------------------------------------------------


def merge_url(source, target=None) -> str:
    url = reverse("clients:merge", args=[source.pk])
    return f"{url}?into={target.pk}" if target else url


def test_the_preview_shows_the_consents_with_their_dates_and_the_withdrawal_warning(as_head, manager):
    target = client_create(by=manager, name="Согласов", consent_personal_data=True, consent_marketing=True)
    source = withdrawn_marketing(manager)
    page = as_head.get(merge_url(source, target), headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.content.decode()
    rows = {row["field"]: row for row in page.context["form"].rows}
    assert rows["keep_consent_marketing"]["target"].startswith("given on ")
    assert rows["keep_consent_marketing"]["source"].startswith("withdrawn on ")
    assert "The duplicate withdrew this consent on" in html
    assert 'id="merge-differences"' in html
    # the default radio is the withdrawal
    assert page.context["form"]["keep_consent_marketing"].initial == KEEP_SOURCE


def test_the_page_merges_with_the_choices_made(as_head, manager):
    target = client_create(by=manager, name="Иванов", consent_personal_data=True)
    source = client_create(by=manager, name="Иванов Иван", consent_personal_data=True, consent_marketing=True)
    response = as_head.post(
        merge_url(source),
        {
            "target": target.pk,
            "previewed": target.pk,
            "keep_name": "source",
            "keep_consent_marketing": "source",
            "keep_consent_personal_data": "target",
        },
    )
    assert response.status_code == 302 and response["Location"] == target.get_absolute_url()
    target.refresh_from_db()
    assert (target.name, target.consent_marketing) == ("Иванов Иван", True)


def test_a_target_not_compared_yet_is_shown_not_merged(as_head, manager):
    target = client_create(by=manager, name="Иванов", consent_personal_data=True)
    source = client_create(by=manager, name="Иванов Иван", consent_personal_data=True, consent_marketing=True)
    response = as_head.post(merge_url(source), {"target": target.pk}, headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert response.context["form"].rows and "Compare the two clients" in response.content.decode()
    source.refresh_from_db()
    assert source.merged_into_id is None


def test_the_page_refuses_itself_and_a_bad_target_and_changes_nothing(as_head):
    source = ClientFactory()
    for target in (source.pk, 999_999, "x"):
        response = as_head.post(merge_url(source), {"target": target, "previewed": target})
        assert response.status_code == 400
    source.refresh_from_db()
    assert source.merged_into_id is None


def test_only_the_head_merges(as_manager):
    target, source = ClientFactory(), ClientFactory(consent_personal_data_at=timezone.now() - timedelta(days=1))
    assert as_manager.get(merge_url(source, target)).status_code == 403
    response = as_manager.post(merge_url(source), {"target": target.pk, "previewed": target.pk})
    assert response.status_code == 403
    source.refresh_from_db()
    assert source.merged_into_id is None
