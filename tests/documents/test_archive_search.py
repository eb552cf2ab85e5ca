from datetime import date

import pytest
from django.urls import reverse

from documents.models import Document
from documents.selectors import archive_search
from documents.services import document_register
from documents.services.mail import mail_register
from documents.services.registries import registry_create
from tests.documents.conftest import put_in, signed_doc
from tests.factories import PhoneFactory, VehicleFactory


@pytest.fixture
def archive(manager, buyer, car):
    """Two clients' papers: the one we look for and a neighbour that must not match."""
    neighbour = PhoneFactory(number="+79035550011", client__name="Кузнецова Ирина").client
    other_car = VehicleFactory(owner=neighbour, vin="Z94CB41AAGR323020", plate="Х777ХХ99")
    ours = signed_doc(by=manager, kind="sale_contract", number="ДКП-2026/0154", client=buyer, vehicle=car)
    theirs = signed_doc(by=manager, kind="waybill", number="ТТН-88", client=neighbour, vehicle=other_car)
    return ours, theirs


def found(text):
    return set(archive_search(Document.objects.all(), text).values_list("pk", flat=True))


@pytest.mark.parametrize(
    "text",
    [
        "Соколов",
        "андрей соколов",
        "+7 916 123-45-67",
        "89161234567",
        "4567",
        "XTA21099012345678",
        "12345678",
        "А123ВС77",
        "a123bc",
        "ДКП-2026/0154",
        "дкп-2026",
        "0154",
    ],
)
def test_the_archive_finds_by_each_key(archive, text):
    ours, theirs = archive
    assert found(text) == {ours.pk}, text


def test_a_long_number_is_found_by_its_digits_first(manager, archive):
    doc = signed_doc(by=manager, kind="sale_contract", number="ДКП-2024/0573949")
    signed_doc(by=manager, kind="waybill", number="ТТН-2024/0573949")
    signed_doc(by=manager, kind="sale_contract", number="ДКП-2024/0573948")
    assert found("ДКП-2024/0573949") == {doc.pk}
    assert found("дкп-2024/0573949 ") == {doc.pk}
    assert len(found("0573949")) == 2
    assert found("ДКП-2024/9999999") == set()


def test_the_archive_finds_by_dms_id(manager, archive):
    doc = signed_doc(by=manager, kind="other", dms_id="DMS-DOC-9")
    assert found("DMS-DOC-9") == {doc.pk}


def test_a_car_sold_on_keeps_its_papers_findable_by_vin(manager, archive, car):
    # The car's later owner is another client: the papers still come up by VIN.
    ours, _theirs = archive
    car.owner = PhoneFactory(number="+79990001122").client
    car.save()
    assert ours.pk in found("XTA21099012345678")


def test_filters_by_kind_dates_and_location(as_manager, manager, archive):
    ours, theirs = archive
    put_in(ours, "archived", archive_box="К-12", archive_shelf="3")
    old = document_register(by=manager, kind="sale_contract", issued_on=date(2020, 1, 5), number="OLD-1")
    url = reverse("documents:list")
    page = as_manager.get(url, {"kind": "sale_contract", "issued_from": "2026-01-01"}).context["page"]
    assert [d.pk for d in page] == [ours.pk]
    page = as_manager.get(url, {"box": "К-1"}).context["page"]
    assert [d.pk for d in page] == [ours.pk]
    page = as_manager.get(url, {"issued_to": "2021-01-01"}).context["page"]
    assert [d.pk for d in page] == [old.pk]
    page = as_manager.get(url, {"q": "Кузнецова"}).context["page"]
    assert [d.pk for d in page] == [theirs.pk]


def test_the_list_pages_by_keyset(as_manager, manager, settings):
    settings.DOCUMENTS_PAGE_SIZE = 2
    docs = [signed_doc(by=manager, number=f"N-{n}") for n in range(5)]
    url = reverse("documents:list")
    first = as_manager.get(url).context["page"]
    second = as_manager.get(url, {"after": first.next_after}).context["page"]
    third = as_manager.get(url, {"after": second.next_after}).context["page"]
    seen = [d.pk for page in (first, second, third) for d in page]
    assert seen == sorted((d.pk for d in docs), reverse=True)
    assert not third.has_next


def _many(manager, buyer, car, count):
    for n in range(count):
        signed_doc(by=manager, number=f"ДКП-{n}", client=buyer, vehicle=car)


@pytest.mark.parametrize("count", [3, 30])
def test_the_document_list_query_count_is_pinned(as_manager, manager, buyer, car, count, django_assert_num_queries):
    _many(manager, buyer, car, count)
    # session, user, the documents page
    with django_assert_num_queries(3):
        response = as_manager.get(reverse("documents:list"))
    assert response.status_code == 200


@pytest.mark.parametrize("count", [3, 30])
def test_the_archive_search_query_count_is_pinned(as_manager, manager, buyer, car, count, django_assert_num_queries):
    _many(manager, buyer, car, count)
    # session, user; the client search's sources (DMS id, name); the documents
    with django_assert_num_queries(5):
        response = as_manager.get(reverse("documents:list"), {"q": "Соколов", "kind": "handover_act"})
    assert len(response.context["page"]) == count


@pytest.mark.parametrize("count", [3, 30])
def test_the_document_api_query_count_is_pinned(api_as_manager, manager, buyer, car, count, django_assert_num_queries):
    _many(manager, buyer, car, count)
    with django_assert_num_queries(1):
        response = api_as_manager.get("/api/v1/documents/")
    assert response.status_code == 200 and len(response.data["results"]) == count
    with django_assert_num_queries(3):
        response = api_as_manager.get("/api/v1/documents/", {"q": "Соколов"})
    assert len(response.data["results"]) == count


@pytest.mark.parametrize("count", [1, 10])
def test_the_other_lists_query_counts_are_pinned(as_manager, manager, count, django_assert_num_queries):
    for n in range(count):
        doc = signed_doc(by=manager, number=f"R-{n}")
        registry_create(by=manager, destination="accounting", documents=[doc])
        mail_register(by=manager, dated_on=date(2026, 11, 2), sender="А", recipient="Б", subject=f"№{n}")
        document_register(by=manager, kind="contract", issued_on=date(2026, 11, 2), needs_approval=True)
    with django_assert_num_queries(3):
        assert as_manager.get(reverse("documents:registry-list")).status_code == 200
    with django_assert_num_queries(3):
        assert as_manager.get(reverse("documents:mail-list")).status_code == 200
    with django_assert_num_queries(3):
        assert as_manager.get(reverse("documents:contract-list")).status_code == 200


def test_the_head_exports_what_the_filters_show(as_head, manager, archive):
    ours, _theirs = archive
    response = as_head.get(reverse("documents:list"), {"q": "Соколов", "export": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert len(lines) == 2
    assert "ДКП-2026/0154" in lines[1] and "Соколов Андрей Петрович" in lines[1] and "XTA21099012345678" in lines[1]


def test_a_manager_may_not_export_personal_data(as_manager, archive):
    assert as_manager.get(reverse("documents:list"), {"export": "csv"}).status_code == 403


def test_a_refused_filter_exports_nothing(as_head, archive):
    response = as_head.get(reverse("documents:list"), {"issued_from": "0001-01-01", "export": "csv"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert len(body.strip().splitlines()) == 1
