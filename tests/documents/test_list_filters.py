"""The archive's and the claim list's FilterSets build little per request (clientdesk.filters.SharedFormClassMixin):
one form class per FilterSet class, and filters that are the request's own copies, bound to its FilterSet."""

from datetime import date

import pytest

from claims.filters import ClaimFilter
from claims.selectors import DueBounds
from documents.filters import DocumentFilter
from documents.models import Document
from tests.documents.conftest import signed_doc

pytestmark = pytest.mark.django_db


def test_requests_share_the_form_class_and_nothing_they_change(manager):
    first = DocumentFilter({"kind": ["waybill"]}, queryset=Document.objects.all())
    second = DocumentFilter({"q": "ТТН"}, queryset=Document.objects.all())
    assert first.form.__class__ is second.form.__class__
    assert first.form is not second.form and first.form.fields["kind"] is not second.form.fields["kind"]
    for name, filter_ in first.filters.items():
        other = second.filters[name]
        assert filter_ is not other and filter_.extra is not other.extra
        assert (filter_.parent, other.parent) == (first, second)
        assert DocumentFilter.base_filters[name].extra == filter_.extra  # the class's own are left as they were
    assert not hasattr(DocumentFilter.base_filters["q"], "parent")


def test_a_method_filter_calls_through_its_own_filterset(manager):
    ours = signed_doc(by=manager, kind="waybill", number="ТТН-5")
    signed_doc(by=manager, kind="sale_contract", number="ДКП-5")
    searched = DocumentFilter({"q": "ТТН-5"}, queryset=Document.objects.all())
    other = DocumentFilter({"kind": ["sale_contract"]}, queryset=Document.objects.all())
    assert searched.is_valid() and other.is_valid()
    assert searched.filters["q"].filter.method == searched.filter_search  # bound to this request's FilterSet
    assert [d.pk for d in searched.qs] == [ours.pk]
    assert [d.kind for d in other.qs] == ["sale_contract"]


def test_each_request_validates_its_own_data():
    bounds = DueBounds(date(2026, 12, 7), date(2026, 12, 9))
    wrong = ClaimFilter({"due_state": "sometime"}, queryset=None, bounds=bounds)
    right = ClaimFilter({"due_state": "later"}, queryset=None, bounds=bounds)
    assert not wrong.is_valid() and "due_state" in wrong.errors
    assert right.is_valid() and right.form.cleaned_data["due_state"] == "later"
    assert right.filters["due_state"].parent is right and right.bounds is bounds
