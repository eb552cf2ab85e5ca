from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks to the DMS")

    def ready(self) -> None:
        from bookings.events import BookingBooked, BookingMoved, BookingStatusChanged
        from calls.events import CallTaskClosed, SurveyAnswered
        from clientdesk import events
        from clients.events import ClientsChanged, VehiclesChanged
        from webhooks import handlers, tasks  # noqa: F401 - tasks: the delivery task is queued by its name

        # In the publisher's transaction: the outbox row commits or rolls back with the change it tells of.
        events.subscribe(ClientsChanged, handlers.clients_changed, in_transaction=True)
        events.subscribe(VehiclesChanged, handlers.vehicles_changed, in_transaction=True)
        events.subscribe(BookingBooked, handlers.booking_booked, in_transaction=True)
        events.subscribe(BookingMoved, handlers.booking_moved, in_transaction=True)
        events.subscribe(BookingStatusChanged, handlers.booking_status_changed, in_transaction=True)
        events.subscribe(CallTaskClosed, handlers.call_task_closed, in_transaction=True)
        events.subscribe(SurveyAnswered, handlers.survey_answered, in_transaction=True)
