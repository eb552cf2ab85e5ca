"""Indexes that only PostgreSQL has. On SQLite they become a comment, so the same models and migrations run on both
(the embedded default searches with plain LIKE) and a table rebuild on SQLite does not trip over them."""

from django.contrib.postgres.indexes import GinIndex, OpClass


class TrigramIndex(GinIndex):
    """A GIN trigram index over one column or expression: makes `LIKE '%fragment%'` searches fast on PostgreSQL."""

    def __init__(self, expression, *, name: str):
        super().__init__(OpClass(expression, name="gin_trgm_ops"), name=name)

    def deconstruct(self):
        path, args, kwargs = super().deconstruct()
        (opclass,) = args
        return "clientdesk.indexes.TrigramIndex", (opclass.source_expressions[0],), {"name": kwargs["name"]}

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return f"-- {self.name}: PostgreSQL only"
        return super().create_sql(model, schema_editor, using=using, **kwargs)

    def remove_sql(self, model, schema_editor, **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return f"-- {self.name}: PostgreSQL only"
        return super().remove_sql(model, schema_editor, **kwargs)
