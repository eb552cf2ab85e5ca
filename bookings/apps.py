from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = _("Workshop bookings")

    def ready(self) -> None:
        from bookings import dashboard, timeline
        from bookings.selectors import board  # noqa: F401 - connects the poll digest's forgetting to booking saves
        from bookings.selectors.bookings import client_timeline_bookings, vehicle_timeline_bookings
        from clients import extensions as clients

        clients.timeline_sources.register(
            "bookings",
            clients.TimelineSource(
                "booking",
                "starts_at",
                client_timeline_bookings,
                timeline.booking_line,
                url="bookings:detail",
                vehicle_rows=vehicle_timeline_bookings,
            ),
            order=20,
        )
        dashboard.register()
