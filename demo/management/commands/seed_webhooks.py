"""`manage.py seed_webhooks`: the DMS's webhook subscription for the demo (run after `seed_demo`).

The demo DMS (user `dms`) gets one endpoint for every event, switched off with a note: the demo has no DMS to
receive them, and a live endpoint would only fail until it was switched off. The head sees it in the API
(`/api/v1/webhook-endpoints/`), switches it on with a real URL, and watches the deliveries and their log. Running the
command again adds nothing.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import User
from demo import data as demo_data
from webhooks.models import Endpoint
from webhooks.services import endpoint_create, endpoint_update

DEMO_URL = "https://dms.example.ru/clientdesk/webhooks"
NOTE = "Демо: DMS для приёма нет. Укажите адрес DMS и включите."


class Command(BaseCommand):
    help = "Add the demo DMS's webhook subscription (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        integration = User.objects.filter(username=demo_data.DEMO_INTEGRATION.username).first()
        if integration is None:
            raise CommandError("Run seed_demo first: there is no demo DMS user.")
        if Endpoint.objects.filter(owner=integration).exists():
            self.stdout.write("The demo DMS already has its webhook endpoint; nothing added.")
            return
        endpoint = endpoint_create(by=None, owner=integration, url=DEMO_URL, events=[])
        endpoint_update(endpoint=endpoint, by=None, is_active=False)
        Endpoint.objects.filter(pk=endpoint.pk).update(disabled_reason=NOTE)
        self.stdout.write(f"Webhook endpoint for {integration.username}: {DEMO_URL} (switched off until a DMS is set).")
