"""Running management commands in tests."""

from io import StringIO

from django.core.management import call_command


def run(command: str, *args, **options) -> str:
    """Run a management command; what it wrote to stdout (its stderr is swallowed)."""
    out = StringIO()
    call_command(command, *args, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()
