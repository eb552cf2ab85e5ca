from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClaimsConfig(AppConfig):
    name = "claims"
    verbose_name = _("Claims")

    def ready(self) -> None:
        """What the claims app adds to the pages of the apps below it."""
        from calls import extensions as calls
        from claims import dashboard, selectors, timeline, views
        from clients import extensions as clients

        clients.card_panels.register(
            "claims", clients.CardPanel("claims/_client_card_panel.html", views.client_card_panel), order=150
        )
        clients.timeline_sources.register(
            "claims",
            clients.TimelineSource(
                "claim",
                "received_at",
                selectors.client_timeline_claims,
                timeline.claim_line,
                "claims:detail",
                vehicle_rows=selectors.vehicle_timeline_claims,
            ),
            order=40,
        )
        calls.queue_panels.register("claims-due", calls.QueuePanel("claims/_queue_panel.html", views.queue_panel))
        calls.call_actions.register("claim", views.complaint_call_action)
        dashboard.register()
