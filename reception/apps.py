from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReceptionConfig(AppConfig):
    name = "reception"
    verbose_name = _("Reception desks")

    def ready(self) -> None:
        from accounts import extensions as accounts
        from bookings.events import BookingStatusChanged
        from clientdesk import events
        from clients import extensions as clients
        from reception import dashboard, timeline
        from reception.events import tint_order_follows_its_booking
        from reception.selectors.materials import materials_start_notice
        from reception.selectors.timeline import vehicle_timeline_tint_consultations, vehicle_timeline_tow_orders
        from reception.views.tow import client_card_panel

        accounts.start_notices.register("reception-materials", materials_start_notice, order=50)
        events.subscribe(BookingStatusChanged, tint_order_follows_its_booking, durable=True)
        dashboard.register()
        clients.card_panels.register(
            "reception", clients.CardPanel("reception/_client_card_panel.html", client_card_panel), order=200
        )
        # On the vehicle's page only (the client card lists them in its reception panel).
        clients.timeline_sources.register(
            "tow-orders",
            clients.TimelineSource(
                "tow",
                "created_at",
                None,
                timeline.tow_line,
                "reception:tow-detail",
                vehicle_rows=vehicle_timeline_tow_orders,
            ),
            order=60,
        )
        clients.timeline_sources.register(
            "tint-consultations",
            clients.TimelineSource(
                "tint",
                "created_at",
                None,
                timeline.tint_line,
                "reception:tint-detail",
                vehicle_rows=vehicle_timeline_tint_consultations,
            ),
            order=70,
        )
