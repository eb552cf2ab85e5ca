"""A sensible first week for a new installation (the department head changes it on the workshop set-up page)."""

from datetime import time

from django.db import migrations

DEFAULT_WEEK = {
    0: (time(8), time(20)),
    1: (time(8), time(20)),
    2: (time(8), time(20)),
    3: (time(8), time(20)),
    4: (time(8), time(20)),
    5: (time(9), time(18)),
}


def create_default_week(apps, schema_editor):
    WorkingHours = apps.get_model("clientdesk", "WorkingHours")
    if not WorkingHours.objects.exists():
        WorkingHours.objects.bulk_create(
            WorkingHours(weekday=weekday, opens=opens, closes=closes)
            for weekday, (opens, closes) in DEFAULT_WEEK.items()
        )


class Migration(migrations.Migration):
    dependencies = [("clientdesk", "0002_calendar")]
    operations = [migrations.RunPython(create_default_week, migrations.RunPython.noop)]
