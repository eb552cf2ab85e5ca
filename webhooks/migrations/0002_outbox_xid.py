"""The outbox's writing transaction, on PostgreSQL: `xid` (xid8) defaults to the inserting transaction's id, which
the change feed's sequencer compares with the oldest transaction still running (webhooks.services.sequence_outbox).
Not a model field: nothing in Python reads or writes it. SQLite (one writer at a time) needs none."""

from django.db import migrations

ADD = """
ALTER TABLE webhooks_outboxevent ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
"""
DROP = "ALTER TABLE webhooks_outboxevent DROP COLUMN xid;"


def add(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ADD)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0001_initial")]

    operations = [migrations.RunPython(add, drop)]
