"""The booking's trail (its history of transitions) reads in the reader's language: the notes the system writes are
kept as message ids and translated when shown; a person's own words are shown as written.

The Russian assertion needs the Russian catalogue (these two notes are in it already)."""

from datetime import time

import pytest
from django.utils import timezone, translation

from bookings.services.bookings import booking_cancel, booking_create
from calls.models import CallTask, TaskOutcome
from calls.services.calls import call_task_work
from clientdesk.calendar import at
from tests.bookings.conftest import area, car_owner, petrov, to2, working_day  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


@pytest.fixture
def confirmation(manager, car_owner, petrov, to2):  # noqa: F811
    booking = booking_create(
        by=manager, client=car_owner, advisor=petrov, starts_at=at(working_day(3), time(11)), service_types=[to2]
    )
    return CallTask.objects.create(
        kind="confirmation",
        client=car_owner,
        booking=booking,
        due_at=timezone.now(),
        next_attempt_at=timezone.now(),
        assignee=manager,
    )


def trail(web, booking, language: str) -> str:
    page = web.get(booking.get_absolute_url(), headers={"Accept-Language": language}).content.decode()
    return page[page.index('id="trail"') :]


def test_a_note_the_system_wrote_reads_in_each_readers_language(as_manager, manager, confirmation):
    # given a visit confirmed on the confirmation call by a manager working in Russian
    with translation.override("ru"):
        call_task_work(task=confirmation, by=manager, outcome=TaskOutcome.CONFIRMED)
    booking = confirmation.booking
    # then the note is kept as its message id, and each reader sees it in their own language
    assert booking.transitions.last().note == "on the confirmation call"
    assert "on the confirmation call" in trail(as_manager, booking, "en")
    russian = trail(as_manager, booking, "ru")
    assert "при звонке-подтверждении" in russian and "on the confirmation call" not in russian


def test_a_persons_own_words_are_shown_as_written(as_manager, manager, car_owner, petrov, to2):  # noqa: F811
    booking = booking_create(
        by=manager, client=car_owner, advisor=petrov, starts_at=at(working_day(3), time(11)), service_types=[to2]
    )
    booking_cancel(booking=booking, by=manager, reason="Заболел, перезвонит сам")
    assert "Заболел, перезвонит сам" in trail(as_manager, booking, "en")
