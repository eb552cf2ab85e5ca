"""The bar for a share (bookings/templatetags/percent_bar.py) the day and week calendars and the recall list draw."""

import re

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils.safestring import mark_safe

from bookings.services.bookings import booking_create
from tests.bookings.conftest import moment


def bar(arguments: str, **context) -> str:
    return Template("{% load percent_bar %}{% percent_bar " + arguments + " %}").render(Context(context))


def test_a_bar_past_100_stops_full_and_the_figure_says_how_far():
    html = bar("percent level label", percent=130, level="danger", label="Кузовной")
    assert 'style="width: 100%"' in html
    assert ">130%</span>" in html
    assert 'aria-valuenow="130"' in html
    assert "bg-danger" in html
    assert 'aria-label="Кузовной"' in html


def test_without_a_level_the_bar_is_green_and_without_a_title_nothing_hovers():
    html = bar("percent label=label", percent=40, label="Done")
    assert 'class="progress-bar bg-success" style="width: 40%"' in html
    assert "title=" not in html


def test_texts_are_escaped_once():
    html = bar(
        "percent level label title", percent=5, level="warning", label="<b>A&B</b>", title=mark_safe("3 &amp; 4 min")
    )
    assert 'aria-label="&lt;b&gt;A&amp;B&lt;/b&gt;"' in html
    assert 'title="3 &amp; 4 min"' in html


@pytest.mark.django_db
def test_the_day_calendar_draws_each_areas_minutes_and_bar(as_manager, manager, car_owner, petrov, to2, day):
    booking_create(by=manager, client=car_owner, advisor=petrov, starts_at=moment(day, 9), service_types=[to2])
    page = as_manager.get(reverse("bookings:day"), {"day": day.isoformat()}, headers={"Accept-Language": "en"})
    boxes = re.sub(r"\s+", " ", page.content.decode()).split('id="area-load">')[1].split("<h2")[0]
    assert "<strong>Слесарный цех</strong><span>180 / 480 min</span>" in boxes
    assert 'aria-valuenow="38"' in boxes and 'aria-label="Слесарный цех"' in boxes
    assert 'class="progress-bar bg-success" style="width: 38%"' in boxes
