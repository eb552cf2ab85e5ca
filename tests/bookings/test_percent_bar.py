"""The bar for a share (bookings/templatetags/percent_bar.py) the day and week calendars and the recall list draw."""

from django.template import Context, Template
from django.utils.safestring import mark_safe


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
