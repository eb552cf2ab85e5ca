"""Rules the services already keep, now held by the database as well (CHECK constraints).

Rows written before that break a rule are not rewritten: which side of a contradiction is true (a refused claim with
a compensation, a closed claim without its time) is for a person to say. So the migration first looks for them and,
if it finds any, stops before changing anything, naming each rule and the rows that break it; fix those rows (the
admin, or a shell) and migrate again. Every row the services or the loaders wrote keeps the rules.
"""

from django.db import migrations, models

from clientdesk.migration_checks import refuse_rows_breaking


def refuse_rows_breaking_the_rules(apps, schema_editor):
    refuse_rows_breaking(apps, schema_editor, app_label="claims", operations=Migration.operations, labels={"claim": "number"})


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0004_vehicle_timeline_index"),
    ]

    operations = [
        migrations.RunPython(refuse_rows_breaking_the_rules, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="claim",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("outcome", "refused"), _negated=True),
                    models.Q(("compensation_amount__isnull", True), ("compensation_kind", "")),
                    _connector="OR",
                ),
                name="claim_refused_no_compensation",
                violation_error_message="A refused claim gives no compensation.",
            ),
        ),
        migrations.AddConstraint(
            model_name="claim",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("compensation_amount__isnull", True),
                    models.Q(("compensation_kind", ""), _negated=True),
                    _connector="OR",
                ),
                name="claim_compensation_amount_has_kind",
                violation_error_message="Say what the amount is for.",
            ),
        ),
        migrations.AddConstraint(
            model_name="claim",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("outcome", ""), _negated=True),
                    models.Q(("compensation_amount__isnull", True), ("compensation_kind", "")),
                    _connector="OR",
                ),
                name="claim_compensation_only_decided",
                violation_error_message="A claim gives compensation only by its decision.",
            ),
        ),
        migrations.AddConstraint(
            model_name="claim",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["decided", "informed", "closed"]), ("outcome", ""), _connector="OR"),
                name="claim_outcome_only_decided",
                violation_error_message="A claim has an outcome only once decided.",
            ),
        ),
        migrations.AddConstraint(
            model_name="claim",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status__in", ["decided", "informed", "closed"]), _negated=True),
                    ("decided_at__isnull", False),
                    _connector="OR",
                ),
                name="claim_decided_dated",
                violation_error_message="A decided claim has the time of its decision.",
            ),
        ),
        migrations.AddConstraint(
            model_name="claim",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status__in", ["informed", "closed"]), _negated=True),
                    models.Q(("informed_via", ""), _negated=True),
                    _connector="OR",
                ),
                name="claim_informed_how",
                violation_error_message="Say how the client was informed.",
            ),
        ),
        migrations.AddConstraint(
            model_name="claim",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "closed"), _negated=True), ("closed_at__isnull", False), _connector="OR"
                ),
                name="claim_closed_dated",
                violation_error_message="A closed claim has the time it was closed.",
            ),
        ),
        migrations.AddConstraint(
            model_name="claim",
            constraint=models.CheckConstraint(
                condition=models.Q(("agreed_term_days__isnull", True), ("agreed_term_days__gte", 1), _connector="OR"),
                name="claim_agreed_term_positive",
                violation_error_message="The agreed term is at least one day.",
            ),
        ),
        migrations.AddConstraint(
            model_name="claimduechange",
            constraint=models.CheckConstraint(
                condition=models.Q(("reason", ""), _negated=True),
                name="claim_due_change_has_reason",
                violation_error_message="Say why the category changes.",
            ),
        ),
    ]
