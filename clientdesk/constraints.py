"""Constraints that only PostgreSQL has. On SQLite they are left out of the schema (the services' checks inside
IMMEDIATE transactions, which serialise writers, guard the same rule there), so one set of migrations serves both."""

from django.contrib.postgres.constraints import ExclusionConstraint


class PostgresExclusionConstraint(ExclusionConstraint):
    def _on_postgres(self, schema_editor) -> bool:
        return schema_editor.connection.vendor == "postgresql"

    def constraint_sql(self, model, schema_editor):
        return super().constraint_sql(model, schema_editor) if self._on_postgres(schema_editor) else None

    def create_sql(self, model, schema_editor):
        if self._on_postgres(schema_editor):
            return super().create_sql(model, schema_editor)
        return f"-- {self.name}: PostgreSQL only"

    def remove_sql(self, model, schema_editor):
        if self._on_postgres(schema_editor):
            return super().remove_sql(model, schema_editor)
        return f"-- {self.name}: PostgreSQL only"

    def validate(self, model, instance, exclude=None, using="default"):
        from django.db import connections

        if connections[using].vendor == "postgresql":
            super().validate(model, instance, exclude=exclude, using=using)

    def deconstruct(self):
        path, args, kwargs = super().deconstruct()
        return "clientdesk.constraints.PostgresExclusionConstraint", args, kwargs
