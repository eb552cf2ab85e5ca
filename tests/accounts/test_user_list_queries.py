"""The head's user list reads in a fixed number of queries, however many staff it shows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_user_list_reads_in_pinned_queries(as_head):
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert as_head.get(reverse("accounts:user-list")).status_code == 200
        return len(captured)

    UserFactory.create_batch(2, role="manager")
    few = count()
    UserFactory.create_batch(20, role="advisor")
    # session, user, the users, the users locked out, the addresses locked out
    assert count() == few == 5
