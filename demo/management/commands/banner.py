"""`manage.py banner --address URL`: what `make run` prints before the processes start, so a newcomer knows where to
go and how to sign in."""

from django.core.management.base import BaseCommand
from django.utils import translation

from demo.data import DEMO_INTEGRATION, DEMO_PASSWORD, DEMO_STAFF
from demo.keys import demo_api_key


class Command(BaseCommand):
    help = "Print the start-up banner: the address, the demo logins and where the API docs are."

    def add_arguments(self, parser):
        parser.add_argument(
            "--address", required=True, help="Where the web server listens, e.g. http://127.0.0.1:8000/"
        )

    def handle(self, *args, address: str, **options):
        address = address if address.endswith("/") else f"{address}/"
        width = max(len(spec.username) for spec in DEMO_STAFF)
        # The banner is English throughout; the role names would otherwise follow the site's language.
        with translation.override("en"):
            roles = [str(spec.role.label) for spec in DEMO_STAFF]
        lines = [
            "ClientDesk is starting",
            "",
            f"Open      {address}",
            f"API docs  {address}api/docs/",
            "",
            f"Demo logins (password {DEMO_PASSWORD} for all):",
            *(f"  {spec.username:<{width}}  {role}" for spec, role in zip(DEMO_STAFF, roles, strict=True)),
            *self._api_key_lines(),
            "",
            "The web server, the Celery worker and beat are starting below.",
            "Press Ctrl+C to stop them all.",
        ]
        inner = max(len(line) for line in lines)
        border = "+" + "-" * (inner + 2) + "+"
        self.stdout.write(border)
        for line in lines:
            self.stdout.write(f"| {line:<{inner}} |")
        self.stdout.write(border)

    def _api_key_lines(self) -> list[str]:
        raw = demo_api_key()
        if raw is None:
            return []
        return [
            f"The DMS demo user '{DEMO_INTEGRATION.username}' signs in to the API with a key (no password):",
            f"  Authorization: Api-Key {raw}",
        ]
