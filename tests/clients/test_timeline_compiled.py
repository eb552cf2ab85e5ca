"""The card's and the vehicle page's first timeline page run each source's query as compiled once per source, kind of
owner and who asks (clientdesk.compiled): the same rows as the query built for each request, for every user whose
rules differ (a workshop manager sees only the claims escalated to her), and never another owner's."""

from datetime import UTC, datetime, timedelta

import pytest

from accounts.roles import Role
from claims.models import Claim
from clientdesk import compiled
from clients import selectors
from clients.selectors import client_timeline, vehicle_timeline
from tests.clients.test_vehicle_page import one_of_each
from tests.factories import AdvisorFactory, ClientFactory, UserFactory, VehicleFactory

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def shown(page) -> list[tuple]:
    return [(entry.kind, entry.at, dict(entry.obj), entry.url) for entry in page.entries]


@pytest.mark.parametrize("read", [client_timeline, vehicle_timeline], ids=["client", "vehicle"])
def test_the_compiled_first_page_is_the_page_built_for_each_user_and_owner(
    read, monkeypatch, on_postgres, manager, head, workshop_mgmt
):
    if not on_postgres:
        pytest.skip("the embedded SQLite builds every query")
    advisor = AdvisorFactory()
    cars = [VehicleFactory(owner=ClientFactory(name=f"Клиент {i}")) for i in range(3)]
    for i, car in enumerate(cars):
        one_of_each(car, manager, advisor, AT + timedelta(hours=i), f"№{i}")
    escalated = Claim.objects.filter(client=cars[1].owner).get()
    Claim.objects.filter(pk=escalated.pk).update(status="escalated", escalated_to=Role.WORKSHOP_MANAGEMENT)
    sales = UserFactory(role=Role.SALES_MANAGEMENT)
    owners = [car.owner if read is client_timeline else car for car in cars]
    users = [manager, head, workshop_mgmt, sales]
    compiled._compiled.clear()

    pages = {(user.pk, owner.pk): shown(read(owner, user=user)) for user in users for owner in owners}

    assert compiled._compiled, "the first pages were not read through compiled queries"
    monkeypatch.setattr(selectors, "compiled_rows", lambda *_args: None)  # each query built, as on SQLite
    for user in users:
        for owner in owners:
            assert pages[(user.pk, owner.pk)] == shown(read(owner, user=user))
    # The rules still tell the users apart: the workshop's management sees the one claim escalated to it.
    claims = {
        user.pk: {row[2]["pk"] for page in owners for row in pages[(user.pk, page.pk)] if row[0] == "claim"}
        for user in users
    }
    assert len(claims[manager.pk]) == 3 and claims[workshop_mgmt.pk] == {escalated.pk} and claims[sales.pk] == set()
