"""Rules the services already keep, now held by the database as well (CHECK constraints).

Rows written before that break a rule are not rewritten: which side of a contradiction is true (a refused claim with
a compensation, a closed claim without its time) is for a person to say. So the migration first looks for them and,
if it finds any, stops before changing anything, naming each rule and the rows that break it; fix those rows (the
admin, or a shell) and migrate again. Every row the services or the loaders wrote keeps the rules.
"""

from django.db import migrations, models

# How the message names a row, by model (the primary key otherwise).
LABELS = {"claim": "number"}
SHOWN = 20


def refuse_rows_breaking_the_rules(apps, schema_editor):
    broken = []
    for operation in Migration.operations:
        if not isinstance(operation, migrations.AddConstraint):
            continue
        model = apps.get_model("claims", operation.model_name)
        rows = model._base_manager.using(schema_editor.connection.alias).exclude(operation.constraint.condition)
        field = LABELS.get(operation.model_name, "pk")
        found = list(rows.order_by("pk").values_list(field, flat=True)[: SHOWN + 1])
        if found:
            more = " …" if len(found) > SHOWN else ""
            names = ", ".join(str(value) for value in found[:SHOWN])
            broken.append(f"{operation.constraint.name} ({operation.model_name}): {names}{more}")
    if broken:
        raise RuntimeError(
            "Rows that break the new rules; nothing was changed. Fix them and migrate again:\n" + "\n".join(broken)
        )


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
