from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from clientdesk.calendar import BusinessCalendar, at, local_date
from tests.factories import (
    AdvisorProfileFactory,
    ServiceAreaFactory,
    ServiceTypeFactory,
    VehicleFactory,
    client_with_phone,
)


def working_day(offset: int = 2) -> date:
    """A regular working day (Monday–Friday, 08:00–20:00 by the default week) at least `offset` days ahead."""
    day = local_date(timezone.now()) + timedelta(days=offset)
    while day.weekday() > 4:
        day += timedelta(days=1)
    return day


def moment(day: date, hour: int, minute: int = 0) -> datetime:
    return at(day, time(hour, minute))


@pytest.fixture
def day():
    return working_day()


@pytest.fixture
def area(db):
    return ServiceAreaFactory(name="Слесарный цех", code="mech", daily_capacity_minutes=480)


@pytest.fixture
def to2(area):
    return ServiceTypeFactory(name="ТО-2", code="to2", area=area, standard_minutes=180)


@pytest.fixture
def diag(area):
    return ServiceTypeFactory(name="Диагностика", code="diag", area=area, standard_minutes=60)


@pytest.fixture
def petrov(db):
    return AdvisorProfileFactory(user__username="petrov", user__last_name="Петров").user


@pytest.fixture
def sidorov(db):
    return AdvisorProfileFactory(user__username="sidorov", user__last_name="Сидоров").user


@pytest.fixture
def car_owner(db):
    client = client_with_phone("+79123456789", name="Владелец Машины", dms_id="C-1")
    VehicleFactory(owner=client, vin="XTA21099012345678", plate="А123ВС77")
    return client


def calendar_for(day: date) -> BusinessCalendar:
    return BusinessCalendar()
