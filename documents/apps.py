from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = _("Documents and archive")

    def ready(self) -> None:
        """What the documents app reacts to."""
        from clientdesk.events import subscribe
        from clients import extensions as clients
        from clients.events import DeliveryCorrected, DeliveryRecorded
        from documents import dashboard, selectors, timeline
        from documents.services import expected
        from documents.views import client_card_panel

        subscribe(DeliveryRecorded, expected.on_delivery_recorded, durable=True)
        subscribe(DeliveryCorrected, expected.on_delivery_corrected, durable=True)
        dashboard.register()
        clients.timeline_sources.register(
            "documents",
            clients.TimelineSource(
                "document",
                "created_at",
                selectors.client_timeline_documents,
                timeline.document_line,
                url="documents:detail",
                vehicle_rows=selectors.vehicle_timeline_documents,
            ),
            order=40,
        )
        clients.card_panels.register(
            "documents", clients.CardPanel("documents/_client_card_panel.html", client_card_panel), order=210
        )
