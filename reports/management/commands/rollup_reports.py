"""Rebuild the dashboards' daily roll-up: one day (`--day 2026-03-02`), the last N days (`--days 400`, a first fill
or after a change of TIME_ZONE), or by default what beat's hourly run does."""

from datetime import date, timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from clientdesk.calendar import local_date
from reports.services.rollups import rollup_day, rollups_refresh


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--day", type=date.fromisoformat, help="Rebuild this local day.")
        parser.add_argument("--days", type=int, help="Rebuild the last N whole days.")

    def handle(self, *args, day=None, days=None, **options):
        if day:
            rebuilt = [day]
            rollup_day(day)
        elif days:
            today = local_date(timezone.now())
            rebuilt = [today - timedelta(days=n) for n in range(1, days + 1)]
            for one in rebuilt:
                rollup_day(one)
        else:
            rebuilt = rollups_refresh()
        self.stdout.write(f"Rolled up {len(rebuilt)} days.")
