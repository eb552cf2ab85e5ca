from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FleetConfig(AppConfig):
    name = "fleet"
    verbose_name = _("Loaners and test drives")

    def ready(self) -> None:
        """The loaner follows its workshop visit inside the visit's own transaction (one check, one answer)."""
        from bookings.events import BookingBooked, BookingMoved, BookingStatusChanged
        from clientdesk.events import subscribe
        from fleet import handlers

        subscribe(BookingBooked, handlers.loaner_with_booking, in_transaction=True)
        subscribe(BookingMoved, handlers.loaner_follows_booking_move, in_transaction=True)
        subscribe(BookingStatusChanged, handlers.loaner_follows_booking_status, in_transaction=True)
