"""For migrations that add CHECK constraints over rows already written: look for rows that break them first.

Which side of a contradiction is true (a refused claim with a compensation, a closed claim without its time) is for a
person to say, so such a migration does not rewrite rows: it stops before changing anything and names each rule and
the rows that break it (by `labels[model]`, the primary key otherwise); fix those rows and migrate again.
"""

from django.db import migrations, models

SHOWN = 20


def refuse_rows_breaking(apps, schema_editor, *, app_label: str, operations, labels: dict | None = None) -> None:
    broken = []
    for operation in operations:
        if not isinstance(operation, migrations.AddConstraint) or not isinstance(
            operation.constraint, models.CheckConstraint
        ):
            continue  # only a CHECK has a condition a row can break; a unique constraint's own error names its rows
        model = apps.get_model(app_label, operation.model_name)
        rows = model._base_manager.using(schema_editor.connection.alias).exclude(operation.constraint.condition)
        field = (labels or {}).get(operation.model_name, "pk")
        found = list(rows.order_by("pk").values_list(field, flat=True)[: SHOWN + 1])
        if found:
            more = " …" if len(found) > SHOWN else ""
            names = ", ".join(str(value) for value in found[:SHOWN])
            broken.append(f"{operation.constraint.name} ({operation.model_name}): {names}{more}")
    if broken:
        raise RuntimeError(
            "Rows that break the new rules; nothing was changed. Fix them and migrate again:\n" + "\n".join(broken)
        )
