from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FleetConfig(AppConfig):
    name = "fleet"
    verbose_name = _("Loaners and test drives")

    def ready(self) -> None:
        """The loaner follows its workshop visit inside the visit's own transaction (one check, one answer); the
        fleet shows on the booking card, the client card, the slot picker and the head's dashboard."""
        from bookings import extensions as bookings
        from bookings.events import BookingBooked, BookingMoved, BookingStatusChanged
        from clientdesk.events import subscribe
        from clients import extensions as clients
        from fleet import dashboard, handlers
        from fleet.views import panels

        subscribe(BookingBooked, handlers.loaner_with_booking, in_transaction=True)
        subscribe(BookingMoved, handlers.loaner_follows_booking_move, in_transaction=True)
        subscribe(BookingStatusChanged, handlers.loaner_follows_booking_status, in_transaction=True)
        bookings.slot_marks.register(
            "loaner",
            bookings.SlotMark(
                "needs_loaner", panels.LOANER_LABEL, panels.loaner_slot_keys, held_by=panels.booking_has_loaner
            ),
        )
        bookings.card_panels.register(
            "fleet", bookings.CardPanel("fleet/_booking_loaner.html", panels.booking_loaner_panel), order=50
        )
        clients.card_panels.register(
            "fleet", clients.CardPanel("fleet/_client_loaners.html", panels.client_loaner_panel), order=150
        )
        dashboard.register()
