"""The claim list exports what its filters show, as the other lists do: the head's, logged; formulas neutralised."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db


def csv_lines(response) -> list[str]:
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode("utf-8-sig").strip().splitlines()


def test_the_head_exports_the_claims_the_filter_shows(as_head, make_claim):
    late = make_claim(received_at=timezone.now() - timedelta(days=30), client_words="=HYPERLINK(1)")
    make_claim()  # due in ten days: not overdue
    lines = csv_lines(as_head.get(reverse("claims:list"), {"due_state": "overdue", "export": "csv"}))
    assert len(lines) == 2
    assert late.number in lines[1] and "'=HYPERLINK(1)" in lines[1]
    assert len(csv_lines(as_head.get(reverse("claims:list"), {"export": "csv"}))) == 3


def test_a_manager_may_not_export_the_claims_and_a_refused_filter_exports_nothing(as_manager, as_head, make_claim):
    make_claim()
    assert as_manager.get(reverse("claims:list"), {"export": "csv"}).status_code == 403
    assert len(csv_lines(as_head.get(reverse("claims:list"), {"due_state": "someday", "export": "csv"}))) == 1


@pytest.mark.parametrize(("sort", "first"), [("due", "older"), ("received", "newer"), ("nonsense", "older")])
def test_the_export_keeps_the_order_the_page_shows(as_head, make_claim, sort, first):
    claims = {
        "older": make_claim(received_at=timezone.now() - timedelta(days=30)),  # due first
        "newer": make_claim(received_at=timezone.now() - timedelta(days=2)),  # received last
    }
    lines = csv_lines(as_head.get(reverse("claims:list"), {"sort": sort, "export": "csv"}))
    # was always soonest due first, whatever the page showed
    assert claims[first].number in lines[1], lines
