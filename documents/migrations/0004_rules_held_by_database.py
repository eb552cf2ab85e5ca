"""Rules the services already keep, now held by the database as well (CHECK constraints).

Rows written before that break a rule are not rewritten: which side of a contradiction is true (a refused claim with
a compensation, a closed claim without its time) is for a person to say. So the migration first looks for them and,
if it finds any, stops before changing anything, naming each rule and the rows that break it; fix those rows (the
admin, or a shell) and migrate again. Every row the services or the loaders wrote keeps the rules.
"""

from django.db import migrations, models

from clientdesk.migration_checks import refuse_rows_breaking


def refuse_rows_breaking_the_rules(apps, schema_editor):
    refuse_rows_breaking(apps, schema_editor, app_label="documents", operations=Migration.operations)


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0003_vehicle_timeline_index"),
    ]

    operations = [
        migrations.RunPython(refuse_rows_breaking_the_rules, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="document",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("state__in", ["draft", "approved", "endorsed"]), _negated=True),
                    ("kind__in", ["contract", "supplementary", "sale_contract", "temp_use_contract"]),
                    _connector="OR",
                ),
                name="document_approval_only_contracts",
                violation_error_message="Only contracts and supplementary agreements go through approval.",
            ),
        ),
        migrations.AddConstraint(
            model_name="document",
            constraint=models.CheckConstraint(
                condition=models.Q(("replaced_by__isnull", True), ("state", "replaced"), _connector="OR"),
                name="document_replaced_by_only_replaced",
                violation_error_message="Only a replaced document names the one that replaced it.",
            ),
        ),
        migrations.AddConstraint(
            model_name="document",
            constraint=models.CheckConstraint(
                condition=models.Q(("replaced_by", models.F("pk")), _negated=True),
                name="document_not_replaced_by_itself",
                violation_error_message="A document cannot replace itself.",
            ),
        ),
        migrations.AddConstraint(
            model_name="registry",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("destination", "archive"), ("state", "received"), _negated=True),
                    models.Q(("archive_box", ""), _negated=True),
                    _connector="OR",
                ),
                name="registry_archived_has_box",
                violation_error_message="Say which box the documents are filed in.",
            ),
        ),
    ]
