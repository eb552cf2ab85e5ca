"""`manage.py seed_reports` adds the reports' demo once: running it twice adds nothing."""

import pytest
from django.core.management import call_command

from reports.models import Export, ReportRecipient, RolledUpDay

pytestmark = pytest.mark.django_db


def test_seed_reports_twice_adds_nothing(head, manager):
    call_command("seed_reports")
    counts = (ReportRecipient.objects.count(), Export.objects.count(), RolledUpDay.objects.count())
    assert counts == (2, 4, 60)
    call_command("seed_reports")
    assert (ReportRecipient.objects.count(), Export.objects.count(), RolledUpDay.objects.count()) == counts
