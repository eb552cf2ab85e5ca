"""Issue 9, item 18: the board's quiet poll at its floor. The version a poll compares comes from the day's digest in
the shared cache (bookings.selectors.board.DayDigest), forgotten by every change of a booking of that day, advisor or
area; a poll from a user found signed in from the cache is answered 204 before the rest of the middleware
(bookings.middleware), and anything else goes the board's whole way."""

import random
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.test import Client as DjangoTestClient
from django.urls import reverse

from accounts.backends import user_cache_key
from accounts.sessions import SessionStore, _user_entry_of
from bookings.models import Booking
from bookings.selectors import board as board_selectors
from bookings.selectors.board import board_version, board_version_now, day_digest, digest_key
from clientdesk.middleware import PERMISSIONS_POLICY
from tests.bookings.conftest import moment
from tests.bookings.test_board import visit
from tests.factories import BookingFactory

pytestmark = pytest.mark.django_db


def test_the_digest_gives_the_version_the_board_draws_at_every_moment(
    monkeypatch, manager, day, car_owner, petrov, sidorov, to2, travel
):
    # A long day of every state at random times: the version from the digest is the one from the day's aggregate (what
    # the board draws and prints) for each filter and at every quarter hour, folded or whole.
    monkeypatch.setattr(board_selectors, "BOARD_WHOLE_UP_TO", 10)
    rng = random.Random(7)
    statuses = [*Booking.Status.values, "scheduled", "confirmed", "scheduled"]
    hours = [(advisor, hour) for advisor in (petrov, sidorov) for hour in range(8, 19)]
    for advisor, hour in rng.sample(hours, 20):
        starts_at = moment(day, hour, rng.randrange(25)) + timedelta(seconds=rng.randrange(60))
        BookingFactory(
            client=car_owner, advisor=advisor, area=to2.area, starts_at=starts_at, status=rng.choice(statuses)
        )
    for narrowed in (
        {},
        {"advisor_id": petrov.pk},
        {"area_id": to2.area.pk},
        {"advisor_id": sidorov.pk, "area_id": to2.area.pk},
    ):
        for quarter in range(6 * 4, 22 * 4):
            now = moment(day, quarter // 4, quarter % 4 * 15) + timedelta(seconds=rng.random())
            found = board_selectors._day_counts(day, user=manager, now=now, **narrowed)
            assert board_version_now(day, user=manager, now=now, **narrowed) == board_version(**found)


def test_a_change_forgets_the_digest_of_the_places_it_leaves_and_reaches(
    auth_cache, manager, day, car_owner, petrov, sidorov, to2, travel
):
    travel(moment(day, 9))
    booking = visit(car_owner, petrov, to2.area, moment(day, 11))
    other_day = day + timedelta(days=1)
    auth_cache.clear()
    places = [
        (day, {}),
        (day, {"advisor_id": petrov.pk}),
        (day, {"area_id": to2.area.pk}),
        (other_day, {}),
        (other_day, {"advisor_id": sidorov.pk}),
    ]

    def versions() -> list[str]:
        return [board_version_now(d, user=manager, now=moment(day, 9), **n) for d, n in places]

    before = versions()
    assert all(auth_cache.get(digest_key(d, **n)) is not None for d, n in places)  # each read once, then kept

    # Moved to the next day and to another advisor: every entry it left and every one it reached is forgotten.
    booking.starts_at, booking.advisor_until, booking.advisor = (
        moment(other_day, 10),
        moment(other_day, 10, 30),
        sidorov,
    )
    booking.save()
    after = versions()
    assert [b != a for b, a in zip(before, after, strict=True)] == [True, True, True, True, True]
    assert day_digest(day).count == 0 and day_digest(other_day, advisor_id=sidorov.pk).count == 1

    # Deleted: gone from the day's count at the next poll.
    Booking.objects.get(pk=booking.pk).delete()
    assert day_digest(other_day).count == 0


@pytest.fixture
def signed_in(auth_cache, manager):
    """A browser signed in as the manager, its session and user in the shared cache (as after its first page)."""
    browser = DjangoTestClient()
    browser.force_login(manager)
    _user_entry_of.clear()
    return browser


def poll(browser, day, version, **extra):
    return browser.get(
        reverse("bookings:board"), {"day": day.isoformat(), "version": version, **extra}, headers={"HX-Request": "true"}
    )


def test_a_quiet_poll_is_answered_from_the_cache_alone(
    signed_in, auth_cache, day, car_owner, petrov, to2, travel, django_assert_num_queries
):
    travel(moment(day, 9))
    booking = visit(car_owner, petrov, to2.area, moment(day, 11))
    auth_cache.clear()  # the set-up's own "gone" marks would keep the digest out of the cache for a few seconds
    page = signed_in.get(reverse("bookings:board"), {"day": day.isoformat()})
    version = page.context["version"]

    poll(signed_in, day, version)  # the first poll reads the digest and keeps it
    with django_assert_num_queries(0):
        quiet = poll(signed_in, day, version)
    assert quiet.status_code == 204 and quiet.content == b""
    assert "no-store" in quiet["Cache-Control"] and quiet["Permissions-Policy"] == PERMISSIONS_POLICY
    assert quiet.wsgi_request.path == reverse("bookings:board") and not hasattr(quiet.wsgi_request, "user")

    # A client arrives: the next poll gets the board, whose new version is quiet again.
    travel(moment(day, 9, 1))
    booking.status = Booking.Status.ARRIVED
    booking.save()
    fresh = poll(signed_in, day, version)
    assert fresh.status_code == 200 and "state-arrived" in fresh.content.decode()
    assert poll(signed_in, day, fresh.context["version"]).status_code == 204
    # A filtered poll goes the board's whole way (BoardFilterForm), with the same answer.
    assert poll(signed_in, day, fresh.context["version"], advisor=petrov.pk).status_code == 204


def test_a_client_turning_late_moves_the_cached_version(signed_in, day, car_owner, petrov, to2, travel):
    travel(moment(day, 10, 50))
    visit(car_owner, petrov, to2.area, moment(day, 11))
    version = signed_in.get(reverse("bookings:board"), {"day": day.isoformat()}).context["version"]
    assert poll(signed_in, day, version).status_code == 204
    travel(moment(day, 11, 16))  # 15 minutes past the booked time: late
    assert poll(signed_in, day, version).status_code == 200


@pytest.mark.parametrize("who", ["anonymous", "signed_out", "deactivated", "new_password", "no_capability"])
def test_a_poll_the_cache_cannot_vouch_for_goes_the_whole_way(
    who, signed_in, manager, legal, day, car_owner, petrov, to2, travel
):
    travel(moment(day, 9))
    visit(car_owner, petrov, to2.area, moment(day, 11))
    version = signed_in.get(reverse("bookings:board"), {"day": day.isoformat()}).context["version"]
    assert poll(signed_in, day, version).status_code == 204
    browser = signed_in
    if who == "anonymous":
        browser = DjangoTestClient()
    elif who == "signed_out":
        browser.post(reverse("accounts:logout"))
    elif who == "deactivated":
        manager.is_active = False
        manager.save()
    elif who == "new_password":
        manager.set_password("another-long-password-9")
        manager.save()
    else:
        browser = DjangoTestClient()
        browser.force_login(legal)
        browser.get(reverse("home"))
    answer = poll(browser, day, version)
    assert answer.status_code == (403 if who == "no_capability" else 302)


def test_the_process_memo_of_whose_session_it_is_only_guesses(signed_in, head, day, car_owner, petrov, to2, travel):
    # The memo names the manager; the session now holds the head (as if the key were reused): the session read decides.
    travel(moment(day, 9))
    visit(car_owner, petrov, to2.area, moment(day, 11))
    version = signed_in.get(reverse("bookings:board"), {"day": day.isoformat()}).context["version"]
    assert poll(signed_in, day, version).status_code == 204
    session_key = signed_in.cookies["sessionid"].value
    other = DjangoTestClient()
    other.force_login(head)
    cache = caches["default"]
    cache.set(SessionStore(session_key).cache_key, cache.get(SessionStore(other.cookies["sessionid"].value).cache_key))
    answer = poll(signed_in, day, version)
    assert answer.status_code == 204
    assert _user_entry_of[session_key] == user_cache_key(head.pk)
