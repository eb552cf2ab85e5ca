"""The head's reception lists read in a fixed number of queries, however many rows they show."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reception.models import TowOrder
from reception.services.tinting import tint_film_save
from reception.services.tow import tow_contractor_create
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def queries_for(web, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert web.get(url).status_code == 200
    return len(captured)


def contractors(n: int, start: int = 0) -> list:
    return [
        tow_contractor_create(by=None, name=f"Эвакуатор {i}", phones=["+74951234567"], call_out_rate=1, rate_per_km=1)
        for i in range(start, start + n)
    ]


def films(n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        tint_film_save(by=None, name=f"Пленка {i}", light_transmission=35, prices={"rear": 2500, "front_side": 3000})


def month_of_orders(contractor, n: int) -> None:
    client = ClientFactory()
    for i in range(n):
        order = TowOrder.objects.create(
            client=client, pickup_address=f"адрес {i}", phone_on_site="+79123456789", contractor=contractor
        )
        TowOrder.objects.filter(pk=order.pk).update(status="dispatched", cost=Decimal(1000 + i))


@pytest.mark.parametrize(
    ("url", "fill", "pinned"),
    [
        (lambda: reverse("reception:contractor-list"), contractors, 3),
        (lambda: reverse("reception:tint-prices"), films, 4),
    ],
    ids=["tow contractors", "film price list"],
)
def test_a_head_list_reads_in_pinned_queries(as_head, url, fill, pinned):
    fill(2)
    few = queries_for(as_head, url())
    fill(20, start=2)
    assert queries_for(as_head, url()) == few == pinned


def test_the_months_reconciliation_reads_in_pinned_queries(as_head):
    contractor = contractors(1)[0]
    month = timezone.localtime().strftime("%Y-%m")
    url = reverse("reception:tow-reconciliation") + f"?contractor={contractor.pk}&month={month}"
    month_of_orders(contractor, 2)
    few = queries_for(as_head, url)
    month_of_orders(contractor, 20)
    assert queries_for(as_head, url) == few == 5
