"""`manage.py seed_reports`: the reports' demo over what `seed_demo`/`seed_workshop`/`seed_demo_work` made: the weekly
summary's recipients (the head and the director), a few exports in the log as the head made them last week, and the
daily roll-up of the last 60 days' inbound calls. Running it again adds nothing (the recipients and exports are
looked up first; a day's roll-up is rebuilt the same)."""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from clientdesk.calendar import local_date
from reports.models import Export, ReportRecipient
from reports.services.fixed import report_recipients_set
from reports.services.rollups import rollup_day

EXPORTS = [
    ("calls", "xlsx", "direction=in", 412, 6),
    ("clients", "csv", "consent_marketing=true", 1875, 5),
    ("call-tasks", "xlsx", "kind=confirmation", 38, 3),
    ("survey-answers", "xlsx", "survey=1", 64, 1),
]


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        head = User.objects.filter(role=Role.HEAD, is_active=True).order_by("pk").first()
        if head is None:
            self.stdout.write("No head in the database: run seed_demo first.")
            return
        with transaction.atomic():
            if not ReportRecipient.objects.exists():
                report_recipients_set(by=head, emails=[head.email or "head@example.com", "director@example.com"])
            if not Export.objects.exists():
                now = timezone.now()
                for list_name, kind, query, rows, days_ago in EXPORTS:
                    Export.objects.create(
                        user=head,
                        list_name=list_name,
                        format=kind,
                        filter=query,
                        rows=rows,
                        status=Export.Status.DONE,
                        created_at=now - timedelta(days=days_ago, hours=2),
                        finished_at=now - timedelta(days=days_ago, hours=2),
                    )
        today = local_date(timezone.now())
        for n in range(1, 61):
            rollup_day(today - timedelta(days=n))
        self.stdout.write(
            f"Reports: {ReportRecipient.objects.count()} recipients, {Export.objects.count()} exports in the log, "
            "60 days rolled up."
        )
